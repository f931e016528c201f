//! Start an in-process SCP on ephemeral ports with a fresh data directory.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use strowger::config::Config;
use strowger::server::{start, ServeOptions, ServerHandle};

pub struct TestServer {
    pub handle: Option<ServerHandle>,
    pub dir: tempfile::TempDir,
}

pub fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.node.data_dir = dir.join("data");
    c.m3ua.listen = vec!["127.0.0.1:0".parse().unwrap()];
    c.admin.listen = "127.0.0.1:0".parse().unwrap();
    c.admin.token = "test-token".into();
    c.services.provisioning =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/provisioning.toml");
    c.engine.arbiters = 2;
    c.ledger.snapshot_every_secs = 3600;
    c
}

impl TestServer {
    pub fn start_with(f: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        f(&mut c);
        let handle = start(c, ServeOptions::default()).expect("SCP starts");
        TestServer {
            handle: Some(handle),
            dir,
        }
    }
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }
    pub fn h(&self) -> &ServerHandle {
        self.handle.as_ref().unwrap()
    }
    pub fn m3ua(&self) -> std::net::SocketAddr {
        self.h().m3ua_addr()
    }
    /// GET a JSON document from the admin API.
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        http(self.h().admin_addr(), "GET", path, None, None)
    }
    pub fn balance(&self, account: &str) -> (i64, i64) {
        let (s, v) = self.get(&format!("/accounts/{account}"));
        assert_eq!(s, 200, "{v}");
        (
            v["balance"].as_i64().unwrap(),
            v["reserved"].as_i64().unwrap(),
        )
    }
    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop().unwrap();
        }
    }
    /// Stop this server and start a new one on the same data directory (ledger, persisted
    /// provisioning, CDRs), with the same test configuration changed by `f`.
    pub fn restart_with(mut self, f: impl FnOnce(&mut Config)) -> TestServer {
        self.stop();
        let mut c = config(self.dir.path());
        f(&mut c);
        let handle = start(c, ServeOptions::default()).expect("SCP restarts");
        TestServer {
            handle: Some(handle),
            dir: self.dir,
        }
    }
    pub fn restart(self) -> TestServer {
        self.restart_with(|_| {})
    }
    pub fn admin(&self) -> std::net::SocketAddr {
        self.h().admin_addr()
    }
    /// Wait (up to 3 s) until `account` holds no reservation; returns (balance, reserved).
    pub fn wait_settled(&self, account: &str) -> (i64, i64) {
        let mut b = self.balance(account);
        for _ in 0..150 {
            if b.1 == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            b = self.balance(account);
        }
        b
    }
    pub fn cdrs(&self) -> Vec<serde_json::Value> {
        strowger::cdr_sink::read_all(&self.dir.path().join("data/cdr")).unwrap_or_default()
    }
}

/// A minimal HTTP/1.1 client (no extra dependency): method, path, optional bearer token and
/// JSON body; returns status and JSON body (Null if not JSON).
pub fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    http_raw(addr, method, path, token, &body)
}

/// [`http`] with a raw body (possibly not JSON at all).
pub fn http_raw(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status: u16 = resp[9..12].parse().unwrap();
    let json = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .and_then(|b| {
            // Chunked bodies: take the JSON between the first '{'/'[' and the last '}'/']'.
            let start = b.find(['{', '['])?;
            let end = b.rfind(['}', ']'])?;
            serde_json::from_str(&b[start..=end]).ok()
        })
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}
