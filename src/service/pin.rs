//! PIN hashing for VPN service authentication (claim 2).
//!
//! Stored form: `sha256$<salt hex>$<hash hex>`, where the hash is SHA-256 iterated
//! [`PIN_HASH_ITERATIONS`] times: `h₀ = SHA256(salt ‖ pin)`, `hᵢ₊₁ = SHA256(salt ‖ hᵢ)`. The
//! iteration count is fixed by the format (it carries none), so changing it invalidates every
//! stored PIN. Verification compares in constant time.

use sha2::{Digest, Sha256};

/// SHA-256 rounds per PIN hash. A 4–8 digit PIN has little entropy; the iterations only slow
/// down an offline guesser that got hold of the provisioning file.
pub const PIN_HASH_ITERATIONS: u32 = 10_000;

/// Hash `pin` with `salt` in the stored form `sha256$<salt hex>$<hash hex>`.
pub fn hash_pin_with_salt(pin: &str, salt: &[u8]) -> String {
    format!(
        "sha256${}${}",
        hex::encode(salt),
        hex::encode(derive(pin.as_bytes(), salt))
    )
}

/// Hash `pin` with a fresh random 16-byte salt (for the admin API and provisioning tools).
pub fn hash_pin(pin: &str) -> String {
    let salt: [u8; 16] = rand::random();
    hash_pin_with_salt(pin, &salt)
}

/// Is `stored` a well-formed PIN hash?
pub fn is_valid_hash(stored: &str) -> bool {
    parse(stored).is_some()
}

/// Does `pin` match the stored hash? `false` for a malformed hash. Constant time in the digest.
pub fn verify_pin(stored: &str, pin: &str) -> bool {
    let Some((salt, want)) = parse(stored) else {
        return false;
    };
    let got = derive(pin.as_bytes(), &salt);
    let mut diff = 0u8;
    for (a, b) in got.iter().zip(want.iter()) {
        diff |= a ^ b;
    }
    diff == 0
}

fn parse(stored: &str) -> Option<(Vec<u8>, [u8; 32])> {
    let mut parts = stored.split('$');
    if parts.next()? != "sha256" {
        return None;
    }
    let salt = hex::decode(parts.next()?).ok()?;
    let hash = hex::decode(parts.next()?).ok()?;
    if parts.next().is_some() || salt.is_empty() {
        return None;
    }
    let hash: [u8; 32] = hash.try_into().ok()?;
    Some((salt, hash))
}

fn derive(pin: &[u8], salt: &[u8]) -> [u8; 32] {
    let mut h: [u8; 32] = Sha256::new()
        .chain_update(salt)
        .chain_update(pin)
        .finalize()
        .into();
    for _ in 1..PIN_HASH_ITERATIONS {
        h = Sha256::new()
            .chain_update(salt)
            .chain_update(h)
            .finalize()
            .into();
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reject() {
        let h = hash_pin("4711");
        assert!(is_valid_hash(&h));
        assert!(verify_pin(&h, "4711"));
        assert!(!verify_pin(&h, "4712"));
        assert!(!verify_pin(&h, ""));
        assert_ne!(h, hash_pin("4711"), "salted");
    }

    #[test]
    fn known_vector_matches_the_example_file() {
        // Same derivation in Python (hashlib), used to write examples/provisioning.toml.
        let h = hash_pin_with_salt("1234", b"strowger-demo-01");
        assert!(h.starts_with("sha256$7374726f776765722d64656d6f2d3031$"));
        assert!(verify_pin(&h, "1234"));
    }

    #[test]
    fn malformed_hashes() {
        for bad in [
            "",
            "sha256",
            "sha256$$00",
            "md5$00$00",
            "sha256$zz$00",
            "sha256$00$0011",
            "sha256$00$0000000000000000000000000000000000000000000000000000000000000000$x",
        ] {
            assert!(!is_valid_hash(bad), "{bad}");
            assert!(!verify_pin(bad, "1234"));
        }
    }
}
