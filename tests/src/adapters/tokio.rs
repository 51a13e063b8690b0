//! `slotwise-tokio` on a multi-threaded tokio runtime owned by the test client; callers block on
//! it with `Runtime::block_on` from their own threads.

use std::sync::Arc;

use slotwise_cluster::{Frame, Request, Stats, Target};
use slotwise_tokio::Client;

use super::{client_config, outcome};
use crate::client::{Adapter, CallError, ClientSpec, TestClient};

/// The tokio adapter.
pub struct Tokio;

struct TokioClient {
    client: Option<Client>,
    rt: Arc<tokio::runtime::Runtime>,
}

impl Adapter for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn connect(&self, spec: &ClientSpec) -> Result<Box<dyn TestClient>, CallError> {
        let config = client_config(spec)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| CallError::Other(format!("tokio runtime: {e}")))?;
        let client = rt
            .block_on(Client::connect(config))
            .map_err(super::call_error)?;
        Ok(Box::new(TokioClient {
            client: Some(client),
            rt: Arc::new(rt),
        }))
    }
}

impl TestClient for TokioClient {
    fn call(&self, request: Request) -> Result<Frame, CallError> {
        let client = self.client.as_ref().expect("client present until drop");
        outcome(self.rt.block_on(client.send(request)))
    }

    fn stats(&self) -> Result<Stats, CallError> {
        let client = self.client.as_ref().expect("client present until drop");
        self.rt.block_on(client.stats()).map_err(super::call_error)
    }

    fn incr_in_transaction(
        &self,
        key: &str,
        between: &(dyn Fn(u32) + Sync),
    ) -> Result<(i64, u32), CallError> {
        let client = self.client.as_ref().expect("client present until drop");
        self.rt
            .block_on(super::incr_in_transaction(client.handle(), key, between))
    }

    fn submit_detached(&self, request: Request) -> Box<dyn Send> {
        let client = self.client.as_ref().expect("client present until drop");
        Box::new(client.submit(request))
    }

    fn pipeline(&self, requests: Vec<Request>) -> Result<Vec<Result<Frame, CallError>>, CallError> {
        let client = self.client.as_ref().expect("client present until drop");
        self.rt.block_on(super::pipeline(client.handle(), requests))
    }

    fn scan(
        &self,
        count: u32,
        pattern: Option<&str>,
        between: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Vec<u8>>, CallError> {
        let client = self.client.as_ref().expect("client present until drop");
        self.rt
            .block_on(super::scan(client.handle(), count, pattern, between))
    }

    fn call_to(&self, target: Target, request: Request) -> Result<Frame, CallError> {
        let client = self.client.as_ref().expect("client present until drop");
        outcome(self.rt.block_on(client.send_to(target, request)))
    }

    fn subscriber(&self) -> slotwise_client::Subscriber {
        self.client
            .as_ref()
            .expect("client present until drop")
            .subscriber()
    }
}

impl Drop for TokioClient {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.rt.block_on(client.shutdown());
        }
    }
}
