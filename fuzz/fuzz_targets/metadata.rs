//! Parses arbitrary bytes as metadata of the role chosen by the first byte
//! (0 root, 1 timestamp, 2 snapshot, 3 targets, mod 4). Parsing must never
//! panic; what parses must survive the repository's own serialization
//! (`to_bytes` then `from_bytes` gives the same metadata), and the helpers
//! a client calls on parsed metadata (signature checks with the keys it
//! lists, delegation lookups) must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared_trust::metadata::{Metadata, Role, Root, Snapshot, Targets, Timestamp};

fn roundtrip<T: Role + PartialEq>(role: &str, md: &Metadata<T>) {
    let bytes = md.to_bytes();
    let again = Metadata::<T>::from_bytes(role, &bytes)
        .unwrap_or_else(|e| panic!("re-serialized {role} does not parse: {e}"));
    assert_eq!(again.signed, md.signed, "{role} changed through to_bytes");
    assert_eq!(again.signatures, md.signatures);
    let _ = md.signed.expires_unix();
    let _ = md.signed.is_expired(0);
}

fn parse<T: Role + PartialEq>(role: &str, bytes: &[u8]) -> Option<Metadata<T>> {
    match Metadata::<T>::from_bytes(role, bytes) {
        Ok(md) => {
            roundtrip(role, &md);
            Some(md)
        }
        Err(e) => {
            let _ = e.to_string();
            None
        }
    }
}

const PROBE_PATHS: [&str; 4] = [
    "",
    "a",
    "crates/se/rd/serde",
    "dist/channel-rust-stable.toml",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    match sel % 4 {
        0 => {
            if let Some(md) = parse::<Root>("root", bytes) {
                for (name, rk) in &md.signed.roles {
                    let _ = md.count_valid_signatures(&md.signed.keys, &rk.keyids);
                    let _ = md.signed.role(name);
                }
                for key in md.signed.keys.values() {
                    let _ = key.verify(md.canonical_signed(), "00");
                }
                let _ = md.signed.consistent_snapshot();
            }
        }
        1 => {
            if let Some(md) = parse::<Timestamp>("timestamp", bytes) {
                let _ = md.signed.snapshot_meta();
            }
        }
        2 => {
            let _ = parse::<Snapshot>("snapshot", bytes);
        }
        _ => {
            if let Some(md) = parse::<Targets>("targets", bytes) {
                if let Some(d) = &md.signed.delegations {
                    let keyids: Vec<String> = d.keys.keys().cloned().collect();
                    let _ = md.signature_report(&d.keys, &keyids);
                    for path in PROBE_PATHS
                        .iter()
                        .copied()
                        .chain(md.signed.targets.keys().map(String::as_str).take(8))
                    {
                        for (name, _) in d.roles_for_target(path) {
                            assert!(
                                d.role_keys(&name).is_some(),
                                "{name} chosen but not delegated"
                            );
                        }
                    }
                    if let Some(s) = &d.succinct_roles {
                        for name in s.bin_names().take(4) {
                            assert!(s.is_role(&name), "{name} is a bin name but not a bin");
                        }
                        let last = s.bin_name(s.bin_count() - 1);
                        assert!(s.is_role(&last), "{last}");
                    }
                }
            }
        }
    }
});
