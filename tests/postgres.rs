//! The PostgreSQL ledger backend (issue 8).
//!
//! - One behavioural suite (apply / reapply / deduct / return, idempotent retries, refusals,
//!   admin operations) runs against the embedded ledger and against PostgreSQL; both must give
//!   the expected answers, and the same transcript.
//! - Reservation expiry by the sweeper (return-all and charge-all).
//! - Two ledger instances ("nodes") racing on one poor account: no overdraft, money conserved.
//! - Two `strowger serve` processes sharing one database, driven at once over M3UA/TCAP/CAP on
//!   the same accounts (some too poor for all calls): no overdraft, money conserved, the CDRs
//!   of both nodes add up to what the ledger charged.
//! - One of them SIGKILLed mid-call: the survivor reclaims its reservations after the
//!   configured expiry, and nothing else is lost.
//!
//! The database comes from `STROWGER_TEST_PG` (a `postgres://` URL of a role that may create
//! databases); each test makes its own database and drops it afterwards. Without the variable
//! the PostgreSQL tests print SKIP — under `CI=true` they fail instead.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use strowger::ledger::{
    AccountDirectory, AccountState, AdminError, AdminRequest, ExpiryPolicy, Ledger, LedgerConfig,
    PgLedger, PostgresConfig, Prepaid,
};
use strowger::prepaid::{AccountId, CallId, OpKey, PrepaidRequest, PrepaidResponse, Refusal};
use strowger_cap::{EventTypeBcsm, OpCode};
use support::process::{ServeProcess, TOKEN};
use support::server::http;
use support::ssp::{acr, begin, cont, erb, idp, srr, Components, Reply, Ssp, CAP_V2};

// ----- the test database -----------------------------------------------------------------------

/// The server URL, or `None` (SKIP) when not configured; panics under CI.
fn pg_base() -> Option<String> {
    match std::env::var("STROWGER_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if support::in_ci() {
                panic!("STROWGER_TEST_PG must name a PostgreSQL database under CI=true");
            }
            eprintln!("SKIP: STROWGER_TEST_PG is not set; the PostgreSQL ledger test did not run");
            None
        }
    }
}

/// `url` with its database name replaced by `db`.
fn with_db(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = main.find("://").map_or(0, |i| i + 3);
    let base = match main[after_scheme..].find('/') {
        Some(i) => &main[..after_scheme + i],
        None => main,
    };
    format!("{base}/{db}{query}")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn pg_exec(url: &str, sql: &str) {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    let h = tokio::spawn(conn);
    c.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(c);
    let _ = h.await;
}

/// A database of its own for one test; dropped at the end.
struct TestDb {
    base: String,
    name: String,
    url: String,
}

impl TestDb {
    fn create(base: &str) -> TestDb {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "strowger_t{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        block_on(pg_exec(base, &format!("CREATE DATABASE {name}")));
        TestDb {
            base: base.to_owned(),
            url: with_db(base, &name),
            name,
        }
    }

    /// SQL on the test database; rows as text.
    fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        block_on(async {
            let (c, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            c.simple_query(sql)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    fn int(&self, sql: &str) -> i64 {
        self.query(sql)[0][0]
            .as_deref()
            .unwrap_or("0")
            .parse()
            .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Best effort; a server killed by a test may still hold a connection (FORCE ends it).
        let _ = std::thread::spawn(move || {
            block_on(pg_exec(
                &base,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ))
        })
        .join();
    }
}

fn pg_config(url: &str, expiry_secs: u64, policy: ExpiryPolicy) -> LedgerConfig {
    LedgerConfig {
        reservation_expiry_secs: expiry_secs,
        expiry_policy: policy,
        postgres: PostgresConfig {
            url: url.to_owned(),
            pool_size: 4,
            sweep_interval_ms: 200,
            ..PostgresConfig::default()
        },
        ..LedgerConfig::default()
    }
}

fn embedded(dir: &Path, expiry_secs: u64, policy: ExpiryPolicy) -> Prepaid {
    let ledger = Ledger::open(LedgerConfig {
        dir: dir.to_owned(),
        fsync: false,
        reservation_expiry_secs: expiry_secs,
        expiry_policy: policy,
        ..LedgerConfig::default()
    })
    .unwrap();
    Prepaid::Embedded(AccountDirectory::start(ledger, Vec::new()))
}

// ----- the behavioural suite -------------------------------------------------------------------

fn acc(s: &str) -> AccountId {
    AccountId::new(s)
}

fn key(call: u64, seq: u32) -> OpKey {
    OpKey {
        call: CallId(call),
        seq,
    }
}

async fn create(p: &Prepaid, id: &str, balance: i64, state: AccountState, expiry: Option<u64>) {
    p.admin(AdminRequest::Upsert {
        account: acc(id),
        state,
        expiry,
        opening_balance: balance,
    })
    .await
    .unwrap();
}

/// (balance, reserved, Σ reservations, charged) — and the account's invariants hold.
async fn state(p: &Prepaid, id: &str) -> (i64, i64, usize, i64) {
    let v = p
        .admin(AdminRequest::View { account: acc(id) })
        .await
        .unwrap();
    let sum: i64 = v.reservations.iter().map(|r| r.amount).sum();
    assert_eq!(sum, v.reserved, "{id}: reserved == Σ reservations");
    assert!(v.balance >= v.reserved, "{id}: no overdraft");
    let t = v.totals;
    assert_eq!(
        v.balance,
        t.opening + t.topped_up + t.adjusted - t.charged,
        "{id}: money conserved"
    );
    (v.balance, v.reserved, v.reservations.len(), t.charged)
}

fn apply(id: &str, k: OpKey, want: i64, min: i64) -> PrepaidRequest {
    PrepaidRequest::ApplyFee {
        key: k,
        account: acc(id),
        want,
        min,
    }
}
fn reapply(id: &str, k: OpKey, used: i64, want: i64, min: i64) -> PrepaidRequest {
    PrepaidRequest::Reapply {
        key: k,
        account: acc(id),
        used,
        want,
        min,
    }
}
fn deduct(id: &str, k: OpKey, used: i64) -> PrepaidRequest {
    PrepaidRequest::Deduct {
        key: k,
        account: acc(id),
        used,
    }
}
fn ret(id: &str, k: OpKey) -> PrepaidRequest {
    PrepaidRequest::Return {
        key: k,
        account: acc(id),
    }
}
fn auth(id: &str, min: i64) -> PrepaidRequest {
    PrepaidRequest::Authenticate {
        account: acc(id),
        min,
    }
}

use PrepaidResponse::{Authenticated, Deducted, Granted, Refused, Returned};

/// Run the suite; every answer is checked against the expected one and recorded.
async fn suite(p: &Prepaid) -> Vec<String> {
    let mut log = Vec::new();
    macro_rules! check {
        ($req:expr, $want:expr) => {{
            let req = $req;
            let got = p.request(req.clone()).await;
            assert_eq!(got, $want, "{req:?}");
            log.push(format!("{req:?} -> {got:?}"));
        }};
    }
    macro_rules! st {
        ($id:expr, $want:expr) => {{
            let got = state(p, $id).await;
            assert_eq!(got, $want, "state of {}", $id);
            log.push(format!("{} {got:?}", $id));
        }};
    }
    let active = AccountState::Active;

    // A whole call: apply, deduct, return.
    create(p, "S-1", 1000, active, None).await;
    check!(auth("S-1", 10), Authenticated { available: 1000 });
    check!(apply("S-1", key(1, 0), 600, 10), Granted { granted: 600 });
    st!("S-1", (1000, 600, 1, 0));
    check!(auth("S-1", 10), Authenticated { available: 400 });
    check!(deduct("S-1", key(1, 1), 250), Deducted { amount: 250 });
    st!("S-1", (750, 350, 1, 250));
    check!(ret("S-1", key(1, 2)), Returned { amount: 350 });
    st!("S-1", (750, 0, 0, 250));

    // Idempotent retries: the same answer, nothing changes (also after the call closed).
    check!(apply("S-1", key(1, 0), 600, 10), Granted { granted: 600 });
    check!(deduct("S-1", key(1, 1), 250), Deducted { amount: 250 });
    check!(ret("S-1", key(1, 2)), Returned { amount: 350 });

    // The way the SCP ends a call: Deduct and Return together (one group commit / one
    // transaction), each with its own key and answer; replayed as a pair or one by one.
    macro_rules! check_all {
        ($reqs:expr, $want:expr) => {{
            let reqs: Vec<PrepaidRequest> = $reqs;
            let got = p.request_all(reqs.clone()).await;
            assert_eq!(got, $want, "{reqs:?}");
            log.push(format!("{reqs:?} -> {got:?}"));
        }};
    }
    create(p, "S-1B", 1000, active, None).await;
    check!(apply("S-1B", key(2, 0), 300, 10), Granted { granted: 300 });
    let pair = || vec![deduct("S-1B", key(2, 1), 120), ret("S-1B", key(2, 2))];
    check_all!(
        pair(),
        vec![Deducted { amount: 120 }, Returned { amount: 180 }]
    );
    st!("S-1B", (880, 0, 0, 120));
    check_all!(
        pair(),
        vec![Deducted { amount: 120 }, Returned { amount: 180 }]
    );
    check!(ret("S-1B", key(2, 2)), Returned { amount: 180 });
    st!("S-1B", (880, 0, 0, 120));
    check_all!(
        vec![deduct("NOPE", key(2, 1), 1), ret("NOPE", key(2, 2))],
        vec![Refused(Refusal::UnknownAccount); 2]
    );

    // The way the SCP admits a prepaid call: Authenticate and ApplyFee together. The fee is
    // applied only if the authentication passes (claim 3): the second pair's ApplyFee alone
    // would be granted (20 available, 10 needed), but its Authenticate asks for 100.
    create(p, "S-1C", 50, active, None).await;
    check_all!(
        vec![auth("S-1C", 10), apply("S-1C", key(3, 0), 30, 10)],
        vec![Authenticated { available: 50 }, Granted { granted: 30 }]
    );
    st!("S-1C", (50, 30, 1, 0));
    check_all!(
        vec![auth("S-1C", 100), apply("S-1C", key(4, 0), 20, 10)],
        vec![Refused(Refusal::InsufficientBalance); 2]
    );
    st!("S-1C", (50, 30, 1, 0));
    st!("S-1", (750, 0, 0, 250));
    check!(apply("S-1", key(2, 0), 100, 10), Granted { granted: 100 });
    check!(apply("S-1", key(2, 0), 100, 10), Granted { granted: 100 });
    st!("S-1", (750, 100, 1, 250));

    // Grant = min(want, available) when ≥ max(min, 1); else refused.
    create(p, "S-2", 100, active, None).await;
    check!(apply("S-2", key(3, 0), 600, 10), Granted { granted: 100 });
    check!(
        apply("S-2", key(4, 0), 600, 1),
        Refused(Refusal::InsufficientBalance)
    );
    check!(auth("S-2", 1), Refused(Refusal::InsufficientBalance));
    check!(auth("S-2", 0), Authenticated { available: 0 });
    check!(ret("S-2", key(3, 1)), Returned { amount: 100 });
    check!(
        apply("S-2", key(5, 0), 600, 101),
        Refused(Refusal::InsufficientBalance)
    );
    check!(apply("S-2", key(5, 1), 600, 100), Granted { granted: 100 });
    // A refusal is not remembered: decided afresh on retry.
    check!(ret("S-2", key(5, 2)), Returned { amount: 100 });
    create(p, "S-0", 0, active, None).await;
    check!(
        apply("S-0", key(6, 0), 10, 0),
        Refused(Refusal::InsufficientBalance)
    );

    // Reapply: deduct used, return the rest, new grant — atomically; not additive.
    create(p, "S-3", 1000, active, None).await;
    check!(apply("S-3", key(7, 0), 300, 10), Granted { granted: 300 });
    check!(
        reapply("S-3", key(7, 1), 100, 300, 10),
        Granted { granted: 300 }
    );
    st!("S-3", (900, 300, 1, 100));
    // used above the reservation is clamped to it.
    check!(
        reapply("S-3", key(7, 2), 500, 1000, 10),
        Granted { granted: 600 }
    );
    st!("S-3", (600, 600, 1, 400));
    // A refused new slice still deducts what was used, and closes the reservation.
    check!(
        reapply("S-3", key(7, 3), 550, 100, 60),
        Refused(Refusal::InsufficientBalance)
    );
    st!("S-3", (50, 0, 0, 950));
    check!(
        reapply("S-3", key(7, 3), 550, 100, 60),
        Refused(Refusal::InsufficientBalance)
    );
    st!("S-3", (50, 0, 0, 950));
    // Nothing held, nothing granted: refused, no change.
    check!(
        reapply("S-3", key(8, 0), 0, 100, 60),
        Refused(Refusal::InsufficientBalance)
    );
    // ApplyFee on a call that holds a reservation replaces it (not additive).
    check!(apply("S-3", key(9, 0), 30, 1), Granted { granted: 30 });
    check!(apply("S-3", key(9, 1), 40, 1), Granted { granted: 40 });
    st!("S-3", (50, 40, 1, 950));
    // Deduct clamps to the reservation and keeps it open with the rest.
    check!(deduct("S-3", key(9, 2), 100), Deducted { amount: 40 });
    st!("S-3", (10, 0, 1, 990));
    check!(ret("S-3", key(9, 3)), Returned { amount: 0 });
    st!("S-3", (10, 0, 0, 990));
    // Deduct / Return without a reservation: nothing to do.
    check!(deduct("S-3", key(10, 0), 5), Deducted { amount: 0 });
    check!(ret("S-3", key(10, 1)), Returned { amount: 0 });
    st!("S-3", (10, 0, 0, 990));

    // Refusals by account state; settlement still works on a suspended account.
    check!(auth("NOPE", 1), Refused(Refusal::UnknownAccount));
    check!(
        apply("NOPE", key(11, 0), 10, 1),
        Refused(Refusal::UnknownAccount)
    );
    create(p, "S-4", 500, active, None).await;
    check!(apply("S-4", key(12, 0), 100, 1), Granted { granted: 100 });
    create(p, "S-4", 999_999, AccountState::Suspended, None).await;
    check!(auth("S-4", 1), Refused(Refusal::Suspended));
    check!(apply("S-4", key(13, 0), 10, 1), Refused(Refusal::Suspended));
    check!(
        reapply("S-4", key(12, 1), 60, 100, 1),
        Refused(Refusal::Suspended)
    );
    st!("S-4", (440, 0, 0, 60));
    create(p, "S-5", 500, AccountState::Expired, None).await;
    check!(auth("S-5", 1), Refused(Refusal::Expired));
    create(p, "S-6", 500, active, Some(1)).await;
    check!(apply("S-6", key(14, 0), 10, 1), Refused(Refusal::Expired));

    // Admin operations.
    let admin_log = |r: &Result<strowger::ledger::AccountView, AdminError>| match r {
        Ok(v) => format!("ok {} {}", v.balance, v.reserved),
        Err(e) => format!("err {e:?}"),
    };
    let r = p
        .admin(AdminRequest::TopUp {
            account: acc("S-2"),
            amount: 0,
        })
        .await;
    assert_eq!(r.as_ref().err(), Some(&AdminError::InvalidAmount));
    log.push(admin_log(&r));
    let r = p
        .admin(AdminRequest::TopUp {
            account: acc("S-2"),
            amount: 50,
        })
        .await;
    assert_eq!(r.as_ref().map(|v| v.balance).ok(), Some(150));
    log.push(admin_log(&r));
    check!(apply("S-2", key(15, 0), 100, 1), Granted { granted: 100 });
    let r = p
        .admin(AdminRequest::Adjust {
            account: acc("S-2"),
            amount: -51,
        })
        .await;
    assert_eq!(r.as_ref().err(), Some(&AdminError::WouldGoNegative));
    log.push(admin_log(&r));
    let r = p
        .admin(AdminRequest::Adjust {
            account: acc("S-2"),
            amount: -50,
        })
        .await;
    assert_eq!(
        r.as_ref().map(|v| (v.balance, v.available)).ok(),
        Some((100, 0))
    );
    log.push(admin_log(&r));
    let r = p
        .admin(AdminRequest::View {
            account: acc("NOPE"),
        })
        .await;
    assert_eq!(r.as_ref().err(), Some(&AdminError::UnknownAccount));
    log.push(admin_log(&r));
    let r = p
        .admin(AdminRequest::TopUp {
            account: acc("NOPE"),
            amount: 5,
        })
        .await;
    assert_eq!(r.as_ref().err(), Some(&AdminError::UnknownAccount));
    st!("S-2", (100, 100, 1, 0));
    // create_if_absent leaves an existing account alone.
    let created = p
        .create_if_absent(AdminRequest::Upsert {
            account: acc("S-2"),
            state: AccountState::Suspended,
            expiry: None,
            opening_balance: 7,
        })
        .await;
    assert_eq!(created, Ok(false));
    check!(auth("S-2", 0), Authenticated { available: 0 });
    log
}

/// Run `f` on an actix System (the embedded backend's actors need one).
fn on_system<T>(f: impl std::future::Future<Output = T>) -> T {
    actix::System::new().block_on(f)
}

#[test]
fn the_same_behaviour_on_the_embedded_ledger_and_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let embedded_log = on_system(async {
        let p = embedded(dir.path(), 3600, ExpiryPolicy::ReturnAll);
        suite(&p).await
    });
    let Some(base) = pg_base() else { return };
    let db = TestDb::create(&base);
    let pg_log = on_system(async {
        let p = Prepaid::Postgres(
            PgLedger::open(&pg_config(&db.url, 3600, ExpiryPolicy::ReturnAll)).unwrap(),
        );
        suite(&p).await
    });
    assert_eq!(
        embedded_log, pg_log,
        "both backends give the same transcript"
    );
    assert_eq!(
        db.int("SELECT count(*) FROM strowger_account WHERE balance < reserved"),
        0
    );
    // Migrations are recorded and re-opening applies none again.
    assert_eq!(db.int("SELECT count(*) FROM strowger_schema"), 1);
    on_system(async {
        let p = PgLedger::open(&pg_config(&db.url, 3600, ExpiryPolicy::ReturnAll)).unwrap();
        // The state survived: the ledger is the database.
        let v = p
            .admin(AdminRequest::View {
                account: acc("S-3"),
            })
            .await
            .unwrap();
        assert_eq!((v.balance, v.totals.charged), (10, 990));
    });
    assert_eq!(db.int("SELECT count(*) FROM strowger_schema"), 1);
}

async fn expiry_case(p: &Prepaid, policy: ExpiryPolicy) {
    create(p, "E-1", 1000, AccountState::Active, None).await;
    assert_eq!(
        p.request(apply("E-1", key(1, 0), 300, 1)).await,
        Granted { granted: 300 }
    );
    assert_eq!(
        p.request(deduct("E-1", key(1, 1), 100)).await,
        Deducted { amount: 100 }
    );
    assert_eq!(state(p, "E-1").await, (900, 200, 1, 100));
    let t = Instant::now();
    let mut s = state(p, "E-1").await;
    while s.1 != 0 && t.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        s = state(p, "E-1").await;
    }
    match policy {
        ExpiryPolicy::ReturnAll => assert_eq!(s, (900, 0, 0, 100), "returned"),
        ExpiryPolicy::ChargeAll => assert_eq!(s, (700, 0, 0, 300), "charged"),
    }
    // A late settlement of the expired call changes nothing more.
    assert_eq!(
        p.request(ret("E-1", key(1, 2))).await,
        Returned { amount: 0 }
    );
    assert_eq!(state(p, "E-1").await, s);
}

#[test]
fn reservations_expire_by_policy_on_both_backends() {
    for policy in [ExpiryPolicy::ReturnAll, ExpiryPolicy::ChargeAll] {
        let dir = tempfile::tempdir().unwrap();
        on_system(async {
            let p = embedded(dir.path(), 1, policy);
            expiry_case(&p, policy).await;
        });
    }
    let Some(base) = pg_base() else { return };
    for policy in [ExpiryPolicy::ReturnAll, ExpiryPolicy::ChargeAll] {
        let db = TestDb::create(&base);
        on_system(async {
            let p = Prepaid::Postgres(PgLedger::open(&pg_config(&db.url, 1, policy)).unwrap());
            expiry_case(&p, policy).await;
        });
    }
}

#[test]
fn two_ledger_nodes_racing_on_one_poor_account_never_overdraw() {
    let Some(base) = pg_base() else { return };
    let db = TestDb::create(&base);
    on_system(async {
        let cfg = pg_config(&db.url, 3600, ExpiryPolicy::ReturnAll);
        let nodes = [
            Prepaid::Postgres(PgLedger::open(&cfg).unwrap()),
            Prepaid::Postgres(PgLedger::open(&cfg).unwrap()),
        ];
        create(&nodes[0], "R-1", 1000, AccountState::Active, None).await;
        create(&nodes[0], "R-2", 1_000_000, AccountState::Active, None).await;
        let granted = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for i in 0..64u64 {
            let p = nodes[(i % 2) as usize].clone();
            let granted = granted.clone();
            tasks.push(actix_rt::spawn(async move {
                for n in 0..10u64 {
                    let call = (i << 32) | n;
                    let id = if n % 3 == 0 { "R-2" } else { "R-1" };
                    if let Granted { granted: g } = p.request(apply(id, key(call, 0), 40, 1)).await
                    {
                        if id == "R-1" {
                            granted.fetch_add(1, Ordering::Relaxed);
                        }
                        let used = g.min(25);
                        // Retried deduct: must be charged once.
                        let d = p.request(deduct(id, key(call, 1), used)).await;
                        assert_eq!(d, p.request(deduct(id, key(call, 1), used)).await);
                        p.request(ret(id, key(call, 2))).await;
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let (b1, r1, n1, c1) = state(&nodes[1], "R-1").await;
        assert_eq!((r1, n1), (0, 0));
        assert_eq!(b1 + c1, 1000, "R-1 conserved");
        assert!(b1 >= 0);
        let (b2, r2, _, c2) = state(&nodes[0], "R-2").await;
        assert_eq!(r2, 0);
        assert_eq!(b2 + c2, 1_000_000, "R-2 conserved");
        assert!(granted.load(Ordering::Relaxed) > 0);
        assert!(c1 > 0, "the poor account was charged");
    });
    assert_eq!(
        db.int("SELECT count(*) FROM strowger_account WHERE balance < reserved OR balance < 0"),
        0
    );
}

// ----- two `strowger serve` processes ---------------------------------------------------------

/// A `strowger serve` child process with the PostgreSQL ledger.
struct Node(ServeProcess);

impl std::ops::Deref for Node {
    type Target = ServeProcess;
    fn deref(&self) -> &ServeProcess {
        &self.0
    }
}

impl std::ops::DerefMut for Node {
    fn deref_mut(&mut self) -> &mut ServeProcess {
        &mut self.0
    }
}

impl Node {
    fn start(id: u16, url: &str, expiry_secs: u64) -> Node {
        Node(ServeProcess::start(
            &format!("id = {id}"),
            &format!(
                r#"
[ledger]
backend = "postgres"
reservation_expiry_secs = {expiry_secs}
[ledger.postgres]
url = "{url}"
pool_size = 4
sweep_interval_ms = 200
"#
            ),
        ))
    }

    fn view(&self, account: &str) -> Value {
        let (s, v) = http(
            self.admin,
            "GET",
            &format!("/accounts/{account}"),
            None,
            None,
        );
        assert_eq!(s, 200, "{v}");
        v
    }

    fn set_balance(&self, account: &str, target: i64) {
        let b = self.view(account)["balance"].as_i64().unwrap();
        if b != target {
            let (s, v) = http(
                self.admin,
                "POST",
                &format!("/accounts/{account}/adjust"),
                Some(TOKEN),
                Some(&json!({ "amount": target - b })),
            );
            assert_eq!(s, 200, "{v}");
        }
    }
}

const RRBE: i64 = OpCode::REQUEST_REPORT_BCSM_EVENT.0;
const AC: i64 = OpCode::APPLY_CHARGING.0;
const CONNECT: i64 = OpCode::CONNECT.0;
const PA: i64 = OpCode::PLAY_ANNOUNCEMENT.0;

/// Load-test member `i` (examples/provisioning.toml): number and account.
fn member(i: usize) -> (String, String) {
    (
        format!("{}", 12125560000u64 + i as u64),
        format!("LOAD-{i:06}"),
    )
}

/// One SSP dialogue.
struct Call {
    tid: strowger_tcap::TransactionId,
    scp: u32,
    next: i8,
}

impl Call {
    fn send(&mut self, ssp: &mut Ssp, invokes: &[(OpCode, Vec<u8>)]) {
        let mut c = Components::default();
        for (op, p) in invokes {
            c = c.raw_invoke(self.next, op.0, Some(p));
            self.next += 1;
        }
        ssp.send_tcap(&cont(self.tid, self.scp, &c));
    }
}

/// Start a call from `calling` to Alice's extension (on-net, 2 per minute, 60/60: a 120 s
/// slice is 4). `Some` if connected with a charging period, after answering it.
fn start_call(ssp: &mut Ssp, calling: &str) -> Result<(Call, u32), Box<Reply>> {
    let tid = ssp.tid();
    ssp.send_tcap(&begin(
        tid,
        CAP_V2,
        &Components::default().raw_invoke(
            1,
            OpCode::INITIAL_DP.0,
            Some(&idp(100, calling, "0101")),
        ),
    ));
    let r = ssp.expect();
    let mut call = Call {
        tid,
        scp: r.otid.unwrap_or(0),
        next: 2,
    };
    if r.opcodes() != [RRBE, AC, CONNECT] {
        if r.opcodes().contains(&PA) {
            call.send(ssp, &[(OpCode::SPECIALIZED_RESOURCE_REPORT, srr())]);
            let end = ssp.expect();
            assert_eq!(end.kind, "end", "{end:?}");
        } else {
            assert_eq!(r.kind, "end", "{r:?}");
        }
        return Err(Box::new(r));
    }
    let (period, _, _) = r.apply_charging().unwrap();
    call.send(
        ssp,
        &[(OpCode::EVENT_REPORT_BCSM, erb(EventTypeBcsm::O_ANSWER, 2))],
    );
    Ok((call, period))
}

/// Finish a connected call: one more period if the slice was full, then hang up.
fn finish_call(ssp: &mut Ssp, mut call: Call, period: u32) -> &'static str {
    let mut elapsed = period;
    if period == 1200 {
        call.send(ssp, &[(OpCode::APPLY_CHARGING_REPORT, acr(1200, true))]);
        let r = ssp.expect();
        if r.kind == "end" {
            return "released_for_credit";
        }
        assert_eq!(r.opcodes(), vec![AC], "{r:?}");
        let (next, _, _) = r.apply_charging().unwrap();
        elapsed = 1200 + next.min(300);
    }
    call.send(
        ssp,
        &[
            (OpCode::APPLY_CHARGING_REPORT, acr(elapsed, false)),
            (
                OpCode::EVENT_REPORT_BCSM,
                erb(EventTypeBcsm::O_DISCONNECT, 1),
            ),
        ],
    );
    let end = ssp.expect();
    assert_eq!(end.kind, "end", "{end:?}");
    "answered"
}

fn wait_settled(node: &Node, account: &str) -> Value {
    let t = Instant::now();
    loop {
        let v = node.view(account);
        if v["reserved"] == 0 || t.elapsed() > Duration::from_secs(20) {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_books(v: &Value) {
    let n = |f: &str| v[f].as_i64().unwrap();
    let t = &v["totals"];
    let tn = |f: &str| t[f].as_i64().unwrap();
    assert!(n("balance") >= 0, "{v}");
    assert!(n("available") >= 0, "no overdraft: {v}");
    assert_eq!(
        n("balance"),
        tn("opening") + tn("topped_up") + tn("adjusted") - tn("charged"),
        "money conserved: {v}"
    );
}

#[test]
fn two_serve_processes_share_the_accounts_without_overdraft() {
    let Some(base) = pg_base() else { return };
    let db = TestDb::create(&base);
    let mut a = Node::start(1, &db.url, 3600);
    let mut b = Node::start(2, &db.url, 3600);
    // Members 0..4: two rich accounts, two too poor for all the calls made on them.
    let balances = [10_000i64, 10_000, 30, 17];
    for (i, &bal) in balances.iter().enumerate() {
        a.set_balance(&member(i).1, bal);
    }
    for (i, &bal) in balances.iter().enumerate() {
        assert_eq!(
            b.view(&member(i).1)["balance"],
            bal,
            "both nodes see one ledger"
        );
    }
    // The admin API names the backend; snapshots are the embedded ledger's alone.
    let (s, v) = http(a.admin, "GET", "/ledger", None, None);
    assert_eq!((s, v["backend"].as_str()), (200, Some("postgres")), "{v}");
    let (s, v) = http(a.admin, "POST", "/ledger/snapshot", Some(TOKEN), None);
    assert_eq!(s, 409, "{v}");
    let calls_per_thread = 6;
    let (addrs, outcomes) = (
        [a.m3ua, b.m3ua],
        Arc::new(parking_lot::Mutex::new(Vec::new())),
    );
    let mut threads = Vec::new();
    for (node, &addr) in addrs.iter().enumerate() {
        for m in 0..balances.len() {
            for _ in 0..2 {
                let outcomes = outcomes.clone();
                threads.push(std::thread::spawn(move || {
                    let mut ssp = Ssp::connect(addr);
                    let (number, account) = member(m);
                    for _ in 0..calls_per_thread {
                        let o = match start_call(&mut ssp, &number) {
                            Ok((call, period)) => finish_call(&mut ssp, call, period),
                            Err(_) => "refused",
                        };
                        outcomes.lock().push((node, account.clone(), o));
                    }
                }));
            }
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    let outcomes = outcomes.lock().clone();
    let mut after = Vec::new();
    for (i, _) in balances.iter().enumerate() {
        let v = wait_settled(&b, &member(i).1);
        assert_eq!(v["reserved"], 0, "nothing stays reserved: {v}");
        assert_books(&v);
        after.push(v["balance"].as_i64().unwrap());
    }
    assert_eq!(
        db.int("SELECT count(*) FROM strowger_account WHERE balance < reserved"),
        0
    );
    assert_eq!(db.int("SELECT count(*) FROM strowger_reservation"), 0);
    // The poor accounts ran out: some calls were refused or cut off, on both nodes.
    for m in [2, 3] {
        let acc = member(m).1;
        let refused = outcomes
            .iter()
            .filter(|(_, a, o)| *a == acc && *o != "answered")
            .count();
        assert!(refused > 0, "{acc}: some calls must be refused");
        assert!(after[m] < balances[m], "{acc}: charged");
    }
    for node in 0..2 {
        assert!(outcomes
            .iter()
            .any(|(n, _, o)| *n == node && *o == "answered"));
    }
    // The CDRs of both nodes add up to what the shared ledger charged, per account.
    a.stop();
    b.stop();
    let cdrs: Vec<Value> = a.cdrs().into_iter().chain(b.cdrs()).collect();
    assert_eq!(cdrs.len(), outcomes.len(), "one CDR per call");
    for (i, &before) in balances.iter().enumerate() {
        let acc = member(i).1;
        let charged: i64 = cdrs
            .iter()
            .filter(|c| c["account"] == acc.as_str())
            .map(|c| c["charged"].as_i64().unwrap())
            .sum();
        assert_eq!(
            charged,
            before - after[i],
            "{acc}: Σ CDR charged == Δ balance"
        );
    }
}

#[test]
fn a_killed_node_s_reservations_are_reclaimed_by_the_survivor() {
    let Some(base) = pg_base() else { return };
    let db = TestDb::create(&base);
    let expiry = 2;
    let mut a = Node::start(1, &db.url, expiry);
    let b = Node::start(2, &db.url, expiry);
    let (number, account) = member(10);
    let before = 10_000;
    a.set_balance(&account, before);
    // Complete calls on both nodes first.
    let mut completed = 0;
    for addr in [a.m3ua, b.m3ua] {
        let mut ssp = Ssp::connect(addr);
        for _ in 0..3 {
            let (call, period) = start_call(&mut ssp, &number).expect("granted");
            assert_eq!(finish_call(&mut ssp, call, period), "answered");
            completed += 1;
        }
    }
    // Calls in progress on A, then A dies without a word.
    let mut ssp_a = Ssp::connect(a.m3ua);
    let held: Vec<_> = (0..3)
        .map(|_| start_call(&mut ssp_a, &number).expect("granted"))
        .collect();
    let opened = Instant::now();
    let v = b.view(&account);
    assert_eq!(v["reserved"], 12, "three 4-unit slices held by A: {v}");
    a.kill9();
    drop(held);
    drop(ssp_a);
    // B keeps serving calls on the same account meanwhile, until none of A's reservations
    // (call ids carry the node id in their top 16 bits) is left.
    let held_by_a = |v: &Value| {
        v["reservations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["call"].as_u64().unwrap() >> 48 == 1)
            .count()
    };
    let mut ssp_b = Ssp::connect(b.m3ua);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        let (call, period) = start_call(&mut ssp_b, &number).expect("granted");
        assert_eq!(finish_call(&mut ssp_b, call, period), "answered");
        completed += 1;
        if held_by_a(&b.view(&account)) == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let reclaimed = opened.elapsed();
    let v = wait_settled(&b, &account);
    assert_eq!(held_by_a(&v), 0, "A's reservations reclaimed: {v}");
    assert_eq!(v["reserved"], 0, "nothing else reserved: {v}");
    assert!(
        reclaimed >= Duration::from_secs(expiry - 1),
        "not before the expiry ({reclaimed:?})"
    );
    assert_books(&v);
    // Nothing else lost: every completed call (150 s on-net = 3 minutes at 2) charged exactly
    // once, the dead calls' reservations returned (return_all).
    assert_eq!(
        v["balance"].as_i64().unwrap(),
        before - 6 * completed,
        "{completed} completed calls: {v}"
    );
    assert_eq!(db.int("SELECT count(*) FROM strowger_reservation"), 0);
    drop(b);
}
