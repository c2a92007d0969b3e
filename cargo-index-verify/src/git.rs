//! Git registry indexes: fetching one with gix and reading files of the
//! fetched commit.
//!
//! A registry index served over cargo's git protocol is a repository whose
//! tree has the crates.io-index layout (`config.json` at the top, crate files
//! such as `se/rd/serde`). For such an index the operator's signing command
//! commits its signed metadata into the same tree under `tuf/`. The client
//! therefore needs exactly two things from git: the commit the remote's `HEAD`
//! names, and the bytes of files in that commit's tree. Everything it reads is
//! untrusted until checked against the signed metadata; this module only
//! fetches and reads, and makes sure that reading is unambiguous.
//!
//! # Fetching
//!
//! [`GitIndex::sync`] keeps a bare repository in a cache directory (created
//! on first use, atomically: initialised beside the target and renamed into
//! place) and fetches `+HEAD:refs/remotes/origin/HEAD` into it, as cargo
//! does, with tags off. The leading `+` accepts non-fast-forward updates: the
//! crates.io index squashes its history now and then, so the new `HEAD` need
//! not descend from the old one. The commit used is the one the remote
//! advertised for `HEAD` in this very fetch, and the tracking ref must have
//! been moved to it; a fetch that silently left an older ref behind is an
//! error, never a stale answer. [`GitIndex::open_cached`] reads the tracking
//! ref back without any network access (`--offline`).
//!
//! Transports are gix's: `file://` (which runs `git upload-pack`, so it needs
//! the git program), `ssh://` (the `ssh` program) and `http(s)://` on libcurl,
//! the HTTP library the rest of the project uses. HTTP transfers give up on a
//! server that does not connect within 15 s or moves less than a byte per
//! second for 30 s. The user's git configuration applies, as it would for
//! git itself (proxies, CA bundles, URL rewrites): what arrives is verified
//! afterwards whatever its route. No single allocation that git data asks
//! for (an object, or a pack's bookkeeping) may exceed [`MAX_ALLOC_BYTES`],
//! during the fetch or afterwards, and files are read only up to a limit
//! ([`MAX_FILE_BYTES`] unless the caller sets one), checked from the
//! object's header before it is inflated.
//!
//! Failures are classified for the caller: [`GitError::is_transport`] holds
//! when the index could not be fetched (unreachable, not a repository,
//! broken transfer), apart from problems of the local cache, of what was
//! fetched (no `HEAD`, a `HEAD` that is not a commit, malformed trees) and of
//! the caller's own arguments ([`GitError::InvalidUrl`],
//! [`GitError::InvalidPath`]).
//!
//! # Reading
//!
//! Paths are `/`-separated and relative (`se/rd/serde`, `tuf/metadata/1.root.json`).
//! Every tree on the way is decoded in full and rejected
//! ([`GitError::MalformedTree`]) if an entry cannot be decoded, if a name is
//! not UTF-8, is empty, `.` or `..`, contains `/`, or occurs twice. Git
//! itself never writes such trees, but a hostile server can; with duplicate
//! names two readers (this one and cargo) could see different files under one
//! path, so no such tree is read at all. Only regular (and executable) blobs
//! are files; a directory, symbolic link or submodule at a path is
//! [`GitError::NotAFile`], and a path that passes through a file is absent.
//!
//! A [`GitIndex`] is `Send + Sync`. It keeps a small pool of per-thread gix
//! handles (each with its own object and delta-base caches) and a shared cache
//! of decoded trees, so many threads may call [`GitIndex::read_file`] at once:
//! split [`GitIndex::list_files`] among them. [`GitIndex::for_each_file`] is
//! the fast sequential walk over every file. Walks stop with an error past
//! [`MAX_TREE_DEPTH`] nested trees or [`MAX_TREE_ENTRIES`] entries, so a tree
//! that reuses subtrees to look exponentially large cannot exhaust memory.
//!
//! [`GitTreeFetcher`] serves a [`GitIndex`]'s files as a
//! [`Fetcher`]: URL `git-index:///PATH` is file `PATH`, so the TUF updater
//! reads `tuf/metadata/` and `tuf/tree/` of the fetched commit exactly as it
//! would read them from a mirror.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use gix::objs::tree::EntryKind as GitEntryKind;
use gix::objs::Find as _;
use gix::ObjectId;
use shared_trust::fetcher::{FetchError, Fetcher};

/// The local ref the remote's `HEAD` is fetched into (as cargo does).
pub const TRACKING_REF: &str = "refs/remotes/origin/HEAD";

/// The refspec of every fetch: the remote's `HEAD`, forced.
const REFSPEC: &str = "+HEAD:refs/remotes/origin/HEAD";

/// The largest single allocation git data may cause, in bytes (gix's
/// `gitoxide.objects.allocLimit`): one inflated object, or the per-pack
/// delta bookkeeping of a fetch, which needs about 40 bytes per object, so
/// this allows packs of twenty million objects and more.
pub const MAX_ALLOC_BYTES: u64 = 1024 * 1024 * 1024;

/// The largest file [`GitIndex::read_file`] reads, in bytes. Index files are
/// at most a few megabytes.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The deepest nesting of trees a walk follows (the index layout uses four).
pub const MAX_TREE_DEPTH: usize = 64;

/// The most tree entries a walk visits (today's crates.io index has a few
/// hundred thousand).
pub const MAX_TREE_ENTRIES: usize = 4 * 1024 * 1024;

/// Per-handle cache of inflated objects (trees are read repeatedly).
const OBJECT_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// [`GitIndex::for_each_file`] decodes whole packs when they hold at most
/// this many objects per wanted blob (plus [`PACK_WALK_SLACK`]); otherwise
/// it looks blobs up one by one. Decoding a pack front to back costs about a
/// fifth of looking each object up.
const PACK_WALK_RATIO: u64 = 4;
const PACK_WALK_SLACK: u64 = 10_000;

/// Decoded tree entries kept for path look-ups, across all trees.
const TREE_CACHE_ENTRIES: usize = 1024 * 1024;

/// Configuration applied on top of the user's for every repository opened
/// here: HTTP time-outs and the object size limit.
fn config_overrides() -> [String; 4] {
    [
        // Abandon a transfer below 1 byte/s for 30 s; connect within 15 s.
        "http.lowSpeedLimit=1".to_string(),
        "http.lowSpeedTime=30".to_string(),
        "gitoxide.http.connectTimeout=15000".to_string(),
        format!("gitoxide.objects.allocLimit={MAX_ALLOC_BYTES}"),
    ]
}

/// What kind of non-file entry a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// A tree.
    Directory,
    /// A symbolic link.
    SymbolicLink,
    /// A commit of another repository.
    Submodule,
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntryKind::Directory => "directory",
            EntryKind::SymbolicLink => "symbolic link",
            EntryKind::Submodule => "submodule",
        })
    }
}

/// Why fetching or reading a git index failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// The URL is not one gix can fetch from (caller misuse).
    #[error("{url}: not a usable git URL: {message}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it was refused.
        message: String,
    },
    /// The index could not be fetched: the remote is unreachable, is not a
    /// git repository, or the transfer failed.
    #[error("could not fetch the git index from {url}: {message}")]
    Transport {
        /// The remote URL.
        url: String,
        /// What went wrong, with its causes.
        message: String,
    },
    /// The remote has no `HEAD` commit to fetch (empty or unborn).
    #[error("{url}: the remote repository has no HEAD commit")]
    NoRemoteHead {
        /// The remote URL.
        url: String,
    },
    /// The cache directory exists but is not a bare git repository; it is
    /// left untouched.
    #[error("{}: not a bare git repository, so not usable as the git index cache: {message}", path.display())]
    NotARepository {
        /// The cache directory.
        path: PathBuf,
        /// Why it was refused.
        message: String,
    },
    /// The cache holds no fetched index yet ([`GitIndex::open_cached`]
    /// before any [`GitIndex::sync`]).
    #[error("{}: no git index has been fetched into this cache yet (fetch once without --offline)", path.display())]
    NotSynced {
        /// The cache directory.
        path: PathBuf,
    },
    /// Working with the cache directory failed (file system errors).
    #[error("{}: {action}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The cached repository is damaged or could not be read.
    #[error("{}: git repository error while {action}: {message}", path.display())]
    Repository {
        /// The cache directory.
        path: PathBuf,
        /// What was being done.
        action: String,
        /// What went wrong, with its causes.
        message: String,
    },
    /// The fetched `HEAD` does not lead to a commit.
    #[error("{}: {reference} is a {kind}, not a commit", path.display())]
    NotACommit {
        /// The cache directory.
        path: PathBuf,
        /// The ref or object id.
        reference: String,
        /// The kind of object found.
        kind: String,
    },
    /// A path is not a relative `/`-separated path of normal components
    /// (caller misuse).
    #[error("{path:?}: not a valid index path (relative, `/`-separated, no empty, `.` or `..` components)")]
    InvalidPath {
        /// The path given.
        path: String,
    },
    /// The path names a tree entry that is not a regular file.
    #[error("{path}: is a {kind} in commit {commit}, not a file")]
    NotAFile {
        /// The path.
        path: String,
        /// The commit read.
        commit: String,
        /// What the entry is.
        kind: EntryKind,
    },
    /// A file is larger than the limit the caller allowed.
    #[error("{path}: {size} bytes in commit {commit}, more than the {limit} allowed")]
    TooLarge {
        /// The path.
        path: String,
        /// The commit read.
        commit: String,
        /// The file's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A tree of the fetched commit is malformed or ambiguous, or too large
    /// to walk.
    #[error("commit {commit}: malformed tree at {path:?}: {reason}")]
    MalformedTree {
        /// The commit read.
        commit: String,
        /// The directory path of the tree (empty for the root).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl GitError {
    /// True if the index could not be fetched at all (network, remote
    /// unreachable or not a repository), as opposed to a problem with the
    /// local cache, with what was fetched, or with the caller's arguments.
    pub fn is_transport(&self) -> bool {
        matches!(self, GitError::Transport { .. })
    }
}

/// A gix error with its causes, one line, without source locations.
fn describe(error: &gix::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.iter_errors() {
        let text = format!("{cause:#}");
        if !text.is_empty() && !parts.contains(&text) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        format!("{error:#}")
    } else {
        parts.join(": ")
    }
}

/// One entry of a decoded, validated tree.
#[derive(Debug)]
struct TreeEntry {
    name: Box<str>,
    kind: GitEntryKind,
    id: ObjectId,
}

/// A tree's entries, sorted by name, names unique.
type Entries = Arc<[TreeEntry]>;

#[derive(Default)]
struct TreeCache {
    trees: HashMap<ObjectId, Entries>,
    entries: usize,
}

/// A fetched git index: a bare repository in a cache directory and the commit
/// whose tree is read. See the [module documentation](self).
pub struct GitIndex {
    repo: gix::ThreadSafeRepository,
    path: PathBuf,
    commit: ObjectId,
    tree: ObjectId,
    handles: Mutex<Vec<gix::Repository>>,
    trees: RwLock<TreeCache>,
}

impl std::fmt::Debug for GitIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitIndex")
            .field("path", &self.path)
            .field("commit", &self.commit)
            .finish_non_exhaustive()
    }
}

/// A pooled thread-local repository handle, returned to the pool on drop.
struct Handle<'a> {
    index: &'a GitIndex,
    repo: Option<gix::Repository>,
}

impl std::ops::Deref for Handle<'_> {
    type Target = gix::Repository;
    fn deref(&self) -> &gix::Repository {
        // Only `drop` takes the handle out.
        self.repo
            .as_ref()
            .unwrap_or_else(|| unreachable!("handle used after drop"))
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        if let Some(repo) = self.repo.take() {
            self.index
                .handles
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(repo);
        }
    }
}

fn open_options() -> gix::open::Options {
    gix::open::Options::default().config_overrides(config_overrides())
}

/// Opens the cache repository, which must be bare.
fn open_repo(dir: &Path) -> Result<gix::ThreadSafeRepository, GitError> {
    let repo = gix::ThreadSafeRepository::open_opts(dir, open_options()).map_err(|e| {
        GitError::NotARepository {
            path: dir.to_path_buf(),
            message: describe(&e),
        }
    })?;
    if repo.work_dir().is_some() {
        return Err(GitError::NotARepository {
            path: dir.to_path_buf(),
            message: "it has a work tree".to_string(),
        });
    }
    Ok(repo)
}

fn init_repo(dir: &Path) -> Result<(), GitError> {
    gix::ThreadSafeRepository::init_opts(
        dir,
        gix::create::Kind::Bare,
        gix::create::Options::default(),
        open_options(),
    )
    .map(drop)
    .map_err(|e| GitError::Repository {
        path: dir.to_path_buf(),
        action: "creating the cache repository".to_string(),
        message: describe(&e),
    })
}

/// Opens the cache repository at `dir`, creating it if `dir` is missing or
/// empty. A missing one is created beside `dir` and renamed into place, so a
/// crash never leaves a half-made repository at `dir`.
fn open_or_init(dir: &Path) -> Result<gix::ThreadSafeRepository, GitError> {
    let io = |action, source| GitError::Io {
        path: dir.to_path_buf(),
        action,
        source,
    };
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_none() {
                init_repo(dir)?;
            }
            open_repo(dir)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = dir.parent().unwrap_or(Path::new(""));
            let name = dir
                .file_name()
                .ok_or_else(|| {
                    io(
                        "choosing the cache directory",
                        std::io::Error::other("the path has no final component"),
                    )
                })?
                .to_string_lossy()
                .into_owned();
            std::fs::create_dir_all(parent)
                .map_err(|e| io("creating the cache directory's parent", e))?;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let temp = parent.join(format!(".{name}.new-{}-{nanos}", std::process::id()));
            let made = init_repo(&temp).and_then(|()| {
                std::fs::rename(&temp, dir).map_err(|e| io("moving the new cache into place", e))
            });
            if let Err(error) = made {
                // Best effort: the temporary directory is ours alone.
                let _ = std::fs::remove_dir_all(&temp);
                // Another process may have created the cache meanwhile.
                if !dir.is_dir() {
                    return Err(error);
                }
            }
            open_repo(dir)
        }
        Err(e) => Err(io("reading the cache directory", e)),
    }
}

/// Fetches the remote's `HEAD` into [`TRACKING_REF`] and returns the id the
/// remote advertised for it, after checking the tracking ref points there.
fn fetch_head(repo: &gix::Repository, url: &str, dir: &Path) -> Result<ObjectId, GitError> {
    use gix::remote::Direction;
    let transport = |e: gix::Error| GitError::Transport {
        url: url.to_string(),
        message: describe(&e),
    };
    let remote = repo
        .remote_at(url)
        .map_err(|e| GitError::InvalidUrl {
            url: url.to_string(),
            message: describe(&e),
        })?
        .with_refspecs([REFSPEC], Direction::Fetch)
        .map_err(|e| GitError::Repository {
            path: dir.to_path_buf(),
            action: format!("setting up the fetch refspec {REFSPEC}"),
            message: describe(&e),
        })?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let outcome = remote
        .connect(Direction::Fetch)
        .map_err(transport)?
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(transport)?
        .receive(gix::progress::Discard, &AtomicBool::new(false))
        .map_err(transport)?;
    let advertised = outcome
        .ref_map
        .mappings
        .iter()
        .find(|m| m.local.as_ref().is_some_and(|l| l == TRACKING_REF))
        .and_then(|m| m.remote.as_id())
        .map(ToOwned::to_owned)
        .ok_or_else(|| GitError::NoRemoteHead {
            url: url.to_string(),
        })?;
    let local = tracking_ref_target(repo, dir)?.ok_or_else(|| GitError::Repository {
        path: dir.to_path_buf(),
        action: format!("updating {TRACKING_REF}"),
        message: "the fetch did not create the ref".to_string(),
    })?;
    if local != advertised {
        return Err(GitError::Repository {
            path: dir.to_path_buf(),
            action: format!("updating {TRACKING_REF}"),
            message: format!("the ref is at {local}, not at the fetched {advertised}"),
        });
    }
    Ok(advertised)
}

/// The object [`TRACKING_REF`] points to (following symbolic refs), if the ref exists.
fn tracking_ref_target(repo: &gix::Repository, dir: &Path) -> Result<Option<ObjectId>, GitError> {
    let error = |e: gix::Error| GitError::Repository {
        path: dir.to_path_buf(),
        action: format!("reading {TRACKING_REF}"),
        message: describe(&e),
    };
    let Some(mut reference) = repo.try_find_reference(TRACKING_REF).map_err(error)? else {
        return Ok(None);
    };
    let id = reference.peel_to_id().map_err(error)?;
    Ok(Some(id.detach()))
}

impl GitIndex {
    /// Clones (the first time) or fetches the index at `url` into the bare
    /// repository `cache_dir`, then resolves the remote's `HEAD` (fetched as
    /// `+HEAD:refs/remotes/origin/HEAD`, history rewrites accepted) to a
    /// commit. `cache_dir` may be missing or empty; if it exists with other
    /// content it must be a bare git repository. Callers that may sync the
    /// same cache from several processes should hold a lock around this.
    ///
    /// Fetch failures are [`GitError::Transport`]; see
    /// [`GitError::is_transport`].
    pub fn sync(url: &str, cache_dir: &Path) -> Result<GitIndex, GitError> {
        let repo = open_or_init(cache_dir)?;
        let head = fetch_head(&repo.to_thread_local(), url, cache_dir)?;
        GitIndex::at(repo, cache_dir, head, TRACKING_REF)
    }

    /// Opens what an earlier [`sync`](Self::sync) fetched into `cache_dir`,
    /// with no network access.
    pub fn open_cached(cache_dir: &Path) -> Result<GitIndex, GitError> {
        if !cache_dir.exists() {
            return Err(GitError::NotSynced {
                path: cache_dir.to_path_buf(),
            });
        }
        let repo = open_repo(cache_dir)?;
        let head = tracking_ref_target(&repo.to_thread_local(), cache_dir)?.ok_or_else(|| {
            GitError::NotSynced {
                path: cache_dir.to_path_buf(),
            }
        })?;
        GitIndex::at(repo, cache_dir, head, TRACKING_REF)
    }

    /// Peels `id` (named by `reference`) to a commit and sets up reading.
    fn at(
        repo: gix::ThreadSafeRepository,
        dir: &Path,
        id: ObjectId,
        reference: &str,
    ) -> Result<GitIndex, GitError> {
        let mut local = repo.to_thread_local();
        local.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
        let error = |action: &str, e: gix::Error| GitError::Repository {
            path: dir.to_path_buf(),
            action: format!("{action} {id} ({reference})"),
            message: describe(&e),
        };
        let (commit, tree) = {
            let object = local
                .find_object(id)
                .map_err(|e| error("reading the fetched object", e))?;
            let commit = match object.kind {
                gix::objs::Kind::Commit => object.into_commit(),
                gix::objs::Kind::Tag => object
                    .peel_to_kind(gix::objs::Kind::Commit)
                    .map_err(|e| GitError::NotACommit {
                        path: dir.to_path_buf(),
                        reference: format!("{reference} ({id})"),
                        kind: format!("tag that does not lead to a commit ({})", describe(&e)),
                    })?
                    .into_commit(),
                kind => {
                    return Err(GitError::NotACommit {
                        path: dir.to_path_buf(),
                        reference: format!("{reference} ({id})"),
                        kind: kind.to_string(),
                    })
                }
            };
            let tree = commit
                .tree_id()
                .map_err(|e| error("reading the tree of commit", e))?
                .detach();
            (commit.id, tree)
        };
        Ok(GitIndex {
            repo,
            path: dir.to_path_buf(),
            commit,
            tree,
            handles: Mutex::new(vec![local]),
            trees: RwLock::new(TreeCache::default()),
        })
    }

    /// The fetched commit's id, in hex.
    pub fn commit_id(&self) -> String {
        self.commit.to_string()
    }

    /// The cache directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes of the file at `path` in the fetched commit's tree, or
    /// `None` if there is none. A directory, symbolic link or submodule there
    /// is [`GitError::NotAFile`]. A file of more than [`MAX_FILE_BYTES`] is
    /// [`GitError::TooLarge`]; [`read_file_limited`](Self::read_file_limited)
    /// takes another limit.
    pub fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        self.read_file_limited(path, MAX_FILE_BYTES)
    }

    /// Like [`read_file`](Self::read_file), failing with
    /// [`GitError::TooLarge`] before inflating a file of more than `max_len`
    /// bytes.
    pub fn read_file_limited(&self, path: &str, max_len: u64) -> Result<Option<Vec<u8>>, GitError> {
        let components = split_path(path)?;
        let repo = self.handle();
        let mut buf = Vec::new();
        let mut tree = self.tree;
        let mut dir_len: usize = 0;
        let Some((last, dirs)) = components.split_last() else {
            return Err(GitError::InvalidPath {
                path: path.to_string(),
            });
        };
        for component in dirs {
            let entries =
                self.tree_entries(&repo, tree, &path[..dir_len.saturating_sub(1)], &mut buf)?;
            match find_entry(&entries, component) {
                Some(entry) if entry.kind == GitEntryKind::Tree => tree = entry.id,
                // Absent, or a file where a directory would be.
                _ => return Ok(None),
            }
            dir_len += component.len() + 1;
        }
        let entries =
            self.tree_entries(&repo, tree, &path[..dir_len.saturating_sub(1)], &mut buf)?;
        let Some(entry) = find_entry(&entries, last) else {
            return Ok(None);
        };
        self.check_is_file(path, entry.kind)?;
        let bytes = self.load_blob(&repo, path, entry.id, max_len, &mut buf)?;
        Ok(Some(bytes.to_vec()))
    }

    /// Every non-directory path in the fetched commit's tree (files, and any
    /// symbolic links or submodules, which [`read_file`](Self::read_file)
    /// then refuses). The order is depth-first: a directory's own entries in
    /// name order, then its subdirectories in name order. Nothing is skipped;
    /// the caller filters.
    pub fn list_files(&self) -> Result<Vec<String>, GitError> {
        let repo = self.handle();
        let mut out = Vec::new();
        self.walk(&repo, |path, _| {
            out.push(path.to_string());
            Ok::<(), GitError>(())
        })?;
        Ok(out)
    }

    /// Calls `visit` (on the calling thread) with the path and bytes of
    /// every file in the fetched commit's tree, in no particular order,
    /// stopping at the first error `visit` returns. A symbolic link or
    /// submodule anywhere in the tree is [`GitError::NotAFile`] before any
    /// file is visited; a file of more than `max_len` bytes is
    /// [`GitError::TooLarge`]. A blob stored under several paths is visited
    /// once per path.
    ///
    /// This is the fast way to read a whole index. When the repository's
    /// packs hold not much more than the tree's files (a fresh or squashed
    /// index), they are decoded front to back, each delta applied once to
    /// its already-decoded base, on all cores; blobs outside the packs, and
    /// every blob when the packs are mostly history, are looked up one by
    /// one.
    pub fn for_each_file<E>(
        &self,
        max_len: u64,
        visit: impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<GitError>,
    {
        self.read_all(max_len, true, visit).map(drop)
    }

    /// [`for_each_file`](Self::for_each_file), decoding whole packs only if
    /// `decode_packs` and they are mostly the tree's files. Returns how many
    /// files were read from decoded packs.
    fn read_all<E>(
        &self,
        max_len: u64,
        decode_packs: bool,
        mut visit: impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<usize, E>
    where
        E: From<GitError>,
    {
        let repo = self.handle();
        let mut files: Vec<(String, ObjectId)> = Vec::new();
        self.walk(&repo, |path, entry| {
            self.check_is_file(path, entry.kind)?;
            files.push((path.to_string(), entry.id));
            Ok::<(), GitError>(())
        })?;
        // Blob id -> indices into `files`; entries leave as they are visited.
        let mut pending: HashMap<ObjectId, Vec<usize>> = HashMap::with_capacity(files.len());
        for (i, (_, id)) in files.iter().enumerate() {
            pending.entry(*id).or_default().push(i);
        }
        let packs = if decode_packs {
            self.packs()?
        } else {
            Vec::new()
        };
        let objects_in_packs: u64 = packs.iter().map(|b| u64::from(b.index.num_objects())).sum();
        if objects_in_packs <= PACK_WALK_RATIO * pending.len() as u64 + PACK_WALK_SLACK {
            for bundle in &packs {
                if pending.is_empty() {
                    break;
                }
                self.visit_pack(bundle, max_len, &files, &mut pending, &mut visit)?;
            }
        }
        // Whatever the packs did not hold (loose objects), in tree order.
        let mut rest: Vec<usize> = pending.into_values().flatten().collect();
        rest.sort_unstable();
        let from_packs = files.len() - rest.len();
        let mut buf = Vec::new();
        for i in rest {
            let (path, id) = &files[i];
            let bytes = self.load_blob(&repo, path, *id, max_len, &mut buf)?;
            visit(path, bytes)?;
        }
        Ok(from_packs)
    }

    /// The pack bundles in the repository's object directory.
    fn packs(&self) -> Result<Vec<gix::odb::pack::Bundle>, GitError> {
        let dir = self.repo.objects_dir().join("pack");
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(GitError::Io {
                    path: dir,
                    action: "listing the pack directory",
                    source,
                })
            }
        };
        let mut packs = Vec::new();
        for entry in listing {
            let path = entry
                .map_err(|source| GitError::Io {
                    path: dir.clone(),
                    action: "listing the pack directory",
                    source,
                })?
                .path();
            if path.extension().is_some_and(|ext| ext == "idx") {
                let bundle =
                    gix::odb::pack::Bundle::at(&path, self.commit.kind()).map_err(|e| {
                        self.repository_error(format!("opening pack {}", path.display()), e)
                    })?;
                packs.push(bundle);
            }
        }
        Ok(packs)
    }

    /// Decodes every object of `bundle` (on all cores) and visits the files
    /// among them that are still `pending`.
    fn visit_pack<E>(
        &self,
        bundle: &gix::odb::pack::Bundle,
        max_len: u64,
        files: &[(String, ObjectId)],
        pending: &mut HashMap<ObjectId, Vec<usize>>,
        visit: &mut impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<GitError>,
    {
        use gix::error::ErrorExt as _;
        use gix::odb::pack::index::traverse;

        enum Found {
            Blob(ObjectId, Vec<u8>),
            TooLarge(ObjectId, u64),
        }
        let wanted: std::collections::HashSet<ObjectId> = pending.keys().copied().collect();
        let stop = AtomicBool::new(false);
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Found>(256);
        let mut outcome: Result<(), E> = Ok(());
        let traversal = std::thread::scope(|scope| {
            let wanted = &wanted;
            let stop = &stop;
            let decoder = scope.spawn(move || {
                let processor = move |kind,
                                      data: &[u8],
                                      entry: &gix::odb::pack::index::Entry,
                                      _: &dyn gix::Progress| {
                    if kind != gix::objs::Kind::Blob || !wanted.contains(&entry.oid) {
                        return Ok(());
                    }
                    let found = if data.len() as u64 > max_len {
                        Found::TooLarge(entry.oid, data.len() as u64)
                    } else {
                        Found::Blob(entry.oid, data.to_vec())
                    };
                    sender
                        .send(found)
                        .map_err(|_| gix::error::message("the reader stopped").raise())
                };
                bundle.index.traverse(
                    &bundle.pack,
                    &mut gix::progress::Discard,
                    stop,
                    processor,
                    traverse::Options {
                        traversal: traverse::Algorithm::DeltaTreeLookup,
                        thread_limit: None,
                        // The pack was checked and every object hashed when it
                        // was received; ordinary reads do not re-hash either.
                        check: traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                        alloc_limit_bytes: usize::try_from(MAX_ALLOC_BYTES).ok(),
                        make_pack_lookup_cache: || gix::odb::pack::cache::Never,
                    },
                )
            });
            for found in receiver.iter() {
                let (id, bytes) = match found {
                    Found::Blob(id, bytes) => (id, Ok(bytes)),
                    Found::TooLarge(id, size) => (id, Err(size)),
                };
                // Absent if an earlier pack held the same blob.
                let Some(indices) = pending.remove(&id) else {
                    continue;
                };
                let result = indices.iter().try_for_each(|&i| {
                    let path = files[i].0.as_str();
                    match &bytes {
                        Ok(bytes) => visit(path, bytes),
                        Err(size) => Err(GitError::TooLarge {
                            path: path.to_string(),
                            commit: self.commit_id(),
                            size: *size,
                            limit: max_len,
                        }
                        .into()),
                    }
                });
                if let Err(e) = result {
                    outcome = Err(e);
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            }
            // Unblocks a decoder waiting to send, which then stops.
            drop(receiver);
            decoder.join()
        });
        outcome?;
        match traversal {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self
                .repository_error(format!("decoding pack {}", bundle.pack.path().display()), e)
                .into()),
            Err(_) => Err(GitError::Repository {
                path: self.path.clone(),
                action: format!("decoding pack {}", bundle.pack.path().display()),
                message: "the decoding thread panicked".to_string(),
            }
            .into()),
        }
    }

    fn check_is_file(&self, path: &str, kind: GitEntryKind) -> Result<(), GitError> {
        let kind = match kind {
            GitEntryKind::Blob | GitEntryKind::BlobExecutable => return Ok(()),
            GitEntryKind::Tree => EntryKind::Directory,
            GitEntryKind::Link => EntryKind::SymbolicLink,
            GitEntryKind::Commit => EntryKind::Submodule,
        };
        Err(GitError::NotAFile {
            path: path.to_string(),
            commit: self.commit_id(),
            kind,
        })
    }

    /// Depth-first walk over every non-tree entry.
    fn walk<E>(
        &self,
        repo: &gix::Repository,
        mut visit: impl FnMut(&str, &TreeEntry) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<GitError>,
    {
        let mut buf = Vec::new();
        let mut seen: usize = 0;
        // (tree, its directory path, its depth); popped last-in first-out,
        // so children are pushed in reverse name order.
        let mut stack = vec![(self.tree, String::new(), 0usize)];
        while let Some((tree, dir, depth)) = stack.pop() {
            let entries = self.decode_tree(repo, tree, &dir, &mut buf)?;
            seen = seen.saturating_add(entries.len());
            if seen > MAX_TREE_ENTRIES {
                return Err(self
                    .malformed(&dir, format!("more than {MAX_TREE_ENTRIES} entries in all"))
                    .into());
            }
            let mut subtrees = Vec::new();
            for entry in entries.iter() {
                let path = if dir.is_empty() {
                    entry.name.to_string()
                } else {
                    format!("{dir}/{}", entry.name)
                };
                if entry.kind == GitEntryKind::Tree {
                    if depth + 1 > MAX_TREE_DEPTH {
                        return Err(self
                            .malformed(&path, format!("more than {MAX_TREE_DEPTH} nested trees"))
                            .into());
                    }
                    subtrees.push((entry.id, path, depth + 1));
                } else {
                    visit(&path, entry)?;
                }
            }
            stack.extend(subtrees.into_iter().rev());
        }
        Ok(())
    }

    fn handle(&self) -> Handle<'_> {
        let pooled = self
            .handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let repo = pooled.unwrap_or_else(|| {
            let mut repo = self.repo.to_thread_local();
            repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
            repo
        });
        Handle {
            index: self,
            repo: Some(repo),
        }
    }

    fn malformed(&self, path: &str, reason: String) -> GitError {
        GitError::MalformedTree {
            commit: self.commit_id(),
            path: path.to_string(),
            reason,
        }
    }

    fn repository_error(&self, action: String, e: gix::Error) -> GitError {
        GitError::Repository {
            path: self.path.clone(),
            action,
            message: describe(&e),
        }
    }

    /// The validated entries of tree `id` (directory `dir`), from the shared
    /// cache when possible.
    fn tree_entries(
        &self,
        repo: &gix::Repository,
        id: ObjectId,
        dir: &str,
        buf: &mut Vec<u8>,
    ) -> Result<Entries, GitError> {
        if let Some(entries) = self
            .trees
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .trees
            .get(&id)
        {
            return Ok(Arc::clone(entries));
        }
        let entries = self.decode_tree(repo, id, dir, buf)?;
        let mut cache = self.trees.write().unwrap_or_else(PoisonError::into_inner);
        if cache.entries.saturating_add(entries.len()) <= TREE_CACHE_ENTRIES {
            cache.entries += entries.len();
            cache.trees.insert(id, Arc::clone(&entries));
        }
        Ok(entries)
    }

    /// Reads and validates tree `id` (directory `dir`): every entry decodes,
    /// names are UTF-8, normal path components and unique.
    fn decode_tree(
        &self,
        repo: &gix::Repository,
        id: ObjectId,
        dir: &str,
        buf: &mut Vec<u8>,
    ) -> Result<Entries, GitError> {
        let data = repo
            .objects
            .try_find(&id, buf)
            .map_err(|e| self.repository_error(format!("reading tree {id} at {dir:?}"), e))?
            .ok_or_else(|| self.malformed(dir, format!("tree object {id} is missing")))?;
        if data.kind != gix::objs::Kind::Tree {
            return Err(self.malformed(dir, format!("{id} is a {}, not a tree", data.kind)));
        }
        let mut entries = Vec::new();
        for entry in gix::objs::TreeRefIter::from_bytes(data.data, id.kind()) {
            let entry = entry
                .map_err(|e| self.malformed(dir, format!("undecodable entry: {}", describe(&e))))?;
            let name = std::str::from_utf8(entry.filename.as_ref()).map_err(|_| {
                self.malformed(dir, format!("entry name {:?} is not UTF-8", entry.filename))
            })?;
            if name.is_empty() || name == "." || name == ".." || name.contains('/') {
                return Err(self.malformed(dir, format!("entry name {name:?} is not a file name")));
            }
            entries.push(TreeEntry {
                name: name.into(),
                kind: entry.mode.kind(),
                id: entry.oid.to_owned(),
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(pair) = entries.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(self.malformed(dir, format!("entry name {:?} occurs twice", pair[0].name)));
        }
        Ok(entries.into())
    }

    /// Reads blob `id` (file `path`) into `buf`, refusing one of more than
    /// `max_len` bytes before inflating it.
    fn load_blob<'b>(
        &self,
        repo: &gix::Repository,
        path: &str,
        id: ObjectId,
        max_len: u64,
        buf: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], GitError> {
        let too_large = |size: u64| GitError::TooLarge {
            path: path.to_string(),
            commit: self.commit_id(),
            size,
            limit: max_len,
        };
        if max_len < MAX_ALLOC_BYTES {
            // The configured allocation limit covers `MAX_ALLOC_BYTES`;
            // anything lower is checked from the object's header first.
            let header = repo
                .find_header(id)
                .map_err(|e| self.repository_error(format!("reading blob {id} of {path}"), e))?;
            if header.size() > max_len {
                return Err(too_large(header.size()));
            }
        }
        let data = repo
            .objects
            .try_find(&id, buf)
            .map_err(|e| self.repository_error(format!("reading blob {id} of {path}"), e))?
            .ok_or_else(|| self.malformed(path, format!("blob {id} is missing")))?;
        if data.kind != gix::objs::Kind::Blob {
            return Err(self.malformed(path, format!("{id} is a {}, not a blob", data.kind)));
        }
        if data.data.len() as u64 > max_len {
            return Err(too_large(data.data.len() as u64));
        }
        Ok(data.data)
    }
}

fn find_entry<'e>(entries: &'e [TreeEntry], name: &str) -> Option<&'e TreeEntry> {
    entries
        .binary_search_by(|e| (*e.name).cmp(name))
        .ok()
        .map(|i| &entries[i])
}

/// Splits a relative `/`-separated path into normal components.
fn split_path(path: &str) -> Result<Vec<&str>, GitError> {
    let components: Vec<&str> = path.split('/').collect();
    if components
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == ".." || c.contains('\0'))
    {
        return Err(GitError::InvalidPath {
            path: path.to_string(),
        });
    }
    Ok(components)
}

/// Serves the files of a [`GitIndex`]'s tree as a [`Fetcher`]: URL
/// `git-index:///PATH` (percent-encoded, as in any URL) is file `PATH`.
///
/// An absent file, or a directory, is [`FetchError::NotFound`]; a file of
/// more than the caller's limit is [`FetchError::TooLarge`] without being
/// inflated; anything else that goes wrong is [`FetchError::Transport`].
#[derive(Clone, Debug)]
pub struct GitTreeFetcher {
    index: Arc<GitIndex>,
}

impl GitTreeFetcher {
    /// The URL prefix served: `git-index:///`.
    pub const URL_PREFIX: &'static str = "git-index:///";

    /// Serves the files of `index`.
    pub fn new(index: Arc<GitIndex>) -> Self {
        GitTreeFetcher { index }
    }

    /// The index served.
    pub fn index(&self) -> &Arc<GitIndex> {
        &self.index
    }

    /// The URL of directory `dir` of the tree (no leading `/`; empty for the
    /// top), ending in `/`, for use as a base URL (`tuf/metadata` gives
    /// `git-index:///tuf/metadata/`).
    pub fn base_url(dir: &str) -> String {
        let dir = dir.trim_matches('/');
        if dir.is_empty() {
            Self::URL_PREFIX.to_string()
        } else {
            format!("{}{dir}/", Self::URL_PREFIX)
        }
    }
}

impl Fetcher for GitTreeFetcher {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        let transport = |message: String| FetchError::Transport {
            url: url.to_string(),
            message,
        };
        let rest =
            url.strip_prefix(Self::URL_PREFIX)
                .ok_or_else(|| FetchError::UnsupportedScheme {
                    url: url.to_string(),
                })?;
        let path = percent_decode(rest)
            .ok_or_else(|| transport("invalid percent-encoding".to_string()))?;
        match self.index.read_file_limited(&path, max_len) {
            Ok(Some(bytes)) => {
                sink.write_all(&bytes).map_err(|source| FetchError::Sink {
                    url: url.to_string(),
                    source,
                })?;
                Ok(bytes.len() as u64)
            }
            Ok(None)
            | Err(GitError::NotAFile {
                kind: EntryKind::Directory,
                ..
            }) => Err(FetchError::NotFound {
                url: url.to_string(),
            }),
            Err(GitError::TooLarge { .. }) => Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: max_len,
            }),
            Err(e) => Err(transport(e.to_string())),
        }
    }
}

/// Decodes `%XX` escapes; `None` if one is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "civ-git-{tag}-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Runs the git program in `dir`, isolated from the user's configuration;
    /// returns its trimmed standard output.
    fn git(dir: &Path, args: &[&str]) -> String {
        git_with_input(dir, args, None)
    }

    fn git_with_input(dir: &Path, args: &[&str], input: Option<&str>) -> String {
        use std::process::Stdio;
        let mut child = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=Index Test",
                "-c",
                "user.email=index-test@example.invalid",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("git runs");
        {
            let mut stdin = child.stdin.take().unwrap();
            if let Some(input) = input {
                stdin.write_all(input.as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn write(root: &Path, path: &str, bytes: &[u8]) {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    /// An upstream index repository with a commit of a few files.
    fn upstream() -> TempDir {
        let dir = TempDir::new("upstream");
        git(dir.path(), &["init", "-q"]);
        write(
            dir.path(),
            "config.json",
            br#"{"dl":"https://example.invalid/dl"}"#,
        );
        write(
            dir.path(),
            "se/rd/serde",
            b"{\"name\":\"serde\",\"vers\":\"1.0.0\"}\n",
        );
        write(
            dir.path(),
            "3/s/syn",
            b"{\"name\":\"syn\",\"vers\":\"0.1.0\"}\n",
        );
        write(dir.path(), "tuf/metadata/1.root.json", b"{\"signed\":{}}");
        write(dir.path(), "tuf/tree/ab/cdef", b"tile");
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "index"]);
        dir
    }

    fn url(dir: &Path) -> String {
        format!("file://{}", dir.display())
    }

    fn head(dir: &Path) -> String {
        git(dir, &["rev-parse", "HEAD"])
    }

    #[test]
    fn clone_read_resync_and_open_offline() {
        let up = upstream();
        let cache_parent = TempDir::new("cache");
        let cache = cache_parent.path().join("nested/index");

        let index = GitIndex::sync(&url(up.path()), &cache).unwrap();
        assert_eq!(index.commit_id(), head(up.path()));
        assert_eq!(
            index.read_file("se/rd/serde").unwrap().unwrap(),
            b"{\"name\":\"serde\",\"vers\":\"1.0.0\"}\n"
        );
        assert_eq!(
            index.read_file("config.json").unwrap().unwrap(),
            br#"{"dl":"https://example.invalid/dl"}"#
        );
        assert_eq!(
            index.read_file("tuf/tree/ab/cdef").unwrap().unwrap(),
            b"tile"
        );
        assert!(index.read_file("se/rd/nope").unwrap().is_none());
        assert!(index.read_file("zz/zz/nope").unwrap().is_none());
        // A path through a file is absent, not an error.
        assert!(index.read_file("config.json/x").unwrap().is_none());
        assert!(matches!(
            index.read_file("se/rd"),
            Err(GitError::NotAFile {
                kind: EntryKind::Directory,
                ..
            })
        ));
        assert_eq!(
            index.list_files().unwrap(),
            [
                "config.json",
                "3/s/syn",
                "se/rd/serde",
                "tuf/metadata/1.root.json",
                "tuf/tree/ab/cdef"
            ]
        );

        // A new upstream commit is seen by the next sync of the same cache.
        write(
            up.path(),
            "se/rd/serde",
            b"{\"name\":\"serde\",\"vers\":\"1.0.1\"}\n",
        );
        write(up.path(), "ra/nd/rand", b"{\"name\":\"rand\"}\n");
        git(up.path(), &["commit", "-q", "-am", "update"]);
        git(up.path(), &["add", "-A"]);
        git(up.path(), &["commit", "-q", "-m", "add rand"]);
        let again = GitIndex::sync(&url(up.path()), &cache).unwrap();
        assert_eq!(again.commit_id(), head(up.path()));
        assert_ne!(again.commit_id(), index.commit_id());
        assert_eq!(
            again.read_file("se/rd/serde").unwrap().unwrap(),
            b"{\"name\":\"serde\",\"vers\":\"1.0.1\"}\n"
        );
        assert!(again.read_file("ra/nd/rand").unwrap().is_some());
        // The earlier handle still reads its own commit.
        assert_eq!(
            index.read_file("se/rd/serde").unwrap().unwrap(),
            b"{\"name\":\"serde\",\"vers\":\"1.0.0\"}\n"
        );

        // Offline: the upstream is gone, the cache still opens.
        let expected = again.commit_id();
        drop(up);
        let offline = GitIndex::open_cached(&cache).unwrap();
        assert_eq!(offline.commit_id(), expected);
        assert!(offline.read_file("ra/nd/rand").unwrap().is_some());
        // And a sync now fails as a transport error, leaving the cache usable.
        let err = GitIndex::sync(&url(&cache_parent.path().join("gone")), &cache).unwrap_err();
        assert!(err.is_transport(), "{err}");
        assert_eq!(GitIndex::open_cached(&cache).unwrap().commit_id(), expected);
    }

    #[test]
    fn force_pushed_history_is_fetched() {
        let up = upstream();
        let cache = TempDir::new("cache");
        let first = GitIndex::sync(&url(up.path()), cache.path()).unwrap();
        // Squash the history into a new root commit, as crates.io does.
        write(up.path(), "se/rd/serde", b"squashed");
        git(up.path(), &["checkout", "-q", "--orphan", "squashed"]);
        git(up.path(), &["add", "-A"]);
        git(up.path(), &["commit", "-q", "-m", "squash"]);
        git(up.path(), &["branch", "-q", "-D", "main"]);
        git(up.path(), &["branch", "-q", "-m", "main"]);
        let new_head = head(up.path());
        assert_eq!(git(up.path(), &["rev-list", "--count", "HEAD"]), "1");

        let second = GitIndex::sync(&url(up.path()), cache.path()).unwrap();
        assert_eq!(second.commit_id(), new_head);
        assert_ne!(second.commit_id(), first.commit_id());
        assert_eq!(
            second.read_file("se/rd/serde").unwrap().unwrap(),
            b"squashed"
        );
        assert_eq!(
            GitIndex::open_cached(cache.path()).unwrap().commit_id(),
            new_head
        );
    }

    #[test]
    fn fetch_failures_are_transport_errors() {
        let cache = TempDir::new("cache");
        let missing = TempDir::new("missing");
        let err = GitIndex::sync(&url(&missing.path().join("nope")), cache.path()).unwrap_err();
        assert!(err.is_transport(), "{err}");
        // A directory that exists but is not a repository.
        let plain = TempDir::new("plain");
        write(plain.path(), "config.json", b"{}");
        let err = GitIndex::sync(&url(plain.path()), cache.path()).unwrap_err();
        assert!(err.is_transport(), "{err}");
        // HTTP through libcurl: nothing listens on this loopback port.
        let err = GitIndex::sync("http://127.0.0.1:1/index.git", cache.path()).unwrap_err();
        assert!(err.is_transport(), "{err}");
        // Not a URL at all is the caller's mistake.
        let err = GitIndex::sync("::not a url::", cache.path()).unwrap_err();
        assert!(matches!(err, GitError::InvalidUrl { .. }), "{err}");
        // Nothing was fetched, so there is nothing to open offline.
        assert!(matches!(
            GitIndex::open_cached(cache.path()),
            Err(GitError::NotSynced { .. })
        ));
    }

    #[test]
    fn remote_without_head_commit() {
        let empty = TempDir::new("empty");
        git(empty.path(), &["init", "-q", "--bare"]);
        let cache = TempDir::new("cache");
        let err = GitIndex::sync(&url(empty.path()), cache.path()).unwrap_err();
        assert!(matches!(err, GitError::NoRemoteHead { .. }), "{err}");
    }

    #[test]
    fn unusable_cache_directories() {
        let up = upstream();
        // A non-empty directory that is not a repository is refused and left alone.
        let plain = TempDir::new("plain");
        write(plain.path(), "precious.txt", b"keep me");
        let err = GitIndex::sync(&url(up.path()), plain.path()).unwrap_err();
        assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
        assert!(!err.is_transport());
        assert_eq!(
            std::fs::read(plain.path().join("precious.txt")).unwrap(),
            b"keep me"
        );
        assert_eq!(std::fs::read_dir(plain.path()).unwrap().count(), 1);
        assert!(matches!(
            GitIndex::open_cached(plain.path()),
            Err(GitError::NotARepository { .. })
        ));
        // A repository with a work tree is not a cache either.
        let err = GitIndex::sync(&url(up.path()), up.path()).unwrap_err();
        assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
        // Never synced.
        let none = TempDir::new("none");
        assert!(matches!(
            GitIndex::open_cached(&none.path().join("missing")),
            Err(GitError::NotSynced { .. })
        ));
        // An empty directory becomes the cache.
        let empty = TempDir::new("emptycache");
        let index = GitIndex::sync(&url(up.path()), empty.path()).unwrap();
        assert_eq!(index.commit_id(), head(up.path()));
    }

    #[test]
    fn invalid_paths_are_refused() {
        let up = upstream();
        let cache = TempDir::new("cache");
        let index = GitIndex::sync(&url(up.path()), cache.path()).unwrap();
        for bad in [
            "",
            "/config.json",
            "se//rd/serde",
            "se/rd/",
            "./config.json",
            "se/../config.json",
        ] {
            assert!(
                matches!(index.read_file(bad), Err(GitError::InvalidPath { .. })),
                "{bad:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_limits() {
        let up = upstream();
        std::os::unix::fs::symlink("../../config.json", up.path().join("se/rd/link")).unwrap();
        git(up.path(), &["add", "-A"]);
        git(up.path(), &["commit", "-q", "-m", "link"]);
        let cache = TempDir::new("cache");
        let index = GitIndex::sync(&url(up.path()), cache.path()).unwrap();
        assert!(matches!(
            index.read_file("se/rd/link"),
            Err(GitError::NotAFile {
                kind: EntryKind::SymbolicLink,
                ..
            })
        ));
        assert!(index
            .list_files()
            .unwrap()
            .contains(&"se/rd/link".to_string()));
        let err = index
            .for_each_file(1 << 20, |_, _| Ok::<(), GitError>(()))
            .unwrap_err();
        assert!(matches!(err, GitError::NotAFile { .. }), "{err}");

        assert_eq!(
            index
                .read_file_limited("tuf/tree/ab/cdef", 4)
                .unwrap()
                .unwrap(),
            b"tile"
        );
        assert!(matches!(
            index.read_file_limited("tuf/tree/ab/cdef", 3),
            Err(GitError::TooLarge {
                size: 4,
                limit: 3,
                ..
            })
        ));
    }

    #[test]
    fn for_each_file_reads_everything() {
        let up = upstream();
        // One blob under two paths is visited under both.
        write(up.path(), "zz/dup/copy", b"tile");
        git(up.path(), &["add", "-A"]);
        git(up.path(), &["commit", "-q", "-m", "copy"]);
        let cache = TempDir::new("cache");
        let index = GitIndex::sync(&url(up.path()), cache.path()).unwrap();
        // Whole packs decoded, and blobs looked up one by one: the same files.
        for decode_packs in [true, false] {
            let mut seen = Vec::new();
            let from_packs = index
                .read_all(1 << 20, decode_packs, |path, bytes| {
                    assert_eq!(std::fs::read(up.path().join(path)).unwrap(), bytes);
                    seen.push(path.to_string());
                    Ok::<(), GitError>(())
                })
                .unwrap();
            assert_eq!(from_packs, if decode_packs { seen.len() } else { 0 });
            assert_eq!(seen.len(), 6);
            seen.sort();
            let mut listed = index.list_files().unwrap();
            listed.sort();
            assert_eq!(seen, listed, "decode_packs: {decode_packs}");
        }
        // The limit applies to every file; the visitor's error stops the walk.
        let err = index
            .for_each_file(10, |_, _| Ok::<(), GitError>(()))
            .unwrap_err();
        assert!(matches!(err, GitError::TooLarge { limit: 10, .. }), "{err}");
        let mut calls = 0;
        let err = index
            .for_each_file(1 << 20, |path, _| {
                calls += 1;
                Err(GitError::InvalidPath {
                    path: path.to_string(),
                })
            })
            .unwrap_err();
        assert!(matches!(err, GitError::InvalidPath { .. }));
        assert_eq!(calls, 1);
    }

    #[test]
    fn duplicate_tree_entries_are_rejected() {
        // Git never writes such a tree, but a server can send one.
        let up = TempDir::new("dup");
        git(up.path(), &["init", "-q", "--bare"]);
        let a = git_with_input(up.path(), &["hash-object", "-w", "--stdin"], Some("one"));
        let b = git_with_input(up.path(), &["hash-object", "-w", "--stdin"], Some("two"));
        let rd = git_with_input(
            up.path(),
            &["mktree"],
            Some(&format!("100644 blob {a}\tserde\n100644 blob {b}\tserde\n")),
        );
        let se = git_with_input(
            up.path(),
            &["mktree"],
            Some(&format!("040000 tree {rd}\trd\n")),
        );
        let ok = git_with_input(up.path(), &["hash-object", "-w", "--stdin"], Some("{}"));
        let root = git_with_input(
            up.path(),
            &["mktree"],
            Some(&format!(
                "100644 blob {ok}\tconfig.json\n040000 tree {se}\tse\n"
            )),
        );
        let commit = git_with_input(up.path(), &["commit-tree", &root, "-m", "dup"], None);
        git(up.path(), &["update-ref", "refs/heads/main", &commit]);

        let cache = TempDir::new("cache");
        let index = GitIndex::sync(&url(up.path()), cache.path()).unwrap();
        assert_eq!(index.commit_id(), commit);
        assert_eq!(index.read_file("config.json").unwrap().unwrap(), b"{}");
        let err = index.read_file("se/rd/serde").unwrap_err();
        assert!(
            matches!(&err, GitError::MalformedTree { path, .. } if path == "se/rd"),
            "{err}"
        );
        assert!(matches!(
            index.list_files(),
            Err(GitError::MalformedTree { .. })
        ));
    }

    #[test]
    fn parallel_reads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<GitIndex>();
        assert_send_sync::<GitTreeFetcher>();

        let up = upstream();
        for i in 0..50 {
            write(
                up.path(),
                &format!("ab/cd/crate-{i}"),
                format!("contents {i}\n").as_bytes(),
            );
        }
        git(up.path(), &["add", "-A"]);
        git(up.path(), &["commit", "-q", "-m", "many"]);
        let cache = TempDir::new("cache");
        let index = Arc::new(GitIndex::sync(&url(up.path()), cache.path()).unwrap());
        let files = index.list_files().unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let index = &index;
                let files = &files;
                let root = up.path();
                s.spawn(move || {
                    for path in files.iter().skip(t).step_by(2) {
                        let bytes = index.read_file(path).unwrap().unwrap();
                        assert_eq!(bytes, std::fs::read(root.join(path)).unwrap(), "{path}");
                    }
                });
            }
        });
    }

    #[test]
    fn tree_fetcher_serves_files_with_limits() {
        let up = upstream();
        write(up.path(), "tuf/metadata/1.a b.json", b"spaced");
        git(up.path(), &["add", "-A"]);
        git(up.path(), &["commit", "-q", "-m", "spaced"]);
        let cache = TempDir::new("cache");
        let index = Arc::new(GitIndex::sync(&url(up.path()), cache.path()).unwrap());
        let fetcher = GitTreeFetcher::new(Arc::clone(&index));

        let base = GitTreeFetcher::base_url("tuf/metadata");
        assert_eq!(base, "git-index:///tuf/metadata/");
        let root = format!("{base}1.root.json");
        assert_eq!(fetcher.fetch(&root, 13).unwrap(), b"{\"signed\":{}}");
        assert!(matches!(
            fetcher.fetch(&root, 12),
            Err(FetchError::TooLarge { limit: 12, .. })
        ));
        let mut sink = Vec::new();
        assert_eq!(fetcher.fetch_to(&root, 100, &mut sink).unwrap(), 13);
        assert_eq!(sink, b"{\"signed\":{}}");
        assert_eq!(
            fetcher.fetch(&format!("{base}1.a%20b.json"), 100).unwrap(),
            b"spaced"
        );
        assert!(matches!(
            fetcher.fetch(&format!("{base}2.root.json"), 100),
            Err(FetchError::NotFound { .. })
        ));
        assert!(matches!(
            fetcher.fetch("git-index:///tuf/metadata", 100),
            Err(FetchError::NotFound { .. })
        ));
        assert!(matches!(
            fetcher.fetch("file:///tuf/metadata/1.root.json", 100),
            Err(FetchError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            fetcher.fetch("git-index:///tuf/../config.json", 100),
            Err(FetchError::Transport { .. })
        ));
        assert!(matches!(
            fetcher.fetch("git-index:///tuf/%zz", 100),
            Err(FetchError::Transport { .. })
        ));
        // Usable wherever a `Fetcher` is expected.
        fn takes_fetcher<F: Fetcher>(f: F) -> Vec<u8> {
            f.fetch("git-index:///config.json", 1000).unwrap()
        }
        assert_eq!(
            takes_fetcher(fetcher.clone()),
            br#"{"dl":"https://example.invalid/dl"}"#
        );
    }
}
