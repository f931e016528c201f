//! SCCP parameter name codes, ITU-T Q.713 §3 (Table 2).
//!
//! Used as the name octet of optional parameters and as the context of decode errors.

use crate::newtype::open_u8;

open_u8! {
    /// A parameter name code (Q.713 §3, Table 2).
    ParameterName {
        /// End of optional parameters (§3.1).
        END_OF_OPTIONAL_PARAMETERS = 0x00,
        /// Destination local reference (§3.2).
        DESTINATION_LOCAL_REFERENCE = 0x01,
        /// Source local reference (§3.3).
        SOURCE_LOCAL_REFERENCE = 0x02,
        /// Called party address (§3.4).
        CALLED_PARTY_ADDRESS = 0x03,
        /// Calling party address (§3.5).
        CALLING_PARTY_ADDRESS = 0x04,
        /// Protocol class (§3.6).
        PROTOCOL_CLASS = 0x05,
        /// Segmenting/reassembling (§3.7).
        SEGMENTING_REASSEMBLING = 0x06,
        /// Receive sequence number (§3.8).
        RECEIVE_SEQUENCE_NUMBER = 0x07,
        /// Sequencing/segmenting (§3.9).
        SEQUENCING_SEGMENTING = 0x08,
        /// Credit (§3.10).
        CREDIT = 0x09,
        /// Release cause (§3.11).
        RELEASE_CAUSE = 0x0a,
        /// Return cause (§3.12).
        RETURN_CAUSE = 0x0b,
        /// Reset cause (§3.13).
        RESET_CAUSE = 0x0c,
        /// Error cause (§3.14).
        ERROR_CAUSE = 0x0d,
        /// Refusal cause (§3.15).
        REFUSAL_CAUSE = 0x0e,
        /// Data (§3.16).
        DATA = 0x0f,
        /// Segmentation (§3.17).
        SEGMENTATION = 0x10,
        /// Hop counter (§3.18).
        HOP_COUNTER = 0x11,
        /// Importance (§3.19).
        IMPORTANCE = 0x12,
        /// Long data (§3.20).
        LONG_DATA = 0x13,
    }
}
