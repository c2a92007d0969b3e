//! The verification paths both tools share, from one pinned root.
//!
//! ```text
//! pinned root ──► root repository ──► targets ──► releases ──► dist/..., rustup/...
//!                        │                                       (rustup-verify)
//!                        └──► targets: crates-repository/root.json
//!                                   │
//!                                   ▼
//!                             crates repository ──► the index   (cargo index-verify)
//! ```
//!
//! [`open_pinned`] opens the trusted state of a pinned repository under
//! `$CARGO_HOME/tuf/state/` (bootstrapping it from the pinned root the first
//! time) and refreshes it through whatever URL the caller gives: the
//! upstream or any mirror. Whatever root the mirror serves is only accepted
//! if it chains to the pin. [`crates_repository_root`] fetches the crates
//! repository's root as a verified target of the root repository, and
//! [`open_crates_repository`] opens the crates repository from it.

use crate::pins::Pin;
use shared_trust::crypto::sha256_hex;
use shared_trust::fetcher::Fetcher;
use shared_trust::updater::{self, Config, Updater};
use std::path::{Path, PathBuf};

/// Target path, in the root repository, of the crates repository's root.
pub const CRATES_ROOT_TARGET: &str = "crates-repository/root.json";

/// Why a verification path failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The repository did not verify, or could not be fetched.
    #[error("{repository}: {source}")]
    Update {
        /// Which repository (pin name, or `NAME/crates`).
        repository: String,
        /// Cause.
        #[source]
        source: Box<updater::Error>,
    },
    /// The root repository publishes no crates repository root.
    #[error("{repository}: the root repository lists no {CRATES_ROOT_TARGET} target")]
    NoCratesRoot {
        /// Which repository.
        repository: String,
    },
}

fn update_err(repository: &str) -> impl FnOnce(updater::Error) -> ChainError + '_ {
    move |source| ChainError::Update {
        repository: repository.to_string(),
        source: Box::new(source),
    }
}

/// Opens and refreshes the repository a pin names, through `metadata_url`
/// (upstream or mirror). `now` is the reference time (Unix seconds).
pub fn open_pinned<F: Fetcher>(
    pin: &Pin,
    cargo_home: &Path,
    metadata_url: &str,
    fetcher: F,
    now: i64,
) -> Result<Updater<F>, ChainError> {
    open_state(
        &pin.name,
        &pin.state_dir(cargo_home),
        &pin.root,
        metadata_url,
        fetcher,
        now,
    )
}

fn open_state<F: Fetcher>(
    name: &str,
    state: &Path,
    root: &[u8],
    metadata_url: &str,
    fetcher: F,
    now: i64,
) -> Result<Updater<F>, ChainError> {
    if !state.join("root.json").exists() {
        updater::bootstrap(state, root, now).map_err(update_err(name))?;
    }
    let mut up = Updater::new(state, metadata_url, fetcher, Config::default(), now)
        .map_err(update_err(name))?;
    up.refresh().map_err(update_err(name))?;
    Ok(up)
}

/// The crates repository's root, as a verified target of the root repository.
pub fn crates_repository_root<F: Fetcher>(
    root_repo: &mut Updater<F>,
    repository: &str,
    targets_base_url: &str,
) -> Result<Vec<u8>, ChainError> {
    fetch_crates_root(root_repo, repository, targets_base_url, None)
}

/// [`crates_repository_root`], reusing a local copy at `cache` when it
/// still matches the verified target entry (length and hashes), and
/// keeping the downloaded one there otherwise.
pub fn crates_repository_root_cached<F: Fetcher>(
    root_repo: &mut Updater<F>,
    repository: &str,
    targets_base_url: &str,
    cache: &Path,
) -> Result<Vec<u8>, ChainError> {
    fetch_crates_root(root_repo, repository, targets_base_url, Some(cache))
}

fn fetch_crates_root<F: Fetcher>(
    root_repo: &mut Updater<F>,
    repository: &str,
    targets_base_url: &str,
    cache: Option<&Path>,
) -> Result<Vec<u8>, ChainError> {
    let info = root_repo
        .get_targetinfo(CRATES_ROOT_TARGET)
        .map_err(update_err(repository))?
        .ok_or_else(|| ChainError::NoCratesRoot {
            repository: repository.to_string(),
        })?;
    if let Some(bytes) = cache.and_then(|c| std::fs::read(c).ok()) {
        let matches = shared_trust::trusted::check_length_and_hashes(
            CRATES_ROOT_TARGET,
            "targets",
            &bytes,
            Some(info.length),
            Some(&info.hashes),
        )
        .is_ok();
        if matches {
            return Ok(bytes);
        }
    }
    let bytes = root_repo
        .download_target_bytes(CRATES_ROOT_TARGET, &info, targets_base_url)
        .map_err(update_err(repository))?;
    if let Some(c) = cache {
        // A cache that cannot be written only costs a download next time.
        let _ = shared_trust::store::write_atomic_with(c, &bytes, false);
    }
    Ok(bytes)
}

/// Where the crates repository's trusted state lives: keyed by the pin and
/// by the crates root the root repository published, so a re-keyed crates
/// repository (a new root published by the root repository) starts fresh.
pub fn crates_state_dir(pin: &Pin, cargo_home: &Path, crates_root: &[u8]) -> PathBuf {
    crates_state_dir_for_hash(pin, cargo_home, &sha256_hex(crates_root))
}

/// [`crates_state_dir`] from the SHA-256 (hex) of the crates root, as the
/// root repository's target entry lists it (for offline use).
pub fn crates_state_dir_for_hash(pin: &Pin, cargo_home: &Path, sha256: &str) -> PathBuf {
    let short = sha256.get(..16).unwrap_or(sha256);
    cargo_home.join("tuf").join("state").join(format!(
        "{}-{}-crates-{}",
        pin.name,
        pin.fingerprint(),
        short
    ))
}

/// Opens and refreshes the crates repository reached from a pin.
pub fn open_crates_repository<F: Fetcher>(
    pin: &Pin,
    cargo_home: &Path,
    crates_root: &[u8],
    metadata_url: &str,
    fetcher: F,
    now: i64,
) -> Result<Updater<F>, ChainError> {
    let name = format!("{}/crates", pin.name);
    open_state(
        &name,
        &crates_state_dir(pin, cargo_home, crates_root),
        crates_root,
        metadata_url,
        fetcher,
        now,
    )
}
