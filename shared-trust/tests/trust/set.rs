//! `TrustedMetadataSet` fed with bytes at a fixed reference time: one test
//! per failure mode, each checking the exact error variant and that its
//! message names the role and what was expected.

use crate::sim::*;
use serde_json::json;
use shared_trust::metadata::{Metadata, MetadataError, Root, Snapshot, Targets, Timestamp};
use shared_trust::trusted::{TrustError, TrustedMetadataSet};
use std::sync::Arc;

/// The four top-level files of one repository state.
struct Chain {
    root: Vec<u8>,
    timestamp: Vec<u8>,
    snapshot: Vec<u8>,
    targets: Vec<u8>,
}

fn chain(sim: &Sim) -> Chain {
    Chain {
        root: sim.root_bytes(),
        timestamp: sim.bytes("timestamp"),
        snapshot: sim.bytes("snapshot"),
        targets: sim.bytes("targets"),
    }
}

/// A set with root and timestamp loaded.
fn with_timestamp(c: &Chain, now: i64) -> TrustedMetadataSet {
    let mut set = TrustedMetadataSet::new(&c.root, now).unwrap();
    set.update_timestamp(&c.timestamp).unwrap();
    set
}

/// A set with root, timestamp and snapshot loaded.
fn with_snapshot(c: &Chain, now: i64) -> TrustedMetadataSet {
    let mut set = with_timestamp(c, now);
    set.update_snapshot(&c.snapshot, false).unwrap();
    set
}

/// A set with all four top-level roles loaded.
fn with_targets(c: &Chain, now: i64) -> TrustedMetadataSet {
    let mut set = with_snapshot(c, now);
    set.update_targets(&c.targets, false).unwrap();
    set
}

/// A repository with targets delegating `a/*` to role `A` (key seed 40).
fn delegating_sim() -> (Sim, Arc<dyn shared_trust::crypto::Signer>) {
    let a = signer(40);
    let mut sim = Sim::new(false);
    sim.delegate("targets", "A", &a, &["a/*"], false);
    sim.add_target("A", "a/x", b"content of a/x");
    sim.publish();
    (sim, a)
}

/// A new timestamp for the current snapshot, signed later than the rest.
fn later_timestamp(sim: &Sim, version: u64, expires: i64) -> Vec<u8> {
    edit(&sim.bytes("timestamp"), &[&sim.keys.timestamp], |s| {
        set_version(s, version);
        s["expires"] = json!(shared_trust::time::format_utc(expires));
    })
}

#[test]
fn valid_chain_loads_every_role() {
    let (sim, _) = delegating_sim();
    let c = chain(&sim);
    let mut set = with_targets(&c, NOW);
    set.update_delegated_targets(&sim.bytes("A"), "A", "targets", false)
        .unwrap();
    assert_eq!(set.root().version, 1);
    assert_eq!(set.timestamp().unwrap().version, 2);
    assert_eq!(set.snapshot().unwrap().version, 2);
    assert_eq!(set.targets("targets").unwrap().version, 2);
    assert!(set.targets("A").unwrap().targets.contains_key("a/x"));
    // The set keeps the exact bytes it verified.
    assert_eq!(set.timestamp().unwrap().bytes, c.timestamp);
    assert_eq!(set.targets("A").unwrap().bytes, sim.bytes("A"));
}

// ---------------------------------------------------------------------------
// Signatures and thresholds
// ---------------------------------------------------------------------------

#[test]
fn bad_signature_over_edited_content() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let forged = edit_keep_sigs(&c.timestamp, |s| set_version(s, 7));
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    let err = expect_err(set.update_timestamp(&forged), "forged timestamp");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, version: 7, found: 0, threshold: 1, trusted_by, .. }
            if role == "timestamp" && trusted_by == "root version 1",
        &["timestamp version 7", "0 valid signature(s)", "threshold is 1", "root version 1"]
    );
    assert!(set.timestamp().is_none(), "nothing trusted after a failure");
}

#[test]
fn bad_signature_bytes() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    // Flip one hex digit of the signature: well-formed, does not verify.
    let forged = edit_envelope(&c.snapshot, |v| {
        let sig = v["signatures"][0]["sig"].as_str().unwrap().to_string();
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        v["signatures"][0]["sig"] = json!(format!("{flipped}{}", &sig[1..]));
    });
    let mut set = with_timestamp(&c, NOW);
    let err = expect_err(set.update_snapshot(&forged, true), "bad signature");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, found: 0, threshold: 1, .. } if role == "snapshot",
        &["snapshot version 1", "threshold is 1"]
    );
    // Not hex at all: same outcome, never a panic.
    let garbage = edit_envelope(&c.snapshot, |v| v["signatures"][0]["sig"] = json!("zz"));
    let err = expect_err(set.update_snapshot(&garbage, true), "garbage signature");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, found: 0, .. } if role == "snapshot",
        &["snapshot"]
    );
    assert!(set.snapshot().is_none());
}

#[test]
fn signature_from_a_key_of_another_role_is_untrusted() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let by_snapshot_key = edit(&c.timestamp, &[&sim.keys.snapshot], |_| {});
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    let err = expect_err(set.update_timestamp(&by_snapshot_key), "wrong key");
    let snap_keyid = sim.keys.snapshot.keyid().to_string();
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, found: 0, untrusted, .. }
            if role == "timestamp" && untrusted == &vec![snap_keyid.clone()],
        &["timestamp version 1", "threshold is 1", &snap_keyid]
    );
}

/// Root v1 whose timestamp role has three keys and threshold 2.
fn two_of_three() -> Sim {
    Sim::build(false, |repo, _| {
        repo.add_key("timestamp", signer(12)).unwrap();
        repo.add_key("timestamp", signer(13)).unwrap();
        repo.set_threshold("timestamp", 2).unwrap();
    })
}

#[test]
fn threshold_two_of_three_with_one_signature() {
    let sim = two_of_three();
    let c = chain(&sim);
    assert_eq!(
        json(&c.timestamp)["signatures"].as_array().unwrap().len(),
        3
    );
    let one = edit_envelope(&c.timestamp, |v| {
        v["signatures"].as_array_mut().unwrap().truncate(1)
    });
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    let err = expect_err(set.update_timestamp(&one), "one of three");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, found: 1, threshold: 2, .. } if role == "timestamp",
        &["timestamp version 1", "1 valid signature(s)", "threshold is 2"]
    );
    // Control: two distinct signatures meet the threshold.
    let two = edit_envelope(&c.timestamp, |v| {
        v["signatures"].as_array_mut().unwrap().truncate(2)
    });
    set.update_timestamp(&two).unwrap();
}

/// A keyid listed twice in `signatures` never counts twice: the
/// specification requires unique keyids there, and the parser rejects the
/// file (as python-tuf does), even when the rest would meet the threshold.
#[test]
fn duplicate_keyid_signatures_count_once() {
    let sim = two_of_three();
    let c = chain(&sim);
    let first_keyid = json(&c.timestamp)["signatures"][0]["keyid"]
        .as_str()
        .unwrap()
        .to_string();
    let dup = edit_envelope(&c.timestamp, |v| {
        let first = v["signatures"][0].clone();
        v["signatures"] = json!([first.clone(), first]);
    });
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    let err = expect_err(set.update_timestamp(&dup), "duplicated signature");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Invalid { role, reason })
            if role == "timestamp" && reason.contains(&first_keyid),
        &["timestamp metadata is invalid", "more than once", &first_keyid]
    );
    // Rejected even next to enough distinct valid signatures.
    let padded = edit_envelope(&c.timestamp, |v| {
        let first = v["signatures"][0].clone();
        v["signatures"].as_array_mut().unwrap().push(first);
    });
    let err = expect_err(set.update_timestamp(&padded), "padded");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Invalid { .. }),
        &["more than once"]
    );
    assert!(set.timestamp().is_none());
}

/// The same public key listed under two keyids in root, both keyids in the
/// timestamp role with threshold 2, and one signature per keyid made by the
/// one private key. A key counts once toward a threshold whatever keyids
/// name it (as go-tuf does), so this does not meet threshold 2.
#[test]
fn same_key_under_two_keyids_counts_once() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let t = sim.keys.timestamp.clone();
    let root = edit(&c.root, &[&sim.keys.root], |s| {
        let key = s["keys"][t.keyid()].clone();
        s["keys"]["alias-a"] = key.clone();
        s["keys"]["alias-b"] = key;
        s["roles"]["timestamp"] = json!({"keyids": ["alias-a", "alias-b"], "threshold": 2});
    });
    let signed = signed_of(&c.timestamp);
    let both = sign_value_as(&signed, &[("alias-a", t.as_ref()), ("alias-b", t.as_ref())]);
    let one = sign_value_as(&signed, &[("alias-a", t.as_ref())]);

    let mut set = TrustedMetadataSet::new(&root, NOW).unwrap();
    let err = expect_err(set.update_timestamp(&one), "one alias");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet {
            found: 1,
            threshold: 2,
            ..
        },
        &["timestamp", "threshold is 2"]
    );
    let err = expect_err(set.update_timestamp(&both), "one key, two keyids");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet {
            found: 1,
            threshold: 2,
            ..
        },
        &["timestamp", "threshold is 2"]
    );
    assert!(set.timestamp().is_none());
}

#[test]
fn root_rotation_needs_old_and_new_thresholds() {
    let mut sim = Sim::new(false);
    let old = sim.keys.root.clone();
    let new = signer(5);
    sim.repo.add_key("root", new.clone()).unwrap();
    sim.repo.remove_key("root", old.keyid()).unwrap();
    sim.publish();
    let v2 = sim.root_bytes();
    let only = |keyid: &str| {
        let keyid = keyid.to_string();
        edit_envelope(&v2, move |v| {
            v["signatures"]
                .as_array_mut()
                .unwrap()
                .retain(|s| s["keyid"] == json!(keyid))
        })
    };
    let mut set = TrustedMetadataSet::new(&sim.root_v1, NOW).unwrap();
    let err = expect_err(set.update_root(&only(new.keyid())), "new key only");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, version: 2, found: 0, trusted_by, .. }
            if role == "root" && trusted_by == "root version 1",
        &["root version 2", "trusted by root version 1", "threshold is 1"]
    );
    let err = expect_err(set.update_root(&only(old.keyid())), "old key only");
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, version: 2, found: 0, trusted_by, .. }
            if role == "root" && trusted_by == "root version 2",
        &["root version 2", "trusted by root version 2"]
    );
    assert_eq!(set.root().version, 1);
    set.update_root(&v2).unwrap();
    assert_eq!(set.root().version, 2);
}

// ---------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------

#[test]
fn expired_final_root() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let expires = signed_of(&c.root)["expires"].as_str().unwrap().to_string();
    let later = NOW + 366 * DAY;
    // Loading a trusted root does not check expiry; using it does.
    let mut set = TrustedMetadataSet::new(&c.root, later).unwrap();
    let err = expect_err(set.check_root_unexpired(), "expired root");
    assert_variant!(
        err,
        TrustError::Expired { role, version: 1, expires: e, .. } if role == "root" && *e == expires,
        &["root version 1 expired at", &expires, "reference time"]
    );
    let err = expect_err(
        set.update_timestamp(&c.timestamp),
        "timestamp under expired root",
    );
    assert_variant!(
        err,
        TrustError::Expired { role, .. } if role == "root",
        &["root version 1 expired"]
    );
    assert!(set.timestamp().is_none());
}

#[test]
fn expired_timestamp_and_the_boundary() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let expires = signed_of(&c.timestamp)["expires"]
        .as_str()
        .unwrap()
        .to_string();
    // One second before expiry: fine.
    with_timestamp(&c, NOW + DAY - 1);
    // At expiry: expired (expired when now >= expires).
    let mut set = TrustedMetadataSet::new(&c.root, NOW + DAY).unwrap();
    let err = expect_err(set.update_timestamp(&c.timestamp), "expired timestamp");
    assert_variant!(
        err,
        TrustError::Expired { role, version: 1, expires: e, .. }
            if role == "timestamp" && *e == expires,
        &["timestamp version 1 expired at", &expires]
    );
    // Documented: the expired timestamp stays trusted for rollback checks,
    // and nothing can be built on it.
    assert_eq!(set.timestamp().unwrap().version, 1);
    let err = expect_err(set.update_snapshot(&c.snapshot, false), "snapshot after");
    assert_variant!(
        err,
        TrustError::Expired { role, .. } if role == "timestamp",
        &["timestamp version 1 expired"]
    );
}

#[test]
fn expired_snapshot() {
    let sim = Sim::new(false);
    // Only a new timestamp: snapshot v1 (7 days) is left to expire.
    let mut c = chain(&sim);
    c.timestamp = later_timestamp(&sim, 2, NOW + 9 * DAY);
    let mut set = with_timestamp(&c, NOW + 8 * DAY);
    let err = expect_err(set.update_snapshot(&c.snapshot, false), "expired snapshot");
    assert_variant!(
        err,
        TrustError::Expired { role, version: 1, .. } if role == "snapshot",
        &["snapshot version 1 expired at"]
    );
    // Documented: kept only as the rollback reference; nothing loads on it.
    assert_eq!(set.snapshot().unwrap().version, 1);
    let err = expect_err(set.update_targets(&c.targets, false), "targets on expired");
    assert_variant!(
        err,
        TrustError::Expired { role, .. } if role == "snapshot",
        &["snapshot version 1 expired"]
    );
    assert!(set.targets("targets").is_none());
    // Control: the same bytes a day earlier are fine.
    with_snapshot(&c, NOW + 6 * DAY);
}

#[test]
fn expired_targets() {
    let mut sim = Sim::new(false);
    sim.repo.touch("snapshot");
    sim.publish_at(NOW + 91 * DAY);
    let c = chain(&sim);
    assert_eq!(signed_of(&c.targets)["version"], 1);
    let mut set = with_snapshot(&c, NOW + 91 * DAY);
    let err = expect_err(set.update_targets(&c.targets, false), "expired targets");
    assert_variant!(
        err,
        TrustError::Expired { role, version: 1, .. } if role == "targets",
        &["targets version 1 expired at"]
    );
    assert!(set.targets("targets").is_none());
}

#[test]
fn expired_delegated_targets() {
    let (mut sim, _) = delegating_sim();
    // Re-sign targets and snapshot later; A keeps its 90-day expiry.
    sim.repo.touch("targets");
    sim.publish_at(NOW + 91 * DAY);
    let c = chain(&sim);
    let mut set = with_targets(&c, NOW + 91 * DAY);
    let err = expect_err(
        set.update_delegated_targets(&sim.bytes("A"), "A", "targets", false),
        "expired A",
    );
    assert_variant!(
        err,
        TrustError::Expired { role, version: 1, .. } if role == "A",
        &["A version 1 expired at"]
    );
    assert!(set.targets("A").is_none());
}

// ---------------------------------------------------------------------------
// Rollback, version pins, mix-and-match
// ---------------------------------------------------------------------------

#[test]
fn root_version_must_be_next() {
    let mut sim = Sim::new(false);
    sim.repo.touch("root");
    sim.publish();
    let v2 = sim.root_bytes();
    sim.repo.touch("root");
    sim.publish();
    let v3 = sim.root_bytes();
    let mut set = TrustedMetadataSet::new(&sim.root_v1, NOW).unwrap();
    let err = expect_err(set.update_root(&v3), "skipping v2");
    assert_variant!(
        err,
        TrustError::RootVersionNotNext {
            trusted: 1,
            found: 3
        },
        &[
            "root version 3",
            "not the next version after trusted root version 1"
        ]
    );
    let err = expect_err(set.update_root(&sim.root_v1), "same version");
    assert_variant!(
        err,
        TrustError::RootVersionNotNext {
            trusted: 1,
            found: 1
        },
        &["root version 1"]
    );
    set.update_root(&v2).unwrap();
    let err = expect_err(set.update_root(&v2), "v2 again");
    assert_variant!(
        err,
        TrustError::RootVersionNotNext {
            trusted: 2,
            found: 2
        },
        &["trusted root version 2"]
    );
    set.update_root(&v3).unwrap();
    assert_eq!(set.root().version, 3);
}

#[test]
fn timestamp_rollback_and_equal_version() {
    let mut sim = Sim::new(false);
    let ts1 = sim.bytes("timestamp");
    sim.publish();
    let c = chain(&sim);
    let mut set = with_timestamp(&c, NOW);
    let err = expect_err(set.update_timestamp(&ts1), "rollback");
    assert_variant!(
        err,
        TrustError::Rollback { role, trusted: 2, found: 1 } if role == "timestamp",
        &["timestamp rollback", "version 1 is older than trusted version 2"]
    );
    let err = expect_err(set.update_timestamp(&c.timestamp), "equal");
    assert_variant!(
        err,
        TrustError::EqualVersion { version: 2 },
        &["timestamp version 2 equals the trusted version"]
    );
    assert_eq!(set.timestamp().unwrap().bytes, c.timestamp);
}

#[test]
fn snapshot_rollback_via_timestamp_pin() {
    let mut sim = Sim::new(false);
    let ts1 = sim.bytes("timestamp");
    sim.repo.touch("snapshot");
    sim.publish();
    let c = chain(&sim);
    // A timestamp v3 (validly signed: stolen key) pinning snapshot v1 again.
    let ts3 = edit(&c.timestamp, &[&sim.keys.timestamp], |s| {
        set_version(s, 3);
        s["meta"] = signed_of(&ts1)["meta"].clone();
    });
    let mut set = with_timestamp(&c, NOW);
    let err = expect_err(set.update_timestamp(&ts3), "pin rollback");
    assert_variant!(
        err,
        TrustError::Rollback { role, trusted: 2, found: 1 } if role.starts_with("snapshot"),
        &["snapshot", "rollback", "version 1 is older than trusted version 2"]
    );
    assert_eq!(set.timestamp().unwrap().version, 2);
}

#[test]
fn snapshot_version_must_match_timestamp_pin() {
    let mut sim = Sim::new(false);
    let snap1 = sim.bytes("snapshot");
    sim.repo.touch("snapshot");
    sim.publish();
    let c = chain(&sim);
    let mut set = with_timestamp(&c, NOW);
    // From the network, the hash pin catches it first.
    let err = expect_err(set.update_snapshot(&snap1, false), "old snapshot fetched");
    assert_variant!(
        err,
        TrustError::LengthMismatch { file, .. } | TrustError::HashMismatch { file, .. }
            if file == "snapshot.json",
        &["snapshot.json", "timestamp version 2"]
    );
    assert!(set.snapshot().is_none());
    // From local storage (no hash check): the version pin still applies.
    let err = expect_err(set.update_snapshot(&snap1, true), "old snapshot");
    assert_variant!(
        err,
        TrustError::VersionMismatch { role, expected: 2, found: 1, pinned_by }
            if role == "snapshot" && pinned_by == "timestamp version 2",
        &["snapshot version 1", "does not match version 2", "timestamp version 2"]
    );
    // Documented: kept as the rollback reference, but not final.
    assert_eq!(set.snapshot().unwrap().version, 1);
    let err = expect_err(set.update_targets(&c.targets, false), "targets on v1");
    assert_variant!(
        err,
        TrustError::VersionMismatch { role, expected: 2, found: 1, .. } if role == "snapshot",
        &["snapshot version 1 does not match version 2"]
    );
    // The pinned snapshot replaces it.
    set.update_snapshot(&c.snapshot, false).unwrap();
    set.update_targets(&c.targets, false).unwrap();
}

/// The local snapshot (an older version, kept as the rollback reference)
/// guards the new one: a role listed there may not go back or disappear.
#[test]
fn new_snapshot_checked_against_previous_local_snapshot() {
    let (mut sim, _) = delegating_sim();
    let local = chain(&sim);
    sim.repo.touch("targets");
    sim.repo.touch("A");
    sim.publish();
    // Now targets v3, A v2 in snapshot v3. A forged snapshot v4 (stolen
    // snapshot and timestamp keys) rolls targets back to v2 and drops A.
    let c = chain(&sim);
    let forged = |f: &dyn Fn(&mut serde_json::Value)| {
        let snap = edit(&c.snapshot, &[&sim.keys.snapshot], |s| {
            set_version(s, 4);
            f(s);
        });
        let ts = edit(&c.timestamp, &[&sim.keys.timestamp], |s| {
            set_version(s, 4);
            s["meta"]["snapshot.json"] = pin_of(&snap);
        });
        (ts, snap)
    };
    let load = |ts: &[u8], snap: &[u8]| {
        let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
        set.update_timestamp(&c.timestamp).unwrap();
        set.update_timestamp(ts).unwrap();
        let err = expect_err(set.update_snapshot(&c.snapshot, true), "local is old");
        assert!(matches!(err, TrustError::VersionMismatch { .. }), "{err:?}");
        set.update_snapshot(snap, false).map(|_| ())
    };
    assert_eq!(
        signed_of(&local.snapshot)["meta"]["targets.json"]["version"],
        2
    );
    let (ts, snap) = forged(&|s| s["meta"]["targets.json"] = json!({"version": 2}));
    let err = expect_err(load(&ts, &snap), "targets rollback");
    assert_variant!(
        err,
        TrustError::Rollback { role, trusted: 3, found: 2 } if role == "targets",
        &["targets rollback", "version 2 is older than trusted version 3"]
    );
    let (ts, snap) = forged(&|s| {
        s["meta"].as_object_mut().unwrap().remove("A.json");
    });
    let err = expect_err(load(&ts, &snap), "A dropped");
    assert_variant!(
        err,
        TrustError::MetaRemoved { version: 4, file, trusted_version: 3 } if file == "A.json",
        &["snapshot version 4 no longer lists A.json", "trusted snapshot version 3"]
    );
    // Control: a forged snapshot that changes nothing relevant is accepted.
    let (ts, snap) = forged(&|_| {});
    load(&ts, &snap).unwrap();
}

#[test]
fn mix_and_match_timestamp_and_snapshot_of_different_states() {
    // Version-only pins, so only the version can tell states apart.
    let mut sim = Sim::build(false, |repo, _| repo.pin_hashes = false);
    let a = chain(&sim);
    assert!(signed_of(&a.timestamp)["meta"]["snapshot.json"]
        .get("hashes")
        .is_none());
    sim.repo.touch("snapshot");
    sim.publish();
    let b = chain(&sim);

    let mut set = with_timestamp(&b, NOW);
    let err = expect_err(
        set.update_snapshot(&a.snapshot, false),
        "B's ts, A's snapshot",
    );
    assert_variant!(
        err,
        TrustError::VersionMismatch { role, expected: 2, found: 1, .. } if role == "snapshot",
        &["snapshot version 1 does not match version 2 pinned by timestamp version 2"]
    );
    let mut set = with_timestamp(&a, NOW);
    let err = expect_err(
        set.update_snapshot(&b.snapshot, false),
        "A's ts, B's snapshot",
    );
    assert_variant!(
        err,
        TrustError::VersionMismatch { role, expected: 1, found: 2, .. } if role == "snapshot",
        &["snapshot version 2", "timestamp version 1"]
    );
    // Control: a consistent pair loads.
    with_snapshot(&b, NOW);
}

/// Two snapshots with the version the one timestamp pins (the local one,
/// then a new one): the second may not roll a role back.
#[test]
fn targets_rollback_in_snapshot_meta() {
    let mut sim = Sim::new(false);
    sim.repo.touch("targets");
    sim.publish();
    let c = chain(&sim);
    assert_eq!(signed_of(&c.snapshot)["meta"]["targets.json"]["version"], 2);
    let rolled = edit(&c.snapshot, &[&sim.keys.snapshot], |s| {
        s["meta"]["targets.json"] = json!({"version": 1});
    });
    let mut set = with_snapshot(&c, NOW);
    let err = expect_err(set.update_snapshot(&rolled, true), "targets rollback");
    assert_variant!(
        err,
        TrustError::Rollback { role, trusted: 2, found: 1 } if role == "targets",
        &["targets rollback", "version 1 is older than trusted version 2"]
    );
    assert_eq!(
        set.snapshot().unwrap().meta["targets.json"].version,
        2,
        "the trusted snapshot is unchanged"
    );
}

#[test]
fn snapshot_may_not_drop_a_listed_role() {
    let (sim, _) = delegating_sim();
    let c = chain(&sim);
    let dropped = edit(&c.snapshot, &[&sim.keys.snapshot], |s| {
        s["meta"].as_object_mut().unwrap().remove("A.json");
    });
    let mut set = with_snapshot(&c, NOW);
    let err = expect_err(set.update_snapshot(&dropped, true), "dropped A");
    assert_variant!(
        err,
        TrustError::MetaRemoved { version: 2, file, trusted_version: 2 } if file == "A.json",
        &["snapshot version 2 no longer lists A.json", "trusted snapshot version 2"]
    );
}

#[test]
fn targets_version_must_match_snapshot_pin() {
    let mut sim = Sim::new(false);
    let t1 = sim.bytes("targets");
    sim.repo.touch("targets");
    sim.publish();
    let c = chain(&sim);
    let mut set = with_snapshot(&c, NOW);
    let err = expect_err(set.update_targets(&t1, true), "old targets");
    assert_variant!(
        err,
        TrustError::VersionMismatch { role, expected: 2, found: 1, pinned_by }
            if role == "targets" && pinned_by == "snapshot version 2",
        &["targets version 1 does not match version 2 pinned by snapshot version 2"]
    );
    assert!(set.targets("targets").is_none());
}

// ---------------------------------------------------------------------------
// Length and hash pins
// ---------------------------------------------------------------------------

/// The same JSON with one more trailing byte: signatures still verify.
fn longer(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b.push(b' ');
    b
}

/// The same JSON and length, different bytes: signatures still verify.
fn same_length_other_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    assert_eq!(b.pop(), Some(b'\n'));
    b.push(b' ');
    b
}

#[test]
fn snapshot_length_mismatch() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let len = c.snapshot.len() as u64;
    let mut set = with_timestamp(&c, NOW);
    let err = expect_err(set.update_snapshot(&longer(&c.snapshot), false), "length");
    assert_variant!(
        err,
        TrustError::LengthMismatch { file, expected, found, pinned_by }
            if file == "snapshot.json" && *expected == len && *found == len + 1
                && pinned_by == "timestamp version 1",
        &["snapshot.json", &format!("expected {len} bytes"), "timestamp version 1"]
    );
    assert!(set.snapshot().is_none());
}

#[test]
fn snapshot_hash_mismatch() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let pinned = signed_of(&c.timestamp)["meta"]["snapshot.json"]["hashes"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let mut set = with_timestamp(&c, NOW);
    let other = same_length_other_bytes(&c.snapshot);
    let err = expect_err(set.update_snapshot(&other, false), "hash");
    assert_variant!(
        err,
        TrustError::HashMismatch { file, algorithm, expected, .. }
            if file == "snapshot.json" && algorithm == "sha256" && *expected == pinned,
        &["snapshot.json", "sha256", &format!("expected {pinned}"), "timestamp version 1"]
    );
    // The same bytes from local storage skip the pin (signature still checked).
    set.update_snapshot(&other, true).unwrap();
}

#[test]
fn targets_length_and_hash_mismatch() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let len = c.targets.len() as u64;
    let mut set = with_snapshot(&c, NOW);
    let err = expect_err(set.update_targets(&longer(&c.targets), false), "length");
    assert_variant!(
        err,
        TrustError::LengthMismatch { file, expected, .. }
            if file == "targets.json" && *expected == len,
        &["targets.json", &format!("expected {len} bytes"), "snapshot version 1"]
    );
    let err = expect_err(
        set.update_targets(&same_length_other_bytes(&c.targets), false),
        "hash",
    );
    assert_variant!(
        err,
        TrustError::HashMismatch { file, algorithm, .. }
            if file == "targets.json" && algorithm == "sha256",
        &["targets.json", "sha256", "snapshot version 1"]
    );
    assert!(set.targets("targets").is_none());
    set.update_targets(&c.targets, false).unwrap();
}

#[test]
fn unsupported_hash_algorithm_is_rejected() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let md5 = edit(&c.timestamp, &[&sim.keys.timestamp], |s| {
        s["meta"]["snapshot.json"]["hashes"] = json!({"md5": "d41d8cd98f00b204e9800998ecf8427e"});
    });
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    set.update_timestamp(&md5).unwrap();
    let err = expect_err(set.update_snapshot(&c.snapshot, false), "md5 pin");
    assert_variant!(
        err,
        TrustError::UnsupportedHash { file, algorithm, .. }
            if file == "snapshot.json" && algorithm == "md5",
        &["snapshot.json", "unsupported hash algorithm \"md5\"", "timestamp version 1"]
    );
    // An unsupported algorithm next to a matching sha256 is still rejected.
    let sha256 = pin_of(&c.snapshot)["hashes"]["sha256"].clone();
    let both = edit(&c.timestamp, &[&sim.keys.timestamp], |s| {
        s["meta"]["snapshot.json"]["hashes"] = json!({"sha256": sha256, "sha3-256": "00"});
    });
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    set.update_timestamp(&both).unwrap();
    let err = expect_err(set.update_snapshot(&c.snapshot, false), "sha3 pin");
    assert_variant!(
        err,
        TrustError::UnsupportedHash { algorithm, .. } if algorithm == "sha3-256",
        &["sha3-256"]
    );
}

#[test]
fn sha512_pin_is_checked() {
    use sha2::Digest;
    let sim = Sim::new(false);
    let c = chain(&sim);
    let good = hex::encode(sha2::Sha512::digest(&c.snapshot));
    let pin = |h: &str| {
        let h = h.to_string();
        edit(&c.timestamp, &[&sim.keys.timestamp], move |s| {
            s["meta"]["snapshot.json"]["hashes"] = json!({ "sha512": h });
        })
    };
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    set.update_timestamp(&pin(&good)).unwrap();
    set.update_snapshot(&c.snapshot, false).unwrap();
    let bad = format!(
        "{}{}",
        if good.starts_with('0') { "1" } else { "0" },
        &good[1..]
    );
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    set.update_timestamp(&pin(&bad)).unwrap();
    let err = expect_err(set.update_snapshot(&c.snapshot, false), "bad sha512");
    assert_variant!(
        err,
        TrustError::HashMismatch { algorithm, .. } if algorithm == "sha512",
        &["snapshot.json", "sha512"]
    );
}

// ---------------------------------------------------------------------------
// Malformed metadata
// ---------------------------------------------------------------------------

#[test]
fn malformed_json() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let truncated = &c.root[..c.root.len() / 2];
    let err = expect_err(TrustedMetadataSet::new(truncated, NOW), "truncated root");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Json { role, .. }) if role == "root",
        &["root metadata is not valid JSON metadata"]
    );
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    let bads: [&[u8]; 5] = [b"", b"{not json", b"\xff\xfe", b"[]", b"{\"signed\": {}}"];
    for bad in bads {
        let err = expect_err(set.update_timestamp(bad), "garbage");
        assert_variant!(
            err,
            TrustError::Metadata(MetadataError::Json { role, .. }) if role == "timestamp",
            &["timestamp metadata is not valid JSON metadata"]
        );
    }
    assert!(set.timestamp().is_none());
}

/// Feeds a timestamp whose `signed` object `f` edits (validly re-signed).
fn timestamp_edited(f: impl FnOnce(&mut serde_json::Value)) -> Result<(), TrustError> {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let bytes = edit(&c.timestamp, &[&sim.keys.timestamp], f);
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    set.update_timestamp(&bytes).map(|_| ())
}

#[test]
fn version_as_string() {
    let err = expect_err(timestamp_edited(|s| s["version"] = json!("1")), "string");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Field { role, path, .. })
            if role == "timestamp" && path == "version",
        &["timestamp metadata: field version", "expected u64"]
    );
}

#[test]
fn threshold_as_string() {
    let sim = Sim::new(false);
    let root = edit(&sim.root_v1, &[&sim.keys.root], |s| {
        s["roles"]["snapshot"]["threshold"] = json!("1")
    });
    let err = expect_err(TrustedMetadataSet::new(&root, NOW), "string threshold");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Field { role, path, .. })
            if role == "root" && path == "roles.snapshot.threshold",
        &["root metadata: field roles.snapshot.threshold", "expected u64"]
    );
}

#[test]
fn expires_in_the_wrong_format() {
    for bad in [
        "2030-01-01T00:00:00",
        "2030-01-01 00:00:00Z",
        "2030-01-01T00:00:00.000Z",
        "2030-01-01T00:00:00+00:00",
        "1700000000",
    ] {
        let err = expect_err(timestamp_edited(|s| s["expires"] = json!(bad)), bad);
        assert_variant!(
            err,
            TrustError::Metadata(MetadataError::Invalid { role, .. }) if role == "timestamp",
            &["timestamp metadata is invalid", &format!("expires {bad:?}"), "YYYY-MM-DDTHH:MM:SSZ"]
        );
    }
    // A number where a string is expected is a type error.
    let err = expect_err(
        timestamp_edited(|s| s["expires"] = json!(1_800_000_000)),
        "num",
    );
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Field { role, path, .. })
            if role == "timestamp" && path == "expires",
        &["timestamp metadata: field expires", "expected a string"]
    );
}

/// A timestamp with a float somewhere in `signed` (no canonical form, so
/// it cannot be signed at all: the old signatures are kept).
fn timestamp_with_float(f: impl FnOnce(&mut serde_json::Value)) -> Result<(), TrustError> {
    let sim = Sim::new(false);
    let bytes = edit_keep_sigs(&sim.bytes("timestamp"), f);
    let mut set = TrustedMetadataSet::new(&sim.root_v1, NOW).unwrap();
    set.update_timestamp(&bytes).map(|_| ())
}

#[test]
fn float_in_signed() {
    let err = expect_err(
        timestamp_with_float(|s| s["version"] = json!(1.0)),
        "float version",
    );
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Canonical { role, .. }) if role == "timestamp",
        &["timestamp metadata has no canonical form", "only integers"]
    );
    // Also deep inside, in a field this client does not know.
    let err = expect_err(
        timestamp_with_float(|s| s["meta"]["snapshot.json"]["x-ratio"] = json!(0.5)),
        "float in unknown field",
    );
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Canonical { role, .. }) if role == "timestamp",
        &["timestamp", "0.5"]
    );
}

#[test]
fn missing_fields() {
    for field in ["meta", "version", "expires", "spec_version", "_type"] {
        let err = expect_err(
            timestamp_edited(|s| {
                s.as_object_mut().unwrap().remove(field);
            }),
            field,
        );
        assert_variant!(
            err,
            TrustError::Metadata(MetadataError::Json { role, .. }) if role == "timestamp",
            &["timestamp metadata", &format!("missing field `{field}`")]
        );
    }
    let err = expect_err(
        timestamp_edited(|s| {
            s["meta"].as_object_mut().unwrap().remove("snapshot.json");
        }),
        "no snapshot.json",
    );
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Invalid { role, .. }) if role == "timestamp",
        &["timestamp metadata is invalid", "snapshot.json"]
    );
    let sim = Sim::new(false);
    let no_sigs = edit_envelope(&sim.bytes("timestamp"), |v| {
        v.as_object_mut().unwrap().remove("signatures");
    });
    let mut set = TrustedMetadataSet::new(&sim.root_v1, NOW).unwrap();
    let err = expect_err(set.update_timestamp(&no_sigs), "no signatures");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Json { role, .. }) if role == "timestamp",
        &["missing field `signatures`"]
    );
}

#[test]
fn version_zero_and_negative() {
    let err = expect_err(timestamp_edited(|s| set_version(s, 0)), "zero");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Invalid { role, .. }) if role == "timestamp",
        &["timestamp metadata is invalid", "version must be at least 1"]
    );
    let err = expect_err(timestamp_edited(|s| s["version"] = json!(-1)), "negative");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Field { role, path, .. })
            if role == "timestamp" && path == "version",
        &["timestamp metadata: field version"]
    );
}

#[test]
fn type_of_another_role() {
    let sim = Sim::new(false);
    let c = chain(&sim);
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    let err = expect_err(set.update_timestamp(&c.snapshot), "snapshot as timestamp");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::WrongType { role, expected: "timestamp", found })
            if role == "timestamp" && found == "snapshot",
        &["timestamp metadata has _type \"snapshot\", expected \"timestamp\""]
    );
    // Signed by the right key, but of the wrong type.
    let retyped = edit(&c.timestamp, &[&sim.keys.timestamp], |s| {
        s["_type"] = json!("targets")
    });
    let err = expect_err(set.update_timestamp(&retyped), "retyped");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::WrongType { found, .. }) if found == "targets",
        &["expected \"timestamp\""]
    );
    let err = expect_err(TrustedMetadataSet::new(&c.targets, NOW), "targets as root");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::WrongType { role, expected: "root", .. })
            if role == "root",
        &["root metadata has _type \"targets\", expected \"root\""]
    );
    set.update_timestamp(&c.timestamp).unwrap();
    let err = expect_err(set.update_snapshot(&c.targets, true), "targets as snapshot");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::WrongType { role, expected: "snapshot", .. })
            if role == "snapshot",
        &["snapshot metadata has _type \"targets\""]
    );
}

#[test]
fn spec_versions() {
    for ok in ["1.0", "1.0.31", "1.0.0", "1.2"] {
        timestamp_edited(|s| s["spec_version"] = json!(ok))
            .unwrap_or_else(|e| panic!("spec_version {ok} rejected: {e}"));
    }
    for bad in ["2.0.0", "2.0", "0.9", "1", "v1.0", ""] {
        let err = expect_err(timestamp_edited(|s| s["spec_version"] = json!(bad)), bad);
        assert_variant!(
            err,
            TrustError::Metadata(MetadataError::Invalid { role, .. }) if role == "timestamp",
            &["timestamp metadata is invalid", &format!("unsupported spec_version {bad:?}")]
        );
    }
    let sim = Sim::new(false);
    let root2 = edit(&sim.root_v1, &[&sim.keys.root], |s| {
        s["spec_version"] = json!("2.0.0")
    });
    let err = expect_err(TrustedMetadataSet::new(&root2, NOW), "root 2.0.0");
    assert_variant!(
        err,
        TrustError::Metadata(MetadataError::Invalid { role, .. }) if role == "root",
        &["root metadata is invalid", "\"2.0.0\""]
    );
}

// ---------------------------------------------------------------------------
// Unknown fields
// ---------------------------------------------------------------------------

#[test]
fn unknown_fields_at_every_level_verify_and_are_kept() {
    let (sim, a) = delegating_sim();
    let c = chain(&sim);
    let akid = a.keyid().to_string();
    let x = json!({"nested": [1, "two", null, {"deep": true}]});

    let mut a_md = edit(&sim.bytes("A"), &[&a], |s| {
        s["x-top"] = x.clone();
        s["targets"]["a/x"]["x-target"] = json!(7);
        s["targets"]["a/x"]["custom"] = json!({"anything": ["goes"]});
    });
    a_md = edit_envelope(&a_md, |v| v["signatures"][0]["x-sig"] = json!("kept"));
    let targets = edit(&c.targets, &[&sim.keys.targets], |s| {
        s["x-top"] = x.clone();
        let d = &mut s["delegations"];
        d["x-delegations"] = json!(true);
        d["roles"][0]["x-role"] = json!("r");
        d["keys"][&akid]["x-key"] = json!(1);
        d["keys"][&akid]["keyval"]["x-keyval"] = json!("v");
    });
    let snapshot = edit(&c.snapshot, &[&sim.keys.snapshot], |s| {
        s["x-top"] = x.clone();
        s["meta"]["targets.json"] = pin_of(&targets);
        s["meta"]["targets.json"]["x-meta"] = json!("t");
        s["meta"]["A.json"] = pin_of(&a_md);
    });
    let timestamp = edit(&c.timestamp, &[&sim.keys.timestamp], |s| {
        s["x-top"] = x.clone();
        s["meta"]["snapshot.json"] = pin_of(&snapshot);
        s["meta"]["snapshot.json"]["x-meta"] = json!("s");
    });
    let rkid = sim.keys.root.keyid().to_string();
    let root = edit(&c.root, &[&sim.keys.root], |s| {
        s["x-top"] = x.clone();
        s["roles"]["root"]["x-role"] = json!(["a"]);
        s["keys"][&rkid]["x-key"] = json!({});
        s["keys"][&rkid]["keyval"]["x-keyval"] = json!(0);
    });

    let mut set = TrustedMetadataSet::new(&root, NOW).unwrap();
    set.update_timestamp(&timestamp).unwrap();
    set.update_snapshot(&snapshot, false).unwrap();
    set.update_targets(&targets, false).unwrap();
    set.update_delegated_targets(&a_md, "A", "targets", false)
        .unwrap();

    // The typed model keeps them.
    assert_eq!(set.root().unknown_fields["x-top"], x);
    assert_eq!(
        set.root().roles["root"].unknown_fields["x-role"],
        json!(["a"])
    );
    assert_eq!(
        set.root().keys[&rkid].keyval.unknown_fields["x-keyval"],
        json!(0)
    );
    let ts = set.timestamp().unwrap();
    assert_eq!(ts.snapshot_meta().unknown_fields["x-meta"], json!("s"));
    let snap = set.snapshot().unwrap();
    assert_eq!(
        snap.meta["targets.json"].unknown_fields["x-meta"],
        json!("t")
    );
    let d = set.targets("targets").unwrap().delegations.clone().unwrap();
    assert_eq!(d.unknown_fields["x-delegations"], json!(true));
    assert_eq!(d.roles.unwrap()[0].unknown_fields["x-role"], json!("r"));
    assert_eq!(d.keys[&akid].unknown_fields["x-key"], json!(1));
    let t = &set.targets("A").unwrap().targets["a/x"];
    assert_eq!(t.unknown_fields["x-target"], json!(7));
    assert_eq!(t.custom, Some(json!({"anything": ["goes"]})));
    assert_eq!(
        set.targets("A").unwrap().metadata.signatures[0].unknown_fields["x-sig"],
        json!("kept")
    );

    // Re-serialized through the typed model, the signatures still verify:
    // nothing was dropped or changed.
    let rt_root = Metadata::<Root>::from_bytes("root", &root).unwrap();
    let rt_ts = Metadata::<Timestamp>::from_bytes("timestamp", &timestamp).unwrap();
    let rt_snap = Metadata::<Snapshot>::from_bytes("snapshot", &snapshot).unwrap();
    let rt_targets = Metadata::<Targets>::from_bytes("targets", &targets).unwrap();
    let rt_a = Metadata::<Targets>::from_bytes("A", &a_md).unwrap();
    let again = Metadata::<Root>::from_bytes("root", &rt_root.to_bytes()).unwrap();
    assert_eq!(again.canonical_signed(), rt_root.canonical_signed());
    let mut set = TrustedMetadataSet::new(&rt_root.to_bytes(), NOW).unwrap();
    set.update_timestamp(&rt_ts.to_bytes()).unwrap();
    set.update_snapshot(&rt_snap.to_bytes(), true).unwrap();
    set.update_targets(&rt_targets.to_bytes(), true).unwrap();
    set.update_delegated_targets(&rt_a.to_bytes(), "A", "targets", true)
        .unwrap();
}

// ---------------------------------------------------------------------------
// Caller misuse and delegation bookkeeping
// ---------------------------------------------------------------------------

#[track_caller]
fn assert_misuse(err: TrustError, needle: &str) {
    assert!(matches!(err, TrustError::OutOfOrder(_)), "{err:?}");
    assert!(err.is_misuse());
    assert_msg(&err, &["out of order", needle]);
}

#[test]
fn steps_out_of_order_are_misuse() {
    let (sim, _) = delegating_sim();
    let c = chain(&sim);
    let a = sim.bytes("A");
    let mut set = TrustedMetadataSet::new(&c.root, NOW).unwrap();
    assert_misuse(
        expect_err(set.update_snapshot(&c.snapshot, false), "snapshot first"),
        "snapshot before timestamp",
    );
    assert_misuse(
        expect_err(set.update_targets(&c.targets, false), "targets first"),
        "before timestamp",
    );
    set.update_timestamp(&c.timestamp).unwrap();
    assert_misuse(
        expect_err(set.update_root(&c.root), "root after timestamp"),
        "root after timestamp",
    );
    assert_misuse(
        expect_err(
            set.update_targets(&c.targets, false),
            "targets before snapshot",
        ),
        "before snapshot",
    );
    set.update_snapshot(&c.snapshot, false).unwrap();
    assert_misuse(
        expect_err(
            set.update_timestamp(&c.timestamp),
            "timestamp after snapshot",
        ),
        "timestamp after snapshot",
    );
    assert_misuse(
        expect_err(
            set.update_delegated_targets(&a, "A", "targets", false),
            "A before targets",
        ),
        "delegator targets is not loaded",
    );
    set.update_targets(&c.targets, false).unwrap();
    assert_misuse(
        expect_err(
            set.update_snapshot(&c.snapshot, false),
            "snapshot after targets",
        ),
        "snapshot after targets",
    );
    set.update_delegated_targets(&a, "A", "targets", false)
        .unwrap();
    // Bad data is not misuse.
    let err = expect_err(
        set.update_delegated_targets(&a, "nope", "targets", true),
        "x",
    );
    assert!(!err.is_misuse(), "{err:?}");
}

#[test]
fn role_not_in_snapshot_or_not_delegated() {
    let a = signer(40);
    let a1 = signer(41);
    let mut sim = Sim::new(false);
    sim.delegate("targets", "A", &a, &["*"], false);
    sim.delegate("A", "A1", &a1, &["*"], false);
    sim.publish();
    let c = chain(&sim);
    let mut set = with_targets(&c, NOW);
    let err = expect_err(
        set.update_delegated_targets(&sim.bytes("A"), "B", "targets", true),
        "B",
    );
    assert_variant!(
        err,
        TrustError::NotInSnapshot { role, snapshot_version: 2 } if role == "B",
        &["B: not listed in snapshot version 2"]
    );
    // A1 is listed, but targets does not delegate to it.
    let err = expect_err(
        set.update_delegated_targets(&sim.bytes("A1"), "A1", "targets", false),
        "A1 by targets",
    );
    assert_variant!(
        err,
        TrustError::NotDelegated { role, delegator } if role == "A1" && delegator == "targets",
        &["targets does not delegate to A1"]
    );
    let err = expect_err(
        set.update_delegated_targets(&sim.bytes("A"), "A", "root", false),
        "A by root",
    );
    assert_variant!(
        err,
        TrustError::NotDelegated { role, delegator } if role == "A" && delegator == "root",
        &["root does not delegate to A"]
    );
    // A1 signed by A's key instead of its own.
    set.update_delegated_targets(&sim.bytes("A"), "A", "targets", false)
        .unwrap();
    let wrong = edit(&sim.bytes("A1"), &[&a], |_| {});
    let err = expect_err(
        set.update_delegated_targets(&wrong, "A1", "A", true),
        "A1 signed by A",
    );
    assert_variant!(
        err,
        TrustError::ThresholdNotMet { role, trusted_by, .. }
            if role == "A1" && trusted_by == "A version 1",
        &["A1 version 1", "trusted by A version 1"]
    );
    set.update_delegated_targets(&sim.bytes("A1"), "A1", "A", false)
        .unwrap();
}
