//! `trust-roots`: pin roots for registries, mirrors and dist servers, and
//! run root ceremonies.
//!
//! Exit status: 0 success; 1 the operation was refused or failed (bad or
//! tampered input, thresholds not met, policy violation); 2 bad command line.
#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use std::io::Write;

/// `println!` that returns an error (a closed pipe) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout(), $($arg)*)?
    };
}
use clap::{Args, Parser, Subcommand};
use shared_trust::crypto::{Ed25519Signer, Key, Signer};
use shared_trust::keyfile;
use shared_trust::time;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use trust_roots::ceremony::{self, InitSpec, RoleSpec, RootChanges, TargetsChanges};
use trust_roots::pins::{self, PinLocations, PinSet};

#[derive(Parser, Debug)]
#[command(
    name = "trust-roots",
    version,
    about = "Pin TUF roots for Rust registries, mirrors and dist servers, and run root ceremonies",
    after_help = "Exit status: 0 success, 1 refused or failed, 2 bad command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage pinned roots (in $CARGO_HOME/tuf/pins.json).
    #[command(subcommand)]
    Pin(PinCommand),
    /// Key holders' root ceremony: keys, staging, offline signing, publishing.
    #[command(subcommand)]
    Ceremony(CeremonyCommand),
}

#[derive(Args, Debug)]
struct HomeArgs {
    /// Cargo home holding the pins (default: $CARGO_HOME, else ~/.cargo).
    #[arg(long, value_name = "DIR")]
    cargo_home: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum PinCommand {
    /// Pin a root for the URLs it covers.
    Add {
        /// Pin name (letters, digits, _.~-).
        name: String,
        /// Root metadata file to trust (version 1, or any version you verified out of band).
        #[arg(long, value_name = "FILE")]
        root: PathBuf,
        /// URL covered: a registry index, a mirror of it, or a dist server (repeatable).
        #[arg(long = "url", value_name = "URL", required = true)]
        urls: Vec<String>,
        /// Explicitly replace a built-in root for these URLs (shown in every listing).
        #[arg(long)]
        override_builtin: bool,
        #[command(flatten)]
        home: HomeArgs,
    },
    /// List user, system and built-in pins.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        home: HomeArgs,
    },
    /// Show one pin and its root's keys.
    Show {
        /// Pin name.
        name: String,
        #[command(flatten)]
        home: HomeArgs,
    },
    /// Remove a user pin.
    Remove {
        /// Pin name.
        name: String,
        #[command(flatten)]
        home: HomeArgs,
    },
    /// Which root verifies a URL.
    Resolve {
        /// Registry, mirror or dist server URL.
        url: String,
        #[command(flatten)]
        home: HomeArgs,
    },
}

#[derive(Subcommand, Debug)]
enum CeremonyCommand {
    /// Generate a key: PREFIX.key (private, mode 0600) and PREFIX.pub.json.
    Keygen {
        /// Output path prefix.
        prefix: PathBuf,
    },
    /// Stage root v1 and targets v1 of a new repository in DIR.
    Init(InitArgs),
    /// Add your signature to every staged file your key may sign.
    Sign {
        /// Ceremony directory.
        dir: PathBuf,
        /// Your private key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Show who has signed the staged files and what is missing.
    Status {
        /// Ceremony directory.
        dir: PathBuf,
    },
    /// Publish the staged files once every threshold is met.
    Publish {
        /// Ceremony directory.
        dir: PathBuf,
        /// Online snapshot or timestamp private key (repeatable); needed
        /// for targets changes and for a new repository.
        #[arg(long = "online-key", value_name = "FILE")]
        online_keys: Vec<PathBuf>,
    },
    /// Stage the next root version: rotate or revoke keys, change thresholds, renew.
    StageRoot {
        /// Ceremony directory.
        dir: PathBuf,
        /// ROLE=PUBKEY: add a key to a top-level role (repeatable).
        #[arg(long = "add-key", value_name = "ROLE=FILE")]
        add: Vec<String>,
        /// ROLE=KEYID: remove a key from a top-level role (repeatable).
        #[arg(long = "remove-key", value_name = "ROLE=KEYID")]
        remove: Vec<String>,
        /// ROLE=N: set a role's threshold (repeatable).
        #[arg(long = "threshold", value_name = "ROLE=N")]
        thresholds: Vec<String>,
        /// Lifetime of the new version in days.
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// Stage the next top-level targets version: delegations, targets, renewal.
    StageTargets {
        /// Ceremony directory.
        dir: PathBuf,
        /// Delegated role to change or create (e.g. releases).
        #[arg(long)]
        role: Option<String>,
        /// Public key file to add to the role (repeatable).
        #[arg(long = "add-key", value_name = "FILE")]
        add_keys: Vec<PathBuf>,
        /// keyid to remove from the role: revocation (repeatable).
        #[arg(long = "remove-key", value_name = "KEYID")]
        remove_keys: Vec<String>,
        /// The role's new threshold.
        #[arg(long)]
        threshold: Option<u64>,
        /// The role's path patterns (repeatable; replaces the list).
        #[arg(long = "path", value_name = "PATTERN")]
        paths: Vec<String>,
        /// TARGET=FILE: publish a target (e.g. crates-repository/root.json=...).
        #[arg(long = "add-target", value_name = "TARGET=FILE")]
        add_targets: Vec<String>,
        /// Lifetime of the new version in days.
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
}

#[derive(Args, Debug)]
struct InitArgs {
    /// Ceremony directory (created).
    dir: PathBuf,
    /// Root key holders' public key files.
    #[arg(long = "root-key", value_name = "FILE", required = true)]
    root_keys: Vec<PathBuf>,
    /// Signatures needed on root.
    #[arg(long)]
    root_threshold: u64,
    /// Online timestamp public key file(s).
    #[arg(long = "timestamp-key", value_name = "FILE", required = true)]
    timestamp_keys: Vec<PathBuf>,
    /// Online snapshot public key file(s).
    #[arg(long = "snapshot-key", value_name = "FILE", required = true)]
    snapshot_keys: Vec<PathBuf>,
    /// Targets public key files.
    #[arg(long = "targets-key", value_name = "FILE", required = true)]
    targets_keys: Vec<PathBuf>,
    /// Signatures needed on targets.
    #[arg(long, default_value_t = 1)]
    targets_threshold: u64,
    /// Release team public key files: delegates `releases` (dist/, rustup/).
    #[arg(long = "releases-key", value_name = "FILE")]
    releases_keys: Vec<PathBuf>,
    /// Signatures needed on releases.
    #[arg(long, default_value_t = 1)]
    releases_threshold: u64,
    /// Path patterns of the releases role (default: dist/*, dist/*/*, rustup/...).
    #[arg(long = "releases-path", value_name = "PATTERN")]
    releases_paths: Vec<String>,
    /// Root lifetime in days.
    #[arg(long, default_value_t = 365)]
    root_days: i64,
    /// Targets lifetime in days.
    #[arg(long, default_value_t = 365)]
    targets_days: i64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`| head`) is not a failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            trust_roots::cli::print_error("", &e);
            ExitCode::from(1)
        }
    }
}

fn cargo_home(home: &HomeArgs) -> Result<PathBuf> {
    if let Some(h) = &home.cargo_home {
        return Ok(h.clone());
    }
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        return Ok(PathBuf::from(h));
    }
    let home = std::env::var_os("HOME").context("neither CARGO_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Pin(cmd) => pin(cmd),
        Command::Ceremony(cmd) => ceremony_cmd(cmd),
    }
}

fn pin(cmd: PinCommand) -> Result<()> {
    match cmd {
        PinCommand::Add {
            name,
            root,
            urls,
            override_builtin,
            home,
        } => {
            let loc = PinLocations::for_cargo_home(&cargo_home(&home)?);
            let bytes =
                std::fs::read(&root).with_context(|| format!("reading {}", root.display()))?;
            let pin = pins::add_user_pin(&loc, &name, &urls, &bytes, override_builtin)
                .with_context(|| format!("pinning {}", root.display()))?;
            out!(
                "pinned {} (root version {}, fingerprint {}) for:",
                pin.name,
                pin.root_version(),
                pin.fingerprint()
            );
            for u in &pin.urls {
                out!("  {u}");
            }
            if override_builtin {
                out!("this pin explicitly overrides built-in roots for these URLs");
            }
        }
        PinCommand::List { json, home } => {
            let loc = PinLocations::for_cargo_home(&cargo_home(&home)?);
            let set = PinSet::load(&loc)?;
            if json {
                let list: Vec<_> = set
                    .pins()
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "name": p.name,
                            "source": p.source,
                            "urls": p.urls,
                            "root_version": p.root_version(),
                            "fingerprint": p.fingerprint(),
                            "override_builtin": p.override_builtin,
                        })
                    })
                    .collect();
                out!("{}", serde_json::to_string_pretty(&list)?);
            } else if set.pins().is_empty() {
                out!("no pins (the built-in set is empty: the Rust Project has not published a TUF root yet)");
            } else {
                for p in set.pins() {
                    let flag = if p.override_builtin {
                        "  [overrides built-in]"
                    } else {
                        ""
                    };
                    out!(
                        "{:<24} {:<8} root v{} {}{}",
                        p.name,
                        p.source.to_string(),
                        p.root_version(),
                        p.fingerprint(),
                        flag
                    );
                    for u in &p.urls {
                        out!("    {u}");
                    }
                }
            }
        }
        PinCommand::Show { name, home } => {
            let loc = PinLocations::for_cargo_home(&cargo_home(&home)?);
            let set = PinSet::load(&loc)?;
            let p = set
                .pins()
                .iter()
                .find(|p| p.name == name)
                .with_context(|| format!("no pin named {name:?}"))?;
            let root = shared_trust::Metadata::<shared_trust::metadata::Root>::from_bytes(
                "root", &p.root,
            )?;
            out!("name:        {}", p.name);
            out!("source:      {}", p.source);
            out!("fingerprint: {}", p.fingerprint());
            out!(
                "root:        version {}, expires {}",
                root.signed.version,
                root.signed.expires
            );
            out!("covers:");
            for u in &p.urls {
                out!("  {u}");
            }
            for (role, rk) in &root.signed.roles {
                out!("{role}: {} of {} key(s)", rk.threshold, rk.keyids.len());
                for k in &rk.keyids {
                    out!("  {k}");
                }
            }
        }
        PinCommand::Remove { name, home } => {
            let loc = PinLocations::for_cargo_home(&cargo_home(&home)?);
            pins::remove_user_pin(&loc, &name)?;
            out!("removed pin {name}");
        }
        PinCommand::Resolve { url, home } => {
            let loc = PinLocations::for_cargo_home(&cargo_home(&home)?);
            let set = PinSet::load(&loc)?;
            match set.resolve(&url) {
                Some(r) => {
                    out!(
                        "{} ({} pin, root v{}, {})",
                        r.pin.name,
                        r.pin.source,
                        r.pin.root_version(),
                        r.pin.fingerprint()
                    );
                    if let Some(b) = r.overrides {
                        out!("overrides the built-in root {b}");
                    }
                }
                None => bail!("no pinned root covers {url}"),
            }
        }
    }
    Ok(())
}

fn read_pub(path: &Path) -> Result<Key> {
    let (keyid, key) = keyfile::read_public_key(path)?;
    if key.keyid() != keyid {
        bail!(
            "{}: keyid {keyid} does not match its key (expected {})",
            path.display(),
            key.keyid()
        );
    }
    Ok(key)
}

fn read_pubs(paths: &[PathBuf]) -> Result<Vec<Key>> {
    paths.iter().map(|p| read_pub(p)).collect()
}

fn split_kv<'a>(arg: &'a str, what: &str) -> Result<(&'a str, &'a str)> {
    arg.split_once('=')
        .with_context(|| format!("{arg:?}: expected {what}"))
}

fn ceremony_cmd(cmd: CeremonyCommand) -> Result<()> {
    let now = time::now_unix();
    match cmd {
        CeremonyCommand::Keygen { prefix } => {
            let signer = Ed25519Signer::generate();
            let key_path = PathBuf::from(format!("{}.key", prefix.display()));
            let pub_path = PathBuf::from(format!("{}.pub.json", prefix.display()));
            if pub_path.exists() {
                bail!("{} already exists", pub_path.display());
            }
            keyfile::write_private_key(&key_path, &signer)?;
            shared_trust::store::write_atomic(
                &pub_path,
                &keyfile::public_key_json(signer.public_key()),
            )?;
            out!("keyid {}", signer.keyid());
            out!(
                "private key: {} (mode 0600; keep it offline)",
                key_path.display()
            );
            out!("public key:  {}", pub_path.display());
        }
        CeremonyCommand::Init(a) => {
            let mut roles = BTreeMap::new();
            roles.insert(
                "root".to_string(),
                RoleSpec {
                    keys: read_pubs(&a.root_keys)?,
                    threshold: a.root_threshold,
                },
            );
            roles.insert(
                "timestamp".to_string(),
                RoleSpec {
                    keys: read_pubs(&a.timestamp_keys)?,
                    threshold: 1,
                },
            );
            roles.insert(
                "snapshot".to_string(),
                RoleSpec {
                    keys: read_pubs(&a.snapshot_keys)?,
                    threshold: 1,
                },
            );
            roles.insert(
                "targets".to_string(),
                RoleSpec {
                    keys: read_pubs(&a.targets_keys)?,
                    threshold: a.targets_threshold,
                },
            );
            let releases = if a.releases_keys.is_empty() {
                None
            } else {
                let paths = if a.releases_paths.is_empty() {
                    ceremony::RELEASES_PATHS
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                } else {
                    a.releases_paths.clone()
                };
                Some((
                    RoleSpec {
                        keys: read_pubs(&a.releases_keys)?,
                        threshold: a.releases_threshold,
                    },
                    paths,
                ))
            };
            ceremony::init(
                &a.dir,
                &InitSpec {
                    roles,
                    releases,
                    root_days: a.root_days,
                    targets_days: a.targets_days,
                    now,
                },
            )?;
            out!(
                "staged root version 1 and targets version 1 in {}",
                a.dir.join("staged").display()
            );
            print_status(&a.dir)?;
        }
        CeremonyCommand::Sign { dir, key } => {
            let signer = keyfile::read_private_key(&key)?;
            let roles = ceremony::sign(&dir, &signer)?;
            out!("signed {} as {}", roles.join(" and "), signer.keyid());
            print_status(&dir)?;
        }
        CeremonyCommand::Status { dir } => print_status(&dir)?,
        CeremonyCommand::Publish { dir, online_keys } => {
            let online: Vec<Ed25519Signer> = online_keys
                .iter()
                .map(|p| keyfile::read_private_key(p))
                .collect::<Result<_, _>>()?;
            let report = ceremony::publish(&dir, &online, now)?;
            out!(
                "published into {}: {}",
                dir.join("metadata").display(),
                report.files.join(", ")
            );
        }
        CeremonyCommand::StageRoot {
            dir,
            add,
            remove,
            thresholds,
            days,
        } => {
            let mut changes = RootChanges {
                days: Some(days),
                ..Default::default()
            };
            for a in &add {
                let (role, file) = split_kv(a, "ROLE=PUBLIC-KEY-FILE")?;
                changes
                    .add
                    .push((role.to_string(), read_pub(Path::new(file))?));
            }
            for r in &remove {
                let (role, keyid) = split_kv(r, "ROLE=KEYID")?;
                changes.remove.push((role.to_string(), keyid.to_string()));
            }
            for t in &thresholds {
                let (role, n) = split_kv(t, "ROLE=N")?;
                let n: u64 = n
                    .parse()
                    .with_context(|| format!("{t:?}: threshold must be a number"))?;
                changes.thresholds.push((role.to_string(), n));
            }
            let v = ceremony::stage_root(&dir, &changes, now)?;
            out!("staged root version {v}");
            print_status(&dir)?;
        }
        CeremonyCommand::StageTargets {
            dir,
            role,
            add_keys,
            remove_keys,
            threshold,
            paths,
            add_targets,
            days,
        } => {
            let mut changes = TargetsChanges {
                role,
                add_keys: read_pubs(&add_keys)?,
                remove_keys,
                threshold,
                paths: (!paths.is_empty()).then_some(paths),
                days: Some(days),
                ..Default::default()
            };
            for t in &add_targets {
                let (target, file) = split_kv(t, "TARGET=FILE")?;
                let content = std::fs::read(file).with_context(|| format!("reading {file}"))?;
                changes.add_targets.push((target.to_string(), content));
            }
            let v = ceremony::stage_targets(&dir, &changes, now)?;
            out!("staged targets version {v}");
            print_status(&dir)?;
        }
    }
    Ok(())
}

fn print_status(dir: &Path) -> Result<()> {
    for s in ceremony::status(dir)? {
        let state = if s.complete() {
            "ready to publish"
        } else {
            "needs signatures"
        };
        out!(
            "{} version {} (expires {}): {state}",
            s.role,
            s.version,
            s.expires
        );
        for r in &s.requirements {
            let rep = &r.status.report;
            out!(
                "  {}: {} of {} signed",
                r.what,
                rep.valid.len(),
                r.status.threshold
            );
            for k in &rep.valid {
                out!("    signed        {k}");
            }
            for k in &rep.invalid {
                out!("    INVALID       {k} (signature does not verify: file changed after signing?)");
            }
            for k in &rep.missing {
                out!("    not signed    {k}");
            }
        }
    }
    Ok(())
}
