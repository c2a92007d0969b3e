//! # cargo-index-verify
//!
//! The `cargo index-verify` subcommand (client) and the registry
//! operator's `index-sign` (signer), around the index commitment of
//! `shared_trust::index` (design: `docs/index-commitment.md`).
//!
//! ## Architecture
//!
//! ```text
//!  index-sign ──► sign ──► INDEX/tuf/{metadata,tree}  (static files beside the index)
//!                                   │ any web server, CDN or mirror
//!                                   ▼
//!  cargo index-verify ──► project ──► config + lockfile     (what cargo would use)
//!                              │
//!                              ├─► transport  (sparse/HTTP with ETag, git via gix, dir, offline)
//!                              └─► verify     (pin → TUF chain → commitment → per package)
//!                                      └─► cargo_cache (cargo's .crate and index caches)
//!  cargo index-verify mirror ──► mirror      (whole index + every .crate of a mirror)
//! ```
//!
//! - [`binding`]: where the metadata lives relative to a registry URL and
//!   how the commitment rides in a TUF target (`index/commitment` of the
//!   online `index` role).
//! - [`sign`]: init, incremental publish, timestamp renewal.
//! - [`lockfile`], [`config`], [`cargo_cache`]: reading `Cargo.lock`
//!   (v1–v4), cargo's configuration (source replacement, registries,
//!   offline) and cargo's caches, as cargo does. Pure parsers, fuzzed.
//! - [`git`]: git indexes fetched with gix, read from the fetched commit.
//! - [`transport`]: untrusted bytes in, with byte limits and caches.
//! - [`verify`]: the checks for one registry; nothing is persisted unless
//!   every check passes.
//! - [`project`], [`mirror`], [`report`]: the two modes and their output.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod binding;
pub mod cargo_cache;
pub mod config;
pub mod git;
pub mod lockfile;
pub mod mirror;
pub mod project;
pub mod report;
pub mod sign;
pub mod transport;
pub mod verify;
