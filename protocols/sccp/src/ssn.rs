//! Subsystem number, ITU-T Q.713 §3.4.2.2, with the 3GPP TS 23.003 §8.2 allocations used in mobile
//! networks and the common-use INAP value.

use crate::newtype::open_u8;

open_u8! {
    /// Subsystem number (Q.713 §3.4.2.2): one octet, open set.
    ///
    /// 146 (CAP) and 241 (INAP) are conventions, not international allocations; the engine makes
    /// its own SSNs configurable.
    Ssn {
        /// SSN not known / not used.
        UNKNOWN = 0,
        /// SCCP management.
        SCMG = 1,
        /// ISDN user part.
        ISUP = 3,
        /// Operation, maintenance and administration part.
        OMAP = 4,
        /// Mobile application part (generic).
        MAP = 5,
        /// Home location register.
        HLR = 6,
        /// Visitor location register.
        VLR = 7,
        /// Mobile switching centre.
        MSC = 8,
        /// Equipment identity register.
        EIR = 9,
        /// Authentication centre.
        AUC = 10,
        /// ISDN supplementary services.
        ISDN_SS = 11,
        /// Broadband ISDN edge-to-edge applications.
        BISDN = 13,
        /// TC test responder.
        TC_TEST_RESPONDER = 14,
        /// RANAP (3GPP).
        RANAP = 142,
        /// RNSAP (3GPP).
        RNSAP = 143,
        /// GMLC, MAP (3GPP).
        GMLC = 145,
        /// CAP: gsmSCF / gsmSSF (3GPP).
        CAP = 146,
        /// gsmSCF (MAP) or IM-SSF (MAP) (3GPP).
        GSMSCF_MAP = 147,
        /// SIWF (3GPP).
        SIWF = 148,
        /// SGSN (3GPP).
        SGSN = 149,
        /// GGSN (3GPP).
        GGSN = 150,
        /// INAP (common national use).
        INAP = 241,
        /// BSSAP / BSSAP+ (3GPP).
        BSSAP = 254,
    }
}
