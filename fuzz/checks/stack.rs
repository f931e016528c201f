//! Check of the `stack` fuzz target, shared with the corpus replay test
//! `protocols/cap/tests/fuzz_corpus.rs`: one M3UA message is taken apart layer by layer as
//! the SCP does (M3UA DATA → SCCP → TCAP → CAP argument of every Invoke, result of every
//! ReturnResult, parameter of every ReturnError), and each layer's own contract (see the
//! other checks) is asserted on what the layer below handed up. Needs the `cap` and `tcap`
//! check modules beside it.

use bytes::BytesMut;
use strowger_ber::{write_tlv, Tlv};
use strowger_cap::{dialect_from_oid, Dialect, ErrorCode, OpCode};
use strowger_tcap::{Code, Component, Message};

pub(crate) fn check(data: &[u8]) {
    strowger_m3ua::fuzzing::check_codec(data);
    let Ok(m) = strowger_m3ua::Message::decode(data) else {
        return;
    };
    let strowger_m3ua::Body::Data(d) = &m.body else {
        return;
    };
    let user_data = &d.protocol_data.user_data[..];
    strowger_sccp::fuzzing::check(user_data);
    let Ok(s) = strowger_sccp::decode(user_data) else {
        return;
    };
    crate::tcap::message(s.data());
    let Ok(t) = Message::decode(s.data()) else {
        return;
    };
    let dialect = t
        .dialogue_portion()
        .and_then(|dp| dp.application_context())
        .and_then(|ac| dialect_from_oid(ac.as_bytes()))
        .unwrap_or(Dialect::CapV2);
    let Some(cp) = t.components() else {
        return;
    };
    for c in cp.iter().take(64) {
        match c {
            Ok(Component::Invoke(i)) => {
                if let Code::Local(op) = i.opcode {
                    let p = tlv_bytes(i.parameter);
                    crate::cap::operation(dialect, OpCode(op), p.as_deref());
                }
            }
            Ok(Component::ReturnResultLast(r) | Component::ReturnResultNotLast(r)) => {
                if let Some(Code::Local(op)) = r.result.map(|r| r.opcode) {
                    let p = tlv_bytes(r.result.and_then(|r| r.parameter));
                    crate::cap::result(dialect, OpCode(op), p.as_deref());
                }
            }
            Ok(Component::ReturnError(e)) => {
                if let Code::Local(code) = e.error_code {
                    crate::cap::error(ErrorCode(code), tlv_bytes(e.parameter).as_deref());
                }
            }
            _ => {}
        }
    }
}

/// The complete TLV of a parameter, as the CAP decoders take it.
fn tlv_bytes(t: Option<Tlv<'_>>) -> Option<BytesMut> {
    t.map(|t| {
        let mut b = BytesMut::new();
        write_tlv(&mut b, t.tag, t.value);
        b
    })
}
