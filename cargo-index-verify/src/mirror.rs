//! Mirror-operator mode: verify an entire index directory and every
//! `.crate` file of a mirror against the registry's signed index, before
//! the sync is published.
//!
//! The metadata is read from the directory's own `tuf/` (a mirror syncs it
//! with the index) and chained to the pinned root exactly as a client does.
//! Every crate file is hashed in canonical form (on all cores), the tree is
//! rebuilt and its root compared with the signed one. When they differ,
//! the signed entries are read from the directory's tree objects (each
//! checked against its name) and every differing, missing or extra crate
//! file is named.

use crate::binding::IndexCommitment;
use crate::sign;
use crate::transport::IndexAccess;
use crate::verify::{self, Failure, Options, RegistryReport, RegistrySpec, RunError};
use serde::Serialize;
use shared_trust::crypto::sha256_hex;
use shared_trust::index::{self, Tree};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trust_roots::pins::PinSet;

/// What a mirror verification found.
#[derive(Debug, Default, Serialize)]
pub struct MirrorReport {
    /// The metadata part (registry, pin, snapshot, commitment, failures).
    #[serde(flatten)]
    pub registry: RegistryReport,
    /// Crate files hashed.
    pub files: usize,
    /// Files skipped as not at index paths.
    pub ignored: usize,
    /// `.crate` files checked.
    pub crates: usize,
}

fn failure(kind: &'static str, file: Option<&str>, message: String) -> Failure {
    let mut f = Failure {
        kind,
        krate: None,
        version: None,
        file: file.map(str::to_string),
        expected: None,
        found: None,
        message,
    };
    if let Some(path) = file {
        f.krate = path.rsplit('/').next().map(str::to_string);
    }
    f
}

/// Splits `NAME-VERSION.crate` given the versions a crate file lists.
fn crate_of(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.strip_suffix(".crate")?;
    // The version starts after the last '-' followed by a digit that
    // leaves a valid name before it; names cannot start with a digit.
    let bytes = stem.as_bytes();
    (1..stem.len())
        .rev()
        .filter(|&i| bytes[i - 1] == b'-' && bytes[i].is_ascii_digit())
        .map(|i| (stem[..i - 1].to_string(), stem[i..].to_string()))
        .find(|(n, v)| !n.is_empty() && v.split('.').count() >= 3)
}

fn walk_crates(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk_crates(&e.path(), out)?;
        } else if ft.is_file() && e.file_name().to_string_lossy().ends_with(".crate") {
            out.push(e.path());
        }
    }
    Ok(())
}

/// Verifies the index directory `dir` (and the `.crate` files under
/// `crate_dirs`) for the registry at `registry_urls`.
pub fn verify_mirror(
    dir: &Path,
    registry_urls: Vec<String>,
    crate_dirs: &[PathBuf],
    pins: &PinSet,
    opts: &Options,
    threads: usize,
    progress: &dyn Fn(&str),
) -> Result<MirrorReport, RunError> {
    let url = registry_urls.first().cloned().unwrap_or_default();
    let name = if crate::lockfile::SourceId::parse(&format!("registry+{url}"))
        .is_ok_and(|s| s.is_crates_io())
    {
        crate::config::CRATES_IO_NAME.to_string()
    } else {
        url.clone()
    };
    let spec = RegistrySpec {
        name: name.clone(),
        registry_urls,
        mirror: Some(dir.display().to_string()),
        access: IndexAccess::Dir(dir.to_path_buf()),
        cargo_cache_host: None,
        vendor_dir: None,
    };
    // Metadata, chained to the pin (no packages: only steps 1 to 3).
    let registry = verify::verify_registry(&spec, &[], pins, opts, progress)?;
    let mut report = MirrorReport {
        registry,
        ..Default::default()
    };
    let Some(commitment) = report.registry.commitment.clone() else {
        return Ok(report);
    };
    if !report.registry.failures.is_empty() {
        return Ok(report);
    }
    let state_err = |e: sign::SignError| RunError::State {
        registry: name.clone(),
        source: Box::new(e),
    };
    progress("hashing every crate file");
    let hashed = match sign::scan_and_hash(dir, threads) {
        Ok((h, ignored)) => {
            report.ignored = ignored.len();
            h
        }
        Err(sign::SignError::Index(e)) => {
            report
                .registry
                .failures
                .push(failure("index-file", None, e.to_string()));
            return Ok(report);
        }
        Err(e) => return Err(state_err(e)),
    };
    report.files = hashed.len();
    // The tree of what the mirror holds doubles as its path -> hash map.
    let (computed, _) = Tree::build(commitment.depth, hashed).map_err(|e| RunError::State {
        registry: name.clone(),
        source: Box::new(e),
    })?;
    let tree = &computed;
    // Crate files that verified: all of them when the roots agree, else
    // those whose hash the signed tree lists (none if its objects could not
    // be read).
    let all_verified = Some(tree.root()) == commitment.root_hash();
    let signed = if all_verified {
        None
    } else {
        name_differences(dir, &commitment, &computed, &mut report)
    };
    let verified = |path: &str| {
        all_verified
            || signed
                .as_ref()
                .is_some_and(|t| t.get(path).is_some_and(|h| computed.get(path) == Some(h)))
    };
    // .crate files.
    let mut crates = Vec::new();
    for d in crate_dirs {
        walk_crates(d, &mut crates).map_err(|e| RunError::State {
            registry: name.clone(),
            source: Box::new(shared_trust::store::StoreError {
                path: d.clone(),
                source: e,
            }),
        })?;
    }
    progress("checking .crate files");
    let mut lines_cache: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for path in crates {
        report.crates += 1;
        let shown = path.display().to_string();
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((krate, version)) = crate_of(&file_name) else {
            report.registry.failures.push(failure(
                "crate-file",
                Some(&shown),
                format!("{shown}: not named NAME-VERSION.crate"),
            ));
            continue;
        };
        let ipath = index::index_path(&krate);
        if !verified(&ipath) {
            report.registry.failures.push(Failure {
                kind: "crate-file",
                krate: Some(krate.clone()),
                version: Some(version.clone()),
                file: Some(shown.clone()),
                expected: None,
                found: None,
                message: format!(
                    "{krate} {version}: {shown} cannot be checked: its crate file {ipath} is not the signed one"
                ),
            });
            continue;
        }
        let versions = lines_cache.entry(ipath.clone()).or_insert_with(|| {
            std::fs::read(dir.join(&ipath))
                .ok()
                .and_then(|b| index::canonical_crate_file(&ipath, &b).ok())
                .map(|c| {
                    c.split(|&b| b == b'\n')
                        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
                        .filter_map(|v| {
                            Some((
                                v.get("vers")?.as_str()?.to_string(),
                                v.get("cksum")?.as_str()?.to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default()
        });
        let mut f = |kind, message: String, expected: Option<&str>, found: Option<&str>| {
            report.registry.failures.push(Failure {
                kind,
                krate: Some(krate.clone()),
                version: Some(version.clone()),
                file: Some(shown.clone()),
                expected: expected.map(str::to_string),
                found: found.map(str::to_string),
                message,
            })
        };
        let Some(cksum) = versions.get(&version) else {
            f(
                "crate-file",
                format!("{krate} {version}: {shown} is not a version the signed index lists"),
                None,
                None,
            );
            continue;
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                f("crate-file", format!("{shown}: {e}"), None, None);
                continue;
            }
        };
        let found = sha256_hex(&bytes);
        if !found.eq_ignore_ascii_case(cksum) {
            f(
                "crate-file",
                format!(
                    "{krate} {version}: {shown} hashes to {found}, the signed cksum is {cksum}"
                ),
                Some(cksum),
                Some(&found),
            );
        }
    }
    Ok(report)
}

/// Names every crate file that differs from the signed tree; returns the
/// signed tree when its objects could be read.
fn name_differences(
    dir: &Path,
    commitment: &IndexCommitment,
    computed: &Tree,
    report: &mut MirrorReport,
) -> Option<Tree> {
    let tree_dir = dir.join(crate::binding::TREE_DIR);
    let signed = match sign::load_tree(&tree_dir, commitment) {
        Ok(t) => t,
        Err(e) => {
            report.registry.failures.push(failure(
                "index-file",
                None,
                format!(
                    "the index does not match the signed commitment (generation {}), and its tree objects cannot name the difference: {e}",
                    commitment.generation
                ),
            ));
            return None;
        }
    };
    for (path, h) in signed.entries() {
        match computed.get(path) {
            None => report.registry.failures.push(failure(
                "index-file",
                Some(path),
                format!("{path}: missing from the mirror, but in the signed index"),
            )),
            Some(c) if c != h => {
                let mut f = failure(
                    "index-file",
                    Some(path),
                    format!("{path}: content differs from the signed index"),
                );
                f.expected = Some(index::hex_hash(h));
                f.found = Some(index::hex_hash(c));
                report.registry.failures.push(f);
            }
            Some(_) => {}
        }
    }
    for (path, _) in computed.entries() {
        if signed.get(path).is_none() {
            report.registry.failures.push(failure(
                "index-file",
                Some(path),
                format!("{path}: on the mirror, but not in the signed index"),
            ));
        }
    }
    Some(signed)
}

#[cfg(test)]
mod tests {
    use super::crate_of;

    #[test]
    fn crate_file_names() {
        let c = |s: &str| crate_of(s).map(|(a, b)| format!("{a} {b}"));
        assert_eq!(c("serde-1.0.102.crate").as_deref(), Some("serde 1.0.102"));
        assert_eq!(c("cfg-if-0.1.10.crate").as_deref(), Some("cfg-if 0.1.10"));
        assert_eq!(
            c("foo-bar-2-1.0.0-rc.1.crate").as_deref(),
            Some("foo-bar-2 1.0.0-rc.1")
        );
        assert_eq!(
            c("x-1.0.0+build-5.crate").as_deref(),
            Some("x 1.0.0+build-5")
        );
        assert_eq!(c("nothing.crate"), None);
        assert_eq!(c("serde-1.0.102.tar"), None);
    }
}
