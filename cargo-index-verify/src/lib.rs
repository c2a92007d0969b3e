//! # cargo-index-verify
//!
//! Will hold the `cargo index-verify` subcommand (checks every locked
//! registry package against a signed, fresh snapshot of the whole index,
//! through any mirror) and the registry operator's index-signing command.
//!
//! Not built yet: this crate has no API and no binary.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
