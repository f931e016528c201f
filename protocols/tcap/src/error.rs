//! Transaction-level decode errors and the answer owed to the peer (Q.774 §3.1.3, §3.2.2).

use crate::dialogue_portion::{AbortSource, Abrt, DialoguePortion};
use crate::message::{Abort, AbortCause, MessageType, PAbortCause};
use crate::tid::TransactionId;

/// What was wrong with a message's transaction or dialogue portion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransactionProblem {
    /// The transaction portion is wrong: the peer is owed a P-Abort with this cause.
    PAbort(PAbortCause),
    /// The dialogue portion does not decode: the peer is owed an Abort carrying an ABRT
    /// with abort-source dialogue-service-provider.
    DialoguePortion,
}

/// A message whose transaction portion (or dialogue portion) could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed TCAP {message_type:?} ({reason}): {problem:?}")]
pub struct TransactionError {
    /// The message type, if recognised.
    pub message_type: Option<MessageType>,
    /// The peer's originating transaction id, if it could be derived.
    pub otid: Option<TransactionId>,
    /// The destination transaction id (ours), if it could be derived: the engine uses it to
    /// abort the local dialogue too.
    pub dtid: Option<TransactionId>,
    /// The problem.
    pub problem: TransactionProblem,
    /// What was wrong, for logs.
    pub reason: &'static str,
}

impl TransactionError {
    /// The Abort the peer is owed, addressed to its originating transaction id; `None` when
    /// nothing may be sent (no derivable otid, or an End, Abort or Unidirectional, which
    /// are discarded).
    pub fn answer(&self) -> Option<Abort<'static>> {
        let peer = self.otid?;
        if matches!(
            self.message_type,
            Some(MessageType::End | MessageType::Abort | MessageType::Unidirectional)
        ) {
            return None;
        }
        let reason = match self.problem {
            TransactionProblem::PAbort(c) => AbortCause::PAbort(c),
            TransactionProblem::DialoguePortion => {
                AbortCause::UAbort(DialoguePortion::Abrt(Abrt {
                    abort_source: AbortSource::DIALOGUE_SERVICE_PROVIDER,
                    user_information: None,
                }))
            }
        };
        Some(Abort {
            dtid: peer,
            reason: Some(reason),
        })
    }
}
