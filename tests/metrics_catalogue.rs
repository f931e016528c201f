//! `docs/metrics.md` lists exactly the metric families the server exports: a server is started,
//! successful, failed and aborted calls and undecodable messages are played so every family
//! has its series, `/metrics` is scraped, and the two sets of names are compared (histogram
//! `_bucket`/`_sum`/`_count` folded). Types are compared too, and label values checked against
//! the naming rules (no numbers, ids or MSISDNs).

mod monitoring;
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use monitoring::{call, catalogue, families, mix, postgres_only, samples, scrape, types, Kind};
use support::server::TestServer;
use support::ssp::Ssp;

#[test]
fn catalogue_equals_exported_families() {
    let srv = TestServer::start();
    let mut ssp = Ssp::connect(srv.m3ua());
    let kinds = mix(24);
    let calls = kinds.iter().filter(|k| **k != Kind::Garbage).count() + 1;
    for (i, kind) in kinds.into_iter().enumerate() {
        call(&mut ssp, kind, i);
    }
    // A long prepaid call (a second slice) as well.
    call(&mut ssp, Kind::Prepaid { secs: 150 }, 99);
    let admin = srv.h().admin_addr();
    // Calls are counted when settled; wait until the aborted one is.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = scrape(admin);
        let settled = samples(&text).iter().any(|s| {
            s.name == "strowger_calls_total"
                && s.labels.get("outcome").map(String::as_str) == Some("aborted")
                && s.value > 0.0
        });
        if settled || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    let exported = families(&text);
    let documented: BTreeSet<String> = catalogue().keys().cloned().collect();
    let missing_doc: Vec<_> = exported.difference(&documented).collect();
    // The server runs the embedded ledger: rows of the PostgreSQL backend may be absent.
    let optional = postgres_only();
    let not_exported: Vec<_> = documented
        .difference(&exported)
        .filter(|n| !optional.contains(*n))
        .collect();
    assert!(
        missing_doc.is_empty() && not_exported.is_empty(),
        "exported but not in docs/metrics.md: {missing_doc:?}\n\
         documented but not exported: {not_exported:?}\n--- /metrics ---\n{text}"
    );

    // Types agree ("gauge (monotonic)" is a gauge on the wire).
    let wire = types(&text);
    for (name, doc_type) in catalogue() {
        let Some(t) = wire.get(&name).map(String::as_str) else {
            assert!(optional.contains(&name), "{name}: no # TYPE line");
            continue;
        };
        assert!(
            doc_type.starts_with(t),
            "{name}: exported as {t}, documented as {doc_type}"
        );
    }

    // Naming rules: counters end in _total; label values come from fixed sets (never numbers).
    for (name, t) in &wire {
        if name.starts_with("strowger_") && t == "counter" {
            assert!(
                name.ends_with("_total"),
                "counter {name} must end in _total"
            );
        }
    }
    for s in samples(&text) {
        for (k, v) in &s.labels {
            if k == "le" || k == "quantile" {
                continue;
            }
            assert!(
                !v.is_empty() && !v.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{}: label {k}={v:?} looks like a number",
                s.name
            );
            assert!(
                v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{}: label {k}={v:?} is not a plain identifier",
                s.name
            );
        }
    }

    // The traffic really produced what the catalogue promises.
    let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
        samples(&text)
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k).map(String::as_str) == Some(v)))
            .map(|s| s.value)
            .sum()
    };
    for outcome in [
        "answered",
        "busy",
        "no_answer",
        "abandon",
        "vpn_auth_failed",
        "prepaid_auth_failed",
        "screened",
        "aborted",
    ] {
        assert!(
            value("strowger_calls_total", Some(("outcome", outcome))) > 0.0,
            "no {outcome} call counted"
        );
    }
    for op in ["applied", "deducted", "returned"] {
        assert!(
            value(
                "strowger_prepaid_money_minor_units_total",
                Some(("operation", op))
            ) > 0.0,
            "no money {op}"
        );
    }
    assert_eq!(value("strowger_call_attempts_total", None), calls as f64);
    assert!(value("strowger_m3ua_links", Some(("state", "active"))) >= 1.0);
    assert!(value("strowger_decode_errors_total", Some(("layer", "tcap"))) > 0.0);
    assert!(value("strowger_decode_errors_total", Some(("layer", "sccp"))) > 0.0);
    assert!(
        value(
            "strowger_tcap_dialogues_aborted_total",
            Some(("cause", "user"))
        ) > 0.0
    );
    assert!(value("strowger_call_setup_seconds_count", None) > 0.0);
    assert!(value("strowger_call_duration_seconds_count", None) > 0.0);
    assert!(value("strowger_ledger_commits_total", None) > 0.0);
    assert!(value("strowger_ledger_journal_bytes", None) > 0.0);
    assert!(value("strowger_process_cpu_seconds_total", None) > 0.0);
    assert!(value("strowger_process_resident_memory_bytes", None) > 1e6);
    drop(ssp);
}
