//! The checks run by the `sccp` fuzz target and by the corpus replay test
//! (`tests/fuzz_corpus.rs`), kept here so both run the same code. Not part of the API.

use bytes::BytesMut;

use crate::{decode, Message, ReturnCause, SccpAddress};

/// Decodes `data` as an SCCP message and asserts the codec's contract: whatever decodes
/// re-encodes, the encoding decodes to the same value and is canonical (encoding it again gives
/// the same octets), and the reply and service message of a decoded message encode and decode
/// back too. The same holds for `data` read as a bare party address.
pub fn check(data: &[u8]) {
    if let Ok(m) = decode(data) {
        round_trip(&m);
        if let Some(r) = m.reply(m.data()) {
            round_trip(&r);
            assert_eq!(r.called(), m.calling());
            assert_eq!(r.calling(), m.called());
        }
        if let Some(s) = m.service_message(ReturnCause::SUBSYSTEM_FAILURE) {
            assert!(m.return_on_error());
            round_trip(&s);
            assert!(s.service_message(ReturnCause::SUBSYSTEM_FAILURE).is_none());
        }
    }
    if let Ok(a) = SccpAddress::decode(data) {
        let mut b = BytesMut::new();
        a.encode(&mut b).expect("a decoded address encodes");
        assert_eq!(b.len(), a.encoded_len());
        assert_eq!(SccpAddress::decode(&b), Ok(a));
    }
}

fn round_trip(m: &Message<'_>) {
    let mut b = BytesMut::new();
    m.encode(&mut b)
        .unwrap_or_else(|e| panic!("decoded {m:?} does not encode: {e}"));
    let again = decode(&b).unwrap_or_else(|e| panic!("encoding of {m:?} does not decode: {e}"));
    assert_eq!(&again, m);
    let mut b2 = BytesMut::new();
    again.encode(&mut b2).expect("second encode");
    assert_eq!(b, b2, "encoding is not canonical");
}
