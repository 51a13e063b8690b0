//! `slotwise-async-std` under smol: callers block on their requests with `smol::block_on` from
//! their own threads.

use slotwise_async_std::Client;
use slotwise_cluster::{Frame, Request, Stats, Target};

use super::{call_error, client_config, outcome};
use crate::client::{Adapter, CallError, ClientSpec, TestClient};

/// The async-std adapter on smol.
pub struct Smol;

struct SmolClient(Client);

impl Adapter for Smol {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn connect(&self, spec: &ClientSpec) -> Result<Box<dyn TestClient>, CallError> {
        let config = client_config(spec)?;
        let client = smol::block_on(Client::connect(config)).map_err(call_error)?;
        Ok(Box::new(SmolClient(client)))
    }
}

impl TestClient for SmolClient {
    fn call(&self, request: Request) -> Result<Frame, CallError> {
        outcome(smol::block_on(self.0.send(request)))
    }

    fn stats(&self) -> Result<Stats, CallError> {
        smol::block_on(self.0.stats()).map_err(super::call_error)
    }

    fn incr_in_transaction(
        &self,
        key: &str,
        between: &(dyn Fn(u32) + Sync),
    ) -> Result<(i64, u32), CallError> {
        smol::block_on(super::incr_in_transaction(self.0.handle(), key, between))
    }

    fn submit_detached(&self, request: Request) -> Box<dyn Send> {
        Box::new(self.0.submit(request))
    }

    fn pipeline(&self, requests: Vec<Request>) -> Result<Vec<Result<Frame, CallError>>, CallError> {
        smol::block_on(super::pipeline(self.0.handle(), requests))
    }

    fn scan(
        &self,
        count: u32,
        pattern: Option<&str>,
        between: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Vec<u8>>, CallError> {
        smol::block_on(super::scan(self.0.handle(), count, pattern, between))
    }

    fn call_to(&self, target: Target, request: Request) -> Result<Frame, CallError> {
        outcome(smol::block_on(self.0.send_to(target, request)))
    }

    fn subscriber(&self) -> slotwise_client::Subscriber {
        self.0.subscriber()
    }
}

impl Drop for SmolClient {
    fn drop(&mut self) {
        smol::block_on(self.0.shutdown());
    }
}
