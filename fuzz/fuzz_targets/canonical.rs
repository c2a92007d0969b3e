//! Bytes -> `serde_json::Value` -> `canonical::to_canonical`. What encodes
//! must re-parse to an equal value and be a fixed point (encoding the
//! re-parsed value gives the same bytes); only values holding a
//! non-integer number may fail to encode.
//!
//! Canonical JSON writes control characters in strings raw (OLPC, as
//! securesystemslib), which strict JSON parsers such as serde_json reject;
//! such outputs are re-parsed after escaping those characters (which is
//! all a strict parser needs), so the check still covers them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shared_trust::canonical::{to_canonical, CanonicalError};

fn has_non_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_i64().is_none() && n.as_u64().is_none(),
        Value::Array(a) => a.iter().any(has_non_integer),
        Value::Object(m) => m.values().any(has_non_integer),
        _ => false,
    }
}

/// Escapes raw control characters (only ever inside strings in canonical
/// output, since canonical JSON has no white space) as `\u00XX`.
fn escape_controls(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        if b < 0x20 {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match to_canonical(&value) {
        Ok(canonical) => {
            assert!(!has_non_integer(&value), "a float was encoded");
            let reparsed: Value = serde_json::from_slice(&escape_controls(&canonical))
                .unwrap_or_else(|e| {
                    panic!(
                        "canonical output does not re-parse ({e}): {}",
                        String::from_utf8_lossy(&canonical)
                    )
                });
            assert_eq!(reparsed, value, "canonical output parses to another value");
            let again = to_canonical(&reparsed).expect("re-parsed value encodes");
            assert_eq!(again, canonical, "canonical form is not a fixed point");
            // Canonical JSON has no insignificant white space.
            let compact = serde_json::to_vec(&value).expect("a Value serializes");
            assert!(
                canonical.len() <= compact.len(),
                "canonical longer than compact"
            );
        }
        Err(CanonicalError::NonInteger(_)) => {
            assert!(
                has_non_integer(&value),
                "an integer-only value was rejected"
            );
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
});
