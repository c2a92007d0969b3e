//! `tuf-conformance-client`: the TUF conformance suite's client protocol
//! (`CLIENT-CLI.md` of theupdateframework/tuf-conformance) over the
//! shared-trust updater.
//!
//! ```text
//! tuf-conformance-client --metadata-dir DIR init TRUSTED_ROOT
//! tuf-conformance-client --metadata-url URL --metadata-dir DIR refresh
//! tuf-conformance-client --metadata-url URL --metadata-dir DIR \
//!     --target-name PATH [--target-name PATH2 ...] \
//!     --target-base-url URL --target-dir DIR download
//! ```
//!
//! Exit status: 0 on success, 1 on any failure (including bad arguments).
//! Downloaded targets are written into `--target-dir` under their target
//! path percent-encoded into one file name.
#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use shared_trust::updater::{target_file_name, Config, Updater};
use shared_trust::AnyFetcher;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "tuf-conformance-client",
    about = "TUF conformance-suite client over shared-trust"
)]
struct Cli {
    /// Directory of trusted metadata.
    #[arg(long, global = true)]
    metadata_dir: Option<PathBuf>,
    /// Base URL of the repository's metadata.
    #[arg(long, global = true)]
    metadata_url: Option<String>,
    /// Target path to download (repeatable).
    #[arg(long = "target-name", global = true)]
    target_names: Vec<String>,
    /// Base URL of the repository's targets.
    #[arg(long, global = true)]
    target_base_url: Option<String>,
    /// Directory to download targets into.
    #[arg(long, global = true)]
    target_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Trust ROOT (a root metadata file) as the initial root.
    Init {
        /// Path of the trusted root metadata.
        root: PathBuf,
    },
    /// Update top-level metadata.
    Refresh,
    /// Refresh, then download and verify the named targets.
    Download,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(1);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let now = shared_trust::time::now_unix();
    let dir = cli.metadata_dir.context("--metadata-dir is required")?;
    match cli.command {
        Command::Init { root } => {
            let bytes =
                std::fs::read(&root).with_context(|| format!("reading {}", root.display()))?;
            Updater::<AnyFetcher>::bootstrap(&dir, &bytes, now)
                .with_context(|| format!("initializing {}", dir.display()))?;
        }
        Command::Refresh => {
            let url = cli.metadata_url.context("--metadata-url is required")?;
            let mut up = Updater::new(&dir, &url, AnyFetcher::default(), Config::default(), now)?;
            up.refresh()?;
        }
        Command::Download => {
            let url = cli.metadata_url.context("--metadata-url is required")?;
            let base = cli
                .target_base_url
                .context("--target-base-url is required")?;
            let target_dir = cli.target_dir.context("--target-dir is required")?;
            if cli.target_names.is_empty() {
                bail!("--target-name is required");
            }
            let mut up = Updater::new(&dir, &url, AnyFetcher::default(), Config::default(), now)?;
            up.refresh()?;
            for name in &cli.target_names {
                let info = up.get_targetinfo(name)?.with_context(|| {
                    format!("target {name:?} is not listed by any trusted targets role")
                })?;
                let dest = target_dir.join(target_file_name(name));
                if Updater::<AnyFetcher>::cached_target_matches(&dest, &info) {
                    continue;
                }
                up.download_target(name, &info, &base, &dest)
                    .with_context(|| format!("downloading target {name:?}"))?;
            }
        }
    }
    Ok(())
}
