//! Persisted trusted state: one directory per repository holding the exact
//! bytes of each verified metadata file.
//!
//! - Files are written atomically (temporary file in the same directory,
//!   flushed, renamed over the old one), so a crash or a failed update never
//!   leaves a torn file.
//! - Only the updater writes here, and only metadata that passed every check.
//! - Nothing read from here is trusted as is: the updater re-verifies it.
//! - A [`StoreLock`] (an exclusive `flock` on the directory itself, so no
//!   extra file appears in it) keeps two runs from updating the same state at
//!   once.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An I/O failure on trusted state, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct StoreError {
    /// File or directory.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: io::Error,
}

fn err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `data` to `path` atomically: a temporary file beside it, synced,
/// then renamed over `path`.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    write_atomic_with(path, data, true)
}

/// Like [`write_atomic`], syncing the data to disk before the rename only
/// when `sync` is set. Without it a crash may leave an empty or old file,
/// never a torn one; use it only for files that are re-verified on every
/// load and cost nothing but a download when lost (cached delegated roles).
pub fn write_atomic_with(path: &Path, data: &[u8], sync: bool) -> Result<(), StoreError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(err(&tmp))?;
        f.write_all(data).map_err(err(&tmp))?;
        if sync {
            f.sync_all().map_err(err(&tmp))?;
        }
        fs::rename(&tmp, path).map_err(err(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Reads a file, `None` if it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// Removes a file if it exists.
pub fn remove_optional(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// An exclusive lock on a state directory, released on drop.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// Locks `dir`, waiting for another holder to finish.
    pub fn acquire(dir: &Path) -> Result<Self, StoreError> {
        let file = File::open(dir).map_err(err(dir))?;
        file.lock().map_err(err(dir))?;
        Ok(StoreLock { _file: file })
    }

    /// Locks `dir` if nobody holds it; `Ok(None)` if somebody does.
    pub fn try_acquire(dir: &Path) -> Result<Option<Self>, StoreError> {
        let file = File::open(dir).map_err(err(dir))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(StoreLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(StoreError {
                path: dir.to_path_buf(),
                source: e,
            }),
        }
    }
}

/// Percent-encodes a role name for use as a file name or URL segment, as
/// python-tuf does (`urllib.parse.quote(name, safe="")`): everything but
/// ASCII letters, digits and `_.-~` is encoded.
pub fn encode_role_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The file name role metadata is published under: `VERSION.ROLE.json`
/// with consistent snapshots, `ROLE.json` without; the role name is
/// percent-encoded ([`encode_role_name`]), as in its URL.
pub fn metadata_file_name(role: &str, version: u64, consistent_snapshot: bool) -> String {
    let role = encode_role_name(role);
    if consistent_snapshot {
        format!("{version}.{role}.json")
    } else {
        format!("{role}.json")
    }
}

/// A target path with its basename prefixed by one of its hashes, as
/// consistent snapshots publish targets: `DIR/HASH.NAME` (or `HASH.NAME`).
pub fn hash_prefixed_target_path(target_path: &str, hash: &str) -> String {
    match target_path.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/{hash}.{name}"),
        None => format!("{hash}.{target_path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn lock_is_exclusive() {
        let d = tempfile::tempdir().unwrap();
        let held = StoreLock::acquire(d.path()).unwrap();
        assert!(StoreLock::try_acquire(d.path()).unwrap().is_none());
        drop(held);
        assert!(StoreLock::try_acquire(d.path()).unwrap().is_some());
    }

    #[test]
    fn published_names() {
        assert_eq!(metadata_file_name("a b", 3, true), "3.a%20b.json");
        assert_eq!(metadata_file_name("snapshot", 3, false), "snapshot.json");
        assert_eq!(hash_prefixed_target_path("d/e/f.txt", "ab"), "d/e/ab.f.txt");
        assert_eq!(hash_prefixed_target_path("f.txt", "ab"), "ab.f.txt");
    }

    #[test]
    fn role_names_encode() {
        assert_eq!(encode_role_name("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_role_name("bin-0a"), "bin-0a");
        assert_eq!(encode_role_name("../x"), "..%2Fx");
    }
}
