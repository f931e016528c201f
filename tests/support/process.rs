//! `strowger serve` as a child process (the real binary, as operators run it), on ephemeral
//! ports with the example provisioning; stopped with SIGTERM (drain, flush CDRs) on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The admin token of every child server.
pub const TOKEN: &str = "test-token";

/// A running `strowger serve` process.
pub struct ServeProcess {
    child: Option<Child>,
    /// Its M3UA listener.
    pub m3ua: SocketAddr,
    /// Its admin API.
    pub admin: SocketAddr,
    /// Its data directory (ledger, CDRs).
    pub data: PathBuf,
    _dir: tempfile::TempDir,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl ServeProcess {
    /// Start it with the common configuration plus `node` (more lines of the `[node]` table)
    /// and `extra` (more tables); returns once it logs the addresses it bound.
    pub fn start(node: &str, extra: &str) -> ServeProcess {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let cfg = dir.path().join("strowger.toml");
        std::fs::write(
            &cfg,
            format!(
                r#"
[node]
data_dir = "{data}"
{node}
[m3ua]
listen = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"
token = "{TOKEN}"
[engine]
arbiters = 2
drain_seconds = 5
[log]
format = "json"
level = "info"
[services]
provisioning = "{prov}"
{extra}
"#,
                data = data.display(),
                prov = root().join("examples/provisioning.toml").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_strowger"))
            .args(["serve", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("strowger serve starts");
        // Read the log until the "running" line names the bound addresses; keep draining it
        // afterwards so the child never blocks on a full pipe.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(t) = &tx {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                        let f = &v["fields"];
                        if f["message"] == "strowger SCP running" {
                            let m3ua = f["m3ua"].as_str().unwrap_or("").trim_matches(['[', ']']);
                            let first = m3ua.split(',').next().unwrap_or("").trim().to_string();
                            let admin = f["admin"].as_str().unwrap_or("").to_string();
                            let _ = t.send((first, admin));
                            tx = None;
                        }
                    } else if line.contains("strowger:") {
                        eprintln!("serve: {line}");
                    }
                }
            }
        });
        let (m3ua, admin) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("strowger serve reports its addresses");
        ServeProcess {
            child: Some(child),
            m3ua: m3ua.parse().expect("M3UA address"),
            admin: admin.parse().expect("admin address"),
            data,
            _dir: dir,
        }
    }

    /// SIGTERM (drain, flush CDRs) and wait; SIGKILL if it takes more than 20 s.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child process.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            for _ in 0..400 {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGKILL: the process dies on the spot.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every CDR it wrote so far.
    pub fn cdrs(&self) -> Vec<serde_json::Value> {
        strowger::cdr_sink::read_all(&self.data.join("cdr")).unwrap_or_default()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
