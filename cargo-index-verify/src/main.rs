//! `cargo index-verify`: check every locked registry package of a project
//! against a signed, fresh snapshot of its registry's whole index, through
//! whatever mirror cargo is configured to use.
//!
//! Exit status: 0 everything verified; 1 verification failed (including a
//! registry with no pinned root or no signed metadata); 2 could not run
//! (bad command line, no Cargo.lock, bad configuration, mirror unreachable).
#![forbid(unsafe_code)]

use anyhow::{Context, Result};
use cargo_index_verify::mirror;
use cargo_index_verify::project::{self, ProjectOptions};
use cargo_index_verify::report::{self, Style};
use cargo_index_verify::verify::Options;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use trust_roots::pins::{PinLocations, PinSet};

#[derive(Parser, Debug)]
#[command(
    name = "cargo-index-verify",
    bin_name = "cargo index-verify",
    version,
    about = "Verify every locked registry package against a signed, fresh snapshot of the whole index, through any mirror",
    after_help = "Without a subcommand, verifies the project in the current directory (or --manifest-path).\n\
                  Exit status: 0 verified, 1 verification failed (including a registry with no signed metadata),\n\
                  2 could not run."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    project: ProjectArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Debug)]
struct ProjectArgs {
    /// Path to Cargo.toml of the project (default: found from the current directory).
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Run without network: verify against the last verified snapshot.
    #[arg(long, global = true)]
    offline: bool,
    /// Ask the mirror for everything again: new roots of both repositories
    /// and every locked crate file, even those whose verified copies are
    /// still the signed ones (a warm run otherwise asks for one timestamp).
    #[arg(long, conflicts_with_all = ["offline", "frozen"])]
    refresh: bool,
    /// Require Cargo.lock to exist and be used as is (it is never written).
    #[arg(long)]
    locked: bool,
    /// Both --offline and --locked.
    #[arg(long)]
    frozen: bool,
    /// Override a cargo configuration value (KEY=VALUE, as cargo's --config).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
}

#[derive(Args, Debug)]
struct OutputArgs {
    /// Output format: a human summary, or one JSON document for CI.
    #[arg(long, value_enum, default_value_t = Format::Human, global = true)]
    format: Format,
    /// Coloring: auto, always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    /// No output but failures and the result line.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More detail (every note; expected and found values).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Mirror-operator mode: verify an entire index directory and every
    /// .crate file of a mirror against the registry's signed index.
    Mirror {
        /// The mirror's index directory (holds config.json, tuf/ and the crate files).
        #[arg(long, value_name = "DIR")]
        index: PathBuf,
        /// The registry it mirrors, as pinned (e.g. https://github.com/rust-lang/crates.io-index).
        #[arg(long, value_name = "URL")]
        registry: String,
        /// A directory of .crate files to check (repeatable; searched recursively).
        #[arg(long = "crates", value_name = "DIR")]
        crates: Vec<PathBuf>,
        /// Hashing threads (default: all cores).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
    },
}

fn main() -> ExitCode {
    // As a cargo subcommand, argv[1] is the subcommand's own name.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "index-verify") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(&cli) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => ExitCode::from(n),
        Err(e) => {
            trust_roots::cli::print_error("", &e);
            ExitCode::from(2)
        }
    }
}

fn cargo_home() -> Result<PathBuf> {
    if let Some(h) = std::env::var_os("CARGO_HOME") {
        return Ok(PathBuf::from(h));
    }
    let home = std::env::var_os("HOME").context("neither CARGO_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

/// A spinner on stderr, drawn only on a terminal and not with -q.
fn spinner(show: bool) -> indicatif::ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

fn run(cli: &Cli) -> Result<u8> {
    let out = &cli.output;
    let style = Style {
        color: match out.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        },
    };
    let cargo_home = cargo_home()?;
    let now = shared_trust::time::now_unix();
    let pb = spinner(!out.quiet && out.format == Format::Human);
    let progress = |what: &str| pb.set_message(format!("verifying {what}"));
    let mut stdout = std::io::stdout().lock();
    let verbose = out.verbose > 0;
    match &cli.command {
        Some(Command::Mirror {
            index,
            registry,
            crates,
            threads,
        }) => {
            let pins = PinSet::load(&PinLocations::for_cargo_home(&cargo_home))?;
            let opts = Options {
                cargo_home: cargo_home.clone(),
                now,
                offline: false,
                // The operator's check: every root probe, every file.
                refresh: true,
            };
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            // `file://` URLs need absolute paths.
            let absolute =
                |p: &PathBuf| std::path::absolute(p).with_context(|| format!("{}", p.display()));
            let index = absolute(index)?;
            let crates = crates.iter().map(absolute).collect::<Result<Vec<_>>>()?;
            let r = mirror::verify_mirror(
                &index,
                vec![registry.clone()],
                &crates,
                &pins,
                &opts,
                threads,
                &progress,
            )?;
            pb.finish_and_clear();
            let failures = r.registry.failures.len();
            if out.format == Format::Json {
                let doc = serde_json::json!({
                    "format": 1,
                    "result": if failures == 0 { "verified" } else { "failed" },
                    "registries": [r],
                });
                writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                if !out.quiet || failures > 0 {
                    report::write_registry(&mut stdout, &r.registry, style, verbose)?;
                    writeln!(
                        stdout,
                        "  mirror: {} crate files hashed ({} other files ignored), {} .crate files checked",
                        r.files, r.ignored, r.crates
                    )?;
                }
                report::write_result(&mut stdout, failures, style)?;
            }
            Ok(u8::from(failures > 0))
        }
        None => {
            let p = &cli.project;
            let opts = ProjectOptions {
                cargo: std::env::var_os("CARGO")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("cargo")),
                manifest_path: p.manifest_path.clone(),
                cwd: std::env::current_dir().context("the current directory")?,
                cargo_home,
                offline: p.offline || p.frozen,
                refresh: p.refresh,
                config: p.config.clone(),
                env: std::env::vars().collect(),
                now,
            };
            let r = project::verify_project(&opts, &progress)?;
            pb.finish_and_clear();
            let failures = r.failures();
            if out.format == Format::Json {
                let doc = serde_json::json!({
                    "format": 1,
                    "result": if failures == 0 { "verified" } else { "failed" },
                    "lockfile": r.lockfile,
                    "lockfile_version": r.lockfile_version,
                    "offline": r.offline,
                    "registries": r.registries,
                    "skipped": r.skipped,
                    "requests": r.requests,
                    "bytes": r.bytes,
                });
                writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                if !out.quiet {
                    let packages: usize = r.registries.iter().map(|x| x.packages).sum();
                    writeln!(
                        stdout,
                        "{} (lockfile version {}): {packages} registry packages{}{}",
                        r.lockfile.display(),
                        r.lockfile_version,
                        if r.skipped.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " (and {} not from a registry: workspace, path or git)",
                                r.skipped.len()
                            )
                        },
                        if r.offline { ", offline" } else { "" }
                    )?;
                }
                for reg in &r.registries {
                    if !out.quiet || !reg.failures.is_empty() {
                        report::write_registry(&mut stdout, reg, style, verbose)?;
                    }
                }
                if verbose {
                    writeln!(
                        stdout,
                        "{} requests, {} bytes received",
                        r.requests, r.bytes
                    )?;
                }
                report::write_result(&mut stdout, failures, style)?;
            }
            Ok(u8::from(failures > 0))
        }
    }
}
