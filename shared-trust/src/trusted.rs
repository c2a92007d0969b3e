//! The trusted metadata set: the I/O-free heart of the TUF client.
//!
//! [`TrustedMetadataSet`] takes metadata *bytes* and the update's start time,
//! and either returns verified metadata or an error; it never reads a file, a
//! socket, the clock or the environment. The [`Updater`](crate::updater)
//! fetches and persists around it.
//!
//! # Load order
//!
//! The set enforces the TUF 1.0 client workflow; calling out of order is a
//! [`TrustError::OutOfOrder`] (caller misuse), never a silent success:
//!
//! 1. **Root.** Created from a trusted root (self-signed by its threshold;
//!    its expiry is not checked here). Then [`update_root`] once per newer
//!    version: version N+1 must be signed by the thresholds of root N *and*
//!    N+1. No root may be loaded once a timestamp is.
//! 2. **Timestamp.** The final root must not be expired. Signed by root's
//!    timestamp threshold; never older than the trusted timestamp, nor
//!    pointing at an older snapshot. An equal version is reported as
//!    [`TrustError::EqualVersion`] so the caller keeps what it has. The new
//!    timestamp becomes trusted before its expiry is checked, so an expired
//!    one still guards against rollback. Not allowed after a snapshot.
//! 3. **Snapshot.** The timestamp must not be expired. Unless loaded from
//!    local trusted storage, the bytes must match the length and hashes the
//!    timestamp pins. Signed by root's snapshot threshold; no role listed
//!    in the previous trusted snapshot may disappear or go back in version.
//!    Then it must be unexpired and have the version the timestamp pins.
//!    Not allowed after a targets role.
//! 4. **Targets, then delegated targets.** The snapshot must be final (not
//!    expired, version as pinned). Each role's bytes match snapshot's pin
//!    (length, hashes, version), are signed by the delegating role's keys
//!    and threshold, and are not expired. The delegator must already be
//!    loaded.
//!
//! Every check that fails leaves the set exactly as it was, with two
//! documented exceptions that mirror the specification's rollback rules: a
//! verified but expired timestamp, and a verified snapshot that is expired
//! or not the version the timestamp pins, are kept *only* as the reference
//! for rollback checks of their successor; nothing can be loaded on top of
//! them (the final-snapshot check runs again before any targets role).
//!
//! A targets role remembers which delegator it was verified for; reaching
//! it through another delegator ([`TrustedMetadataSet::check_delegation`])
//! verifies it again against that delegator's keys and threshold.

use crate::crypto::{HashAlgorithm, Key};
use crate::metadata::{Metadata, MetadataError, Role, Root, Snapshot, Targets, Timestamp};
use crate::time;
use std::collections::{BTreeMap, HashMap};

/// Why metadata was not accepted, or why a call was out of order.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The bytes are not valid metadata.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// Too few authorized keys signed.
    #[error("{role} version {version}: {found} valid signature(s) from keys trusted by {trusted_by}, threshold is {threshold}{}", untrusted_note(.role, .trusted_by, .untrusted))]
    ThresholdNotMet {
        /// Role whose metadata failed.
        role: String,
        /// Its version.
        version: u64,
        /// Valid signatures from authorized keyids.
        found: u64,
        /// Signatures needed.
        threshold: u64,
        /// Which metadata authorizes the keys, e.g. `root version 3`.
        trusted_by: String,
        /// keyids that signed but that the delegator does not (or no longer) trust.
        untrusted: Vec<String>,
    },
    /// A new root is not exactly the next version.
    #[error("root version {found} is not the next version after trusted root version {trusted}")]
    RootVersionNotNext {
        /// Trusted root version.
        trusted: u64,
        /// Version offered.
        found: u64,
    },
    /// A role went back in version.
    #[error("{role} rollback: version {found} is older than trusted version {trusted}")]
    Rollback {
        /// Role.
        role: String,
        /// Trusted version.
        trusted: u64,
        /// Offered version.
        found: u64,
    },
    /// The same timestamp version as trusted: nothing new.
    #[error("timestamp version {version} equals the trusted version")]
    EqualVersion {
        /// The version.
        version: u64,
    },
    /// A role's version is not the one pinned by the role above it.
    #[error("{role} version {found} does not match version {expected} pinned by {pinned_by}")]
    VersionMismatch {
        /// Role.
        role: String,
        /// Pinned version.
        expected: u64,
        /// Version found.
        found: u64,
        /// Which metadata pins it.
        pinned_by: String,
    },
    /// A role has expired.
    #[error("{role} version {version} expired at {expires} (reference time {now})")]
    Expired {
        /// Role.
        role: String,
        /// Its version.
        version: u64,
        /// When it expired.
        expires: String,
        /// The update's reference time.
        now: String,
    },
    /// Bytes longer than pinned.
    #[error("{file}: length {found} bytes, expected {expected} bytes (pinned by {pinned_by})")]
    LengthMismatch {
        /// File name.
        file: String,
        /// Pinned length.
        expected: u64,
        /// Actual length.
        found: u64,
        /// Which metadata pins it.
        pinned_by: String,
    },
    /// Bytes with the wrong hash.
    #[error("{file}: {algorithm} hash {found}, expected {expected} (pinned by {pinned_by})")]
    HashMismatch {
        /// File name.
        file: String,
        /// Algorithm.
        algorithm: String,
        /// Pinned hash.
        expected: String,
        /// Actual hash.
        found: String,
        /// Which metadata pins it.
        pinned_by: String,
    },
    /// A hash algorithm this client cannot check.
    #[error("{file}: unsupported hash algorithm {algorithm:?} (pinned by {pinned_by}); only sha256 and sha512 are checked")]
    UnsupportedHash {
        /// File name.
        file: String,
        /// Algorithm name.
        algorithm: String,
        /// Which metadata pins it.
        pinned_by: String,
    },
    /// Snapshot dropped a role the trusted snapshot listed.
    #[error("snapshot version {version} no longer lists {file}, which trusted snapshot version {trusted_version} listed")]
    MetaRemoved {
        /// New snapshot version.
        version: u64,
        /// File missing.
        file: String,
        /// Trusted snapshot version.
        trusted_version: u64,
    },
    /// A role is not listed in the snapshot.
    #[error("{role}: not listed in snapshot version {snapshot_version}")]
    NotInSnapshot {
        /// Role.
        role: String,
        /// Snapshot version.
        snapshot_version: u64,
    },
    /// The delegator does not delegate to the role.
    #[error("{delegator} does not delegate to {role}")]
    NotDelegated {
        /// Role.
        role: String,
        /// Claimed delegator.
        delegator: String,
    },
    /// Caller misuse: a step was called out of the documented order.
    #[error("out of order: {0}")]
    OutOfOrder(String),
}

fn untrusted_note(role: &str, trusted_by: &str, untrusted: &[String]) -> String {
    if untrusted.is_empty() {
        String::new()
    } else {
        format!(
            "; signed by key(s) no longer or never trusted for {role} by {trusted_by}: {}",
            untrusted.join(", ")
        )
    }
}

impl TrustError {
    /// Whether this is the caller's mistake rather than bad data.
    pub fn is_misuse(&self) -> bool {
        matches!(self, TrustError::OutOfOrder(_))
    }
}

/// Metadata that passed every check, with the exact bytes it came from.
#[derive(Clone, Debug)]
pub struct Verified<T> {
    /// The metadata.
    pub metadata: Metadata<T>,
    /// The bytes as received (what is persisted).
    pub bytes: Vec<u8>,
}

impl<T> std::ops::Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.metadata.signed
    }
}

/// Verified metadata for one update, built in the documented order.
#[derive(Debug)]
pub struct TrustedMetadataSet {
    now: i64,
    root: Verified<Root>,
    timestamp: Option<Verified<Timestamp>>,
    snapshot: Option<Verified<Snapshot>>,
    targets: HashMap<String, Verified<Targets>>,
    // Delegators each targets role has been verified against.
    delegators: HashMap<String, Vec<String>>,
}

/// Checks a metadata's signatures against keys and a threshold.
pub fn verify_role<T: Role>(
    role: &str,
    md: &Metadata<T>,
    keys: &BTreeMap<String, Key>,
    keyids: &[String],
    threshold: u64,
    trusted_by: impl FnOnce() -> String,
) -> Result<(), TrustError> {
    let report = md.signature_report(keys, keyids);
    let found = report.valid.len() as u64;
    if found >= threshold {
        return Ok(());
    }
    Err(TrustError::ThresholdNotMet {
        role: role.to_string(),
        version: md.signed.version(),
        found,
        threshold,
        trusted_by: trusted_by(),
        untrusted: report.untrusted,
    })
}

fn verify_by_root<T: Role>(root: &Root, role: &str, md: &Metadata<T>) -> Result<(), TrustError> {
    let rk = root
        .role(role)
        .ok_or_else(|| TrustError::OutOfOrder(format!("root defines no role {role}")))?;
    verify_role(role, md, &root.keys, &rk.keyids, rk.threshold, || {
        format!("root version {}", root.version)
    })
}

/// Checks `data` against a pinned length and hashes; every hash listed must
/// be of a supported algorithm and match.
pub fn check_length_and_hashes(
    file: &str,
    pinned_by: &str,
    data: &[u8],
    length: Option<u64>,
    hashes: Option<&BTreeMap<String, String>>,
) -> Result<(), TrustError> {
    if let Some(expected) = length {
        if data.len() as u64 != expected {
            return Err(TrustError::LengthMismatch {
                file: file.to_string(),
                expected,
                found: data.len() as u64,
                pinned_by: pinned_by.to_string(),
            });
        }
    }
    for (alg, expected) in hashes.into_iter().flatten() {
        let algorithm =
            HashAlgorithm::from_name(alg).ok_or_else(|| TrustError::UnsupportedHash {
                file: file.to_string(),
                algorithm: alg.clone(),
                pinned_by: pinned_by.to_string(),
            })?;
        let found = algorithm.hex_digest(data);
        if !found.eq_ignore_ascii_case(expected) {
            return Err(TrustError::HashMismatch {
                file: file.to_string(),
                algorithm: alg.clone(),
                expected: expected.clone(),
                found,
                pinned_by: pinned_by.to_string(),
            });
        }
    }
    Ok(())
}

fn expired<T: Role>(role: &str, signed: &T, now: i64) -> TrustError {
    TrustError::Expired {
        role: role.to_string(),
        version: signed.version(),
        expires: signed.expires().to_string(),
        now: time::format_utc(now.clamp(0, 253_402_300_799)),
    }
}

impl TrustedMetadataSet {
    /// Starts from a trusted root (the pinned or last persisted one), which
    /// must be signed by its own root threshold. `now` is the update's start
    /// time in Unix seconds; every expiry is judged against it.
    pub fn new(root_bytes: &[u8], now: i64) -> Result<Self, TrustError> {
        let md = Metadata::<Root>::from_bytes("root", root_bytes)?;
        verify_by_root(&md.signed, "root", &md)?;
        Ok(Self {
            now,
            root: Verified {
                metadata: md,
                bytes: root_bytes.to_vec(),
            },
            timestamp: None,
            snapshot: None,
            targets: HashMap::new(),
            delegators: HashMap::new(),
        })
    }

    /// The update's reference time.
    pub fn reference_time(&self) -> i64 {
        self.now
    }

    /// The trusted root.
    pub fn root(&self) -> &Verified<Root> {
        &self.root
    }

    /// The trusted timestamp, if loaded.
    pub fn timestamp(&self) -> Option<&Verified<Timestamp>> {
        self.timestamp.as_ref()
    }

    /// The trusted snapshot, if loaded.
    pub fn snapshot(&self) -> Option<&Verified<Snapshot>> {
        self.snapshot.as_ref()
    }

    /// A trusted targets role, if loaded.
    pub fn targets(&self, role: &str) -> Option<&Verified<Targets>> {
        self.targets.get(role)
    }

    /// Loads root version N+1. See the module docs.
    pub fn update_root(&mut self, bytes: &[u8]) -> Result<&Verified<Root>, TrustError> {
        if self.timestamp.is_some() {
            return Err(TrustError::OutOfOrder(
                "cannot update root after timestamp".into(),
            ));
        }
        let new = Metadata::<Root>::from_bytes("root", bytes)?;
        verify_by_root(&self.root, "root", &new)?;
        let trusted = self.root.version;
        if new.signed.version != trusted + 1 {
            return Err(TrustError::RootVersionNotNext {
                trusted,
                found: new.signed.version,
            });
        }
        verify_by_root(&new.signed, "root", &new)?;
        self.root = Verified {
            metadata: new,
            bytes: bytes.to_vec(),
        };
        Ok(&self.root)
    }

    /// Checks that the final root has not expired.
    pub fn check_root_unexpired(&self) -> Result<(), TrustError> {
        if self.root.is_expired(self.now) {
            return Err(expired("root", &*self.root, self.now));
        }
        Ok(())
    }

    /// Loads a timestamp. See the module docs.
    pub fn update_timestamp(&mut self, bytes: &[u8]) -> Result<&Verified<Timestamp>, TrustError> {
        if self.snapshot.is_some() {
            return Err(TrustError::OutOfOrder(
                "cannot update timestamp after snapshot".into(),
            ));
        }
        self.check_root_unexpired()?;
        let new = Metadata::<Timestamp>::from_bytes("timestamp", bytes)?;
        verify_by_root(&self.root, "timestamp", &new)?;
        if let Some(old) = &self.timestamp {
            if new.signed.version < old.version {
                return Err(TrustError::Rollback {
                    role: "timestamp".into(),
                    trusted: old.version,
                    found: new.signed.version,
                });
            }
            if new.signed.version == old.version {
                return Err(TrustError::EqualVersion {
                    version: old.version,
                });
            }
            let (old_snap, new_snap) = (
                old.snapshot_meta().version,
                new.signed.snapshot_meta().version,
            );
            if new_snap < old_snap {
                return Err(TrustError::Rollback {
                    role: "snapshot (as pinned by timestamp)".into(),
                    trusted: old_snap,
                    found: new_snap,
                });
            }
        }
        // Trusted before the expiry check: an expired timestamp still
        // protects against rollback within this update.
        self.timestamp = Some(Verified {
            metadata: new,
            bytes: bytes.to_vec(),
        });
        self.check_timestamp_unexpired()?;
        Ok(self.timestamp.as_ref().expect("just set"))
    }

    fn check_timestamp_unexpired(&self) -> Result<(), TrustError> {
        let ts = self
            .timestamp
            .as_ref()
            .ok_or_else(|| TrustError::OutOfOrder("no timestamp loaded".into()))?;
        if ts.is_expired(self.now) {
            return Err(expired("timestamp", &**ts, self.now));
        }
        Ok(())
    }

    /// Loads a snapshot. `trusted` skips the length and hash pin (for the
    /// local copy that was verified when stored). See the module docs.
    pub fn update_snapshot(
        &mut self,
        bytes: &[u8],
        trusted: bool,
    ) -> Result<&Verified<Snapshot>, TrustError> {
        let ts = self.timestamp.as_ref().ok_or_else(|| {
            TrustError::OutOfOrder("cannot update snapshot before timestamp".into())
        })?;
        if !self.targets.is_empty() {
            return Err(TrustError::OutOfOrder(
                "cannot update snapshot after targets".into(),
            ));
        }
        self.check_timestamp_unexpired()?;
        let pin = ts.snapshot_meta();
        let pinned_by = format!("timestamp version {}", ts.version);
        if !trusted {
            check_length_and_hashes(
                "snapshot.json",
                &pinned_by,
                bytes,
                pin.length,
                pin.hashes.as_ref(),
            )?;
        }
        let new = Metadata::<Snapshot>::from_bytes("snapshot", bytes)?;
        verify_by_root(&self.root, "snapshot", &new)?;
        if let Some(old) = &self.snapshot {
            for (file, old_meta) in &old.meta {
                let new_meta =
                    new.signed
                        .meta
                        .get(file)
                        .ok_or_else(|| TrustError::MetaRemoved {
                            version: new.signed.version,
                            file: file.clone(),
                            trusted_version: old.version,
                        })?;
                if new_meta.version < old_meta.version {
                    return Err(TrustError::Rollback {
                        role: file.trim_end_matches(".json").to_string(),
                        trusted: old_meta.version,
                        found: new_meta.version,
                    });
                }
            }
        }
        let expected = pin.version;
        // Trusted before the final checks (expiry, version pinned by the
        // timestamp): a local snapshot that is no longer current still
        // guards the next snapshot against rollback within this update.
        let snap = self.snapshot.insert(Verified {
            metadata: new,
            bytes: bytes.to_vec(),
        });
        Self::check_final_snapshot(snap, expected, &pinned_by, self.now)?;
        Ok(snap)
    }

    fn check_final_snapshot(
        snap: &Verified<Snapshot>,
        expected: u64,
        pinned_by: &str,
        now: i64,
    ) -> Result<(), TrustError> {
        if snap.is_expired(now) {
            return Err(expired("snapshot", &**snap, now));
        }
        if snap.version != expected {
            return Err(TrustError::VersionMismatch {
                role: "snapshot".into(),
                expected,
                found: snap.version,
                pinned_by: pinned_by.to_string(),
            });
        }
        Ok(())
    }

    /// Loads top-level targets (delegated by root).
    pub fn update_targets(
        &mut self,
        bytes: &[u8],
        trusted: bool,
    ) -> Result<&Verified<Targets>, TrustError> {
        self.update_delegated_targets(bytes, "targets", "root", trusted)
    }

    /// Loads the targets role `role`, delegated by `delegator` (`root` for
    /// top-level targets). `trusted` skips the length and hash pin for the
    /// local copy. See the module docs.
    pub fn update_delegated_targets(
        &mut self,
        bytes: &[u8],
        role: &str,
        delegator: &str,
        trusted: bool,
    ) -> Result<&Verified<Targets>, TrustError> {
        let ts = self
            .timestamp
            .as_ref()
            .ok_or_else(|| TrustError::OutOfOrder("cannot load targets before timestamp".into()))?;
        let snap = self
            .snapshot
            .as_ref()
            .ok_or_else(|| TrustError::OutOfOrder("cannot load targets before snapshot".into()))?;
        Self::check_final_snapshot(
            snap,
            ts.snapshot_meta().version,
            &format!("timestamp version {}", ts.version),
            self.now,
        )?;
        let file = format!("{role}.json");
        let meta = snap
            .meta
            .get(&file)
            .ok_or_else(|| TrustError::NotInSnapshot {
                role: role.to_string(),
                snapshot_version: snap.version,
            })?;
        let pinned_by = format!("snapshot version {}", snap.version);
        if !trusted {
            check_length_and_hashes(&file, &pinned_by, bytes, meta.length, meta.hashes.as_ref())?;
        }
        let new = Metadata::<Targets>::from_bytes(role, bytes)?;
        self.verify_delegated(role, delegator, &new)?;
        if new.signed.version != meta.version {
            return Err(TrustError::VersionMismatch {
                role: role.to_string(),
                expected: meta.version,
                found: new.signed.version,
                pinned_by,
            });
        }
        if new.signed.is_expired(self.now) {
            return Err(expired(role, &new.signed, self.now));
        }
        self.targets.insert(
            role.to_string(),
            Verified {
                metadata: new,
                bytes: bytes.to_vec(),
            },
        );
        self.delegators
            .insert(role.to_string(), vec![delegator.to_string()]);
        Ok(&self.targets[role])
    }

    fn verify_delegated(
        &self,
        role: &str,
        delegator: &str,
        md: &Metadata<Targets>,
    ) -> Result<(), TrustError> {
        if delegator == "root" {
            if role != "targets" {
                return Err(TrustError::NotDelegated {
                    role: role.to_string(),
                    delegator: delegator.to_string(),
                });
            }
            return verify_by_root(&self.root, role, md);
        }
        let parent = self.targets.get(delegator).ok_or_else(|| {
            TrustError::OutOfOrder(format!("delegator {delegator} is not loaded"))
        })?;
        let not_delegated = || TrustError::NotDelegated {
            role: role.to_string(),
            delegator: delegator.to_string(),
        };
        let delegations = parent.delegations.as_ref().ok_or_else(not_delegated)?;
        let (keyids, threshold) = delegations.role_keys(role).ok_or_else(not_delegated)?;
        verify_role(role, md, &delegations.keys, keyids, threshold, || {
            format!("{delegator} version {}", parent.version)
        })
    }

    /// Checks that the already loaded targets role `role` is also validly
    /// delegated by `delegator` (a role reachable through several
    /// delegators must satisfy each one it is used through).
    pub fn check_delegation(&mut self, role: &str, delegator: &str) -> Result<(), TrustError> {
        if self
            .delegators
            .get(role)
            .is_some_and(|d| d.iter().any(|x| x == delegator))
        {
            return Ok(());
        }
        let md = &self
            .targets
            .get(role)
            .ok_or_else(|| TrustError::OutOfOrder(format!("{role} is not loaded")))?
            .metadata;
        self.verify_delegated(role, delegator, md)?;
        self.delegators
            .entry(role.to_string())
            .or_default()
            .push(delegator.to_string());
        Ok(())
    }
}
