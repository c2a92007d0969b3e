//! OLPC canonical JSON, byte-for-byte as securesystemslib writes it.
//!
//! TUF signs the canonical form of a metadata file's `signed` object, so every
//! implementation must produce the same bytes for the same value:
//!
//! - objects have their keys sorted by Unicode code point (for UTF-8 strings
//!   that is plain byte order) and no white space anywhere;
//! - strings are written raw as UTF-8, with only `\` and `"` escaped (control
//!   characters are *not* escaped);
//! - numbers must be integers; a float has no canonical form and is an error;
//! - `true`, `false` and `null` are written as is.

use serde_json::Value;
use std::io::Write;

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonicalError {
    /// The value holds a non-integer number.
    #[error("canonical JSON allows only integers, found {0}")]
    NonInteger(String),
}

/// Encodes `value` in canonical form.
pub fn to_canonical(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_canonical(value, &mut out)?;
    Ok(out)
}

/// Appends the canonical form of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                write!(out, "{i}").expect("writing to a Vec cannot fail");
            } else if let Some(u) = n.as_u64() {
                write!(out, "{u}").expect("writing to a Vec cannot fail");
            } else {
                return Err(CanonicalError::NonInteger(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's default map is a BTreeMap, already in byte order;
            // sort anyway so the result does not depend on that feature.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' || b == b'\\' {
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'\\');
            out.push(b);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let v = json!({"b": 1, "a": [true, false, null], "c": {"z": "x", "y": -3}});
        assert_eq!(
            to_canonical(&v).unwrap(),
            br#"{"a":[true,false,null],"b":1,"c":{"y":-3,"z":"x"}}"#
        );
    }

    #[test]
    fn escapes_only_quote_and_backslash() {
        let v = json!("a\"b\\c\nd\u{1}é");
        assert_eq!(
            to_canonical(&v).unwrap(),
            "\"a\\\"b\\\\c\nd\u{1}é\"".as_bytes()
        );
    }

    #[test]
    fn keys_sort_by_code_point() {
        let v = json!({"é": 1, "z": 2, "Z": 3, "a": 4});
        assert_eq!(
            to_canonical(&v).unwrap(),
            "{\"Z\":3,\"a\":4,\"z\":2,\"é\":1}".as_bytes()
        );
    }

    #[test]
    fn rejects_floats() {
        assert!(matches!(
            to_canonical(&json!({"a": 1.5})),
            Err(CanonicalError::NonInteger(_))
        ));
    }

    #[test]
    fn large_integers() {
        let v = json!([u64::MAX, i64::MIN]);
        assert_eq!(
            to_canonical(&v).unwrap(),
            b"[18446744073709551615,-9223372036854775808]"
        );
    }
}
