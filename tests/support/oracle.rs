//! tshark as an independent oracle over whole M3UA messages (DESIGN.md §3 "Independent
//! oracles"): each message is framed as an SCTP DATA chunk (PPI 3) by the project's pcap writer,
//! the trace is decoded once by tshark, and every frame is checked for Malformed/Exception/expert
//! errors and for the field values the test meant to encode.
//!
//! Included by the oracle tests with `#[path = "support/oracle.rs"]`.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::Command;

use strowger::trace::pcap::{PcapWriter, SctpFlow};

/// Expert severity "error" (epan/proto.h `PI_ERROR`).
const PI_ERROR: &str = "8388608";

/// What tshark must read in one frame.
#[derive(Debug, Clone)]
pub struct Want {
    /// What the frame is, for failure messages.
    pub name: String,
    /// (field, expected) where expected is every occurrence of the field joined by `|`.
    pub exact: Vec<(String, String)>,
    /// (field, value) where value must be one of the occurrences.
    pub has: Vec<(String, String)>,
    /// Expert warnings tshark is known to raise for this frame although the encoding is
    /// right (each one is explained where it is used). Anything else still fails.
    pub tolerate: Vec<String>,
}

impl Want {
    /// A frame called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Want {
            name: name.into(),
            exact: Vec::new(),
            has: Vec::new(),
            tolerate: Vec::new(),
        }
    }

    /// Every occurrence of `field`, joined by `|`, equals `value` ("" = absent).
    pub fn eq(mut self, field: &str, value: impl ToString) -> Self {
        self.exact.push((field.to_owned(), value.to_string()));
        self
    }

    /// Accept an expert warning containing `message` (see [`Want::tolerate`]).
    pub fn tolerate(mut self, message: &str) -> Self {
        self.tolerate.push(message.to_owned());
        self
    }

    /// `value` is one of the occurrences of `field`.
    pub fn has(mut self, field: &str, value: impl ToString) -> Self {
        self.has.push((field.to_owned(), value.to_string()));
        self
    }
}

/// Messages collected for one tshark run.
#[derive(Default)]
pub struct Capture {
    frames: Vec<(Vec<u8>, Want)>,
}

/// Lower-case hex, as tshark prints FT_BYTES fields.
pub fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

impl Capture {
    /// Add one complete M3UA message and what tshark must read in it.
    pub fn push(&mut self, m3ua: Vec<u8>, want: Want) {
        self.frames.push((m3ua, want));
    }

    /// Number of frames so far.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Write the pcap, run tshark and check every frame. Returns the per-frame field values
    /// (for further checks), or `None` when tshark is not installed outside CI.
    pub fn check(self, name: &str) -> Option<Vec<BTreeMap<String, Vec<String>>>> {
        if !crate::support::require_tshark() {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let pcap = dir.path().join(format!("{name}.pcap"));
        {
            let mut w = PcapWriter::new(BufWriter::new(File::create(&pcap).expect("pcap")))
                .expect("pcap header");
            let mut flow = SctpFlow::new(
                "10.0.0.1:2905".parse().unwrap(),
                "10.0.0.2:2905".parse().unwrap(),
            );
            for (i, (m, _)) in self.frames.iter().enumerate() {
                // Fixed timestamps keep the trace (and tshark's reading) deterministic.
                w.write_m3ua_at(&mut flow, m, 1_700_000_000 + i as u64, 0)
                    .expect("write frame");
            }
        }
        if let Ok(keep) = std::env::var("ORACLE_KEEP_PCAP") {
            // For debugging: keep a copy of the trace (e.g. to open in Wireshark).
            let _ = std::fs::copy(&pcap, Path::new(&keep).join(format!("{name}.pcap")));
        }
        let mut fields: Vec<String> = vec![
            "frame.number".into(),
            "_ws.malformed".into(),
            "_ws.expert.severity".into(),
            "_ws.expert.message".into(),
        ];
        for (_, w) in &self.frames {
            for (f, _) in w.exact.iter().chain(&w.has) {
                if !fields.contains(f) {
                    fields.push(f.clone());
                }
            }
        }
        let rows = run_fields(&pcap, &fields);
        assert_eq!(rows.len(), self.frames.len(), "tshark saw every frame");
        let verbose = run_verbose(&pcap);
        let mut failures = Vec::new();
        for (i, ((bytes, want), row)) in self.frames.iter().zip(&rows).enumerate() {
            let n = i + 1;
            let get = |f: &str| row.get(f).cloned().unwrap_or_default();
            let whole = |f: &str| get(f).iter().map(|v| norm(v)).collect::<Vec<_>>().join("|");
            let tolerated = |line: &str| {
                !want.tolerate.is_empty()
                    && (line.trim() == "[Group: Malformed]"
                        || want.tolerate.iter().any(|t| line.contains(t.as_str())))
            };
            let untolerated_expert = get("_ws.expert.message").iter().any(|m| !tolerated(m));
            if !whole("_ws.malformed").is_empty()
                && (want.tolerate.is_empty() || untolerated_expert)
            {
                failures.push(format!("frame {n} ({}): Malformed", want.name));
            }
            if get("_ws.expert.severity").iter().any(|s| s == PI_ERROR) {
                failures.push(format!(
                    "frame {n} ({}): expert error: {}",
                    want.name,
                    whole("_ws.expert.message")
                ));
            }
            if let Some(text) = verbose.get(i) {
                let bad: Vec<&str> = text
                    .lines()
                    .filter(|l| {
                        ["Malformed", "Exception", "Dissector bug", "BER Error"]
                            .iter()
                            .any(|b| l.contains(b))
                    })
                    .filter(|l| !tolerated(l))
                    .collect();
                if !bad.is_empty() {
                    let from = text.find("MTP 3 User").unwrap_or(0);
                    failures.push(format!(
                        "frame {n} ({}): {:?} in:\n{}",
                        want.name,
                        bad,
                        &text[from..]
                    ));
                }
            }
            for (f, v) in &want.exact {
                let got = whole(f);
                if &got != v {
                    failures.push(format!(
                        "frame {n} ({}): {f} = {got:?}, want {v:?}",
                        want.name
                    ));
                }
            }
            for (f, v) in &want.has {
                if !get(f).iter().any(|g| &norm(g) == v) {
                    failures.push(format!(
                        "frame {n} ({}): {f} = {:?} lacks {v:?}",
                        want.name,
                        get(f)
                    ));
                }
            }
            if failures
                .iter()
                .any(|m| m.starts_with(&format!("frame {n} ")))
            {
                failures.push(format!("frame {n} bytes: {}", hex(bytes)));
            }
        }
        assert!(
            failures.is_empty(),
            "{} tshark mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
        Some(rows)
    }
}

/// tshark prints BASE_HEX integers as `0x..`; compare them as decimal numbers.
fn norm(v: &str) -> String {
    match v.strip_prefix("0x").map(|h| u64::from_str_radix(h, 16)) {
        Some(Ok(n)) => n.to_string(),
        _ => v.to_owned(),
    }
}

fn prefs(cmd: &mut Command) {
    cmd.args([
        "-n",
        "-o",
        "sctp.checksum:CRC-32C",
        "-o",
        "tcap.ssn:146,241",
        "-o",
        "sccp.defragment_xudt:FALSE",
    ]);
}

/// One map per frame: field → occurrences.
fn run_fields(pcap: &Path, fields: &[String]) -> Vec<BTreeMap<String, Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap);
    prefs(&mut cmd);
    cmd.args([
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=|",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            fields
                .iter()
                .zip(l.split('\t'))
                .map(|(f, v)| {
                    let vals = if v.is_empty() {
                        Vec::new()
                    } else {
                        v.split('|').map(str::to_owned).collect()
                    };
                    (f.clone(), vals)
                })
                .collect()
        })
        .collect()
}

/// tshark's verbose text, one string per frame.
fn run_verbose(pcap: &Path) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap);
    prefs(&mut cmd);
    cmd.arg("-V");
    let out = cmd.output().expect("run tshark");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut frames: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Frame ") {
            frames.push(String::new());
        }
        if let Some(f) = frames.last_mut() {
            f.push_str(line);
            f.push('\n');
        }
    }
    frames
}

/// Wrap SCCP bytes in an M3UA DATA message (routing context 1, OPC/DPC as given, SI=3, NI=2).
pub fn m3ua_data(opc: u32, dpc: u32, sls: u8, sccp: &[u8]) -> Vec<u8> {
    use std::borrow::Cow;
    use strowger_m3ua::{Body, Data, Message, ProtocolData, SI_SCCP};
    Message::from(Body::Data(Data {
        network_appearance: None,
        routing_context: Some(1),
        protocol_data: ProtocolData {
            opc,
            dpc,
            si: SI_SCCP,
            ni: 2,
            mp: 0,
            sls,
            user_data: Cow::Borrowed(sccp),
        },
        correlation_id: None,
    }))
    .to_bytes()
    .expect("encode M3UA DATA")
    .to_vec()
}
