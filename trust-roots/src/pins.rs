//! Pinned roots: which root verifies which registry, mirror or dist server.
//!
//! Three sources, in the order they are consulted:
//!
//! 1. **User pins**, in `$CARGO_HOME/tuf/pins.json`, managed with
//!    `trust-roots pin add|list|show|remove`.
//! 2. **System pins**, in `/etc/cargo-tuf/pins.json` (or the file named by
//!    `CARGO_TUF_SYSTEM_PINS`), for company images; same format.
//! 3. **Built-in roots**, compiled in from `trust-roots/builtin/roots.json`.
//!
//! Each pin names the URLs it covers; a URL is covered by a pin URL when
//! they are equal or the pin URL is a path prefix of it (after dropping
//! `sparse+`/`registry+` prefixes, trailing slashes, and lower-casing the
//! scheme and host).
//!
//! Policy:
//!
//! - A pin never comes from the network. A mirror of a registry is verified
//!   against the root pinned for that registry (or for the mirror URL by the
//!   user); whatever root the mirror serves is only ever a candidate
//!   *update*, accepted if and only if it chains to the pinned one.
//! - A built-in root cannot be silently overridden: a user or system pin
//!   that covers a URL a built-in root covers is refused unless it was added
//!   with `override_builtin`, and resolution then reports the override so
//!   the tools can show it.
//! - Two pins of the same source may not cover the same URL.
//!
//! A pin's root must be root metadata signed by its own threshold; expiry is
//! not required (the client walks forward to a current root).

use shared_trust::crypto::sha256_hex;
use shared_trust::metadata::{Metadata, Root};
use shared_trust::store;
use shared_trust::trusted::TrustedMetadataSet;
use std::path::{Path, PathBuf};

/// The compiled-in set of built-in roots (reviewed data).
pub const BUILTIN_ROOTS_JSON: &str = include_str!("../builtin/roots.json");

/// Environment variable naming the system-wide pins file.
pub const SYSTEM_PINS_ENV: &str = "CARGO_TUF_SYSTEM_PINS";

/// Default system-wide pins file.
pub const SYSTEM_PINS_DEFAULT: &str = "/etc/cargo-tuf/pins.json";

/// Where a pin comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PinSource {
    /// `$CARGO_HOME/tuf/pins.json`.
    User,
    /// The system-wide pins file.
    System,
    /// Compiled into the tools.
    Builtin,
}

impl std::fmt::Display for PinSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PinSource::User => "user",
            PinSource::System => "system",
            PinSource::Builtin => "built-in",
        })
    }
}

/// Why pins could not be read, changed or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// Reading or writing a pins file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A pins file is not valid.
    #[error("{path}: not a valid pins file: {reason}")]
    BadFile {
        /// File.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A root is not valid self-signed root metadata.
    #[error(
        "pin {name:?}: the root is not valid root metadata signed by its own threshold: {source}"
    )]
    BadRoot {
        /// Pin name.
        name: String,
        /// Cause.
        #[source]
        source: Box<shared_trust::TrustError>,
    },
    /// Two pins of one source cover the same URL.
    #[error("pins {first:?} and {second:?} ({source_kind}) both cover {url}")]
    Overlap {
        /// First pin.
        first: String,
        /// Second pin.
        second: String,
        /// URL covered twice.
        url: String,
        /// Source of both.
        source_kind: PinSource,
    },
    /// A pin covers a built-in root's URL without saying so.
    #[error("{source_kind} pin {name:?} covers {url}, which the built-in root {builtin:?} covers; add it with --override-builtin to replace the built-in root explicitly")]
    SilentOverride {
        /// Pin name.
        name: String,
        /// Source.
        source_kind: PinSource,
        /// URL.
        url: String,
        /// Built-in root's name.
        builtin: String,
    },
    /// No such pin.
    #[error("no user pin named {0:?}")]
    NoSuchPin(String),
    /// A pin with this name exists.
    #[error("a user pin named {0:?} exists already; remove it first")]
    Exists(String),
    /// Invalid argument.
    #[error("{0}")]
    Invalid(String),
}

/// One pinned root.
#[derive(Clone, Debug)]
pub struct Pin {
    /// Short name; also names the trusted-state directory.
    pub name: String,
    /// URLs covered (normalized).
    pub urls: Vec<String>,
    /// The root metadata, exact bytes.
    pub root: Vec<u8>,
    /// Where it comes from.
    pub source: PinSource,
    /// Explicitly replaces built-in roots for the URLs it covers.
    pub override_builtin: bool,
}

impl Pin {
    /// The pinned root's version.
    pub fn root_version(&self) -> u64 {
        Metadata::<Root>::from_bytes("root", &self.root)
            .map(|m| m.signed.version)
            .unwrap_or(0)
    }

    /// A stable identifier of the pinned root (first 16 hex digits of the
    /// SHA-256 of its bytes).
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.root)[..16].to_string()
    }

    /// Whether this pin covers `url`.
    pub fn covers(&self, url: &str) -> bool {
        let url = normalize_url(url);
        self.urls.iter().any(|p| url_covers(p, &url))
    }

    /// The directory holding this pin's trusted state under `cargo_home`:
    /// `tuf/state/NAME-FINGERPRINT`, so re-pinning starts a fresh state.
    pub fn state_dir(&self, cargo_home: &Path) -> PathBuf {
        cargo_home
            .join("tuf")
            .join("state")
            .join(format!("{}-{}", self.name, self.fingerprint()))
    }
}

/// Normalizes a registry, mirror or dist URL for comparison.
pub fn normalize_url(url: &str) -> String {
    let mut u = url.trim();
    for prefix in ["sparse+", "registry+"] {
        if let Some(rest) = u.strip_prefix(prefix) {
            u = rest;
        }
    }
    let u = u.trim_end_matches('/');
    match u.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            format!(
                "{}://{}{}",
                scheme.to_ascii_lowercase(),
                host.to_ascii_lowercase(),
                path
            )
        }
        None => u.to_string(),
    }
}

fn url_covers(pin: &str, url: &str) -> bool {
    url == pin || (url.starts_with(pin) && url.as_bytes().get(pin.len()) == Some(&b'/'))
}

fn check_root(name: &str, root: &[u8]) -> Result<(), PinError> {
    TrustedMetadataSet::new(root, 0)
        .map(|_| ())
        .map_err(|source| PinError::BadRoot {
            name: name.to_string(),
            source: Box::new(source),
        })
}

fn check_name(name: &str) -> Result<(), PinError> {
    if shared_trust::repository::is_servable_role_name(name) {
        Ok(())
    } else {
        Err(PinError::Invalid(format!(
            "pin name {name:?} must be ASCII letters, digits and _.~- (not starting with .)"
        )))
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PinsFile {
    pins: Vec<PinEntry>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PinEntry {
    name: String,
    urls: Vec<String>,
    /// Root file, relative to the pins file's directory.
    root: String,
    #[serde(default)]
    override_builtin: bool,
}

#[derive(serde::Deserialize)]
struct BuiltinFile {
    roots: Vec<BuiltinEntry>,
}

#[derive(serde::Deserialize)]
struct BuiltinEntry {
    name: String,
    urls: Vec<String>,
    root: serde_json::Value,
}

fn read_pins_file(path: &Path, source: PinSource) -> Result<Vec<Pin>, PinError> {
    let Some(bytes) = store::read_optional(path).map_err(|e| PinError::Io {
        path: e.path,
        source: e.source,
    })?
    else {
        return Ok(Vec::new());
    };
    let file: PinsFile = serde_json::from_slice(&bytes).map_err(|e| PinError::BadFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for e in file.pins {
        check_name(&e.name)?;
        if e.root.contains('/') || e.root.starts_with('.') {
            return Err(PinError::BadFile {
                path: path.to_path_buf(),
                reason: format!(
                    "pin {:?}: root file {:?} must be a plain file name",
                    e.name, e.root
                ),
            });
        }
        let root_path = dir.join("pins").join(&e.root);
        let root = std::fs::read(&root_path).map_err(|source| PinError::Io {
            path: root_path.clone(),
            source,
        })?;
        check_root(&e.name, &root)?;
        out.push(Pin {
            name: e.name,
            urls: e.urls.iter().map(|u| normalize_url(u)).collect(),
            root,
            source,
            override_builtin: e.override_builtin,
        });
    }
    Ok(out)
}

/// The built-in roots.
pub fn builtin_pins() -> Result<Vec<Pin>, PinError> {
    parse_builtin(BUILTIN_ROOTS_JSON)
}

fn parse_builtin(text: &str) -> Result<Vec<Pin>, PinError> {
    let bad = |reason: String| PinError::BadFile {
        path: PathBuf::from("trust-roots/builtin/roots.json"),
        reason,
    };
    let file: BuiltinFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for e in file.roots {
        let root = serde_json::to_vec(&e.root).map_err(|e| bad(e.to_string()))?;
        check_root(&e.name, &root)?;
        out.push(Pin {
            name: e.name,
            urls: e.urls.iter().map(|u| normalize_url(u)).collect(),
            root,
            source: PinSource::Builtin,
            override_builtin: false,
        });
    }
    Ok(out)
}

/// Where pins live.
#[derive(Clone, Debug)]
pub struct PinLocations {
    /// `$CARGO_HOME/tuf/pins.json`.
    pub user: PathBuf,
    /// System-wide pins file.
    pub system: PathBuf,
}

impl PinLocations {
    /// The locations for a cargo home, with the system file from
    /// `CARGO_TUF_SYSTEM_PINS` or the default.
    pub fn for_cargo_home(cargo_home: &Path) -> Self {
        let system = std::env::var_os(SYSTEM_PINS_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(SYSTEM_PINS_DEFAULT));
        Self::new(cargo_home, system)
    }

    /// Explicit locations.
    pub fn new(cargo_home: &Path, system: PathBuf) -> Self {
        PinLocations {
            user: cargo_home.join("tuf").join("pins.json"),
            system,
        }
    }
}

/// All pins in force: user, system and built-in, checked against the policy.
#[derive(Clone, Debug)]
pub struct PinSet {
    pins: Vec<Pin>,
}

/// The answer to "which root verifies this URL".
#[derive(Clone, Debug)]
pub struct Resolution<'a> {
    /// The pin that applies.
    pub pin: &'a Pin,
    /// The URL it was found for.
    pub matched_url: String,
    /// The built-in root it replaces, if any (to be shown to the user).
    pub overrides: Option<String>,
}

impl PinSet {
    /// Loads every source and checks the policy.
    pub fn load(locations: &PinLocations) -> Result<Self, PinError> {
        let mut pins = read_pins_file(&locations.user, PinSource::User)?;
        pins.extend(read_pins_file(&locations.system, PinSource::System)?);
        pins.extend(builtin_pins()?);
        Self::from_pins(pins)
    }

    /// Builds a set from pins, checking the policy.
    pub fn from_pins(pins: Vec<Pin>) -> Result<Self, PinError> {
        for (i, a) in pins.iter().enumerate() {
            for b in &pins[i + 1..] {
                for url in &a.urls {
                    if !b
                        .urls
                        .iter()
                        .any(|u| url_covers(u, url) || url_covers(url, u))
                    {
                        continue;
                    }
                    if a.source == b.source {
                        return Err(PinError::Overlap {
                            first: a.name.clone(),
                            second: b.name.clone(),
                            url: url.clone(),
                            source_kind: a.source,
                        });
                    }
                    let (pin, builtin) = match (a.source, b.source) {
                        (_, PinSource::Builtin) => (a, b),
                        (PinSource::Builtin, _) => (b, a),
                        _ => continue, // user over system: allowed, user wins
                    };
                    if !pin.override_builtin {
                        return Err(PinError::SilentOverride {
                            name: pin.name.clone(),
                            source_kind: pin.source,
                            url: url.clone(),
                            builtin: builtin.name.clone(),
                        });
                    }
                }
            }
        }
        Ok(PinSet { pins })
    }

    /// Every pin, user first, then system, then built-in.
    pub fn pins(&self) -> &[Pin] {
        &self.pins
    }

    /// The root for `url`: the first pin (user, system, built-in) that
    /// covers it.
    pub fn resolve(&self, url: &str) -> Option<Resolution<'_>> {
        let pin = self.pins.iter().find(|p| p.covers(url))?;
        let overrides = if pin.source != PinSource::Builtin {
            self.pins
                .iter()
                .find(|p| p.source == PinSource::Builtin && p.covers(url))
                .map(|p| p.name.clone())
        } else {
            None
        };
        Some(Resolution {
            pin,
            matched_url: normalize_url(url),
            overrides,
        })
    }

    /// The root for a registry reached through an optional mirror. The
    /// registry's own root wins; the mirror URL is consulted only when the
    /// registry has no pin (a user pin naming the mirror). A root the
    /// mirror serves is never a pin.
    pub fn resolve_registry(
        &self,
        registry_url: &str,
        mirror_url: Option<&str>,
    ) -> Option<Resolution<'_>> {
        self.resolve(registry_url)
            .or_else(|| mirror_url.and_then(|m| self.resolve(m)))
    }
}

/// Adds a user pin: copies the root into `$CARGO_HOME/tuf/pins/NAME.root.json`
/// and records it in `pins.json`, after checking the root and the policy
/// against every other pin. Nothing is written if any check fails.
pub fn add_user_pin(
    locations: &PinLocations,
    name: &str,
    urls: &[String],
    root: &[u8],
    override_builtin: bool,
) -> Result<Pin, PinError> {
    check_name(name)?;
    if urls.is_empty() {
        return Err(PinError::Invalid(
            "a pin must cover at least one URL (--url)".into(),
        ));
    }
    for u in urls {
        if !u.contains("://") {
            return Err(PinError::Invalid(format!(
                "{u:?} is not a URL (expected scheme://host/...)"
            )));
        }
    }
    check_root(name, root)?;
    let existing = PinSet::load(locations)?;
    if existing
        .pins()
        .iter()
        .any(|p| p.source == PinSource::User && p.name == name)
    {
        return Err(PinError::Exists(name.to_string()));
    }
    let pin = Pin {
        name: name.to_string(),
        urls: urls.iter().map(|u| normalize_url(u)).collect(),
        root: root.to_vec(),
        source: PinSource::User,
        override_builtin,
    };
    let mut all = vec![pin.clone()];
    all.extend(existing.pins().iter().cloned());
    PinSet::from_pins(all)?;

    let dir = locations.user.parent().unwrap_or(Path::new("."));
    let mut file = read_user_file(&locations.user)?;
    let root_name = format!("{name}.root.json");
    file.pins.push(PinEntry {
        name: name.to_string(),
        urls: pin.urls.clone(),
        root: root_name.clone(),
        override_builtin,
    });
    let pins_dir = dir.join("pins");
    std::fs::create_dir_all(&pins_dir).map_err(|source| PinError::Io {
        path: pins_dir.clone(),
        source,
    })?;
    write(&pins_dir.join(root_name), root)?;
    write_user_file(&locations.user, &file)?;
    Ok(pin)
}

/// Removes a user pin (its trusted state stays until deleted by hand).
pub fn remove_user_pin(locations: &PinLocations, name: &str) -> Result<(), PinError> {
    let mut file = read_user_file(&locations.user)?;
    let before = file.pins.len();
    let mut removed = None;
    file.pins.retain(|p| {
        if p.name == name {
            removed = Some(p.root.clone());
            false
        } else {
            true
        }
    });
    if file.pins.len() == before {
        return Err(PinError::NoSuchPin(name.to_string()));
    }
    write_user_file(&locations.user, &file)?;
    if let Some(root) = removed {
        let dir = locations.user.parent().unwrap_or(Path::new("."));
        let _ = std::fs::remove_file(dir.join("pins").join(root));
    }
    Ok(())
}

fn read_user_file(path: &Path) -> Result<PinsFile, PinError> {
    match store::read_optional(path) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).map_err(|e| PinError::BadFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
        Ok(None) => Ok(PinsFile { pins: Vec::new() }),
        Err(e) => Err(PinError::Io {
            path: e.path,
            source: e.source,
        }),
    }
}

fn write_user_file(path: &Path, file: &PinsFile) -> Result<(), PinError> {
    let mut bytes = serde_json::to_vec_pretty(file).expect("pins serialize");
    bytes.push(b'\n');
    write(path, &bytes)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), PinError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| PinError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    store::write_atomic(path, bytes).map_err(|e| PinError::Io {
        path: e.path,
        source: e.source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_set_is_valid_and_empty() {
        // The Rust Project has not published a root: nothing ships.
        assert!(builtin_pins().unwrap().is_empty());
    }

    #[test]
    fn url_normalization_and_cover() {
        assert_eq!(
            normalize_url("sparse+HTTPS://Index.Crates.IO/"),
            "https://index.crates.io"
        );
        assert!(url_covers("https://a.example/x", "https://a.example/x/y"));
        assert!(!url_covers("https://a.example/x", "https://a.example/xy"));
        assert!(url_covers("https://a.example", "https://a.example"));
    }
}
