//! Delegated targets search through the `Updater`: order, `terminating`,
//! path patterns, hash prefixes, succinct hashed bins, cycles and limits.

use crate::sim::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared_trust::metadata::TargetFile;
use shared_trust::trusted::TrustError;
use shared_trust::updater::{Config, Error};

/// Searches `path` with a fresh client (nothing cached) and returns the
/// result and the delegated roles fetched during the search, in order.
fn search(
    sim: &Sim,
    config: Config,
    path: &str,
) -> (Result<Option<TargetFile>, Error>, Vec<String>) {
    let client = sim.client();
    let mut up = client.updater_with(&sim.server, config, NOW);
    up.refresh().unwrap();
    sim.server.clear_log();
    let result = up.get_targetinfo(path);
    let fetched = sim
        .server
        .meta_requests()
        .iter()
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    (result, fetched)
}

/// The target found for `path`, and the roles fetched to find it.
#[track_caller]
fn found(sim: &Sim, path: &str) -> (Option<TargetFile>, Vec<String>) {
    let (r, fetched) = search(sim, Config::default(), path);
    (r.expect("search succeeds"), fetched)
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[test]
fn search_is_pre_order_depth_first() {
    let mut sim = Sim::new(false);
    let (ka, kb, ka1) = (signer(40), signer(41), signer(42));
    sim.delegate("targets", "A", &ka, &["*"], false);
    sim.delegate("targets", "B", &kb, &["*"], false);
    sim.delegate("A", "A1", &ka1, &["*"], false);
    sim.add_target("A1", "f", b"from A1");
    sim.add_target("B", "f", b"from B");
    sim.publish();
    let (info, fetched) = found(&sim, "f");
    // Breadth-first would find B's first.
    assert_eq!(info.unwrap().hashes["sha256"], sha256(b"from A1"));
    assert_eq!(fetched, ["A", "A1"]);
    let (info, fetched) = found(&sim, "g");
    assert!(info.is_none());
    assert_eq!(fetched, ["A", "A1", "B"]);
}

#[test]
fn terminating_delegation_stops_the_search() {
    let build = |terminating: bool, a_paths: &[&str]| {
        let mut sim = Sim::new(false);
        sim.delegate("targets", "A", &signer(40), a_paths, terminating);
        sim.delegate("targets", "B", &signer(41), &["*"], false);
        sim.add_target("B", "f", b"from B");
        sim.publish();
        sim
    };
    let (info, fetched) = found(&build(true, &["*"]), "f");
    assert!(info.is_none(), "B must not be searched after terminating A");
    assert_eq!(fetched, ["A"]);
    // Control: not terminating, B is reached.
    let (info, fetched) = found(&build(false, &["*"]), "f");
    assert_eq!(info.unwrap().hashes["sha256"], sha256(b"from B"));
    assert_eq!(fetched, ["A", "B"]);
    // A terminating role that does not match the path stops nothing.
    let (info, fetched) = found(&build(true, &["other/*"]), "f");
    assert!(info.is_some());
    assert_eq!(fetched, ["B"]);
}

#[test]
fn terminating_deeper_down_abandons_pending_siblings() {
    // targets -> A -> A1 (terminating), targets -> B: as python-tuf, a
    // terminating match below A also drops B, still pending.
    let mut sim = Sim::new(false);
    sim.delegate("targets", "A", &signer(40), &["*"], false);
    sim.delegate("targets", "B", &signer(41), &["*"], false);
    sim.delegate("A", "A1", &signer(42), &["*"], true);
    sim.add_target("B", "f", b"from B");
    sim.publish();
    let (info, fetched) = found(&sim, "f");
    assert!(info.is_none());
    assert_eq!(fetched, ["A", "A1"]);
}

#[test]
fn star_does_not_match_a_slash() {
    let mut sim = Sim::new(false);
    sim.delegate("targets", "A", &signer(40), &["dir/*.txt"], false);
    // A lists more than it is trusted for.
    sim.add_target("A", "dir/a.txt", b"a");
    sim.add_target("A", "dir/sub/b.txt", b"b");
    sim.add_target("A", "dir/c.tgz", b"c");
    sim.publish();
    let (info, fetched) = found(&sim, "dir/sub/b.txt");
    assert!(info.is_none(), "dir/*.txt must not match dir/sub/b.txt");
    assert!(fetched.is_empty(), "A is not even fetched: {fetched:?}");
    let (info, fetched) = found(&sim, "dir/c.tgz");
    assert!(info.is_none());
    assert!(fetched.is_empty());
    let (info, fetched) = found(&sim, "dir/a.txt");
    assert!(info.is_some());
    assert_eq!(fetched, ["A"]);
}

/// Paths whose bins (first hex digit of SHA-256) differ from each other.
fn paths_in_distinct_bins(n: usize) -> Vec<(String, char)> {
    let mut out: Vec<(String, char)> = Vec::new();
    for i in 0.. {
        let p = format!("crates/c{i}/c{i}-1.0.0.crate");
        let bin = sha256(p.as_bytes()).chars().next().unwrap();
        if out.iter().all(|(_, b)| *b != bin) {
            out.push((p, bin));
        }
        if out.len() == n {
            return out;
        }
    }
    unreachable!()
}

#[test]
fn path_hash_prefixes_pick_exactly_one_bin() {
    let mut sim = Sim::new(false);
    sim.repo
        .delegate_hashed_bins("targets", 1, "bin", vec![signer(40)])
        .unwrap();
    let ps = paths_in_distinct_bins(3);
    let (p, q, r) = (&ps[0], &ps[1], &ps[2]);
    sim.add_target(&format!("bin-{}", p.1), &p.0, b"p");
    // R is listed in P's bin, which is not responsible for it.
    sim.add_target(&format!("bin-{}", p.1), &r.0, b"r");
    sim.publish();
    let (info, fetched) = found(&sim, &p.0);
    assert_eq!(info.unwrap().hashes["sha256"], sha256(b"p"));
    assert_eq!(fetched, [format!("bin-{}", p.1)]);
    let (info, fetched) = found(&sim, &q.0);
    assert!(info.is_none());
    assert_eq!(fetched, [format!("bin-{}", q.1)]);
    let (info, fetched) = found(&sim, &r.0);
    assert!(info.is_none(), "a bin is trusted only for its prefix");
    assert_eq!(fetched, [format!("bin-{}", r.1)]);
}

#[test]
fn succinct_hashed_bins() {
    // bit_length 4: 16 bins named by one hex digit; 5: 32 bins, two digits.
    for (bit_length, width) in [(4u32, 1usize), (5, 2)] {
        let bin_of = |path: &str| {
            let first = Sha256::digest(path.as_bytes())[0];
            format!("bins-{:0width$x}", first >> (8 - bit_length))
        };
        let mut sim = Sim::new(false);
        sim.repo
            .delegate_succinct("targets", bit_length, "bins", 1, vec![signer(40)])
            .unwrap();
        assert_eq!(
            sim.repo.targets.len(),
            1 + (1 << bit_length),
            "every bin exists"
        );
        let ps = paths_in_distinct_bins(2);
        let (p, q) = (&ps[0].0, &ps[1].0);
        assert_ne!(bin_of(p), bin_of(q));
        sim.add_target(&bin_of(p), p, b"p");
        sim.add_target(&bin_of(p), q, b"q in the wrong bin");
        sim.publish();
        let (info, fetched) = found(&sim, p);
        assert_eq!(info.unwrap().hashes["sha256"], sha256(b"p"));
        assert_eq!(fetched, [bin_of(p)], "bit_length {bit_length}");
        let (info, fetched) = found(&sim, q);
        assert!(info.is_none(), "bit_length {bit_length}");
        assert_eq!(fetched, [bin_of(q)]);
    }
}

#[test]
fn delegation_cycle_terminates() {
    let mut sim = Sim::new(false);
    let (ka, kb) = (signer(40), signer(41));
    sim.delegate("targets", "A", &ka, &["*"], false);
    sim.delegate("A", "B", &kb, &["*"], false);
    // B delegates back to A.
    sim.set_delegations("B", &[("A", &ka, &["*"])]);
    sim.publish();
    let (info, fetched) = found(&sim, "f");
    assert!(info.is_none());
    assert_eq!(fetched, ["A", "B"]);
}

#[test]
fn max_delegations_limits_the_search() {
    let mut sim = Sim::new(false);
    let mut parent = "targets".to_string();
    for i in 1..=6u8 {
        let name = format!("r{i}");
        sim.delegate(&parent, &name, &signer(40 + i), &["*"], false);
        parent = name;
    }
    sim.add_target("r6", "f", b"deep");
    sim.publish();
    let (info, fetched) = found(&sim, "f");
    assert!(info.is_some());
    assert_eq!(fetched, ["r1", "r2", "r3", "r4", "r5", "r6"]);
    let config = Config {
        max_delegations: 4,
        ..Config::default()
    };
    let (info, fetched) = search(&sim, config, "f");
    assert!(info.unwrap().is_none());
    // targets, r1, r2, r3: four roles visited.
    assert_eq!(fetched, ["r1", "r2", "r3"]);
}

#[test]
fn expired_delegated_role_is_rejected_and_not_persisted() {
    let mut sim = Sim::new(false);
    sim.delegate("targets", "A", &signer(40), &["*"], false);
    sim.add_target("A", "f", b"f");
    sim.publish();
    // Everything but A re-signed 91 days later: A (90 days) has expired.
    sim.repo.touch("targets");
    sim.publish_at(NOW + 91 * DAY);
    let client = sim.client();
    let mut up = client.updater(&sim.server, NOW + 91 * DAY);
    let err = expect_err(up.get_targetinfo("f"), "expired A");
    drop(up);
    assert_variant!(
        err,
        Error::Verification(TrustError::Expired { role, .. }) if role == "A",
        &["A version 1 expired at"]
    );
    assert_eq!(
        client.files().keys().collect::<Vec<_>>(),
        [
            "root.json",
            "snapshot.json",
            "targets.json",
            "timestamp.json"
        ]
    );
}

#[test]
fn delegated_role_signed_by_an_unauthorized_key_is_rejected_and_not_persisted() {
    let mut sim = Sim::new(false);
    let (ka, evil) = (signer(40), signer(99));
    sim.delegate("targets", "A", &ka, &["*"], false);
    sim.publish();
    // Stolen snapshot and timestamp keys, but not A's: a new A signed by
    // another key, pinned by a re-signed snapshot and timestamp.
    let forged_a = edit(&sim.meta("A.json"), &[&evil], |s| {
        s["targets"]["f"] = json!({"length": 1, "hashes": {"sha256": sha256(b"x")}});
    });
    let snap = edit(&sim.meta("snapshot.json"), &[&sim.keys.snapshot], |s| {
        set_version(s, 3);
        s["meta"]["A.json"] = pin_of(&forged_a);
    });
    let ts = edit(&sim.meta("timestamp.json"), &[&sim.keys.timestamp], |s| {
        set_version(s, 3);
        s["meta"]["snapshot.json"] = pin_of(&snap);
    });
    sim.put_meta("A.json", forged_a);
    sim.put_meta("snapshot.json", snap);
    sim.put_meta("timestamp.json", ts);
    let client = sim.client();
    let mut up = client.updater(&sim.server, NOW);
    let err = expect_err(up.get_targetinfo("f"), "forged A");
    drop(up);
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, found: 0, untrusted, trusted_by, .. })
            if role == "A" && trusted_by == "targets version 2"
                && untrusted == &vec![evil.keyid().to_string()],
        &["A version 1", "trusted by targets version 2", evil.keyid()]
    );
    assert!(client.read("A.json").is_none());
}

/// Role C is delegated by A (its real key) and by B (another key): reached
/// through B, it must satisfy B's delegation too, also when it was already
/// loaded (or persisted) through A.
#[test]
fn role_reached_through_two_delegators_is_verified_for_each() {
    let mut sim = Sim::new(false);
    let (ka, kb, kc, kx) = (signer(40), signer(41), signer(42), signer(43));
    sim.delegate("targets", "A", &ka, &["*/*"], false);
    sim.delegate("targets", "B", &kb, &["*/*"], false);
    sim.delegate("A", "C", &kc, &["a/*"], false);
    sim.set_delegations("B", &[("C", &kx, &["b/*"])]);
    sim.add_target("C", "a/x", b"ax");
    sim.add_target("C", "b/y", b"by");
    sim.publish();

    let client = sim.client();
    let mut up = client.updater(&sim.server, NOW);
    assert!(up.get_targetinfo("a/x").unwrap().is_some());
    let err = expect_err(up.get_targetinfo("b/y"), "C through B, loaded");
    drop(up);
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, trusted_by, .. })
            if role == "C" && trusted_by == "B version 1",
        &["C version 1", "trusted by B version 1"]
    );
    // A new updater over the same directory: C.json is on disk.
    assert!(client.read("C.json").is_some());
    let mut up = client.updater(&sim.server, NOW);
    let err = expect_err(up.get_targetinfo("b/y"), "C through B, persisted");
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, .. }) if role == "C",
        &["trusted by B version 1"]
    );
    // Through A it is still fine.
    assert!(up.get_targetinfo("a/x").unwrap().is_some());
    // A fresh client going through B first.
    let (r, _) = search(&sim, Config::default(), "b/y");
    let err = expect_err(r, "C through B, fresh");
    assert_variant!(
        err,
        Error::Verification(TrustError::ThresholdNotMet { role, .. }) if role == "C",
        &["C"]
    );
}

#[test]
fn load_role_walks_every_succinct_bin() {
    let mut sim = Sim::new(false);
    sim.repo
        .delegate_succinct("targets", 3, "bins", 1, vec![signer(40)])
        .unwrap();
    let ps = paths_in_distinct_bins(2);
    let (p, _) = &ps[0];
    let bin = {
        let first = Sha256::digest(p.as_bytes())[0];
        format!("bins-{:x}", first >> 5)
    };
    sim.add_target(&bin, p, b"p");
    sim.publish();
    let client = sim.client();
    let mut up = client.updater(&sim.server, NOW);
    let mut listed = 0;
    for i in 0..8 {
        let role = format!("bins-{i:x}");
        listed += up.load_role(&role, "targets").unwrap().targets.len();
    }
    assert_eq!(listed, 1);
    assert!(client.dir.join(format!("{bin}.json")).exists());
    // A name the delegator does not delegate to is refused.
    let err = up.load_role("bins-8", "targets").unwrap_err();
    assert!(err.to_string().contains("bins-8"), "{err}");
}
