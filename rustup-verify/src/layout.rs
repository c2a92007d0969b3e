//! Where things are: the dist tree as rustup sees it, and where its signed
//! metadata lives beside it. Pure functions, no I/O.
//!
//! # The layout
//!
//! A dist server (the default one, or any mirror a user names in
//! `RUSTUP_DIST_SERVER`) serves:
//!
//! ```text
//! SERVER/dist/channel-rust-stable.toml            channel manifests (also beta,
//! SERVER/dist/channel-rust-1.86.0.toml             nightly, versions)
//! SERVER/dist/2025-04-03/channel-rust-stable.toml  dated copies
//! SERVER/dist/2025-04-03/rustc-1.86.0-...tar.xz    artifacts (gz, xz, zst)
//! SERVER/rustup/release-stable.toml                rustup's current version
//! SERVER/rustup/archive/1.28.2/TRIPLE/rustup-init  rustup itself
//! SERVER/tuf/metadata/                             TUF metadata of the root repository
//! SERVER/tuf/targets/                              the root repository's own targets
//!                                                  (crates-repository/root.json)
//! ```
//!
//! The **target path** of a release file is its path on the server:
//! `dist/channel-rust-stable.toml`, `rustup/release-stable.toml`, and so on.
//! Release files are fetched from where rustup would fetch them (the dist
//! tree itself), not from `tuf/targets/`, so a mirror that syncs `tuf/` with
//! the dist tree needs nothing else. Channel manifests and rustup files are
//! signed targets; component artifacts are not: their SHA-256 is in the
//! signed channel manifest that lists them.
//!
//! Files under `rustup/` come from the *update root* (`RUSTUP_UPDATE_ROOT`,
//! by default `https://static.rust-lang.org/rustup`): target
//! `rustup/release-stable.toml` is `UPDATE_ROOT/release-stable.toml`. Their
//! metadata still comes from the dist server's `tuf/metadata/`.

/// The default dist server, as rustup names it. rustup rewrites artifact
/// URLs of a channel manifest from this prefix to `RUSTUP_DIST_SERVER`.
pub const DEFAULT_DIST_SERVER: &str = "https://static.rust-lang.org";

/// The default rustup update root.
pub const DEFAULT_UPDATE_ROOT: &str = "https://static.rust-lang.org/rustup";

/// Directory of the root repository's metadata, relative to the dist server.
pub const METADATA_DIR: &str = "tuf/metadata";

/// Directory of the root repository's own targets, relative to the dist server.
pub const TARGETS_DIR: &str = "tuf/targets";

/// The metadata base URL (with a trailing `/`) for a dist server URL.
pub fn metadata_url(dist_server: &str) -> String {
    format!("{}/{METADATA_DIR}/", trim_slash(dist_server))
}

/// The base URL (with a trailing `/`) of the root repository's own targets
/// (such as `crates-repository/root.json`) for a dist server URL.
pub fn root_targets_url(dist_server: &str) -> String {
    format!("{}/{TARGETS_DIR}/", trim_slash(dist_server))
}

/// A URL without trailing slashes.
pub fn trim_slash(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// Where the hook fetches release files from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// The dist server or mirror (`RUSTUP_DIST_SERVER`), without trailing `/`.
    pub dist_server: String,
    /// The rustup update root (`RUSTUP_UPDATE_ROOT`), without trailing `/`.
    pub update_root: String,
}

impl Upstream {
    /// An upstream from the two URLs (trailing slashes dropped).
    pub fn new(dist_server: &str, update_root: &str) -> Self {
        Upstream {
            dist_server: trim_slash(dist_server).to_string(),
            update_root: trim_slash(update_root).to_string(),
        }
    }

    /// The defaults rustup uses when neither variable is set.
    pub fn official() -> Self {
        Self::new(DEFAULT_DIST_SERVER, DEFAULT_UPDATE_ROOT)
    }

    /// The URL a server path (`dist/...` or `rustup/...`) is fetched from.
    pub fn url_for(&self, path: &str) -> String {
        match path.strip_prefix("rustup/") {
            Some(rest) => format!("{}/{rest}", self.update_root),
            None => format!("{}/{path}", self.dist_server),
        }
    }

    /// The metadata base URL of the root repository.
    pub fn metadata_url(&self) -> String {
        metadata_url(&self.dist_server)
    }
}

/// What a request path asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `dist/[DATE/]channel-rust-NAME.toml.sha256`: served from the verified
    /// manifest (the field is the manifest's target path).
    ManifestHash {
        /// Target path of the manifest.
        manifest: String,
    },
    /// A channel manifest (signed target).
    Manifest {
        /// Its target path.
        path: String,
    },
    /// A file under `dist/DATE/` that a signed channel manifest may list.
    Artifact {
        /// Its path on the server.
        path: String,
        /// The `DATE` directory.
        date: String,
    },
    /// `rustup/release-stable.toml`, rustup-init and other signed rustup files.
    RustupFile {
        /// Its target path.
        path: String,
    },
    /// `rustup/.../rustup-init[.exe].sha256`: served from the signed hash.
    RustupFileHash {
        /// Target path of the file it describes.
        file: String,
    },
    /// Anything else: not served (for example legacy v1 manifests, which
    /// have no signatures).
    Unknown,
}

/// Why a request path was refused before anything was fetched.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("request path {path:?} is not a plain relative path ({reason})")]
pub struct BadPath {
    /// The path as received.
    pub path: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Checks a request path (without the leading `/`): ASCII letters, digits
/// and `._+-~`, separated by single `/`, no `.` or `..` parts. Anything
/// else cannot be a release file, and is refused before it reaches a URL.
pub fn check_path(path: &str) -> Result<(), BadPath> {
    let bad = |reason| BadPath {
        path: path.to_string(),
        reason,
    };
    if path.is_empty() {
        return Err(bad("empty"));
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._+-~/".contains(&b))
    {
        return Err(bad("characters other than letters, digits and ._+-~/"));
    }
    if path
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(bad("empty, . or .. part"));
    }
    Ok(())
}

/// Whether `name` is `YYYY-MM-DD`.
pub fn is_date(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn is_manifest_name(name: &str) -> bool {
    name.strip_prefix("channel-rust-")
        .and_then(|r| r.strip_suffix(".toml"))
        .is_some_and(|n| !n.is_empty())
}

/// Whether a target path is a channel manifest: `dist/channel-rust-*.toml`
/// or `dist/YYYY-MM-DD/channel-rust-*.toml`.
pub fn is_channel_manifest(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["dist", name] => is_manifest_name(name),
        ["dist", date, name] => is_date(date) && is_manifest_name(name),
        _ => false,
    }
}

fn is_rustup_init(name: &str) -> bool {
    name == "rustup-init" || name == "rustup-init.exe"
}

/// Whether a target path is a signed rustup file: `rustup/release-stable.toml`,
/// `rustup/archive/VERSION/TRIPLE/rustup-init[.exe]` or
/// `rustup/dist/TRIPLE/rustup-init[.exe]`.
pub fn is_rustup_file(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["rustup", "release-stable.toml"] => true,
        ["rustup", "archive", _version, _triple, name] => is_rustup_init(name),
        ["rustup", "dist", _triple, name] => is_rustup_init(name),
        _ => false,
    }
}

/// Whether a path is a release file the signing command signs and the
/// hook verifies against signed metadata.
pub fn is_signed_release_file(path: &str) -> bool {
    is_channel_manifest(path) || is_rustup_file(path)
}

/// Classifies a request path (without the leading `/`).
pub fn classify(path: &str) -> Result<Request, BadPath> {
    check_path(path)?;
    if let Some(file) = path.strip_suffix(".sha256") {
        if is_channel_manifest(file) {
            return Ok(Request::ManifestHash {
                manifest: file.to_string(),
            });
        }
        // rustup-init binaries only: rustup never asks for a hash of
        // release-stable.toml.
        if is_rustup_file(file) && file != "rustup/release-stable.toml" {
            return Ok(Request::RustupFileHash {
                file: file.to_string(),
            });
        }
    }
    if is_channel_manifest(path) {
        return Ok(Request::Manifest {
            path: path.to_string(),
        });
    }
    if is_rustup_file(path) {
        return Ok(Request::RustupFile {
            path: path.to_string(),
        });
    }
    let parts: Vec<&str> = path.split('/').collect();
    if let ["dist", date, _name] = parts.as_slice() {
        if is_date(date) {
            return Ok(Request::Artifact {
                path: path.to_string(),
                date: date.to_string(),
            });
        }
    }
    Ok(Request::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_what_rustup_asks_for() {
        assert_eq!(
            classify("dist/channel-rust-stable.toml.sha256").unwrap(),
            Request::ManifestHash {
                manifest: "dist/channel-rust-stable.toml".into()
            }
        );
        assert_eq!(
            classify("dist/2025-04-03/channel-rust-1.86.0.toml").unwrap(),
            Request::Manifest {
                path: "dist/2025-04-03/channel-rust-1.86.0.toml".into()
            }
        );
        assert_eq!(
            classify("dist/2025-04-03/rustc-1.86.0-x86_64-unknown-linux-gnu.tar.xz").unwrap(),
            Request::Artifact {
                path: "dist/2025-04-03/rustc-1.86.0-x86_64-unknown-linux-gnu.tar.xz".into(),
                date: "2025-04-03".into()
            }
        );
        assert_eq!(
            classify("rustup/archive/1.28.2/x86_64-unknown-linux-gnu/rustup-init").unwrap(),
            Request::RustupFile {
                path: "rustup/archive/1.28.2/x86_64-unknown-linux-gnu/rustup-init".into()
            }
        );
        assert_eq!(
            classify("rustup/archive/1.28.2/x86_64-pc-windows-msvc/rustup-init.exe.sha256")
                .unwrap(),
            Request::RustupFileHash {
                file: "rustup/archive/1.28.2/x86_64-pc-windows-msvc/rustup-init.exe".into()
            }
        );
        assert_eq!(
            classify("rustup/release-stable.toml").unwrap(),
            Request::RustupFile {
                path: "rustup/release-stable.toml".into()
            }
        );
        // Legacy v1 manifests and anything else: not served.
        assert_eq!(
            classify("dist/channel-rust-stable").unwrap(),
            Request::Unknown
        );
        assert_eq!(
            classify("dist/channel-rust-stable.toml.asc").unwrap(),
            Request::Unknown
        );
        assert_eq!(
            classify("dist/latest/rustc.tar.gz").unwrap(),
            Request::Unknown
        );
        assert_eq!(
            classify("rustup/release-stable.toml.sha256").unwrap(),
            Request::Unknown
        );
    }

    #[test]
    fn refuses_paths_that_are_not_plain() {
        for p in [
            "",
            "dist/../etc/passwd",
            "dist//x",
            "dist/./x",
            "dist/a%2e",
            "dist/a b",
            "dist/x?y",
            "/dist/x",
        ] {
            assert!(classify(p).is_err(), "{p}");
        }
    }

    #[test]
    fn upstream_urls() {
        let u = Upstream::new("http://m.example/mirror/", "http://m.example/rup/");
        assert_eq!(
            u.url_for("dist/channel-rust-stable.toml"),
            "http://m.example/mirror/dist/channel-rust-stable.toml"
        );
        assert_eq!(
            u.url_for("rustup/release-stable.toml"),
            "http://m.example/rup/release-stable.toml"
        );
        assert_eq!(u.metadata_url(), "http://m.example/mirror/tuf/metadata/");
        assert_eq!(
            root_targets_url("https://static.rust-lang.org/"),
            "https://static.rust-lang.org/tuf/targets/"
        );
    }

    #[test]
    fn release_file_patterns() {
        assert!(is_channel_manifest("dist/channel-rust-nightly.toml"));
        assert!(is_channel_manifest(
            "dist/2025-04-03/channel-rust-beta.toml"
        ));
        assert!(!is_channel_manifest("dist/channel-rust-.toml"));
        assert!(!is_channel_manifest("dist/latest/channel-rust-beta.toml"));
        assert!(!is_channel_manifest(
            "dist/2025-04-03/x/channel-rust-beta.toml"
        ));
        assert!(is_rustup_file(
            "rustup/dist/x86_64-unknown-linux-gnu/rustup-init"
        ));
        assert!(!is_rustup_file("rustup/archive/1.0/x/rustup"));
        assert!(is_date("2025-04-03"));
        assert!(!is_date("2025-4-03x"));
    }
}
