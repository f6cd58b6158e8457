//! The search's evaluator on top of the inference server. It lives here, not in `mcts`, so
//! the search never depends on Burn.

use crate::server::{BatchModel, Client, ClientError};
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use mcts::{EvalRequest, Evaluation, Evaluator, ObservationEvaluator};

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
        append_rows(requests, &mut inputs, &mut masks);
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

    fn failure(&self) -> Option<String> {
        self.error.as_ref().map(|e| e.to_string())
    }
}

// A network sees the encoding and the legal mask and nothing else: its answers may be cached.
impl ObservationEvaluator for ServerEvaluator {}
impl<M: BatchModel> ObservationEvaluator for DirectEvaluator<M> {}

/// Runs a model in the caller's thread, no server: for the arena and for tests.
pub struct DirectEvaluator<M: BatchModel> {
    model: M,
    inputs: Vec<f32>,
    masks: Vec<f32>,
    policy: Vec<f32>,
    values: Vec<f32>,
}

impl<M: BatchModel> DirectEvaluator<M> {
    pub fn new(model: M) -> DirectEvaluator<M> {
        DirectEvaluator {
            model,
            inputs: Vec::new(),
            masks: Vec::new(),
            policy: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn model(&self) -> &M {
        &self.model
    }
}

impl<M: BatchModel> Evaluator for DirectEvaluator<M> {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        out.clear();
        if requests.is_empty() {
            return;
        }
        self.inputs.clear();
        self.masks.clear();
        append_rows(requests, &mut self.inputs, &mut self.masks);
        let n = requests.len();
        self.model.forward(
            &self.inputs,
            &self.masks,
            n,
            &mut self.policy,
            &mut self.values,
        );
        out.extend((0..n).map(|i| {
            Evaluation {
                logits: self.policy[i * NUM_ACTIONS..(i + 1) * NUM_ACTIONS]
                    .try_into()
                    .expect("52 policy entries per row"),
                values: self.values[i * MAX_PLAYERS..(i + 1) * MAX_PLAYERS]
                    .try_into()
                    .expect("8 values per row"),
            }
        }));
    }
}

/// Appends each request's encoding and legal mask as one row of the model's input.
fn append_rows(requests: &[EvalRequest], inputs: &mut Vec<f32>, masks: &mut Vec<f32>) {
    for r in requests {
        inputs.extend_from_slice(&r.encoding);
        masks.extend_from_slice(&game::encoding::mask_of(r.legal));
    }
}
