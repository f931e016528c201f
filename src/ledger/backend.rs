//! [`Prepaid`]: the one handle the call actors, the admin API and the server use for the
//! prepaid ledger, whichever backend the configuration chose. Both backends give the same
//! answers to the same requests (the PostgreSQL one runs the same account model inside a
//! database transaction); see `tests/postgres.rs` for the shared behavioural suite.

use std::time::Instant;

use smallvec::SmallVec;

use crate::metrics as m;
use crate::prepaid::{AccountId, PrepaidRequest, PrepaidResponse, Refusal};

use super::account::{AccountView, AdminError, AdminRequest};
use super::{AccountDirectory, Ledger, LedgerError, PgLedger};

/// The prepaid ledger behind the service logic. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Prepaid {
    /// The embedded journal ledger, through its per-account actors (one node).
    Embedded(AccountDirectory),
    /// A PostgreSQL database shared by several nodes.
    Postgres(PgLedger),
}

impl Prepaid {
    /// The prepaid interfaces (claims 3–8). Answers only once any change it made is durable.
    pub async fn request(&self, req: PrepaidRequest) -> PrepaidResponse {
        let t = Instant::now();
        let op = operation_label(&req);
        let resp = match self {
            Prepaid::Embedded(d) => d.request_since(req, t).await,
            Prepaid::Postgres(p) => p.request(req).await,
        };
        count_request(op, &resp);
        durable_after(t);
        resp
    }

    /// Several operations of one call on one account (the Deduct and Return that end a prepaid
    /// call), applied in order, each with its own idempotency key and answer, and answered once
    /// all are durable: one group commit (embedded) or one transaction (PostgreSQL) instead of
    /// one per operation. Every request must name the same account.
    pub async fn request_all(&self, reqs: Vec<PrepaidRequest>) -> Vec<PrepaidResponse> {
        let t = Instant::now();
        let ops: SmallVec<[&'static str; 2]> = reqs.iter().map(operation_label).collect();
        let resps = match self {
            Prepaid::Embedded(d) => d.request_all_since(reqs, t).await,
            Prepaid::Postgres(p) => p.request_all(reqs).await,
        };
        for (op, resp) in ops.into_iter().zip(&resps) {
            count_request(op, resp);
        }
        durable_after(t);
        resps
    }

    /// Administrative operations: upsert, top-up, adjust, view.
    pub async fn admin(&self, req: AdminRequest) -> Result<AccountView, AdminError> {
        match self {
            Prepaid::Embedded(d) => d.admin(req).await,
            Prepaid::Postgres(p) => p.admin(req).await,
        }
    }

    /// Create the account of an `Upsert` only if the ledger does not know it yet (the ledger is
    /// authoritative for existing accounts). `Ok(true)` if it was created.
    pub async fn create_if_absent(&self, req: AdminRequest) -> Result<bool, AdminError> {
        match self {
            Prepaid::Embedded(d) => {
                if d.ledger().contains(req.account()) {
                    return Ok(false);
                }
                d.admin(req).await.map(|_| true)
            }
            Prepaid::Postgres(p) => p.create_if_absent(req).await,
        }
    }

    /// Whether the ledger accepts changes now.
    pub fn is_healthy(&self) -> bool {
        match self {
            Prepaid::Embedded(d) => d.ledger().is_healthy(),
            Prepaid::Postgres(p) => p.is_healthy(),
        }
    }

    /// Whether the account exists (embedded: from memory; PostgreSQL: one query).
    pub async fn contains(&self, id: &AccountId) -> bool {
        match self {
            Prepaid::Embedded(d) => d.ledger().contains(id),
            Prepaid::Postgres(p) => p
                .admin(AdminRequest::View {
                    account: id.clone(),
                })
                .await
                .is_ok(),
        }
    }

    /// Before a clean stop: snapshot the embedded ledger so the next start is quick (nothing
    /// to do for PostgreSQL, where every acknowledged change is already committed).
    pub fn snapshot_now(&self) -> Result<(), LedgerError> {
        match self {
            Prepaid::Embedded(d) => d.ledger().snapshot_now().map(|_| ()),
            Prepaid::Postgres(_) => Ok(()),
        }
    }

    /// At the end of a clean stop: close the embedded ledger (see [`Ledger::close`]), so its
    /// directory is unlocked when the server returns; nothing to do for PostgreSQL.
    pub fn close(&self) {
        if let Prepaid::Embedded(d) = self {
            d.ledger().close();
        }
    }

    /// The embedded ledger, if that is the backend.
    pub fn embedded(&self) -> Option<&Ledger> {
        match self {
            Prepaid::Embedded(d) => Some(d.ledger()),
            Prepaid::Postgres(_) => None,
        }
    }
}

/// A request sent at `t` is answered, and whatever it changed is durable.
fn durable_after(t: Instant) {
    let s = t.elapsed().as_secs_f64();
    m::observe!(m::PREPAID_REQUEST_SECONDS, [("stage", "durable")], s);
}

/// Count a prepaid request (`operation`: [`operation_label`]) by its answer
/// (`strowger_prepaid_requests_total`), whichever backend answered it.
fn count_request(operation: &'static str, resp: &PrepaidResponse) {
    let result = match resp {
        PrepaidResponse::Refused(Refusal::UnknownAccount) => "unknown_account",
        PrepaidResponse::Refused(Refusal::Suspended) => "suspended",
        PrepaidResponse::Refused(Refusal::Expired) => "expired",
        PrepaidResponse::Refused(Refusal::InsufficientBalance) => "insufficient_balance",
        PrepaidResponse::Refused(Refusal::LedgerUnavailable) => "ledger_unavailable",
        _ => "ok",
    };
    m::count!(
        m::PREPAID_REQUESTS,
        [("operation", operation), ("result", result)],
        1,
    );
}

/// The `operation` label of a prepaid request.
fn operation_label(req: &PrepaidRequest) -> &'static str {
    match req {
        PrepaidRequest::Authenticate { .. } => "authenticate",
        PrepaidRequest::ApplyFee { .. } => "apply",
        PrepaidRequest::Reapply { .. } => "reapply",
        PrepaidRequest::Deduct { .. } => "deduct",
        PrepaidRequest::Return { .. } => "return",
    }
}
