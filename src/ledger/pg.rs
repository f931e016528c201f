//! The PostgreSQL ledger backend (DESIGN §5, "Distributed"): several SCP nodes share one
//! database, so they share accounts.
//!
//! Each operation runs the same pure account model as the embedded ledger
//! ([`Account::decide`] / [`Account::apply`]) inside one database transaction:
//!
//! 1. `SELECT … FOR UPDATE OF a` locks the account row and, in the same round trip, reads the
//!    call's reservation row, the stored answer of the operation's idempotency key (if any)
//!    and the database clock (one clock for every node: deadlines and validity dates).
//! 2. A stored answer is returned as is (idempotent retry). Otherwise the model decides.
//! 3. A change is written as a *conditional* update of the account row — relative deltas,
//!    guarded by `balance + Δbalance ≥ reserved + Δreserved` — so the database itself refuses
//!    an overdraft whatever a node believed; plus the reservation row (upsert/delete) and the
//!    idempotency row `(account, call, seq) → answer`, pipelined in one round trip.
//! 4. `COMMIT` (with `synchronous_commit` as the server has it; on by default) before the answer
//!    is sent. An answer never reflects a change that is not committed.
//!
//! Operations queued at the same moment are committed together, up to
//! `[ledger.postgres].batch_max` in one transaction: their rows are locked in account order
//! (so concurrent batches, on this node or another, never deadlock), one COMMIT (one WAL
//! flush) covers them all. If anything in a batch fails it is rolled back whole and each
//! operation is retried in a transaction of its own, so one operation never fails another.
//!
//! Every node runs a sweeper that expires reservations past their deadline: it locks the
//! accounts concerned with `FOR UPDATE SKIP LOCKED` (a busy account is taken on the next
//! sweep, never waited for), re-reads the deadlines under the lock and applies the configured
//! [`super::ExpiryPolicy`] through the model's `decide_expiry`. So the reservations of a node
//! that died are settled by the survivors, each exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot, Mutex as AsyncMutex};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};

use crate::prepaid::{AccountId, CallId, Money, PrepaidRequest, PrepaidResponse, Refusal};

use super::account::{
    Account, AccountState, AccountView, AdminError, AdminRequest, Decision, EventKind, Reservation,
    ReservationView, Rules, Totals, UnixSecs,
};
use super::{LedgerConfig, LedgerError, PostgresConfig};

/// Schema migrations, applied in order at start under an advisory lock (so several nodes
/// starting at once apply each exactly once). Never edit a released migration; append.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE strowger_account (
        id        TEXT PRIMARY KEY,
        balance   BIGINT NOT NULL,
        reserved  BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        state     TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'expired')),
        expiry    BIGINT,
        opening   BIGINT NOT NULL,
        topped_up BIGINT NOT NULL DEFAULT 0,
        adjusted  BIGINT NOT NULL DEFAULT 0,
        charged   BIGINT NOT NULL DEFAULT 0,
        CONSTRAINT strowger_no_overdraft CHECK (balance - reserved >= 0)
    );
    CREATE TABLE strowger_reservation (
        account  TEXT NOT NULL REFERENCES strowger_account (id),
        call     BIGINT NOT NULL,
        amount   BIGINT NOT NULL CHECK (amount >= 0),
        deadline BIGINT NOT NULL,
        PRIMARY KEY (account, call)
    );
    CREATE INDEX strowger_reservation_deadline ON strowger_reservation (deadline);
    CREATE TABLE strowger_op (
        account TEXT NOT NULL,
        call    BIGINT NOT NULL,
        seq     BIGINT NOT NULL,
        kind    SMALLINT NOT NULL,
        amount  BIGINT NOT NULL,
        at      BIGINT NOT NULL,
        PRIMARY KEY (account, call, seq)
    );
    CREATE INDEX strowger_op_at ON strowger_op (at);",
)];

/// Advisory lock key serialising migrations ("STROWGER" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x5354_524f_5747_4552;

const ACCOUNT_COLS: &str =
    "a.balance, a.reserved, a.state, a.expiry, a.opening, a.topped_up, a.adjusted, a.charged";
const NOW: &str = "extract(epoch from now())::bigint";

/// A job for the connection pool.
enum Job {
    Op(PrepaidRequest, oneshot::Sender<PrepaidResponse>),
    /// Several operations on one account, in order, in the same transaction.
    Ops(Vec<PrepaidRequest>, oneshot::Sender<Vec<PrepaidResponse>>),
    Admin(
        AdminRequest,
        oneshot::Sender<Result<AccountView, AdminError>>,
    ),
    Create(AdminRequest, oneshot::Sender<Result<bool, AdminError>>),
}

impl Job {
    fn account(&self) -> &AccountId {
        match self {
            Job::Op(r, _) => r.account(),
            Job::Ops(r, _) => r[0].account(),
            Job::Admin(r, _) | Job::Create(r, _) => r.account(),
        }
    }
}

enum Answer {
    Op(PrepaidResponse),
    Ops(Vec<PrepaidResponse>),
    Admin(Result<AccountView, AdminError>),
    Create(Result<bool, AdminError>),
}

impl Job {
    fn answer(self, a: Answer) {
        match (self, a) {
            (Job::Op(_, tx), Answer::Op(r)) => {
                let _ = tx.send(r);
            }
            (Job::Ops(_, tx), Answer::Ops(r)) => {
                let _ = tx.send(r);
            }
            (Job::Admin(_, tx), Answer::Admin(r)) => {
                let _ = tx.send(r);
            }
            (Job::Create(_, tx), Answer::Create(r)) => {
                let _ = tx.send(r);
            }
            (j, _) => j.unavailable(),
        }
    }
    fn unavailable(self) {
        match self {
            Job::Op(_, tx) => {
                let _ = tx.send(PrepaidResponse::Refused(Refusal::LedgerUnavailable));
            }
            Job::Ops(reqs, tx) => {
                let _ = tx.send(vec![
                    PrepaidResponse::Refused(Refusal::LedgerUnavailable);
                    reqs.len()
                ]);
            }
            Job::Admin(_, tx) => {
                let _ = tx.send(Err(AdminError::LedgerUnavailable));
            }
            Job::Create(_, tx) => {
                let _ = tx.send(Err(AdminError::LedgerUnavailable));
            }
        }
    }
}

/// Why a transaction did not commit.
#[derive(Debug)]
enum TxError {
    /// The guarded update found the balance condition false (should not happen under the row
    /// lock; the database refused the change, so nothing was lost).
    Guard,
    /// A database error.
    Db(tokio_postgres::Error),
    /// No answer in time.
    Timeout,
}

impl From<tokio_postgres::Error> for TxError {
    fn from(e: tokio_postgres::Error) -> Self {
        TxError::Db(e)
    }
}

impl TxError {
    fn retryable(&self) -> bool {
        match self {
            TxError::Guard => true,
            TxError::Db(e) => matches!(
                e.code(),
                Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
            ),
            TxError::Timeout => false,
        }
    }
}

struct Inner {
    jobs: mpsc::Sender<Job>,
    connected: Arc<AtomicUsize>,
    pool_size: usize,
    cfg: PostgresConfig,
    rules: Rules,
    _stop: oneshot::Sender<()>,
}

/// The PostgreSQL ledger: a pool of connections on its own runtime thread. Cheap to clone;
/// the pool stops when the last clone is dropped.
#[derive(Clone)]
pub struct PgLedger {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PgLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLedger")
            .field("connected", &self.inner.connected.load(Ordering::Relaxed))
            .field("pool_size", &self.inner.pool_size)
            .finish()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Failed(format!("postgres: {what}: {e}"))
}

async fn connect(url: &str, timeout: Duration) -> Result<Client, LedgerError> {
    let (client, conn) = tokio::time::timeout(timeout, tokio_postgres::connect(url, NoTls))
        .await
        .map_err(|_| failed("connect", "timed out"))?
        .map_err(|e| failed("connect", e))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "postgres connection closed");
        }
    });
    Ok(client)
}

/// Apply the schema migrations this version knows and the database lacks.
async fn migrate(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS strowger_schema (
                version    INT PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await?;
    let have: Vec<i32> = client
        .query("SELECT version FROM strowger_schema", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for (v, sql) in MIGRATIONS {
        if have.contains(v) {
            continue;
        }
        let t = client.transaction().await?;
        t.batch_execute(sql).await?;
        t.execute("INSERT INTO strowger_schema (version) VALUES ($1)", &[v])
            .await?;
        t.commit().await?;
        tracing::info!(version = v, "postgres ledger schema migration applied");
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    Ok(())
}

/// Prepared statements of one connection.
struct Stmts {
    lock: Statement,
    read: Statement,
    update: Statement,
    res_upsert: Statement,
    res_delete: Statement,
    op_insert: Statement,
    reservations: Statement,
    insert_account: Statement,
}

impl Stmts {
    async fn prepare(c: &Client) -> Result<Stmts, tokio_postgres::Error> {
        Ok(Stmts {
            lock: c
                .prepare(&format!(
                    "SELECT {ACCOUNT_COLS}, r.amount, r.deadline, o.kind, o.amount, {NOW}
                     FROM strowger_account a
                     LEFT JOIN strowger_reservation r ON r.account = a.id AND r.call = $2
                     LEFT JOIN strowger_op o ON o.account = a.id AND o.call = $2 AND o.seq = $3
                     WHERE a.id = $1 FOR UPDATE OF a"
                ))
                .await?,
            read: c
                .prepare(&format!(
                    "SELECT {ACCOUNT_COLS}, {NOW} FROM strowger_account a WHERE a.id = $1"
                ))
                .await?,
            update: c
                .prepare(
                    "UPDATE strowger_account SET balance = balance + $2, reserved = reserved + $3,
                        topped_up = topped_up + $4, adjusted = adjusted + $5,
                        charged = charged + $6, state = $7, expiry = $8
                     WHERE id = $1 AND balance + $2 >= reserved + $3 AND reserved + $3 >= 0",
                )
                .await?,
            res_upsert: c
                .prepare(
                    "INSERT INTO strowger_reservation (account, call, amount, deadline)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (account, call)
                     DO UPDATE SET amount = EXCLUDED.amount, deadline = EXCLUDED.deadline",
                )
                .await?,
            res_delete: c
                .prepare("DELETE FROM strowger_reservation WHERE account = $1 AND call = $2")
                .await?,
            op_insert: c
                .prepare(
                    "INSERT INTO strowger_op (account, call, seq, kind, amount, at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .await?,
            reservations: c
                .prepare(
                    "SELECT call, amount, deadline FROM strowger_reservation
                     WHERE account = $1 ORDER BY call",
                )
                .await?,
            insert_account: c
                .prepare(
                    "INSERT INTO strowger_account (id, balance, state, expiry, opening)
                     VALUES ($1, $2, $3, $4, $2) ON CONFLICT (id) DO NOTHING",
                )
                .await?,
        })
    }
}

struct Conn {
    client: Client,
    st: Stmts,
}

fn state_str(s: AccountState) -> &'static str {
    match s {
        AccountState::Active => "active",
        AccountState::Suspended => "suspended",
        AccountState::Expired => "expired",
    }
}

fn state_from(s: &str) -> AccountState {
    match s {
        "suspended" => AccountState::Suspended,
        "expired" => AccountState::Expired,
        _ => AccountState::Active,
    }
}

fn secs(v: i64) -> UnixSecs {
    u64::try_from(v).unwrap_or(0)
}

fn db_secs(v: UnixSecs) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Call ids use all 64 bits (node id on top); stored bit for bit in a BIGINT.
fn db_call(c: CallId) -> i64 {
    c.0 as i64
}

/// The account columns (the first eight) of a row, as a model account without reservations.
fn account_from(id: &AccountId, row: &Row) -> Account {
    let mut a = Account::new(id.clone(), row.get(4));
    a.balance = row.get(0);
    a.reserved = row.get(1);
    a.state = state_from(row.get(2));
    a.expiry = row.get::<_, Option<i64>>(3).map(secs);
    a.totals = Totals {
        opening: row.get(4),
        topped_up: row.get(5),
        adjusted: row.get(6),
        charged: row.get(7),
    };
    a
}

fn encode(r: &PrepaidResponse) -> (i16, Money) {
    match *r {
        PrepaidResponse::Authenticated { available } => (0, available),
        PrepaidResponse::Granted { granted } => (1, granted),
        PrepaidResponse::Deducted { amount } => (2, amount),
        PrepaidResponse::Returned { amount } => (3, amount),
        PrepaidResponse::Refused(r) => (
            4,
            match r {
                Refusal::UnknownAccount => 1,
                Refusal::Suspended => 2,
                Refusal::Expired => 3,
                Refusal::InsufficientBalance => 4,
                Refusal::LedgerUnavailable => 5,
            },
        ),
    }
}

fn decode(kind: i16, amount: Money) -> PrepaidResponse {
    match kind {
        0 => PrepaidResponse::Authenticated { available: amount },
        1 => PrepaidResponse::Granted { granted: amount },
        2 => PrepaidResponse::Deducted { amount },
        3 => PrepaidResponse::Returned { amount },
        _ => PrepaidResponse::Refused(match amount {
            1 => Refusal::UnknownAccount,
            2 => Refusal::Suspended,
            3 => Refusal::Expired,
            4 => Refusal::InsufficientBalance,
            _ => Refusal::LedgerUnavailable,
        }),
    }
}

/// Write the difference between `before` and `after` (the same account, after applying the
/// model's events) back: one guarded relative update of the account row, the reservation rows
/// of `calls`, and the idempotency row — pipelined.
async fn write_back(
    t: &Transaction<'_>,
    st: &Stmts,
    before: &Account,
    after: &Account,
    calls: &[CallId],
    op: Option<(crate::prepaid::OpKey, &PrepaidResponse, UnixSecs)>,
) -> Result<(), TxError> {
    let id = after.id.as_str();
    let d_bal = after.balance - before.balance;
    let d_res = after.reserved - before.reserved;
    let d_top = after.totals.topped_up - before.totals.topped_up;
    let d_adj = after.totals.adjusted - before.totals.adjusted;
    let d_chg = after.totals.charged - before.totals.charged;
    let state = state_str(after.state);
    let expiry = after.expiry.map(db_secs);
    let update = async {
        t.execute(
            &st.update,
            &[&id, &d_bal, &d_res, &d_top, &d_adj, &d_chg, &state, &expiry],
        )
        .await
    };
    let mut side: Vec<BoxFuture<'_, Result<u64, tokio_postgres::Error>>> = Vec::new();
    for c in calls {
        let call = db_call(*c);
        let old = before.reservations.get(c);
        match (old, after.reservations.get(c)) {
            (_, Some(r)) if old != Some(r) => {
                let (amount, deadline) = (r.amount, db_secs(r.deadline));
                side.push(Box::pin(async move {
                    t.execute(&st.res_upsert, &[&id, &call, &amount, &deadline])
                        .await
                }));
            }
            (Some(_), None) => side.push(Box::pin(async move {
                t.execute(&st.res_delete, &[&id, &call]).await
            })),
            _ => {}
        }
    }
    if let Some((key, answer, at)) = op {
        let (kind, amount) = encode(answer);
        let (call, seq, at) = (db_call(key.call), i64::from(key.seq), db_secs(at));
        side.push(Box::pin(async move {
            t.execute(&st.op_insert, &[&id, &call, &seq, &kind, &amount, &at])
                .await
        }));
    }
    let (n, _) = futures::try_join!(update, futures::future::try_join_all(side))?;
    if n != 1 {
        return Err(TxError::Guard);
    }
    Ok(())
}

/// One prepaid operation inside the transaction.
async fn op_in_tx(
    t: &Transaction<'_>,
    st: &Stmts,
    req: &PrepaidRequest,
    rules: &Rules,
) -> Result<PrepaidResponse, TxError> {
    let id = req.account();
    let Some(key) = req.key() else {
        // Authenticate: read-only, no lock.
        let Some(row) = t.query_opt(&st.read, &[&id.as_str()]).await? else {
            return Ok(PrepaidResponse::Refused(Refusal::UnknownAccount));
        };
        let a = account_from(id, &row);
        let now = secs(row.get(8));
        return Ok(match a.decide(req, now, rules) {
            Ok(Decision::Reply(r)) => r,
            Ok(Decision::Change(_)) => PrepaidResponse::Refused(Refusal::LedgerUnavailable),
            Err(r) => PrepaidResponse::Refused(r),
        });
    };
    let call = db_call(key.call);
    let seq = i64::from(key.seq);
    let Some(row) = t.query_opt(&st.lock, &[&id.as_str(), &call, &seq]).await? else {
        return Ok(PrepaidResponse::Refused(Refusal::UnknownAccount));
    };
    if let (Some(kind), Some(amount)) =
        (row.get::<_, Option<i16>>(10), row.get::<_, Option<i64>>(11))
    {
        return Ok(decode(kind, amount));
    }
    let mut a = account_from(id, &row);
    if let (Some(amount), Some(deadline)) =
        (row.get::<_, Option<i64>>(8), row.get::<_, Option<i64>>(9))
    {
        a.reservations.insert(
            key.call,
            Reservation {
                amount,
                deadline: secs(deadline),
            },
        );
    }
    let now = secs(row.get(12));
    match a.decide(req, now, rules) {
        Err(r) => Ok(PrepaidResponse::Refused(r)),
        Ok(Decision::Reply(r)) => Ok(r),
        Ok(Decision::Change(ev)) => {
            let before = a.clone();
            let answer = a.apply(&ev, rules);
            let keyed = match ev.kind {
                EventKind::Applied { key, .. }
                | EventKind::Reapplied { key, .. }
                | EventKind::Deducted { key, .. }
                | EventKind::Returned { key, .. } => Some((key, &answer, ev.at)),
                _ => None,
            };
            write_back(t, st, &before, &a, &[key.call], keyed).await?;
            Ok(answer)
        }
    }
}

async fn view_in_tx<C: GenericClient>(
    c: &C,
    st: &Stmts,
    a: &Account,
) -> Result<AccountView, TxError> {
    let mut v = a.view();
    v.reservations = c
        .query(&st.reservations, &[&a.id.as_str()])
        .await?
        .iter()
        .map(|r| ReservationView {
            call: r.get::<_, i64>(0) as u64,
            amount: r.get(1),
            deadline: secs(r.get(2)),
        })
        .collect();
    Ok(v)
}

async fn lock_account(
    t: &Transaction<'_>,
    st: &Stmts,
    id: &AccountId,
) -> Result<Option<(Account, UnixSecs)>, TxError> {
    // Call 0 / seq −1 match no reservation and no stored answer: the account row alone.
    let row = t
        .query_opt(&st.lock, &[&id.as_str(), &0i64, &-1i64])
        .await?;
    Ok(row.map(|r| (account_from(id, &r), secs(r.get(12)))))
}

async fn admin_in_tx(
    t: &Transaction<'_>,
    st: &Stmts,
    req: &AdminRequest,
    rules: &Rules,
) -> Result<Result<AccountView, AdminError>, TxError> {
    let id = req.account();
    if let AdminRequest::Upsert {
        state,
        expiry,
        opening_balance,
        ..
    } = req
    {
        if *opening_balance < 0 {
            return Ok(Err(AdminError::InvalidAmount));
        }
        let n = t
            .execute(
                &st.insert_account,
                &[
                    &id.as_str(),
                    opening_balance,
                    &state_str(*state),
                    &expiry.map(db_secs),
                ],
            )
            .await?;
        if n == 1 {
            let mut a = Account::new(id.clone(), *opening_balance);
            a.state = *state;
            a.expiry = *expiry;
            return Ok(Ok(a.view()));
        }
    }
    // A view locks the row too (`decide_admin` then decides no change): the account and its
    // reservations are read as of one moment. (Each statement of a READ COMMITTED transaction
    // sees the newest commits; an expiry committed between two unlocked reads showed a
    // reserved sum without its reservations.)
    let Some((mut a, now)) = lock_account(t, st, id).await? else {
        return Ok(Err(AdminError::UnknownAccount));
    };
    match Account::decide_admin(Some(&a), req, now) {
        Err(e) => Ok(Err(e)),
        Ok(None) => Ok(Ok(view_in_tx(t, st, &a).await?)),
        Ok(Some(ev)) => {
            let before = a.clone();
            a.apply(&ev, rules);
            match write_back(t, st, &before, &a, &[], None).await {
                Err(TxError::Guard) => return Ok(Err(AdminError::WouldGoNegative)),
                r => r?,
            }
            Ok(Ok(view_in_tx(t, st, &a).await?))
        }
    }
}

async fn create_in_tx(
    t: &Transaction<'_>,
    st: &Stmts,
    req: &AdminRequest,
) -> Result<Result<bool, AdminError>, TxError> {
    let AdminRequest::Upsert {
        account,
        state,
        expiry,
        opening_balance,
    } = req
    else {
        return Ok(Err(AdminError::InvalidAmount));
    };
    if *opening_balance < 0 {
        return Ok(Err(AdminError::InvalidAmount));
    }
    let n = t
        .execute(
            &st.insert_account,
            &[
                &account.as_str(),
                opening_balance,
                &state_str(*state),
                &expiry.map(db_secs),
            ],
        )
        .await?;
    Ok(Ok(n == 1))
}

/// Run `jobs` (sorted by account) in one transaction.
async fn run_tx(conn: &mut Conn, jobs: &[Job], rules: &Rules) -> Result<Vec<Answer>, TxError> {
    let t = conn.client.transaction().await?;
    let mut answers = Vec::with_capacity(jobs.len());
    for j in jobs {
        answers.push(match j {
            Job::Op(req, _) => Answer::Op(op_in_tx(&t, &conn.st, req, rules).await?),
            Job::Ops(reqs, _) => {
                let (mut v, mut gate) = (Vec::with_capacity(reqs.len()), None);
                for req in reqs {
                    let answer = match gate {
                        Some(r) => PrepaidResponse::Refused(r),
                        None => op_in_tx(&t, &conn.st, req, rules).await?,
                    };
                    gate = gate.or_else(|| req.gate(&answer));
                    v.push(answer);
                }
                Answer::Ops(v)
            }
            Job::Admin(req, _) => Answer::Admin(admin_in_tx(&t, &conn.st, req, rules).await?),
            Job::Create(req, _) => Answer::Create(create_in_tx(&t, &conn.st, req).await?),
        });
    }
    t.commit().await?;
    Ok(answers)
}

async fn run_tx_timed(
    conn: &mut Conn,
    jobs: &[Job],
    rules: &Rules,
    limit: Duration,
) -> Result<Vec<Answer>, TxError> {
    match tokio::time::timeout(limit, run_tx(conn, jobs, rules)).await {
        Ok(r) => r,
        Err(_) => Err(TxError::Timeout),
    }
}

struct Worker {
    url: String,
    rules: Rules,
    limit: Duration,
    connected: Arc<AtomicUsize>,
    conn: Option<Conn>,
    next_attempt: Instant,
}

impl Worker {
    async fn ensure(&mut self) -> bool {
        if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
            self.drop_conn();
        }
        if self.conn.is_some() {
            return true;
        }
        if Instant::now() < self.next_attempt {
            return false;
        }
        self.next_attempt = Instant::now() + Duration::from_secs(1);
        match open_conn(&self.url, self.limit).await {
            Ok(c) => {
                self.conn = Some(c);
                self.connected.fetch_add(1, Ordering::Relaxed);
                tracing::info!("postgres ledger connection (re)established");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "postgres ledger connection failed");
                false
            }
        }
    }

    fn drop_conn(&mut self) {
        if self.conn.take().is_some() {
            self.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }

    async fn run(&mut self, mut jobs: Vec<Job>) {
        if !self.ensure().await {
            for j in jobs {
                j.unavailable();
            }
            return;
        }
        // Stable: operations on one account keep their order.
        jobs.sort_by(|a, b| a.account().cmp(b.account()));
        if jobs.len() > 1 {
            let r = match self.conn.as_mut() {
                Some(c) => run_tx_timed(c, &jobs, &self.rules, self.limit).await,
                None => Err(TxError::Timeout),
            };
            match r {
                Ok(answers) => {
                    ::metrics::histogram!(crate::metrics::LEDGER_PG_BATCH_OPS)
                        .record(jobs.len() as f64);
                    for (j, a) in jobs.into_iter().zip(answers) {
                        j.answer(a);
                    }
                    return;
                }
                Err(e) => {
                    if self.lost(&e) {
                        for j in jobs {
                            j.unavailable();
                        }
                        return;
                    }
                    tracing::debug!(error = ?e, "batch rolled back; retrying one by one");
                }
            }
        }
        for j in jobs {
            self.run_one(j).await;
        }
    }

    /// Whether the connection is gone (or in an unknown state); drops it if so.
    fn lost(&mut self, e: &TxError) -> bool {
        let gone = match e {
            TxError::Timeout => true,
            TxError::Db(_) => self.conn.as_ref().map_or(true, |c| c.client.is_closed()),
            TxError::Guard => false,
        };
        if gone {
            tracing::warn!(error = ?e, "postgres ledger connection lost; answering ledger unavailable");
            self.drop_conn();
        }
        gone
    }

    async fn run_one(&mut self, j: Job) {
        let one = [j];
        let mut last = None;
        for attempt in 0..4 {
            let Some(c) = self.conn.as_mut() else { break };
            match run_tx_timed(c, &one, &self.rules, self.limit).await {
                Ok(mut answers) => {
                    let [j] = one;
                    match answers.pop() {
                        Some(a) => j.answer(a),
                        None => j.unavailable(),
                    }
                    return;
                }
                Err(e) => {
                    if self.lost(&e) || !e.retryable() {
                        last = Some(e);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(1 << attempt)).await;
                    last = Some(e);
                }
            }
        }
        let [j] = one;
        match (last, j) {
            (Some(TxError::Guard), Job::Op(_, tx)) => {
                tracing::error!("postgres refused a change by the balance guard");
                let _ = tx.send(PrepaidResponse::Refused(Refusal::InsufficientBalance));
            }
            (e, j) => {
                tracing::warn!(error = ?e, "postgres ledger operation failed");
                ::metrics::counter!(crate::metrics::LEDGER_FAILURES).increment(1);
                j.unavailable();
            }
        }
    }
}

async fn open_conn(url: &str, limit: Duration) -> Result<Conn, LedgerError> {
    let client = connect(url, limit).await?;
    let st = Stmts::prepare(&client)
        .await
        .map_err(|e| failed("prepare", e))?;
    Ok(Conn { client, st })
}

async fn worker_loop(mut w: Worker, rx: Arc<AsyncMutex<mpsc::Receiver<Job>>>, batch_max: usize) {
    loop {
        let jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut jobs = vec![first];
            while jobs.len() < batch_max {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            jobs
        };
        w.run(jobs).await;
    }
}

/// Expire overdue reservations (and, every `prune_every` sweeps, forget old answers).
async fn sweep(client: &mut Client, rules: &Rules, prune: bool) -> Result<usize, TxError> {
    let due: Vec<String> = client
        .query(
            &format!(
                "SELECT DISTINCT account FROM strowger_reservation WHERE deadline <= {NOW} LIMIT 256"
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut expired = 0;
    let st = if due.is_empty() {
        None
    } else {
        Some(Stmts::prepare(client).await?)
    };
    for (id, st) in due.into_iter().zip(std::iter::repeat(&st)) {
        let Some(st) = st else { break };
        let id = AccountId::new(&id);
        let t = client.transaction().await?;
        let Some(row) = t
            .query_opt(
                &format!(
                    "SELECT {ACCOUNT_COLS}, {NOW} FROM strowger_account a
                     WHERE a.id = $1 FOR UPDATE SKIP LOCKED"
                ),
                &[&id.as_str()],
            )
            .await?
        else {
            continue; // busy now: the next sweep takes it
        };
        let mut a = account_from(&id, &row);
        let now = secs(row.get(8));
        for r in t
            .query(
                "SELECT call, amount, deadline FROM strowger_reservation
                 WHERE account = $1 AND deadline <= $2",
                &[&id.as_str(), &db_secs(now)],
            )
            .await?
        {
            a.reservations.insert(
                CallId(r.get::<_, i64>(0) as u64),
                Reservation {
                    amount: r.get(1),
                    deadline: secs(r.get(2)),
                },
            );
        }
        let events = a.decide_expiry(now, rules);
        if events.is_empty() {
            continue;
        }
        let before = a.clone();
        let mut calls = Vec::new();
        for ev in &events {
            if let EventKind::Expired { call, .. } = ev.kind {
                calls.push(call);
            }
            a.apply(ev, rules);
        }
        write_back(&t, st, &before, &a, &calls, None).await?;
        t.commit().await?;
        expired += events.len();
        for ev in &events {
            tracing::info!(account = %id, event = ?ev.kind, "reservation expired");
        }
    }
    if prune {
        let cutoff = db_secs(crate::ledger::unix_now().saturating_sub(rules.memo_retention_secs));
        client
            .execute(
                "DELETE FROM strowger_op o USING (
                    SELECT account, call FROM strowger_op
                    GROUP BY account, call HAVING max(at) < $1 LIMIT 10000) d
                 WHERE o.account = d.account AND o.call = d.call
                   AND NOT EXISTS (SELECT 1 FROM strowger_reservation r
                                   WHERE r.account = o.account AND r.call = o.call)",
                &[&cutoff],
            )
            .await?;
    }
    Ok(expired)
}

async fn sweeper_loop(url: String, rules: Rules, interval: Duration, limit: Duration) {
    let mut client: Option<Client> = None;
    let mut n = 0u64;
    loop {
        tokio::time::sleep(interval).await;
        if client.as_ref().map_or(true, Client::is_closed) {
            client = connect(&url, limit).await.ok();
        }
        let Some(c) = client.as_mut() else { continue };
        // Forget old answers about once a minute.
        let prune = n % (60_000 / interval.as_millis().max(1) as u64).max(1) == 0;
        n += 1;
        match tokio::time::timeout(limit * 3, sweep(c, &rules, prune)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(k)) => {
                ::metrics::counter!(crate::metrics::LEDGER_EXPIRED).increment(k as u64);
            }
            Ok(Err(e)) => tracing::warn!(error = ?e, "reservation sweep failed"),
            Err(_) => {
                tracing::warn!("reservation sweep timed out");
                client = None;
            }
        }
    }
}

impl PgLedger {
    /// Connect the pool to `cfg.postgres.url`, apply the schema migrations and start the
    /// expiry sweeper. Blocks until connected (or failed); may be called from async code.
    pub fn open(cfg: &LedgerConfig) -> Result<PgLedger, LedgerError> {
        let pg = cfg.postgres.clone();
        if pg.url.is_empty() {
            return Err(LedgerError::Failed(
                "ledger.backend = \"postgres\" needs ledger.postgres.url".into(),
            ));
        }
        let rules = cfg.rules();
        let pool_size = pg.pool_size.max(1);
        let limit = Duration::from_secs(pg.connect_timeout_secs.max(1));
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>(65_536);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), LedgerError>>();
        let connected = Arc::new(AtomicUsize::new(0));
        let conn2 = connected.clone();
        let pg2 = pg.clone();
        std::thread::Builder::new()
            .name("strowger-pg".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("strowger-pg-io")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(failed("runtime", e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    let started = async {
                        let mut c = connect(&pg2.url, limit).await?;
                        migrate(&mut c).await.map_err(|e| failed("migrate", e))?;
                        let rx = Arc::new(AsyncMutex::new(jobs_rx));
                        for _ in 0..pool_size {
                            let conn = open_conn(&pg2.url, limit).await?;
                            conn2.fetch_add(1, Ordering::Relaxed);
                            let w = Worker {
                                url: pg2.url.clone(),
                                rules,
                                limit,
                                connected: conn2.clone(),
                                conn: Some(conn),
                                next_attempt: Instant::now(),
                            };
                            tokio::spawn(worker_loop(w, rx.clone(), pg2.batch_max.max(1)));
                        }
                        tokio::spawn(sweeper_loop(
                            pg2.url.clone(),
                            rules,
                            Duration::from_millis(pg2.sweep_interval_ms.max(10)),
                            limit,
                        ));
                        Ok::<(), LedgerError>(())
                    }
                    .await;
                    let ok = started.is_ok();
                    let _ = ready_tx.send(started);
                    if ok {
                        let _ = stop_rx.await;
                    }
                });
                rt.shutdown_background();
            })
            .map_err(|e| failed("thread", e))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(failed("start", "runtime thread ended")),
        }
        tracing::info!(pool = pool_size, "postgres ledger connected");
        Ok(PgLedger {
            inner: Arc::new(Inner {
                jobs: jobs_tx,
                connected,
                pool_size,
                cfg: pg,
                rules,
                _stop: stop_tx,
            }),
        })
    }

    /// The account-model rules in force.
    pub fn rules(&self) -> &Rules {
        &self.inner.rules
    }

    /// Whether at least one pool connection is up.
    pub fn is_healthy(&self) -> bool {
        self.inner.connected.load(Ordering::Relaxed) > 0
    }

    async fn submit<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job, down: T) -> T {
        let (tx, rx) = oneshot::channel();
        if self.inner.jobs.send(job(tx)).await.is_err() {
            return down;
        }
        rx.await.unwrap_or(down)
    }

    /// The prepaid interfaces (claims 3–8); answers once the change is committed.
    pub async fn request(&self, req: PrepaidRequest) -> PrepaidResponse {
        self.submit(
            |tx| Job::Op(req, tx),
            PrepaidResponse::Refused(Refusal::LedgerUnavailable),
        )
        .await
    }

    /// Several operations on one account, in order, in one transaction (one commit).
    pub async fn request_all(&self, reqs: Vec<PrepaidRequest>) -> Vec<PrepaidResponse> {
        match PrepaidRequest::batch_account(&reqs) {
            Ok(Some(_)) => {}
            Ok(None) => return Vec::new(),
            Err(r) => return vec![PrepaidResponse::Refused(r); reqs.len()],
        }
        let down = vec![PrepaidResponse::Refused(Refusal::LedgerUnavailable); reqs.len()];
        self.submit(|tx| Job::Ops(reqs, tx), down).await
    }

    /// Administrative operations: upsert, top-up, adjust, view.
    pub async fn admin(&self, req: AdminRequest) -> Result<AccountView, AdminError> {
        self.submit(|tx| Job::Admin(req, tx), Err(AdminError::LedgerUnavailable))
            .await
    }

    /// Create the account of an `Upsert` unless it exists (`Ok(true)` if created).
    pub async fn create_if_absent(&self, req: AdminRequest) -> Result<bool, AdminError> {
        self.submit(
            |tx| Job::Create(req, tx),
            Err(AdminError::LedgerUnavailable),
        )
        .await
    }

    /// A direct connection on the caller's tokio runtime, for benchmarks, tests and tools.
    pub async fn direct(&self) -> Result<Client, LedgerError> {
        connect(
            &self.inner.cfg.url,
            Duration::from_secs(self.inner.cfg.connect_timeout_secs.max(1)),
        )
        .await
    }

    /// Create `n` active accounts `{prefix}{i:06}` with `balance` each, in one statement
    /// (benchmarks and tests). Existing ids are left alone.
    pub async fn bulk_create(
        &self,
        prefix: &str,
        n: usize,
        balance: Money,
    ) -> Result<u64, LedgerError> {
        let c = self.direct().await?;
        c.execute(
            "INSERT INTO strowger_account (id, balance, state, opening)
             SELECT $1 || lpad(g::text, 6, '0'), $2, 'active', $2
             FROM generate_series(0::bigint, $3::bigint - 1) g ON CONFLICT (id) DO NOTHING",
            &[&prefix, &balance, &(n as i64)],
        )
        .await
        .map_err(|e| failed("bulk create", e))
    }

    /// Totals over the accounts whose id starts with `prefix`: (totals, Σ balance,
    /// Σ reserved, Σ reservation rows, accounts with balance < reserved).
    pub async fn reconcile(
        &self,
        prefix: &str,
    ) -> Result<(Totals, Money, Money, Money, i64), LedgerError> {
        let c = self.direct().await?;
        let like = format!("{}%", prefix.replace('%', "\\%").replace('_', "\\_"));
        let r = c
            .query_one(
                "SELECT coalesce(sum(opening),0)::bigint, coalesce(sum(topped_up),0)::bigint,
                        coalesce(sum(adjusted),0)::bigint, coalesce(sum(charged),0)::bigint,
                        coalesce(sum(balance),0)::bigint, coalesce(sum(reserved),0)::bigint,
                        (SELECT coalesce(sum(amount),0)::bigint FROM strowger_reservation
                         WHERE account LIKE $1),
                        count(*) FILTER (WHERE balance < reserved)
                 FROM strowger_account WHERE id LIKE $1",
                &[&like],
            )
            .await
            .map_err(|e| failed("reconcile", e))?;
        Ok((
            Totals {
                opening: r.get(0),
                topped_up: r.get(1),
                adjusted: r.get(2),
                charged: r.get(3),
            },
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
        ))
    }

    /// Delete the accounts whose id starts with `prefix`, with their reservations and
    /// remembered answers (benchmarks and tests).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), LedgerError> {
        let c = self.direct().await?;
        let like = format!("{}%", prefix.replace('%', "\\%").replace('_', "\\_"));
        c.batch_execute("BEGIN")
            .await
            .map_err(|e| failed("delete", e))?;
        for t in ["strowger_op", "strowger_reservation"] {
            c.execute(&format!("DELETE FROM {t} WHERE account LIKE $1"), &[&like])
                .await
                .map_err(|e| failed("delete", e))?;
        }
        c.execute("DELETE FROM strowger_account WHERE id LIKE $1", &[&like])
            .await
            .map_err(|e| failed("delete", e))?;
        c.batch_execute("COMMIT")
            .await
            .map_err(|e| failed("delete", e))?;
        Ok(())
    }
}
