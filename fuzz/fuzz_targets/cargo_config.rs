//! Cargo configuration as cargo index-verify reads it: arbitrary
//! `--config` values and environment values, then source resolution of
//! crates.io and of an arbitrary source id. No file is read but the
//! (absent) config files of an empty directory.
#![no_main]

use cargo_index_verify::config::CargoConfig;
use cargo_index_verify::lockfile::SourceId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\u{0}');
    let cli: Vec<String> = parts
        .next()
        .unwrap_or("")
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let env_value = parts.next().map(str::to_string);
    let source = parts.next().unwrap_or("");
    let dir = std::env::temp_dir().join("cargo-index-verify-fuzz-empty");
    let _ = std::fs::create_dir_all(&dir);
    let env = |key: &str| {
        (key.starts_with("CARGO_REGISTRIES_") || key.starts_with("CARGO_SOURCE_"))
            .then(|| env_value.clone())
            .flatten()
    };
    let Ok(config) = CargoConfig::load(&dir, &dir.join("home"), &cli, &env) else {
        return;
    };
    let _ = config.offline();
    let _ = config.resolve(&SourceId::crates_io());
    if let Ok(s) = SourceId::parse(source) {
        let _ = config.resolve(&s);
        let _ = config.registry_name_for(&s);
    }
});
