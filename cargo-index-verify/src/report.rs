//! Rendering results: the human summary and the JSON document for CI.
//!
//! JSON format (one object on stdout; keys come out in alphabetical order):
//!
//! ```json
//! {
//!   "format": 1,
//!   "result": "verified" | "failed",
//!   "lockfile": "path/Cargo.lock", "lockfile_version": 4,   // project mode
//!   "offline": false,
//!   "requests": 12, "bytes": 5321,                          // HTTP traffic of the run
//!   "registries": [{
//!     "registry": "crates-io", "registry_url": "...", "mirror": "...",
//!     "pin": "...", "snapshot_version": 3, "timestamp_version": 9,
//!     "expires": "2026-11-26T00:00:00Z",
//!     "commitment": {"root": "...", "depth": 4, "files": 31839, "generation": 12},
//!     "packages": 7, "verified": 7,
//!     "cached_crates_checked": 7, "cached_index_entries_checked": 40,
//!     "full_refresh": false,        // both repositories asked for new roots
//!     "index_files_fetched": 0,     // crate files taken from the mirror
//!     "index_files_reused": 7,      // copies verified before, still the signed ones
//!     "notes": ["..."],
//!     "failures": [{"kind": "lockfile-checksum", "crate": "serde",
//!                   "version": "1.0.102", "file": "Cargo.lock",
//!                   "expected": "...", "found": "...", "message": "..."}]
//!   }],
//!   "skipped": ["foo 0.1.0 (path)"]
//! }
//! ```
//!
//! `failures[].kind` is one of `pin`, `metadata`, `commitment`,
//! `index-file`, `version`, `lockfile-checksum`, `history`, `crate-cache`,
//! `index-cache`, `vendored`, `crate-file` (mirror mode). Optional fields
//! are left out when empty. In mirror mode the registry object is the only
//! one and also has `files`, `ignored` and `crates` counts. Field names are
//! stable; new fields may be added.

use crate::verify::RegistryReport;
use std::io::Write;

/// ANSI styling, on or off.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Whether to emit colours.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// Green bold.
    pub fn good(&self, s: &str) -> String {
        self.paint("1;32", s)
    }
    /// Red bold.
    pub fn bad(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    /// Yellow.
    pub fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }
}

/// Writes the human summary of one registry.
pub fn write_registry(
    w: &mut dyn Write,
    r: &RegistryReport,
    style: Style,
    verbose: bool,
) -> std::io::Result<()> {
    writeln!(w, "registry {} ({})", r.registry, r.registry_url)?;
    if let Some(m) = &r.mirror {
        writeln!(w, "  through: {m}")?;
    }
    if let Some(p) = &r.pin {
        writeln!(w, "  pinned root: {p}")?;
    }
    if let (Some(s), Some(t)) = (r.snapshot_version, r.timestamp_version) {
        writeln!(
            w,
            "  signed snapshot version {s}, timestamp version {t}, expires {}",
            r.expires.as_deref().unwrap_or("?")
        )?;
    }
    if let Some(c) = &r.commitment {
        writeln!(
            w,
            "  index generation {} ({} crate files, root {}…)",
            c.generation,
            c.files,
            &c.root[..16.min(c.root.len())]
        )?;
    }
    if r.packages > 0 {
        writeln!(
            w,
            "  packages verified: {} of {}; cargo's cache: {} .crate files, {} index entries checked",
            r.verified, r.packages, r.cached_crates_checked, r.cached_index_entries_checked
        )?;
    }
    if verbose && r.commitment.is_some() {
        writeln!(
            w,
            "  index files: {} from the mirror, {} verified before and still the signed ones; {}",
            r.index_files_fetched,
            r.index_files_reused,
            if r.full_refresh {
                "both repositories asked for new roots"
            } else {
                "roots and root repository as verified before"
            }
        )?;
    }
    let shown_notes = if verbose {
        r.notes.len()
    } else {
        r.notes.len().min(5)
    };
    for n in &r.notes[..shown_notes] {
        writeln!(w, "  {} {n}", style.warn("note:"))?;
    }
    if shown_notes < r.notes.len() {
        writeln!(
            w,
            "  ({} more notes; -v shows them)",
            r.notes.len() - shown_notes
        )?;
    }
    for f in &r.failures {
        writeln!(w, "  {} {}", style.bad("FAILED:"), f.message)?;
        if verbose {
            if let (Some(e), Some(found)) = (&f.expected, &f.found) {
                writeln!(w, "          expected {e}, found {found}")?;
            }
        }
    }
    Ok(())
}

/// The closing line.
pub fn write_result(w: &mut dyn Write, failures: usize, style: Style) -> std::io::Result<()> {
    if failures == 0 {
        writeln!(w, "{}", style.good("verified"))
    } else {
        writeln!(
            w,
            "{}: {failures} failure{}",
            style.bad("verification failed"),
            if failures == 1 { "" } else { "s" }
        )
    }
}
