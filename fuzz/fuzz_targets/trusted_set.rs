//! Feeds a sequence of metadata blobs to `TrustedMetadataSet` at a fixed
//! reference time. It must never panic, and must keep its documented
//! invariants: a failed step leaves the set as it was (except the two
//! documented rollback references: an expired timestamp, and a snapshot
//! that is expired or not the pinned version), versions only go forward,
//! and what is trusted at the end is consistent (nothing loaded on top of
//! a non-final timestamp or snapshot).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared_trust::metadata::Role;
use shared_trust::trusted::{TrustError, TrustedMetadataSet};

#[path = "common.rs"]
mod common;
use common::*;

fn snapshot_state(set: &TrustedMetadataSet) -> (u64, Option<Vec<u8>>, Option<Vec<u8>>) {
    (
        set.root().version,
        set.timestamp().map(|t| t.bytes.clone()),
        set.snapshot().map(|s| s.bytes.clone()),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let signer = fixture_signer();
    let resign_all = flags & FLAG_RESIGN != 0;
    let prepare = |b: &[u8]| -> Vec<u8> {
        if resign_all {
            resign(&signer, b)
        } else {
            b.to_vec()
        }
    };

    let blobs = split(rest);
    let Some((first, others)) = blobs.split_first() else {
        return;
    };
    let root = prepare(first.get(1..).unwrap_or(&[]));
    let Ok(mut set) = TrustedMetadataSet::new(&root, NOW) else {
        return;
    };
    // Targets roles loaded so far, with their delegator.
    let mut loaded: Vec<String> = Vec::new();

    for blob in others.iter().take(64) {
        let Some((&op, body)) = blob.split_first() else {
            continue;
        };
        let op = op % OP_COUNT;
        let before = snapshot_state(&set);
        let result: Result<(), TrustError> = match op {
            OP_ROOT => {
                let r = set.update_root(&prepare(body)).map(|_| ());
                if r.is_ok() {
                    assert_eq!(set.root().version, before.0 + 1, "root must advance by one");
                }
                r
            }
            OP_TIMESTAMP => {
                let old_version = set.timestamp().map(|t| t.version);
                let r = set.update_timestamp(&prepare(body)).map(|_| ());
                match (&r, old_version) {
                    (Ok(()), Some(v)) => assert!(set.timestamp().unwrap().version > v),
                    // An expired timestamp is kept (documented); nothing else is.
                    (Err(TrustError::Expired { role, .. }), _) if role == "timestamp" => {
                        assert!(set.timestamp().unwrap().is_expired(NOW))
                    }
                    (Err(_), _) => assert_eq!(snapshot_state(&set), before),
                    _ => {}
                }
                r
            }
            OP_SNAPSHOT | OP_SNAPSHOT_TRUSTED => {
                let r = set
                    .update_snapshot(&prepare(body), op == OP_SNAPSHOT_TRUSTED)
                    .map(|_| ());
                match &r {
                    // Documented: a verified snapshot that is expired or not
                    // the pinned version is kept as the rollback reference.
                    Err(TrustError::Expired { role, .. }) if role == "snapshot" => {
                        assert!(set.snapshot().unwrap().is_expired(NOW));
                        assert_eq!(snapshot_state(&set).1, before.1);
                    }
                    Err(TrustError::VersionMismatch { role, .. }) if role == "snapshot" => {
                        let ts = set.timestamp().unwrap();
                        assert_ne!(set.snapshot().unwrap().version, ts.snapshot_meta().version);
                        assert_eq!(snapshot_state(&set).1, before.1);
                    }
                    Err(_) => assert_eq!(snapshot_state(&set), before),
                    Ok(()) => {}
                }
                r
            }
            OP_TARGETS | OP_TARGETS_TRUSTED => {
                let had = set.targets("targets").map(|t| t.bytes.clone());
                let r = set
                    .update_targets(&prepare(body), op == OP_TARGETS_TRUSTED)
                    .map(|_| ());
                if r.is_ok() {
                    loaded.push("targets".into());
                } else {
                    assert_eq!(set.targets("targets").map(|t| t.bytes.clone()), had);
                }
                r
            }
            _ => {
                // OP_DELEGATED[_TRUSTED]: SELECTOR picks a delegation of a
                // loaded role (or, past them, a made-up name under targets).
                let Some((&sel, body)) = body.split_first() else {
                    continue;
                };
                let mut choices: Vec<(String, String)> = Vec::new();
                for parent in &loaded {
                    let Some(t) = set.targets(parent) else {
                        continue;
                    };
                    let Some(d) = &t.delegations else { continue };
                    if let Some(roles) = &d.roles {
                        for r in roles.iter().take(16) {
                            choices.push((r.name.clone(), parent.clone()));
                        }
                    }
                    if let Some(s) = &d.succinct_roles {
                        let bin = u64::from(sel) % s.bin_count();
                        choices.push((s.bin_name(bin), parent.clone()));
                    }
                }
                let (role, delegator) = if choices.is_empty() {
                    ("made-up".to_string(), "targets".to_string())
                } else {
                    choices.swap_remove(usize::from(sel) % choices.len())
                };
                let had = set.targets(&role).map(|t| t.bytes.clone());
                let r = set
                    .update_delegated_targets(
                        &prepare(body),
                        &role,
                        &delegator,
                        op == OP_DELEGATED_TRUSTED,
                    )
                    .map(|_| ());
                if r.is_ok() {
                    if !loaded.contains(&role) {
                        loaded.push(role);
                    }
                } else {
                    assert_eq!(set.targets(&role).map(|t| t.bytes.clone()), had);
                }
                r
            }
        };
        if let Err(e) = &result {
            // Formatting every error must not panic either.
            let _ = e.to_string();
            let _ = e.is_misuse();
        }
    }

    // What is trusted at the end is consistent: a snapshot only on an
    // unexpired timestamp, targets only on a final snapshot.
    if set.snapshot().is_some() {
        let ts = set.timestamp().expect("snapshot implies timestamp");
        assert!(
            !ts.is_expired(NOW),
            "snapshot trusted under an expired timestamp"
        );
    }
    if !loaded.is_empty() {
        let snap = set.snapshot().expect("targets imply snapshot");
        let ts = set.timestamp().expect("snapshot implies timestamp");
        assert!(
            !snap.is_expired(NOW),
            "targets loaded on an expired snapshot"
        );
        assert_eq!(snap.version, ts.snapshot_meta().version);
    }
    for role in &loaded {
        let t = set.targets(role).expect("loaded role stays loaded");
        assert!(!t.is_expired(NOW), "expired {role} trusted");
        let snap = set.snapshot().expect("targets imply snapshot");
        let pin = &snap.meta[&format!("{role}.json")];
        assert_eq!(
            t.version, pin.version,
            "{role} version differs from snapshot pin"
        );
    }
});
