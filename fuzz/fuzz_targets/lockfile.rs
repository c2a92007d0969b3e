//! `Cargo.lock` as cargo index-verify reads it (any bytes, any version),
//! and the source ids and package references inside it.
#![no_main]

use cargo_index_verify::lockfile::{Lockfile, PackageRef, SourceId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(lock) = Lockfile::parse_bytes("Cargo.lock", data) {
        for p in &lock.packages {
            if let Some(s) = &p.source {
                // A parsed source id prints back to a string that parses
                // to the same source.
                let again = SourceId::parse(&s.to_string()).expect("round trip");
                assert_eq!(&again, s);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = SourceId::parse(text);
        let _ = PackageRef::parse(text);
    }
});
