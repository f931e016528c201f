//! Independent oracle (DESIGN.md §2 "Independent oracles"): Wireshark's M3UA dissector.
//!
//! Each message we encode is wrapped in an SCTP DATA chunk with PPI 3 by `text2pcap -S
//! 2905,2905,3` and decoded by `tshark`; no frame may be Malformed and the fields must read back
//! as we meant them. Wireshark's M3UA dissector is lenient (a wrong parameter length is shown,
//! not flagged), so the weight is on reading fields back, and on the parameter lengths that
//! Wireshark sees adding up (with padding) to the message length. Skipped (with a note) where tshark is not installed
//! (`apt-get install tshark`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use strowger_m3ua::*;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs the frames through text2pcap + tshark, returning one line of `fields` per frame.
fn dissect(name: &str, frames: &[Vec<u8>], fields: &[&str]) -> Option<Vec<Vec<String>>> {
    if !have("tshark") || !have("text2pcap") {
        eprintln!("tshark/text2pcap not installed: oracle test skipped");
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let txt = dir.join(format!("m3ua-{name}.txt"));
    let pcap = dir.join(format!("m3ua-{name}.pcap"));
    let mut dump = String::new();
    for f in frames {
        dump.push_str("0000");
        for b in f {
            let _ = write!(dump, " {b:02x}");
        }
        dump.push_str("\n\n");
    }
    std::fs::write(&txt, dump).unwrap();
    let st = Command::new("text2pcap")
        .args(["-q", "-S", "2905,2905,3"])
        .arg(&txt)
        .arg(&pcap)
        .status()
        .unwrap();
    assert!(st.success(), "text2pcap failed");
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "--disable-protocol", "sccp", "-r"])
        .arg(&pcap)
        .args([
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ]);
    cmd.args(["-e", "_ws.malformed", "-e", "_ws.expert.severity"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), frames.len());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], "", "frame {} is Malformed per tshark", i + 1);
    }
    Some(rows.into_iter().map(|r| r[2..].to_vec()).collect())
}

fn bytes(m: Body<'_>) -> Vec<u8> {
    Message::from(m).to_bytes().unwrap().to_vec()
}

#[test]
fn every_message_type_dissects_cleanly() {
    let apc = vec![AffectedPointCode::exact(0x1234)];
    let dest = DestinationState {
        network_appearance: Some(3),
        routing_contexts: vec![1],
        affected_point_codes: apc.clone(),
        info_string: Some(Cow::Borrowed(b"dest")),
    };
    let active = AspActive {
        traffic_mode: Some(TrafficModeType::LOADSHARE),
        routing_contexts: vec![1, 2],
        info_string: Some(Cow::Borrowed(b"go")),
    };
    let inactive = AspInactive {
        routing_contexts: vec![1],
        info_string: None,
    };
    let up = AspUp {
        asp_identifier: Some(42),
        info_string: Some(Cow::Borrowed(b"strowger")),
    };
    let beat = Beat {
        heartbeat_data: Some(Cow::Borrowed(b"\x00\x01\x02")),
    };
    let bodies = vec![
        Body::Error(ErrorMessage {
            error_code: ErrorCode::INVALID_ROUTING_CONTEXT,
            routing_contexts: vec![9],
            network_appearance: Some(3),
            affected_point_codes: apc.clone(),
            diagnostic_information: Some(Cow::Borrowed(b"\x01\x00\x04\x01")),
        }),
        Body::Notify(Notify {
            status: Status::AS_ACTIVE,
            asp_identifier: Some(42),
            routing_contexts: vec![1],
            info_string: None,
        }),
        Body::Data(Data {
            network_appearance: Some(3),
            routing_context: Some(1),
            protocol_data: ProtocolData {
                opc: 1001,
                dpc: 2002,
                si: SI_SCCP,
                ni: 2,
                mp: 0,
                sls: 5,
                user_data: Cow::Borrowed(b"\x09\x81\x03\x0e\x19"),
            },
            correlation_id: Some(77),
        }),
        Body::Duna(dest.clone()),
        Body::Dava(dest.clone()),
        Body::Daud(dest.clone()),
        Body::Scon(Scon {
            network_appearance: None,
            routing_contexts: vec![1],
            affected_point_codes: apc.clone(),
            concerned_destination: Some(0x456),
            congestion_level: Some(CongestionLevel::LEVEL_2),
            info_string: None,
        }),
        Body::Dupu(Dupu {
            network_appearance: None,
            routing_contexts: vec![],
            affected_point_code: AffectedPointCode::exact(0x1234),
            user_cause: UserCause {
                cause: UnavailabilityCause::INACCESSIBLE_REMOTE_USER,
                user: MtpUser::SCCP,
            },
            info_string: None,
        }),
        Body::Drst(dest),
        Body::AspUp(up.clone()),
        Body::AspDown(AspDown::default()),
        Body::Beat(beat.clone()),
        Body::AspUpAck(up),
        Body::AspDownAck(AspDown {
            info_string: Some(Cow::Borrowed(b"bye")),
        }),
        Body::BeatAck(beat),
        Body::AspActive(active.clone()),
        Body::AspInactive(inactive.clone()),
        Body::AspActiveAck(active),
        Body::AspInactiveAck(inactive),
    ];
    let expect: Vec<(u8, u8)> = bodies
        .iter()
        .map(|b| {
            let (c, t) = b.class_and_type();
            (c.0, t)
        })
        .collect();
    let frames: Vec<Vec<u8>> = bodies.into_iter().map(bytes).collect();
    let fields = [
        "m3ua.message_class",
        "m3ua.message_type",
        "m3ua.message_length",
        "m3ua.error_code",
        "m3ua.routing_context",
        "m3ua.protocol_data_opc",
        "m3ua.protocol_data_dpc",
        "m3ua.protocol_data_sls",
        "m3ua.status_info",
        "m3ua.affected_point_code_pc",
        "m3ua.heartbeat_data",
        "m3ua.traffic_mode_type",
        "m3ua.unavailability_cause",
        "m3ua.congestion_level",
        "m3ua.correlation_identifier",
        "m3ua.asp_identifier",
        "m3ua.parameter_length",
    ];
    let Some(rows) = dissect("all", &frames, &fields) else {
        return;
    };
    for (i, (row, (class, ty))) in rows.iter().zip(&expect).enumerate() {
        assert_eq!(row[0], class.to_string(), "frame {} class", i + 1);
        assert_eq!(row[1], ty.to_string(), "frame {} type", i + 1);
        assert_eq!(
            row[2],
            frames[i].len().to_string(),
            "frame {} length",
            i + 1
        );
        let params: usize = row[16]
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>().unwrap().div_ceil(4) * 4)
            .sum();
        assert_eq!(
            params + 8,
            frames[i].len(),
            "frame {} parameter layout",
            i + 1
        );
    }
    // ERR
    assert_eq!(rows[0][3], "25");
    assert_eq!(rows[0][4], "9");
    assert_eq!(rows[0][9], "4660");
    // NTFY
    assert_eq!(rows[1][8], "3");
    assert_eq!(rows[1][15], "42");
    // DATA
    assert_eq!(rows[2][4], "1");
    assert_eq!(
        (
            rows[2][5].as_str(),
            rows[2][6].as_str(),
            rows[2][7].as_str()
        ),
        ("1001", "2002", "5")
    );
    assert_eq!(rows[2][14], "77");
    // SCON, DUPU
    assert_eq!(rows[6][13], "2");
    assert_eq!(rows[7][12], "2");
    // BEAT data, ASP Active
    assert_eq!(rows[11][10], "000102");
    assert_eq!(rows[15][11], "2");
    assert_eq!(rows[15][4], "1,2");
}

#[test]
fn state_machine_output_dissects_cleanly() {
    let now = Instant::now();
    let mut asp = Association::new(
        Role::Asp,
        Config {
            routing_contexts: vec![1],
            traffic_mode: Some(TrafficModeType::OVERRIDE),
            asp_identifier: Some(7),
            ..Config::default()
        },
    );
    let mut sg = Association::new(
        Role::Sg,
        Config {
            routing_contexts: vec![1],
            ..Config::default()
        },
    );
    let mut frames = Vec::new();
    asp.start(now).unwrap();
    for _ in 0..4 {
        while let Some(t) = asp.poll_transmit() {
            frames.push(t.payload.to_vec());
            sg.handle_frame(now, t.payload);
        }
        while let Some(t) = sg.poll_transmit() {
            frames.push(t.payload.to_vec());
            asp.handle_frame(now, t.payload);
        }
    }
    assert!(asp.is_active());
    // An ERR with Diagnostic Information, produced by a bad version.
    sg.handle_frame(now, bytes::Bytes::from_static(&[2, 0, 3, 1, 0, 0, 0, 8]));
    while let Some(t) = sg.poll_transmit() {
        frames.push(t.payload.to_vec());
    }
    let Some(rows) = dissect("sm", &frames, &["m3ua.message_class", "m3ua.message_type"]) else {
        return;
    };
    let kinds: Vec<String> = rows.iter().map(|r| format!("{}/{}", r[0], r[1])).collect();
    // ASP Up, ASP Up Ack, NTFY, ASP Active, ASP Active Ack, NTFY, ERR.
    assert_eq!(kinds, ["3/1", "3/4", "0/1", "4/1", "4/3", "0/1", "0/0"]);
}
