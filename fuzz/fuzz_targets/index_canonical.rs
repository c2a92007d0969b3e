//! Differential: `index::canonical_crate_file` and `index::crate_file_hash`
//! (a one-pass tokenizer) against the definition of a crate file's
//! canonical form (every line through `serde_json::Value` and
//! `canonical::write_canonical`), on arbitrary bytes. Both must accept the
//! same files with the same bytes and hash, and reject the same files at
//! the same line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared_trust::index::{canonical_crate_file, crate_file_hash, hex_hash, IndexError};

const PATH: &str = "fu/zz/fuzz";

/// The definition, as `index::canonical_crate_file` first implemented it.
fn reference(content: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(content.len());
    for (i, line) in content.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(line).map_err(|_| i + 1)?;
        if !value.is_object() {
            return Err(i + 1);
        }
        shared_trust::canonical::write_canonical(&value, &mut out).map_err(|_| i + 1)?;
        out.push(b'\n');
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let expected = reference(data);
    let fast = canonical_crate_file(PATH, data);
    let hash = crate_file_hash(PATH, data);
    match (&expected, &fast) {
        (Ok(e), Ok(f)) => {
            assert_eq!(e, f, "canonical bytes differ");
            let want = shared_trust::crypto::sha256_hex(e);
            assert_eq!(hash.as_ref().map(hex_hash), Ok(want), "hash differs");
        }
        (
            Err(line),
            Err(IndexError::BadLine {
                path,
                line: l,
                reason,
            }),
        ) => {
            assert_eq!(path, PATH);
            assert_eq!(line, l, "rejected at another line: {reason}");
            assert!(!reason.is_empty());
            assert_eq!(hash.as_ref().err(), fast.as_ref().err());
        }
        _ => panic!("reference {expected:?}, fast {fast:?}"),
    }
});
