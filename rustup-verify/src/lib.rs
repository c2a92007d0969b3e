//! # rustup-verify: signed Rust releases for real, unmodified rustup
//!
//! rustup checks a toolchain only against a `.sha256` fetched from the same
//! server as the toolchain, and `rustup self update` checks nothing. This
//! crate closes that gap without changing rustup: rustup downloads through
//! a loopback endpoint (its `RUSTUP_DIST_SERVER` and `RUSTUP_UPDATE_ROOT`)
//! that hands it only files whose signatures chain to a pinned root.
//!
//! ## Architecture
//!
//! ```text
//!  release team                         user / CI
//!  ────────────                         ─────────
//!  rustup-verify release sign           rustup ──HTTP──► hook (hook.rs, http.rs)
//!    release.rs: dist tree ──►                             │ classify (layout.rs)
//!    root repository targets                               ▼
//!    (releases, nightly roles)          Verifier (verify.rs) ── pin (trust-roots)
//!            │                              │ refresh root repository (shared-trust)
//!            ▼                              │ signed target ──► manifest (manifest.rs)
//!  SERVER/tuf/metadata ─────mirror──────────┘ artifact sha256 ◄── verified manifest
//!  SERVER/dist, SERVER/rustup                 stream to disk, hash, then serve
//!
//!  rustup-verify check: the same Verifier over file:// (check.rs)
//! ```
//!
//! - [`layout`]: the dist tree as rustup sees it, target paths, and where
//!   metadata lives (`SERVER/tuf/metadata/`). Pure.
//! - [`manifest`]: channel manifests and `release-stable.toml`; the map
//!   from server path to expected SHA-256. Pure.
//! - [`verify`]: [`verify::Verifier`] (pin + upstream + fetcher) and its
//!   [`verify::Session`] over the refreshed root repository; streaming
//!   verified downloads; errors that say what, which file, expected and
//!   found, and which kind of failure.
//! - [`http`]: the little HTTP/1.1 the hook speaks. Parsing is pure.
//! - [`hook`]: the download hook (thread per connection, verified bytes
//!   only, large files via disk).
//! - [`check`]: offline verification of a manifest file or a dist tree.
//! - [`release`]: the release team's signing command.
//!
//! The binary `rustup-verify` is a thin command line over these
//! (`run`, `serve`, `check`, `release sign`); see `docs/rustup-verify.md`.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod check;
pub mod hook;
pub mod http;
pub mod layout;
pub mod manifest;
pub mod release;
pub mod verify;

#[cfg(test)]
mod tests;
