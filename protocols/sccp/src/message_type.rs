//! SCCP message type codes, ITU-T Q.713 §2.1 (Table 1).

use crate::newtype::open_u8;

open_u8! {
    /// The message type code, first octet of every SCCP message (Q.713 §2.1, Table 1).
    ///
    /// Only the connectionless types UDT, UDTS, XUDT and XUDTS are decoded by this crate; the others
    /// are named so an unsupported message can be reported by name.
    MessageType {
        /// Connection request.
        CR = 0x01,
        /// Connection confirm.
        CC = 0x02,
        /// Connection refused.
        CREF = 0x03,
        /// Released.
        RLSD = 0x04,
        /// Release complete.
        RLC = 0x05,
        /// Data form 1.
        DT1 = 0x06,
        /// Data form 2.
        DT2 = 0x07,
        /// Data acknowledgement.
        AK = 0x08,
        /// Unitdata.
        UDT = 0x09,
        /// Unitdata service.
        UDTS = 0x0a,
        /// Expedited data.
        ED = 0x0b,
        /// Expedited data acknowledgement.
        EA = 0x0c,
        /// Reset request.
        RSR = 0x0d,
        /// Reset confirm.
        RSC = 0x0e,
        /// Protocol data unit error.
        ERR = 0x0f,
        /// Inactivity test.
        IT = 0x10,
        /// Extended unitdata.
        XUDT = 0x11,
        /// Extended unitdata service.
        XUDTS = 0x12,
        /// Long unitdata.
        LUDT = 0x13,
        /// Long unitdata service.
        LUDTS = 0x14,
    }
}
