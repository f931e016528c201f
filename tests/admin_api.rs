//! The admin HTTP API against its contract, `docs/openapi.yaml`:
//! - the document lists exactly `strowger::admin::ROUTES` (method, path), every change is
//!   documented with bearer auth and its 401/403 answers, every read without;
//! - on a live server every route answers (no 404/405 for a listed route);
//! - changes without a token get 401, with a wrong token 403 (checked before the body is read),
//!   and change nothing; bad bodies get a 4xx JSON `{"error": ...}` and change nothing;
//! - top-up and adjustment move the balance; a provisioning change (new account, new member)
//!   persists across a restart on the same data directory and is used by calls;
//! - the ledger's state is shown, and a snapshot is written on request.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use strowger_cap::OpCode;
use support::server::{http, http_raw, TestServer};
use support::ssp::{begin, idp, Components, Ssp, CAP_V2};

const TOKEN: &str = "test-token";
const OPENAPI: &str = include_str!("../docs/openapi.yaml");

/// One operation of the OpenAPI document: its lines (for simple checks).
struct Operation {
    text: String,
}

/// A minimal reader of the document's `paths:` section: `  /path:` at indent 2, `    method:`
/// at indent 4, the operation's body below it.
fn openapi_operations() -> BTreeMap<(String, String), Operation> {
    const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];
    let mut ops = BTreeMap::new();
    let mut in_paths = false;
    let mut path: Option<String> = None;
    let mut current: Option<(String, String)> = None;
    for line in OPENAPI.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            in_paths = line == "paths:";
            path = None;
            current = None;
            continue;
        }
        if !in_paths {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let key = line.trim().strip_suffix(':');
        match (indent, key) {
            (2, Some(p)) => {
                assert!(p.starts_with('/'), "path key {p:?}");
                path = Some(p.to_string());
                current = None;
            }
            (4, Some(m)) if METHODS.contains(&m) => {
                let p = path.clone().expect("method under a path");
                let k = (m.to_uppercase(), p);
                assert!(!ops.contains_key(&k), "duplicate operation {k:?}");
                ops.insert(
                    k.clone(),
                    Operation {
                        text: String::new(),
                    },
                );
                current = Some(k);
            }
            (4, _) => current = None,
            _ => {
                if let Some(k) = &current {
                    let op = ops.get_mut(k).unwrap();
                    op.text.push_str(line);
                    op.text.push('\n');
                }
            }
        }
    }
    ops
}

#[test]
fn openapi_documents_exactly_the_routes() {
    let ops = openapi_operations();
    let documented: BTreeSet<(String, String)> = ops.keys().cloned().collect();
    let served: BTreeSet<(String, String)> = strowger::admin::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not served"
    );
    assert_eq!(
        served.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served but not documented"
    );
    assert!(OPENAPI.starts_with("openapi: 3.0"));
    assert!(OPENAPI.contains("bearerAuth:\n      type: http\n      scheme: bearer"));
    for ((method, path), op) in &ops {
        let change = method != "GET";
        assert_eq!(
            op.text.contains("- bearerAuth: []"),
            change,
            "{method} {path}: bearer auth on every change, none on reads"
        );
        if change {
            for code in ["\"401\":", "\"403\":"] {
                assert!(op.text.contains(code), "{method} {path} documents {code}");
            }
        }
        assert!(
            op.text.contains("\"200\":"),
            "{method} {path} documents 200"
        );
    }
}

/// A concrete path for a route template.
fn concrete(path: &str) -> String {
    let p = if path.starts_with("/accounts") {
        path.replace("{id}", "ACC-1002")
    } else if path.starts_with("/tariffs") {
        path.replace("{id}", "onnet")
    } else {
        path.replace("{id}", "acme-us")
    };
    p.replace("{number}", "12125550101")
}

/// A valid body for a change route (what the route would accept with the right token).
fn valid_body(srv: &TestServer, method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("PUT", "/accounts/{id}") => Some(json!({ "id": "ACC-1002", "balance": 5000 })),
        ("POST", "/accounts/{id}/topup") | ("POST", "/accounts/{id}/adjust") => {
            Some(json!({ "amount": 1 }))
        }
        ("PUT", "/groups/{id}") => {
            let (_, mut g) = srv.get("/groups/acme-us");
            g.as_object_mut().unwrap().remove("member");
            g.as_object_mut().unwrap().remove("member_range");
            Some(g)
        }
        ("PUT", "/groups/{id}/members/{number}") => Some(alice(srv)),
        ("PUT", "/tariffs/{id}") => {
            let (_, t) = srv.get("/tariffs");
            t.as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == "onnet")
                .cloned()
        }
        _ => None,
    }
}

fn alice(srv: &TestServer) -> Value {
    let (_, g) = srv.get("/groups/acme-us");
    g["member"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["number"] == "12125550101")
        .cloned()
        .unwrap()
}

/// Everything the API can show, to check that refused requests change nothing.
fn state(srv: &TestServer) -> Value {
    json!({
        "groups": srv.get("/groups").1,
        "tariffs": srv.get("/tariffs").1,
        "acc": srv.get("/accounts/ACC-1002").1,
        "acc3": srv.get("/accounts/ACC-3001").0,
    })
}

fn assert_error(status: u16, body: &Value, want: u16, what: &str) {
    assert_eq!(status, want, "{what}: {body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: JSON error body, got {body}"
    );
}

#[test]
fn every_route_answers_and_every_change_needs_the_token() {
    let srv = TestServer::start();
    let addr = srv.admin();
    let before = state(&srv);
    for &(method, path) in strowger::admin::ROUTES {
        let p = concrete(path);
        if method == "GET" {
            let (s, v) = http(addr, method, &p, None, None);
            assert_eq!(s, 200, "GET {p}: {v}");
            continue;
        }
        let body = valid_body(&srv, method, path);
        let (s, v) = http(addr, method, &p, None, body.as_ref());
        assert_error(s, &v, 401, &format!("{method} {p} without a token"));
        let (s, v) = http(addr, method, &p, Some("wrong-token"), body.as_ref());
        assert_error(s, &v, 403, &format!("{method} {p} with a wrong token"));
        // The token is checked before the body is read: a bad body changes nothing.
        let (s, v) = http_raw(addr, method, &p, None, "not json");
        assert_error(
            s,
            &v,
            401,
            &format!("{method} {p} without a token, bad body"),
        );
        let (s, v) = http_raw(addr, method, &p, Some("Bearer"), "");
        assert_error(
            s,
            &v,
            403,
            &format!("{method} {p} with a wrong token, no body"),
        );
    }
    assert_eq!(state(&srv), before, "refused requests change nothing");
    // Not routes: 404 JSON.
    let (s, v) = http(addr, "GET", "/nope", None, None);
    assert_error(s, &v, 404, "unknown route");
    // With the token each change route is reached (valid bodies: no 404/405).
    for &(method, path) in strowger::admin::ROUTES {
        if method == "DELETE" || method == "GET" {
            continue;
        }
        let p = concrete(path);
        let body = valid_body(&srv, method, path);
        let (s, v) = http(addr, method, &p, Some(TOKEN), body.as_ref());
        assert_eq!(s, 200, "{method} {p}: {v}");
    }
}

#[test]
fn bad_bodies_get_a_json_error_and_change_nothing() {
    let srv = TestServer::start();
    let addr = srv.admin();
    let before = state(&srv);
    let post = |path: &str, body: &str| http_raw(addr, "POST", path, Some(TOKEN), body);
    let put = |path: &str, body: &Value| http(addr, "PUT", path, Some(TOKEN), Some(body));
    let del = |path: &str| http(addr, "DELETE", path, Some(TOKEN), None);

    let mut cases: Vec<(&str, (u16, Value), u16)> = vec![
        (
            "top-up: not JSON",
            post("/accounts/ACC-1002/topup", "{"),
            400,
        ),
        (
            "top-up: amount not a number",
            post("/accounts/ACC-1002/topup", r#"{"amount":"ten"}"#),
            400,
        ),
        (
            "top-up: unknown field",
            post("/accounts/ACC-1002/topup", r#"{"amount":5,"x":1}"#),
            400,
        ),
        ("top-up: no body", post("/accounts/ACC-1002/topup", ""), 400),
        (
            "top-up: zero",
            post("/accounts/ACC-1002/topup", r#"{"amount":0}"#),
            422,
        ),
        (
            "top-up: negative",
            post("/accounts/ACC-1002/topup", r#"{"amount":-5}"#),
            422,
        ),
        (
            "top-up: unknown account",
            post("/accounts/NOPE/topup", r#"{"amount":5}"#),
            404,
        ),
        (
            "adjust below zero",
            post("/accounts/ACC-1002/adjust", r#"{"amount":-5001}"#),
            422,
        ),
        (
            "account: id differs from the path",
            put(
                "/accounts/ACC-3001",
                &json!({"id": "ACC-3002", "balance": 1}),
            ),
            400,
        ),
        (
            "account: bad expiry",
            put(
                "/accounts/ACC-3001",
                &json!({"id": "ACC-3001", "balance": 1, "expiry": "31/12/2030"}),
            ),
            422,
        ),
        (
            "account: negative opening balance",
            put(
                "/accounts/ACC-3001",
                &json!({"id": "ACC-3001", "balance": -1}),
            ),
            422,
        ),
        (
            "account: unknown state",
            put(
                "/accounts/ACC-3001",
                &json!({"id": "ACC-3001", "balance": 1, "state": "frozen"}),
            ),
            400,
        ),
    ];
    let (_, group) = srv.get("/groups/acme-us");
    let mut g = group.clone();
    g["id"] = json!("other");
    cases.push(("group: id differs", put("/groups/acme-us", &g), 400));
    let mut g = group.clone();
    g["service_keys"] = json!([]);
    cases.push(("group: no service keys", put("/groups/acme-us", &g), 422));
    let mut g = group.clone();
    g["on_net_tariff"] = json!("no-such-tariff");
    cases.push(("group: unknown tariff", put("/groups/acme-us", &g), 422));
    let mut g = group.clone();
    g["extension_length"] = json!(9);
    cases.push(("group: extension length", put("/groups/acme-us", &g), 422));
    let mut m = alice(&srv);
    m["extension"] = json!("01010");
    cases.push((
        "member: extension of the wrong length",
        put("/groups/acme-us/members/12125550101", &m),
        422,
    ));
    let mut m = alice(&srv);
    m["charging"] = json!({"mode": "prepaid", "account": "NOPE"});
    cases.push((
        "member: unknown account",
        put("/groups/acme-us/members/12125550101", &m),
        422,
    ));
    let mut m = alice(&srv);
    m["pin_policy"] = json!("always");
    cases.push((
        "member: PIN asked but none provisioned",
        put("/groups/acme-us/members/12125550101", &m),
        422,
    ));
    let m = alice(&srv);
    cases.push((
        "member: number differs",
        put("/groups/acme-us/members/12125550199", &m),
        400,
    ));
    cases.push((
        "member: unknown group",
        put("/groups/nope/members/12125550101", &m),
        404,
    ));
    let mut m = alice(&srv);
    m["extension"] = json!("0102");
    cases.push((
        "member: duplicate extension",
        put("/groups/acme-us/members/12125550101", &m),
        422,
    ));
    let t = json!({"id": "t1", "class": [{"name": "x", "prefixes": [""],
        "price_per_minute": 1, "first_interval": 0, "next_interval": 1}]});
    cases.push(("tariff: zero interval", put("/tariffs/t1", &t), 422));
    let t = json!({"id": "t1", "class": [{"name": "x", "prefixes": [],
        "price_per_minute": 1, "first_interval": 1, "next_interval": 1}]});
    cases.push(("tariff: no prefixes", put("/tariffs/t1", &t), 422));
    let t = json!({"id": "t2", "class": []});
    cases.push(("tariff: id differs", put("/tariffs/t1", &t), 400));
    cases.push(("delete: tariff in use", del("/tariffs/onnet"), 409));
    cases.push(("delete: unknown tariff", del("/tariffs/nope"), 404));
    cases.push(("delete: unknown group", del("/groups/nope"), 404));
    cases.push((
        "delete: unknown member",
        del("/groups/acme-us/members/12125550199"),
        404,
    ));
    cases.push((
        "delete: member generated by a range",
        del("/groups/acme-us/members/12125560000"),
        409,
    ));
    let mut failures = Vec::new();
    for (what, (s, v), want) in &cases {
        if *s != *want || !v["error"].as_str().is_some_and(|e| !e.is_empty()) {
            failures.push(format!("{what}: want {want} + JSON error, got {s} {v}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(state(&srv), before, "refused requests change nothing");
    // Nor on disk: a restart shows the same state.
    let srv = srv.restart();
    assert_eq!(state(&srv), before, "nothing refused was persisted");
}

#[test]
fn top_up_and_adjust_move_the_balance() {
    let srv = TestServer::start();
    let addr = srv.admin();
    let (_, v0) = srv.get("/accounts/ACC-1002");
    let (s, v) = http(
        addr,
        "POST",
        "/accounts/ACC-1002/topup",
        Some(TOKEN),
        Some(&json!({"amount": 500})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["balance"], v0["balance"].as_i64().unwrap() + 500);
    assert_eq!(v["available"], v["balance"]);
    assert_eq!(
        v["totals"]["topped_up"],
        v0["totals"]["topped_up"].as_i64().unwrap() + 500
    );
    let (s, v) = http(
        addr,
        "POST",
        "/accounts/ACC-1002/adjust",
        Some(TOKEN),
        Some(&json!({"amount": -100})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["balance"], v0["balance"].as_i64().unwrap() + 400);
    assert_eq!(
        v["totals"]["adjusted"],
        v0["totals"]["adjusted"].as_i64().unwrap() - 100
    );
    assert_eq!(srv.balance("ACC-1002"), (5400, 0));
    // Durable: the ledger keeps it across a restart.
    let srv = srv.restart();
    assert_eq!(srv.balance("ACC-1002"), (5400, 0));
}

/// `GET /ledger` shows the journal and the snapshots; `POST /ledger/snapshot` writes one now:
/// full on request, else a delta of the accounts changed since the one before.
#[test]
fn the_ledger_shows_its_state_and_takes_a_snapshot_on_request() {
    let srv = TestServer::start();
    let addr = srv.admin();
    let (s, v) = srv.get("/ledger");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["backend"], "embedded");
    let e = &v["embedded"];
    assert!(e["accounts"].as_u64().unwrap() >= 8, "{v}");
    assert!(e["durable_seq"].as_u64().unwrap() > 0, "{v}");
    assert!(e["failure"].is_null(), "{v}");
    let durable = e["durable_seq"].as_u64().unwrap();
    let snapshot = |query: &str| {
        let (s, v) = http(
            addr,
            "POST",
            &format!("/ledger/snapshot{query}"),
            Some(TOKEN),
            None,
        );
        assert_eq!(s, 200, "{v}");
        v["embedded"].clone()
    };
    let full = snapshot("?full=true");
    assert!(full["snapshot_seq"].as_u64().unwrap() >= durable, "{full}");
    assert!(full["snapshot_full_bytes"].as_u64().unwrap() > 0, "{full}");
    assert_eq!(full["snapshot_deltas"], 0, "{full}");
    // One account changes: the next is a delta over the full one.
    let (s, v) = http(
        addr,
        "POST",
        "/accounts/ACC-1002/topup",
        Some(TOKEN),
        Some(&json!({"amount": 5})),
    );
    assert_eq!(s, 200, "{v}");
    let delta = snapshot("");
    assert!(delta["snapshot_seq"].as_u64() > full["snapshot_seq"].as_u64());
    assert_eq!(delta["snapshot_deltas"], 1, "{delta}");
    assert_eq!(delta["snapshot_full_bytes"], full["snapshot_full_bytes"]);
    let (_, shown) = srv.get("/ledger");
    assert_eq!(shown["embedded"]["snapshot_seq"], delta["snapshot_seq"]);
    let (s, v) = http(
        addr,
        "POST",
        "/ledger/snapshot?full=maybe",
        Some(TOKEN),
        None,
    );
    assert_error(s, &v, 400, "a query that is not a boolean");
    // A restart loads the full snapshot and the delta, and finds the top-up.
    let srv = srv.restart();
    let (_, v) = srv.get("/ledger");
    assert_eq!(
        v["embedded"]["recovered_snapshot_seq"],
        delta["snapshot_seq"]
    );
    assert_eq!(srv.balance("ACC-1002").0, 5005);
}

/// A stopped server has closed its ledger, whoever still holds a clone (in production: an
/// admin HTTP worker thread that is still ending; here: the test), so a restart on the same
/// directory is never refused as "locked by another process".
#[test]
fn a_stopped_server_unlocks_its_ledger_while_a_clone_lives() {
    let srv = TestServer::start();
    let kept = srv.h().engine().clone();
    let (s, v) = http(
        srv.admin(),
        "POST",
        "/accounts/ACC-1002/topup",
        Some(TOKEN),
        Some(&json!({"amount": 7})),
    );
    assert_eq!(s, 200, "{v}");
    let srv = srv.restart();
    assert_eq!(srv.balance("ACC-1002"), (5007, 0));
    drop(kept);
}

#[test]
fn provisioning_changes_persist_across_a_restart_and_are_used_by_calls() {
    let srv = TestServer::start();
    let addr = srv.admin();
    let (s, v) = http(
        addr,
        "PUT",
        "/accounts/ACC-3001",
        Some(TOKEN),
        Some(&json!({"id": "ACC-3001", "balance": 1000, "expiry": "2030-12-31"})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["balance"], 1000);
    let member = json!({
        "number": "12125550111",
        "extension": "0111",
        "class_of_service": "national",
        "charging": {"mode": "prepaid", "account": "ACC-3001"},
    });
    let (s, v) = http(
        addr,
        "PUT",
        "/groups/acme-us/members/12125550111",
        Some(TOKEN),
        Some(&member),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!({"ok": true}));
    let tariff = json!({"id": "cheap", "class": [{"name": "all", "prefixes": [""],
        "price_per_minute": 1, "setup": 0, "first_interval": 60, "next_interval": 60}]});
    let (s, v) = http(addr, "PUT", "/tariffs/cheap", Some(TOKEN), Some(&tariff));
    assert_eq!(s, 200, "{v}");

    let srv = srv.restart();
    let (_, g) = srv.get("/groups/acme-us");
    let m = g["member"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["number"] == "12125550111")
        .cloned()
        .expect("the new member survives a restart");
    assert_eq!(m["extension"], "0111");
    assert_eq!(m["charging"]["account"], "ACC-3001");
    assert_eq!(srv.balance("ACC-3001"), (1000, 0));
    let (_, t) = srv.get("/tariffs");
    assert!(t.as_array().unwrap().iter().any(|t| t["id"] == "cheap"));

    // The new member calls Alice's extension: a prepaid call on ACC-3001.
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(
        tid,
        CAP_V2,
        &Components::default().raw_invoke(1, 0, Some(&idp(100, "12125550111", "0101"))),
    ));
    let r = ssp.expect();
    assert_eq!(
        r.opcodes(),
        vec![
            OpCode::REQUEST_REPORT_BCSM_EVENT.0,
            OpCode::APPLY_CHARGING.0,
            OpCode::CONNECT.0
        ],
        "{r:?}"
    );
    assert_eq!(
        srv.balance("ACC-3001").1,
        4,
        "a 120 s on-net slice reserved"
    );
    drop(ssp);

    // Deleting persists too.
    let (s, v) = http(srv.admin(), "DELETE", "/tariffs/cheap", Some(TOKEN), None);
    assert_eq!(s, 200, "{v}");
    let srv = srv.restart();
    let (_, t) = srv.get("/tariffs");
    assert!(!t.as_array().unwrap().iter().any(|t| t["id"] == "cheap"));
}

#[test]
fn an_existing_account_keeps_its_ledger_balance_and_its_new_state_applies_to_calls() {
    let srv = TestServer::start();
    let (s, v) = http(
        srv.admin(),
        "PUT",
        "/accounts/ACC-1002",
        Some(TOKEN),
        Some(&json!({"id": "ACC-1002", "balance": 1, "state": "suspended"})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["balance"], 5000,
        "the ledger is authoritative for the balance"
    );
    assert_eq!(v["state"], "suspended");
    // Bob (ACC-1002) now fails prepaid authentication: announcement 2.
    let mut ssp = Ssp::connect(srv.m3ua());
    let tid = ssp.tid();
    ssp.send_tcap(&begin(
        tid,
        CAP_V2,
        &Components::default().raw_invoke(1, 0, Some(&idp(100, "12125550102", "0101"))),
    ));
    let r = ssp.expect();
    assert_eq!(
        r.opcodes(),
        vec![OpCode::CONNECT_TO_RESOURCE.0, OpCode::PLAY_ANNOUNCEMENT.0],
        "{r:?}"
    );
    assert_eq!(r.announcement(), Some(2));
    drop(ssp);
    let srv = srv.restart();
    let (_, v) = srv.get("/accounts/ACC-1002");
    assert_eq!(
        (&v["balance"], &v["state"]),
        (&json!(5000), &json!("suspended"))
    );
}
