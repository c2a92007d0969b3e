//! Input format shared by the `trusted_set` fuzz target and the seed
//! generator (`examples/gen_seeds.rs`).
//!
//! ```text
//! input  = FLAGS blob (SEP blob)*
//! blob   = OP [SELECTOR] metadata-bytes      (SELECTOR only for OP_DELEGATED*)
//! ```
//!
//! The first blob is always the trusted root (`TrustedMetadataSet::new`),
//! whatever its OP byte. With `FLAG_RESIGN`, the harness replaces the
//! signatures of every blob that is a JSON object with a `signed` member by
//! one signature of the fixture key over its canonical form, so mutations
//! of the `signed` content reach the checks behind signature verification
//! (versions, pins, expiry, delegation). Seeds for that mode are published
//! without length/hash pins, since re-signing changes the bytes.
#![allow(dead_code)]

use shared_trust::crypto::{Ed25519Signer, Signer};

/// Reference time of every run: 2027-01-15T08:00:00Z.
pub const NOW: i64 = 1_800_000_000;

/// Separates blobs.
pub const SEP: &[u8] = b"\n--8<--\n";

/// Re-sign every blob with the fixture key.
pub const FLAG_RESIGN: u8 = 1;

pub const OP_ROOT: u8 = 0;
pub const OP_TIMESTAMP: u8 = 1;
pub const OP_SNAPSHOT: u8 = 2;
pub const OP_SNAPSHOT_TRUSTED: u8 = 3;
pub const OP_TARGETS: u8 = 4;
pub const OP_TARGETS_TRUSTED: u8 = 5;
pub const OP_DELEGATED: u8 = 6;
pub const OP_DELEGATED_TRUSTED: u8 = 7;
pub const OP_COUNT: u8 = 8;

/// The key every seed role is signed with.
pub fn fixture_signer() -> Ed25519Signer {
    Ed25519Signer::from_seed(&[7; 32])
}

/// Splits `data` on `SEP`.
pub fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEP.len()).position(|w| w == SEP) {
        out.push(&rest[..i]);
        rest = &rest[i + SEP.len()..];
    }
    out.push(rest);
    out
}

/// Joins blobs into one input.
pub fn join(flags: u8, blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![flags];
    for (i, b) in blobs.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SEP);
        }
        out.extend_from_slice(b);
    }
    out
}

/// Replaces the signatures of an envelope by the fixture key's; returns
/// the bytes unchanged when they are not an envelope with a canonical form.
pub fn resign(signer: &Ed25519Signer, bytes: &[u8]) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return bytes.to_vec();
    };
    let Some(signed) = v.get("signed") else {
        return bytes.to_vec();
    };
    let Ok(canonical) = shared_trust::canonical::to_canonical(signed) else {
        return bytes.to_vec();
    };
    let sig = signer
        .sign(&canonical)
        .expect("ed25519 signing cannot fail");
    let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
    v["signatures"] = serde_json::json!([{ "keyid": signer.keyid(), "sig": hex }]);
    serde_json::to_vec(&v).expect("a Value serializes")
}
