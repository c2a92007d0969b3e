//! # rustup-verify
//!
//! Will hold the rustup download hook (hands rustup only channel manifests
//! whose signatures chain to the pinned root, and artifacts matching them)
//! and the release team's manifest-signing command.
//!
//! Not built yet: this crate has no API and no binary.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
