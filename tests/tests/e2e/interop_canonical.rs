//! Canonical JSON: ours against securesystemslib's `encode_canonical`.
//!
//! Signatures cover the canonical form of `signed`, so any byte of
//! difference is a signature that verifies in one implementation and not
//! the other. `tests/python/canonical_json.py` parses each JSON text with
//! `json.loads` and encodes it as python-tuf signs; the Rust side parses the
//! same text with serde_json and encodes it with
//! `shared_trust::canonical::to_canonical`.

use crate::python::{require_python, run_script};
use crate::support::unhex;
use shared_trust::canonical::to_canonical;
use shared_trust::crypto::{Ed25519Signer, Signer};
use shared_trust::metadata::{Role, Root, Snapshot, Targets, Timestamp};
use shared_trust::repository::Repository;
use shared_trust::Metadata;
use std::sync::Arc;

/// What the two implementations must do with a JSON text.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Both encode it, to the same bytes.
    Same,
    /// Both refuse it (floats, lone surrogates).
    BothReject,
    /// securesystemslib encodes integers of any size and reads `-0` as the
    /// integer 0; serde_json reads both integers beyond 64 bits and `-0` as
    /// floats, so we refuse them. Failing closed is deliberate: TUF
    /// versions and lengths are 64-bit, and no writer emits `-0`.
    OnlyPython,
}

fn cases() -> Vec<(&'static str, Expect)> {
    use Expect::*;
    vec![
        // Scalars and empties.
        ("null", Same),
        ("true", Same),
        ("false", Same),
        ("0", Same),
        ("-1", Same),
        ("\"\"", Same),
        ("{}", Same),
        ("[]", Same),
        ("[[], {}, [{}], {\"a\": []}]", Same),
        // White space everywhere is dropped.
        (" { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { } } ", Same),
        // Key order: byte/code point order, upper case before lower, digits
        // and punctuation first, prefixes first.
        (
            r#"{"b":1,"a":2,"A":3,"_":4,"aa":5,"a a":6,"1":7,"":8,"~":9,"a\u0000":10}"#,
            Same,
        ),
        // Unicode keys. U+FFFF sorts before U+1F600 by code point but after
        // it by UTF-16 code unit (0xD83D): securesystemslib uses code points.
        (
            r#"{"é":1,"e":2,"z":3,"中文":4,"😀":5,"\uffff":6,"\ud83d\ude00x":7,"ü":8,"\u00e9a":9,"Ω":10}"#,
            Same,
        ),
        // Escapes: only `"` and `\` are escaped; everything else is raw.
        (
            r#""quote \" backslash \\ slash \/ nl \n tab \t cr \r bs \b ff \f""#,
            Same,
        ),
        (r#""nul \u0000 us \u001f del \u007f nbsp \u00a0 ls \u2028 ps \u2029 bom \ufeff""#, Same),
        (r#"{"\u0001":1,"\n":2,"\"":3,"\\":4,"\t":5," ":6}"#, Same),
        ("\"raw é 中文 😀 e\u{301}\"", Same),
        (r#""escaped \u00e9 \u4e2d \ud83d\ude00 e\u0301""#, Same),
        // Integers up to 64 bits, both signs.
        (
            "[9007199254740993, 18446744073709551615, -9223372036854775808, 9223372036854775807, -1, 4294967296]",
            Same,
        ),
        // Duplicate keys: both keep the last value.
        (r#"{"a":1,"a":2,"b":{"c":1,"c":[3]}}"#, Same),
        // Nesting.
        (r#"{"a":[{"b":{"c":[1,[2,[3,{}]]]}}],"d":{"e":null,"f":[true,false]}}"#, Same),
        // Metadata-like.
        (
            r#"{"signed":{"_type":"targets","spec_version":"1.0.31","version":3,"expires":"2030-01-01T00:00:00Z","targets":{"a b/ü.txt":{"length":0,"hashes":{"sha256":"e3b0"},"custom":{"x":[-5,"\\"]}}}},"signatures":[]}"#,
            Same,
        ),
        // No canonical form.
        ("1.5", BothReject),
        ("1.0", BothReject),
        ("1e3", BothReject),
        ("[1, 2.5]", BothReject),
        (r#"{"a":{"b":-0.0}}"#, BothReject),
        (r#""\ud800""#, BothReject),
        (r#"{"\udc00":1}"#, BothReject),
        // Beyond 64 bits.
        ("18446744073709551616", OnlyPython),
        ("-9223372036854775809", OnlyPython),
        ("[123456789012345678901234567890]", OnlyPython),
        // `-0` is the integer 0 to python's json, a float to serde_json.
        ("-0", OnlyPython),
        (r#"{"version":-0}"#, OnlyPython),
    ]
}

/// Deep nesting (120 levels), within serde_json's default recursion limit
/// of 128.
fn deep() -> String {
    let n = 60;
    format!("{}1{}", "[{\"k\":".repeat(n), "}]".repeat(n))
}

fn python_canonical(python: &std::path::Path, texts: &[String]) -> Vec<serde_json::Value> {
    let stdin = serde_json::to_vec(texts).unwrap();
    let out = run_script(
        python,
        "canonical_json.py",
        Vec::<&str>::new(),
        Some(&stdin),
    )
    .expect_success("canonical_json.py");
    let v = out.json();
    let results = v.as_array().expect("an array").clone();
    assert_eq!(results.len(), texts.len(), "one result per case");
    results
}

fn ours(text: &str) -> Result<Vec<u8>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("parse: {e}"))?;
    to_canonical(&value).map_err(|e| e.to_string())
}

#[test]
fn interop_canonical_json_matches_securesystemslib() {
    let python = require_python!("interop_canonical_json_matches_securesystemslib");
    let mut cases: Vec<(String, Expect)> = cases()
        .into_iter()
        .map(|(t, e)| (t.to_string(), e))
        .collect();
    cases.push((deep(), Expect::Same));

    let texts: Vec<String> = cases.iter().map(|(t, _)| t.clone()).collect();
    let theirs = python_canonical(&python, &texts);
    let mut failures = Vec::new();
    for ((text, expect), py) in cases.iter().zip(&theirs) {
        let py: Result<Vec<u8>, String> = match (py.get("hex"), py.get("error")) {
            (Some(h), _) => Ok(unhex(h.as_str().unwrap())),
            (_, Some(e)) => Err(e.as_str().unwrap().to_string()),
            _ => panic!("bad result {py}"),
        };
        let rs = ours(text);
        let ok = match (expect, &py, &rs) {
            (Expect::Same, Ok(a), Ok(b)) => a == b,
            (Expect::BothReject, Err(_), Err(_)) => true,
            (Expect::OnlyPython, Ok(_), Err(_)) => true,
            _ => false,
        };
        if !ok {
            let show = |r: &Result<Vec<u8>, String>| match r {
                Ok(b) => format!("{:?}", String::from_utf8_lossy(b)),
                Err(e) => format!("error: {e}"),
            };
            failures.push(format!(
                "case {text:?} (expected {expect:?})\n  securesystemslib: {}\n  shared-trust:     {}",
                show(&py),
                show(&rs)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The `signed` objects our repository side writes canonicalize the same in
/// securesystemslib (the bytes python-tuf checks our signatures over).
fn signed_bytes<T: Role>(role: &str, bytes: &[u8]) -> Vec<u8> {
    Metadata::<T>::from_bytes(role, bytes)
        .unwrap()
        .canonical_signed()
        .to_vec()
}

#[test]
fn interop_canonical_json_of_our_metadata() {
    let python = require_python!("interop_canonical_json_of_our_metadata");
    let now = shared_trust::time::now_unix();
    let mut repo = Repository::new(now, true);
    for (role, seed) in [
        ("root", 1u8),
        ("timestamp", 2),
        ("snapshot", 3),
        ("targets", 4),
    ] {
        let s: Arc<dyn Signer> = Arc::new(Ed25519Signer::from_seed(&[seed; 32]));
        repo.add_key(role, s).unwrap();
    }
    repo.add_target(
        "targets",
        "dir/ünïcödé \"quoted\"\\.txt",
        b"x",
        Some(serde_json::json!({"note": "tab\there", "n": -42, "big": u64::MAX})),
    )
    .unwrap();
    let files = repo.sign_changes().unwrap();
    let mut texts = Vec::new();
    let mut expected = Vec::new();
    for (name, bytes) in &files {
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let signed = serde_json::to_string_pretty(&v["signed"]).unwrap();
        // The bytes our signatures cover, as the parser computes them.
        let md_canonical = if name.ends_with("root.json") {
            signed_bytes::<Root>("root", bytes)
        } else if name == "timestamp.json" {
            signed_bytes::<Timestamp>("timestamp", bytes)
        } else if name.ends_with("snapshot.json") {
            signed_bytes::<Snapshot>("snapshot", bytes)
        } else {
            signed_bytes::<Targets>("targets", bytes)
        };
        texts.push(signed);
        expected.push((name.clone(), md_canonical));
    }
    assert_eq!(texts.len(), 5, "root twice, timestamp, snapshot, targets");
    let theirs = python_canonical(&python, &texts);
    for ((name, ours), py) in expected.iter().zip(&theirs) {
        let py = unhex(
            py["hex"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: python refused: {py}")),
        );
        assert_eq!(
            String::from_utf8_lossy(&py),
            String::from_utf8_lossy(ours),
            "{name}: canonical forms differ"
        );
    }
}
