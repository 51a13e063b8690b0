//! `slotwise-blocking`: no runtime; callers' threads park until their outcome.

use slotwise_blocking::Client;
use slotwise_cluster::{Frame, Request, Stats, Target};

use super::{call_error, client_config, outcome};
use crate::client::{Adapter, CallError, ClientSpec, TestClient};

/// The blocking adapter.
pub struct Blocking;

struct BlockingClient(Client);

impl Adapter for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }

    fn connect(&self, spec: &ClientSpec) -> Result<Box<dyn TestClient>, CallError> {
        let client = Client::connect(client_config(spec)?).map_err(call_error)?;
        Ok(Box::new(BlockingClient(client)))
    }
}

impl TestClient for BlockingClient {
    fn call(&self, request: Request) -> Result<Frame, CallError> {
        outcome(self.0.send(request))
    }

    fn stats(&self) -> Result<Stats, CallError> {
        self.0.stats().map_err(super::call_error)
    }

    fn incr_in_transaction(
        &self,
        key: &str,
        between: &(dyn Fn(u32) + Sync),
    ) -> Result<(i64, u32), CallError> {
        let mut attempts = 0;
        let value = self
            .0
            .transaction([key], |tx| {
                attempts += 1;
                let now: Option<i64> = tx.query(["GET", key])?;
                between(attempts);
                let next = now.unwrap_or(0) + 1;
                tx.multi()?;
                tx.queue(["SET", key, &next.to_string()]);
                Ok(tx.exec()?.map(|_| next))
            })
            .map_err(call_error)?;
        Ok((value, attempts))
    }

    fn submit_detached(&self, request: Request) -> Box<dyn Send> {
        Box::new(self.0.submit(request))
    }

    fn pipeline(&self, requests: Vec<Request>) -> Result<Vec<Result<Frame, CallError>>, CallError> {
        let mut pipe = self.0.pipeline();
        for r in requests {
            pipe.add(r);
        }
        let outcomes = pipe.wait().map_err(call_error)?;
        Ok(outcomes.into_iter().map(outcome).collect())
    }

    fn scan(
        &self,
        count: u32,
        pattern: Option<&str>,
        between: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Vec<u8>>, CallError> {
        // The iterator, one key at a time; `between` after every `count` keys.
        let mut keys = Vec::new();
        for key in self.0.scan(|s| match pattern {
            Some(p) => s.count(count).pattern(p),
            None => s.count(count),
        }) {
            keys.push(key.map_err(call_error)?.to_vec());
            if keys.len() % count as usize == 0 {
                between(keys.len() / count as usize);
            }
        }
        Ok(keys)
    }

    fn call_to(&self, target: Target, request: Request) -> Result<Frame, CallError> {
        outcome(self.0.send_to(target, request))
    }

    fn subscriber(&self) -> slotwise_client::Subscriber {
        self.0.subscriber()
    }
}

impl Drop for BlockingClient {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}
