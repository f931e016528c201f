//! Return cause, ITU-T Q.713 §3.12.
//!
//! Carried in UDTS and XUDTS to say why a connectionless message could not be delivered.
//! Values 15–255 are spare; they decode and re-encode unchanged.

use crate::newtype::open_u8;

open_u8! {
    /// Return cause (Q.713 §3.12): one octet, open set.
    ReturnCause {
        /// No translation for an address of such nature.
        NO_TRANSLATION_FOR_NATURE = 0,
        /// No translation for this specific address.
        NO_TRANSLATION_FOR_ADDRESS = 1,
        /// Subsystem congestion.
        SUBSYSTEM_CONGESTION = 2,
        /// Subsystem failure.
        SUBSYSTEM_FAILURE = 3,
        /// Unequipped user.
        UNEQUIPPED_USER = 4,
        /// MTP failure.
        MTP_FAILURE = 5,
        /// Network congestion.
        NETWORK_CONGESTION = 6,
        /// Unqualified.
        UNQUALIFIED = 7,
        /// Error in message transport.
        ERROR_IN_MESSAGE_TRANSPORT = 8,
        /// Error in local processing.
        ERROR_IN_LOCAL_PROCESSING = 9,
        /// Destination cannot perform reassembly.
        DESTINATION_CANNOT_REASSEMBLE = 10,
        /// SCCP failure.
        SCCP_FAILURE = 11,
        /// Hop counter violation.
        HOP_COUNTER_VIOLATION = 12,
        /// Segmentation not supported.
        SEGMENTATION_NOT_SUPPORTED = 13,
        /// Segmentation failure.
        SEGMENTATION_FAILURE = 14,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_name_or_number() {
        assert_eq!(
            format!("{:?}", ReturnCause::SUBSYSTEM_FAILURE),
            "ReturnCause::SUBSYSTEM_FAILURE"
        );
        assert_eq!(format!("{:?}", ReturnCause(200)), "ReturnCause(200)");
        assert_eq!(ReturnCause::SEGMENTATION_FAILURE.0, 14);
    }
}
