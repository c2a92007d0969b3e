//! Cargo's own index cache files (`registry/index/*/.cache/...`) and
//! `.crate` file names, which cargo index-verify reads from disk.
#![no_main]

use cargo_index_verify::cargo_cache;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cache) = cargo_cache::parse_index_cache("fuzz/.cache/fu/zz/fuzz", data) {
        for (version, _) in &cache.entries {
            assert!(cache.get(version).is_some());
        }
    }
    if let Ok(name) = std::str::from_utf8(data) {
        if let Some((krate, version)) = cargo_cache::split_crate_file_name(name) {
            assert!(!krate.is_empty() && !version.is_empty());
        }
        let _ = cargo_cache::index_path(name);
        let _ = cargo_cache::cache_host(name);
    }
});
