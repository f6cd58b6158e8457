//! The search's evaluator on top of the inference server. It lives here, not in `mcts`, so
//! the search never depends on Burn.

use crate::server::{Client, ClientError};
use game::{ENCODING_LEN, NUM_ACTIONS};
use mcts::{EvalRequest, Evaluation, Evaluator};

/// Sends each batch of search requests to the server as one request and waits for it.
pub struct ServerEvaluator {
    client: Client,
    /// Set when the server went away; later batches get neutral answers and callers should
    /// check [`ServerEvaluator::error`].
    error: Option<ClientError>,
}

impl ServerEvaluator {
    pub fn new(client: Client) -> ServerEvaluator {
        ServerEvaluator {
            client,
            error: None,
        }
    }

    /// The first error met (the server stopped), if any.
    pub fn error(&self) -> Option<&ClientError> {
        self.error.as_ref()
    }

    /// Evaluates a batch, or says why it could not.
    pub fn try_evaluate(
        &self,
        requests: &[EvalRequest],
        out: &mut Vec<Evaluation>,
    ) -> Result<(), ClientError> {
        out.clear();
        let mut inputs = Vec::with_capacity(requests.len() * ENCODING_LEN);
        let mut masks = Vec::with_capacity(requests.len() * NUM_ACTIONS);
        for r in requests {
            inputs.extend_from_slice(&r.encoding);
            masks.extend_from_slice(&game::encoding::mask_of(r.legal));
        }
        let answers = self.client.evaluate(inputs, masks)?;
        out.extend(answers.into_iter().map(|a| Evaluation {
            logits: a.policy,
            values: a.values,
        }));
        Ok(())
    }
}

impl Evaluator for ServerEvaluator {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        if let Err(e) = self.try_evaluate(requests, out) {
            // The search cannot stop mid-step; answer neutrally and keep the error for the
            // caller, which must not trust results made after it.
            out.clear();
            out.resize(requests.len(), Evaluation::NEUTRAL);
            self.error.get_or_insert(e);
        }
    }
}
