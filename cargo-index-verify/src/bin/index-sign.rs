//! `index-sign`: the registry operator's signing tool. Signs a registry
//! index directory (sparse or git layout) into `tuf/` beside it, updates it
//! incrementally on publish, yank and unyank, and renews the timestamp.
//!
//! Exit status: 0 success; 1 signing refused or failed (bad index content,
//! missing or unacceptable keys, inconsistent published state); 2 bad
//! command line.
#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use cargo_index_verify::binding::ROOT_REPOSITORY_DIR;
use cargo_index_verify::sign::{self, IndexSigner, PublishReport, SignOptions};
use clap::{Args, Parser, Subcommand};
use shared_trust::time;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "index-sign",
    version,
    about = "Sign a cargo registry index (sparse or git layout) into the static TUF metadata tree beside it",
    after_help = "The signed files go to INDEX/tuf/ (metadata/ and tree/); serve them with the index.\n\
                  Exit status: 0 success, 1 signing refused or failed, 2 bad command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Common {
    /// The index directory (holds config.json and the crate files).
    #[arg(long, value_name = "DIR")]
    index: PathBuf,
    /// Directory of the key files (ROLE.key).
    #[arg(long, value_name = "DIR")]
    keys: PathBuf,
    /// Timestamp lifetime, e.g. 6h, 1d, 90m (default 1d).
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_duration)]
    timestamp_expiry: i64,
    /// Snapshot lifetime (default 7d).
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    snapshot_expiry: i64,
    /// Signing time as UTC (YYYY-MM-DDTHH:MM:SSZ) instead of now: for
    /// reproducible fixtures and audits.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    time: Option<i64>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the crates repository: keys for every role, root v1, and the
    /// first signed commitment of the whole index.
    Init {
        #[command(flatten)]
        common: Common,
        /// Tree depth (default: chosen from the number of crate files).
        #[arg(long, value_name = "N")]
        depth: Option<u8>,
        /// Where to write root v1, for the root repository to publish as
        /// crates-repository/root.json (default: KEYS/crates-root.json).
        #[arg(long, value_name = "FILE")]
        root_out: Option<PathBuf>,
    },
    /// Sign what changed: the named crates (published, yanked, unyanked,
    /// removed), or, without --crate, every difference in the directory.
    Update {
        #[command(flatten)]
        common: Common,
        /// A crate whose index file changed (repeatable).
        #[arg(long = "crate", value_name = "NAME")]
        crates: Vec<String>,
    },
    /// Re-sign the timestamp (and snapshot and index role if they would
    /// expire first). Run it from cron well within the timestamp lifetime.
    Renew {
        #[command(flatten)]
        common: Common,
        /// Also re-sign root (its next version) and targets, with the
        /// offline keys KEYS/root.key and KEYS/targets.key: yearly, before
        /// they expire.
        #[arg(long)]
        offline_roles: bool,
    },
    /// Copy a published root repository (its metadata/ and targets/) to
    /// INDEX/tuf/root-repository/, where clients look for it.
    AttachRootRepository {
        /// The index directory.
        #[arg(long, value_name = "DIR")]
        index: PathBuf,
        /// The root repository as published (holds metadata/ and targets/).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
    },
}

fn parse_duration(s: &str) -> Result<i64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number and a unit (s, m, h, d)"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    match n.checked_mul(mult) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(format!("{s:?}: must be positive")),
    }
}

fn parse_time(s: &str) -> Result<i64, String> {
    time::parse_utc(s).ok_or_else(|| format!("{s:?}: expected YYYY-MM-DDTHH:MM:SSZ"))
}

macro_rules! out {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout(), $($arg)*)?
    };
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            trust_roots::cli::print_error("", &e);
            ExitCode::from(1)
        }
    }
}

fn options(c: &Common) -> SignOptions {
    let mut o = SignOptions::default();
    o.lifetimes.timestamp = c.timestamp_expiry;
    o.lifetimes.snapshot = c.snapshot_expiry.max(c.timestamp_expiry);
    o
}

fn print_report(verb: &str, r: &PublishReport) -> Result<()> {
    out!(
        "{verb}: generation {}, {} crate files, root {}",
        r.commitment.generation,
        r.commitment.files,
        r.commitment.root
    );
    out!(
        "  {} changed, {} new tree objects ({} bytes)",
        r.changed,
        r.objects,
        r.object_bytes
    );
    out!(
        "  timestamp version {}, expires {}",
        r.timestamp_version,
        r.expires
    );
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            common,
            depth,
            root_out,
        } => {
            let now = common.time.unwrap_or_else(time::now_unix);
            let mut opts = options(&common);
            opts.depth = depth;
            let (report, root) = sign::init(&common.index, &common.keys, &opts, now)
                .with_context(|| format!("signing {}", common.index.display()))?;
            let root_out = root_out.unwrap_or_else(|| common.keys.join("crates-root.json"));
            shared_trust::store::write_atomic(&root_out, &root)?;
            print_report("signed", &report)?;
            out!("  keys in {}: move root.key and targets.key offline; index, snapshot and timestamp keys stay online", common.keys.display());
            out!(
                "  crates repository root v1: {} (publish it in the root repository as crates-repository/root.json)",
                root_out.display()
            );
        }
        Command::Update { common, crates } => {
            let now = common.time.unwrap_or_else(time::now_unix);
            let opts = options(&common);
            let mut signer = IndexSigner::open(&common.index, &common.keys, opts.lifetimes, now)
                .with_context(|| format!("opening {}", common.index.display()))?;
            let changes = if crates.is_empty() {
                signer.rescan(opts.threads)?
            } else {
                signer.changes_for(&crates)?
            };
            match signer.publish(changes)? {
                Some(r) => print_report("signed", &r)?,
                None => out!(
                    "nothing changed: generation {} stays current",
                    signer.commitment().generation
                ),
            }
        }
        Command::Renew {
            common,
            offline_roles,
        } => {
            let now = common.time.unwrap_or_else(time::now_unix);
            let opts = options(&common);
            let mut signer = IndexSigner::open(&common.index, &common.keys, opts.lifetimes, now)
                .with_context(|| format!("opening {}", common.index.display()))?;
            let r = if offline_roles {
                signer.renew_offline_roles(&common.keys, now)?
            } else {
                signer.renew(now)?
            };
            print_report("renewed", &r)?;
            for (role, expires) in signer.offline_expiry() {
                if offline_roles {
                    out!("  {role} re-signed, expires {expires}");
                } else if time::parse_utc(&expires).is_some_and(|e| e < now + 30 * 86_400) {
                    out!(
                        "  warning: {role} expires {expires}: re-sign it with `index-sign renew --offline-roles` and the offline keys"
                    );
                }
            }
        }
        Command::AttachRootRepository { index, from } => {
            for sub in ["metadata", "targets"] {
                let src = from.join(sub);
                if !src.is_dir() {
                    bail!(
                        "{} is not a directory: expected a published root repository",
                        src.display()
                    );
                }
                let dst = index.join(ROOT_REPOSITORY_DIR).join(sub);
                copy_dir(&src, &dst)?;
            }
            out!(
                "root repository copied to {}",
                index.join(ROOT_REPOSITORY_DIR).display()
            );
        }
    }
    Ok(())
}

fn copy_dir(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst).with_context(|| format!("creating {}", dst.display()))?;
    for e in std::fs::read_dir(src).with_context(|| format!("reading {}", src.display()))? {
        let e = e?;
        let to = dst.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            let bytes = std::fs::read(e.path())
                .with_context(|| format!("reading {}", e.path().display()))?;
            shared_trust::store::write_atomic(&to, &bytes)?;
        }
    }
    Ok(())
}
