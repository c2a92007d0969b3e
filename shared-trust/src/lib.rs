//! # shared-trust: the trust core
//!
//! A TUF 1.0 client and repository library shared by `cargo index-verify`
//! and `rustup-verify`. Mirrors are untrusted transport: every byte a tool
//! acts on is proven by signatures chained to a pinned root.
//!
//! ## Architecture
//!
//! ```text
//!            bytes + reference time                      verified types
//!  Updater ─────────────────────────► TrustedMetadataSet ───────────────►
//!   │  ▲                               (trusted.rs: sans-I/O state machine,
//!   │  │ bytes (≤ limit)                load-order rules in its docs)
//!   ▼  │                                      │ uses
//!  Fetcher (fetcher.rs)                       ▼
//!   file://, http(s) via curl     Metadata<T> (metadata.rs) ── canonical.rs
//!                                  Key / Signer (crypto.rs)
//!   │
//!   ▼ verified bytes only, atomically, under a lock
//!  store.rs (persisted trusted state)
//! ```
//!
//! - [`canonical`]: OLPC canonical JSON, what signatures cover.
//! - [`crypto`]: ed25519, ECDSA P-256 and RSASSA-PSS verification; signers;
//!   sha256/sha512.
//! - [`metadata`]: the metadata model (root, timestamp, snapshot, targets,
//!   delegations by paths, hash prefixes and TAP 15 succinct bins), parsed
//!   strictly but keeping unknown fields.
//! - [`trusted`]: [`TrustedMetadataSet`], the state machine that decides
//!   what is trusted. It never touches disk, network, clock or environment.
//! - [`updater`]: [`Updater`], the TUF detailed client workflow around the
//!   state machine: root rotation, timestamp, snapshot, targets, lazy
//!   delegation search, consistent-snapshot URLs, fast-forward recovery.
//! - [`fetcher`]: the [`Fetcher`] trait (byte limit on every call, enforced
//!   while streaming), `file://` and curl implementations, time-outs.
//! - [`store`]: atomic writes, directory lock, role-name encoding.
//! - [`repository`]: the producer side: build, sign (also threshold signing
//!   by several holders over a staged file), bump, delegate (hashed bins,
//!   succinct roles), and write a static repository directory.
//! - [`index`]: the index commitment, a content-addressed tiled Merkle
//!   map over every crate file of a registry index (sans-I/O build,
//!   incremental update, and verified lookup).
//! - [`keyfile`]: private key files (0600, never printed) and public
//!   key exports for key holders.
//! - [`time`]: expiry timestamps without a calendar library.
//!
//! Errors are split by cause: [`trusted::TrustError`] for data that does
//! not verify (and [`trusted::TrustError::OutOfOrder`] for caller misuse),
//! [`fetcher::FetchError`] for transport, [`store::StoreError`] for local
//! state; [`updater::Error`] wraps them, keeping each source.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod canonical;
mod canonical_fast;
pub mod crypto;
pub mod fetcher;
pub mod index;
pub mod keyfile;
pub mod metadata;
pub mod repository;
pub mod store;
pub mod time;
pub mod trusted;
pub mod updater;

pub use fetcher::{AnyFetcher, FetchError, Fetcher, FileFetcher};
pub use metadata::{Metadata, MetadataError};
pub use trusted::{TrustError, TrustedMetadataSet};
pub use updater::Updater;
