//! `request_all`: several operations of one call on one account in one trip to its actor.

use std::path::Path;

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

fn cfg(dir: &Path) -> LedgerConfig {
    LedgerConfig {
        dir: dir.to_path_buf(),
        fsync: true,
        reservation_expiry_secs: 3600,
        ..LedgerConfig::default()
    }
}

async fn upsert(dir: &AccountDirectory, name: &str, balance: Money) {
    dir.admin(AdminRequest::Upsert {
        account: id(name),
        state: AccountState::Active,
        expiry: None,
        opening_balance: balance,
    })
    .await
    .unwrap();
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

fn shutdown(arb: actix::Arbiter, dir: AccountDirectory) {
    arb.stop();
    let _ = arb.join();
    drop(dir);
}

#[actix_rt::test]
async fn deduct_and_return_together_are_two_records_durable_before_the_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(cfg(tmp.path())).unwrap();
    let arb = actix::Arbiter::new();
    let dir = AccountDirectory::start(ledger.clone(), vec![arb.handle()]);
    upsert(&dir, "A", 1000).await;
    let apply = PrepaidRequest::ApplyFee {
        key: key(7, 0),
        account: id("A"),
        want: 600,
        min: 10,
    };
    assert_eq!(
        dir.request(apply).await,
        PrepaidResponse::Granted { granted: 600 }
    );
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
    let ledger = Ledger::open(cfg(tmp.path())).unwrap();
    let arb = actix::Arbiter::new();
    let dir = AccountDirectory::start(ledger.clone(), vec![arb.handle()]);
    assert_eq!(ledger.account(&id("A")).unwrap().balance, 750);
    assert_eq!(dir.request_all(settle("A", 7, 250)).await, answers);
    assert_eq!(ledger.account(&id("A")).unwrap().balance, 750);
    shutdown(arb, dir);
}

#[actix_rt::test]
async fn batches_are_refused_whole_for_unknown_or_mixed_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(cfg(tmp.path())).unwrap();
    let arb = actix::Arbiter::new();
    let dir = AccountDirectory::start(ledger.clone(), vec![arb.handle()]);
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
    let ledger = Ledger::open(cfg(tmp.path())).unwrap();
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
