//! Application contexts and the dialects they select.
//!
//! CAP v2: TS 29.078 v3.x / GSM 09.78 (`CAP-object-identifiers` version2:
//! `{itu-t(0) identified-organization(4) etsi(0) mobileDomain(0) gsm-Network(1)
//! applicationContext(0) cap-gsmssf-to-gsmscf(50) version2(1)}` and siblings 51, 52).
//! CAP v3: TS 29.078 Rel-99/4 (`id-CAP3OE` = 0.4.0.0.1.21, `id-CAP` = 0.4.0.0.1.20).
//! CAP v4: TS 29.078 Rel-5+ (`id-CAP4OE` = 0.4.0.0.1.23, `id-CAP4` = 0.4.0.0.1.22).
//! Core INAP CS-1: ETS 300 374-1 §6.5 (`{ccitt(0) identified-organization(4) etsi(0)
//! inDomain(1) in-network(1) ac(1) cs1-…(n) version1(0)}`).
//!
//! The OID is matched on its encoded contents octets (the value of the AARQ's
//! `application-context-name` OBJECT IDENTIFIER), so no parsing or allocation is needed.

/// The protocol variant a dialogue speaks; it picks the encodings where they differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// CAMEL phase 2 (CAP v2).
    CapV2,
    /// CAMEL phase 3 (CAP v3).
    CapV3,
    /// CAMEL phase 4 (CAP v4).
    CapV4,
    /// ETSI Core INAP CS-1 (ETS 300 374-1).
    InapCs1,
}

/// Which interface an application context serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AcKind {
    /// gsmSSF/SSP-initiated call control (the SCP's main context).
    SsfToScf,
    /// Assist / hand-off from an assisting gsmSSF.
    AssistHandoff,
    /// gsmSRF/IP to gsmSCF (direct SRF dialogue).
    SrfToScf,
    /// gsmSCF-initiated dialogue towards the gsmSSF (CAP v4 scf-ssfGenericAC, INAP scp-to-ssp).
    ScfToSsf,
}

/// A recognised application context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApplicationContext {
    /// The dialect the context selects.
    pub dialect: Dialect,
    /// The interface it serves.
    pub kind: AcKind,
}

/// Encoded OID contents of every recognised context, with its meaning.
pub const APPLICATION_CONTEXTS: &[(&[u8], ApplicationContext)] = &[
    // 0.4.0.0.1.0.50.1 CAP-v2-gsmSSF-to-gsmSCF-AC
    (
        &[0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x01],
        ac(Dialect::CapV2, AcKind::SsfToScf),
    ),
    // 0.4.0.0.1.0.51.1 CAP-v2-assist-gsmSSF-to-gsmSCF-AC
    (
        &[0x04, 0x00, 0x00, 0x01, 0x00, 0x33, 0x01],
        ac(Dialect::CapV2, AcKind::AssistHandoff),
    ),
    // 0.4.0.0.1.0.52.1 CAP-v2-gsmSRF-to-gsmSCF-AC
    (
        &[0x04, 0x00, 0x00, 0x01, 0x00, 0x34, 0x01],
        ac(Dialect::CapV2, AcKind::SrfToScf),
    ),
    // 0.4.0.0.1.21.3.4 id-ac-CAP-gsmSSF-scfGenericAC (v3)
    (
        &[0x04, 0x00, 0x00, 0x01, 0x15, 0x03, 0x04],
        ac(Dialect::CapV3, AcKind::SsfToScf),
    ),
    // 0.4.0.0.1.21.3.6 id-ac-CAP-gsmSSF-scfAssistHandoffAC (v3)
    (
        &[0x04, 0x00, 0x00, 0x01, 0x15, 0x03, 0x06],
        ac(Dialect::CapV3, AcKind::AssistHandoff),
    ),
    // 0.4.0.0.1.20.3.14 id-ac-CAP-gsmSRF-gsmSCF-AC (v3)
    (
        &[0x04, 0x00, 0x00, 0x01, 0x14, 0x03, 0x0e],
        ac(Dialect::CapV3, AcKind::SrfToScf),
    ),
    // 0.4.0.0.1.23.3.4 id-ac-CAP-gsmSSF-scfGenericAC (v4)
    (
        &[0x04, 0x00, 0x00, 0x01, 0x17, 0x03, 0x04],
        ac(Dialect::CapV4, AcKind::SsfToScf),
    ),
    // 0.4.0.0.1.23.3.6 id-ac-CAP-gsmSSF-scfAssistHandoffAC (v4)
    (
        &[0x04, 0x00, 0x00, 0x01, 0x17, 0x03, 0x06],
        ac(Dialect::CapV4, AcKind::AssistHandoff),
    ),
    // 0.4.0.0.1.23.3.8 id-ac-CAP-scf-gsmSSFGenericAC (v4)
    (
        &[0x04, 0x00, 0x00, 0x01, 0x17, 0x03, 0x08],
        ac(Dialect::CapV4, AcKind::ScfToSsf),
    ),
    // 0.4.0.0.1.22.3.14 id-ac-CAP-gsmSRF-gsmSCF-AC (v4)
    (
        &[0x04, 0x00, 0x00, 0x01, 0x16, 0x03, 0x0e],
        ac(Dialect::CapV4, AcKind::SrfToScf),
    ),
    // 0.4.0.1.1.1.0.0 Core-INAP-CS1-SSP-to-SCP-AC
    (
        &[0x04, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00],
        ac(Dialect::InapCs1, AcKind::SsfToScf),
    ),
    // 0.4.0.1.1.1.1.0 Core-INAP-CS1-assist-handoff-SSP-to-SCP-AC
    (
        &[0x04, 0x00, 0x01, 0x01, 0x01, 0x01, 0x00],
        ac(Dialect::InapCs1, AcKind::AssistHandoff),
    ),
    // 0.4.0.1.1.1.2.0 Core-INAP-CS1-IP-to-SCP-AC
    (
        &[0x04, 0x00, 0x01, 0x01, 0x01, 0x02, 0x00],
        ac(Dialect::InapCs1, AcKind::SrfToScf),
    ),
    // 0.4.0.1.1.1.3.0 Core-INAP-CS1-SCP-to-SSP-AC
    (
        &[0x04, 0x00, 0x01, 0x01, 0x01, 0x03, 0x00],
        ac(Dialect::InapCs1, AcKind::ScfToSsf),
    ),
];

const fn ac(dialect: Dialect, kind: AcKind) -> ApplicationContext {
    ApplicationContext { dialect, kind }
}

/// Recognise an application-context name. `oid` is the OBJECT IDENTIFIER's contents octets;
/// a complete TLV (`06 len …`) is accepted too. `None` for any other context, including CAP
/// v1 (0.4.0.0.1.0.50.0), which the engine should refuse with the AARE diagnostic
/// `application-context-name-not-supported` so the MSC falls back to a context it shares.
pub fn application_context(oid: &[u8]) -> Option<ApplicationContext> {
    let oid = match oid {
        [0x06, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
        _ => oid,
    };
    APPLICATION_CONTEXTS
        .iter()
        .find(|(o, _)| *o == oid)
        .map(|(_, a)| *a)
}

/// The dialect an application-context name selects (see [`application_context`]).
pub fn dialect_from_oid(oid: &[u8]) -> Option<Dialect> {
    application_context(oid).map(|a| a.dialect)
}

impl ApplicationContext {
    /// The encoded OID contents octets of this context (for the AARE / a gsmSCF-initiated AARQ).
    pub fn oid(&self) -> &'static [u8] {
        APPLICATION_CONTEXTS
            .iter()
            .find(|(_, a)| a == self)
            .map_or(&[][..], |(o, _)| *o)
    }
}

impl Dialect {
    /// The SSF-to-SCF context of this dialect (what an InitialDP arrives in).
    pub fn ssf_to_scf(self) -> ApplicationContext {
        ac(self, AcKind::SsfToScf)
    }

    /// True for the CAMEL dialects.
    pub fn is_cap(self) -> bool {
        !matches!(self, Dialect::InapCs1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_contexts() {
        let v2 = [0x06, 0x07, 0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x01];
        assert_eq!(dialect_from_oid(&v2), Some(Dialect::CapV2));
        assert_eq!(dialect_from_oid(&v2[2..]), Some(Dialect::CapV2));
        assert_eq!(
            application_context(&[0x04, 0x00, 0x00, 0x01, 0x15, 0x03, 0x04]),
            Some(ac(Dialect::CapV3, AcKind::SsfToScf))
        );
        assert_eq!(
            dialect_from_oid(&[0x04, 0x00, 0x00, 0x01, 0x17, 0x03, 0x04]),
            Some(Dialect::CapV4)
        );
        assert_eq!(
            dialect_from_oid(&[0x04, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00]),
            Some(Dialect::InapCs1)
        );
        // CAP v1 and the INAP module id 0.4.0.1.1.0.3.0 are not contexts we serve.
        assert_eq!(
            dialect_from_oid(&[0x04, 0x00, 0x00, 0x01, 0x00, 0x32, 0x00]),
            None
        );
        assert_eq!(
            dialect_from_oid(&[0x04, 0x00, 0x01, 0x01, 0x00, 0x03, 0x00]),
            None
        );
        for d in [
            Dialect::CapV2,
            Dialect::CapV3,
            Dialect::CapV4,
            Dialect::InapCs1,
        ] {
            let a = d.ssf_to_scf();
            assert_eq!(application_context(a.oid()), Some(a));
        }
    }
}
