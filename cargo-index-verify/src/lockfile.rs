//! `Cargo.lock` parsing, for every lock file format cargo still reads.
//!
//! # Formats
//!
//! cargo has written four lock file encodings; this module reads all of them
//! and reports which one it found, using cargo's own detection rules:
//!
//! * **v1** has no `version` key. Checksums live in the `[metadata]` table as
//!   `"checksum NAME VERSION (SOURCE)" = "HEX"` (the value `<none>` records
//!   that the source provides no checksum) and dependency edges are written in
//!   full as `"NAME VERSION (SOURCE)"`. The oldest files also carry a `[root]`
//!   table for the root package, which cargo treats as the first package.
//! * **v2** has no `version` key either. cargo recognises it by a `checksum`
//!   field inside a `[[package]]`, or by a dependency edge that leaves out the
//!   version or source (v1 always wrote them). A lock file with a single
//!   package, ending in exactly one newline, is also v2.
//! * **v3** has `version = 3`. Git sources write `branch=master` explicitly.
//! * **v4** has `version = 4` (cargo 1.78+, the default since 1.83). Git
//!   source URLs percent-encode their query
//!   (`?branch=dev%2B1` where v3 wrote `?branch=dev+1`). Registry sources are
//!   written identically in all four versions.
//!
//! An explicit `version` other than 3 or 4 is refused, as stable cargo
//! refuses it (`version = 5` is an unstable nightly format). Unknown keys
//! and the `[[patch.unused]]` list are ignored: they lock nothing.
//!
//! # Checksums as cargo sees them
//!
//! A checksum comes from the package's own `checksum` field or from
//! `[metadata]`. When a file has both kinds (cargo takes this as the product
//! of a bad merge) cargo discards *every* checksum in the file and later
//! recomputes them from the registry; this module does the same and says so
//! in [`Lockfile::checksums_discarded`]. `[metadata]` keys that name no
//! package in the file are ignored, as cargo ignores them. Checksum strings
//! are kept verbatim: cargo compares them byte for byte with the registry's,
//! so a malformed one is a verification failure, not a parse error.
//!
//! # Sources
//!
//! [`SourceId`] is the `source = "..."` string: `registry+URL` (a registry
//! read over git, including crates.io's
//! `registry+https://github.com/rust-lang/crates.io-index`, which cargo writes
//! for crates.io whichever protocol it uses), `sparse+URL`, `git+URL` and
//! `path+URL`. Path packages normally have no source at all. Its [`Display`]
//! gives back the exact lock file string.
//!
//! # Robustness
//!
//! Everything here is a pure function of the input text: no file system, no
//! network, no panics. Registry package names are restricted to the ASCII
//! letters, digits, `-` and `_` that a registry accepts, because callers turn
//! them into index paths and cache file names.
//!
//! [`Display`]: std::fmt::Display

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use toml::Value;

/// The crates.io index URL that lock files record for crates.io packages.
pub const CRATES_IO_INDEX: &str = "https://github.com/rust-lang/crates.io-index";

/// The crates.io sparse index URL (without the `sparse+` prefix).
pub const CRATES_IO_SPARSE_INDEX: &str = "https://index.crates.io/";

/// A parsed `Cargo.lock`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lockfile {
    /// Lock file format version as cargo detects it: 1, 2, 3 or 4.
    pub version: u32,
    /// Every `[[package]]` (and a v1 `[root]`, first) in file order.
    pub packages: Vec<LockedPackage>,
    /// True when the file mixed inline and `[metadata]` checksums, so that
    /// cargo ignores all of them (every [`LockedPackage::checksum`] is then
    /// `None`).
    pub checksums_discarded: bool,
}

/// One locked package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedPackage {
    /// Package name.
    pub name: String,
    /// Exact version (valid semver, as cargo requires).
    pub version: String,
    /// Where the package comes from; `None` for path (workspace) packages.
    pub source: Option<SourceId>,
    /// The recorded SHA-256 checksum of the `.crate`, verbatim.
    pub checksum: Option<String>,
    /// True when a v1 `[metadata]` entry records the checksum as `<none>`
    /// ("this source has no checksums"). cargo refuses to use a registry
    /// package marked this way.
    pub checksum_marked_none: bool,
    /// The `dependencies` entries as written.
    pub dependencies: Vec<PackageRef>,
    /// The legacy `replace` entry (`[replace]` manifests): cargo builds the
    /// named package instead of this one.
    pub replace: Option<PackageRef>,
}

impl LockedPackage {
    /// True when the package comes from a registry (git or sparse protocol).
    pub fn is_registry(&self) -> bool {
        self.source.as_ref().is_some_and(SourceId::is_registry)
    }
}

impl Lockfile {
    /// Parses `Cargo.lock` text. `path` is used only in error messages.
    pub fn parse(path: &str, text: &str) -> Result<Lockfile, LockfileError> {
        parse_lockfile(path, text)
    }

    /// Parses `Cargo.lock` bytes, which must be UTF-8 as cargo requires.
    pub fn parse_bytes(path: &str, bytes: &[u8]) -> Result<Lockfile, LockfileError> {
        let text = std::str::from_utf8(bytes).map_err(|e| LockfileError::NotUtf8 {
            path: path.to_string(),
            offset: e.valid_up_to(),
        })?;
        parse_lockfile(path, text)
    }

    /// The packages that come from a registry, in file order.
    pub fn registry_packages(&self) -> impl Iterator<Item = &LockedPackage> {
        self.packages.iter().filter(|p| p.is_registry())
    }
}

/// Where a locked package comes from: the lock file's `source` string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SourceId {
    /// `registry+URL`: a registry whose index is a git repository.
    Registry {
        /// The index URL, without the `registry+` prefix.
        url: String,
    },
    /// `sparse+URL`: a registry served over the sparse HTTP protocol.
    Sparse {
        /// The index URL, without the `sparse+` prefix.
        url: String,
    },
    /// `git+URL[?QUERY][#PRECISE]`: a git repository (not a registry).
    Git {
        /// The repository URL without query and fragment.
        url: String,
        /// The raw query (`branch=...`, `tag=...`, `rev=...`), if any.
        query: Option<String>,
        /// The locked commit (the URL fragment), if any.
        precise: Option<String>,
    },
    /// `path+URL`: a path source written explicitly.
    Path {
        /// The `file:` URL.
        url: String,
    },
}

/// The git reference a [`SourceId::Git`] follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitReference {
    /// The remote's default branch.
    DefaultBranch,
    /// `branch=` (or the legacy `ref=`).
    Branch(String),
    /// `tag=`.
    Tag(String),
    /// `rev=`.
    Rev(String),
}

impl SourceId {
    /// crates.io as lock files record it.
    pub fn crates_io() -> SourceId {
        SourceId::Registry {
            url: CRATES_IO_INDEX.to_string(),
        }
    }

    /// Parses a lock file `source` string.
    pub fn parse(source: &str) -> Result<SourceId, SourceIdError> {
        let Some((kind, rest)) = source.split_once('+') else {
            return Err(SourceIdError::MissingKind {
                source_str: source.to_string(),
            });
        };
        let invalid_url = |reason: &'static str| SourceIdError::InvalidUrl {
            source_str: source.to_string(),
            reason,
        };
        match kind {
            "registry" => {
                check_url(rest).map_err(invalid_url)?;
                Ok(SourceId::Registry {
                    url: rest.to_string(),
                })
            }
            "sparse" => {
                check_url(rest).map_err(invalid_url)?;
                Ok(SourceId::Sparse {
                    url: rest.to_string(),
                })
            }
            "git" => {
                check_url(rest).map_err(invalid_url)?;
                let (before_fragment, precise) = match rest.split_once('#') {
                    Some((b, f)) => (b, Some(f.to_string())),
                    None => (rest, None),
                };
                let (url, query) = match before_fragment.split_once('?') {
                    Some((u, q)) => (u, Some(q.to_string())),
                    None => (before_fragment, None),
                };
                check_url(url).map_err(invalid_url)?;
                Ok(SourceId::Git {
                    url: url.to_string(),
                    query,
                    precise,
                })
            }
            "path" => {
                check_url(rest).map_err(invalid_url)?;
                Ok(SourceId::Path {
                    url: rest.to_string(),
                })
            }
            other => Err(SourceIdError::UnsupportedKind {
                source_str: source.to_string(),
                kind: other.to_string(),
            }),
        }
    }

    /// The URL: the index URL for registries (without `registry+` or
    /// `sparse+`), the repository URL (without query and fragment) for git.
    pub fn url(&self) -> &str {
        match self {
            SourceId::Registry { url }
            | SourceId::Sparse { url }
            | SourceId::Git { url, .. }
            | SourceId::Path { url } => url,
        }
    }

    /// True for registries, whichever protocol.
    pub fn is_registry(&self) -> bool {
        matches!(self, SourceId::Registry { .. } | SourceId::Sparse { .. })
    }

    /// True when this is crates.io: its git index URL as a `registry+`
    /// source, or its sparse index URL as a `sparse+` source (compared after
    /// the normalisation a URL parser applies: case of scheme and host,
    /// default port, empty path).
    pub fn is_crates_io(&self) -> bool {
        match self {
            SourceId::Registry { url } => normalize_url(url) == CRATES_IO_INDEX,
            SourceId::Sparse { url } => normalize_url(url) == CRATES_IO_SPARSE_INDEX,
            _ => false,
        }
    }

    /// The git reference of a git source (`None` for other kinds). The query
    /// is decoded as `application/x-www-form-urlencoded`, as cargo decodes
    /// it; the last `branch`/`ref`/`tag`/`rev` pair wins.
    pub fn git_reference(&self) -> Option<GitReference> {
        let SourceId::Git { query, .. } = self else {
            return None;
        };
        let mut reference = GitReference::DefaultBranch;
        for pair in query.as_deref().unwrap_or("").split('&') {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let value = form_decode(v);
            match form_decode(k).as_str() {
                "branch" | "ref" => reference = GitReference::Branch(value),
                "tag" => reference = GitReference::Tag(value),
                "rev" => reference = GitReference::Rev(value),
                _ => {}
            }
        }
        Some(reference)
    }

    /// A key under which two source ids compare equal when cargo considers
    /// them the same source: same kind and same canonical URL (trailing
    /// slash, and for git-style URLs a `.git` suffix and GitHub letter case,
    /// do not matter). For git the reference is part of the key, the locked
    /// commit is not.
    pub(crate) fn canonical_key(&self) -> (u8, String) {
        match self {
            SourceId::Registry { url } => (0, canonical_url(url)),
            SourceId::Sparse { url } => (1, canonical_url(&format!("sparse+{url}"))),
            SourceId::Git { url, .. } => (
                2,
                format!("{} {:?}", canonical_url(url), self.git_reference()),
            ),
            SourceId::Path { url } => (3, canonical_url(url)),
        }
    }

    /// True when cargo treats `self` and `other` as the same source: same
    /// kind, same canonical URL and, for git, the same reference (the locked
    /// commit does not matter).
    pub fn same_source(&self, other: &SourceId) -> bool {
        self.canonical_key() == other.canonical_key()
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::Registry { url } => write!(f, "registry+{url}"),
            SourceId::Sparse { url } => write!(f, "sparse+{url}"),
            SourceId::Git {
                url,
                query,
                precise,
            } => {
                write!(f, "git+{url}")?;
                if let Some(q) = query {
                    write!(f, "?{q}")?;
                }
                if let Some(p) = precise {
                    write!(f, "#{p}")?;
                }
                Ok(())
            }
            SourceId::Path { url } => write!(f, "path+{url}"),
        }
    }
}

impl FromStr for SourceId {
    type Err = SourceIdError;

    fn from_str(s: &str) -> Result<SourceId, SourceIdError> {
        SourceId::parse(s)
    }
}

/// A reference to a package as written in `dependencies`, `replace` and v1
/// `[metadata]` keys: `NAME [VERSION [(SOURCE)]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageRef {
    /// Package name.
    pub name: String,
    /// Version, when written (v2+ leave it out when unambiguous).
    pub version: Option<String>,
    /// Source, when written (v2+ leave it out when unambiguous).
    pub source: Option<SourceId>,
}

impl PackageRef {
    /// Parses `NAME [VERSION [(SOURCE)]]` the way cargo does: split on the
    /// first two spaces; the third part must be parenthesised.
    pub fn parse(s: &str) -> Result<PackageRef, PackageRefError> {
        let mut parts = s.splitn(3, ' ');
        let name = parts.next().unwrap_or_default();
        let version = parts.next();
        let source = match parts.next() {
            Some(raw) => {
                let Some(inner) = raw.strip_prefix('(').and_then(|r| r.strip_suffix(')')) else {
                    return Err(PackageRefError::UnparenthesizedSource {
                        text: s.to_string(),
                    });
                };
                Some(SourceId::parse(inner).map_err(|e| PackageRefError::Source {
                    text: s.to_string(),
                    reason: Box::new(e),
                })?)
            }
            None => None,
        };
        Ok(PackageRef {
            name: name.to_string(),
            version: version.map(str::to_string),
            source,
        })
    }
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(v) = &self.version {
            write!(f, " {v}")?;
        }
        if let Some(s) = &self.source {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

/// A malformed `source` string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceIdError {
    /// No `KIND+` prefix.
    #[error("invalid source `{source_str}`: expected `KIND+URL` (registry, sparse, git or path)")]
    MissingKind {
        /// The source string.
        source_str: String,
    },
    /// A kind cargo does not know.
    #[error("unsupported source protocol `{kind}` in `{source_str}`: expected registry, sparse, git or path")]
    UnsupportedKind {
        /// The source string.
        source_str: String,
        /// The unknown kind.
        kind: String,
    },
    /// The URL part is not a URL cargo would accept.
    #[error("invalid URL in source `{source_str}`: {reason}")]
    InvalidUrl {
        /// The source string.
        source_str: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A malformed package reference (`NAME VERSION (SOURCE)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageRefError {
    /// The third part is not `(SOURCE)`.
    #[error("invalid package reference `{text}`: expected `NAME VERSION (SOURCE)`")]
    UnparenthesizedSource {
        /// The reference text.
        text: String,
    },
    /// The source inside the parentheses is malformed.
    #[error("invalid package reference `{text}`: {reason}")]
    Source {
        /// The reference text.
        text: String,
        /// The source error.
        #[source]
        reason: Box<SourceIdError>,
    },
}

/// A `Cargo.lock` cargo would not accept (or that this crate refuses to
/// trust, see [`LockfileError::InvalidName`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockfileError {
    /// The file is not UTF-8.
    #[error("`{path}` is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Lock file path.
        path: String,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The file is not TOML.
    #[error("`{path}` is not valid TOML: {message}")]
    Toml {
        /// Lock file path.
        path: String,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// A `version` this reader (and stable cargo) does not understand.
    #[error("`{path}`: lock file `version = {found}` is not understood; expected 3 or 4 (or no version key for formats 1 and 2)")]
    UnsupportedVersion {
        /// Lock file path.
        path: String,
        /// The value found.
        found: String,
    },
    /// A key holds the wrong TOML type.
    #[error("`{path}`: {location}: `{key}` must be {expected}, found {found}")]
    WrongType {
        /// Lock file path.
        path: String,
        /// Where: `top level`, `package #N` or `package #N (`name`)`.
        location: String,
        /// The key.
        key: String,
        /// The expected type.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// A required key is missing.
    #[error("`{path}`: {location}: missing `{key}`")]
    MissingKey {
        /// Lock file path.
        path: String,
        /// Where the key is missing.
        location: String,
        /// The key.
        key: &'static str,
    },
    /// A package name unusable as a registry crate name or file name.
    #[error("`{path}`: package #{index} `{name}`: invalid package name: {reason}")]
    InvalidName {
        /// Lock file path.
        path: String,
        /// 1-based position in the file.
        index: usize,
        /// The name.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A package version that is not semver.
    #[error("`{path}`: package `{name}`: version `{version}` is not a valid semver version")]
    InvalidVersion {
        /// Lock file path.
        path: String,
        /// Package name.
        name: String,
        /// The version string.
        version: String,
    },
    /// A malformed `source`.
    #[error("`{path}`: package `{name} {version}`: {reason}")]
    InvalidSource {
        /// Lock file path.
        path: String,
        /// Package name.
        name: String,
        /// Package version.
        version: String,
        /// What is wrong.
        #[source]
        reason: Box<SourceIdError>,
    },
    /// A malformed `dependencies` or `replace` entry.
    #[error("`{path}`: package `{name} {version}`: `{key}` entry: {reason}")]
    InvalidReference {
        /// Lock file path.
        path: String,
        /// Package name.
        name: String,
        /// Package version.
        version: String,
        /// `dependencies` or `replace`.
        key: &'static str,
        /// What is wrong.
        #[source]
        reason: Box<PackageRefError>,
    },
    /// A malformed `[metadata]` checksum key.
    #[error("`{path}`: invalid `[metadata]` checksum key `{key}`: {reason}")]
    InvalidMetadataKey {
        /// Lock file path.
        path: String,
        /// The key.
        key: String,
        /// What is wrong.
        #[source]
        reason: Box<PackageRefError>,
    },
    /// The same package (name, version, source) listed twice.
    #[error("`{path}`: package `{name} {version}`{} is listed twice", source_id.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())]
    DuplicatePackage {
        /// Lock file path.
        path: String,
        /// Package name.
        name: String,
        /// Package version.
        version: String,
        /// Package source, if any.
        source_id: Option<String>,
    },
}

/// Parses `Cargo.lock` text; see the module documentation.
pub fn parse_lockfile(path: &str, text: &str) -> Result<Lockfile, LockfileError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| LockfileError::Toml {
        path: path.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let wrong_type =
        |location: &str, key: &str, expected: &'static str, v: &Value| LockfileError::WrongType {
            path: path.to_string(),
            location: location.to_string(),
            key: key.to_string(),
            expected,
            found: v.type_str(),
        };

    // Explicit version: only 3 and 4 are accepted, like stable cargo.
    let mut version: u32 = match doc.get("version") {
        None => 1,
        Some(Value::Integer(3)) => 3,
        Some(Value::Integer(4)) => 4,
        Some(Value::Integer(n)) => {
            return Err(LockfileError::UnsupportedVersion {
                path: path.to_string(),
                found: n.to_string(),
            })
        }
        Some(v) => return Err(wrong_type("top level", "version", "an integer", v)),
    };

    let mut raw_packages: Vec<&toml::Table> = Vec::new();
    if let Some(root) = doc.get("root") {
        match root {
            Value::Table(t) => raw_packages.push(t),
            v => return Err(wrong_type("top level", "root", "a table", v)),
        }
    }
    match doc.get("package") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Table(t) => raw_packages.push(t),
                    v => {
                        return Err(wrong_type(
                            &format!("package #{}", i + 1),
                            "package",
                            "a table",
                            v,
                        ))
                    }
                }
            }
        }
        Some(v) => return Err(wrong_type("top level", "package", "an array of tables", v)),
    }
    let metadata: Vec<(&String, &String)> = match doc.get("metadata") {
        None => Vec::new(),
        Some(Value::Table(t)) => {
            let mut out = Vec::with_capacity(t.len());
            for (k, v) in t {
                match v {
                    Value::String(s) => out.push((k, s)),
                    v => return Err(wrong_type("[metadata]", k, "a string", v)),
                }
            }
            out
        }
        Some(v) => return Err(wrong_type("top level", "metadata", "a table", v)),
    };

    // Packages.
    let mut packages: Vec<LockedPackage> = Vec::with_capacity(raw_packages.len());
    // Inline checksums, by package index; `Some(None)` = marked `<none>`.
    let mut checksums: Vec<Option<Option<String>>> = Vec::with_capacity(raw_packages.len());
    for (i, table) in raw_packages.iter().enumerate() {
        let (package, inline_checksum) = parse_package(path, i + 1, table)?;
        if inline_checksum.is_some() {
            version = version.max(2);
        }
        checksums.push(inline_checksum.map(Some));
        packages.push(package);
    }

    // Duplicates, and the lookup map cargo uses to resolve references:
    // name -> version -> [(canonical source key, package index)].
    let mut map: LookupMap<'_> = BTreeMap::new();
    for (idx, p) in packages.iter().enumerate() {
        let key = p.source.as_ref().map(SourceId::canonical_key);
        let slot = map
            .entry(p.name.as_str())
            .or_default()
            .entry(p.version.as_str())
            .or_default();
        if slot.iter().any(|(k, _)| *k == key) {
            return Err(LockfileError::DuplicatePackage {
                path: path.to_string(),
                name: p.name.clone(),
                version: p.version.clone(),
                source_id: p.source.as_ref().map(ToString::to_string),
            });
        }
        slot.push((key, idx));
    }

    // Resolving references may reveal the v2 format (an edge without version
    // or without source that cargo had to infer).
    for p in &packages {
        for dep in p.dependencies.iter().chain(p.replace.iter()) {
            let _ = lookup(&map, dep, &mut version);
        }
    }

    // v1 `[metadata]` checksums.
    let mut saw_metadata_checksums = false;
    for (key, value) in metadata {
        let Some(rest) = key.strip_prefix("checksum ") else {
            continue;
        };
        saw_metadata_checksums = true;
        let reference = PackageRef::parse(rest).map_err(|e| LockfileError::InvalidMetadataKey {
            path: path.to_string(),
            key: key.clone(),
            reason: Box::new(e),
        })?;
        let Some(idx) = lookup(&map, &reference, &mut version) else {
            continue;
        };
        if let Some(slot) = checksums.get_mut(idx) {
            *slot = Some(if value == "<none>" {
                None
            } else {
                Some(value.clone())
            });
        }
    }
    let checksums_discarded = saw_metadata_checksums && version >= 2;

    // A one-package file ending in a single newline is v2 (cargo's rule for
    // files that carry no other format marker).
    if text.ends_with('\n') && !text.ends_with("\n\n") && version == 1 && packages.len() == 1 {
        version = 2;
    }

    if !checksums_discarded {
        for (p, c) in packages.iter_mut().zip(checksums) {
            match c {
                Some(Some(sum)) => p.checksum = Some(sum),
                Some(None) => p.checksum_marked_none = true,
                None => {}
            }
        }
    }

    Ok(Lockfile {
        version,
        packages,
        checksums_discarded,
    })
}

type LookupMap<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<(Option<(u8, String)>, usize)>>>;

/// cargo's reference resolution: find the package a reference names, bumping
/// the detected format to v2 where only v2 leaves information out.
fn lookup(map: &LookupMap<'_>, reference: &PackageRef, version: &mut u32) -> Option<usize> {
    let by_version = map.get(reference.name.as_str())?;
    let by_source = match &reference.version {
        Some(v) => by_version.get(v.as_str())?,
        None => {
            *version = (*version).max(2);
            if by_version.len() == 1 {
                by_version.values().next()?
            } else {
                return None;
            }
        }
    };
    match &reference.source {
        Some(source) => {
            let key = Some(source.canonical_key());
            by_source.iter().find(|(k, _)| *k == key).map(|(_, i)| *i)
        }
        None => {
            let mut paths = by_source.iter().filter(|(k, _)| k.is_none());
            if let Some((_, first)) = paths.next() {
                if paths.next().is_some() {
                    return None;
                }
                Some(*first)
            } else if by_source.len() == 1 {
                *version = (*version).max(2);
                by_source.first().map(|(_, i)| *i)
            } else {
                None
            }
        }
    }
}

fn parse_package(
    path: &str,
    index: usize,
    table: &toml::Table,
) -> Result<(LockedPackage, Option<String>), LockfileError> {
    let location = |name: Option<&str>| match name {
        Some(n) => format!("package #{index} (`{n}`)"),
        None => format!("package #{index}"),
    };
    let get_str =
        |key: &'static str, name: Option<&str>| -> Result<Option<&String>, LockfileError> {
            match table.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(v) => Err(LockfileError::WrongType {
                    path: path.to_string(),
                    location: location(name),
                    key: key.to_string(),
                    expected: "a string",
                    found: v.type_str(),
                }),
            }
        };
    let missing = |key: &'static str, name: Option<&str>| LockfileError::MissingKey {
        path: path.to_string(),
        location: location(name),
        key,
    };

    let name = get_str("name", None)?.ok_or_else(|| missing("name", None))?;
    let version = get_str("version", Some(name))?.ok_or_else(|| missing("version", Some(name)))?;
    let source_str = get_str("source", Some(name))?;
    let checksum = get_str("checksum", Some(name))?.cloned();
    let replace_str = get_str("replace", Some(name))?;

    if !is_valid_semver(version) {
        return Err(LockfileError::InvalidVersion {
            path: path.to_string(),
            name: name.clone(),
            version: version.clone(),
        });
    }
    let source = match source_str {
        Some(s) => Some(
            SourceId::parse(s).map_err(|e| LockfileError::InvalidSource {
                path: path.to_string(),
                name: name.clone(),
                version: version.clone(),
                reason: Box::new(e),
            })?,
        ),
        None => None,
    };
    let registry = source.as_ref().is_some_and(SourceId::is_registry);
    if let Err(reason) = check_package_name(name, registry) {
        return Err(LockfileError::InvalidName {
            path: path.to_string(),
            index,
            name: name.clone(),
            reason,
        });
    }

    let invalid_ref = |key: &'static str, e: PackageRefError| LockfileError::InvalidReference {
        path: path.to_string(),
        name: name.clone(),
        version: version.clone(),
        key,
        reason: Box::new(e),
    };
    let mut dependencies = Vec::new();
    match table.get("dependencies") {
        None => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => dependencies
                        .push(PackageRef::parse(s).map_err(|e| invalid_ref("dependencies", e))?),
                    v => {
                        return Err(LockfileError::WrongType {
                            path: path.to_string(),
                            location: location(Some(name)),
                            key: "dependencies".to_string(),
                            expected: "an array of strings",
                            found: v.type_str(),
                        })
                    }
                }
            }
        }
        Some(v) => {
            return Err(LockfileError::WrongType {
                path: path.to_string(),
                location: location(Some(name)),
                key: "dependencies".to_string(),
                expected: "an array of strings",
                found: v.type_str(),
            })
        }
    }
    let replace = match replace_str {
        Some(s) => Some(PackageRef::parse(s).map_err(|e| invalid_ref("replace", e))?),
        None => None,
    };

    Ok((
        LockedPackage {
            name: name.clone(),
            version: version.clone(),
            source,
            checksum: None,
            checksum_marked_none: false,
            dependencies,
            replace,
        },
        checksum,
    ))
}

/// Registry names: the ASCII characters registries accept. Other names: no
/// empty names, separators, whitespace or control characters.
fn check_package_name(name: &str, registry: bool) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if registry {
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(
                "registry package names may contain only ASCII letters, digits, `-` and `_`",
            );
        }
        return Ok(());
    }
    if name == "." || name == ".." {
        return Err("the name is a relative path component");
    }
    if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_whitespace() || c.is_control())
    {
        return Err(
            "package names may not contain path separators, whitespace or control characters",
        );
    }
    Ok(())
}

/// True when `s` is a semver 2.0 version as the `semver` crate (and so cargo)
/// parses it: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, numeric parts without
/// leading zeros and fitting in 64 bits.
pub(crate) fn is_valid_semver(s: &str) -> bool {
    let (rest, build) = match s.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (s, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |n: &str| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && (n == "0" || !n.starts_with('0'))
            && n.parse::<u64>().is_ok()
    };
    let ident_chars =
        |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let mut parts = core.split('.');
    let (Some(major), Some(minor), Some(patch), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if !(numeric(major) && numeric(minor) && numeric(patch)) {
        return false;
    }
    if let Some(pre) = pre {
        for id in pre.split('.') {
            if !ident_chars(id) {
                return false;
            }
            if id.bytes().all(|b| b.is_ascii_digit()) && id != "0" && id.starts_with('0') {
                return false;
            }
        }
    }
    if let Some(build) = build {
        if !build.split('.').all(ident_chars) {
            return false;
        }
    }
    true
}

/// Checks that `url` is an absolute URL with a hierarchical part (what cargo
/// accepts: a scheme, then `/`), without whitespace or control characters.
pub(crate) fn check_url(url: &str) -> Result<(), &'static str> {
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err("missing `scheme:`");
    };
    let mut chars = scheme.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err("invalid scheme");
    }
    if !rest.starts_with('/') {
        return Err("expected `scheme://...` or `scheme:/path`");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("URLs may not contain whitespace or control characters");
    }
    if let Some(after) = rest.strip_prefix("//") {
        let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        if host.is_empty() && scheme != "file" {
            return Err("missing host");
        }
    }
    Ok(())
}

/// Whether the URL's user information carries a password.
pub(crate) fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.contains(':'),
        None => false,
    }
}

/// The host of a URL as written (letter case kept), if it has one.
pub(crate) fn url_host(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let hostport = authority.rsplit('@').next().unwrap_or_default();
    let host = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => &hostport[..=end],
            None => hostport,
        }
    } else {
        hostport.split(':').next().unwrap_or_default()
    };
    (!host.is_empty()).then_some(host)
}

/// The normalisation a URL parser applies that matters for comparing index
/// URLs: lower-case scheme and host, no default port, `/` for an empty path.
pub(crate) fn normalize_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once(':') else {
        return url.to_string();
    };
    let scheme = scheme.to_ascii_lowercase();
    let Some(after) = rest.strip_prefix("//") else {
        return format!("{scheme}:{rest}");
    };
    let split_at = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(split_at);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if hostport.starts_with('[') {
        match hostport.split_once(']') {
            Some((h, p)) => (format!("{h}]"), p.strip_prefix(':')),
            None => (hostport.to_string(), None),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    let host = host.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        _ => None,
    };
    let port = port.filter(|p| !p.is_empty() && Some(*p) != default_port);
    let tail = if tail.is_empty() || tail.starts_with(['?', '#']) {
        format!("/{tail}")
    } else {
        tail.to_string()
    };
    let mut out = format!("{scheme}://");
    if let Some(u) = userinfo {
        out.push_str(u);
        out.push('@');
    }
    out.push_str(&host);
    if let Some(p) = port {
        out.push(':');
        out.push_str(p);
    }
    out.push_str(&tail);
    out
}

/// cargo's canonical URL used to compare sources: [`normalize_url`], then a
/// trailing slash removed; for URLs whose scheme has no `+` also a `.git`
/// suffix removed and, on github.com, `https` and a lower-cased path.
pub(crate) fn canonical_url(url: &str) -> String {
    let normalized = normalize_url(url);
    let Some((scheme, rest)) = normalized.split_once("://") else {
        return normalized;
    };
    let split_at = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split_at);
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, suffix) = tail.split_at(path_end);
    let mut scheme = scheme.to_string();
    let mut path = path.to_string();
    if path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    if !scheme.contains('+') {
        let host = authority.rsplit('@').next().unwrap_or_default();
        if host == "github.com" {
            scheme = "https".to_string();
            path = path.to_lowercase();
        }
        if let Some(stripped) = path.strip_suffix(".git") {
            path = stripped.to_string();
        }
    }
    format!("{scheme}://{authority}{path}{suffix}")
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space); invalid
/// escapes are kept literally, invalid UTF-8 is replaced.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = include_str!("../tests/fixtures/lockfiles/v1.lock");
    const V2: &str = include_str!("../tests/fixtures/lockfiles/v2.lock");
    const V3: &str = include_str!("../tests/fixtures/lockfiles/v3.lock");
    const V4: &str = include_str!("../tests/fixtures/lockfiles/v4.lock");

    const ITOA_04: &str = "b71991ff56294aa922b450139ee08b3bfc70982c6b2c7562771375cf73542dd4";
    const ITOA_1: &str = "3bd1574e617a9a6c1f8f8181bd7e841e1f20e4277607ef28945765188d6284d4";
    const SEMVER_RC: &str = "0be1e3e83dbbfaeb7ffdee0515ca6317086c0edce7c0b08328e3964daf2d4861";
    const CIO: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn parse(text: &str) -> Lockfile {
        match Lockfile::parse("Cargo.lock", text) {
            Ok(l) => l,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn parse_err(text: &str) -> LockfileError {
        match Lockfile::parse("some/Cargo.lock", text) {
            Ok(l) => panic!("expected an error, got {l:?}"),
            Err(e) => e,
        }
    }

    fn pkg<'a>(l: &'a Lockfile, name: &str, version: &str) -> &'a LockedPackage {
        l.packages
            .iter()
            .find(|p| p.name == name && p.version == version)
            .unwrap_or_else(|| panic!("{name} {version} missing"))
    }

    /// The four fixtures were written by cargo 1.95 for one project (crates.io
    /// packages, two versions of one crate, a workspace member, a git
    /// dependency on branch `dev+1`), the format chosen with
    /// `package.rust-version`; only the git URL was rewritten.
    fn check_fixture(l: &Lockfile) {
        assert_eq!(l.packages.len(), 6);
        assert!(!l.checksums_discarded);
        assert_eq!(pkg(l, "itoa", "0.4.8").checksum.as_deref(), Some(ITOA_04));
        assert_eq!(pkg(l, "itoa", "1.0.19").checksum.as_deref(), Some(ITOA_1));
        assert_eq!(
            pkg(l, "semver", "1.0.0-rc.1").checksum.as_deref(),
            Some(SEMVER_RC)
        );
        for (n, v) in [
            ("itoa", "0.4.8"),
            ("itoa", "1.0.19"),
            ("semver", "1.0.0-rc.1"),
        ] {
            let p = pkg(l, n, v);
            assert_eq!(p.source, Some(SourceId::crates_io()));
            assert!(p.source.as_ref().is_some_and(SourceId::is_crates_io));
            assert!(p.is_registry());
        }
        let app = pkg(l, "app", "0.1.0");
        assert_eq!(app.source, None);
        assert_eq!(app.checksum, None);
        assert_eq!(app.dependencies.len(), 5);
        let member = pkg(l, "member", "0.3.0");
        assert_eq!(member.source, None);
        let git = pkg(l, "gitdep", "0.2.0");
        assert_eq!(git.checksum, None);
        assert!(!git.is_registry());
        let Some(SourceId::Git { url, precise, .. }) = &git.source else {
            panic!("gitdep source {:?}", git.source);
        };
        assert_eq!(url, "https://git.example.com/gitdep");
        assert_eq!(
            precise.as_deref(),
            Some("4df539381b208f657b7786e9fe34fa0e1714e682")
        );
        assert_eq!(l.registry_packages().count(), 3);
    }

    #[test]
    fn fixture_v1() {
        let l = parse(V1);
        assert_eq!(l.version, 1);
        check_fixture(&l);
        let git = pkg(&l, "gitdep", "0.2.0");
        assert!(git.checksum_marked_none, "`<none>` in [metadata]");
        let app = pkg(&l, "app", "0.1.0");
        assert_eq!(
            app.dependencies[1].to_string(),
            format!("itoa 0.4.8 ({CIO})")
        );
        assert_eq!(app.dependencies[3].to_string(), "member 0.3.0");
    }

    #[test]
    fn fixture_v2() {
        let l = parse(V2);
        assert_eq!(l.version, 2);
        check_fixture(&l);
        assert!(!pkg(&l, "gitdep", "0.2.0").checksum_marked_none);
        let app = pkg(&l, "app", "0.1.0");
        assert_eq!(
            app.dependencies[0],
            PackageRef {
                name: "gitdep".into(),
                version: None,
                source: None
            }
        );
        assert_eq!(app.dependencies[1].version.as_deref(), Some("0.4.8"));
    }

    #[test]
    fn fixture_v3_and_v4_git_query_encoding() {
        let l3 = parse(V3);
        assert_eq!(l3.version, 3);
        check_fixture(&l3);
        let l4 = parse(V4);
        assert_eq!(l4.version, 4);
        check_fixture(&l4);
        let g3 = pkg(&l3, "gitdep", "0.2.0").source.clone();
        let g4 = pkg(&l4, "gitdep", "0.2.0").source.clone();
        let (Some(g3), Some(g4)) = (g3, g4) else {
            panic!("git sources missing")
        };
        // v3 wrote the branch raw, v4 percent-encodes it.
        assert!(g3.to_string().contains("?branch=dev+1#"));
        assert!(g4.to_string().contains("?branch=dev%2B1#"));
        assert_eq!(
            g4.git_reference(),
            Some(GitReference::Branch("dev+1".into()))
        );
        // Form decoding of the v3 spelling reads `+` as a space, as cargo does.
        assert_eq!(
            g3.git_reference(),
            Some(GitReference::Branch("dev 1".into()))
        );
        assert!(g3.same_source(&g3));
    }

    #[test]
    fn display_round_trips_every_fixture_source() {
        for text in [V1, V2, V3, V4] {
            let l = parse(text);
            for p in &l.packages {
                if let Some(s) = &p.source {
                    let shown = s.to_string();
                    assert!(text.contains(&format!("source = \"{shown}\"")), "{shown}");
                    assert_eq!(SourceId::parse(&shown).as_ref(), Ok(s));
                }
            }
        }
    }

    #[test]
    fn real_cargo_v4_minimal() {
        let text = "# This file is automatically @generated by Cargo.\n\
# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"exp\"\n\
version = \"0.1.0\"\ndependencies = [\n \"itoa\",\n]\n\n[[package]]\nname = \"itoa\"\n\
version = \"1.0.19\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
checksum = \"3bd1574e617a9a6c1f8f8181bd7e841e1f20e4277607ef28945765188d6284d4\"\n";
        let l = parse(text);
        assert_eq!(l.version, 4);
        assert_eq!(l.packages.len(), 2);
        assert_eq!(pkg(&l, "itoa", "1.0.19").checksum.as_deref(), Some(ITOA_1));
    }

    #[test]
    fn v1_root_table_is_first_package() {
        let text = r#"
[root]
name = "foo"
version = "0.0.1"
dependencies = [
 "bar 0.1.0 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "bar"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let l = parse(text);
        assert_eq!(l.version, 1);
        assert_eq!(l.packages[0].name, "foo");
        assert_eq!(l.packages[1].name, "bar");
        assert_eq!(l.packages[1].checksum, None);
        assert!(!l.packages[1].checksum_marked_none);
    }

    #[test]
    fn metadata_checksums_for_unknown_packages_are_ignored() {
        // cargo's `totally_wild_checksums_works`.
        let text = r#"
[[package]]
name = "foo"
version = "0.0.1"
dependencies = [
 "bar 0.1.0 (registry+https://github.com/rust-lang/crates.io-index)",
]

[[package]]
name = "bar"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[metadata]
"checksum baz 0.1.2 (registry+https://github.com/rust-lang/crates.io-index)" = "checksum"
"checksum bar 0.1.2 (registry+https://github.com/rust-lang/crates.io-index)" = "checksum"
"#;
        let l = parse(text);
        assert_eq!(l.version, 1);
        assert_eq!(pkg(&l, "bar", "0.1.0").checksum, None);
    }

    #[test]
    fn metadata_checksum_kept_verbatim_even_if_malformed() {
        let text = r#"
[[package]]
name = "bar"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "foo"
version = "0.0.1"

[metadata]
"checksum bar 0.1.0 (registry+https://github.com/rust-lang/crates.io-index)" = "checksum"
"other key" = "ignored"
"#;
        let l = parse(text);
        assert_eq!(l.version, 1);
        assert_eq!(
            pkg(&l, "bar", "0.1.0").checksum.as_deref(),
            Some("checksum")
        );
    }

    #[test]
    fn mixed_inline_and_metadata_checksums_are_discarded() {
        let text = format!(
            r#"
[[package]]
name = "bar"
version = "0.1.0"
source = "{CIO}"
checksum = "{ITOA_1}"

[[package]]
name = "baz"
version = "0.2.0"
source = "{CIO}"

[metadata]
"checksum baz 0.2.0 ({CIO})" = "{ITOA_04}"
"#
        );
        let l = parse(&text);
        assert_eq!(l.version, 2);
        assert!(l.checksums_discarded);
        assert!(l.packages.iter().all(|p| p.checksum.is_none()));

        // The same with an explicit version 3.
        let l = parse(&format!("version = 3\n{text}"));
        assert_eq!(l.version, 3);
        assert!(l.checksums_discarded);
        assert!(l.packages.iter().all(|p| p.checksum.is_none()));
    }

    #[test]
    fn single_package_single_trailing_newline_is_v2() {
        let one = "[[package]]\nname = \"foo\"\nversion = \"0.1.0\"\n";
        assert_eq!(parse(one).version, 2);
        assert_eq!(parse(&format!("{one}\n")).version, 1);
        assert_eq!(parse(one.trim_end()).version, 1);
        let two = format!("{one}\n[[package]]\nname = \"bar\"\nversion = \"0.1.0\"\n");
        assert_eq!(parse(&two).version, 1);
    }

    #[test]
    fn abbreviated_dependency_means_v2() {
        let text = r#"
[[package]]
name = "foo"
version = "0.0.1"
dependencies = ["bar"]

[[package]]
name = "bar"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

"#;
        assert_eq!(parse(text).version, 2);
        // Version given but source left out (only one candidate, not a path
        // package): also only v2 writes that.
        let text = text.replace("[\"bar\"]", "[\"bar 0.1.0\"]");
        assert_eq!(parse(&text).version, 2);
    }

    #[test]
    fn dependency_on_path_package_without_source_stays_v1() {
        let text = r#"
[[package]]
name = "foo"
version = "0.0.1"
dependencies = ["bar 0.1.0"]

[[package]]
name = "bar"
version = "0.1.0"

"#;
        assert_eq!(parse(text).version, 1);
    }

    #[test]
    fn explicit_versions() {
        let body = "\n[[package]]\nname = \"foo\"\nversion = \"0.1.0\"\n\n";
        assert_eq!(parse(&format!("version = 3{body}")).version, 3);
        assert_eq!(parse(&format!("version = 4{body}")).version, 4);
        for bad in ["1", "2", "5", "-1", "4294967299"] {
            match parse_err(&format!("version = {bad}{body}")) {
                LockfileError::UnsupportedVersion { path, found } => {
                    assert_eq!(path, "some/Cargo.lock");
                    assert_eq!(found, bad);
                }
                e => panic!("{bad}: {e}"),
            }
        }
        match parse_err(&format!("version = \"4\"{body}")) {
            LockfileError::WrongType {
                key,
                expected,
                found,
                ..
            } => {
                assert_eq!(key, "version");
                assert_eq!(expected, "an integer");
                assert_eq!(found, "string");
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn empty_lockfile() {
        let l = parse("version = 4\n");
        assert!(l.packages.is_empty());
        assert_eq!(parse("").version, 1);
    }

    #[test]
    fn sparse_and_alternative_registries() {
        let text = r#"version = 4

[[package]]
name = "a"
version = "1.0.0"
source = "sparse+https://my-registry.example.com/index/"
checksum = "00"

[[package]]
name = "b"
version = "1.0.0"
source = "registry+https://git.example.com/index.git"

[[package]]
name = "c"
version = "1.0.0"
source = "sparse+https://index.crates.io/"
"#;
        let l = parse(text);
        let a = pkg(&l, "a", "1.0.0");
        assert_eq!(
            a.source,
            Some(SourceId::Sparse {
                url: "https://my-registry.example.com/index/".into()
            })
        );
        assert_eq!(
            a.source.as_ref().map(SourceId::url),
            Some("https://my-registry.example.com/index/")
        );
        assert!(!a.source.as_ref().is_some_and(SourceId::is_crates_io));
        let b = pkg(&l, "b", "1.0.0");
        assert!(b.is_registry());
        assert!(!b.source.as_ref().is_some_and(SourceId::is_crates_io));
        let c = pkg(&l, "c", "1.0.0");
        assert!(c.source.as_ref().is_some_and(SourceId::is_crates_io));
        assert_eq!(l.registry_packages().count(), 3);
    }

    #[test]
    fn errors_name_file_package_and_expectation() {
        let bad_version = "[[package]]\nname = \"foo\"\nversion = \"1.0\"\n";
        let e = parse_err(bad_version);
        assert!(
            matches!(&e, LockfileError::InvalidVersion { name, version, .. } if name == "foo" && version == "1.0")
        );
        let msg = e.to_string();
        assert!(
            msg.contains("some/Cargo.lock") && msg.contains("foo") && msg.contains("semver"),
            "{msg}"
        );

        let bad_source =
            "[[package]]\nname = \"foo\"\nversion = \"1.0.0\"\nsource = \"svn+https://x/\"\n";
        let e = parse_err(bad_source);
        assert!(
            matches!(&e, LockfileError::InvalidSource { name, reason, .. } if name == "foo" && matches!(&**reason, SourceIdError::UnsupportedKind { kind, .. } if kind == "svn"))
        );
        assert!(e.to_string().contains("some/Cargo.lock"));

        let missing_name = "[[package]]\nversion = \"1.0.0\"\n";
        assert!(matches!(
            parse_err(missing_name),
            LockfileError::MissingKey { key: "name", .. }
        ));
        let missing_version = "[[package]]\nname = \"foo\"\n";
        let e = parse_err(missing_version);
        assert!(
            matches!(&e, LockfileError::MissingKey { key: "version", location, .. } if location.contains("foo"))
        );

        let wrong_deps =
            "[[package]]\nname = \"foo\"\nversion = \"1.0.0\"\ndependencies = \"bar\"\n";
        assert!(
            matches!(parse_err(wrong_deps), LockfileError::WrongType { key, .. } if key == "dependencies")
        );
        let wrong_dep_item =
            "[[package]]\nname = \"foo\"\nversion = \"1.0.0\"\ndependencies = [1]\n";
        assert!(
            matches!(parse_err(wrong_dep_item), LockfileError::WrongType { key, .. } if key == "dependencies")
        );
        let bad_dep = "[[package]]\nname = \"foo\"\nversion = \"1.0.0\"\ndependencies = [\"bar 1.0.0 registry+https://x/\"]\n";
        assert!(matches!(
            parse_err(bad_dep),
            LockfileError::InvalidReference {
                key: "dependencies",
                ..
            }
        ));
        let bad_replace =
            "[[package]]\nname = \"foo\"\nversion = \"1.0.0\"\nreplace = \"bar 1.0.0 (nope)\"\n";
        assert!(matches!(
            parse_err(bad_replace),
            LockfileError::InvalidReference { key: "replace", .. }
        ));
        let bad_meta = "[[package]]\nname = \"foo\"\nversion = \"1.0.0\"\n[metadata]\n\"checksum foo 1.0.0 nope\" = \"x\"\n";
        assert!(matches!(
            parse_err(bad_meta),
            LockfileError::InvalidMetadataKey { .. }
        ));
        let meta_not_string = "[metadata]\nx = 1\n";
        assert!(matches!(
            parse_err(meta_not_string),
            LockfileError::WrongType { .. }
        ));
        let pkg_not_table = "package = [1]\n";
        assert!(matches!(
            parse_err(pkg_not_table),
            LockfileError::WrongType { .. }
        ));
        let pkg_not_array = "package = 1\n";
        assert!(matches!(
            parse_err(pkg_not_array),
            LockfileError::WrongType { .. }
        ));
        let checksum_not_string =
            "[[package]]\nname = \"foo\"\nversion = \"1.0.0\"\nchecksum = 5\n";
        assert!(
            matches!(parse_err(checksum_not_string), LockfileError::WrongType { key, .. } if key == "checksum")
        );
        assert!(matches!(
            parse_err("[[package]\n"),
            LockfileError::Toml { .. }
        ));
        assert!(matches!(
            Lockfile::parse_bytes("x", b"version = 4\n\xff"),
            Err(LockfileError::NotUtf8 { offset: 12, .. })
        ));
    }

    #[test]
    fn duplicate_packages_rejected() {
        let text = format!(
            "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CIO}\"\n\n\
[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CIO}/\"\n"
        );
        assert!(
            matches!(parse_err(&text), LockfileError::DuplicatePackage { name, .. } if name == "a")
        );
        // Same name and version from different sources is fine.
        let ok = format!(
            "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CIO}\"\n\n\
[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"sparse+https://other.example/\"\n"
        );
        assert_eq!(parse(&ok).packages.len(), 2);
    }

    #[test]
    fn registry_names_are_restricted() {
        for bad in ["../evil", "a/b", "a b", "", "é"] {
            let text =
                format!("[[package]]\nname = \"{bad}\"\nversion = \"1.0.0\"\nsource = \"{CIO}\"\n");
            assert!(
                matches!(parse_err(&text), LockfileError::InvalidName { .. }),
                "{bad:?}"
            );
        }
        // Path packages may use any name cargo allows, but not separators.
        let ok = "[[package]]\nname = \"héllo_wörld\"\nversion = \"1.0.0\"\n";
        assert_eq!(parse(ok).packages.len(), 1);
        let bad = "[[package]]\nname = \"..\"\nversion = \"1.0.0\"\n";
        assert!(matches!(parse_err(bad), LockfileError::InvalidName { .. }));
    }

    #[test]
    fn source_id_parsing() {
        let ok = [
            (CIO, SourceId::crates_io()),
            (
                "sparse+https://index.crates.io/",
                SourceId::Sparse {
                    url: CRATES_IO_SPARSE_INDEX.into(),
                },
            ),
            (
                "git+https://github.com/rust-lang/cargo?rev=refs/pull/493/head#abc",
                SourceId::Git {
                    url: "https://github.com/rust-lang/cargo".into(),
                    query: Some("rev=refs/pull/493/head".into()),
                    precise: Some("abc".into()),
                },
            ),
            (
                "git+ssh://git@example.com/repo.git",
                SourceId::Git {
                    url: "ssh://git@example.com/repo.git".into(),
                    query: None,
                    precise: None,
                },
            ),
            (
                "path+file:///path/to/root",
                SourceId::Path {
                    url: "file:///path/to/root".into(),
                },
            ),
        ];
        for (text, expected) in ok {
            let parsed = SourceId::parse(text);
            assert_eq!(parsed.as_ref(), Ok(&expected), "{text}");
            assert_eq!(expected.to_string(), text);
        }
        let bad = [
            "https://github.com/rust-lang/crates.io-index",
            "unknown+https://x/",
            "registry+https//github.com/rust-lang/crates.io-index",
            "registry+",
            "registry+github.com:foo/bar",
            "sparse+https://exa mple.com/",
            "registry+1http://x/",
            "registry+https://",
            "git+https://x/\n",
        ];
        for text in bad {
            assert!(SourceId::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn crates_io_detection() {
        assert!(SourceId::crates_io().is_crates_io());
        assert!(
            SourceId::parse("registry+HTTPS://GitHub.com/rust-lang/crates.io-index")
                .is_ok_and(|s| s.is_crates_io())
        );
        assert!(SourceId::parse("sparse+https://index.crates.io").is_ok_and(|s| s.is_crates_io()));
        assert!(
            SourceId::parse("sparse+https://index.crates.io:443/").is_ok_and(|s| s.is_crates_io())
        );
        assert!(
            !SourceId::parse("registry+https://index.crates.io/").is_ok_and(|s| s.is_crates_io())
        );
        assert!(
            !SourceId::parse("sparse+https://github.com/rust-lang/crates.io-index")
                .is_ok_and(|s| s.is_crates_io())
        );
        assert!(
            !SourceId::parse("git+https://github.com/rust-lang/crates.io-index")
                .is_ok_and(|s| s.is_crates_io())
        );
    }

    #[test]
    fn git_reference_decoding() {
        let r = |s: &str| SourceId::parse(s).ok().and_then(|s| s.git_reference());
        assert_eq!(r("git+https://x/r"), Some(GitReference::DefaultBranch));
        assert_eq!(
            r("git+https://x/r?branch=main"),
            Some(GitReference::Branch("main".into()))
        );
        assert_eq!(
            r("git+https://x/r?ref=old"),
            Some(GitReference::Branch("old".into()))
        );
        assert_eq!(
            r("git+https://x/r?tag=v1.0#abc"),
            Some(GitReference::Tag("v1.0".into()))
        );
        assert_eq!(
            r("git+https://x/r?branch=a&rev=abc%20def"),
            Some(GitReference::Rev("abc def".into()))
        );
        assert_eq!(
            r("git+https://x/r?branch=%zz%4"),
            Some(GitReference::Branch("%zz%4".into()))
        );
        assert_eq!(
            r("git+https://x/r?branch=%e2%82%ac"),
            Some(GitReference::Branch("€".into()))
        );
        assert_eq!(r("registry+https://x/"), None);
    }

    #[test]
    fn package_ref_parsing() {
        let p = PackageRef::parse("foo").ok();
        assert_eq!(
            p.map(|p| (p.name, p.version, p.source)),
            Some(("foo".into(), None, None))
        );
        let p = PackageRef::parse(&format!("foo 1.0.0 ({CIO})")).ok();
        assert_eq!(p.and_then(|p| p.source), Some(SourceId::crates_io()));
        assert!(PackageRef::parse("foo 1.0.0 (x)").is_err());
        assert!(PackageRef::parse("foo 1.0.0 registry+https://x/").is_err());
        assert!(PackageRef::parse("foo  1.0.0").is_err());
        assert!(PackageRef::parse("").is_ok_and(|p| p.name.is_empty()));
    }

    #[test]
    fn semver_validation() {
        for ok in [
            "0.0.0",
            "1.2.3",
            "1.0.0-rc.1",
            "1.0.0-alpha-1",
            "1.0.0-0",
            "1.0.0+build.01",
            "110.0.0+1.1.0f",
            "1.0.0-x.7.z.92+meta-data",
            "18446744073709551615.0.0",
        ] {
            assert!(is_valid_semver(ok), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.00.0",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-01",
            "1.0.0-a..b",
            "1.0.0-a_b",
            "1.0.0+a+b",
            " 1.0.0",
            "1.0.0 ",
            "v1.0.0",
            "18446744073709551616.0.0",
            "1.0.0-é",
        ] {
            assert!(!is_valid_semver(bad), "{bad}");
        }
    }

    #[test]
    fn canonical_urls() {
        let c = canonical_url;
        assert_eq!(
            c("https://github.com/Rust-Lang/Crates.io-Index.git/"),
            c(CRATES_IO_INDEX)
        );
        assert_eq!(
            c("git://github.com/rust-lang/crates.io-index"),
            c(CRATES_IO_INDEX)
        );
        assert_eq!(
            c("https://example.com/index/"),
            c("https://EXAMPLE.com:443/index")
        );
        assert_ne!(
            c("https://example.com/Index"),
            c("https://example.com/index")
        );
        assert_eq!(
            c("sparse+https://index.crates.io/"),
            c("sparse+https://index.crates.io")
        );
        // `.git` is only stripped for git-style URLs.
        assert_ne!(
            c("sparse+https://x.example/i.git"),
            c("sparse+https://x.example/i")
        );
        assert_eq!(normalize_url("https://x.example"), "https://x.example/");
        assert_eq!(
            normalize_url("https://u:p@[::1]:443/a"),
            "https://u:p@[::1]/a"
        );
        assert_eq!(normalize_url("file:///a/b"), "file:///a/b");
    }

    #[test]
    fn url_helpers() {
        assert!(url_has_password("https://user:pw@example.com/"));
        assert!(!url_has_password("https://user@example.com/"));
        assert!(!url_has_password("https://example.com/a:b@c"));
        assert_eq!(
            url_host("https://User@Example.COM:8080/x"),
            Some("Example.COM")
        );
        assert_eq!(
            url_host("sparse+https://index.crates.io/"),
            Some("index.crates.io")
        );
        assert_eq!(url_host("https://[::1]:8080/"), Some("[::1]"));
        assert_eq!(url_host("file:///x"), None);
        assert!(check_url("file:///x").is_ok());
    }

    /// Mutates the fixtures byte by byte (a cheap stand-in for the fuzz
    /// target): parsing must return, never panic.
    #[test]
    fn mutated_fixtures_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b" \n\"'=[](){}#.-+:/0123456789abcxyz<>";
        for text in [V1, V2, V3, V4] {
            for _ in 0..400 {
                let mut bytes = text.as_bytes().to_vec();
                for _ in 0..(next() % 4 + 1) {
                    let pos = (next() % bytes.len() as u64) as usize;
                    let c = alphabet[(next() % alphabet.len() as u64) as usize];
                    match next() % 3 {
                        0 => bytes[pos] = c,
                        1 => bytes.insert(pos, c),
                        _ => {
                            bytes.remove(pos);
                        }
                    }
                }
                let _ = Lockfile::parse_bytes("m", &bytes);
            }
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let samples = [
            "\0",
            "[[package]]",
            "version = 4\n[[package]]\nname = 1",
            "[root]\nname=\"a\"",
            "[metadata]\n\"checksum \" = \"x\"",
            "[metadata]\n\"checksum a\" = \"<none>\"",
            "[[package]]\nname=\"a\"\nversion=\"1.0.0\"\ndependencies=[\"\", \" \", \"a \"]",
            "[[package]]\nname=\"a\"\nversion=\"1.0.0\"\nsource=\"git+x://h/#?\"",
        ];
        for s in samples {
            let _ = Lockfile::parse("x", s);
        }
        for s in ["%", "%4", "a=%", "branch=%f", "+%+"] {
            let _ = form_decode(s);
            let _ = SourceId::parse(&format!("git+https://x/?{s}")).map(|s| s.git_reference());
        }
        for s in [
            "", ":", "a:", "a://", "a://@", "a://[", "a://[::1", "a://h:",
        ] {
            let _ = (
                normalize_url(s),
                canonical_url(s),
                url_host(s),
                url_has_password(s),
                check_url(s),
            );
        }
    }
}
