//! Where index files, tree objects and metadata come from: a sparse index
//! over HTTP(S), a git index (gix), a local directory, or nothing at all
//! (offline). Everything fetched here is untrusted until
//! [`crate::verify`] checks it.
//!
//! - Crate files over HTTP are cached with their `ETag`/`Last-Modified`
//!   and re-requested conditionally (`304 Not Modified` costs no body).
//! - Tree objects are content-addressed: once fetched they are kept in
//!   `$CARGO_HOME/tuf/objects/` for good, and re-checked against their name
//!   on every use.
//! - Every fetch has a byte limit enforced while the body streams in.

use crate::binding;
use crate::git::{GitIndex, GitTreeFetcher};
use serde::{Deserialize, Serialize};
use shared_trust::crypto::sha256_hex;
use shared_trust::fetcher::{CurlFetcher, FetchError, Fetcher, FileFetcher};
use shared_trust::index::{self, Hash};
use shared_trust::store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Largest crate file accepted (crates.io's largest is a few MB).
pub const CRATE_FILE_LIMIT: u64 = 64 << 20;
/// Largest tree object accepted (a bucket of a few hundred entries).
pub const OBJECT_LIMIT: u64 = 1 << 20;

/// Counts requests and bytes, for the summary and the benchmarks.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Requests made.
    pub requests: AtomicU64,
    /// Body bytes received.
    pub bytes: AtomicU64,
}

impl Traffic {
    fn add(&self, bytes: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    /// (requests, bytes) so far.
    pub fn get(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// The fetcher the TUF updaters use for one registry.
#[derive(Clone, Debug)]
pub enum MetaFetcher {
    /// HTTP(S) with libcurl.
    Http(CurlFetcher, Arc<Traffic>),
    /// `file://` URLs.
    File(FileFetcher),
    /// Files of a fetched git index (`git-index:///PATH`).
    Git(GitTreeFetcher),
    /// Offline: every fetch fails.
    Offline,
}

impl Fetcher for MetaFetcher {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        match self {
            MetaFetcher::Http(f, traffic) => {
                let r = f.fetch_to(url, max_len, sink);
                traffic.add(*r.as_ref().unwrap_or(&0));
                r
            }
            MetaFetcher::File(f) => f.fetch_to(url, max_len, sink),
            MetaFetcher::Git(f) => f.fetch_to(url, max_len, sink),
            MetaFetcher::Offline => Err(FetchError::Transport {
                url: url.to_string(),
                message: "offline: not in the verified state".into(),
            }),
        }
    }
}

/// What a conditional HTTP cache remembers about a URL.
#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// A conditional-GET cache for crate files on an HTTP mirror.
#[derive(Debug)]
pub struct HttpCache {
    dir: PathBuf,
    fetcher: CurlFetcher,
    traffic: Arc<Traffic>,
}

fn transport_err(url: &str, message: impl ToString) -> FetchError {
    FetchError::Transport {
        url: url.to_string(),
        message: message.to_string(),
    }
}

impl HttpCache {
    /// A cache stored in `dir`.
    pub fn new(dir: PathBuf, fetcher: CurlFetcher, traffic: Arc<Traffic>) -> Self {
        HttpCache {
            dir,
            fetcher,
            traffic,
        }
    }

    /// GETs `url` (conditionally when a cached copy exists). `Ok(None)`
    /// when the server says it does not exist.
    pub fn get(&self, url: &str, max_len: u64) -> Result<Option<Vec<u8>>, FetchError> {
        shared_trust::fetcher::with_curl_handle(|easy| self.get_with(easy, url, max_len))
    }

    fn get_with(
        &self,
        easy: &mut curl::easy::Easy,
        url: &str,
        max_len: u64,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let key = sha256_hex(url.as_bytes());
        let body_path = self.dir.join(&key[..2]).join(&key);
        let meta_path = body_path.with_extension("json");
        let cached: Option<(CacheEntry, Vec<u8>)> = (|| {
            let meta = std::fs::read(&meta_path).ok()?;
            let entry: CacheEntry = serde_json::from_slice(&meta).ok()?;
            let body = std::fs::read(&body_path).ok()?;
            (entry.url == url).then_some((entry, body))
        })();
        let t = |e: curl::Error| transport_err(url, e);
        easy.url(url).map_err(t)?;
        easy.follow_location(true).map_err(t)?;
        easy.max_redirections(5).map_err(t)?;
        easy.connect_timeout(self.fetcher.timeouts.connect)
            .map_err(t)?;
        easy.low_speed_limit(self.fetcher.timeouts.low_speed_bytes)
            .map_err(t)?;
        easy.low_speed_time(self.fetcher.timeouts.stall)
            .map_err(t)?;
        if let Some(ua) = &self.fetcher.user_agent {
            easy.useragent(ua).map_err(t)?;
        }
        let mut headers = curl::easy::List::new();
        if let Some((entry, _)) = &cached {
            if let Some(etag) = &entry.etag {
                headers
                    .append(&format!("If-None-Match: {etag}"))
                    .map_err(t)?;
            }
            if let Some(lm) = &entry.last_modified {
                headers
                    .append(&format!("If-Modified-Since: {lm}"))
                    .map_err(t)?;
            }
        }
        easy.http_headers(headers).map_err(t)?;
        let mut body = Vec::new();
        let mut etag = None;
        let mut last_modified = None;
        let mut too_large = false;
        let result = {
            let mut tr = easy.transfer();
            tr.header_function(|h| {
                if let Ok(line) = std::str::from_utf8(h) {
                    if let Some((name, value)) = line.split_once(':') {
                        let value = value.trim().to_string();
                        if name.eq_ignore_ascii_case("etag") {
                            etag = Some(value);
                        } else if name.eq_ignore_ascii_case("last-modified") {
                            last_modified = Some(value);
                        }
                    }
                }
                true
            })
            .map_err(t)?;
            tr.write_function(|data| {
                if body.len() as u64 + data.len() as u64 > max_len {
                    too_large = true;
                    return Ok(0);
                }
                body.extend_from_slice(data);
                Ok(data.len())
            })
            .map_err(t)?;
            tr.perform()
        };
        if too_large {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: max_len,
            });
        }
        if let Err(e) = result {
            if e.is_operation_timedout() {
                return Err(FetchError::Timeout {
                    url: url.to_string(),
                    reason: e.to_string(),
                });
            }
            return Err(t(e));
        }
        let code = easy.response_code().map_err(t)?;
        self.traffic.add(body.len() as u64);
        match code {
            304 => match cached {
                Some((_, body)) => Ok(Some(body)),
                None => Err(FetchError::Status {
                    url: url.to_string(),
                    status: 304,
                }),
            },
            200 => {
                if etag.is_some() || last_modified.is_some() {
                    let entry = CacheEntry {
                        url: url.to_string(),
                        etag,
                        last_modified,
                    };
                    // A cache that cannot be written only costs a re-download.
                    if let Some(parent) = body_path.parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    let _ = store::write_atomic_with(&body_path, &body, false);
                    if let Ok(meta) = serde_json::to_vec(&entry) {
                        let _ = store::write_atomic_with(&meta_path, &meta, false);
                    }
                }
                Ok(Some(body))
            }
            404 | 410 | 403 => Ok(None),
            status => Err(FetchError::Status {
                url: url.to_string(),
                status,
            }),
        }
    }
}

/// Where one registry's index files and tree objects come from.
#[derive(Debug)]
pub enum IndexAccess {
    /// A sparse index (or mirror) over HTTP(S).
    Http {
        /// Base URL (with trailing slash, no `sparse+`).
        base: String,
        /// Conditional-GET cache for crate files.
        cache: HttpCache,
        /// For tree objects.
        fetcher: CurlFetcher,
        /// Request counter.
        traffic: Arc<Traffic>,
    },
    /// A git index fetched with gix.
    Git(Arc<GitIndex>),
    /// A directory (a local registry's `index/`, a mirror directory).
    Dir(PathBuf),
    /// Offline: crate files only from the last verified state.
    Offline,
}

impl IndexAccess {
    /// The metadata fetcher and the base URL it understands for this access.
    pub fn meta(&self) -> (MetaFetcher, String) {
        match self {
            IndexAccess::Http {
                base,
                fetcher,
                traffic,
                ..
            } => (
                MetaFetcher::Http(fetcher.clone(), traffic.clone()),
                base.clone(),
            ),
            IndexAccess::Git(g) => (
                MetaFetcher::Git(GitTreeFetcher::new(g.clone())),
                "git-index:///".to_string(),
            ),
            IndexAccess::Dir(d) => (MetaFetcher::File(FileFetcher), dir_url(d)),
            IndexAccess::Offline => (MetaFetcher::Offline, "offline:///".to_string()),
        }
    }

    /// Whether reading a crate file costs a request to the mirror (HTTP);
    /// a git index is fetched whole and a directory is local.
    pub fn requests_cost(&self) -> bool {
        matches!(self, IndexAccess::Http { .. })
    }

    /// A crate file as served, or `None` if not served.
    pub fn crate_file(&self, path: &str) -> Result<Option<Vec<u8>>, FetchError> {
        match self {
            IndexAccess::Http { base, cache, .. } => {
                cache.get(&binding::crate_file_url(base, path), CRATE_FILE_LIMIT)
            }
            IndexAccess::Git(g) => g
                .read_file(path)
                .map_err(|e| transport_err(&format!("git-index:///{path}"), e)),
            IndexAccess::Dir(d) => {
                let p = d.join(path);
                store::read_optional(&p).map_err(|e| transport_err(&p.display().to_string(), e))
            }
            IndexAccess::Offline => Ok(None),
        }
    }

    /// A tree object's bytes (unchecked; [`index::Lookup`] checks them).
    pub fn object(&self, hash: &Hash) -> Result<Vec<u8>, FetchError> {
        let rel = format!("{}/{}", binding::TREE_DIR, index::object_path(hash));
        match self {
            IndexAccess::Http {
                base,
                fetcher,
                traffic,
                ..
            } => {
                let url = binding::object_url(base, hash);
                let r = fetcher.fetch(&url, OBJECT_LIMIT);
                traffic.add(r.as_ref().map_or(0, |b| b.len() as u64));
                r
            }
            IndexAccess::Git(g) => match g.read_file(&rel) {
                Ok(Some(b)) => Ok(b),
                Ok(None) => Err(FetchError::NotFound {
                    url: format!("git-index:///{rel}"),
                }),
                Err(e) => Err(transport_err(&format!("git-index:///{rel}"), e)),
            },
            IndexAccess::Dir(d) => FileFetcher.fetch(&format!("{}{rel}", dir_url(d)), OBJECT_LIMIT),
            IndexAccess::Offline => Err(FetchError::NotFound {
                url: format!("offline:///{rel}"),
            }),
        }
    }
}

/// `file://` URL of a directory, with a trailing slash.
pub fn dir_url(d: &Path) -> String {
    let s = d.display().to_string();
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// A content-addressed object cache in front of an [`IndexAccess`].
#[derive(Debug)]
pub struct ObjectCache {
    dir: Option<PathBuf>,
}

impl ObjectCache {
    /// A cache in `dir` (`None`: no caching).
    pub fn new(dir: Option<PathBuf>) -> Self {
        ObjectCache { dir }
    }

    /// The object, from the cache if it is there and intact, else from
    /// `access` (and then cached).
    pub fn get(&self, access: &IndexAccess, hash: &Hash) -> Result<Vec<u8>, FetchError> {
        let path = self.dir.as_ref().map(|d| d.join(index::object_path(hash)));
        if let Some(p) = &path {
            if let Ok(bytes) = std::fs::read(p) {
                if sha256_hex(&bytes) == index::hex_hash(hash) {
                    return Ok(bytes);
                }
            }
        }
        let bytes = access.object(hash)?;
        if let Some(p) = &path {
            if sha256_hex(&bytes) == index::hex_hash(hash) {
                if let Some(parent) = p.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = store::write_atomic_with(p, &bytes, false);
            }
        }
        Ok(bytes)
    }
}
