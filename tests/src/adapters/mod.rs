//! [`Adapter`](crate::client::Adapter) for each runtime adapter, and what they share: building a
//! [`ClientConfig`] from a [`ClientSpec`], and mapping errors.

pub mod async_std;
pub mod blocking;
pub mod smol;
pub mod tokio;

use slotwise_client::{ClientConfig, Error, Frame, TlsOptions};

use crate::client::{CallError, ClientSpec};

/// The adapter configuration for `spec`.
pub fn client_config(spec: &ClientSpec) -> Result<ClientConfig, CallError> {
    let seeds = spec.seeds.iter().map(|(h, p)| {
        if h.contains(':') {
            format!("[{h}]:{p}")
        } else {
            format!("{h}:{p}")
        }
    });
    let seeds: Vec<String> = match &spec.url {
        Some(url) => vec![url.clone()],
        None => seeds.collect(),
    };
    let mut config = ClientConfig::new(seeds)
        .map_err(call_error)?
        .request_timeout(spec.request_timeout)
        .connect_wait(spec.request_timeout);
    if let Some((user, pass)) = &spec.auth {
        config = config.user(user.as_str(), pass.as_str());
    }
    if let Some(tls) = &spec.tls {
        let mut options = match &tls.rustls {
            Some(config) => TlsOptions::rustls(config.clone()),
            None => TlsOptions::ca_file(&tls.ca_cert),
        };
        if let (Some((cert, key)), None) = (&tls.client_cert, &tls.rustls) {
            options = options.client_cert(cert, key);
        }
        if let Some(name) = &tls.server_name {
            options = options.server_name(name.as_str());
        }
        config = config.tls(options);
    }
    Ok(config)
}

/// The harness's error for an adapter's.
pub fn call_error(e: Error) -> CallError {
    match e {
        Error::Request(r) => CallError::Request(r),
        Error::Redis(s) => CallError::Redis(s.line().to_string()),
        other => CallError::Other(other.to_string()),
    }
}

/// An adapter's outcome as the harness's.
pub fn outcome(r: Result<Frame, Error>) -> Result<Frame, CallError> {
    r.map_err(call_error)
}

/// [`TestClient::incr_in_transaction`](crate::client::TestClient::incr_in_transaction) for the
/// adapters built on [`slotwise_client::Handle`] (tokio, async-std, smol).
pub async fn incr_in_transaction(
    handle: &slotwise_client::Handle,
    key: &str,
    between: &(dyn Fn(u32) + Sync),
) -> Result<(i64, u32), CallError> {
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let attempts = &attempts;
    let value = handle
        .transaction([key], |tx| async move {
            let attempt = attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let now: Option<i64> = tx.query(["GET", key]).await?;
            // On a thread of its own: `between` may call the client, whose blocking `call` must
            // not run inside this runtime's `block_on`.
            std::thread::scope(|s| {
                s.spawn(|| between(attempt));
            });
            let next = now.unwrap_or(0) + 1;
            tx.multi().await?;
            tx.queue(["SET", key, &next.to_string()]);
            Ok(tx.exec().await?.map(|_| next))
        })
        .await
        .map_err(call_error)?;
    Ok((value, attempts.load(std::sync::atomic::Ordering::SeqCst)))
}

/// [`TestClient::pipeline`](crate::client::TestClient::pipeline) for the adapters built on
/// [`slotwise_client::Handle`].
pub async fn pipeline(
    handle: &slotwise_client::Handle,
    requests: Vec<slotwise_cluster::Request>,
) -> Result<Vec<Result<Frame, CallError>>, CallError> {
    let mut pipe = handle.pipeline();
    for r in requests {
        pipe.add(r);
    }
    let outcomes = pipe.run().await.map_err(call_error)?;
    Ok(outcomes.into_iter().map(outcome).collect())
}

/// [`TestClient::scan`](crate::client::TestClient::scan) for the adapters built on
/// [`slotwise_client::Handle`]: `between` runs on a thread of its own (it may block, or call
/// the client).
pub async fn scan(
    handle: &slotwise_client::Handle,
    count: u32,
    pattern: Option<&str>,
    between: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Vec<u8>>, CallError> {
    let mut scan = handle.scan().count(count);
    if let Some(p) = pattern {
        scan = scan.pattern(p);
    }
    let mut keys = Vec::new();
    let mut batch = 0;
    while let Some(found) = scan.next_batch().await.map_err(call_error)? {
        keys.extend(found.iter().map(|k| k.to_vec()));
        batch += 1;
        std::thread::scope(|s| {
            s.spawn(|| between(batch));
        });
    }
    Ok(keys)
}
