//! Offline checks: a channel manifest file, or a whole dist tree (a
//! mirror's directory, a release before it ships), against the signed
//! metadata beside it. No network: metadata and files are read from disk
//! (`file://`).
//!
//! Trust comes from a pinned root (the trusted state under
//! `$CARGO_HOME/tuf/state/` is refreshed, with its rollback protection) or
//! from a root file given on the command line, for auditing a tree
//! without touching any state (a temporary state directory is used).
//!
//! A tree check verifies every release file present (`dist/channel-rust-*`,
//! dated copies, rustup files): each must be signed and match. Then every
//! artifact a verified manifest lists that is present in the tree is
//! hashed (streaming) and must match. Files a signed manifest lists but
//! the tree lacks are counted (a partial mirror is fine); files under
//! `dist/DATE/` that no verified manifest lists are reported, not failed
//! (rustup can never be handed them through the hook).

use crate::layout::{self, Upstream};
use crate::manifest::{ChannelManifest, RustupRelease};
use crate::release::{self, file_url};
use crate::verify::{
    artifact_expectation, check_bytes, hash_local_file, Expected, VerifiedManifest, Verifier,
    VerifyError,
};
use shared_trust::fetcher::FileFetcher;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use trust_roots::pins::{Pin, PinSource};

/// Where trust comes from.
#[derive(Clone, Debug)]
pub enum Trust {
    /// The pin resolved for a dist server URL, with its persistent state.
    Pin {
        /// Cargo home (pins and state).
        cargo_home: PathBuf,
        /// Dist server URL the pin must cover.
        dist_server: String,
    },
    /// An explicit root (exact bytes); state kept in a temporary directory.
    Root(Vec<u8>),
}

/// What to check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// A channel manifest file, or a server tree (holding `dist/`).
    pub path: PathBuf,
    /// The metadata directory (default: `TREE/tuf/metadata`, found from the path).
    pub metadata: Option<PathBuf>,
    /// Target path of a single manifest (default: from its location).
    pub target_path: Option<String>,
    /// Trust anchor.
    pub trust: Trust,
    /// Reference time (Unix seconds).
    pub now: i64,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Target or server path.
    pub file: String,
    /// `Ok(description)` or `Err(message)`.
    pub result: Result<String, String>,
}

/// The outcome of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Release files and artifacts checked, in order.
    pub findings: Vec<Finding>,
    /// Artifacts listed by verified manifests but absent from the tree.
    pub artifacts_absent: usize,
    /// Signed release files absent from the tree.
    pub signed_absent: usize,
    /// Files under `dist/DATE/` that no verified manifest lists.
    pub unlisted: Vec<String>,
}

impl CheckReport {
    /// Whether every file checked verified.
    pub fn ok(&self) -> bool {
        !self.findings.is_empty() && self.findings.iter().all(|f| f.result.is_ok())
    }

    /// Number of failures.
    pub fn failures(&self) -> usize {
        self.findings.iter().filter(|f| f.result.is_err()).count()
    }
}

/// Why a check could not run (as opposed to finding a failure).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The verifier could not start or the metadata did not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The tree could not be read.
    #[error(transparent)]
    Release(#[from] release::ReleaseError),
    /// Wrong use.
    #[error("{0}")]
    Usage(String),
}

/// Finds the server tree a manifest file lies in and its target path:
/// `TREE/dist/NAME` or `TREE/dist/DATE/NAME`.
pub fn locate_manifest(file: &Path) -> Option<(PathBuf, String)> {
    let name = file.file_name()?.to_str()?.to_string();
    let parent = file.parent()?;
    let pname = parent.file_name()?.to_str()?;
    if pname == "dist" {
        let tree = parent.parent()?.to_path_buf();
        return Some((tree, format!("dist/{name}")));
    }
    if layout::is_date(pname) {
        let dist = parent.parent()?;
        if dist.file_name()?.to_str()? == "dist" {
            return Some((dist.parent()?.to_path_buf(), format!("dist/{pname}/{name}")));
        }
    }
    None
}

fn verifier(
    opts: &CheckOptions,
    tree: &Path,
    metadata: &Path,
    state_home: &Path,
) -> Result<Verifier<FileFetcher>, CheckError> {
    let upstream = Upstream::new(&file_url(tree), &file_url(&tree.join("rustup")));
    let (pin, home) = match &opts.trust {
        Trust::Pin {
            cargo_home,
            dist_server,
        } => (
            crate::verify::resolve_pin(cargo_home, dist_server)?,
            cargo_home.clone(),
        ),
        Trust::Root(bytes) => (
            Pin {
                name: "check".into(),
                urls: Vec::new(),
                root: bytes.clone(),
                source: PinSource::User,
                override_builtin: false,
            },
            state_home.to_path_buf(),
        ),
    };
    Ok(Verifier::new(pin, &home, upstream, FileFetcher).with_metadata_url(&file_url(metadata)))
}

/// Runs a check.
pub fn check(opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    // `file://` URLs need an absolute path.
    let absolute = std::path::absolute(&opts.path)
        .map_err(|e| CheckError::Usage(format!("{}: {e}", opts.path.display())))?;
    let opts = &CheckOptions {
        path: absolute,
        ..opts.clone()
    };
    let state = tempfile::tempdir().map_err(|e| {
        CheckError::Usage(format!("cannot create a temporary state directory: {e}"))
    })?;
    if opts.path.is_dir() {
        check_tree(opts, state.path())
    } else if opts.path.is_file() {
        check_manifest_file(opts, state.path())
    } else {
        Err(CheckError::Usage(format!(
            "{}: no such file or directory",
            opts.path.display()
        )))
    }
}

fn check_manifest_file(opts: &CheckOptions, state: &Path) -> Result<CheckReport, CheckError> {
    let located = locate_manifest(&opts.path);
    let target = match (&opts.target_path, &located) {
        (Some(t), _) => t.clone(),
        (None, Some((_, t))) => t.clone(),
        (None, None) => {
            return Err(CheckError::Usage(format!(
                "{}: not inside a dist tree; give its target path (--target-path dist/channel-rust-stable.toml)",
                opts.path.display()
            )))
        }
    };
    if !layout::is_channel_manifest(&target) {
        return Err(CheckError::Usage(format!(
            "{target} is not a channel manifest path (dist/[DATE/]channel-rust-*.toml)"
        )));
    }
    let tree = located.map(|(t, _)| t);
    let metadata = match (&opts.metadata, &tree) {
        (Some(m), _) => m.clone(),
        (None, Some(t)) => t.join(layout::METADATA_DIR),
        (None, None) => {
            return Err(CheckError::Usage(
                "give the metadata directory (--metadata DIR, a copy of SERVER/tuf/metadata)"
                    .into(),
            ))
        }
    };
    let tree = tree.unwrap_or_else(|| opts.path.parent().unwrap_or(Path::new(".")).into());
    let v = verifier(opts, &tree, &metadata, state)?;
    let mut session = v.open_at(opts.now)?;
    let bytes = std::fs::read(&opts.path).map_err(|source| VerifyError::Io {
        path: opts.path.clone(),
        source,
    })?;
    let mut report = CheckReport::default();
    let result = session
        .target(&target)
        .and_then(|s| {
            let e = s.expectation()?;
            check_bytes(&opts.path.display().to_string(), &bytes, &e)?;
            Ok(s)
        })
        .and_then(|s| {
            let m = ChannelManifest::parse(&target, &bytes)?;
            Ok(format!(
                "signed (sha256 {}), date {}, {} downloads listed",
                s.sha256()?,
                m.date,
                m.downloads.len()
            ))
        })
        .map_err(|e| e.to_string());
    report.findings.push(Finding {
        file: target,
        result,
    });
    Ok(report)
}

fn check_tree(opts: &CheckOptions, state: &Path) -> Result<CheckReport, CheckError> {
    let tree = &opts.path;
    let metadata = opts
        .metadata
        .clone()
        .unwrap_or_else(|| tree.join(layout::METADATA_DIR));
    let v = verifier(opts, tree, &metadata, state)?;
    let mut session = v.open_at(opts.now)?;
    let mut report = CheckReport::default();
    let local = release::find_release_files(tree)?;
    let local_targets: BTreeSet<String> = local.iter().map(|(t, _)| t.clone()).collect();
    let mut manifests: Vec<VerifiedManifest> = Vec::new();
    for (target, path) in &local {
        let result = (|| -> Result<String, VerifyError> {
            let signed = session.target(target)?;
            let expected = signed.expectation()?;
            let bytes = std::fs::read(path).map_err(|source| VerifyError::Io {
                path: path.clone(),
                source,
            })?;
            check_bytes(&path.display().to_string(), &bytes, &expected)?;
            if layout::is_channel_manifest(target) {
                let m = ChannelManifest::parse(target, &bytes)?;
                let line = format!(
                    "signed channel manifest, date {}, {} downloads listed",
                    m.date,
                    m.downloads.len()
                );
                manifests.push(VerifiedManifest {
                    path: target.clone(),
                    sha256: expected.sha256.clone(),
                    bytes: Vec::new(),
                    manifest: m,
                    timestamp_version: session.timestamp_version,
                    timestamp_expires: session.timestamp_expires,
                });
                Ok(line)
            } else if target == "rustup/release-stable.toml" {
                let r = RustupRelease::parse(target, &bytes)?;
                Ok(format!("signed rustup release file, version {}", r.version))
            } else {
                Ok(format!("signed, {} bytes", bytes.len()))
            }
        })()
        .map_err(|e| e.to_string());
        report.findings.push(Finding {
            file: target.clone(),
            result,
        });
    }
    for prefix in ["dist/", "rustup/"] {
        for signed in session.signed_paths(prefix)? {
            if layout::is_signed_release_file(&signed) && !local_targets.contains(&signed) {
                report.signed_absent += 1;
            }
        }
    }
    drop(session);

    // Artifacts present in the tree, against every manifest that lists them.
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut checked: BTreeSet<String> = BTreeSet::new();
    for m in &manifests {
        for path in m.manifest.downloads.keys() {
            listed.insert(path.clone());
            let Some(expected): Option<Expected> = artifact_expectation(m, path) else {
                continue;
            };
            let local = tree.join(path);
            if !local.is_file() {
                report.artifacts_absent += 1;
                continue;
            }
            if !checked.insert(path.clone()) {
                continue;
            }
            let result = hash_local_file(&local)
                .and_then(|(len, sha256)| {
                    if sha256 == expected.sha256 {
                        Ok(format!("{len} bytes, sha256 matches {}", m.path))
                    } else {
                        Err(expected.mismatch(
                            &local.display().to_string(),
                            "sha256",
                            expected.sha256.clone(),
                            sha256,
                        ))
                    }
                })
                .map_err(|e| e.to_string());
            report.findings.push(Finding {
                file: path.clone(),
                result,
            });
        }
    }
    // Files nobody lists.
    if let Ok(dates) = std::fs::read_dir(tree.join("dist")) {
        let mut unlisted = Vec::new();
        for d in dates.flatten() {
            let date = d.file_name().to_string_lossy().into_owned();
            if !layout::is_date(&date) || !d.path().is_dir() {
                continue;
            }
            if let Ok(files) = std::fs::read_dir(d.path()) {
                for f in files.flatten() {
                    let name = f.file_name().to_string_lossy().into_owned();
                    let p = format!("dist/{date}/{name}");
                    let sidecar = name.ends_with(".sha256") || name.ends_with(".asc");
                    if !sidecar && !listed.contains(&p) && !local_targets.contains(&p) {
                        unlisted.push(p);
                    }
                }
            }
        }
        unlisted.sort();
        report.unlisted = unlisted;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_located_in_their_tree() {
        assert_eq!(
            locate_manifest(Path::new("/m/dist/channel-rust-stable.toml")),
            Some((
                PathBuf::from("/m"),
                "dist/channel-rust-stable.toml".to_string()
            ))
        );
        assert_eq!(
            locate_manifest(Path::new("/m/dist/2025-04-03/channel-rust-beta.toml")),
            Some((
                PathBuf::from("/m"),
                "dist/2025-04-03/channel-rust-beta.toml".to_string()
            ))
        );
        assert_eq!(
            locate_manifest(Path::new("/tmp/channel-rust-stable.toml")),
            None
        );
        assert_eq!(
            locate_manifest(Path::new("/x/2025-04-03/channel-rust-beta.toml")),
            None
        );
    }
}
