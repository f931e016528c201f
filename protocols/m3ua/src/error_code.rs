//! Error Code parameter values, RFC 4666 §3.8.1.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Tag = 0x000c          |          Length = 8           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Error Code                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The values 0x02, 0x08, 0x0a–0x0c, 0x10, 0x17 and 0x18 are "Not Used in M3UA" (they belong to
//! the sibling adaptation layers); they still round-trip as raw numbers.

open_code! {
    /// The reason carried by an ERR message (RFC 4666 §3.8.1), an open newtype.
    ErrorCode(u32) {
        /// The version in the common header is not supported.
        INVALID_VERSION = 0x01 => "Invalid Version",
        /// The message class is unknown or not supported.
        UNSUPPORTED_MESSAGE_CLASS = 0x03 => "Unsupported Message Class",
        /// The message type is unknown or not supported within its class.
        UNSUPPORTED_MESSAGE_TYPE = 0x04 => "Unsupported Message Type",
        /// The requested traffic handling mode is not supported by the AS.
        UNSUPPORTED_TRAFFIC_MODE_TYPE = 0x05 => "Unsupported Traffic Mode Type",
        /// A defined, recognised message arrived that is not expected in the current state.
        UNEXPECTED_MESSAGE = 0x06 => "Unexpected Message",
        /// Any protocol anomaly, i.e. a bogus message.
        PROTOCOL_ERROR = 0x07 => "Protocol Error",
        /// A message arrived on a stream it must not use (e.g. ASPSM on a non-zero stream).
        INVALID_STREAM_IDENTIFIER = 0x09 => "Invalid Stream Identifier",
        /// The request is refused because of management blocking.
        REFUSED_MANAGEMENT_BLOCKING = 0x0d => "Refused - Management Blocking",
        /// The SGP needs an ASP Identifier in ASP Up.
        ASP_IDENTIFIER_REQUIRED = 0x0e => "ASP Identifier Required",
        /// The ASP Identifier is not valid for this ASP.
        INVALID_ASP_IDENTIFIER = 0x0f => "Invalid ASP Identifier",
        /// A parameter carries a value that is not valid.
        INVALID_PARAMETER_VALUE = 0x11 => "Invalid Parameter Value",
        /// A parameter has a wrong length field.
        PARAMETER_FIELD_ERROR = 0x12 => "Parameter Field Error",
        /// A (known) parameter is not valid in this message.
        UNEXPECTED_PARAMETER = 0x13 => "Unexpected Parameter",
        /// The SGP cannot or will not report the status of the audited destination.
        DESTINATION_STATUS_UNKNOWN = 0x14 => "Destination Status Unknown",
        /// The Network Appearance is not configured.
        INVALID_NETWORK_APPEARANCE = 0x15 => "Invalid Network Appearance",
        /// A mandatory (or conditionally mandatory) parameter is missing.
        MISSING_PARAMETER = 0x16 => "Missing Parameter",
        /// The Routing Context is not configured for this ASP.
        INVALID_ROUTING_CONTEXT = 0x19 => "Invalid Routing Context",
        /// ASP Active without Routing Context, and no AS is configured for the ASP.
        NO_CONFIGURED_AS_FOR_ASP = 0x1a => "No Configured AS for ASP",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_name_or_number() {
        assert_eq!(
            format!("{:?}", ErrorCode::INVALID_ROUTING_CONTEXT),
            "Invalid Routing Context"
        );
        assert_eq!(format!("{:?}", ErrorCode(0x02)), "ErrorCode(0x2)");
        assert_eq!(format!("{}", ErrorCode(0xdead)), "ErrorCode(0xdead)");
    }

    #[test]
    fn values_match_rfc_4666_section_3_8_1() {
        // Source: RFC 4666 §3.8.1 table (also Wireshark packet-m3ua.c, jSS7 ErrorCode.java).
        let table: &[(ErrorCode, u32)] = &[
            (ErrorCode::INVALID_VERSION, 0x01),
            (ErrorCode::UNSUPPORTED_MESSAGE_CLASS, 0x03),
            (ErrorCode::UNSUPPORTED_MESSAGE_TYPE, 0x04),
            (ErrorCode::UNSUPPORTED_TRAFFIC_MODE_TYPE, 0x05),
            (ErrorCode::UNEXPECTED_MESSAGE, 0x06),
            (ErrorCode::PROTOCOL_ERROR, 0x07),
            (ErrorCode::INVALID_STREAM_IDENTIFIER, 0x09),
            (ErrorCode::REFUSED_MANAGEMENT_BLOCKING, 0x0d),
            (ErrorCode::ASP_IDENTIFIER_REQUIRED, 0x0e),
            (ErrorCode::INVALID_ASP_IDENTIFIER, 0x0f),
            (ErrorCode::INVALID_PARAMETER_VALUE, 0x11),
            (ErrorCode::PARAMETER_FIELD_ERROR, 0x12),
            (ErrorCode::UNEXPECTED_PARAMETER, 0x13),
            (ErrorCode::DESTINATION_STATUS_UNKNOWN, 0x14),
            (ErrorCode::INVALID_NETWORK_APPEARANCE, 0x15),
            (ErrorCode::MISSING_PARAMETER, 0x16),
            (ErrorCode::INVALID_ROUTING_CONTEXT, 0x19),
            (ErrorCode::NO_CONFIGURED_AS_FOR_ASP, 0x1a),
        ];
        for (code, raw) in table {
            assert_eq!(code.0, *raw);
        }
        assert_eq!(ErrorCode::ALL.len(), table.len());
    }
}
