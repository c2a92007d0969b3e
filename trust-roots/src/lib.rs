//! # trust-roots: pinned roots and the root ceremony
//!
//! ## Architecture
//!
//! - [`pins`]: which root verifies which registry, mirror or dist server.
//!   Built-in roots are compiled in from `builtin/roots.json`, a reviewed
//!   data file a release of this crate can update. **The Rust Project has
//!   not published a TUF root yet: the built-in set is empty**, and no key
//!   here pretends to be the Project's. Users and company images pin roots
//!   in `$CARGO_HOME/tuf/pins.json` and a system-wide file; a built-in root
//!   is never overridden silently.
//! - [`ceremony`]: the key holders' side: stage root and top-level targets
//!   versions, collect signatures offline one holder at a time, publish only
//!   when every threshold is met, rotate and revoke keys, renew expiries.
//! - [`chain`]: the verification paths both tools share: open a pinned
//!   repository, follow the `releases` delegation, and reach the crates
//!   repository through its root published as a target of the root
//!   repository.
//!
//! The `trust-roots` binary is a thin command line over these modules
//! (`trust-roots pin ...`, `trust-roots ceremony ...`).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod ceremony;
pub mod chain;
pub mod cli;
pub mod pins;
