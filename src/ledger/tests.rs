//! Ledger tests: the account state machine, a property test over random interleavings,
//! recovery, torn tails and corruption, fault injection, and the actors.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use proptest::prelude::*;

use super::journal::{list_segments, segment_path, SegmentFile, Storage};
use super::*;
use crate::prepaid::{AccountId, CallId, Money, OpKey, PrepaidRequest, PrepaidResponse, Refusal};

fn id(s: &str) -> AccountId {
    AccountId::new(s)
}
fn key(call: u64, seq: u32) -> OpKey {
    OpKey {
        call: CallId(call),
        seq,
    }
}
fn rules() -> Rules {
    Rules {
        reservation_expiry_secs: 100,
        ..Rules::default()
    }
}

/// Decide + apply on a plain map, as the actor does, without a ledger.
fn step(
    acct: &mut Account,
    req: &PrepaidRequest,
    now: u64,
    r: &Rules,
) -> (PrepaidResponse, Option<Event>) {
    match acct.decide(req, now, r) {
        Err(x) => (PrepaidResponse::Refused(x), None),
        Ok(Decision::Reply(x)) => (x, None),
        Ok(Decision::Change(ev)) => (acct.apply(&ev, r), Some(ev)),
    }
}

// ---------------------------------------------------------------- account state machine

#[test]
fn full_cycle_charges_used_and_returns_rest() {
    let r = rules();
    let mut a = Account::new(id("A"), 1000);
    let auth = PrepaidRequest::Authenticate {
        account: id("A"),
        min: 100,
    };
    assert_eq!(
        step(&mut a, &auth, 0, &r).0,
        PrepaidResponse::Authenticated { available: 1000 }
    );
    let apply = PrepaidRequest::ApplyFee {
        key: key(1, 0),
        account: id("A"),
        want: 600,
        min: 100,
    };
    assert_eq!(
        step(&mut a, &apply, 0, &r).0,
        PrepaidResponse::Granted { granted: 600 }
    );
    assert_eq!((a.balance, a.reserved, a.available()), (1000, 600, 400));
    // A second call only gets what is left.
    let apply2 = PrepaidRequest::ApplyFee {
        key: key(2, 0),
        account: id("A"),
        want: 600,
        min: 100,
    };
    assert_eq!(
        step(&mut a, &apply2, 0, &r).0,
        PrepaidResponse::Granted { granted: 400 }
    );
    let apply3 = PrepaidRequest::ApplyFee {
        key: key(3, 0),
        account: id("A"),
        want: 600,
        min: 1,
    };
    assert_eq!(
        step(&mut a, &apply3, 0, &r).0,
        PrepaidResponse::Refused(Refusal::InsufficientBalance)
    );
    let deduct = PrepaidRequest::Deduct {
        key: key(1, 1),
        account: id("A"),
        used: 250,
    };
    assert_eq!(
        step(&mut a, &deduct, 1, &r).0,
        PrepaidResponse::Deducted { amount: 250 }
    );
    let ret = PrepaidRequest::Return {
        key: key(1, 2),
        account: id("A"),
    };
    assert_eq!(
        step(&mut a, &ret, 1, &r).0,
        PrepaidResponse::Returned { amount: 350 }
    );
    assert_eq!((a.balance, a.reserved), (750, 400));
    // Retries answer the same and change nothing.
    let before = a.clone();
    assert_eq!(
        step(&mut a, &deduct, 2, &r).0,
        PrepaidResponse::Deducted { amount: 250 }
    );
    assert_eq!(
        step(&mut a, &apply, 2, &r).0,
        PrepaidResponse::Granted { granted: 600 }
    );
    assert_eq!(
        step(&mut a, &ret, 2, &r).0,
        PrepaidResponse::Returned { amount: 350 }
    );
    assert_eq!(a, before);
    // Settling a closed reservation is a no-op.
    let late = PrepaidRequest::Return {
        key: key(1, 3),
        account: id("A"),
    };
    assert_eq!(
        step(&mut a, &late, 2, &r).0,
        PrepaidResponse::Returned { amount: 0 }
    );
    a.check_invariants().unwrap();
}

#[test]
fn authenticate_checks_validity_and_balance() {
    let r = rules();
    let mut a = Account::new(id("A"), 50);
    let auth = |min| PrepaidRequest::Authenticate {
        account: id("A"),
        min,
    };
    assert_eq!(
        a.decide(&auth(51), 0, &r),
        Err(Refusal::InsufficientBalance)
    );
    a.expiry = Some(10);
    assert_eq!(a.decide(&auth(1), 10, &r), Err(Refusal::Expired));
    assert!(a.decide(&auth(1), 9, &r).is_ok());
    a.state = AccountState::Suspended;
    assert_eq!(a.decide(&auth(1), 0, &r), Err(Refusal::Suspended));
    a.state = AccountState::Expired;
    assert_eq!(a.decide(&auth(1), 0, &r), Err(Refusal::Expired));
}

#[test]
fn reapply_is_atomic_and_not_additive() {
    let r = rules();
    let mut a = Account::new(id("A"), 1000);
    let apply = PrepaidRequest::ApplyFee {
        key: key(1, 0),
        account: id("A"),
        want: 300,
        min: 10,
    };
    step(&mut a, &apply, 0, &r);
    // used 300, next slice wants 800: the old reservation is settled first, so 700 is available.
    let re = PrepaidRequest::Reapply {
        key: key(1, 1),
        account: id("A"),
        used: 300,
        want: 800,
        min: 10,
    };
    assert_eq!(
        step(&mut a, &re, 5, &r).0,
        PrepaidResponse::Granted { granted: 700 }
    );
    assert_eq!((a.balance, a.reserved), (700, 700));
    assert_eq!(a.reservations[&CallId(1)].deadline, 105);
    // Suspended mid-call: used is still deducted, the reservation closes.
    a.state = AccountState::Suspended;
    let re2 = PrepaidRequest::Reapply {
        key: key(1, 2),
        account: id("A"),
        used: 100,
        want: 800,
        min: 10,
    };
    assert_eq!(
        step(&mut a, &re2, 6, &r).0,
        PrepaidResponse::Refused(Refusal::Suspended)
    );
    assert_eq!((a.balance, a.reserved), (600, 0));
    assert!(a.reservations.is_empty());
    a.check_invariants().unwrap();
}

#[test]
fn deduct_is_clamped_to_reservation() {
    let r = rules();
    let mut a = Account::new(id("A"), 1000);
    step(
        &mut a,
        &PrepaidRequest::ApplyFee {
            key: key(1, 0),
            account: id("A"),
            want: 100,
            min: 1,
        },
        0,
        &r,
    );
    let d = PrepaidRequest::Deduct {
        key: key(1, 1),
        account: id("A"),
        used: 500,
    };
    assert_eq!(
        step(&mut a, &d, 0, &r).0,
        PrepaidResponse::Deducted { amount: 100 }
    );
    assert_eq!((a.balance, a.reserved), (900, 0));
    let ret = PrepaidRequest::Return {
        key: key(1, 2),
        account: id("A"),
    };
    assert_eq!(
        step(&mut a, &ret, 0, &r).0,
        PrepaidResponse::Returned { amount: 0 }
    );
    a.check_invariants().unwrap();
}

#[test]
fn expiry_policies() {
    for (policy, balance) in [
        (ExpiryPolicy::ReturnAll, 1000),
        (ExpiryPolicy::ChargeAll, 700),
    ] {
        let r = Rules {
            expiry_policy: policy,
            ..rules()
        };
        let mut a = Account::new(id("A"), 1000);
        step(
            &mut a,
            &PrepaidRequest::ApplyFee {
                key: key(1, 0),
                account: id("A"),
                want: 300,
                min: 1,
            },
            0,
            &r,
        );
        assert!(a.decide_expiry(99, &r).is_empty());
        assert_eq!(a.next_deadline(), Some(100));
        let evs = a.decide_expiry(100, &r);
        assert_eq!(evs.len(), 1);
        a.apply(&evs[0], &r);
        assert_eq!((a.balance, a.reserved), (balance, 0));
        // A late Return after expiry returns nothing more.
        let ret = PrepaidRequest::Return {
            key: key(1, 1),
            account: id("A"),
        };
        assert_eq!(
            step(&mut a, &ret, 101, &r).0,
            PrepaidResponse::Returned { amount: 0 }
        );
        a.check_invariants().unwrap();
    }
}

#[test]
fn admin_operations() {
    let now = 0;
    let up = AdminRequest::Upsert {
        account: id("A"),
        state: AccountState::Active,
        expiry: None,
        opening_balance: 10,
    };
    let ev = Account::decide_admin(None, &up, now).unwrap().unwrap();
    let mut slot = None;
    Account::apply_to(&mut slot, &ev, &rules());
    let a = slot.as_mut().unwrap();
    assert_eq!(a.balance, 10);
    let top = AdminRequest::TopUp {
        account: id("A"),
        amount: 5,
    };
    a.apply(
        &Account::decide_admin(Some(a), &top, now).unwrap().unwrap(),
        &rules(),
    );
    assert_eq!(a.balance, 15);
    let adj = AdminRequest::Adjust {
        account: id("A"),
        amount: -16,
    };
    assert_eq!(
        Account::decide_admin(Some(a), &adj, now),
        Err(AdminError::WouldGoNegative)
    );
    let bad = AdminRequest::TopUp {
        account: id("A"),
        amount: 0,
    };
    assert_eq!(
        Account::decide_admin(Some(a), &bad, now),
        Err(AdminError::InvalidAmount)
    );
    assert_eq!(
        Account::decide_admin(None, &top, now),
        Err(AdminError::UnknownAccount)
    );
    a.check_invariants().unwrap();
}

#[test]
fn memo_is_pruned_by_time_and_count() {
    let r = Rules {
        memo_retention_secs: 10,
        memo_max_closed_calls: 2,
        ..rules()
    };
    let mut a = Account::new(id("A"), 1_000_000);
    for c in 0..5u64 {
        step(
            &mut a,
            &PrepaidRequest::ApplyFee {
                key: key(c, 0),
                account: id("A"),
                want: 10,
                min: 1,
            },
            c,
            &r,
        );
        step(
            &mut a,
            &PrepaidRequest::Return {
                key: key(c, 1),
                account: id("A"),
            },
            c,
            &r,
        );
    }
    assert_eq!(a.closed.len(), 2);
    assert!(a.remembered(key(0, 0)).is_none());
    assert!(a.remembered(key(4, 1)).is_some());
    step(
        &mut a,
        &PrepaidRequest::ApplyFee {
            key: key(9, 0),
            account: id("A"),
            want: 10,
            min: 1,
        },
        100,
        &r,
    );
    assert!(a.closed.is_empty());
    assert!(
        a.remembered(key(9, 0)).is_some(),
        "open calls are always remembered"
    );
}

// ---------------------------------------------------------------- property test

#[derive(Debug, Clone)]
enum Op {
    Apply {
        call: u64,
        want: Money,
        min: Money,
    },
    Reapply {
        call: u64,
        used: Money,
        want: Money,
        min: Money,
    },
    Deduct {
        call: u64,
        used: Money,
    },
    Return {
        call: u64,
    },
    TopUp {
        acct: usize,
        amount: Money,
    },
    Adjust {
        acct: usize,
        amount: Money,
    },
    Advance {
        secs: u64,
    },
    Retry {
        idx: usize,
    },
}

const ACCOUNTS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let call = 0u64..8;
    prop_oneof![
        (call.clone(), 0i64..400, 0i64..100).prop_map(|(call, want, min)| Op::Apply {
            call,
            want,
            min
        }),
        (call.clone(), -10i64..300, 0i64..400, 0i64..100).prop_map(|(call, used, want, min)| {
            Op::Reapply {
                call,
                used,
                want,
                min,
            }
        }),
        (call.clone(), -10i64..300).prop_map(|(call, used)| Op::Deduct { call, used }),
        call.prop_map(|call| Op::Return { call }),
        (0..ACCOUNTS, 1i64..300).prop_map(|(acct, amount)| Op::TopUp { acct, amount }),
        (0..ACCOUNTS, -300i64..300).prop_map(|(acct, amount)| Op::Adjust { acct, amount }),
        (0u64..80).prop_map(|secs| Op::Advance { secs }),
        any::<usize>().prop_map(|idx| Op::Retry { idx }),
    ]
}

/// An independent model of live reservations: checks each is settled exactly once, in full.
fn track(model: &mut HashMap<(usize, CallId), Money>, acct: usize, ev: &Event) {
    let take = |model: &mut HashMap<_, Money>, c| model.remove(&(acct, c)).unwrap_or(0);
    match ev.kind {
        EventKind::Applied { key, granted, .. } => {
            assert!(
                model.insert((acct, key.call), granted).is_none(),
                "applied over a live reservation"
            );
        }
        EventKind::Reapplied {
            key,
            used,
            returned,
            granted,
            ..
        } => {
            assert_eq!(
                take(model, key.call),
                used + returned,
                "reapply must settle the whole old reservation"
            );
            if granted > 0 {
                model.insert((acct, key.call), granted);
            }
        }
        EventKind::Deducted { key, amount, .. } => {
            let r = model
                .get_mut(&(acct, key.call))
                .expect("deduct without reservation");
            assert!(amount <= *r);
            *r -= amount;
        }
        EventKind::Returned { key, amount } => {
            assert_eq!(
                model.remove(&(acct, key.call)),
                Some(amount),
                "return must close what is left"
            );
        }
        EventKind::Expired {
            call,
            charged,
            returned,
        } => {
            assert_eq!(
                model.remove(&(acct, call)),
                Some(charged + returned),
                "expiry settles it all"
            );
        }
        _ => {}
    }
}

fn run_model(ops: &[Op], policy: ExpiryPolicy) -> Vec<(u64, Event)> {
    let r = Rules {
        expiry_policy: policy,
        memo_retention_secs: u64::MAX / 4,
        memo_max_closed_calls: 1 << 20,
        ..rules()
    };
    let mut accts: Vec<Account> = (0..ACCOUNTS)
        .map(|i| Account::new(id(&format!("P{i}")), 500))
        .collect();
    let mut seqs: HashMap<u64, u32> = HashMap::new();
    let mut history: Vec<(usize, PrepaidRequest, PrepaidResponse)> = Vec::new();
    let mut model = HashMap::new();
    let mut journal = Vec::new();
    let mut now = 1_000u64;
    let initial: Money = accts.iter().map(|a| a.balance).sum();
    let (mut topups, mut adjusts) = (0, 0);
    for op in ops {
        let mut req_for = |call: u64, f: &dyn Fn(OpKey, AccountId) -> PrepaidRequest| {
            let s = seqs.entry(call).or_default();
            *s += 1;
            let acct = (call as usize) % ACCOUNTS;
            (acct, f(key(call, *s), accts[acct].id.clone()))
        };
        let req = match *op {
            Op::Apply { call, want, min } => {
                Some(req_for(call, &|key, account| PrepaidRequest::ApplyFee {
                    key,
                    account,
                    want,
                    min,
                }))
            }
            Op::Reapply {
                call,
                used,
                want,
                min,
            } => Some(req_for(call, &|key, account| PrepaidRequest::Reapply {
                key,
                account,
                used,
                want,
                min,
            })),
            Op::Deduct { call, used } => Some(req_for(call, &|key, account| {
                PrepaidRequest::Deduct { key, account, used }
            })),
            Op::Return { call } => Some(req_for(call, &|key, account| PrepaidRequest::Return {
                key,
                account,
            })),
            Op::TopUp { acct, amount } => {
                let req = AdminRequest::TopUp {
                    account: accts[acct].id.clone(),
                    amount,
                };
                if let Ok(Some(ev)) = Account::decide_admin(Some(&accts[acct]), &req, now) {
                    accts[acct].apply(&ev, &r);
                    topups += amount;
                    journal.push((acct as u64, ev));
                }
                None
            }
            Op::Adjust { acct, amount } => {
                let req = AdminRequest::Adjust {
                    account: accts[acct].id.clone(),
                    amount,
                };
                if let Ok(Some(ev)) = Account::decide_admin(Some(&accts[acct]), &req, now) {
                    accts[acct].apply(&ev, &r);
                    adjusts += amount;
                    journal.push((acct as u64, ev));
                }
                None
            }
            Op::Advance { secs } => {
                now += secs;
                for (i, a) in accts.iter_mut().enumerate() {
                    for ev in a.decide_expiry(now, &r) {
                        track(&mut model, i, &ev);
                        a.apply(&ev, &r);
                        journal.push((i as u64, ev));
                    }
                    assert!(a.next_deadline().map_or(true, |d| d > now));
                }
                None
            }
            Op::Retry { idx } => {
                if !history.is_empty() {
                    let (acct, req, resp) = history[idx % history.len()].clone();
                    let before = accts[acct].clone();
                    match accts[acct].decide(&req, now, &r) {
                        Ok(Decision::Reply(again)) => assert_eq!(again, resp, "retry of {req:?}"),
                        other => panic!("retry of {req:?} decided {other:?}"),
                    }
                    assert_eq!(accts[acct], before);
                }
                None
            }
        };
        if let Some((acct, req)) = req {
            let a = &mut accts[acct];
            let earliest = a.next_deadline();
            let (resp, ev) = step(a, &req, now, &r);
            // The account actor checks only the deadline a change gives (`EventKind::deadline`)
            // against its alarm: no other change may bring the earliest deadline sooner.
            if let Some(after) = a.next_deadline() {
                let given = ev.as_ref().and_then(|e| e.kind.deadline());
                let bound = match (earliest, given) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
                assert!(
                    bound.is_some_and(|b| after >= b),
                    "{req:?}: earliest deadline {after} before {bound:?}"
                );
            }
            if let PrepaidRequest::ApplyFee { want, min, .. }
            | PrepaidRequest::Reapply { want, min, .. } = req
            {
                if let PrepaidResponse::Granted { granted } = resp {
                    assert!(granted <= want && granted >= min && granted > 0);
                }
            }
            if let Some(ev) = ev {
                track(&mut model, acct, &ev);
                history.push((acct, req, resp));
                journal.push((acct as u64, ev));
            }
        }
        // Invariants after every step.
        let mut charged = 0;
        for (i, a) in accts.iter().enumerate() {
            a.check_invariants().unwrap();
            charged += a.totals.charged;
            let mine: BTreeMap<CallId, Money> = model
                .iter()
                .filter(|((j, _), _)| *j == i)
                .map(|((_, c), m)| (*c, *m))
                .collect();
            let theirs: BTreeMap<CallId, Money> =
                a.reservations.iter().map(|(c, r)| (*c, r.amount)).collect();
            assert_eq!(mine, theirs, "reservations of {}", a.id);
        }
        let balances: Money = accts.iter().map(|a| a.balance).sum();
        assert_eq!(
            balances + charged,
            initial + topups + adjusts,
            "money conserved"
        );
    }
    journal
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn random_interleavings_keep_invariants(ops in prop::collection::vec(op(), 1..120), charge in any::<bool>()) {
        let policy = if charge { ExpiryPolicy::ChargeAll } else { ExpiryPolicy::ReturnAll };
        let journal = run_model(&ops, policy);
        // Replaying the journal from scratch gives the same accounts.
        let r = Rules { expiry_policy: policy, memo_retention_secs: u64::MAX / 4, memo_max_closed_calls: 1 << 20, ..rules() };
        let mut replayed: Vec<Account> = (0..ACCOUNTS).map(|i| Account::new(id(&format!("P{i}")), 500)).collect();
        for (i, ev) in &journal {
            replayed[*i as usize].apply(ev, &r);
        }
        for a in &replayed {
            a.check_invariants().unwrap();
        }
    }
}

// ---------------------------------------------------------------- ledger: recovery

fn cfg(dir: &Path) -> LedgerConfig {
    LedgerConfig {
        dir: dir.to_path_buf(),
        fsync: false,
        ..LedgerConfig::default()
    }
}

/// A ledger whose snapshots are taken only on request, in segments of `segment_bytes`.
fn on_request(dir: &Path, segment_bytes: u64) -> LedgerConfig {
    LedgerConfig {
        segment_bytes,
        snapshot_every_records: u64::MAX,
        snapshot_every_secs: 3600,
        ..cfg(dir)
    }
}

/// Drives a ledger the way the actors do, keeping the expected state beside it.
struct Driver {
    ledger: Ledger,
    state: HashMap<AccountId, Account>,
    last: u64,
    /// The time its operations happen at: recent by default, so that a snapshot's sweep of
    /// idempotency memory past its retention (wall clock) leaves them alone.
    t0: u64,
}

impl Driver {
    fn new(ledger: Ledger) -> Self {
        let state = ledger
            .account_ids()
            .into_iter()
            .filter_map(|i| ledger.account(&i).map(|a| (i, a)))
            .collect();
        Driver {
            ledger,
            state,
            last: 0,
            t0: unix_now().saturating_sub(100),
        }
    }
    fn commit(&mut self, ev: Event) -> Result<u64, Refusal> {
        let seq = self.ledger.submit(ev.clone())?;
        let mut slot = self.state.remove(&ev.account);
        Account::apply_to(&mut slot, &ev, self.ledger.rules());
        if let Some(mut a) = slot {
            a.applied_seq = seq;
            self.state.insert(ev.account.clone(), a);
        }
        self.last = seq;
        Ok(seq)
    }
    fn upsert(&mut self, name: &str, balance: Money) {
        let req = AdminRequest::Upsert {
            account: id(name),
            state: AccountState::Active,
            expiry: None,
            opening_balance: balance,
        };
        let ev = Account::decide_admin(self.state.get(&id(name)), &req, self.t0)
            .unwrap()
            .unwrap();
        self.commit(ev).unwrap();
    }
    fn request(&mut self, req: PrepaidRequest, now: u64) -> Result<PrepaidResponse, Refusal> {
        let a = self
            .state
            .get(req.account())
            .ok_or(Refusal::UnknownAccount)?;
        match a.decide(&req, now, self.ledger.rules())? {
            Decision::Reply(r) => Ok(r),
            Decision::Change(ev) => {
                self.commit(ev)?;
                Ok(self.state[req.account()]
                    .remembered(req.key().unwrap())
                    .cloned()
                    .unwrap())
            }
        }
    }
    /// `n` call cycles spread over `accounts`.
    fn workload(&mut self, accounts: usize, n: u64, call_base: u64) {
        for c in 0..n {
            let account = id(&format!("W{}", c % accounts as u64));
            let call = call_base + c;
            let now = self.t0 + c;
            self.request(
                PrepaidRequest::ApplyFee {
                    key: key(call, 0),
                    account: account.clone(),
                    want: 100,
                    min: 1,
                },
                now,
            )
            .unwrap();
            if c % 3 != 0 {
                self.request(
                    PrepaidRequest::Deduct {
                        key: key(call, 1),
                        account: account.clone(),
                        used: 37,
                    },
                    now,
                )
                .unwrap();
            }
            if c % 5 != 0 {
                self.request(
                    PrepaidRequest::Return {
                        key: key(call, 2),
                        account,
                    },
                    now,
                )
                .unwrap();
            }
        }
    }
    fn sync(&self) {
        futures::executor::block_on(self.ledger.wait_durable(self.last)).unwrap();
    }
}

fn assert_same(ledger: &Ledger, expected: &HashMap<AccountId, Account>) {
    assert_eq!(ledger.account_count(), expected.len());
    for (i, a) in expected {
        let got = ledger.account(i).unwrap_or_else(|| panic!("{i} missing"));
        assert_eq!(&got, a, "account {i}");
        got.check_invariants().unwrap();
    }
}

impl Driver {
    /// Once a preallocated spare segment is ready: run the workload and wait for it to be durable.
    fn workload_in_spare(&mut self, accounts: usize, n: u64, call_base: u64) {
        wait_spare(&self.ledger);
        self.workload(accounts, n, call_base);
        self.sync();
    }
}

impl Driver {
    /// Run the workload, wait for it to be durable and take a snapshot: full, or as the
    /// automatic ones choose. Returns its sequence number.
    fn snapshot_after(&mut self, accounts: usize, n: u64, call_base: u64, full: bool) -> u64 {
        self.workload(accounts, n, call_base);
        self.sync();
        if full {
            self.ledger.full_snapshot_now().unwrap()
        } else {
            self.ledger.snapshot_now().unwrap()
        }
    }
}

fn setup(dir: &Path, cfg: LedgerConfig, accounts: usize) -> Driver {
    let _ = dir;
    let mut d = Driver::new(Ledger::open(cfg).unwrap());
    for i in 0..accounts {
        d.upsert(&format!("W{i}"), 1_000_000);
    }
    d
}

#[test]
fn reopen_gives_the_same_state() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = setup(tmp.path(), cfg(tmp.path()), 7);
    d.workload(7, 300, 1 << 20);
    d.sync();
    assert_same(&d.ledger, &d.state);
    let expected = d.state.clone();
    drop(d);
    let l = Ledger::open(cfg(tmp.path())).unwrap();
    assert_same(&l, &expected);
    // And the journal continues where it stopped.
    let mut d = Driver::new(l);
    d.workload(7, 10, 2 << 20);
    d.sync();
    let expected = d.state.clone();
    drop(d);
    assert_same(&Ledger::open(cfg(tmp.path())).unwrap(), &expected);
}

#[test]
fn lingering_writer_makes_everything_durable_in_order() {
    // Adaptive group commit on: many records queued back to back make the writer wait for
    // more; every one must still become durable, in order, and survive a reopen.
    let tmp = tempfile::tempdir().unwrap();
    let c = LedgerConfig {
        batch_linger_us: 2000,
        batch_linger_records: 16,
        ..cfg(tmp.path())
    };
    let mut d = setup(tmp.path(), c.clone(), 7);
    for round in 0..20u64 {
        d.workload(7, 15, (round + 1) << 20);
        d.sync();
    }
    assert_same(&d.ledger, &d.state);
    let expected = d.state.clone();
    drop(d);
    let reopened = Ledger::open(c).unwrap();
    assert_same(&reopened, &expected);
}

#[test]
fn snapshots_forget_old_answers_of_quiet_accounts() {
    // Calls closed long ago (event times near 1970, retention 10 s) on accounts that see no
    // further change: the snapshot drops their answers; an open call keeps its own.
    let tmp = tempfile::tempdir().unwrap();
    let c = LedgerConfig {
        idempotency_retention_secs: 10,
        ..cfg(tmp.path())
    };
    let mut d = setup(tmp.path(), c.clone(), 3);
    d.t0 = 1000;
    d.workload(3, 12, 1 << 20);
    d.request(
        PrepaidRequest::ApplyFee {
            key: key(7, 0),
            account: id("W0"),
            want: 100,
            min: 1,
        },
        2000,
    )
    .unwrap();
    d.sync();
    let before = d.ledger.account(&id("W1")).unwrap();
    assert!(!before.closed.is_empty(), "the workload closed calls on W1");
    d.ledger.full_snapshot_now().unwrap();
    for name in ["W0", "W1", "W2"] {
        let a = d.ledger.account(&id(name)).unwrap();
        assert!(a.closed.is_empty(), "{name}: {:?}", a.closed);
        // Only calls still open are remembered (the workload leaves every fifth call open).
        assert_eq!(a.memo.len(), a.reservations.len(), "{name}");
        assert!(
            a.memo.keys().all(|c| a.reservations.contains_key(c)),
            "{name}"
        );
        assert_eq!(&a.reservations, &d.state[&id(name)].reservations, "{name}");
        assert_eq!(a.balance, d.state[&id(name)].balance, "{name}");
        a.check_invariants().unwrap();
    }
    let w0 = d.ledger.account(&id("W0")).unwrap();
    assert!(w0.remembered(key(7, 0)).is_some());
    // The pruned image is what a restart loads.
    let expected: Vec<_> = ["W0", "W1", "W2"]
        .iter()
        .map(|n| d.ledger.account(&id(n)).unwrap())
        .collect();
    drop(d);
    let reopened = Ledger::open(c).unwrap();
    for a in expected {
        assert_eq!(reopened.account(&a.id).unwrap(), a);
    }
}

/// Automatic snapshots: after `snapshot_every_records`, and only once the journal written since
/// the last snapshot is also `snapshot_journal_percent` of that snapshot's size (0: no such
/// bound). The last snapshot's size is remembered across a restart.
#[test]
fn automatic_snapshots_wait_for_journal_in_proportion_to_their_size() {
    let wait_for = |l: &Ledger, what: &str, cond: &dyn Fn(&Ledger) -> bool| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !cond(l) {
            assert!(std::time::Instant::now() < until, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    // 200 accounts make a snapshot of several KiB; 300 more cycles write far less journal than
    // 1000 times that, but far more than 50 records.
    let second_snapshot = |percent: u64| {
        let tmp = tempfile::tempdir().unwrap();
        let c = LedgerConfig {
            snapshot_every_records: 50,
            snapshot_journal_percent: percent,
            ..cfg(tmp.path())
        };
        let mut d = setup(tmp.path(), c.clone(), 200);
        d.sync();
        // The first has no earlier snapshot to weigh the journal against.
        wait_for(&d.ledger, "first snapshot", &|l| l.last_snapshot_seq() > 0);
        let first = d.ledger.last_snapshot_seq();
        d.workload(200, 300, 1 << 20);
        d.sync();
        if percent == 0 {
            wait_for(&d.ledger, "second snapshot", &|l| {
                l.last_snapshot_seq() > first
            });
        } else {
            // The writer looks again at least every 500 ms while idle.
            std::thread::sleep(std::time::Duration::from_millis(1200));
        }
        let second = d.ledger.last_snapshot_seq() > first;
        // After a restart the loaded snapshot's size still counts.
        let more = d.last + 1;
        drop(d);
        let mut d = Driver::new(Ledger::open(c).unwrap());
        d.workload(200, 300, 2 << 20);
        d.sync();
        if percent != 0 {
            std::thread::sleep(std::time::Duration::from_millis(1200));
            assert!(
                d.ledger.last_snapshot_seq() < more,
                "snapshot after restart"
            );
        }
        second
    };
    assert!(second_snapshot(0));
    assert!(!second_snapshot(100_000));
}

/// A restart replays the journal written since the newest snapshot; that journal still counts
/// toward the next one (a node restarted often would otherwise never take a snapshot, and its
/// replay would grow without end). The journal is weighed against the full snapshot's size,
/// also after a small delta.
#[test]
fn the_next_snapshot_waits_for_journal_in_proportion_to_the_full_one_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let c = LedgerConfig {
        snapshot_every_records: 50,
        snapshot_journal_percent: 100,
        snapshot_every_secs: 3600,
        ..cfg(tmp.path())
    };
    // Without fsync the segments are not preallocated: their lengths are the journal's bytes.
    let journal = || -> u64 {
        list_segments(tmp.path())
            .unwrap()
            .iter()
            .map(|s| std::fs::metadata(&s.path).unwrap().len())
            .sum()
    };
    let mut round = 1;
    let mut write_journal = |d: &mut Driver, accounts: usize, bytes: u64| {
        let from = journal();
        while journal() - from < bytes {
            d.workload(accounts, 20, round << 20);
            d.sync();
            round += 1;
        }
    };
    let next_snapshot = |d: &Driver, after: u64, what: &str| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while d.ledger.last_snapshot_seq() == after {
            assert!(std::time::Instant::now() < until, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        d.ledger.last_snapshot_seq()
    };
    let quiet = |d: &Driver, snap: u64, what: &str| {
        // The writer looks again at least every 500 ms while idle.
        std::thread::sleep(std::time::Duration::from_millis(1200));
        assert_eq!(d.ledger.last_snapshot_seq(), snap, "{what}");
    };
    // Every account remembers some calls: the full snapshot is many times a delta of a few.
    let mut d = setup(tmp.path(), c.clone(), 200);
    let snap = d.snapshot_after(200, 4000, 1 << 30, true);
    let size = std::fs::metadata(snapshot::snapshot_path(tmp.path(), snap))
        .unwrap()
        .len();
    write_journal(&mut d, 200, size * 6 / 10);
    quiet(&d, snap, "60 % of the snapshot's size: not yet");
    drop(d);
    // Restarted: 60 % more makes 120 %.
    let mut d = Driver::new(Ledger::open(c).unwrap());
    assert_eq!(d.ledger.recovery().snapshot_seq, snap);
    write_journal(&mut d, 200, size * 6 / 10);
    next_snapshot(&d, snap, "no snapshot after the restart");
    // (Records written after the automatic one started go into one more.)
    let snap = d.ledger.snapshot_now().unwrap();
    // A delta of three accounts, a fraction of the full snapshot's size, does not make the
    // next one come sooner: 40 % of the full one's size is many times the delta's, not enough.
    let delta = d.snapshot_after(3, 20, 1 << 40, false);
    let files = snapshot::list_snapshots(tmp.path()).unwrap();
    assert_eq!((files[0].seq, files[0].prev), (delta, Some(snap)));
    let len = |p: &snapshot::Point| std::fs::metadata(&p.path).unwrap().len();
    let full = files.iter().find(|p| p.prev.is_none()).map(len).unwrap();
    let small = len(&files[0]);
    assert!(small * 10 < full, "{small} {full}");
    write_journal(&mut d, 3, full * 4 / 10);
    quiet(&d, delta, "40 % of the full snapshot's size: not yet");
    write_journal(&mut d, 3, full * 7 / 10);
    next_snapshot(&d, delta, "no snapshot at 110 % of the full one's size");
}

#[test]
fn second_open_of_a_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let _l = Ledger::open(cfg(tmp.path())).unwrap();
    assert!(matches!(
        Ledger::open(cfg(tmp.path())),
        Err(LedgerError::Locked(_))
    ));
}

#[test]
fn close_unlocks_the_directory_while_clones_live_and_refuses_what_comes_after() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = setup(tmp.path(), cfg(tmp.path()), 3);
    d.workload(3, 30, 1 << 20);
    // Not waited for: close writes what is queued and answers its waits.
    let last = d.last;
    let kept = d.ledger.clone();
    d.ledger.close();
    futures::executor::block_on(kept.wait_durable(last)).unwrap();
    assert_eq!(
        kept.submit(Event {
            account: id("W0"),
            at: d.t0,
            kind: EventKind::TopUp { amount: 5 },
        }),
        Err(Refusal::LedgerUnavailable)
    );
    assert!(kept.snapshot_now().is_err(), "no snapshot once closed");
    assert_same(&kept, &d.state);
    // The directory is free while `kept` and `d.ledger` live, and holds everything.
    let reopened = Ledger::open(cfg(tmp.path())).unwrap();
    assert_same(&reopened, &d.state);
    d.ledger.close();
    drop(kept);
}

#[test]
fn snapshot_plus_replay_equals_pure_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let c = LedgerConfig {
        segment_bytes: 4096,
        snapshot_every_records: 200,
        ..cfg(tmp.path())
    };
    let mut d = setup(tmp.path(), c.clone(), 5);
    for round in 0..6 {
        d.workload(5, 100, (round + 1) << 20);
        if round == 2 {
            d.sync();
            d.ledger.snapshot_now().unwrap();
        }
    }
    d.sync();
    let snap = d.ledger.snapshot_now().unwrap();
    d.workload(5, 50, 9 << 20);
    d.sync();
    let expected = d.state.clone();
    drop(d);
    let segs = list_segments(tmp.path()).unwrap();
    assert!(segs[0].first_seq > 1, "covered segments were removed");
    assert!(snapshot::list_snapshots(tmp.path()).unwrap().len() <= 2);
    let l = Ledger::open(c).unwrap();
    assert!(l.last_snapshot_seq() >= snap);
    assert_same(&l, &expected);
}

#[test]
fn damaged_newest_snapshot_falls_back_to_the_older_one() {
    let tmp = tempfile::tempdir().unwrap();
    let c = on_request(tmp.path(), 2048);
    let mut d = setup(tmp.path(), c.clone(), 3);
    d.workload(3, 50, 1 << 20);
    d.sync();
    d.ledger.snapshot_now().unwrap();
    let s2 = d.snapshot_after(3, 50, 2 << 20, false);
    d.workload(3, 20, 3 << 20);
    d.sync();
    let expected = d.state.clone();
    drop(d);
    let p = snapshot::snapshot_path(tmp.path(), s2);
    let mut b = std::fs::read(&p).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&p, b).unwrap();
    assert_same(&Ledger::open(c).unwrap(), &expected);
}

/// The snapshot files in `dir`, oldest first: (seq, `Some(prev)` for a delta).
fn snapshot_files(dir: &Path) -> Vec<(u64, Option<u64>)> {
    let mut v: Vec<_> = snapshot::list_snapshots(dir)
        .unwrap()
        .into_iter()
        .map(|p| (p.seq, p.prev))
        .collect();
    v.reverse();
    v
}

/// The accounts a snapshot file holds, by name.
fn snapshot_accounts(path: &Path) -> Vec<String> {
    let image = snapshot::decode_snapshot(&std::fs::read(path).unwrap()).unwrap();
    let mut v: Vec<String> = image.accounts.iter().map(|a| a.id.to_string()).collect();
    v.sort();
    v
}

#[test]
fn a_delta_holds_only_the_accounts_changed_and_restores_the_whole_state() {
    let tmp = tempfile::tempdir().unwrap();
    let c = on_request(tmp.path(), 4096);
    let mut d = setup(tmp.path(), c.clone(), 40);
    let full = d.snapshot_after(40, 80, 1 << 20, false);
    assert_eq!(
        snapshot_files(tmp.path()),
        vec![(full, None)],
        "the first is full"
    );
    // Three accounts change: the next snapshot holds just them.
    let d1 = d.snapshot_after(3, 30, 2 << 20, false);
    assert_eq!(
        snapshot_files(tmp.path()),
        vec![(full, None), (d1, Some(full))]
    );
    let p1 = snapshot::delta_path(tmp.path(), d1, full);
    assert_eq!(snapshot_accounts(&p1), ["W0", "W1", "W2"]);
    // Two of them again, and one that had not changed since the full snapshot.
    d.workload(2, 20, 3 << 20);
    d.request(
        PrepaidRequest::ApplyFee {
            key: key(4 << 20, 0),
            account: id("W17"),
            want: 100,
            min: 1,
        },
        d.t0,
    )
    .unwrap();
    d.sync();
    let d2 = d.ledger.snapshot_now().unwrap();
    let p2 = snapshot::delta_path(tmp.path(), d2, d1);
    assert_eq!(snapshot_accounts(&p2), ["W0", "W1", "W17"]);
    // Journal after the newest delta, then a restart: the full snapshot, both deltas over it
    // in order, and the journal's tail make the state that was.
    d.workload(40, 45, 5 << 20);
    d.sync();
    let expected = d.state.clone();
    drop(d);
    let l = Ledger::open(c).unwrap();
    let r = l.recovery();
    assert_eq!((r.snapshot_seq, r.snapshot_accounts), (d2, 40));
    assert!(r.replayed > 0);
    assert_same(&l, &expected);
}

#[test]
fn a_snapshot_is_full_when_most_accounts_changed_or_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let c = on_request(tmp.path(), LedgerConfig::default().segment_bytes);
    let mut d = setup(tmp.path(), c.clone(), 10);
    d.sync();
    let s1 = d.ledger.snapshot_now().unwrap();
    // Half the accounts changed: full.
    let s2 = d.snapshot_after(5, 10, 1 << 20, false);
    // Fewer: a delta; asked for full: full.
    let s3 = d.snapshot_after(4, 8, 2 << 20, false);
    let s4 = d.snapshot_after(1, 2, 3 << 20, true);
    // The newest two restore points are s4 and s3, which stands on s2.
    assert!(s1 < s2);
    assert_eq!(
        snapshot_files(tmp.path()),
        vec![(s2, None), (s3, Some(s2)), (s4, None)]
    );
    // Off: always full.
    d.workload(1, 2, 4 << 20);
    d.sync();
    let expected = d.state.clone();
    drop(d);
    let c = LedgerConfig {
        snapshot_deltas: false,
        ..c
    };
    let mut d = Driver::new(Ledger::open(c).unwrap());
    assert_same(&d.ledger, &expected);
    let s5 = d.snapshot_after(1, 2, 5 << 20, false);
    assert_eq!(snapshot_files(tmp.path()), vec![(s4, None), (s5, None)]);
}

#[test]
fn kept_restore_points_keep_the_snapshots_under_them() {
    let tmp = tempfile::tempdir().unwrap();
    let c = on_request(tmp.path(), 2048);
    let mut d = setup(tmp.path(), c.clone(), 20);
    // Every account remembers many calls: a delta of two accounts stays small beside the
    // full snapshot.
    d.workload(20, 1400, 9 << 20);
    let step = |d: &mut Driver, round: u64, full: bool| d.snapshot_after(2, 30, round << 20, full);
    let f1 = step(&mut d, 1, true);
    let d1 = step(&mut d, 2, false);
    let d2 = step(&mut d, 3, false);
    let d3 = step(&mut d, 4, false);
    // The newest two points are d3 and d2; both stand on f1 and d1.
    assert_eq!(
        snapshot_files(tmp.path()),
        vec![(f1, None), (d1, Some(f1)), (d2, Some(d1)), (d3, Some(d2))]
    );
    let oldest_segment = list_segments(tmp.path()).unwrap()[0].first_seq;
    assert!(oldest_segment <= d2 + 1, "the journal reaches back to d2");
    let f2 = step(&mut d, 5, true);
    // f2 and d3: d3 still needs its chain.
    assert_eq!(snapshot_files(tmp.path()).len(), 5);
    let d4 = step(&mut d, 6, false);
    assert_eq!(snapshot_files(tmp.path()), vec![(f2, None), (d4, Some(f2))]);
    // Segments wholly covered by f2 are gone; the one holding f2 + 1 stays.
    let segs = list_segments(tmp.path()).unwrap();
    assert!(segs[0].first_seq > oldest_segment, "segments were removed");
    assert!(segs[0].first_seq <= f2 + 1);
    assert!(segs.len() < 2 || segs[1].first_seq > f2 + 1);
    let expected = d.state.clone();
    drop(d);
    assert_same(&Ledger::open(c).unwrap(), &expected);
}

#[test]
fn damaged_newest_delta_falls_back_to_the_point_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let c = on_request(tmp.path(), 2048);
    let mut d = setup(tmp.path(), c.clone(), 20);
    let f = d.snapshot_after(20, 40, 1 << 20, false);
    let d1 = d.snapshot_after(3, 30, 2 << 20, false);
    let d2 = d.snapshot_after(3, 30, 3 << 20, false);
    d.workload(3, 10, 4 << 20);
    d.sync();
    let expected = d.state.clone();
    drop(d);
    assert_eq!(
        snapshot_files(tmp.path()),
        vec![(d1, Some(f)), (d2, Some(d1))]
            .into_iter()
            .rev()
            .chain([(f, None)])
            .rev()
            .collect::<Vec<_>>()
    );
    let p = snapshot::delta_path(tmp.path(), d2, d1);
    let mut b = std::fs::read(&p).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&p, b).unwrap();
    let l = Ledger::open(c.clone()).unwrap();
    assert_eq!(l.recovery().snapshot_seq, d1, "the chain up to d1 is whole");
    assert_same(&l, &expected);
    drop(l);
    // The delta under both points damaged: back to the full snapshot, whose journal is gone.
    let p = snapshot::delta_path(tmp.path(), d1, f);
    let mut b = std::fs::read(&p).unwrap();
    b[40] ^= 0xff;
    std::fs::write(&p, b).unwrap();
    match Ledger::open(c) {
        Err(LedgerError::Gap { snapshot, .. }) => assert_eq!(snapshot, f),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened without the journal after the full snapshot"),
    }
}

fn last_segment(dir: &Path) -> PathBuf {
    list_segments(dir).unwrap().last().unwrap().path.clone()
}

#[test]
fn torn_tail_is_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = setup(tmp.path(), cfg(tmp.path()), 2);
    d.workload(2, 20, 1 << 20);
    d.sync();
    let expected = d.state.clone();
    let next = d.last + 1;
    drop(d);
    let seg = last_segment(tmp.path());
    let good_len = std::fs::metadata(&seg).unwrap().len();
    // A record cut off half-way.
    let mut e = record::Enc::default();
    let ev = Event {
        account: id("W0"),
        at: 1,
        kind: EventKind::TopUp { amount: 5 },
    };
    record::encode_event(&ev, &mut e);
    let mut rec = Vec::new();
    record::frame_record(next, &e.buf, &mut rec);
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    io::Write::write_all(&mut f, &rec[..rec.len() / 2]).unwrap();
    drop(f);
    let l = Ledger::open(cfg(tmp.path())).unwrap();
    assert_same(&l, &expected);
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), good_len);
    drop(l);
    // A complete last record with a bad checksum is a torn tail too.
    let mut bad = rec.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x55;
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    io::Write::write_all(&mut f, &bad).unwrap();
    drop(f);
    let l = Ledger::open(cfg(tmp.path())).unwrap();
    assert_same(&l, &expected);
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), good_len);
}

#[test]
fn corrupted_middle_record_stops_start_up_naming_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = setup(tmp.path(), cfg(tmp.path()), 2);
    d.workload(2, 20, 1 << 20);
    d.sync();
    drop(d);
    let seg = last_segment(tmp.path());
    let mut b = std::fs::read(&seg).unwrap();
    // Walk to the third record and damage its payload.
    let mut off = 0;
    for _ in 0..2 {
        match record::read_record(&b[off..]) {
            record::ReadRecord::Ok { total, .. } => off += total,
            other => panic!("{other:?}"),
        }
    }
    b[off + record::HEADER_LEN + 2] ^= 0x01;
    std::fs::write(&seg, b).unwrap();
    match Ledger::open(cfg(tmp.path())) {
        Err(e @ LedgerError::Corrupt { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(&seg.display().to_string()), "{msg}");
            assert!(msg.contains(&format!("offset {off}")), "{msg}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

// ---------------------------------------------------------------- fault injection

#[derive(Default)]
struct Faults {
    short_writes: AtomicBool,
    fail_sync: AtomicBool,
    /// Write this many more bytes, then fail with ENOSPC (usize::MAX = never).
    enospc_after: AtomicUsize,
    /// Preparing a spare segment fails with ENOSPC.
    fail_spare: AtomicBool,
    /// Spares prepared and segments adopted.
    spares_prepared: AtomicUsize,
    adopted: AtomicUsize,
}

struct FaultyStorage(Arc<Faults>);
struct FaultyFile(Box<dyn SegmentFile>, Arc<Faults>);

impl Storage for FaultyStorage {
    fn create_segment(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(FaultyFile(
            FsStorage::default().create_segment(path)?,
            self.0.clone(),
        )))
    }
    fn open_segment(&self, path: &Path, at: u64) -> io::Result<Box<dyn SegmentFile>> {
        Ok(Box::new(FaultyFile(
            FsStorage::default().open_segment(path, at)?,
            self.0.clone(),
        )))
    }
    fn prepare_spare(&self, path: &Path, bytes: u64, cancel: &AtomicBool) -> io::Result<()> {
        if self.0.fail_spare.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        FsStorage::default().prepare_spare(path, bytes, cancel)?;
        self.0.spares_prepared.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn adopt_segment(&self, spare: &Path, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let f = FsStorage::default().adopt_segment(spare, path)?;
        self.0.adopted.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(FaultyFile(f, self.0.clone())))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        FsStorage::default().sync_dir(dir)
    }
}

impl SegmentFile for FaultyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.1.enospc_after.load(Ordering::SeqCst);
        if left == 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let mut n = buf.len().min(left);
        if self.1.short_writes.load(Ordering::SeqCst) {
            n = n.min(7);
        }
        let n = self.0.write(&buf[..n])?;
        if left != usize::MAX {
            self.1.enospc_after.store(left - n, Ordering::SeqCst);
        }
        Ok(n)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        if self.1.fail_sync.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        self.0.sync_data()
    }
}

fn faulty(dir: &Path) -> (Driver, Arc<Faults>) {
    faulty_with(dir, 0)
}

fn faulty_with(dir: &Path, busy_poll_us: u64) -> (Driver, Arc<Faults>) {
    let f = Arc::new(Faults {
        enospc_after: AtomicUsize::new(usize::MAX),
        ..Faults::default()
    });
    let c = LedgerConfig {
        fsync: true,
        busy_poll_us,
        ..cfg(dir)
    };
    let l = Ledger::open_with_storage(c, Arc::new(FaultyStorage(f.clone()))).unwrap();
    let mut d = Driver::new(l);
    for i in 0..3 {
        d.upsert(&format!("W{i}"), 1_000_000);
    }
    (d, f)
}

#[test]
fn short_writes_are_completed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut d, f) = faulty(tmp.path());
    f.short_writes.store(true, Ordering::SeqCst);
    d.workload(3, 40, 1 << 20);
    d.sync();
    assert!(d.ledger.is_healthy());
    let expected = d.state.clone();
    drop(d);
    assert_same(&Ledger::open(cfg(tmp.path())).unwrap(), &expected);
}

fn check_failed_state(mut d: Driver, tmp: &Path, acked: HashMap<AccountId, Account>) {
    let r = futures::executor::block_on(d.ledger.wait_durable(d.last));
    assert_eq!(
        r,
        Err(Refusal::LedgerUnavailable),
        "nothing acknowledged that is not durable"
    );
    assert!(!d.ledger.is_healthy());
    assert!(d.ledger.failure().is_some());
    assert_eq!(
        d.request(
            PrepaidRequest::ApplyFee {
                key: key(77, 0),
                account: id("W0"),
                want: 1,
                min: 1
            },
            5000
        ),
        Err(Refusal::LedgerUnavailable)
    );
    drop(d);
    // Everything acknowledged survives (unacknowledged records may or may not).
    let l = Ledger::open(cfg(tmp)).unwrap();
    for (i, a) in &acked {
        let got = l.account(i).unwrap();
        assert!(got.applied_seq >= a.applied_seq);
        got.check_invariants().unwrap();
    }
}

#[test]
fn fsync_error_fails_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut d, f) = faulty(tmp.path());
    d.workload(3, 10, 1 << 20);
    d.sync();
    let acked = d.state.clone();
    f.fail_sync.store(true, Ordering::SeqCst);
    d.workload(3, 1, 2 << 20);
    check_failed_state(d, tmp.path(), acked);
}

#[test]
fn enospc_mid_record_fails_closed_and_tail_is_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut d, f) = faulty(tmp.path());
    d.workload(3, 10, 1 << 20);
    d.sync();
    let acked = d.state.clone();
    f.enospc_after.store(20, Ordering::SeqCst);
    d.workload(3, 1, 2 << 20);
    let seg = last_segment(tmp.path());
    check_failed_state(d, tmp.path(), acked.clone());
    // The torn record was cut away on reopen; the state is exactly the acknowledged one.
    assert_same(&Ledger::open(cfg(tmp.path())).unwrap(), &acked);
    assert!(seg.exists());
    let _ = segment_path(tmp.path(), 1);
}

// ---------------------------------------------------------------- preallocated segments

const SEG: u64 = 64 << 10;

fn prealloc_cfg(dir: &Path) -> LedgerConfig {
    LedgerConfig {
        fsync: true,
        preallocate: true,
        segment_bytes: SEG,
        ..cfg(dir)
    }
}

/// Wait until the preparer has a spare ready.
fn wait_spare(l: &Ledger) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !l.spare_segment_ready() {
        assert!(
            std::time::Instant::now() < until,
            "no spare segment prepared"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

/// Records that read back from the start of a segment file, and the offset where they end.
fn walk(p: &Path) -> (u64, usize) {
    let b = std::fs::read(p).unwrap();
    let (mut n, mut off) = (0, 0);
    while let record::ReadRecord::Ok { total, .. } = record::read_record(&b[off..]) {
        n += 1;
        off += total;
    }
    (n, off)
}

/// A framed record with sequence number `seq`.
fn rec(seq: u64) -> Vec<u8> {
    let mut e = record::Enc::default();
    let ev = Event {
        account: id("W0"),
        at: 1,
        kind: EventKind::TopUp { amount: 5 },
    };
    record::encode_event(&ev, &mut e);
    let mut out = Vec::new();
    record::frame_record(seq, &e.buf, &mut out);
    out
}

fn recs(seqs: std::ops::RangeInclusive<u64>) -> Vec<u8> {
    seqs.flat_map(rec).collect()
}

fn write_seg(dir: &Path, first: u64, parts: &[&[u8]]) -> PathBuf {
    let p = segment_path(dir, first);
    std::fs::write(&p, parts.concat()).unwrap();
    p
}

fn replay_seqs(
    dir: &Path,
    max_batch: u64,
) -> Result<(Vec<u64>, journal::ReplayOutcome), LedgerError> {
    let mut seqs = Vec::new();
    let out = journal::replay(dir, 0, max_batch, |s, _| seqs.push(s))?;
    Ok((seqs, out))
}

#[test]
fn zeros_do_not_read_as_a_record() {
    assert!(!matches!(
        record::read_record(&[0u8; 64]),
        record::ReadRecord::Ok { .. }
    ));
}

#[test]
fn replay_ends_a_segment_at_its_zero_tail_in_any_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 5000];
    let a = recs(1..=5);
    let b = recs(6..=8);
    let s1 = write_seg(tmp.path(), 1, &[&a, &zeros]);
    let s2 = write_seg(tmp.path(), 6, &[&b, &zeros]);
    let (seqs, out) = replay_seqs(tmp.path(), 1 << 20).unwrap();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    assert_eq!(out.last_seq, 8);
    assert_eq!(out.truncated, None);
    assert_eq!(out.tail, Some((s2.clone(), b.len() as u64, 9)));
    // Nothing was cut: the zeros are preallocated space.
    assert_eq!(file_len(&s1), (a.len() + zeros.len()) as u64);
    assert_eq!(file_len(&s2), (b.len() + zeros.len()) as u64);
    // Records lost at the end of a non-last segment are still caught by the sequence check.
    std::fs::remove_file(&s2).unwrap();
    write_seg(tmp.path(), 7, &[&recs(7..=8), &zeros]);
    match replay_seqs(tmp.path(), 1 << 20) {
        Err(LedgerError::Corrupt { reason, .. }) => {
            assert_eq!(reason, "segment does not continue the sequence")
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn torn_record_followed_by_zeros_is_a_torn_tail_only_in_the_last_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 3000];
    let a = recs(1..=4);
    let half = rec(5);
    let half = &half[..half.len() / 2];
    // Last segment: truncated at the torn record, zeros and all.
    let s1 = write_seg(tmp.path(), 1, &[&a, half, &zeros]);
    let (seqs, out) = replay_seqs(tmp.path(), 1 << 20).unwrap();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(out.truncated, Some((half.len() + zeros.len()) as u64));
    assert_eq!(file_len(&s1), a.len() as u64);
    // Not the last segment: corruption, at the torn record's offset.
    write_seg(tmp.path(), 1, &[&a, half, &zeros]);
    write_seg(tmp.path(), 5, &[&recs(5..=6), &zeros]);
    match replay_seqs(tmp.path(), 1 << 20) {
        Err(LedgerError::Corrupt { file, offset, .. }) => {
            assert_eq!((file, offset), (s1, a.len() as u64))
        }
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn zero_hole_followed_by_a_good_record_is_corruption() {
    let tmp = tempfile::tempdir().unwrap();
    let a = recs(1..=3);
    // A whole zeroed sector, then good records that continue the sequence.
    let hole = vec![0u8; 1500];
    let b = recs(4..=40);
    let zeros = vec![0u8; 2000];
    // In a segment that is not the last one.
    let s1 = write_seg(tmp.path(), 1, &[&a, &hole, &b, &zeros]);
    write_seg(tmp.path(), 41, &[&recs(41..=42), &zeros]);
    match replay_seqs(tmp.path(), 1 << 20) {
        Err(LedgerError::Corrupt { file, offset, .. }) => {
            assert_eq!((file, offset), (s1.clone(), a.len() as u64))
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    // In the last segment, with more data after the hole than one batch can hold: records
    // after it were acknowledged, so this is not a torn write either.
    std::fs::remove_file(segment_path(tmp.path(), 41)).unwrap();
    match replay_seqs(tmp.path(), 1024) {
        Err(LedgerError::Corrupt { file, offset, .. }) => {
            assert_eq!((file, offset), (s1.clone(), a.len() as u64))
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(
        file_len(&s1),
        (a.len() + hole.len() + b.len() + zeros.len()) as u64
    );
    // A damaged record (no zeroed sector) followed by good ones, in the last batch: corruption.
    let mut bad = rec(4);
    bad[20] ^= 0x10;
    write_seg(tmp.path(), 1, &[&a, &bad, &recs(5..=6), &zeros]);
    assert!(matches!(
        replay_seqs(tmp.path(), 1 << 20),
        Err(LedgerError::Corrupt { .. })
    ));
}

#[test]
fn zero_hole_in_the_last_batch_is_a_torn_tail() {
    // A power loss during the last batch's fdatasync put its later pages on disk but not an
    // earlier one: the hole and everything after it go (none of it was acknowledged).
    let tmp = tempfile::tempdir().unwrap();
    let a = recs(1..=3);
    let lost = vec![0u8; 4096 - a.len()];
    let mut landed = rec(7);
    landed.drain(..10); // the tail of a record that straddled the page boundary
    landed.extend(recs(8..=12));
    let zeros = vec![0u8; 3000];
    let s1 = write_seg(tmp.path(), 1, &[&a, &lost, &landed, &zeros]);
    let (seqs, out) = replay_seqs(tmp.path(), 1 << 20).unwrap();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(out.tail, Some((s1.clone(), a.len() as u64, 4)));
    assert_eq!(file_len(&s1), a.len() as u64);
}

#[test]
fn preallocated_segments_rotate_replay_and_continue_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let c = prealloc_cfg(tmp.path());
    let mut d = setup(tmp.path(), c.clone(), 4);
    d.sync();
    // At start the writer appends to a plain segment; once the spare is ready it moves to it at
    // the next batch, and to the next spare each time a segment fills.
    for round in 0..8 {
        d.workload_in_spare(4, 120, (round + 1) << 20);
    }
    let segs = list_segments(tmp.path()).unwrap();
    let preallocated = segs.iter().filter(|s| file_len(&s.path) >= SEG).count();
    assert!(segs.len() >= 3, "{segs:?}");
    assert!(preallocated >= segs.len() - 1, "{segs:?}");
    // Pruning with preallocated segments and a spare in the directory.
    d.ledger.snapshot_now().unwrap();
    d.workload_in_spare(4, 60, 20 << 20);
    d.ledger.snapshot_now().unwrap();
    assert!(list_segments(tmp.path()).unwrap()[0].first_seq > 1);
    wait_spare(&d.ledger);
    assert!(journal::spare_path(tmp.path()).exists());
    // Leave the tail segment with room for more.
    let mut call = 30 << 20;
    loop {
        let tail = last_segment(tmp.path());
        if file_len(&tail) == SEG && walk(&tail).1 as u64 + 8192 < SEG {
            break;
        }
        d.workload_in_spare(4, 30, call);
        call += 1 << 20;
    }
    let expected = d.state.clone();
    drop(d);
    assert!(
        !journal::spare_path(tmp.path()).exists(),
        "removed at shutdown"
    );
    let tail = last_segment(tmp.path());
    let (n, good) = walk(&tail);
    let segs = list_segments(tmp.path()).unwrap();
    // Replay reads every record of the zero-tailed segments and cuts nothing.
    let l = Ledger::open(c.clone()).unwrap();
    assert_same(&l, &expected);
    assert_eq!(file_len(&tail), SEG);
    // The writer continues in the tail at its good length, not at the file's end.
    let mut d = Driver::new(l);
    d.workload(4, 10, 40 << 20);
    d.sync();
    let expected = d.state.clone();
    drop(d);
    let (n2, good2) = walk(&tail);
    assert!(n2 > n && good2 > good, "{n}/{good} -> {n2}/{good2}");
    assert_eq!(file_len(&tail), SEG);
    assert_eq!(list_segments(tmp.path()).unwrap(), segs);
    assert_same(&Ledger::open(c).unwrap(), &expected);
}

#[test]
fn torn_write_into_a_preallocated_segment_is_truncated_on_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let c = prealloc_cfg(tmp.path());
    let mut d = setup(tmp.path(), c.clone(), 2);
    d.sync();
    d.workload_in_spare(2, 20, 1 << 20);
    let expected = d.state.clone();
    let next = d.last + 1;
    drop(d);
    let seg = last_segment(tmp.path());
    assert_eq!(file_len(&seg), SEG, "the batch went into the adopted spare");
    let (_, good) = walk(&seg);
    // Half a record written over the zeros, as a crash mid-write leaves it.
    let r = rec(next);
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &r[..r.len() / 2], good as u64).unwrap();
    drop(f);
    let l = Ledger::open(c).unwrap();
    assert_same(&l, &expected);
    assert_eq!(file_len(&seg), good as u64);
}

#[test]
fn leftover_spare_is_ignored_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let c = prealloc_cfg(tmp.path());
    let mut d = setup(tmp.path(), c.clone(), 3);
    d.sync();
    d.workload_in_spare(3, 30, 1 << 20);
    let expected = d.state.clone();
    drop(d);
    // A half-filled spare from a crash, holding something that even looks like records.
    let spare = journal::spare_path(tmp.path());
    let mut junk = recs(1..=3);
    junk.extend(vec![0xABu8; 700]);
    std::fs::write(&spare, &junk).unwrap();
    assert!(list_segments(tmp.path())
        .unwrap()
        .iter()
        .all(|s| s.path != spare));
    let no_prealloc = LedgerConfig {
        preallocate: false,
        ..c.clone()
    };
    let l = Ledger::open(no_prealloc).unwrap();
    assert!(!spare.exists());
    assert_same(&l, &expected);
    assert!(!l.spare_segment_ready());
    drop(l);
    std::fs::write(&spare, &junk).unwrap();
    let l = Ledger::open(c).unwrap();
    assert_same(&l, &expected);
    wait_spare(&l);
    assert_eq!(file_len(&spare), SEG);
    assert!(std::fs::read(&spare).unwrap().iter().all(|&b| b == 0));
}

fn faulty_prealloc(dir: &Path) -> (Driver, Arc<Faults>) {
    let f = Arc::new(Faults {
        enospc_after: AtomicUsize::new(usize::MAX),
        ..Faults::default()
    });
    let l =
        Ledger::open_with_storage(prealloc_cfg(dir), Arc::new(FaultyStorage(f.clone()))).unwrap();
    let mut d = Driver::new(l);
    for i in 0..3 {
        d.upsert(&format!("W{i}"), 1_000_000);
    }
    d.sync();
    d.workload_in_spare(3, 10, 1 << 20);
    assert_eq!(f.adopted.load(Ordering::SeqCst), 1);
    assert_eq!(
        file_len(&last_segment(dir)),
        SEG,
        "writing into the adopted spare"
    );
    (d, f)
}

#[test]
fn fsync_error_in_an_adopted_segment_fails_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut d, f) = faulty_prealloc(tmp.path());
    let acked = d.state.clone();
    f.fail_sync.store(true, Ordering::SeqCst);
    d.workload(3, 1, 2 << 20);
    check_failed_state(d, tmp.path(), acked);
}

#[test]
fn enospc_in_an_adopted_segment_fails_closed_and_tail_is_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut d, f) = faulty_prealloc(tmp.path());
    let acked = d.state.clone();
    let seg = last_segment(tmp.path());
    let (_, good) = walk(&seg);
    f.enospc_after.store(20, Ordering::SeqCst);
    d.workload(3, 1, 2 << 20);
    check_failed_state(d, tmp.path(), acked.clone());
    // The torn record (followed by preallocated zeros) was cut away on reopen.
    assert_same(&Ledger::open(cfg(tmp.path())).unwrap(), &acked);
    assert_eq!(file_len(&seg), good as u64);
}

#[test]
fn failed_spare_preparation_does_not_fail_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Arc::new(Faults {
        enospc_after: AtomicUsize::new(usize::MAX),
        fail_spare: AtomicBool::new(true),
        ..Faults::default()
    });
    let c = LedgerConfig {
        segment_bytes: 16 << 10,
        ..prealloc_cfg(tmp.path())
    };
    let l = Ledger::open_with_storage(c.clone(), Arc::new(FaultyStorage(f.clone()))).unwrap();
    let mut d = Driver::new(l);
    for i in 0..3 {
        d.upsert(&format!("W{i}"), 1_000_000);
    }
    // Plain segments, rotated as they fill.
    for round in 0..6 {
        d.workload(3, 50, (round + 1) << 20);
        d.sync();
    }
    assert!(d.ledger.is_healthy());
    assert!(!d.ledger.spare_segment_ready());
    assert_eq!(f.adopted.load(Ordering::SeqCst), 0);
    let segs = list_segments(tmp.path()).unwrap();
    assert!(segs.len() >= 2);
    for s in &segs {
        assert_eq!(file_len(&s.path), walk(&s.path).1 as u64, "plain segment");
    }
    // Once the disk has room again the preparer catches up (after its back-off) and the writer
    // moves to the spare.
    f.fail_spare.store(false, Ordering::SeqCst);
    d.workload_in_spare(3, 5, 9 << 20);
    assert_eq!(f.adopted.load(Ordering::SeqCst), 1);
    assert_eq!(file_len(&last_segment(tmp.path())), c.segment_bytes);
    let expected = d.state.clone();
    drop(d);
    assert_same(&Ledger::open(c).unwrap(), &expected);
}

// ---------------------------------------------------------------- actors

fn actor_cfg(dir: &Path) -> LedgerConfig {
    LedgerConfig {
        fsync: true,
        reservation_expiry_secs: 1,
        actor_idle_secs: 1,
        ..cfg(dir)
    }
}

async fn upsert(dir: &AccountDirectory, name: &str, balance: Money) -> AccountView {
    dir.admin(AdminRequest::Upsert {
        account: id(name),
        state: AccountState::Active,
        expiry: None,
        opening_balance: balance,
    })
    .await
    .unwrap()
}

/// ApplyFee on account "A" for `call`, which must be granted in full.
async fn grant(dir: &AccountDirectory, call: u64, want: Money) {
    let apply = PrepaidRequest::ApplyFee {
        key: key(call, 0),
        account: id("A"),
        want,
        min: 10,
    };
    assert_eq!(
        dir.request(apply).await,
        PrepaidResponse::Granted { granted: want }
    );
}

/// Stop the arbiter so the actors (and their ledger clones) go away, then wait for the lock.
/// A directory of account actors for `ledger` on a new arbiter (stop both with [`shutdown`]).
fn on_arbiter(ledger: &Ledger) -> (actix::Arbiter, AccountDirectory) {
    let arb = actix::Arbiter::new();
    let dir = AccountDirectory::start(ledger.clone(), vec![arb.handle()]);
    (arb, dir)
}

fn shutdown(arb: actix::Arbiter, dir: AccountDirectory) {
    arb.stop();
    let _ = arb.join();
    drop(dir);
}

#[actix_rt::test]
async fn actors_serve_the_prepaid_interfaces() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(LedgerConfig {
        reservation_expiry_secs: 3600,
        ..actor_cfg(tmp.path())
    })
    .unwrap();
    let (arb, dir) = on_arbiter(&ledger);
    assert_eq!(
        dir.request(PrepaidRequest::Authenticate {
            account: id("NOPE"),
            min: 1
        })
        .await,
        PrepaidResponse::Refused(Refusal::UnknownAccount)
    );
    assert_eq!(
        dir.admin(AdminRequest::View {
            account: id("NOPE")
        })
        .await,
        Err(AdminError::UnknownAccount)
    );
    upsert(&dir, "A", 1000).await;
    assert_eq!(
        dir.request(PrepaidRequest::Authenticate {
            account: id("A"),
            min: 100
        })
        .await,
        PrepaidResponse::Authenticated { available: 1000 }
    );
    let apply = PrepaidRequest::ApplyFee {
        key: key(1, 0),
        account: id("A"),
        want: 600,
        min: 10,
    };
    assert_eq!(
        dir.request(apply.clone()).await,
        PrepaidResponse::Granted { granted: 600 }
    );
    assert_eq!(
        dir.request(apply).await,
        PrepaidResponse::Granted { granted: 600 },
        "idempotent"
    );
    let v = dir
        .admin(AdminRequest::View { account: id("A") })
        .await
        .unwrap();
    assert_eq!(
        (v.balance, v.reserved, v.reservations.len()),
        (1000, 600, 1)
    );
    assert_eq!(
        dir.request(PrepaidRequest::Deduct {
            key: key(1, 1),
            account: id("A"),
            used: 100
        })
        .await,
        PrepaidResponse::Deducted { amount: 100 }
    );
    assert_eq!(
        dir.request(PrepaidRequest::Return {
            key: key(1, 2),
            account: id("A")
        })
        .await,
        PrepaidResponse::Returned { amount: 500 }
    );
    let v = dir
        .admin(AdminRequest::TopUp {
            account: id("A"),
            amount: 50,
        })
        .await
        .unwrap();
    assert_eq!((v.balance, v.reserved), (950, 0));
    // Concurrent callers on one account: pipelined, all answered, invariants hold.
    let futs: Vec<_> = (0..50u64)
        .map(|c| {
            let dir = dir.clone();
            async move {
                let k = |s| key(100 + c, s);
                dir.request(PrepaidRequest::ApplyFee {
                    key: k(0),
                    account: id("A"),
                    want: 10,
                    min: 1,
                })
                .await;
                dir.request(PrepaidRequest::Deduct {
                    key: k(1),
                    account: id("A"),
                    used: 3,
                })
                .await;
                dir.request(PrepaidRequest::Return {
                    key: k(2),
                    account: id("A"),
                })
                .await
            }
        })
        .collect();
    for r in futures::future::join_all(futs).await {
        assert_eq!(r, PrepaidResponse::Returned { amount: 7 });
    }
    let v = dir
        .admin(AdminRequest::View { account: id("A") })
        .await
        .unwrap();
    assert_eq!((v.balance, v.reserved), (800, 0));
    // Idle actors stop, and a later request is served by a fresh one with the same state.
    actix_rt::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(dir.live_actors(), 0);
    let v = dir
        .admin(AdminRequest::View { account: id("A") })
        .await
        .unwrap();
    assert_eq!(v.balance, 800);
    assert_eq!(ledger.account(&id("A")).unwrap().view(), v);
    shutdown(arb, dir);
}

#[actix_rt::test]
async fn idempotency_and_expiry_survive_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let apply = PrepaidRequest::ApplyFee {
        key: key(5, 0),
        account: id("A"),
        want: 300,
        min: 10,
    };
    {
        let ledger = Ledger::open(LedgerConfig {
            reservation_expiry_secs: 3600,
            ..actor_cfg(tmp.path())
        })
        .unwrap();
        let (arb, dir) = on_arbiter(&ledger);
        upsert(&dir, "A", 1000).await;
        assert_eq!(
            dir.request(apply.clone()).await,
            PrepaidResponse::Granted { granted: 300 }
        );
        ledger.snapshot_now().unwrap();
        let apply2 = PrepaidRequest::ApplyFee {
            key: key(6, 0),
            account: id("A"),
            want: 200,
            min: 10,
        };
        assert_eq!(
            dir.request(apply2).await,
            PrepaidResponse::Granted { granted: 200 }
        );
        shutdown(arb, dir);
        drop(ledger);
    }
    {
        // Same rules: the retry is answered from memory, and nothing changes.
        let ledger = Ledger::open(LedgerConfig {
            reservation_expiry_secs: 3600,
            ..actor_cfg(tmp.path())
        })
        .unwrap();
        let (arb, dir) = on_arbiter(&ledger);
        assert_eq!(
            dir.request(apply.clone()).await,
            PrepaidResponse::Granted { granted: 300 }
        );
        let v = dir
            .admin(AdminRequest::View { account: id("A") })
            .await
            .unwrap();
        assert_eq!((v.balance, v.reserved), (1000, 500));
        shutdown(arb, dir);
        drop(ledger);
    }
    // Restart with deadlines in the past (recorded deadline = now + 3600 s, so fake it by a
    // ledger whose reservations were granted with 1 s expiry).
    {
        let ledger = Ledger::open(actor_cfg(tmp.path())).unwrap();
        let (arb, dir) = on_arbiter(&ledger);
        let apply3 = PrepaidRequest::ApplyFee {
            key: key(7, 0),
            account: id("A"),
            want: 100,
            min: 10,
        };
        assert_eq!(
            dir.request(apply3).await,
            PrepaidResponse::Granted { granted: 100 }
        );
        shutdown(arb, dir);
        drop(ledger);
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let ledger = Ledger::open(actor_cfg(tmp.path())).unwrap();
    assert_eq!(ledger.accounts_with_reservations(), vec![id("A")]);
    let (arb, dir) = on_arbiter(&ledger);
    // The directory started the actor; call 7's reservation (1 s) expires without any request.
    let mut reserved = 0;
    for _ in 0..40 {
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        reserved = ledger.account(&id("A")).unwrap().reserved;
        if reserved == 500 {
            break;
        }
    }
    assert_eq!(
        reserved, 500,
        "call 7 expired (ReturnAll), calls 5 and 6 still held"
    );
    let a = ledger.account(&id("A")).unwrap();
    assert_eq!(a.balance, 1000);
    a.check_invariants().unwrap();
    shutdown(arb, dir);
}

/// An account's expiry alarm stays set after its call settled (it is not cancelled at each
/// return); when it goes off with nothing due, a new one must be set for a later reservation,
/// which then expires without any request.
#[actix_rt::test]
async fn a_reservation_made_after_a_settled_call_still_expires() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(actor_cfg(tmp.path())).unwrap();
    let (arb, dir) = on_arbiter(&ledger);
    upsert(&dir, "A", 1000).await;
    grant(&dir, 1, 100).await;
    assert_eq!(
        dir.request(PrepaidRequest::Return {
            key: key(1, 1),
            account: id("A")
        })
        .await,
        PrepaidResponse::Returned { amount: 100 }
    );
    actix_rt::time::sleep(std::time::Duration::from_millis(700)).await;
    grant(&dir, 2, 100).await;
    let mut reserved = 100;
    for _ in 0..50 {
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        reserved = ledger.account(&id("A")).unwrap().reserved;
        if reserved == 0 {
            break;
        }
    }
    assert_eq!(reserved, 0, "call 2's reservation expired");
    let a = ledger.account(&id("A")).unwrap();
    assert_eq!(a.balance, 1000);
    a.check_invariants().unwrap();
    shutdown(arb, dir);
}

/// The account actors' alarms (idle check, expiry) run on a task of their thread's runtime;
/// a thread that runs a second runtime after the first stopped (as a test thread does) must
/// get a working alarm clock again, not the first runtime's dead one.
#[test]
fn alarms_work_in_a_second_runtime_on_the_same_thread() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().to_path_buf();
    std::thread::spawn(move || {
        for round in 0..2 {
            actix::System::new().block_on(async {
                let ledger = Ledger::open(actor_cfg(&path)).unwrap();
                let dir = AccountDirectory::start(ledger, Vec::new());
                upsert(&dir, "A", 1000).await;
                assert_eq!(dir.live_actors(), 1);
                let mut live = 1;
                for _ in 0..40 {
                    actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
                    live = dir.live_actors();
                    if live == 0 {
                        break;
                    }
                }
                assert_eq!(live, 0, "round {round}: the idle actor's alarm fired");
            });
        }
    })
    .join()
    .unwrap();
}

/// An actor that retires for idleness cancels the alarm its settled call's expiry left set
/// (an hour ahead by default): the alarm clock keeps no address of a stopped actor.
#[test]
fn a_retired_actor_leaves_no_alarm_behind() {
    let cfg = |path: &Path| LedgerConfig {
        reservation_expiry_secs: 3600,
        ..actor_cfg(path)
    };
    with_directory_here(cfg, |_, dir| async move {
        upsert(&dir, "A", 1000).await;
        grant(&dir, 1, 100).await;
        let ret = PrepaidRequest::Return {
            key: key(1, 1),
            account: id("A"),
        };
        dir.request(ret).await;
        assert_eq!(alarm::pending_here(), 2, "idle check and expiry");
        for _ in 0..40 {
            actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
            if dir.live_actors() == 0 {
                break;
            }
        }
        assert_eq!(dir.live_actors(), 0);
        assert_eq!(alarm::pending_here(), 0);
    });
}

#[actix_rt::test]
async fn actors_refuse_when_the_ledger_has_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Arc::new(Faults {
        enospc_after: AtomicUsize::new(usize::MAX),
        ..Faults::default()
    });
    let ledger =
        Ledger::open_with_storage(actor_cfg(tmp.path()), Arc::new(FaultyStorage(f.clone())))
            .unwrap();
    let (arb, dir) = on_arbiter(&ledger);
    upsert(&dir, "A", 1000).await;
    f.fail_sync.store(true, Ordering::SeqCst);
    let apply = PrepaidRequest::ApplyFee {
        key: key(1, 0),
        account: id("A"),
        want: 300,
        min: 10,
    };
    assert_eq!(
        dir.request(apply).await,
        PrepaidResponse::Refused(Refusal::LedgerUnavailable)
    );
    assert!(!ledger.is_healthy());
    assert_eq!(
        dir.request(PrepaidRequest::Authenticate {
            account: id("A"),
            min: 1
        })
        .await,
        PrepaidResponse::Refused(Refusal::LedgerUnavailable)
    );
    assert_eq!(
        dir.admin(AdminRequest::TopUp {
            account: id("A"),
            amount: 1
        })
        .await,
        Err(AdminError::LedgerUnavailable)
    );
    shutdown(arb, dir);
}

// ---------------------------------------------------------------- request_all

/// `request_all`: several operations of one call on one account in one trip to its actor.
fn batch_cfg(dir: &Path) -> LedgerConfig {
    LedgerConfig {
        reservation_expiry_secs: 3600,
        ..actor_cfg(dir)
    }
}

fn settle(account: &str, call: u64, used: Money) -> Vec<PrepaidRequest> {
    vec![
        PrepaidRequest::Deduct {
            key: key(call, 1),
            account: id(account),
            used,
        },
        PrepaidRequest::Return {
            key: key(call, 2),
            account: id(account),
        },
    ]
}

#[actix_rt::test]
async fn deduct_and_return_together_are_two_records_durable_before_the_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(batch_cfg(tmp.path())).unwrap();
    let (arb, dir) = on_arbiter(&ledger);
    upsert(&dir, "A", 1000).await;
    grant(&dir, 7, 600).await;
    let before = ledger.durable().seq;
    let answers = dir.request_all(settle("A", 7, 250)).await;
    assert_eq!(
        answers,
        vec![
            PrepaidResponse::Deducted { amount: 250 },
            PrepaidResponse::Returned { amount: 350 }
        ]
    );
    // Claim 7 and claim 8 each left their own record, both durable when the answer came.
    assert_eq!(ledger.durable().seq, before + 2);
    let a = ledger.account(&id("A")).unwrap();
    assert_eq!((a.balance, a.reserved), (750, 0));
    assert!(a.reservations.is_empty());
    // A replay of the pair (same keys) answers the same and changes nothing.
    assert_eq!(dir.request_all(settle("A", 7, 250)).await, answers);
    assert_eq!(ledger.durable().seq, before + 2);
    // So does a replay of either operation alone.
    let mut one = settle("A", 7, 250);
    assert_eq!(
        dir.request(one.remove(1)).await,
        PrepaidResponse::Returned { amount: 350 }
    );
    shutdown(arb, dir);
    drop(ledger);

    // After a restart the journal gives back the same state and the same answers.
    let ledger = Ledger::open(batch_cfg(tmp.path())).unwrap();
    let (arb, dir) = on_arbiter(&ledger);
    assert_eq!(ledger.account(&id("A")).unwrap().balance, 750);
    assert_eq!(dir.request_all(settle("A", 7, 250)).await, answers);
    assert_eq!(ledger.account(&id("A")).unwrap().balance, 750);
    shutdown(arb, dir);
}

#[actix_rt::test]
async fn batches_are_refused_whole_for_unknown_or_mixed_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(batch_cfg(tmp.path())).unwrap();
    let (arb, dir) = on_arbiter(&ledger);
    upsert(&dir, "A", 1000).await;
    assert_eq!(
        dir.request_all(settle("NOPE", 1, 5)).await,
        vec![PrepaidResponse::Refused(Refusal::UnknownAccount); 2]
    );
    let mut mixed = settle("A", 2, 5);
    mixed[1] = PrepaidRequest::Return {
        key: key(2, 2),
        account: id("B"),
    };
    let before = ledger.durable().seq;
    assert_eq!(
        dir.request_all(mixed).await,
        vec![PrepaidResponse::Refused(Refusal::UnknownAccount); 2]
    );
    assert_eq!(ledger.durable().seq, before, "nothing journaled");
    assert!(dir.request_all(Vec::new()).await.is_empty());
    shutdown(arb, dir);
}

#[actix_rt::test]
async fn concurrent_settlements_of_one_account_conserve_money() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(batch_cfg(tmp.path())).unwrap();
    let arbs = [actix::Arbiter::new(), actix::Arbiter::new()];
    let dir = AccountDirectory::start(ledger.clone(), arbs.iter().map(|a| a.handle()).collect());
    upsert(&dir, "HOT", 1_000_000).await;
    let calls: Vec<_> = (0..64u64)
        .map(|c| {
            let dir = dir.clone();
            actix_rt::spawn(async move {
                let granted = dir
                    .request(PrepaidRequest::ApplyFee {
                        key: key(100 + c, 0),
                        account: id("HOT"),
                        want: 100,
                        min: 1,
                    })
                    .await;
                assert_eq!(granted, PrepaidResponse::Granted { granted: 100 });
                let used = (c % 7) as Money * 10;
                let answers = dir.request_all(settle("HOT", 100 + c, used)).await;
                assert_eq!(
                    answers,
                    vec![
                        PrepaidResponse::Deducted { amount: used },
                        PrepaidResponse::Returned { amount: 100 - used }
                    ]
                );
                used
            })
        })
        .collect();
    let mut charged = 0;
    for c in calls {
        charged += c.await.unwrap();
    }
    let a = ledger.account(&id("HOT")).unwrap();
    assert_eq!(a.balance, 1_000_000 - charged);
    assert_eq!(a.reserved, 0);
    assert_eq!(a.totals.charged, charged);
    for a in arbs {
        a.stop();
        let _ = a.join();
    }
    drop(dir);
}

/// ApplyFee on account "A" for `call`: `want`, at least 10.
fn apply_fee(call: u64, want: Money) -> PrepaidRequest {
    PrepaidRequest::ApplyFee {
        key: key(call, 0),
        account: id("A"),
        want,
        min: 10,
    }
}

/// Run `f` on a fresh actix System on this thread, with a ledger opened with `cfg` (given the
/// path of a temporary directory) and its account directory on this thread's arbiter: the
/// actors start here, so requests made here can reach them directly.
fn with_directory_here<F, Fut>(cfg: impl FnOnce(&Path) -> LedgerConfig, f: F)
where
    F: FnOnce(Ledger, AccountDirectory) -> Fut,
    Fut: Future<Output = ()>,
{
    let tmp = tempfile::tempdir().unwrap();
    let cfg = cfg(tmp.path());
    actix::System::new().block_on(async move {
        let ledger = Ledger::open(cfg).unwrap();
        let dir = AccountDirectory::start(ledger.clone(), Vec::new());
        f(ledger, dir).await
    });
}

/// Poll `f` once (with a waker that does nothing); whether it is still pending.
fn pending_after_one_poll<F: Future>(f: std::pin::Pin<&mut F>) -> bool {
    let waker = futures::task::noop_waker();
    f.poll(&mut std::task::Context::from_waker(&waker))
        .is_pending()
}

/// Make `requests` from a new thread, and return once each has been posted to its actor's
/// mailbox (first polled there); the thread then waits for their answers, and returns them.
fn asked_from_another_thread(
    dir: &AccountDirectory,
    requests: Vec<PrepaidRequest>,
) -> std::thread::JoinHandle<Vec<PrepaidResponse>> {
    let (posted, wait) = std::sync::mpsc::channel();
    let dir = dir.clone();
    let thread = std::thread::spawn(move || {
        let mut asked: Vec<_> = requests
            .into_iter()
            .map(|r| Box::pin(dir.request(r)))
            .collect();
        for r in &mut asked {
            assert!(pending_after_one_poll(r.as_mut()));
        }
        posted.send(()).unwrap();
        futures::executor::block_on(futures::future::join_all(asked))
    });
    wait.recv().unwrap();
    thread
}

/// Poll `request` once on this thread, then keep the thread from running anything else (the
/// actor's task included) until the ledger has made one more record durable, for at most
/// 10 s; whether it did, and then the request's answer.
async fn journaled_when_first_polled(
    ledger: &Ledger,
    request: impl Future<Output = PrepaidResponse>,
) -> (bool, PrepaidResponse) {
    let before = ledger.durable().seq;
    let mut request = Box::pin(request);
    assert!(
        pending_after_one_poll(request.as_mut()),
        "the answer waits for durability"
    );
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ledger.durable().seq == before && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let journaled = ledger.durable().seq == before + 1;
    (journaled, request.await)
}

/// A request made on its account actor's own arbiter is decided at once, by the asking task,
/// instead of waiting in the mailbox for the actor's task to run: with the arbiter's thread
/// blocked right after the request was first polled, its record still becomes durable.
#[test]
fn a_request_on_the_actors_arbiter_is_handed_to_it_at_once() {
    with_directory_here(actor_cfg, |ledger, dir| async move {
        upsert(&dir, "A", 1000).await;
        let (journaled, answer) =
            journaled_when_first_polled(&ledger, dir.request(apply_fee(1, 100))).await;
        assert!(
            journaled,
            "the ApplyFee was journaled without the actor's task"
        );
        assert_eq!(answer, PrepaidResponse::Granted { granted: 100 });
    });
}

/// A request made on the actor's arbiter while another waits in the actor's mailbox queues
/// behind it rather than overtaking it: the first asked gets the whole balance.
#[test]
fn a_request_on_the_actors_arbiter_does_not_overtake_its_mailbox() {
    with_directory_here(actor_cfg, |_, dir| async move {
        upsert(&dir, "A", 100).await;
        // Asked from another thread: the request waits in the mailbox while this thread (the
        // actor's) does not yield.
        let first = asked_from_another_thread(&dir, vec![apply_fee(1, 100)]);
        let second = dir.request(apply_fee(2, 100)).await;
        assert_eq!(
            second,
            PrepaidResponse::Refused(Refusal::InsufficientBalance)
        );
        assert_eq!(
            first.join().unwrap(),
            vec![PrepaidResponse::Granted { granted: 100 }]
        );
    });
}

/// Requests that found the actor's mailbox full, sent once there was room, are counted out
/// of the mailbox when handled like any other: afterwards a request on the actor's arbiter is
/// handed to it at once again.
#[test]
fn requests_that_met_a_full_mailbox_leave_the_direct_way_open() {
    let cfg = |path: &Path| LedgerConfig {
        actor_mailbox: 1,
        ..actor_cfg(path)
    };
    with_directory_here(cfg, |ledger, dir| async move {
        upsert(&dir, "A", 1000).await;
        let first =
            asked_from_another_thread(&dir, (0..8).map(|c| apply_fee(10 + c, 10)).collect());
        while !first.is_finished() {
            actix_rt::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let answers = first.join().unwrap();
        assert!(answers
            .iter()
            .all(|a| *a == PrepaidResponse::Granted { granted: 10 }));
        let (journaled, answer) =
            journaled_when_first_polled(&ledger, dir.request(apply_fee(1, 100))).await;
        assert!(journaled, "handed over at once");
        assert_eq!(answer, PrepaidResponse::Granted { granted: 100 });
    });
}

// ---------------------------------------------------------------- durability relays

/// A top-up of one unit on `account` at `at`: a record to wait on.
fn top_up(account: &str, at: u64) -> Event {
    Event {
        account: id(account),
        at,
        kind: EventKind::TopUp { amount: 1 },
    }
}

/// Run `f` as a task on a fresh arbiter relaying `ledger`'s commits, and return its result.
fn on_relayed_arbiter<T, F>(ledger: &Ledger, f: impl FnOnce(Ledger) -> F + Send + 'static) -> T
where
    F: Future<Output = T> + 'static,
    T: Send + 'static,
{
    let _sys = actix::System::new();
    // As the server's: it busy polls for commits before it sleeps (`busy_poll_us`).
    let arb = durable::arbiter().unwrap();
    ledger.start_relay(&arb.handle());
    let (tx, rx) = std::sync::mpsc::channel();
    let l = ledger.clone();
    arb.spawn_fn(move || {
        actix_rt::spawn(async move {
            // The relay was queued first; let it start.
            while !l.relayed_here() {
                actix_rt::task::yield_now().await;
            }
            let _ = tx.send(f(l).await);
        });
    });
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the task on the arbiter finished");
    arb.stop();
    let _ = arb.join();
    out
}

#[test]
fn waits_on_a_relayed_arbiter_end_when_their_record_is_durable() {
    for busy_poll_us in [0, 200] {
        many_waits_on_a_relayed_arbiter(busy_poll_us);
    }
}

/// A durable ledger (fsync on) in a new temporary directory, with `busy_poll_us`.
fn polling_ledger(busy_poll_us: u64) -> (tempfile::TempDir, Ledger) {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(LedgerConfig {
        fsync: true,
        busy_poll_us,
        ..cfg(tmp.path())
    })
    .unwrap();
    (tmp, ledger)
}

fn many_waits_on_a_relayed_arbiter(busy_poll_us: u64) {
    let (_tmp, ledger) = polling_ledger(busy_poll_us);
    let (ok, durable_after) = on_relayed_arbiter(&ledger, |l| async move {
        assert!(l.relayed_here());
        // Many waits in flight at once, over several commits, each for its own record.
        let waits: Vec<_> = (0..200u64)
            .map(|i| {
                let ev = top_up(&format!("R{}", i % 7), 1_000);
                let l = l.clone();
                let seq = l.submit(ev).unwrap();
                actix_rt::spawn(async move {
                    let r = l.wait_durable(seq).await;
                    (r, l.durable().seq >= seq)
                })
            })
            .collect();
        let mut ok = 0;
        let mut durable_after = 0;
        for w in waits {
            let (r, d) = w.await.unwrap();
            ok += usize::from(r.is_ok());
            durable_after += usize::from(d);
        }
        (ok, durable_after)
    });
    assert_eq!(ok, 200);
    assert_eq!(
        durable_after, 200,
        "no wait ended before its record was durable"
    );
    assert!(!ledger.relayed_here(), "the relay runs on the arbiter only");
}

/// Submit records for `W0`…`W6` until the ledger refuses or `n` are in, each with an answer
/// left with [`Ledger::when_durable`]; return, for each answer, whether it said durable and
/// whether its record was durable when it was given. Ends within 20 s.
async fn answers_left_for_durability(l: Ledger, n: u64) -> Vec<(bool, bool)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..n {
        let ev = top_up(&format!("W{}", i % 7), 1_000);
        let Ok(seq) = l.submit(ev) else { break };
        let (tx, seen) = (tx.clone(), l.clone());
        l.when_durable(seq, move |ok| {
            let _ = tx.send((ok, seen.durable().seq >= seq));
        });
    }
    drop(tx);
    let all = async {
        let mut got = Vec::new();
        while let Some(x) = rx.recv().await {
            got.push(x);
        }
        got
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), all)
        .await
        .expect("every answer left was given")
}

/// How an account actor answers: an answer left with `Ledger::when_durable` is given once,
/// only when its record is durable: by the relay on a relayed arbiter, by a task of its own on
/// a thread without one; and given as not durable when the ledger fails first.
#[test]
fn answers_left_for_durability_are_given_once_durable_or_refused_on_failure() {
    let (_tmp, ledger) = polling_ledger(0);
    let relayed = on_relayed_arbiter(&ledger, |l| answers_left_for_durability(l, 200));
    let plain = actix::System::new().block_on(answers_left_for_durability(ledger.clone(), 200));
    for got in [relayed, plain] {
        assert_eq!(got.len(), 200);
        assert!(got.iter().all(|&(ok, durable)| ok && durable), "{got:?}");
    }

    let tmp = tempfile::tempdir().unwrap();
    let (d, f) = faulty_with(tmp.path(), 0);
    d.sync();
    let failed = on_relayed_arbiter(&d.ledger, move |l| async move {
        f.fail_sync.store(true, Ordering::SeqCst);
        answers_left_for_durability(l, 20).await
    });
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|&(ok, _)| !ok), "{failed:?}");
    drop(d);
}

/// An answer left with the relay leaves as soon as anything on its arbiter reads a newer
/// watermark (here: the next answer left), without waiting for the relay's task to get its
/// turn. The task below never yields, so the relay's task cannot run meanwhile.
#[test]
fn a_newer_watermark_read_on_the_arbiter_delivers_the_answers_it_covers_at_once() {
    let (_tmp, ledger) = polling_ledger(0);
    let tries = on_relayed_arbiter(&ledger, |l| async move {
        let mut tries = Vec::new();
        for i in 0..50u64 {
            let ev = top_up("C0", 1_000 + i);
            let seq = l.submit(ev).unwrap();
            let given = std::rc::Rc::new(std::cell::Cell::new(None));
            let g = given.clone();
            l.when_durable(seq, move |ok| g.set(Some(ok)));
            let left = given.get().is_none();
            while l.durable().seq < seq {
                std::hint::spin_loop();
            }
            l.when_durable(seq, |_| {});
            tries.push((left, given.get()));
        }
        tries
    });
    let left: Vec<_> = tries.iter().filter(|(left, _)| *left).collect();
    assert!(!left.is_empty(), "no answer had to wait: {tries:?}");
    assert!(left.iter().all(|(_, g)| *g == Some(true)), "{tries:?}");
}

#[test]
fn waits_on_a_relayed_arbiter_fail_when_the_ledger_fails() {
    for busy_poll_us in [0, 5_000] {
        waits_fail_on_a_relayed_arbiter(busy_poll_us);
    }
}

fn waits_fail_on_a_relayed_arbiter(busy_poll_us: u64) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, f) = faulty_with(tmp.path(), busy_poll_us);
    let ledger = d.ledger.clone();
    let answers = on_relayed_arbiter(&ledger, move |l| async move {
        // Waits already parked on the relay when the fsync fails, and one started after.
        f.fail_sync.store(true, Ordering::SeqCst);
        let mut waits = Vec::new();
        for i in 0..20u64 {
            let ev = top_up("W0", 1_000 + i);
            let Ok(seq) = l.submit(ev) else { break };
            let l = l.clone();
            waits.push(actix_rt::spawn(async move { l.wait_durable(seq).await }));
        }
        let mut answers = Vec::new();
        for w in waits {
            answers.push(w.await.unwrap());
        }
        answers.push(l.wait_durable(l.durable().seq + 1).await);
        answers
    });
    assert!(answers.len() >= 2);
    assert!(
        answers
            .iter()
            .all(|a| *a == Err(Refusal::LedgerUnavailable)),
        "{answers:?}"
    );
    drop(d);
}

#[test]
fn one_at_a_time_the_arbiter_polls_for_each_commit_and_hands_it_over() {
    // 5 ms of polling: the commit of a lone record (one fdatasync) is nearly always seen by
    // the poll; with polling off it never is.
    for (busy_poll_us, expect_polled) in [(5_000, true), (0, false)] {
        let (_tmp, ledger) = polling_ledger(busy_poll_us);
        let (ok, polled) = on_relayed_arbiter(&ledger, |l| async move {
            let open = Event {
                account: id("P0"),
                at: 1_000,
                kind: EventKind::AccountUpserted {
                    state: AccountState::Active,
                    expiry: None,
                    opening_balance: 0,
                },
            };
            let seq = l.submit(open).unwrap();
            l.wait_durable(seq).await.unwrap();
            let mut ok = 0;
            for i in 0..50u64 {
                let ev = top_up("P0", 1_000 + i);
                let seq = l.submit(ev).unwrap();
                let r = l.wait_durable(seq).await;
                ok += usize::from(r.is_ok() && l.durable().seq >= seq);
            }
            (ok, l.polled_here())
        });
        assert_eq!(ok, 50, "busy_poll_us {busy_poll_us}");
        assert_eq!(
            polled > 0,
            expect_polled,
            "busy_poll_us {busy_poll_us}: {polled} polled"
        );
        assert!(polled <= 51);
        assert_eq!(ledger.account(&id("P0")).unwrap().balance, 50);
    }
}

#[test]
fn a_snapshot_streamed_in_several_chunks_reads_back_whole() {
    use super::record::Enc;
    let tmp = tempfile::tempdir().unwrap();
    let accounts: Vec<Account> = (0..6000)
        .map(|i| Account::new(AccountId::new(&format!("STREAMED-ACCOUNT-{i:08}")), i * 7))
        .collect();
    let mut w = snapshot::SnapshotWriter::create(tmp.path(), 42).unwrap();
    let mut one = Enc::default();
    for a in &accounts {
        snapshot::encode_account(a, &mut one);
        w.add_encoded(&one.buf).unwrap();
        one.buf.clear();
    }
    let (path, count, bytes) = w.finish().unwrap();
    assert_eq!(count, 6000);
    let image = std::fs::read(&path).unwrap();
    assert_eq!(image.len() as u64, bytes);
    assert!(
        image.len() > 512 << 10,
        "several chunks: {} bytes",
        image.len()
    );
    // decode_snapshot checks the CRC over the whole file.
    let snapshot::Image {
        seq,
        prev,
        accounts: back,
    } = snapshot::decode_snapshot(&image).unwrap();
    assert_eq!((seq, prev), (42, None));
    assert_eq!(back.len(), accounts.len());
    for (a, b) in accounts.iter().zip(&back) {
        assert_eq!((&a.id, a.balance), (&b.id, b.balance));
    }
    // One that is dropped unfinished leaves nothing behind, not even its temporary file.
    let mut w = snapshot::SnapshotWriter::create(tmp.path(), 43).unwrap();
    w.add_encoded(&image[24..100]).unwrap();
    drop(w);
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec![path.file_name().unwrap().to_string_lossy().into_owned()]
    );
}

#[test]
fn the_coarse_clock_tells_the_same_second_as_the_precise_one() {
    for _ in 0..1000 {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let now = unix_now();
        let after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        // At most one tick behind: the same second, or the one before it at a boundary.
        assert!(now + 1 >= before && now <= after, "{before} {now} {after}");
    }
}
