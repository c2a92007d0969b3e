//! cargo's own caches under `$CARGO_HOME/registry/`: where they are and what
//! their files contain.
//!
//! cargo keeps, per registry:
//!
//! * `registry/cache/<dir>/NAME-VERSION.crate`: every downloaded `.crate`.
//!   cargo checks a download against the index checksum once, then trusts
//!   the file forever; a file swapped later is built silently.
//! * `registry/index/<dir>/.cache/<index path>`: a pre-parsed copy of the
//!   index file for one crate (format below); cargo answers queries from it
//!   while its recorded index version is current.
//! * `registry/src/<dir>/NAME-VERSION/`: the unpacked sources cargo builds.
//!
//! `<dir>` is `HOST-HASH`: the index URL's host and a 16-hex-digit hash of
//! the source id. The hash depends on cargo's version (it changed in 1.85),
//! so this module does not compute it: [`cache_dirs_for_host`] lists every
//! directory whose name is the host followed by 16 hex digits
//! ([`registry_cache_dirs`] also gives their kinds and I/O errors), and
//! [`cache_host`] gives the host part for an index URL. (Directories of the
//! unstable shallow git index, `HOST-HASH-shallow`, are not listed.)
//!
//! # Index cache format
//!
//! Written by cargo's `SummariesCache` (cache version 3 since cargo 1.54,
//! index format version 2 since 1.52; both unchanged through 1.95):
//!
//! ```text
//! u8 cache version | u32 LE index format version | index version | 0
//! then for each version:  semver version | 0 | JSON line | 0
//! ```
//!
//! The index version is what cargo compares to decide whether the cache is
//! current: for sparse registries `etag: ...`, `last-modified: ...` or
//! `Unknown`; for git registries the commit id. [`parse_index_cache`] reads
//! exactly this layout and refuses other cache versions (cargo ignores and
//! rewrites such files).
//!
//! # File names
//!
//! `NAME-VERSION.crate` is split at the first `-` where the rest is a valid
//! semver version and the part before contains no `.`. Crate names never
//! contain `.` while every version does, so no other split is possible:
//! `foo-bar-1.0.0-rc-1.2+b-3.crate` is `foo-bar` version `1.0.0-rc-1.2+b-3`.
//!
//! Parsing functions are pure and total over their input; directory listing
//! functions report I/O errors other than a missing directory, because a
//! cache that cannot be listed cannot be checked.

use std::path::{Path, PathBuf};

use crate::lockfile::{is_valid_semver, url_host};

/// The index cache version cargo 1.54 to 1.95 write and read.
pub const CACHE_VERSION: u8 = 3;

/// The index format version cargo 1.51 to 1.95 record in the cache.
pub const INDEX_FORMAT_VERSION: u32 = 2;

/// A failure reading a cache directory or file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A directory or file could not be read.
    #[error("cannot read `{}`: {error}", path.display())]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The file ends before a field is complete.
    #[error("index cache `{path}` is truncated at byte {offset}: expected {expected}")]
    Truncated {
        /// The file (as given by the caller).
        path: String,
        /// Where the file ended early.
        offset: usize,
        /// The field that was expected.
        expected: &'static str,
    },
    /// A cache version other than [`CACHE_VERSION`].
    #[error("index cache `{path}` has cache version {found}; expected {CACHE_VERSION} (cargo ignores and rewrites such files)")]
    UnsupportedCacheVersion {
        /// The file.
        path: String,
        /// The version byte found.
        found: u8,
    },
    /// A text field that is not UTF-8.
    #[error("index cache `{path}`: the {field} at byte {offset} is not UTF-8")]
    NotUtf8 {
        /// The file.
        path: String,
        /// Start of the field.
        offset: usize,
        /// Which field.
        field: &'static str,
    },
    /// A version key that is not semver.
    #[error("index cache `{path}`: entry at byte {offset} has version `{version}`, which is not a valid semver version")]
    InvalidVersion {
        /// The file.
        path: String,
        /// Start of the entry.
        offset: usize,
        /// The version found.
        version: String,
    },
}

/// Which of cargo's per-registry cache directories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CacheDirKind {
    /// `registry/cache/<dir>`: `.crate` files.
    Crates,
    /// `registry/index/<dir>`: index caches (in `.cache/`).
    Index,
    /// `registry/src/<dir>`: unpacked sources.
    Sources,
}

/// One `registry/{cache,index,src}/HOST-HASH` directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryCacheDir {
    /// Which cache it is.
    pub kind: CacheDirKind,
    /// Its path.
    pub path: PathBuf,
    /// The `HASH` part of the name (16 lower-case hex digits).
    pub hash: String,
}

/// A `.crate` file in cargo's download cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedCrate {
    /// The file.
    pub path: PathBuf,
    /// Crate name, as spelled in the file name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// A parsed index cache file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexCache {
    /// The cache version byte (always [`CACHE_VERSION`] once parsed).
    pub cache_version: u8,
    /// The index format version; cargo uses the file only when it is
    /// [`INDEX_FORMAT_VERSION`].
    pub index_format_version: u32,
    /// The index file version this cache was made from (`etag: ...`,
    /// `last-modified: ...`, `Unknown`, or a git commit id).
    pub index_version: String,
    /// `(version, JSON line)` pairs in file order.
    pub entries: Vec<(String, Vec<u8>)>,
}

impl IndexCache {
    /// The JSON line recorded for `version`, if any (the first, should the
    /// file list a version twice).
    pub fn get(&self, version: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(v, _)| v == version)
            .map(|(_, json)| json.as_slice())
    }
}

/// The `HOST` part cargo uses in cache directory names for a registry:
/// the host of its index URL, written the way cargo writes source URLs
/// (`https://...` for git indexes, `sparse+https://...` for sparse ones).
/// Lower-cased for `http`/`https` URLs, kept as written for `sparse+`
/// URLs (a URL parser does not normalise hosts of unknown schemes); empty
/// when the URL has no host (`file:` indexes).
pub fn cache_host(index_url: &str) -> String {
    let special = index_url.split_once(':').is_some_and(|(scheme, _)| {
        ["http", "https", "ws", "wss", "ftp", "file"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
    });
    let host = url_host(index_url).unwrap_or_default();
    if special {
        host.to_ascii_lowercase()
    } else {
        host.to_string()
    }
}

/// True when `dir_name` is `HOST-` followed by 16 hex digits.
pub fn is_cache_dir_name_for_host(dir_name: &str, host: &str) -> bool {
    hash_part(dir_name, host).is_some()
}

fn hash_part<'a>(dir_name: &'a str, host: &str) -> Option<&'a str> {
    let hash = dir_name.strip_prefix(host)?.strip_prefix('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hash)
}

/// The `registry/cache/HOST-HASH` and `registry/index/HOST-HASH`
/// directories of `cargo_home` (crate caches first), each sorted by path.
/// A `registry/cache` or `registry/index` directory that is missing *or
/// cannot be listed* contributes nothing; use [`registry_cache_dirs`] to
/// tell the kinds apart, include `registry/src`, and see I/O errors.
pub fn cache_dirs_for_host(cargo_home: &Path, host: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for kind in [CacheDirKind::Crates, CacheDirKind::Index] {
        if let Ok(dirs) = dirs_of_kind(cargo_home, host, kind) {
            out.extend(dirs.into_iter().map(|d| d.path));
        }
    }
    out
}

/// Every `registry/cache`, `registry/index` and `registry/src` directory of
/// `cargo_home` named `HOST-<16 hex digits>`, sorted by kind then path.
/// Missing directories are simply absent from the result; other I/O errors
/// are reported.
pub fn registry_cache_dirs(
    cargo_home: &Path,
    host: &str,
) -> Result<Vec<RegistryCacheDir>, CacheError> {
    let mut out = Vec::new();
    for kind in [
        CacheDirKind::Crates,
        CacheDirKind::Index,
        CacheDirKind::Sources,
    ] {
        out.extend(dirs_of_kind(cargo_home, host, kind)?);
    }
    Ok(out)
}

fn dirs_of_kind(
    cargo_home: &Path,
    host: &str,
    kind: CacheDirKind,
) -> Result<Vec<RegistryCacheDir>, CacheError> {
    let sub = match kind {
        CacheDirKind::Crates => "cache",
        CacheDirKind::Index => "index",
        CacheDirKind::Sources => "src",
    };
    let mut out = Vec::new();
    for (name, path) in list_dir(&cargo_home.join("registry").join(sub))? {
        let Some(hash) = hash_part(&name, host) else {
            continue;
        };
        if path.is_dir() {
            out.push(RegistryCacheDir {
                kind,
                hash: hash.to_string(),
                path,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Splits `NAME-VERSION.crate` (or `NAME-VERSION`) into name and version;
/// see the module documentation. `None` when the name is not of that form.
pub fn split_crate_file_name(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_suffix(".crate").unwrap_or(file_name);
    for (i, _) in stem.match_indices('-') {
        let name = &stem[..i];
        if name.contains('.') {
            return None;
        }
        let version = &stem[i + 1..];
        if !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && is_valid_semver(version)
        {
            return Some((name, version));
        }
    }
    None
}

/// Every `NAME-VERSION.crate` file in `dir` (a `registry/cache/HOST-HASH`
/// directory), sorted by name then version text. Other files are skipped; a
/// missing directory gives an empty list.
pub fn find_cached_crates(dir: &Path) -> Result<Vec<CachedCrate>, CacheError> {
    let mut out = Vec::new();
    for (file_name, path) in list_dir(dir)? {
        if !file_name.ends_with(".crate") {
            continue;
        }
        let Some((name, version)) = split_crate_file_name(&file_name) else {
            continue;
        };
        if path.is_file() {
            out.push(CachedCrate {
                name: name.to_string(),
                version: version.to_string(),
                path,
            });
        }
    }
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(out)
}

/// The index path of a crate (cargo's layout, lower-cased): `1/a`, `2/ab`,
/// `3/a/abc`, `ab/cd/abcd...`. `None` for names a registry cannot hold.
pub fn index_path(name: &str) -> Option<String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let name = name.to_ascii_lowercase();
    Some(match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    })
}

/// Every index cache file under `index_dir/.cache` (`index_dir` being a
/// `registry/index/HOST-HASH` directory) whose place matches cargo's layout
/// for its file name, as `(index path, file)`, sorted by index path. Other
/// files are skipped; a missing `.cache` gives an empty list.
pub fn cached_index_files(index_dir: &Path) -> Result<Vec<(String, PathBuf)>, CacheError> {
    let root = index_dir.join(".cache");
    let mut out = Vec::new();
    walk(&root, String::new(), 0, &mut out)?;
    out.sort();
    Ok(out)
}

/// Collects files up to three levels deep whose relative path is the index
/// path of their file name.
fn walk(
    dir: &Path,
    prefix: String,
    depth: usize,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), CacheError> {
    for (name, path) in list_dir(dir)? {
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if path.is_dir() {
            if depth < 2 {
                walk(&path, rel, depth + 1, out)?;
            }
        } else if path.is_file() && index_path(&name).is_some_and(|p| p == rel) {
            out.push((rel, path));
        }
    }
    Ok(())
}

/// `(file name, path)` of every UTF-8-named entry of `dir`; empty when the
/// directory does not exist.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>, CacheError> {
    let io = |error| CacheError::Io {
        path: dir.to_path_buf(),
        error,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io)?;
        if let Ok(name) = entry.file_name().into_string() {
            out.push((name, entry.path()));
        }
    }
    Ok(out)
}

/// Parses an index cache file; `path_for_errors` only names it in errors.
pub fn parse_index_cache(path_for_errors: &str, bytes: &[u8]) -> Result<IndexCache, CacheError> {
    let path = || path_for_errors.to_string();
    let truncated = |offset: usize, expected: &'static str| CacheError::Truncated {
        path: path(),
        offset,
        expected,
    };
    let Some((&cache_version, _)) = bytes.split_first() else {
        return Err(truncated(0, "the cache version byte"));
    };
    if cache_version != CACHE_VERSION {
        return Err(CacheError::UnsupportedCacheVersion {
            path: path(),
            found: cache_version,
        });
    }
    let Some(format_bytes) = bytes.get(1..5) else {
        return Err(truncated(bytes.len(), "the 4-byte index format version"));
    };
    let mut le = [0u8; 4];
    le.copy_from_slice(format_bytes);
    let index_format_version = u32::from_le_bytes(le);

    // Reads a NUL-terminated field starting at `start`.
    let field = |start: usize, expected: &'static str| -> Result<(&[u8], usize), CacheError> {
        let rest = bytes.get(start..).unwrap_or_default();
        match rest.iter().position(|&b| b == 0) {
            Some(len) => Ok((&rest[..len], start + len + 1)),
            None => Err(truncated(bytes.len(), expected)),
        }
    };
    let text = |raw: &[u8], offset: usize, what: &'static str| {
        std::str::from_utf8(raw)
            .map(str::to_string)
            .map_err(|_| CacheError::NotUtf8 {
                path: path(),
                offset,
                field: what,
            })
    };

    let (raw, mut pos) = field(5, "the NUL after the index version")?;
    let index_version = text(raw, 5, "index version")?;
    let mut entries = Vec::new();
    while pos < bytes.len() {
        let start = pos;
        let (raw_version, next) = field(pos, "the NUL after a version")?;
        let version = text(raw_version, start, "version")?;
        if !is_valid_semver(&version) {
            return Err(CacheError::InvalidVersion {
                path: path(),
                offset: start,
                version,
            });
        }
        let (json, next) = field(next, "the NUL after a JSON line")?;
        entries.push((version, json.to_vec()));
        pos = next;
    }
    Ok(IndexCache {
        cache_version,
        index_format_version,
        index_version,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Written by cargo 1.95 for crates.io (`it/oa/itoa`) during a
    /// `cargo generate-lockfile`; the index response carried neither ETag
    /// nor Last-Modified, so the index version is `Unknown`.
    const ITOA_CACHE: &[u8] = include_bytes!("../tests/fixtures/index-cache/itoa");

    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "civ-cache-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            Scratch(dir)
        }

        fn touch(&self, rel: &str) -> PathBuf {
            let p = self.0.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(&p, b"x").expect("write");
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn build(version: u8, format: u32, index_version: &str, entries: &[(&str, &str)]) -> Vec<u8> {
        let mut out = vec![version];
        out.extend_from_slice(&format.to_le_bytes());
        out.extend_from_slice(index_version.as_bytes());
        out.push(0);
        for (v, json) in entries {
            out.extend_from_slice(v.as_bytes());
            out.push(0);
            out.extend_from_slice(json.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn real_cargo_cache_file() {
        let cache = parse_index_cache("it/oa/itoa", ITOA_CACHE).expect("fixture parses");
        assert_eq!(cache.cache_version, 3);
        assert_eq!(cache.index_format_version, INDEX_FORMAT_VERSION);
        assert_eq!(cache.index_version, "Unknown");
        assert_eq!(cache.entries.len(), 38);
        assert_eq!(cache.entries[0].0, "0.1.0");
        assert_eq!(cache.entries[37].0, "1.0.19");
        // (This proxy's JSON has spaces after `:` and `,`; compare without.)
        let compact = |json: &[u8]| std::str::from_utf8(json).expect("utf-8").replace(' ', "");
        let line = compact(cache.get("1.0.19").expect("1.0.19 present"));
        assert!(
            line.starts_with("{\"name\":\"itoa\",\"vers\":\"1.0.19\""),
            "{line}"
        );
        assert!(line.contains(
            "\"cksum\":\"3bd1574e617a9a6c1f8f8181bd7e841e1f20e4277607ef28945765188d6284d4\""
        ));
        for (v, json) in &cache.entries {
            assert!(compact(json).contains(&format!("\"vers\":\"{v}\"")), "{v}");
        }
        assert_eq!(cache.get("9.9.9"), None);
    }

    #[test]
    fn synthetic_caches() {
        let etag = build(
            3,
            2,
            "etag: W/\"abc\"",
            &[("1.0.0", "{}"), ("1.0.1-rc.1+b", "{\"x\":1}")],
        );
        let c = parse_index_cache("f", &etag).expect("parses");
        assert_eq!(c.index_version, "etag: W/\"abc\"");
        assert_eq!(
            c.entries,
            vec![
                ("1.0.0".to_string(), b"{}".to_vec()),
                ("1.0.1-rc.1+b".to_string(), b"{\"x\":1}".to_vec())
            ]
        );
        // No entries, empty index version, empty JSON line, other format.
        let c = parse_index_cache("f", &build(3, 2, "", &[])).expect("parses");
        assert!(c.entries.is_empty() && c.index_version.is_empty());
        let c = parse_index_cache("f", &build(3, 7, "0123abcd", &[("0.1.0", "")])).expect("parses");
        assert_eq!(c.index_format_version, 7);
        assert_eq!(c.get("0.1.0"), Some(&b""[..]));
    }

    #[test]
    fn malformed_caches() {
        let err = |bytes: &[u8]| {
            parse_index_cache("reg/.cache/fo/o_/foo_", bytes).expect_err("must fail")
        };
        assert!(matches!(err(b""), CacheError::Truncated { offset: 0, .. }));
        assert!(matches!(
            err(&[1]),
            CacheError::UnsupportedCacheVersion { found: 1, .. }
        ));
        assert!(matches!(
            err(&build(2, 2, "x", &[])),
            CacheError::UnsupportedCacheVersion { found: 2, .. }
        ));
        assert!(matches!(
            err(&build(4, 2, "x", &[])),
            CacheError::UnsupportedCacheVersion { found: 4, .. }
        ));
        assert!(matches!(err(&[3, 2, 0]), CacheError::Truncated { .. }));
        assert!(matches!(
            err(&[3, 2, 0, 0, 0, b'x']),
            CacheError::Truncated { .. }
        ));
        let good = build(3, 2, "v", &[("1.0.0", "{}")]);
        let header_end = 7; // a file cut right after the header is an empty cache
        for cut in (1..good.len()).filter(|&c| c != header_end) {
            assert!(
                parse_index_cache("f", &good[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        assert!(parse_index_cache("f", &good[..header_end]).is_ok_and(|c| c.entries.is_empty()));
        assert!(matches!(
            err(&build(3, 2, "\u{0}", &[])),
            CacheError::InvalidVersion { .. } | CacheError::Truncated { .. }
        ));
        let mut bad_utf8 = build(3, 2, "v", &[]);
        bad_utf8[5] = 0xff;
        assert!(matches!(
            err(&bad_utf8),
            CacheError::NotUtf8 {
                offset: 5,
                field: "index version",
                ..
            }
        ));
        assert!(
            matches!(err(&build(3, 2, "v", &[("1.0", "{}")])), CacheError::InvalidVersion { version, .. } if version == "1.0")
        );
        let e = err(&build(3, 2, "v", &[("x", "{}")]));
        assert!(e.to_string().contains("reg/.cache/fo/o_/foo_"), "{e}");
    }

    #[test]
    fn crate_file_names() {
        let cases = [
            ("itoa-1.0.19.crate", Some(("itoa", "1.0.19"))),
            ("semver-1.0.0-rc.1.crate", Some(("semver", "1.0.0-rc.1"))),
            (
                "foo-bar-1.0.0-rc-1.2+b-3.crate",
                Some(("foo-bar", "1.0.0-rc-1.2+b-3")),
            ),
            (
                "openssl-src-110.0.0+1.1.0f.crate",
                Some(("openssl-src", "110.0.0+1.1.0f")),
            ),
            ("a-1-1.0.0.crate", Some(("a-1", "1.0.0"))),
            ("x_y-0.0.0-alpha-1.crate", Some(("x_y", "0.0.0-alpha-1"))),
            ("Inflector-0.11.4.crate", Some(("Inflector", "0.11.4"))),
            ("itoa-1.0.19", Some(("itoa", "1.0.19"))),
            ("itoa-1.0.crate", None),
            ("itoa.crate", None),
            ("-1.0.0.crate", None),
            ("itoa-01.0.0.crate", None),
            ("a.b-1.0.0.crate", None),
            ("a b-1.0.0.crate", None),
            ("", None),
            ("-", None),
        ];
        for (file, expected) in cases {
            assert_eq!(split_crate_file_name(file), expected, "{file}");
        }
    }

    #[test]
    fn cache_hosts() {
        assert_eq!(
            cache_host("sparse+https://index.crates.io/"),
            "index.crates.io"
        );
        assert_eq!(
            cache_host("https://github.com/rust-lang/crates.io-index"),
            "github.com"
        );
        assert_eq!(cache_host("HTTPS://GitHub.COM:443/x"), "github.com");
        assert_eq!(
            cache_host("sparse+https://Mirror.Example/"),
            "Mirror.Example"
        );
        assert_eq!(
            cache_host("ssh://git@host.example:2222/idx"),
            "host.example"
        );
        assert_eq!(cache_host("file:///srv/index"), "");
        assert_eq!(cache_host("nonsense"), "");
    }

    #[test]
    fn index_paths() {
        assert_eq!(index_path("a").as_deref(), Some("1/a"));
        assert_eq!(index_path("ab").as_deref(), Some("2/ab"));
        assert_eq!(index_path("Abc").as_deref(), Some("3/a/abc"));
        assert_eq!(index_path("itoa").as_deref(), Some("it/oa/itoa"));
        assert_eq!(
            index_path("Serde_JSON").as_deref(),
            Some("se/rd/serde_json")
        );
        assert_eq!(index_path(""), None);
        assert_eq!(index_path("../x"), None);
        assert_eq!(index_path("é"), None);
    }

    #[test]
    fn directory_listing() {
        let s = Scratch::new();
        let home = s.0.join("home");
        let host = "index.crates.io";
        s.touch("home/registry/cache/index.crates.io-1949cf8c6b5b557f/itoa-1.0.19.crate");
        s.touch("home/registry/cache/index.crates.io-1949cf8c6b5b557f/semver-1.0.0-rc.1.crate");
        s.touch("home/registry/cache/index.crates.io-1949cf8c6b5b557f/not-a-crate.txt");
        s.touch("home/registry/cache/index.crates.io-1949cf8c6b5b557f/garbage.crate");
        s.touch("home/registry/cache/index.crates.io-6f17d22bba15001f/itoa-0.4.8.crate");
        s.touch("home/registry/cache/github.com-1ecc6299db9ec823/itoa-1.0.0.crate");
        s.touch("home/registry/cache/index.crates.io-short/x-1.0.0.crate");
        s.touch("home/registry/cache/other.index.crates.io-1949cf8c6b5b557f/x-1.0.0.crate");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/config.json");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/it/oa/itoa");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/se/mv/semver");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/1/a");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/2/ab");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/3/x/xyz");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/3/y/xyz");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/it/oa/other");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/config.json");
        s.touch("home/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/it/oa/deep/itoa");
        s.touch("home/registry/src/index.crates.io-1949cf8c6b5b557f/itoa-1.0.19/src/lib.rs");
        // A file with a matching name is not a directory.
        s.touch("home/registry/index/index.crates.io-0000000000000000");

        let dirs = registry_cache_dirs(&home, host).expect("lists");
        let kinds: Vec<_> = dirs.iter().map(|d| (d.kind, d.hash.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (CacheDirKind::Crates, "1949cf8c6b5b557f"),
                (CacheDirKind::Crates, "6f17d22bba15001f"),
                (CacheDirKind::Index, "1949cf8c6b5b557f"),
                (CacheDirKind::Sources, "1949cf8c6b5b557f"),
            ]
        );
        assert!(is_cache_dir_name_for_host(
            "github.com-1ecc6299db9ec823",
            "github.com"
        ));
        assert!(!is_cache_dir_name_for_host(
            "github.com-1ecc6299db9ec82",
            "github.com"
        ));
        assert!(!is_cache_dir_name_for_host(
            "github.com-1ecc6299db9ec82g",
            "github.com"
        ));
        assert!(!is_cache_dir_name_for_host(
            "xgithub.com-1ecc6299db9ec823",
            "github.com"
        ));

        let crates = find_cached_crates(&dirs[0].path).expect("lists");
        let found: Vec<_> = crates
            .iter()
            .map(|c| (c.name.as_str(), c.version.as_str()))
            .collect();
        assert_eq!(found, [("itoa", "1.0.19"), ("semver", "1.0.0-rc.1")]);
        assert!(crates[0].path.ends_with("itoa-1.0.19.crate"));

        let files = cached_index_files(&dirs[2].path).expect("lists");
        let rels: Vec<_> = files.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            rels,
            ["1/a", "2/ab", "3/x/xyz", "it/oa/itoa", "se/mv/semver"]
        );
        assert!(files[3].1.ends_with(".cache/it/oa/itoa"));

        let plain = cache_dirs_for_host(&home, host);
        assert_eq!(
            plain,
            [
                dirs[0].path.clone(),
                dirs[1].path.clone(),
                dirs[2].path.clone()
            ]
        );

        // Missing directories are empty, not errors.
        assert!(registry_cache_dirs(&s.0.join("nowhere"), host)
            .expect("ok")
            .is_empty());
        assert!(cache_dirs_for_host(&s.0.join("nowhere"), host).is_empty());
        assert!(find_cached_crates(&s.0.join("nowhere"))
            .expect("ok")
            .is_empty());
        assert!(cached_index_files(&s.0.join("nowhere"))
            .expect("ok")
            .is_empty());
        // A file where a directory is expected is an I/O error.
        let file = s.touch("plain-file");
        assert!(matches!(
            find_cached_crates(&file),
            Err(CacheError::Io { .. })
        ));
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if i == 0 {
                        3
                    } else if state.is_multiple_of(5) {
                        0
                    } else {
                        (state % 256) as u8
                    }
                })
                .collect();
            let _ = parse_index_cache("g", &bytes);
        }
        for s in [
            "",
            "-",
            "--",
            "a-",
            "-a",
            "a-1.0.0-",
            "a-1.0.0+",
            ".crate",
            "é-1.0.0.crate",
        ] {
            let _ = split_crate_file_name(s);
            let _ = index_path(s);
        }
    }
}
