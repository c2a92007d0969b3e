//! Small helpers shared by the interop tests.

use std::path::Path;

/// Copies a directory tree (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A `file://` URL for a local directory (temporary directories have
/// plain names, so no percent-encoding is needed; checked here).
pub fn file_url(path: &Path) -> String {
    let s = path.to_str().expect("UTF-8 temp path");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-~".contains(&b)),
        "path needs percent-encoding: {s}"
    );
    format!("file://{s}")
}

/// Flips the lowest bit of the byte at `offset` of a file.
pub fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes[offset] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Changes one digit of the `expires` value in a metadata file's `signed`
/// object, keeping the JSON valid and the date well-formed: the bytes stay
/// parseable, so only the signature can reject them.
pub fn tamper_expires(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let key = "\"expires\"";
    let at = text.find(key).expect("metadata has expires");
    let open = at + key.len() + text[at + key.len()..].find('"').expect("expires value");
    // "YYYY-MM-DDTHH:MM:SSZ": index 18 is the last digit of the seconds.
    let digit = open + 1 + 18;
    let mut bytes = text.into_bytes();
    let d = bytes[digit];
    assert!(d.is_ascii_digit(), "unexpected expires format");
    bytes[digit] = if d == b'9' { b'0' } else { d + 1 };
    std::fs::write(path, bytes).unwrap();
}

/// Removes the signature of `keyid` from a metadata file.
pub fn remove_signature(path: &Path, keyid: &str) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let sigs = v["signatures"].as_array_mut().expect("signatures");
    let before = sigs.len();
    sigs.retain(|s| s["keyid"] != keyid);
    assert_eq!(sigs.len() + 1, before, "exactly one signature by {keyid}");
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// Decodes hex from a script's output.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex from script ({e}): {s}"))
}
