//! The dashboards and alert rules against a real Prometheus (the Debian `prometheus` package:
//! `/usr/bin/prometheus` and `promtool`).
//!
//! An in-process SCP is put under load by a test SSP playing a mix of call outcomes (answered
//! postpaid and prepaid, busy, no answer, abandon, VPN and prepaid authentication failures,
//! screening, SSP aborts, undecodable messages) in a background thread. A private Prometheus
//! (free port, temporary storage, `dashboards/alerts.yml` loaded) scrapes the SCP's admin
//! listener every second. Once it has a few scrapes, every PromQL expression of every panel of
//! every dashboard in `dashboards/*.json`, and every alert rule expression, is run through
//! `/api/v1/query` and must return at least one series with a finite value.
//!
//! Grafana's variables are replaced by fixed windows: `$__rate_interval` → 15s, `$__interval`
//! → 5s, `$__range` → 1m. Alert expressions are comparisons (`expr > threshold`), which return
//! nothing while the alert does not fire; the test cuts the expression at its top-level
//! comparison operator (outside brackets, braces, parentheses and strings), checks that the
//! right-hand side is a plain number, and queries the left-hand side — the value the alert
//! compares. Prometheus' own rule evaluation must also report every rule healthy, and
//! `promtool check rules dashboards/alerts.yml` must pass.
//!
//! Without `prometheus`/`promtool` the test prints SKIP and passes, except under `CI=true`.
//!
//! `STROWGER_LOAD_SECS=N` runs the load for N seconds (default 12); with
//! `STROWGER_RENDER_OVERVIEW=docs/overview.png` the test also runs `dashboards/render.py`
//! against the run's Prometheus, which is how the README's picture is made.

mod monitoring;
mod support;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use monitoring::{call, http_get, mix};
use serde_json::Value;
use support::require_tool;
use support::server::TestServer;
use support::ssp::Ssp;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A private Prometheus, killed when dropped.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Prometheus {
    fn start(target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("prometheus.yml");
        let rules = Path::new(ROOT).join("dashboards/alerts.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files:\n  - {}\n\
                 scrape_configs:\n  - job_name: strowger\n    static_configs:\n      - targets: ['{target}']\n",
                rules.display()
            ),
        )
        .expect("write prometheus.yml");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let p = Prometheus {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http_get(addr, "/-/ready") {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready in 30 s: {}",
                p.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    fn api(&self, path: &str) -> Value {
        let (status, body) = http_get(self.addr, path).expect("prometheus API");
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        assert!(
            status == 200 && v["status"] == "success",
            "{path}: HTTP {status}: {body}"
        );
        v["data"].clone()
    }

    /// Instant query; the result vector.
    fn query(&self, expr: &str) -> Vec<Value> {
        let data = self.api(&format!("/api/v1/query?query={}", encode(expr)));
        data["result"].as_array().cloned().unwrap_or_default()
    }
}

/// Percent-encode a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Grafana's built-in variables, as fixed windows.
fn grafana_vars(expr: &str) -> String {
    let e = expr
        .replace("$__rate_interval", "15s")
        .replace("$__interval", "5s")
        .replace("$__range", "1m");
    assert!(!e.contains('$'), "unknown variable in {expr}");
    e
}

/// Split an alert expression at its top-level comparison: (left-hand side, operator,
/// right-hand side), or `None` if it has none.
fn split_comparison(expr: &str) -> Option<(&str, &str, &str)> {
    let b = expr.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else {
            match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b'=' | b'!' | b'>' | b'<' if depth == 0 => {
                    let two = expr.get(i..i + 2).unwrap_or("");
                    let op = if ["==", "!=", ">=", "<="].contains(&two) {
                        two
                    } else if c == b'>' || c == b'<' {
                        &expr[i..i + 1]
                    } else {
                        panic!("unexpected '{}' at top level of {expr}", c as char)
                    };
                    return Some((&expr[..i], op, &expr[i + op.len()..]));
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Every `expr` of every panel (rows' nested panels included) of a Grafana dashboard.
fn panel_queries(dashboard: &Value, out: &mut Vec<(String, String)>) {
    for p in dashboard["panels"].as_array().into_iter().flatten() {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push((p["title"].as_str().unwrap_or("?").to_owned(), e.to_owned()));
            }
        }
        panel_queries(p, out);
    }
}

/// Alert rules of a Prometheus rule file: (name, expr). The file is YAML; promtool validates
/// it, and Prometheus (which loaded it) hands the parsed rules back through `/api/v1/rules`.
fn alert_rules(prom: &Prometheus) -> Vec<(String, String, String)> {
    let data = prom.api("/api/v1/rules?type=alert");
    let mut out = Vec::new();
    for g in data["groups"].as_array().into_iter().flatten() {
        for r in g["rules"].as_array().into_iter().flatten() {
            out.push((
                r["name"].as_str().unwrap_or("?").to_owned(),
                r["query"].as_str().unwrap_or("").to_owned(),
                r["health"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    out
}

fn has_finite_value(result: &[Value]) -> bool {
    result.iter().any(|s| {
        s["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(f64::is_finite)
    })
}

/// Background load: a test SSP playing the call mix until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(m3ua: SocketAddr) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicUsize::new(0));
        let (s, n) = (stop.clone(), calls.clone());
        let thread = std::thread::spawn(move || {
            let mut ssp = Ssp::connect(m3ua);
            let started = Instant::now();
            let kinds = mix(120);
            let mut i = 0usize;
            while !s.load(Ordering::Relaxed) {
                call(&mut ssp, kinds[i % kinds.len()], i);
                i += 1;
                n.store(i, Ordering::Relaxed);
                // A slowly varying rate (about 25–75 calls/s) so the graphs have a shape.
                let t = started.elapsed().as_secs_f64();
                let pace = 1.0 + 0.5 * (t / 9.0).sin() + 0.2 * (t / 2.3).sin();
                std::thread::sleep(Duration::from_secs_f64(0.02 / pace.max(0.3)));
            }
        });
        Load {
            stop,
            calls,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("load thread panicked");
        }
        self.calls.load(Ordering::Relaxed)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn every_dashboard_query_and_alert_expression_returns_data() {
    if !require_tool("prometheus", &["--version"]) || !require_tool("promtool", &["--version"]) {
        return;
    }
    let rules = Path::new(ROOT).join("dashboards/alerts.yml");
    let check = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("run promtool");
    assert!(
        check.status.success(),
        "promtool check rules failed:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let srv = TestServer::start();
    let admin = srv.h().admin_addr();
    let prom = Prometheus::start(admin);
    let load = Load::start(srv.m3ua());
    let secs: u64 = std::env::var("STROWGER_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    std::thread::sleep(Duration::from_secs(secs));

    // Prometheus scrapes the SCP.
    let up = prom.query("up{job=\"strowger\"}");
    assert!(
        has_finite_value(&up) && up[0]["value"][1] == "1",
        "the SCP is not scraped: {up:?}\n{}",
        prom.log()
    );

    let mut failures = Vec::new();
    let mut checked = 0;
    let mut dashboards: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("dashboards"))
        .expect("dashboards/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    dashboards.sort();
    let names: Vec<String> = dashboards
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for want in ["overview.json", "charging.json", "protocol.json"] {
        assert!(names.iter().any(|n| n == want), "dashboards/{want} missing");
    }
    for path in &dashboards {
        let d: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read"))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            d["schemaVersion"].as_u64().unwrap_or(0) >= 39,
            "{}: schemaVersion",
            path.display()
        );
        let vars = d["templating"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            vars.iter()
                .any(|v| v["name"] == "datasource" && v["query"] == "prometheus"),
            "{}: no ${{datasource}} Prometheus variable",
            path.display()
        );
        let mut queries = Vec::new();
        panel_queries(&d, &mut queries);
        assert!(!queries.is_empty(), "{}: no queries", path.display());
        for (title, expr) in queries {
            let q = grafana_vars(&expr);
            let r = prom.query(&q);
            checked += 1;
            if !has_finite_value(&r) {
                failures.push(format!(
                    "{} / {title}: {q} → {r:?}",
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ));
            }
        }
    }

    // Wait until Prometheus has evaluated every rule at least once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let alerts = loop {
        let a = alert_rules(&prom);
        if a.iter().all(|(_, _, h)| h == "ok") || Instant::now() > deadline {
            break a;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(alerts.len() >= 10, "alert rules not loaded: {alerts:?}");
    for (name, expr, health) in &alerts {
        assert_eq!(health, "ok", "{name}: rule health {health}");
        let (lhs, _op, rhs) =
            split_comparison(expr).unwrap_or_else(|| panic!("{name}: no comparison in {expr}"));
        assert!(
            rhs.trim().parse::<f64>().is_ok(),
            "{name}: right-hand side {rhs:?} is not a number"
        );
        let r = prom.query(lhs.trim());
        checked += 1;
        if !has_finite_value(&r) {
            failures.push(format!("alert {name}: {lhs} → {r:?}"));
        }
    }

    if let Ok(out) = std::env::var("STROWGER_RENDER_OVERVIEW") {
        let status = Command::new("python3")
            .arg(Path::new(ROOT).join("dashboards/render.py"))
            .args(["--prometheus", &format!("http://{}", prom.addr)])
            .args(["--seconds", &(secs + 5).to_string()])
            .args(["--out", &out])
            .status()
            .expect("run render.py");
        assert!(status.success(), "render.py failed");
    }

    let calls = load.finish();
    eprintln!(
        "{calls} calls played; {checked} expressions checked; {} failed",
        failures.len()
    );
    assert!(calls >= 100, "only {calls} calls played");
    assert!(
        failures.is_empty(),
        "expressions without data:\n{}",
        failures.join("\n")
    );
    drop(prom);
    drop(srv);
}

#[test]
fn comparison_split() {
    assert_eq!(
        split_comparison("sum(rate(x{a!~\"b|c\"}[5m])) / sum(y) < 0.95"),
        Some(("sum(rate(x{a!~\"b|c\"}[5m])) / sum(y) ", "<", " 0.95"))
    );
    assert_eq!(
        split_comparison("up{job=\"s\"} == 0"),
        Some(("up{job=\"s\"} ", "==", " 0"))
    );
    assert_eq!(split_comparison("sum(x)"), None);
}
