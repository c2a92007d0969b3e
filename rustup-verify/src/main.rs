//! `rustup-verify`: signed Rust releases for real, unmodified rustup.
//!
//! Exit status:
//!
//! - `run`: 0 the command succeeded and everything it downloaded through
//!   the hook verified; 1 the hook refused a file (the message says what,
//!   which file, expected and found); 2 could not run (bad arguments, no
//!   pinned root, the hook or the command could not start); 3 the command
//!   failed on its own, nothing was refused.
//! - `serve`: 0 stopped by `--idle-exit` with nothing refused; 1 it refused
//!   a file meanwhile; 2 could not start.
//! - `check`: 0 everything checked verified; 1 something did not; 2 could
//!   not run.
//! - `release sign`: 0 signed and published; 1 refused (threshold not met,
//!   invalid or uncovered file, unknown key); 2 could not run.
#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use rustup_verify::check::{self, CheckOptions, Trust};
use rustup_verify::hook::{Hook, HookConfig, Report, DEFAULT_MAX_ARTIFACT};
use rustup_verify::layout::{self, Upstream};
use rustup_verify::release::{self, ReleaseError, SignOptions};
use rustup_verify::verify::{self, FailureKind, Verifier};
use shared_trust::fetcher::AnyFetcher;
use shared_trust::{keyfile, time};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `println!` that returns an error (a closed pipe) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout(), $($arg)*)?
    };
}

const EXIT_HELP: &str = "\
Exit status:
  run           0 command succeeded, all verified; 1 the hook refused a file;
                2 could not run; 3 the command failed, nothing refused
  serve         0 idle exit, nothing refused; 1 refused a file; 2 could not start
  check         0 verified; 1 verification failed; 2 could not run
  release sign  0 signed; 1 refused; 2 could not run

Metadata is read from DIST_SERVER/tuf/metadata/ (the root repository; see
docs/rustup-verify.md). The root comes from the pins of trust-roots.";

#[derive(Parser, Debug)]
#[command(
    name = "rustup-verify",
    version,
    about = "Verify what rustup downloads against signed release metadata, and sign dist trees",
    after_help = EXIT_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one command (e.g. `rustup toolchain install stable`) with
    /// verification: rustup downloads through a loopback hook for its duration.
    Run(RunArgs),
    /// Long-running hook for machines where RUSTUP_DIST_SERVER and
    /// RUSTUP_UPDATE_ROOT point at it (CI images, company machines).
    Serve(ServeArgs),
    /// Verify a channel manifest file or a whole dist tree offline.
    Check(CheckArgs),
    /// The release team's side.
    #[command(subcommand)]
    Release(ReleaseCommand),
}

#[derive(Args, Debug)]
struct HookArgs {
    /// Cargo home holding the pins and trusted state (default: $CARGO_HOME, else ~/.cargo).
    #[arg(long, value_name = "DIR")]
    cargo_home: Option<PathBuf>,
    /// Where artifacts wait while they are verified (default: the system temporary directory).
    #[arg(long, value_name = "DIR")]
    download_dir: Option<PathBuf>,
    /// Largest artifact accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_ARTIFACT)]
    max_artifact_size: u64,
    /// Log every verified file, not only refusals.
    #[arg(long, short)]
    verbose: bool,
    /// No download progress on stderr (shown only on a terminal anyway).
    #[arg(long)]
    no_progress: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Upstream dist server or mirror (default: $RUSTUP_DIST_SERVER, else https://static.rust-lang.org).
    #[arg(long, value_name = "URL")]
    dist_server: Option<String>,
    /// Upstream rustup update root (default: $RUSTUP_UPDATE_ROOT, else https://static.rust-lang.org/rustup).
    #[arg(long, value_name = "URL")]
    update_root: Option<String>,
    #[command(flatten)]
    hook: HookArgs,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Upstream dist server or mirror (default: https://static.rust-lang.org;
    /// RUSTUP_DIST_SERVER is not read: it points at the hook itself).
    #[arg(long, value_name = "URL")]
    dist_server: Option<String>,
    /// Upstream rustup update root (default: DIST_SERVER/rustup).
    #[arg(long, value_name = "URL")]
    update_root: Option<String>,
    /// Stop after this many seconds without a request.
    #[arg(long, value_name = "SECONDS")]
    idle_exit: Option<u64>,
    #[command(flatten)]
    hook: HookArgs,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// A channel manifest file, or a server tree holding dist/ (and tuf/metadata/).
    path: PathBuf,
    /// Metadata directory (default: TREE/tuf/metadata).
    #[arg(long, value_name = "DIR")]
    metadata: Option<PathBuf>,
    /// Target path of a manifest file outside a tree (e.g. dist/channel-rust-stable.toml).
    #[arg(long, value_name = "PATH")]
    target_path: Option<String>,
    /// Trust this root file instead of the pinned root (nothing persisted).
    #[arg(long, value_name = "FILE")]
    root: Option<PathBuf>,
    /// Dist server whose pinned root applies (default: $RUSTUP_DIST_SERVER, else the official one).
    #[arg(long, value_name = "URL")]
    dist_server: Option<String>,
    /// Cargo home holding the pins and trusted state (default: $CARGO_HOME, else ~/.cargo).
    #[arg(long, value_name = "DIR")]
    cargo_home: Option<PathBuf>,
    /// List every file checked, not only failures.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Subcommand, Debug)]
enum ReleaseCommand {
    /// Sign the channel manifests and rustup releases of a server tree into
    /// the root repository (new or changed files only), then a new snapshot
    /// and timestamp.
    Sign(SignArgs),
}

#[derive(Args, Debug)]
struct SignArgs {
    /// Server tree holding dist/ and rustup/.
    tree: PathBuf,
    /// Root repository directory (metadata/, targets/; default: TREE/tuf).
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
    /// Private key of a role that signs (releases, nightly, targets for the
    /// crates root); repeat to meet a threshold.
    #[arg(long = "key", value_name = "FILE")]
    keys: Vec<PathBuf>,
    /// Online snapshot and timestamp private keys (repeatable).
    #[arg(long = "online-key", value_name = "FILE", required = true)]
    online_keys: Vec<PathBuf>,
    /// Delegate the nightly manifests to this public key (a single online
    /// key); needs the releases threshold, and the nightly private key
    /// (--key) to publish the role's first version.
    #[arg(long = "nightly-key", value_name = "PUBFILE")]
    nightly_keys: Vec<PathBuf>,
    /// Publish the crates repository's root as crates-repository/root.json.
    #[arg(long, value_name = "FILE")]
    crates_root: Option<PathBuf>,
    /// Lifetime of the re-signed releases/nightly roles, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    role_days: i64,
    /// Lifetime of the snapshot, in days.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    snapshot_days: i64,
    /// Lifetime of the timestamp, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    timestamp_hours: i64,
}

/// The outcome of a command, mapped to the exit status.
enum Outcome {
    Ok,
    Refused,
    CommandFailed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Refused) => ExitCode::from(1),
        Ok(Outcome::CommandFailed) => ExitCode::from(3),
        // A reader that went away (`| head`) is not a failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            trust_roots::cli::print_error("rustup-verify: ", &e);
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Serve(args) => serve(args),
        Command::Check(args) => check_cmd(args),
        Command::Release(ReleaseCommand::Sign(args)) => sign(args),
    }
}

fn cargo_home(explicit: &Option<PathBuf>) -> Result<PathBuf> {
    if let Some(h) = explicit {
        return Ok(h.clone());
    }
    if let Some(h) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    let home = std::env::var_os("HOME").context("neither CARGO_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

fn env_url(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn hook_config(args: &HookArgs, idle_exit: Option<Duration>) -> HookConfig {
    let defaults = HookConfig::default();
    HookConfig {
        download_dir: args.download_dir.clone(),
        max_artifact_bytes: args.max_artifact_size,
        progress: defaults.progress && !args.no_progress,
        verbose: args.verbose,
        idle_exit,
    }
}

fn start_hook(
    upstream: Upstream,
    args: &HookArgs,
    listen: SocketAddr,
    idle_exit: Option<Duration>,
) -> Result<Hook<AnyFetcher>> {
    let home = cargo_home(&args.cargo_home)?;
    let pin = verify::resolve_pin(&home, &upstream.dist_server)?;
    let verifier = Verifier::new(pin, &home, upstream, AnyFetcher::default());
    Hook::bind(verifier, hook_config(args, idle_exit), listen)
        .with_context(|| format!("starting the hook on {listen}"))
}

fn summarize(report: &Report) {
    if report.refusals.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "rustup-verify: refused {} file(s); rustup was given none of them:",
        report.refusals.len()
    );
    for r in &report.refusals {
        let _ = writeln!(err, "  {}: {}", r.file, r.message);
    }
}

fn run_command(args: RunArgs) -> Result<Outcome> {
    let dist_server = args
        .dist_server
        .clone()
        .or_else(|| env_url("RUSTUP_DIST_SERVER"))
        .unwrap_or_else(|| layout::DEFAULT_DIST_SERVER.to_string());
    let update_root = args
        .update_root
        .clone()
        .or_else(|| env_url("RUSTUP_UPDATE_ROOT"))
        .unwrap_or_else(|| layout::DEFAULT_UPDATE_ROOT.to_string());
    let upstream = Upstream::new(&dist_server, &update_root);
    let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
    let hook = start_hook(upstream, &args.hook, listen, None)?.spawn()?;
    let url = hook.url();
    let (program, rest) = args
        .command
        .split_first()
        .context("no command given after --")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest)
        .env("RUSTUP_DIST_SERVER", &url)
        .env("RUSTUP_UPDATE_ROOT", format!("{url}/rustup"));
    // Large artifacts are verified before the first byte reaches rustup:
    // give rustup time to wait for them.
    if std::env::var_os("RUSTUP_DOWNLOAD_TIMEOUT").is_none() {
        cmd.env("RUSTUP_DOWNLOAD_TIMEOUT", "3600");
    }
    let status = cmd.status();
    let report = hook.stop();
    let status = status.with_context(|| format!("running {program}"))?;
    summarize(&report);
    if !report.refusals.is_empty() {
        return Ok(Outcome::Refused);
    }
    if status.success() {
        Ok(Outcome::Ok)
    } else {
        eprintln!("rustup-verify: {program} failed ({status}); the hook refused nothing");
        Ok(Outcome::CommandFailed)
    }
}

fn serve(args: ServeArgs) -> Result<Outcome> {
    let dist_server = args
        .dist_server
        .clone()
        .unwrap_or_else(|| layout::DEFAULT_DIST_SERVER.to_string());
    let update_root = args.update_root.clone().unwrap_or_else(|| {
        if args.dist_server.is_some() {
            format!("{}/rustup", layout::trim_slash(&dist_server))
        } else {
            layout::DEFAULT_UPDATE_ROOT.to_string()
        }
    });
    let upstream = Upstream::new(&dist_server, &update_root);
    let idle = args.idle_exit.map(Duration::from_secs);
    let hook = start_hook(upstream.clone(), &args.hook, args.listen, idle)?;
    let addr = hook.local_addr()?;
    let url = format!("http://{addr}");
    for u in [&upstream.dist_server, &upstream.update_root] {
        if u.starts_with(&url) {
            bail!("the upstream {u} is this hook itself; give the real upstream with --dist-server and --update-root");
        }
    }
    out!("RUSTUP_DIST_SERVER={url}");
    out!("RUSTUP_UPDATE_ROOT={url}/rustup");
    out!("RUSTUP_DOWNLOAD_TIMEOUT=3600");
    std::io::stdout().flush()?;
    eprintln!(
        "rustup-verify: verifying {} (update root {}) for rustup at {url}",
        upstream.dist_server, upstream.update_root
    );
    let report = hook.serve();
    summarize(&report);
    Ok(if report.refusals.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Refused
    })
}

fn check_cmd(args: CheckArgs) -> Result<Outcome> {
    let trust = match &args.root {
        Some(p) => {
            Trust::Root(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => Trust::Pin {
            cargo_home: cargo_home(&args.cargo_home)?,
            dist_server: args
                .dist_server
                .clone()
                .or_else(|| env_url("RUSTUP_DIST_SERVER"))
                .unwrap_or_else(|| layout::DEFAULT_DIST_SERVER.to_string()),
        },
    };
    let opts = CheckOptions {
        path: args.path.clone(),
        metadata: args.metadata.clone(),
        target_path: args.target_path.clone(),
        trust,
        now: time::now_unix(),
    };
    let report = match check::check(&opts) {
        Ok(r) => r,
        Err(check::CheckError::Verify(e)) if e.kind() == FailureKind::Verification => {
            eprintln!("rustup-verify: FAILED: {e}");
            return Ok(Outcome::Refused);
        }
        Err(e) => return Err(e.into()),
    };
    for f in &report.findings {
        match &f.result {
            Ok(what) if args.verbose => out!("ok      {}: {what}", f.file),
            Ok(_) => {}
            Err(e) => out!("FAILED  {e}"),
        }
    }
    for u in &report.unlisted {
        if args.verbose {
            out!("note    {u}: listed by no verified manifest (never served by the hook)");
        }
    }
    let checked = report.findings.len();
    out!(
        "{} of {checked} file(s) verified, {} failed; {} listed artifact(s) and {} signed file(s) not in the tree; {} unlisted file(s)",
        checked - report.failures(),
        report.failures(),
        report.artifacts_absent,
        report.signed_absent,
        report.unlisted.len()
    );
    Ok(if report.ok() {
        Outcome::Ok
    } else {
        Outcome::Refused
    })
}

fn read_keys(paths: &[PathBuf]) -> Result<Vec<shared_trust::crypto::Ed25519Signer>> {
    paths
        .iter()
        .map(|p| keyfile::read_private_key(p).map_err(anyhow::Error::from))
        .collect()
}

fn sign(args: SignArgs) -> Result<Outcome> {
    let nightly_keys = args
        .nightly_keys
        .iter()
        .map(|p| {
            keyfile::read_public_key(p)
                .map(|(_, k)| k)
                .map_err(anyhow::Error::from)
        })
        .collect::<Result<Vec<_>>>()?;
    let crates_root = match &args.crates_root {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let opts = SignOptions {
        tree: args.tree.clone(),
        repo: args.repo.clone(),
        keys: read_keys(&args.keys)?,
        online: read_keys(&args.online_keys)?,
        nightly_keys,
        crates_root,
        role_lifetime: Some(args.role_days * 86_400),
        snapshot_lifetime: Some(args.snapshot_days * 86_400),
        timestamp_lifetime: Some(args.timestamp_hours * 3600),
        now: time::now_unix(),
    };
    match release::sign(&opts) {
        Ok(report) => {
            for (target, role) in &report.signed {
                out!("signed  {target} ({role})");
            }
            for (role, version) in &report.roles {
                out!("role    {role} version {version}");
            }
            out!(
                "{} file(s) signed, {} unchanged; snapshot version {}, timestamp version {} (expires {})",
                report.signed.len(),
                report.unchanged,
                report.snapshot_version,
                report.timestamp_version,
                report.timestamp_expires
            );
            Ok(Outcome::Ok)
        }
        Err(
            e
            @ (ReleaseError::Io { .. } | ReleaseError::Repository { .. } | ReleaseError::Usage(_)),
        ) => Err(e.into()),
        Err(e) => {
            eprintln!("rustup-verify: refused: {e}");
            Ok(Outcome::Refused)
        }
    }
}
