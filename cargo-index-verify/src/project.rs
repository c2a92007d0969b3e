//! Project mode: find the workspace's `Cargo.lock`, read cargo's
//! configuration as cargo does, group the locked registry packages by
//! registry, and verify each registry through the source cargo actually
//! uses (a mirror or replacement from the configuration; `Cargo.lock`
//! always names the original registry).

use crate::cargo_cache;
use crate::config::{CargoConfig, CratesIoProtocol, Effective};
use crate::git::GitIndex;
use crate::lockfile::{self, Lockfile, SourceId};
use crate::transport::{HttpCache, IndexAccess, Traffic};
use crate::verify::{self, Options, Package, RegistryReport, RegistrySpec, RunError};
use serde::Serialize;
use shared_trust::crypto::sha256_hex;
use shared_trust::fetcher::CurlFetcher;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use trust_roots::pins::{PinLocations, PinSet};

/// Why the project could not be verified at all (exit status 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// `cargo locate-project` failed or could not be run.
    #[error("locating the workspace with `{cargo} locate-project`: {message}")]
    Locate {
        /// The cargo used.
        cargo: String,
        /// What went wrong.
        message: String,
    },
    /// No `Cargo.lock` next to the workspace manifest.
    #[error("{0}: no Cargo.lock; run `cargo generate-lockfile` (or `cargo fetch`) first")]
    NoLockfile(PathBuf),
    /// The lockfile could not be read or parsed.
    #[error(transparent)]
    Lockfile(#[from] lockfile::LockfileError),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Cargo's configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The pins could not be loaded.
    #[error(transparent)]
    Pins(#[from] trust_roots::pins::PinError),
    /// A git index could not be fetched or opened.
    #[error("{url}: {source}")]
    Git {
        /// Index URL.
        url: String,
        /// Cause.
        #[source]
        source: crate::git::GitError,
    },
    /// A registry could not be verified at all.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// How to run.
#[derive(Clone, Debug)]
pub struct ProjectOptions {
    /// The cargo to ask where the workspace is (`$CARGO`, else `cargo`).
    pub cargo: PathBuf,
    /// `--manifest-path`.
    pub manifest_path: Option<PathBuf>,
    /// The directory cargo's configuration is discovered from.
    pub cwd: PathBuf,
    /// `$CARGO_HOME`.
    pub cargo_home: PathBuf,
    /// `--offline` (also set by `net.offline` / `CARGO_NET_OFFLINE`).
    pub offline: bool,
    /// `--refresh`: no warm path, every crate file asked for (ignored
    /// offline).
    pub refresh: bool,
    /// `--config KEY=VALUE` overrides.
    pub config: Vec<String>,
    /// Environment lookup (the process environment in the binary).
    pub env: BTreeMap<String, String>,
    /// Reference time, Unix seconds.
    pub now: i64,
}

/// The outcome for a project.
#[derive(Debug, Serialize)]
pub struct ProjectReport {
    /// The lockfile read.
    pub lockfile: PathBuf,
    /// Its format version.
    pub lockfile_version: u32,
    /// Whether the run was offline.
    pub offline: bool,
    /// One per registry.
    pub registries: Vec<RegistryReport>,
    /// Packages not from a registry (path and git), as `NAME VERSION (kind)`.
    pub skipped: Vec<String>,
    /// HTTP requests made and body bytes received.
    pub requests: u64,
    /// Bytes received.
    pub bytes: u64,
}

impl ProjectReport {
    /// Failures across all registries.
    pub fn failures(&self) -> usize {
        self.registries.iter().map(|r| r.failures.len()).sum()
    }
}

/// Finds the workspace's `Cargo.lock` with `cargo locate-project`.
pub fn locate_lockfile(opts: &ProjectOptions) -> Result<PathBuf, ProjectError> {
    let mut cmd = std::process::Command::new(&opts.cargo);
    cmd.args(["locate-project", "--workspace", "--message-format", "plain"]);
    if let Some(m) = &opts.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    cmd.current_dir(&opts.cwd);
    let locate = |message: String| ProjectError::Locate {
        cargo: opts.cargo.display().to_string(),
        message,
    };
    let out = cmd.output().map_err(|e| locate(e.to_string()))?;
    if !out.status.success() {
        return Err(locate(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let lock = manifest
        .parent()
        .map(|d| d.join("Cargo.lock"))
        .ok_or_else(|| locate(format!("odd manifest path {}", manifest.display())))?;
    if !lock.is_file() {
        return Err(ProjectError::NoLockfile(lock));
    }
    Ok(lock)
}

fn registry_urls(source: &SourceId) -> Vec<String> {
    let mut v = vec![source.url().to_string()];
    if source.is_crates_io() {
        v.push(lockfile::CRATES_IO_SPARSE_INDEX.to_string());
    }
    v
}

/// Builds the access for an effective source.
fn access_for(
    effective: &Effective,
    opts: &ProjectOptions,
    traffic: &Arc<Traffic>,
) -> Result<(IndexAccess, String, Option<String>), ProjectError> {
    let http = || CurlFetcher {
        user_agent: Some(concat!("cargo-index-verify/", env!("CARGO_PKG_VERSION")).into()),
        ..Default::default()
    };
    Ok(match effective {
        Effective::Sparse { url } => {
            let base = crate::binding::base_url(url);
            let access = if opts.offline {
                IndexAccess::Offline
            } else {
                IndexAccess::Http {
                    base: base.clone(),
                    cache: HttpCache::new(
                        opts.cargo_home.join("tuf").join("http-cache"),
                        http(),
                        traffic.clone(),
                    ),
                    fetcher: http(),
                    traffic: traffic.clone(),
                }
            };
            (
                access,
                format!("sparse+{base}"),
                Some(cargo_cache::cache_host(&format!("sparse+{base}"))),
            )
        }
        Effective::Git { url } => {
            let access = if opts.offline {
                IndexAccess::Offline
            } else {
                let git_dir = opts.cargo_home.join("tuf").join("git");
                std::fs::create_dir_all(&git_dir).map_err(|source| ProjectError::Io {
                    path: git_dir.clone(),
                    source,
                })?;
                // Concurrent runs fetch one at a time into the shared cache.
                let _lock = shared_trust::store::StoreLock::acquire(&git_dir).map_err(|e| {
                    ProjectError::Io {
                        path: e.path.clone(),
                        source: e.source,
                    }
                })?;
                let dir = git_dir.join(&sha256_hex(url.as_bytes())[..16]);
                let g = GitIndex::sync(url, &dir).map_err(|source| ProjectError::Git {
                    url: url.clone(),
                    source,
                })?;
                IndexAccess::Git(Arc::new(g))
            };
            (access, url.clone(), Some(cargo_cache::cache_host(url)))
        }
        Effective::LocalRegistry { path } => {
            let access = if opts.offline {
                IndexAccess::Offline
            } else {
                IndexAccess::Dir(path.join("index"))
            };
            (access, format!("local-registry {}", path.display()), None)
        }
        Effective::Directory { path } => {
            // Vendored sources carry no index: the index and its metadata
            // come from the original registry (see `original_effective`).
            (
                IndexAccess::Offline,
                format!("directory {}", path.display()),
                None,
            )
        }
    })
}

/// Where the original registry itself is, ignoring replacement: for a
/// vendored directory, the index and metadata are fetched from there.
fn original_effective(source: &SourceId, config: &CargoConfig) -> Effective {
    match source {
        SourceId::Sparse { url } => Effective::Sparse { url: url.clone() },
        s if s.is_crates_io() && config.crates_io_protocol() == CratesIoProtocol::Sparse => {
            Effective::Sparse {
                url: lockfile::CRATES_IO_SPARSE_INDEX.to_string(),
            }
        }
        s => Effective::Git {
            url: s.url().to_string(),
        },
    }
}

/// Verifies every locked registry package of the project.
pub fn verify_project(
    opts: &ProjectOptions,
    progress: &dyn Fn(&str),
) -> Result<ProjectReport, ProjectError> {
    let lock_path = locate_lockfile(opts)?;
    let text = std::fs::read(&lock_path).map_err(|source| ProjectError::Io {
        path: lock_path.clone(),
        source,
    })?;
    let lock = Lockfile::parse_bytes(&lock_path.display().to_string(), &text)?;
    let env = opts.env.clone();
    let config = CargoConfig::load(&opts.cwd, &opts.cargo_home, &opts.config, &|k| {
        env.get(k).cloned()
    })?;
    let offline = opts.offline || config.offline();
    let opts = ProjectOptions {
        offline,
        ..opts.clone()
    };
    let pins = PinSet::load(&PinLocations::for_cargo_home(&opts.cargo_home))?;

    let mut skipped = Vec::new();
    let mut groups: BTreeMap<SourceId, Vec<Package>> = BTreeMap::new();
    for p in &lock.packages {
        match &p.source {
            Some(s) if s.is_registry() => groups.entry(s.clone()).or_default().push(Package {
                name: p.name.clone(),
                version: p.version.clone(),
                checksum: p.checksum.clone(),
            }),
            Some(s) => skipped.push(format!("{} {} ({s})", p.name, p.version)),
            None => skipped.push(format!("{} {} (path)", p.name, p.version)),
        }
    }
    let traffic = Arc::new(Traffic::default());
    let vopts = Options {
        cargo_home: opts.cargo_home.clone(),
        now: opts.now,
        offline,
        refresh: opts.refresh && !offline,
    };
    let mut registries = Vec::new();
    for (source, packages) in &groups {
        let resolved = config.resolve(source)?;
        let vendor_dir = match &resolved.effective {
            Effective::Directory { path } => Some(path.clone()),
            _ => None,
        };
        let (access, shown, host) = match &vendor_dir {
            Some(dir) => {
                let (access, upstream, _) =
                    access_for(&original_effective(source, &config), &opts, &traffic)?;
                (
                    access,
                    format!("directory {} (index from {upstream})", dir.display()),
                    None,
                )
            }
            None => access_for(&resolved.effective, &opts, &traffic)?,
        };
        let mirror = resolved.replaced_by.as_ref().map(|name| {
            format!(
                "{shown} ([source.{}] replaces {})",
                name, resolved.original_name
            )
        });
        let spec = RegistrySpec {
            name: resolved.original_name.clone(),
            registry_urls: registry_urls(source),
            mirror: mirror.or_else(|| {
                (!source.is_crates_io() || !shown.contains("index.crates.io")).then_some(shown)
            }),
            access,
            cargo_cache_host: host,
            vendor_dir,
        };
        let mut report = verify::verify_registry(&spec, packages, &pins, &vopts, progress)?;
        if let Effective::LocalRegistry { path } = &resolved.effective {
            report.notes.push(format!(
                "packages come from the local registry {}; their .crate files are not in cargo's cache",
                path.display()
            ));
        }
        registries.push(report);
    }
    let (requests, bytes) = traffic.get();
    Ok(ProjectReport {
        lockfile: lock_path,
        lockfile_version: lock.version,
        offline,
        registries,
        skipped,
        requests,
        bytes,
    })
}
