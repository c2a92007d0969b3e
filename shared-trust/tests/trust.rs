//! The trust core's failure modes, as one integration-test binary.
//!
//! - `sim`: an in-memory repository simulator (the real `Repository`) and a
//!   fake `Fetcher` with a request log, plus helpers to tamper with bytes.
//! - `set`: `TrustedMetadataSet` fed with bytes, one test per failure mode.
//! - `updater`: the `Updater` against the simulator and a temporary
//!   metadata directory: what is persisted, what is fetched, recovery.
//! - `delegation`: delegated targets search through the `Updater`.
//! - `net`: fetchers against real misbehaving sockets on 127.0.0.1 and
//!   against endless local files.

/// Asserts that an error matches a pattern (with an optional guard) and
/// that its Display message contains each of the given strings.
macro_rules! assert_variant {
    ($err:expr, $pat:pat $(if $cond:expr)?, $needles:expr) => {{
        let err = $err;
        assert!(
            matches!(&err, $pat $(if $cond)?),
            "unexpected error: {err:?}\n  ({err})"
        );
        $crate::sim::assert_msg(&err, $needles);
    }};
}

#[path = "trust/sim.rs"]
mod sim;

#[path = "trust/set.rs"]
mod set;

#[path = "trust/updater.rs"]
mod updater;

#[path = "trust/delegation.rs"]
mod delegation;

#[path = "trust/net.rs"]
mod net;
