//! Channel manifests and rustup release files: what rustup will download,
//! and the hash each download must have. Pure parsing, no I/O.
//!
//! A channel manifest (`manifest-version = "2"`) lists, for every package
//! and target, up to three downloads of the same installer: `url`/`hash`
//! (gzip), `xz_url`/`xz_hash` and `zst_url`/`zst_hash`; its `[artifacts]`
//! section lists further files (source tarballs, installers) with a
//! `hash-sha256`. [`ChannelManifest::parse`] turns that into one map from
//! **server path** (`dist/2025-04-03/rustc-1.86.0-x86_64-unknown-linux-gnu.tar.xz`)
//! to expected SHA-256.
//!
//! rustup fetches an artifact URL through a mirror by replacing the
//! default server prefix (`https://static.rust-lang.org`) with
//! `RUSTUP_DIST_SERVER`; a URL elsewhere would be fetched straight from
//! that host, around the hook. Such a manifest is refused
//! ([`ManifestError::ForeignUrl`]): everything rustup downloads for a
//! verified toolchain goes through the hook.
//!
//! Only the fields needed are read; everything else (components,
//! extensions, renames, profiles) is rustup's business and is handed to it
//! byte for byte, as signed.
//!
//! Parsing the real 894 KB manifest with the `toml` crate takes most of the
//! time of verifying it (about 9 ms of 10 on the project's machines).
//! Manifests are generated in a narrow, line-oriented form, so `fast`
//! reads exactly that form (bare keys, plain basic strings, booleans,
//! one-line string arrays, plain table headers) in less than half the
//! time, and gives up on the first line outside it, leaving the document
//! to the `toml` crate. Within that form both
//! readings are the same (tested differentially on real manifests and
//! thousands of mutations); a document `toml` rejects is rejected by rustup
//! too, whatever the fast reader made of it.

use crate::layout::DEFAULT_DIST_SERVER;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Why a manifest or release file is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not UTF-8 or not TOML of the expected shape.
    #[error("{file}: not a valid {what}: {reason}")]
    Invalid {
        /// File (target path or local path).
        file: String,
        /// What it should be.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// An unsupported manifest version.
    #[error("{file}: manifest-version {found:?}, expected \"2\"")]
    Version {
        /// File.
        file: String,
        /// Version found.
        found: String,
    },
    /// An artifact URL outside the default dist server.
    #[error("{file}: {package} lists {url}, outside {DEFAULT_DIST_SERVER}/: rustup would fetch it around the hook")]
    ForeignUrl {
        /// File.
        file: String,
        /// Package (or artifact) that lists it.
        package: String,
        /// The URL.
        url: String,
    },
    /// A hash that is not 64 hex digits.
    #[error("{file}: {package} lists {url} with hash {hash:?}, not a SHA-256 (64 hex digits)")]
    BadHash {
        /// File.
        file: String,
        /// Package.
        package: String,
        /// URL.
        url: String,
        /// The value found.
        hash: String,
    },
    /// One URL listed twice with different hashes.
    #[error("{file}: {url} is listed with two different hashes ({first} and {second})")]
    Conflict {
        /// File.
        file: String,
        /// URL.
        url: String,
        /// First hash.
        first: String,
        /// Second hash.
        second: String,
    },
}

/// Compression of an installer tarball.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// `.tar.gz` (`url`/`hash`).
    Gzip,
    /// `.tar.xz` (`xz_url`/`xz_hash`).
    Xz,
    /// `.tar.zst` (`zst_url`/`zst_hash`).
    Zstd,
    /// Listed in `[artifacts]` (any format).
    Artifact,
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Compression::Gzip => "gz",
            Compression::Xz => "xz",
            Compression::Zstd => "zst",
            Compression::Artifact => "artifact",
        })
    }
}

/// One download listed by a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Expected SHA-256 (lower-case hex).
    pub sha256: String,
    /// Package (`rustc`) or artifact kind (`source-code`).
    pub package: String,
    /// Target triple (or `*`).
    pub target: String,
    /// Which of the package's downloads it is.
    pub compression: Compression,
}

/// What a verified channel manifest promises.
#[derive(Clone, Debug)]
pub struct ChannelManifest {
    /// `date` (YYYY-MM-DD).
    pub date: String,
    /// The `rust` package's version string, if any.
    pub rust_version: Option<String>,
    /// Every download, by server path (`dist/...`).
    pub downloads: BTreeMap<String, Listed>,
}

#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawManifest {
    manifest_version: String,
    date: String,
    #[serde(default)]
    pkg: BTreeMap<String, RawPackage>,
    #[serde(default)]
    artifacts: BTreeMap<String, RawArtifact>,
}

#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
struct RawPackage {
    version: String,
    #[serde(default)]
    target: BTreeMap<String, RawTarget>,
}

#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
struct RawTarget {
    #[serde(default)]
    available: bool,
    url: Option<String>,
    hash: Option<String>,
    xz_url: Option<String>,
    xz_hash: Option<String>,
    zst_url: Option<String>,
    zst_hash: Option<String>,
}

#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
struct RawArtifact {
    #[serde(default)]
    target: BTreeMap<String, Vec<RawArtifactFile>>,
}

#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
struct RawArtifactFile {
    url: String,
    #[serde(rename = "hash-sha256")]
    hash_sha256: String,
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl ChannelManifest {
    /// Parses a channel manifest; `file` names it in errors.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, ManifestError> {
        let invalid = |reason: String| ManifestError::Invalid {
            file: file.to_string(),
            what: "channel manifest",
            reason,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| invalid(e.to_string()))?;
        let raw = match fast::parse(text) {
            Some(raw) => raw,
            None => toml::from_str::<RawManifest>(text).map_err(|e| invalid(e.to_string()))?,
        };
        if raw.manifest_version != "2" {
            return Err(ManifestError::Version {
                file: file.to_string(),
                found: raw.manifest_version,
            });
        }
        let mut out = ChannelManifest {
            date: raw.date,
            rust_version: raw.pkg.get("rust").map(|p| p.version.clone()),
            downloads: BTreeMap::new(),
        };
        for (package, p) in &raw.pkg {
            for (target, t) in &p.target {
                if !t.available {
                    continue;
                }
                for (url, hash, compression) in [
                    (&t.url, &t.hash, Compression::Gzip),
                    (&t.xz_url, &t.xz_hash, Compression::Xz),
                    (&t.zst_url, &t.zst_hash, Compression::Zstd),
                ] {
                    // rustup uses a download only when both fields are present.
                    if let (Some(url), Some(hash)) = (url, hash) {
                        out.add(file, package, target, url, hash, compression)?;
                    }
                }
            }
        }
        for (kind, a) in &raw.artifacts {
            for (target, files) in &a.target {
                for f in files {
                    out.add(
                        file,
                        kind,
                        target,
                        &f.url,
                        &f.hash_sha256,
                        Compression::Artifact,
                    )?;
                }
            }
        }
        Ok(out)
    }

    fn add(
        &mut self,
        file: &str,
        package: &str,
        target: &str,
        url: &str,
        hash: &str,
        compression: Compression,
    ) -> Result<(), ManifestError> {
        let prefix = format!("{DEFAULT_DIST_SERVER}/");
        let path = url
            .strip_prefix(&prefix)
            .filter(|p| crate::layout::check_path(p).is_ok())
            .ok_or_else(|| ManifestError::ForeignUrl {
                file: file.to_string(),
                package: package.to_string(),
                url: url.to_string(),
            })?;
        if !is_sha256_hex(hash) {
            return Err(ManifestError::BadHash {
                file: file.to_string(),
                package: package.to_string(),
                url: url.to_string(),
                hash: hash.to_string(),
            });
        }
        let sha256 = hash.to_ascii_lowercase();
        if let Some(prev) = self.downloads.get(path) {
            if prev.sha256 != sha256 {
                return Err(ManifestError::Conflict {
                    file: file.to_string(),
                    url: url.to_string(),
                    first: prev.sha256.clone(),
                    second: sha256,
                });
            }
            return Ok(());
        }
        self.downloads.insert(
            path.to_string(),
            Listed {
                sha256,
                package: package.to_string(),
                target: target.to_string(),
                compression,
            },
        );
        Ok(())
    }
}

/// The line-oriented reader of generated channel manifests (see the
/// module docs). `None` means "not in the narrow form": use `toml`.
mod fast {
    use super::{RawArtifact, RawArtifactFile, RawManifest, RawPackage, RawTarget};
    use std::collections::{BTreeMap, BTreeSet};

    enum Value<'a> {
        Str(&'a str),
        Bool(bool),
        /// A one-line array of plain strings (not needed, only well-formed).
        Array,
    }

    /// `url` and `hash-sha256` of one `[[artifacts.K.target.T]]` entry.
    type ArtifactEntry = (Option<String>, Option<String>);

    /// Where keys go.
    enum Table {
        Root,
        Package(String),
        Target(String, String),
        /// `(kind, target)`; the entry is the last of that list.
        Artifact(String, String),
        /// Well-formed, not needed (components, renames, profiles, ...).
        Other,
    }

    fn is_bare(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    /// The inside of a plain basic string: no quote, backslash or control
    /// character (so no escapes to interpret). Conservative: the lead byte
    /// 0xC2 (U+0080 to U+00BF, C1 controls among them) also gives up.
    fn plain(s: &str) -> Option<&str> {
        let inner = s.strip_prefix('"')?.strip_suffix('"')?;
        inner
            .bytes()
            .all(|b| b != b'"' && b != b'\\' && (b >= 0x20 || b == b'\t') && b != 0x7f && b != 0xc2)
            .then_some(inner)
    }

    fn blank(c: char) -> bool {
        c == ' ' || c == '\t'
    }

    /// Most parts a header may have (the deepest used is 5).
    const MAX_PARTS: usize = 8;

    fn header(h: &str) -> Option<([&str; MAX_PARTS], usize)> {
        let mut parts = [""; MAX_PARTS];
        let mut n = 0;
        let mut rest = h;
        loop {
            let (part, after) = if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"')? + 2;
                (plain(&rest[..end])?, &rest[end..])
            } else {
                let end = rest.find('.').unwrap_or(rest.len());
                let part = &rest[..end];
                if !is_bare(part) {
                    return None;
                }
                (part, &rest[end..])
            };
            *parts.get_mut(n)? = part;
            n += 1;
            if after.is_empty() {
                return Some((parts, n));
            }
            rest = after.strip_prefix('.')?;
        }
    }

    fn value(v: &str) -> Option<Value<'_>> {
        match v {
            "true" => return Some(Value::Bool(true)),
            "false" => return Some(Value::Bool(false)),
            _ => {}
        }
        if v.starts_with('"') {
            return plain(v).map(Value::Str);
        }
        let inner = v.strip_prefix('[')?.strip_suffix(']')?;
        let items: Vec<&str> = inner.split(',').map(|i| i.trim_matches(blank)).collect();
        for (i, item) in items.iter().enumerate() {
            // `[]` and one trailing comma are the only empty items allowed.
            let last = i + 1 == items.len();
            if item.is_empty() && last && (items.len() == 1 || !items[i - 1].is_empty()) {
                continue;
            }
            plain(item)?;
        }
        Some(Value::Array)
    }

    pub(super) fn parse(text: &str) -> Option<RawManifest> {
        if text.contains('\r') || text.starts_with('\u{feff}') {
            return None;
        }
        let mut version = None;
        let mut date = None;
        let mut pkg: BTreeMap<String, (Option<String>, BTreeMap<String, RawTarget>)> =
            BTreeMap::new();
        let mut artifacts: BTreeMap<String, BTreeMap<String, Vec<ArtifactEntry>>> = BTreeMap::new();
        let mut tables_seen: BTreeSet<Vec<&str>> = BTreeSet::new();
        // Keys of the current table (tables are small; a huge one gives up).
        let mut keys_here: Vec<&str> = Vec::new();
        let mut table = Table::Root;
        let mut last_array_parent: Option<(&str, &str)> = None;
        for line in text.split('\n') {
            let l = line.trim_matches(blank);
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            if l.starts_with('[') {
                let (h, array) = match l.strip_prefix("[[") {
                    Some(h) => (h.strip_suffix("]]")?, true),
                    None => (l.strip_prefix('[')?.strip_suffix(']')?, false),
                };
                let (parts, n) = header(h)?;
                let parts = &parts[..n];
                if !array && !tables_seen.insert(parts.to_vec()) {
                    return None; // a table defined twice
                }
                keys_here.clear();
                table = match (parts, array) {
                    (["pkg", p], false) => {
                        pkg.entry(p.to_string()).or_default();
                        Table::Package(p.to_string())
                    }
                    (["pkg", p, "target", t], false) => {
                        let targets = &mut pkg.entry(p.to_string()).or_default().1;
                        if targets.contains_key(*t) {
                            return None;
                        }
                        targets.insert(t.to_string(), RawTarget::default());
                        Table::Target(p.to_string(), t.to_string())
                    }
                    // An array of tables creates its parent tables too.
                    (["pkg", p, "target", t, "components" | "extensions"], true) => {
                        // Thousands of these, in runs under one target:
                        // look up only when the target changes.
                        if last_array_parent != Some((*p, *t))
                            && !pkg.get(*p).is_some_and(|e| e.1.contains_key(*t))
                        {
                            pkg.entry(p.to_string())
                                .or_default()
                                .1
                                .entry(t.to_string())
                                .or_default();
                        }
                        last_array_parent = Some((*p, *t));
                        Table::Other
                    }
                    (["artifacts", k, "target", t], true) => {
                        artifacts
                            .entry(k.to_string())
                            .or_default()
                            .entry(t.to_string())
                            .or_default()
                            .push((None, None));
                        Table::Artifact(k.to_string(), t.to_string())
                    }
                    // Anything else under pkg or artifacts: not the usual form.
                    (["pkg" | "artifacts", ..], _) => return None,
                    _ => Table::Other,
                };
                continue;
            }
            let (k, v) = l.split_once('=')?;
            let k = k.trim_matches(blank);
            if !is_bare(k) || keys_here.contains(&k) || keys_here.len() >= 64 {
                return None;
            }
            keys_here.push(k);
            let v = value(v.trim_matches(blank))?;
            if matches!(table, Table::Other) {
                continue; // well-formed, and not needed
            }
            match (&table, k, v) {
                (Table::Root, "manifest-version", Value::Str(s)) => version = Some(s.to_string()),
                (Table::Root, "date", Value::Str(s)) => date = Some(s.to_string()),
                (Table::Root, "manifest-version" | "date" | "pkg" | "artifacts", _) => return None,
                (Table::Package(p), "version", Value::Str(s)) => {
                    pkg.get_mut(p)?.0 = Some(s.to_string());
                }
                (Table::Package(_), "version" | "target", _) => return None,
                (Table::Target(p, t), key, v) => {
                    let target = pkg.get_mut(p)?.1.get_mut(t)?;
                    let slot = match key {
                        "available" => {
                            let Value::Bool(b) = v else { return None };
                            target.available = b;
                            continue;
                        }
                        "url" => &mut target.url,
                        "hash" => &mut target.hash,
                        "xz_url" => &mut target.xz_url,
                        "xz_hash" => &mut target.xz_hash,
                        "zst_url" => &mut target.zst_url,
                        "zst_hash" => &mut target.zst_hash,
                        _ => continue,
                    };
                    let Value::Str(s) = v else { return None };
                    *slot = Some(s.to_string());
                }
                (Table::Artifact(kind, t), "url" | "hash-sha256", v) => {
                    let Value::Str(s) = v else { return None };
                    let entry = artifacts.get_mut(kind)?.get_mut(t)?.last_mut()?;
                    if k == "url" {
                        entry.0 = Some(s.to_string());
                    } else {
                        entry.1 = Some(s.to_string());
                    }
                }
                _ => {}
            }
        }
        Some(RawManifest {
            manifest_version: version?,
            date: date?,
            pkg: pkg
                .into_iter()
                .map(|(name, (version, target))| {
                    Some((
                        name,
                        RawPackage {
                            version: version?,
                            target,
                        },
                    ))
                })
                .collect::<Option<_>>()?,
            artifacts: artifacts
                .into_iter()
                .map(|(kind, targets)| {
                    let target = targets
                        .into_iter()
                        .map(|(t, files)| {
                            let files = files
                                .into_iter()
                                .map(|(url, hash)| {
                                    Some(RawArtifactFile {
                                        url: url?,
                                        hash_sha256: hash?,
                                    })
                                })
                                .collect::<Option<Vec<_>>>()?;
                            Some((t, files))
                        })
                        .collect::<Option<_>>()?;
                    Some((kind, RawArtifact { target }))
                })
                .collect::<Option<_>>()?,
        })
    }
}

/// `rustup/release-stable.toml`: the rustup version `rustup self update`
/// installs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RustupRelease {
    /// `version`.
    pub version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawRelease {
    schema_version: String,
    version: String,
}

impl RustupRelease {
    /// Parses `release-stable.toml` (schema version 1).
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, ManifestError> {
        let invalid = |reason: String| ManifestError::Invalid {
            file: file.to_string(),
            what: "rustup release file",
            reason,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| invalid(e.to_string()))?;
        let raw: RawRelease = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if raw.schema_version != "1" {
            return Err(invalid(format!(
                "schema-version {:?}, expected \"1\"",
                raw.schema_version
            )));
        }
        if raw.version.is_empty()
            || !raw
                .version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b))
        {
            return Err(invalid(format!("version {:?}", raw.version)));
        }
        Ok(RustupRelease {
            version: raw.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &str = "37fd98aa2c8f458fdd1cfd02e13e9097e9ca14f8ea62c5413a0376475d117ab7";
    const H2: &str = "3cb13873d48c3e1e4cc684d42c245226a11fba52af6b047c3346ed654e7a05c0";

    fn manifest(extra: &str) -> String {
        format!(
            r#"manifest-version = "2"
date = "2025-04-03"
[pkg.cargo]
version = "0.87.0"
[pkg.cargo.target.aarch64-apple-darwin]
available = true
url = "https://static.rust-lang.org/dist/2025-04-03/cargo-1.86.0-aarch64-apple-darwin.tar.gz"
hash = "{H1}"
xz_url = "https://static.rust-lang.org/dist/2025-04-03/cargo-1.86.0-aarch64-apple-darwin.tar.xz"
xz_hash = "{H2}"
[pkg.cargo.target.i686-apple-darwin]
available = false
{extra}"#
        )
    }

    #[test]
    fn lists_every_download_by_server_path() {
        let m = ChannelManifest::parse("m", manifest("").as_bytes()).unwrap();
        assert_eq!(m.date, "2025-04-03");
        assert_eq!(m.downloads.len(), 2);
        let xz = &m.downloads["dist/2025-04-03/cargo-1.86.0-aarch64-apple-darwin.tar.xz"];
        assert_eq!(xz.sha256, H2);
        assert_eq!(xz.compression, Compression::Xz);
        assert_eq!(xz.package, "cargo");
    }

    #[test]
    fn zst_and_artifacts() {
        let extra = format!(
            r#"[pkg.rust-src]
version = "1.86.0"
[pkg.rust-src.target."*"]
available = true
zst_url = "https://static.rust-lang.org/dist/2025-04-03/rust-src-1.86.0.tar.zst"
zst_hash = "{}"
[[artifacts.source-code.target."*"]]
url = "https://static.rust-lang.org/dist/2025-04-03/rustc-1.86.0-src.tar.gz"
hash-sha256 = "{H1}"
"#,
            H2.to_uppercase()
        );
        let m = ChannelManifest::parse("m", manifest(&extra).as_bytes()).unwrap();
        let zst = &m.downloads["dist/2025-04-03/rust-src-1.86.0.tar.zst"];
        assert_eq!(zst.sha256, H2, "hashes are normalized to lower case");
        assert_eq!(zst.compression, Compression::Zstd);
        assert_eq!(zst.target, "*");
        assert_eq!(
            m.downloads["dist/2025-04-03/rustc-1.86.0-src.tar.gz"].compression,
            Compression::Artifact
        );
    }

    #[test]
    fn refuses_foreign_urls_bad_hashes_and_conflicts() {
        let foreign = format!(
            "[pkg.x]\nversion = \"1\"\n[pkg.x.target.t]\navailable = true\nurl = \"https://evil.example/dist/x.tar.gz\"\nhash = \"{H1}\"\n"
        );
        let e = ChannelManifest::parse("m", manifest(&foreign).as_bytes()).unwrap_err();
        assert!(matches!(e, ManifestError::ForeignUrl { .. }), "{e}");
        let sneaky = format!(
            "[pkg.x]\nversion = \"1\"\n[pkg.x.target.t]\navailable = true\nurl = \"https://static.rust-lang.org.evil.example/x.tar.gz\"\nhash = \"{H1}\"\n"
        );
        let e = ChannelManifest::parse("m", manifest(&sneaky).as_bytes()).unwrap_err();
        assert!(matches!(e, ManifestError::ForeignUrl { .. }), "{e}");
        let bad = "[pkg.x]\nversion = \"1\"\n[pkg.x.target.t]\navailable = true\nurl = \"https://static.rust-lang.org/dist/x.tar.gz\"\nhash = \"abc\"\n";
        let e = ChannelManifest::parse("m", manifest(bad).as_bytes()).unwrap_err();
        assert!(matches!(e, ManifestError::BadHash { .. }), "{e}");
        let twice = format!(
            "[pkg.x]\nversion = \"1\"\n[pkg.x.target.t]\navailable = true\nurl = \"https://static.rust-lang.org/dist/2025-04-03/cargo-1.86.0-aarch64-apple-darwin.tar.gz\"\nhash = \"{H2}\"\n"
        );
        let e = ChannelManifest::parse("m", manifest(&twice).as_bytes()).unwrap_err();
        assert!(matches!(e, ManifestError::Conflict { .. }), "{e}");
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        let v1 = manifest("").replace("manifest-version = \"2\"", "manifest-version = \"1\"");
        assert!(matches!(
            ChannelManifest::parse("m", v1.as_bytes()),
            Err(ManifestError::Version { .. })
        ));
        assert!(matches!(
            ChannelManifest::parse("m", b"\xff\xfe"),
            Err(ManifestError::Invalid { .. })
        ));
        assert!(matches!(
            ChannelManifest::parse("m", b"date = 3"),
            Err(ManifestError::Invalid { .. })
        ));
    }

    const FIXTURE: &str = include_str!("../fixtures/channel-rust-stable-2025-04-03-trimmed.toml");

    fn by_toml(text: &str) -> Option<RawManifest> {
        toml::from_str::<RawManifest>(text).ok()
    }

    #[test]
    fn fast_reader_agrees_with_toml_on_real_manifests() {
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/channel-rust-stable-2025-04-03.toml");
        let mut texts = vec![FIXTURE.to_string(), manifest("")];
        if let Ok(t) = std::fs::read_to_string(real) {
            texts.push(t);
        }
        for t in &texts {
            let fast = fast::parse(t).expect("generated manifests are in the fast form");
            assert_eq!(Some(fast), by_toml(t));
        }
    }

    #[test]
    fn fast_reader_agrees_with_toml_on_mutations() {
        let lines: Vec<&str> = FIXTURE.lines().collect();
        let snippets = [
            "url = \"https://static.rust-lang.org/dist/x.tar.gz\"",
            "hash = \"37fd98aa2c8f458fdd1cfd02e13e9097e9ca14f8ea62c5413a0376475d117ab7\"",
            "available = false",
            "available = \"true\"",
            "[pkg.cargo.target.x86_64-unknown-linux-gnu]",
            "[pkg.rustc]",
            "[pkg.new.target.t]",
            "[[artifacts.source-code.target.\"*\"]]",
            "[pkg.cargo.target]",
            "target.x.url = \"https://static.rust-lang.org/dist/y.tar.gz\"",
            "note = \"\"\"",
            "\"\"\"",
            "x = { url = \"https://static.rust-lang.org/dist/z.tar.gz\" }",
            "url = 'https://static.rust-lang.org/dist/w.tar.gz'",
            "version = \"1\" # comment",
            "[renames.x]",
            "to = \"y\"",
            "list = [\"a\", \"b\",]",
            "list = [",
            "]",
            "\"url\" = \"https://static.rust-lang.org/dist/q.tar.gz\"",
            "url=\"https://static.rust-lang.org/dist/r.tar.gz\"",
            "  [pkg.rust-std]  ",
            "# [pkg.rustc.target.evil]",
            "manifest-version = \"2\"",
        ];
        let chars = [
            '"', '\\', '.', ' ', '#', '[', ']', '=', '\t', ',', '\'', 'x',
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let (mut fast_taken, mut agreed) = (0, 0);
        for _ in 0..3000 {
            let mut m: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            for _ in 0..1 + next(3) {
                let i = next(m.len());
                match next(5) {
                    0 => {
                        m.remove(i);
                    }
                    1 => {
                        let l = m[i].clone();
                        m.insert(next(m.len()), l);
                    }
                    2 => {
                        let j = next(m.len());
                        m.swap(i, j);
                    }
                    3 => m.insert(i, snippets[next(snippets.len())].to_string()),
                    _ => {
                        let mut l: Vec<char> = m[i].chars().collect();
                        if !l.is_empty() {
                            let at = next(l.len());
                            l[at] = chars[next(chars.len())];
                        }
                        m[i] = l.into_iter().collect();
                    }
                }
            }
            let text = m.join("\n");
            if let Some(fast) = fast::parse(&text) {
                fast_taken += 1;
                if let Some(slow) = by_toml(&text) {
                    assert_eq!(fast, slow, "readings differ on:\n{text}");
                    agreed += 1;
                }
            }
        }
        // Both paths were exercised.
        assert!(fast_taken > 300 && agreed > 300, "{fast_taken} {agreed}");
        assert!(fast_taken < 3000, "some mutations must fall back");
    }

    #[test]
    fn rustup_release_file() {
        let r = RustupRelease::parse("r", b"schema-version = '1'\nversion = '1.28.2'\n").unwrap();
        assert_eq!(r.version, "1.28.2");
        assert!(RustupRelease::parse("r", b"schema-version = '2'\nversion = '1'\n").is_err());
        assert!(RustupRelease::parse("r", b"schema-version = '1'\nversion = '../x'\n").is_err());
    }
}
