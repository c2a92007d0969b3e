//! # trust-roots
//!
//! Will hold the pinned roots both tools trust, how a user pins another root
//! (for a company mirror or a private registry), and the root-ceremony tool
//! for key holders.
//!
//! Not built yet: this crate has no API and ships no root. The Rust Project
//! has not published a TUF root, and no key here will ever pretend to be the
//! Project's. The signing and verification this crate will use already
//! exist in `shared-trust` (`repository::{stage, add_signature,
//! signature_status}`, `Repository::install_root`).
#![warn(missing_docs)]
#![forbid(unsafe_code)]
