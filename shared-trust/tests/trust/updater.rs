//! The `Updater` driven entirely in memory: a simulated mirror, a fake
//! fetcher with a request log, and a temporary metadata directory.

use crate::sim::*;
use serde_json::json;
use shared_trust::fetcher::FetchError;
use shared_trust::metadata::MetadataError;
use shared_trust::trusted::TrustError;
use shared_trust::updater::{Config, Error, Updater};
use std::collections::BTreeMap;

/// A repository and a client that refreshed against it once, at [`NOW`].
fn synced(consistent: bool) -> (Sim, Client) {
    let sim = Sim::new(consistent);
    let client = sim.client();
    client.refresh(&sim.server, NOW).unwrap();
    (sim, client)
}

/// Refreshes, expecting failure, and checks the metadata directory is
/// byte-for-byte what it was.
#[track_caller]
fn refresh_fails_unchanged(sim: &Sim, client: &Client, now: i64) -> Error {
    let before = client.files();
    let err = expect_err(client.refresh(&sim.server, now), "refresh");
    assert_same_files(&before, &client.files());
    err
}

/// Refreshes, expecting failure, and checks that the directory changed
/// only by the given files (verified before the failing step), to exactly
/// the given bytes.
#[track_caller]
fn refresh_fails_changing(
    sim: &Sim,
    client: &Client,
    now: i64,
    changed: &[(&str, Vec<u8>)],
) -> Error {
    let mut expected = client.files();
    for (name, bytes) in changed {
        assert!(
            expected.get(*name) != Some(bytes),
            "{name} was expected to change"
        );
        expected.insert(name.to_string(), bytes.clone());
    }
    let err = expect_err(client.refresh(&sim.server, now), "refresh");
    assert_same_files(&expected, &client.files());
    err
}

/// A new timestamp (signed by the current timestamp key) for the current
/// snapshot pin, with the given version and expiry.
fn later_timestamp(sim: &Sim, version: u64, expires: i64) -> Vec<u8> {
    edit(&sim.bytes("timestamp"), &[&sim.keys.timestamp], |s| {
        set_version(s, version);
        s["expires"] = json!(shared_trust::time::format_utc(expires));
    })
}

// ---------------------------------------------------------------------------
// What is persisted
// ---------------------------------------------------------------------------

#[test]
fn persisted_bytes_are_exactly_the_bytes_received() {
    let mut sim = Sim::new(false);
    sim.repo.touch("root");
    sim.publish();
    // Serve root v2 and the timestamp re-encoded (compact, trailing
    // blanks): the signatures cover the canonical form, so they verify,
    // and the client must keep these bytes, not a re-serialization.
    let compact = |b: &[u8]| {
        let mut v = serde_json::to_vec(&json(b)).unwrap();
        v.extend_from_slice(b" \n\n");
        v
    };
    let root2 = compact(&sim.meta("2.root.json"));
    let ts = compact(&sim.meta("timestamp.json"));
    assert_ne!(ts, sim.bytes("timestamp"));
    sim.put_meta("2.root.json", root2.clone());
    sim.put_meta("timestamp.json", ts.clone());

    let client = sim.client();
    client.refresh(&sim.server, NOW).unwrap();
    let expected: BTreeMap<String, Vec<u8>> = [
        ("root.json".to_string(), root2),
        ("timestamp.json".to_string(), ts),
        ("snapshot.json".to_string(), sim.meta("snapshot.json")),
        ("targets.json".to_string(), sim.meta("targets.json")),
    ]
    .into();
    assert_same_files(&expected, &client.files());
}

#[test]
fn delegated_role_persisted_under_encoded_name() {
    // Our repository side refuses such names; other producers may not.
    let mut sim = Sim::new(true);
    let key = signer(40);
    sim.add_role_unchecked("team/a b", &key);
    sim.set_delegations("targets", &[("team/a b", &key, &["t/*"])]);
    sim.add_target("team/a b", "t/file", b"x");
    sim.publish();
    let client = sim.client();
    let mut up = client.updater(&sim.server, NOW);
    assert!(up.get_targetinfo("t/file").unwrap().is_some());
    drop(up);
    assert!(sim
        .server
        .meta_requests()
        .contains(&"1.team%2Fa%20b.json".to_string()));
    assert_eq!(
        client.read("team%2Fa%20b.json").unwrap(),
        sim.bytes("team/a b")
    );
}

// ---------------------------------------------------------------------------
// Local state is re-verified
// ---------------------------------------------------------------------------

#[test]
fn local_timestamp_edited_on_disk_is_ignored() {
    let (mut sim, client) = synced(false);
    // Edited to a huge version: if it were trusted, the next real
    // timestamp would look like a rollback.
    let local = client.read("timestamp.json").unwrap();
    client.write(
        "timestamp.json",
        &edit_keep_sigs(&local, |s| set_version(s, 1000)),
    );
    sim.publish();
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(
        client.read("timestamp.json").unwrap(),
        sim.bytes("timestamp")
    );

    // Garbage is ignored just the same.
    client.write("timestamp.json", b"\x00garbage");
    sim.publish();
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(
        client.read("timestamp.json").unwrap(),
        sim.bytes("timestamp")
    );
}

#[test]
fn local_snapshot_and_targets_edited_on_disk_are_fetched_again() {
    let (sim, client) = synced(true);
    let snap = client.read("snapshot.json").unwrap();
    let targets = client.read("targets.json").unwrap();
    client.write(
        "snapshot.json",
        &edit_keep_sigs(&snap, |s| s["meta"]["targets.json"]["version"] = json!(9)),
    );
    client.write(
        "targets.json",
        &edit_keep_sigs(&targets, |s| {
            s["targets"]["evil"] = json!({"length": 1, "hashes": {"sha256": "00"}})
        }),
    );
    sim.server.clear_log();
    // Same timestamp version: only the corrupted files are fetched again.
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(
        sim.server.meta_requests(),
        [
            "2.root.json",
            "timestamp.json",
            "1.snapshot.json",
            "1.targets.json"
        ]
    );
    assert_eq!(client.read("snapshot.json").unwrap(), snap);
    assert_eq!(client.read("targets.json").unwrap(), targets);
}

#[test]
fn corrupted_root_fails_updater_new() {
    let (sim, client) = synced(false);
    let root = client.read("root.json").unwrap();

    client.write("root.json", &root[..root.len() - 10]);
    let err = expect_err(
        Updater::new(&client.dir, META, &sim.server, Config::default(), NOW),
        "truncated root",
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::Metadata(MetadataError::Json { role, .. }))
            if role == "root",
        &["root metadata is not valid JSON"]
    );

    client.write(
        "root.json",
        &edit_keep_sigs(&root, |s| {
            s["expires"] = json!("2099-01-01T00:00:00Z");
        }),
    );
    let err = expect_err(
        Updater::new(&client.dir, META, &sim.server, Config::default(), NOW),
        "edited root",
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, found: 0, .. }) if role == "root",
        &["root version 1", "0 valid signature(s)", "threshold is 1"]
    );

    std::fs::remove_file(client.dir.join("root.json")).unwrap();
    let err = expect_err(
        Updater::new(&client.dir, META, &sim.server, Config::default(), NOW),
        "no root",
    );
    assert_variant!(
        err,
        Error::NoTrustedRoot { path } if path.ends_with("root.json"),
        &["no trusted root", "root.json"]
    );
    assert_eq!(
        sim.server.request_count(),
        4,
        "nothing fetched without a root"
    );
}

#[test]
fn bootstrap_refuses_a_root_that_does_not_verify() {
    let sim = Sim::new(false);
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("m");
    let bad = edit_keep_sigs(&sim.root_v1, |s| set_version(s, 2));
    let err = expect_err(
        Updater::<MemFetcher>::bootstrap(&meta, &bad, NOW),
        "bad root",
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, .. }) if role == "root",
        &["root version 2"]
    );
    assert!(dir_files(&meta).is_empty(), "nothing written");
}

// ---------------------------------------------------------------------------
// What is fetched
// ---------------------------------------------------------------------------

#[test]
fn equal_version_timestamp_reuses_local_snapshot_and_targets() {
    let (sim, client) = synced(false);
    let before = client.files();
    sim.server.clear_log();
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(
        sim.server.meta_requests(),
        ["2.root.json", "timestamp.json"]
    );
    assert_eq!(sim.server.count(&format!("{META}snapshot.json")), 0);
    assert_eq!(sim.server.count(&format!("{META}targets.json")), 0);
    assert_same_files(&before, &client.files());
}

#[test]
fn newer_timestamp_for_the_same_snapshot_reuses_local_snapshot_and_targets() {
    let (sim, client) = synced(true);
    let ts2 = later_timestamp(&sim, 2, NOW + DAY);
    sim.put_meta("timestamp.json", ts2.clone());
    sim.server.clear_log();
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(
        sim.server.meta_requests(),
        ["2.root.json", "timestamp.json"]
    );
    assert_eq!(client.read("timestamp.json").unwrap(), ts2);
}

// ---------------------------------------------------------------------------
// Refreshing with the trusted root (no next-root probe)
// ---------------------------------------------------------------------------

/// One refresh with [`Updater::refresh_with_trusted_root`] in a fresh
/// updater.
fn refresh_trusting_root(client: &Client, sim: &Sim, now: i64) -> Result<(), Error> {
    client.updater(&sim.server, now).refresh_with_trusted_root()
}

#[test]
fn trusted_root_refresh_with_nothing_new_is_one_request() {
    let (sim, client) = synced(true);
    let before = client.files();
    sim.server.clear_log();
    refresh_trusting_root(&client, &sim, NOW).unwrap();
    assert_eq!(sim.server.requests(), [format!("{META}timestamp.json")]);
    assert_same_files(&before, &client.files());
}

#[test]
fn trusted_root_refresh_follows_a_new_snapshot_without_asking_for_a_root() {
    let (mut sim, client) = synced(true);
    let info = sim.add_target("targets", "dir/file.txt", b"file content");
    sim.publish();
    sim.server.clear_log();
    let mut up = client.updater(&sim.server, NOW);
    up.refresh_with_trusted_root().unwrap();
    assert_eq!(
        up.get_targetinfo("dir/file.txt").unwrap().as_ref(),
        Some(&info)
    );
    drop(up);
    assert_eq!(
        sim.server.meta_requests(),
        ["timestamp.json", "2.snapshot.json", "2.targets.json"]
    );
    assert_eq!(client.read("snapshot.json").unwrap(), sim.bytes("snapshot"));
}

#[test]
fn trusted_root_refresh_still_refuses_rollback_and_freeze() {
    let (mut sim, client) = synced(false);
    let ts1 = sim.meta("timestamp.json");
    sim.publish();
    refresh_trusting_root(&client, &sim, NOW).unwrap();
    sim.put_meta("timestamp.json", ts1);
    let before = client.files();
    let err = expect_err(refresh_trusting_root(&client, &sim, NOW), "rollback");
    assert_variant!(
        err,
        Error::Verification(TrustError::Rollback { role, trusted: 2, found: 1 })
            if role == "timestamp",
        &["timestamp rollback"]
    );
    assert_same_files(&before, &client.files());
    let (sim, client) = synced(false);
    let err = expect_err(
        refresh_trusting_root(&client, &sim, NOW + 2 * DAY),
        "freeze",
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, .. }) if role == "timestamp",
        &["timestamp version 1 expired at"]
    );
}

#[test]
fn trusted_root_refresh_refuses_an_expired_root_where_a_full_refresh_rotates() {
    let (mut sim, client) = synced(false);
    // Root v2 is published, timestamp keys unchanged; a year later the
    // trusted v1 has expired.
    for role in ["root", "targets", "snapshot"] {
        sim.repo.touch(role);
    }
    sim.publish_at(NOW + 365 * DAY);
    let later = NOW + 365 * DAY + DAY / 2;
    let before = client.files();
    let err = expect_err(refresh_trusting_root(&client, &sim, later), "expired root");
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, version: 1, .. }) if role == "root",
        &["root version 1 expired at"]
    );
    assert_same_files(&before, &client.files());
    client.refresh(&sim.server, later).unwrap();
    assert_eq!(client.read("root.json").unwrap(), sim.meta("2.root.json"));
}

#[test]
fn trusted_root_refresh_fails_on_new_timestamp_keys_and_a_full_refresh_recovers() {
    let (mut sim, client) = synced(false);
    // Root v2 replaces the timestamp key.
    let new_key = signer(23);
    sim.repo
        .remove_key("timestamp", sim.keys.timestamp.keyid())
        .unwrap();
    sim.repo.add_key("timestamp", new_key.clone()).unwrap();
    sim.keys.timestamp = new_key;
    sim.publish();
    let before = client.files();
    let err = expect_err(refresh_trusting_root(&client, &sim, NOW), "new keys");
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, found: 0, .. })
            if role == "timestamp",
        &["timestamp version 2"]
    );
    assert_same_files(&before, &client.files());
    // The caller's fallback: the full refresh fetches root v2 first.
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("root.json").unwrap(), sim.meta("2.root.json"));
    assert_eq!(
        client.read("timestamp.json").unwrap(),
        sim.meta("timestamp.json")
    );
}

/// Publishes targets and snapshot at version 2 with a target in `dir/`.
fn two_versions(consistent: bool) -> (Sim, shared_trust::metadata::TargetFile) {
    let mut sim = Sim::new(consistent);
    let info = sim.add_target("targets", "dir/file.txt", b"file content");
    sim.publish();
    assert_eq!(sim.repo.targets["targets"].version, 2);
    assert_eq!(sim.repo.snapshot.version, 2);
    (sim, info)
}

#[test]
fn consistent_snapshot_urls() {
    let (sim, info) = two_versions(true);
    let client = sim.client();
    let up = {
        let mut up = client.updater(&sim.server, NOW);
        up.refresh().unwrap();
        up
    };
    assert_eq!(
        sim.server.meta_requests(),
        [
            "2.root.json",
            "timestamp.json",
            "2.snapshot.json",
            "2.targets.json"
        ]
    );
    let hash = info.hashes["sha256"].clone();
    let url = up.target_url(TARGETS, "dir/file.txt", &info);
    assert_eq!(url, format!("{TARGETS}dir/{hash}.file.txt"));
    assert_eq!(
        up.target_url(TARGETS, "top.txt", &info),
        format!("{TARGETS}{hash}.top.txt")
    );
    let bytes = up
        .download_target_bytes("dir/file.txt", &info, TARGETS)
        .unwrap();
    assert_eq!(bytes, b"file content");
    assert_eq!(sim.server.requests().last().unwrap(), &url);
}

#[test]
fn non_consistent_snapshot_urls() {
    let (sim, info) = two_versions(false);
    let client = sim.client();
    let mut up = client.updater(&sim.server, NOW);
    up.refresh().unwrap();
    assert_eq!(
        sim.server.meta_requests(),
        [
            "2.root.json",
            "timestamp.json",
            "snapshot.json",
            "targets.json"
        ]
    );
    let url = up.target_url(TARGETS, "dir/file.txt", &info);
    assert_eq!(url, format!("{TARGETS}dir/file.txt"));
    let bytes = up
        .download_target_bytes("dir/file.txt", &info, TARGETS)
        .unwrap();
    assert_eq!(bytes, b"file content");
    assert_eq!(sim.server.requests().last().unwrap(), &url);
    // Without a trailing slash on the base URL, the same.
    assert_eq!(
        up.target_url(TARGETS.trim_end_matches('/'), "dir/file.txt", &info),
        url
    );
}

// ---------------------------------------------------------------------------
// Root rotation
// ---------------------------------------------------------------------------

/// Publishes root versions 2..=5, each replacing the root key (and v3
/// with two keys and threshold 2).
fn five_roots() -> (Sim, Vec<Vec<u8>>) {
    let mut sim = Sim::new(false);
    let mut roots = vec![sim.root_v1.clone()];
    let mut current = vec![sim.keys.root.clone()];
    for v in 2u8..=5 {
        let new: Vec<_> = if v == 3 {
            vec![signer(100 + v), signer(200 + v)]
        } else {
            vec![signer(100 + v)]
        };
        for k in &new {
            sim.repo.add_key("root", k.clone()).unwrap();
        }
        for k in &current {
            sim.repo.remove_key("root", k.keyid()).unwrap();
        }
        sim.repo.set_threshold("root", new.len() as u64).unwrap();
        sim.publish();
        assert_eq!(sim.repo.root.version, u64::from(v));
        roots.push(sim.root_bytes());
        current = new;
    }
    (sim, roots)
}

#[test]
fn root_rotation_through_five_versions() {
    let (sim, roots) = five_roots();
    let client = sim.client();
    let mut up = client.updater(&sim.server, NOW);
    up.refresh().unwrap();
    assert_eq!(up.trusted().root().version, 5);
    drop(up);
    assert_eq!(
        sim.server.meta_requests()[..6],
        [
            "2.root.json",
            "3.root.json",
            "4.root.json",
            "5.root.json",
            "6.root.json",
            "timestamp.json"
        ]
    );
    assert_eq!(client.read("root.json").unwrap(), roots[4]);
}

#[test]
fn root_rotation_stops_at_max_root_rotations() {
    let (sim, roots) = five_roots();
    let client = sim.client();
    let config = Config {
        max_root_rotations: 2,
        ..Config::default()
    };
    let mut up = client.updater_with(&sim.server, config, NOW);
    up.refresh().unwrap();
    assert_eq!(up.trusted().root().version, 3);
    drop(up);
    let reqs = sim.server.meta_requests();
    assert_eq!(reqs[..3], ["2.root.json", "3.root.json", "timestamp.json"]);
    assert!(!reqs.contains(&"4.root.json".to_string()), "{reqs:?}");
    assert_eq!(client.read("root.json").unwrap(), roots[2]);
    // The next refresh continues from there.
    sim.server.clear_log();
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(
        sim.server.meta_requests()[..3],
        ["4.root.json", "5.root.json", "6.root.json"]
    );
    assert_eq!(client.read("root.json").unwrap(), roots[4]);
}

#[test]
fn only_the_final_root_must_be_unexpired() {
    let mut sim = Sim::new(false);
    // Root v2 signed long ago (already expired), v3 fresh.
    sim.repo.touch("root");
    sim.publish_at(NOW - 400 * DAY);
    sim.repo.touch("root");
    sim.repo.touch("snapshot");
    sim.publish_at(NOW);
    let v2 = signed_of(&sim.meta("2.root.json"));
    assert!(shared_trust::time::parse_utc(v2["expires"].as_str().unwrap()).unwrap() < NOW);
    let client = sim.client();
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("root.json").unwrap(), sim.root_bytes());
}

#[test]
fn expired_final_root_fails_and_leaves_disk_unchanged() {
    let (sim, client) = synced(false);
    let err = refresh_fails_unchanged(&sim, &client, NOW + 366 * DAY);
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, version: 1, .. }) if role == "root",
        &["root version 1 expired at"]
    );
}

#[test]
fn root_rotation_without_old_threshold_leaves_disk_unchanged() {
    let (mut sim, client) = synced(false);
    let old = sim.keys.root.clone();
    let new = signer(5);
    sim.repo.add_key("root", new.clone()).unwrap();
    sim.repo.remove_key("root", old.keyid()).unwrap();
    sim.publish();
    let only_new = edit_envelope(&sim.meta("2.root.json"), |v| {
        v["signatures"]
            .as_array_mut()
            .unwrap()
            .retain(|s| s["keyid"] == json!(new.keyid()))
    });
    sim.put_meta("2.root.json", only_new);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, version: 2, trusted_by, .. })
            if role == "root" && trusted_by == "root version 1",
        &["root version 2", "trusted by root version 1"]
    );
}

#[test]
fn root_file_with_another_version_leaves_disk_unchanged() {
    let (mut sim, client) = synced(false);
    sim.repo.touch("root");
    sim.publish();
    sim.repo.touch("root");
    sim.publish();
    // The mirror serves root v3 as 2.root.json.
    sim.put_meta("2.root.json", sim.meta("3.root.json"));
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::RootVersionNotNext {
            trusted: 1,
            found: 3
        }),
        &["root version 3 is not the next version after trusted root version 1"]
    );
}

// ---------------------------------------------------------------------------
// Timestamp failures leave the directory unchanged
// ---------------------------------------------------------------------------

#[test]
fn timestamp_bad_signature_leaves_disk_unchanged() {
    let (mut sim, client) = synced(false);
    sim.publish();
    let forged = edit_keep_sigs(&sim.meta("timestamp.json"), |s| set_version(s, 3));
    sim.put_meta("timestamp.json", forged);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, version: 3, found: 0, .. })
            if role == "timestamp",
        &["timestamp version 3", "threshold is 1"]
    );
}

#[test]
fn timestamp_rollback_leaves_disk_unchanged() {
    let (mut sim, client) = synced(false);
    let ts1 = sim.meta("timestamp.json");
    sim.publish();
    client.refresh(&sim.server, NOW).unwrap();
    sim.put_meta("timestamp.json", ts1);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::Rollback { role, trusted: 2, found: 1 })
            if role == "timestamp",
        &["timestamp rollback: version 1 is older than trusted version 2"]
    );
}

#[test]
fn frozen_expired_timestamp_leaves_disk_unchanged() {
    let (sim, client) = synced(false);
    // The mirror keeps serving the same, now expired, timestamp.
    let err = refresh_fails_unchanged(&sim, &client, NOW + 2 * DAY);
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, .. }) if role == "timestamp",
        &["timestamp version 1 expired at"]
    );
    // A fresh client does not persist an expired timestamp either.
    let fresh = sim.client();
    let err = refresh_fails_unchanged(&sim, &fresh, NOW + 2 * DAY);
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, .. }) if role == "timestamp",
        &["timestamp"]
    );
    assert_eq!(fresh.files().keys().collect::<Vec<_>>(), ["root.json"]);
}

#[test]
fn snapshot_rollback_via_timestamp_pin_leaves_disk_unchanged() {
    let (mut sim, client) = synced(false);
    let ts1 = sim.meta("timestamp.json");
    sim.repo.touch("snapshot");
    sim.publish();
    sim.repo.touch("snapshot");
    sim.publish();
    client.refresh(&sim.server, NOW).unwrap();
    let pinned = signed_of(&sim.meta("timestamp.json"))["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();
    // A validly signed timestamp (stolen key) pinning snapshot v1 again.
    let evil = edit(&sim.meta("timestamp.json"), &[&sim.keys.timestamp], |s| {
        set_version(s, 50);
        s["meta"] = signed_of(&ts1)["meta"].clone();
    });
    sim.put_meta("timestamp.json", evil);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::Rollback { role, found: 1, trusted, .. })
            if role.starts_with("snapshot") && *trusted == pinned,
        &["snapshot", "rollback", "version 1 is older"]
    );
}

#[test]
fn malformed_or_mistyped_timestamp_leaves_disk_unchanged() {
    let (mut sim, client) = synced(false);
    sim.publish();
    sim.put_meta(
        "timestamp.json",
        b"{\"signatures\": [], \"signed\": ".to_vec(),
    );
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::Metadata(MetadataError::Json { role, .. }))
            if role == "timestamp",
        &["timestamp metadata is not valid JSON"]
    );
    sim.put_meta("timestamp.json", sim.meta("snapshot.json"));
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::Metadata(MetadataError::WrongType { found, .. }))
            if found == "snapshot",
        &["timestamp metadata has _type \"snapshot\""]
    );
}

#[test]
fn missing_timestamp_is_a_transport_error_and_leaves_disk_unchanged() {
    let (sim, client) = synced(false);
    sim.server.remove(&format!("{META}timestamp.json"));
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Transport { what, source: FetchError::NotFound { .. } } if what == "timestamp",
        &["fetching timestamp failed", "not found"]
    );
}

#[test]
fn oversized_timestamp_is_cut_off_and_leaves_disk_unchanged() {
    let (sim, client) = synced(false);
    let huge = edit(&sim.meta("timestamp.json"), &[&sim.keys.timestamp], |s| {
        set_version(s, 2);
        s["x-padding"] = json!("x".repeat(20_000));
    });
    sim.put_meta("timestamp.json", huge);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    let limit = Config::default().timestamp_max_length;
    assert_variant!(
        err,
        Error::Transport { source: FetchError::TooLarge { limit: l, .. }, .. } if *l == limit,
        &["timestamp", &format!("more than {limit} bytes")]
    );
}

#[test]
fn timestamp_with_unsupported_spec_version_leaves_disk_unchanged() {
    let (sim, client) = synced(false);
    let ts = later_timestamp(&sim, 2, NOW + DAY);
    let v2 = edit(&ts, &[&sim.keys.timestamp], |s| {
        s["spec_version"] = json!("2.0.0")
    });
    sim.put_meta("timestamp.json", v2);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::Metadata(MetadataError::Invalid { role, .. }))
            if role == "timestamp",
        &["timestamp metadata is invalid", "unsupported spec_version \"2.0.0\""]
    );
    // "1.0" is a 1.x version: accepted and persisted as received.
    let v1_0 = edit(&ts, &[&sim.keys.timestamp], |s| {
        s["spec_version"] = json!("1.0")
    });
    sim.put_meta("timestamp.json", v1_0.clone());
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("timestamp.json").unwrap(), v1_0);
}

// ---------------------------------------------------------------------------
// Snapshot and targets failures: only the verified timestamp (and
// snapshot) change on disk
// ---------------------------------------------------------------------------

#[test]
fn expired_snapshot_is_not_persisted() {
    let (sim, client) = synced(false);
    let ts2 = later_timestamp(&sim, 2, NOW + 9 * DAY);
    sim.put_meta("timestamp.json", ts2.clone());
    let err = refresh_fails_changing(&sim, &client, NOW + 8 * DAY, &[("timestamp.json", ts2)]);
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, .. }) if role == "snapshot",
        &["snapshot version 1 expired at"]
    );
}

#[test]
fn expired_targets_is_not_persisted() {
    let (mut sim, client) = synced(false);
    sim.repo.touch("snapshot");
    sim.publish_at(NOW + 91 * DAY);
    let err = refresh_fails_changing(
        &sim,
        &client,
        NOW + 91 * DAY,
        &[
            ("timestamp.json", sim.meta("timestamp.json")),
            ("snapshot.json", sim.meta("snapshot.json")),
        ],
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, version: 1, .. }) if role == "targets",
        &["targets version 1 expired at"]
    );
}

#[test]
fn snapshot_length_and_hash_mismatch_are_not_persisted() {
    let (mut sim, client) = synced(false);
    sim.repo.touch("snapshot");
    sim.publish();
    let good = sim.meta("snapshot.json");
    let ts = sim.meta("timestamp.json");
    let len = good.len() as u64;

    // Shorter: the pinned length catches it.
    sim.put_meta("snapshot.json", good[..good.len() - 1].to_vec());
    let err = refresh_fails_changing(&sim, &client, NOW, &[("timestamp.json", ts.clone())]);
    assert_variant!(
        err,
        Error::Verification(TrustError::LengthMismatch { file, expected, .. })
            if file == "snapshot.json" && *expected == len,
        &["snapshot.json", &format!("expected {len} bytes")]
    );
    // Longer: the fetch is cut off at the pinned length.
    let mut longer = good.clone();
    longer.push(b' ');
    sim.put_meta("snapshot.json", longer);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Transport { source: FetchError::TooLarge { limit, .. }, .. } if *limit == len,
        &["snapshot", &format!("more than {len} bytes")]
    );
    // Same length, other bytes.
    let mut other = good.clone();
    *other.last_mut().unwrap() = b' ';
    sim.put_meta("snapshot.json", other);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::HashMismatch { file, .. }) if file == "snapshot.json",
        &["snapshot.json", "sha256"]
    );
    // The genuine file goes through.
    sim.put_meta("snapshot.json", good.clone());
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("snapshot.json").unwrap(), good);
}

#[test]
fn targets_length_and_hash_mismatch_are_not_persisted() {
    let (mut sim, client) = synced(true);
    sim.add_target("targets", "f", b"f");
    sim.publish();
    let name = sim.file_name("targets");
    assert_eq!(name, "2.targets.json");
    let good = sim.meta(&name);
    let len = good.len() as u64;

    sim.put_meta(&name, good[..good.len() - 1].to_vec());
    let err = refresh_fails_changing(
        &sim,
        &client,
        NOW,
        &[
            ("timestamp.json", sim.meta("timestamp.json")),
            ("snapshot.json", sim.meta(&sim.file_name("snapshot"))),
        ],
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::LengthMismatch { file, expected, .. })
            if file == "targets.json" && *expected == len,
        &["targets.json", "snapshot version 2"]
    );
    let mut other = good.clone();
    *other.last_mut().unwrap() = b' ';
    sim.put_meta(&name, other);
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::HashMismatch { file, .. }) if file == "targets.json",
        &["targets.json", "sha256", "snapshot version 2"]
    );
    sim.put_meta(&name, good.clone());
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("targets.json").unwrap(), good);
}

#[test]
fn mix_and_match_is_not_persisted() {
    // Version-only pins: only the versions tell the states apart.
    let mut sim = Sim::build(false, |repo, _| repo.pin_hashes = false);
    let client = sim.client();
    client.refresh(&sim.server, NOW).unwrap();
    let state_a_snapshot = sim.meta("snapshot.json");
    sim.repo.touch("targets");
    sim.publish();
    // State B's timestamp, state A's snapshot.
    sim.put_meta("snapshot.json", state_a_snapshot);
    let err = refresh_fails_changing(
        &sim,
        &client,
        NOW,
        &[("timestamp.json", sim.meta("timestamp.json"))],
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::VersionMismatch { role, expected: 2, found: 1, .. })
            if role == "snapshot",
        &["snapshot version 1 does not match version 2 pinned by timestamp version 2"]
    );
}

#[test]
fn unsupported_hash_pin_for_a_new_snapshot_is_not_persisted() {
    let (mut sim, client) = synced(false);
    sim.repo.touch("snapshot");
    sim.publish();
    let md5 = edit(&sim.meta("timestamp.json"), &[&sim.keys.timestamp], |s| {
        s["meta"]["snapshot.json"]["hashes"] = json!({"md5": "00112233445566778899aabbccddeeff"});
    });
    sim.put_meta("timestamp.json", md5.clone());
    let err = refresh_fails_changing(&sim, &client, NOW, &[("timestamp.json", md5)]);
    assert_variant!(
        err,
        Error::Verification(TrustError::UnsupportedHash { file, algorithm, .. })
            if file == "snapshot.json" && algorithm == "md5",
        &["snapshot.json", "unsupported hash algorithm \"md5\""]
    );
}

/// After a failed refresh, running it again on the same updater (directly
/// or through `get_targetinfo`) must either work once the mirror is fixed
/// or say the caller must start over; it must not report the repository's
/// data as failing verification.
#[test]
fn refresh_retried_on_the_same_updater_after_a_failure() {
    let (mut sim, client) = synced(false);
    sim.add_target("targets", "f", b"f");
    sim.publish();
    let good = sim.meta("snapshot.json");
    let mut bad = good.clone();
    *bad.last_mut().unwrap() = b' ';
    sim.put_meta("snapshot.json", bad);
    let mut up = client.updater(&sim.server, NOW);
    let err = expect_err(up.refresh(), "first refresh");
    assert!(
        matches!(err, Error::Verification(TrustError::HashMismatch { .. })),
        "{err:?}"
    );
    sim.put_meta("snapshot.json", good.clone());
    match up.get_targetinfo("f") {
        Ok(info) => {
            assert!(info.is_some());
            assert_eq!(client.read("snapshot.json").unwrap(), good);
        }
        Err(Error::Misuse(_)) => {}
        Err(e) => panic!("retry reported as {e:?} ({e})"),
    }
}

/// A client at targets v2; then a validly signed (stolen snapshot and
/// timestamp keys) snapshot v3 edited by `f`, with its timestamp.
fn forged_next_snapshot(f: impl FnOnce(&mut serde_json::Value)) -> (Sim, Client, Vec<u8>) {
    let mut sim = Sim::new(false);
    let key = signer(40);
    sim.delegate("targets", "A", &key, &["*"], false);
    sim.publish();
    let client = sim.client();
    client.refresh(&sim.server, NOW).unwrap();
    let snap = edit(&sim.meta("snapshot.json"), &[&sim.keys.snapshot], |s| {
        set_version(s, 3);
        f(s);
    });
    let ts = edit(&sim.meta("timestamp.json"), &[&sim.keys.timestamp], |s| {
        set_version(s, 3);
        s["meta"]["snapshot.json"] = pin_of(&snap);
    });
    sim.put_meta("snapshot.json", snap);
    sim.put_meta("timestamp.json", ts.clone());
    (sim, client, ts)
}

#[test]
fn targets_rollback_in_new_snapshot_is_not_persisted() {
    let (sim, client, ts) = forged_next_snapshot(|s| {
        s["meta"]["targets.json"] = json!({"version": 1});
    });
    let err = refresh_fails_changing(&sim, &client, NOW, &[("timestamp.json", ts)]);
    assert_variant!(
        err,
        Error::Verification(TrustError::Rollback { role, trusted: 2, found: 1 })
            if role == "targets",
        &["targets rollback: version 1 is older than trusted version 2"]
    );
}

#[test]
fn new_snapshot_dropping_a_role_is_not_persisted() {
    let (sim, client, ts) = forged_next_snapshot(|s| {
        s["meta"].as_object_mut().unwrap().remove("A.json");
    });
    let err = refresh_fails_changing(&sim, &client, NOW, &[("timestamp.json", ts)]);
    assert_variant!(
        err,
        Error::Verification(TrustError::MetaRemoved { file, .. }) if file == "A.json",
        &["no longer lists A.json"]
    );
}

#[test]
fn forged_next_snapshot_control() {
    // The same forgery without a rollback is accepted: the two tests above
    // fail because of what they change, not because of the forgery itself.
    let (sim, client, ts) = forged_next_snapshot(|_| {});
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("timestamp.json").unwrap(), ts);
}

// ---------------------------------------------------------------------------
// Fast-forward attack and recovery
// ---------------------------------------------------------------------------

#[test]
fn fast_forward_attack_and_recovery_by_timestamp_key_rotation() {
    let mut sim = Sim::new(false);
    let client = sim.client();
    client.refresh(&sim.server, NOW).unwrap();

    // The timestamp key is stolen: the attacker publishes timestamp v1000.
    let evil = edit(&sim.meta("timestamp.json"), &[&sim.keys.timestamp], |s| {
        set_version(s, 1000)
    });
    sim.put_meta("timestamp.json", evil.clone());
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("timestamp.json").unwrap(), evil);

    // The repository's next timestamp is now a "rollback".
    sim.publish();
    let err = refresh_fails_unchanged(&sim, &client, NOW);
    assert_variant!(
        err,
        Error::Verification(TrustError::Rollback { role, trusted: 1000, found: 2 })
            if role == "timestamp",
        &["timestamp rollback"]
    );

    // A new root that leaves the timestamp keys alone does not reset it.
    sim.repo.touch("root");
    sim.repo.timestamp.version = 0;
    sim.publish();
    assert_eq!(signed_of(&sim.meta("timestamp.json"))["version"], 1);
    let err = refresh_fails_changing(
        &sim,
        &client,
        NOW,
        &[("root.json", sim.meta("2.root.json"))],
    );
    assert_variant!(
        err,
        Error::Verification(TrustError::Rollback {
            trusted: 1000,
            found: 1,
            ..
        }),
        &["timestamp rollback"]
    );

    // Recovery: root v3 rotates the timestamp key; timestamp restarts at 1.
    let new_key = signer(22);
    sim.repo
        .remove_key("timestamp", sim.keys.timestamp.keyid())
        .unwrap();
    sim.repo.add_key("timestamp", new_key.clone()).unwrap();
    sim.keys.timestamp = new_key;
    sim.repo.timestamp.version = 0;
    sim.publish();
    let ts = sim.meta("timestamp.json");
    assert_eq!(signed_of(&ts)["version"], 1);
    // With the new timestamp not served yet, the refresh fails after the
    // root step, which has already deleted the local timestamp and
    // snapshot signed under the old keys (specification 5.3.11).
    sim.server.remove(&format!("{META}timestamp.json"));
    let err = expect_err(client.refresh(&sim.server, NOW), "no timestamp yet");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(
        client.files().keys().collect::<Vec<_>>(),
        ["root.json", "targets.json"]
    );
    assert_eq!(client.read("root.json").unwrap(), sim.meta("3.root.json"));
    sim.put_meta("timestamp.json", ts.clone());
    sim.server.clear_log();
    client.refresh(&sim.server, NOW).unwrap();
    assert_eq!(client.read("root.json").unwrap(), sim.meta("3.root.json"));
    assert_eq!(client.read("timestamp.json").unwrap(), ts);
    assert_eq!(
        client.read("snapshot.json").unwrap(),
        sim.meta("snapshot.json")
    );
    // The local snapshot was deleted with the timestamp: fetched again.
    assert_eq!(sim.server.count(&format!("{META}snapshot.json")), 1);
}

// ---------------------------------------------------------------------------
// Target downloads
// ---------------------------------------------------------------------------

#[test]
fn target_with_wrong_length_or_hash_is_rejected_and_not_written() {
    for consistent in [false, true] {
        let mut sim = Sim::new(consistent);
        let content = b"the real content".to_vec();
        sim.add_target("targets", "dir/file.txt", &content);
        sim.publish();
        let client = sim.client();
        let mut up = client.updater(&sim.server, NOW);
        let info = up.get_targetinfo("dir/file.txt").unwrap().unwrap();
        assert_eq!(info.length, content.len() as u64);
        let url = up.target_url(TARGETS, "dir/file.txt", &info);
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("file.txt");
        let existing = out.path().join("existing.txt");
        std::fs::write(&existing, b"old").unwrap();

        let mut same_len = content.clone();
        same_len[0] ^= 1;
        sim.server.put(&url, same_len);
        let err = expect_err(
            up.download_target("dir/file.txt", &info, TARGETS, &dest),
            "hash",
        );
        assert_variant!(
            err,
            Error::Verification(TrustError::HashMismatch { file, algorithm, .. })
                if file == "dir/file.txt" && algorithm == "sha256",
            &["dir/file.txt", "sha256", &info.hashes["sha256"]]
        );
        assert!(!dest.exists());

        sim.server.put(&url, content[..5].to_vec());
        let err = expect_err(
            up.download_target("dir/file.txt", &info, TARGETS, &existing),
            "short",
        );
        assert_variant!(
            err,
            Error::Verification(TrustError::LengthMismatch { file, expected, found: 5, .. })
                if file == "dir/file.txt" && *expected == info.length,
            &["dir/file.txt", &format!("expected {} bytes", info.length)]
        );
        assert_eq!(std::fs::read(&existing).unwrap(), b"old");

        let mut long = content.clone();
        long.push(b'!');
        sim.server.put(&url, long);
        let err = expect_err(
            up.download_target("dir/file.txt", &info, TARGETS, &dest),
            "long",
        );
        assert_variant!(
            err,
            Error::Transport { source: FetchError::TooLarge { limit, .. }, .. }
                if *limit == info.length,
            &["dir/file.txt"]
        );
        assert!(!dest.exists());
        assert_eq!(
            dir_files(out.path()).keys().collect::<Vec<_>>(),
            ["existing.txt"],
            "no temporary file left behind"
        );

        sim.server.put(&url, content.clone());
        up.download_target("dir/file.txt", &info, TARGETS, &dest)
            .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), content);
        assert!(Updater::<MemFetcher>::cached_target_matches(&dest, &info));
        assert!(!Updater::<MemFetcher>::cached_target_matches(
            &existing, &info
        ));
    }
}

#[test]
fn unknown_target_is_none() {
    let (sim, client) = synced(false);
    let mut up = client.updater(&sim.server, NOW);
    assert!(up.get_targetinfo("no/such/file").unwrap().is_none());
}

// ---------------------------------------------------------------------------
// The simulator's producer side
// ---------------------------------------------------------------------------

/// A publish with nothing changed should sign only a new timestamp.
#[test]
fn repository_publish_without_changes_signs_only_a_timestamp() {
    let mut sim = Sim::new(false);
    let files = sim.publish();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["timestamp.json"],
        "snapshot version {} re-signed with nothing changed",
        sim.repo.snapshot.version
    );
}
