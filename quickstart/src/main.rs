//! `quickstart`: the whole mission on a built-in default, as a new user
//! would see it.
//!
//! 1. A throwaway root repository (a 2-of-2 root ceremony), pinned only in
//!    a temporary `CARGO_HOME` for this run.
//! 2. The release team signs a small but real dist tree (a stable
//!    toolchain in rustup's installer format, rustup's release file and
//!    rustup-init) with `rustup-verify release sign`.
//! 3. The registry operator signs the project's real index sample with
//!    `index-sign`; the root repository publishes the crates repository's
//!    root.
//! 4. Everything is served on 127.0.0.1, as a mirror would serve it.
//! 5. Real cargo resolves and fetches a project through the mirror;
//!    `cargo index-verify` verifies it.
//! 6. Real rustup installs the toolchain through `rustup-verify run`.
//! 7. The mirror turns malicious: both tools catch it.
//!
//! The user's own `~/.cargo`, `~/.rustup` and pins are never read for
//! writing nor changed: every home is temporary and removed at the end.
//! The tools are the binaries built beside this one
//! (`cargo build --workspace --bins`, which `scripts/quickstart.sh` runs).
//!
//! Exit status: 0 every step behaved as expected; 1 a step did not (the
//! output says which); 2 the demonstration could not run.
#![forbid(unsafe_code)]

#[path = "../../rustup-verify/benches/support/fakedist.rs"]
mod fakedist;

use anyhow::{bail, Context, Result};
use fakedist::{
    install_rustup_copy, root_ceremony, rustup_version, write_rustup_init, write_rustup_release,
    write_toolchain, Keys, StaticServer, Toolchain,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

const CRATES_IO: &str = "https://github.com/rust-lang/crates.io-index";
const STABLE: (&str, &str) = ("1.91.0", "2026-10-30");

fn main() -> ExitCode {
    match run() {
        Ok(true) => {
            println!("\nAll steps behaved as expected. Temporary files removed.");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("\nA step did not behave as expected (see above). Temporary files removed.");
            ExitCode::from(1)
        }
        Err(e) => {
            trust_roots::cli::print_error("", &e);
            ExitCode::from(2)
        }
    }
}

/// The workspace binaries built beside this one.
struct Tools {
    dir: PathBuf,
    cargo: PathBuf,
}

impl Tools {
    fn locate() -> Result<Tools> {
        let exe = std::env::current_exe().context("locating this program")?;
        let dir = exe
            .parent()
            .context("this program has no directory")?
            .to_path_buf();
        for name in [
            "cargo-index-verify",
            "index-sign",
            "rustup-verify",
            "trust-roots",
        ] {
            if !dir.join(name).is_file() {
                bail!(
                    "{} is not built: run `cargo build --workspace --bins` first (scripts/quickstart.sh does)",
                    dir.join(name).display()
                );
            }
        }
        Ok(Tools {
            cargo: real_cargo()?,
            dir,
        })
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The real cargo binary (not a rustup proxy, which would look for a
/// toolchain in the temporary RUSTUP_HOME of step 6).
fn real_cargo() -> Result<PathBuf> {
    if let Some(c) = std::env::var_os("CARGO") {
        return Ok(PathBuf::from(c));
    }
    if let Ok(out) = Command::new("rustup").args(["which", "cargo"]).output() {
        if out.status.success() {
            return Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    fakedist::find_in_path("cargo").context("cargo is not on PATH")
}

fn step(n: u32, title: &str) {
    println!("\n== {n}/7 {title}");
}

fn note(text: &str) {
    println!("   {text}");
}

/// Runs a command, echoing it and its output (indented). Returns the exit
/// code.
fn show(cmd: &mut Command, shown: &str) -> Result<i32> {
    println!("\n   $ {shown}");
    let out = cmd.output().with_context(|| format!("running {shown}"))?;
    let mut stdout = std::io::stdout().lock();
    for stream in [&out.stdout, &out.stderr] {
        for line in String::from_utf8_lossy(stream).lines() {
            writeln!(stdout, "   | {line}")?;
        }
    }
    Ok(out.status.code().unwrap_or(-1))
}

fn expect(code: i32, want: i32, what: &str) -> bool {
    if code == want {
        println!("   -> {what}: exit {code}, as expected");
        true
    } else {
        println!("   !! {what}: exit {code}, expected {want}");
        false
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), &dest)?;
        }
    }
    Ok(())
}

/// The project's real index sample (`fixtures/registry-sample`).
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/registry-sample")
}

fn run() -> Result<bool> {
    let tools = Tools::locate()?;
    let Some(host_rustup) = fakedist::find_in_path("rustup") else {
        bail!("rustup is not on PATH");
    };
    let tmp = tempfile::Builder::new()
        .prefix("signed-mirrors-quickstart-")
        .tempdir()
        .context("creating a temporary directory")?;
    let work = tmp.path();
    let mirror = work.join("mirror");
    let cargo_home = work.join("cargo-home");
    let rustup_home = work.join("rustup-home");
    let project = work.join("project");
    let no_system_pins = work.join("no-system-pins.json");
    let now = shared_trust::time::now_unix();
    let mut ok = true;
    println!("Working in {} (removed at the end).", work.display());

    // The commands below run with these, never with the user's homes.
    let env = |c: &mut Command| {
        c.env("CARGO_HOME", &cargo_home)
            .env("CARGO_TUF_SYSTEM_PINS", &no_system_pins)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUST_RECURSION_COUNT")
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE");
    };
    let tool = |name: &str| {
        let mut c = Command::new(tools.bin(name));
        env(&mut c);
        c
    };

    step(1, "A throwaway root for this run");
    note(
        "Root ceremony: root keys 2-of-2, an offline targets key, a 2-of-2 `releases` delegation,",
    );
    note("online snapshot and timestamp keys (trust-roots ceremony, as key holders run it).");
    std::fs::create_dir_all(&mirror)?;
    let keys = Keys::generate(&work.join("keys"));
    let root = root_ceremony(&mirror, &keys, now);
    let root_file = work.join("root.json");
    std::fs::write(&root_file, &root)?;
    note(&format!(
        "root version 1 written to {} ({} bytes)",
        root_file.display(),
        root.len()
    ));

    step(2, "The release team signs a dist tree");
    let server = StaticServer::start(&mirror, Duration::from_secs(1800));
    let url = server.url();
    let rustup_ver = rustup_version(&host_rustup);
    let toolchain = Toolchain::new("stable", STABLE.0, STABLE.1);
    write_toolchain(&mirror, &toolchain);
    write_rustup_release(&mirror, &rustup_ver);
    write_rustup_init(&mirror, &rustup_ver);
    note(&format!(
        "stable {} for {} in rustup's installer format (gz, xz, zst), rustup {rustup_ver}'s release file and rustup-init",
        STABLE.0,
        fakedist::host_triple()
    ));
    // `rustup-verify release sign MIRROR ARGS --online-key ts.key --online-key snap.key`
    let release_sign = |args: &[&std::ffi::OsStr], shown: &str| {
        let mut c = tool("rustup-verify");
        c.args(["release", "sign"])
            .arg(&mirror)
            .args(args)
            .arg("--online-key")
            .arg(keys.key("ts"))
            .arg("--online-key")
            .arg(keys.key("snap"));
        show(&mut c, shown)
    };
    let code = release_sign(
        &[
            "--key".as_ref(),
            keys.key("rel1").as_os_str(),
            "--key".as_ref(),
            keys.key("rel2").as_os_str(),
        ],
        "rustup-verify release sign MIRROR --key rel1.key --key rel2.key --online-key ts.key --online-key snap.key",
    )?;
    ok &= expect(code, 0, "dist tree signed");

    step(3, "The registry operator signs the index");
    note("Seven real crates of the crates.io index of 2019-11-10, with their real .crate files.");
    let registry = work.join("registry");
    copy_dir(&fixtures().join("index"), &registry)?;
    std::fs::write(
        registry.join("config.json"),
        format!("{{\"dl\": \"{url}/dl/{{crate}}-{{version}}.crate\"}}\n"),
    )?;
    let index_keys = work.join("index-keys");
    let code = show(
        tool("index-sign")
            .args(["init", "--index"])
            .arg(&registry)
            .arg("--keys")
            .arg(&index_keys),
        "index-sign init --index REGISTRY --keys INDEX-KEYS",
    )?;
    ok &= expect(code, 0, "index signed");
    let code = release_sign(
        &[
            "--crates-root".as_ref(),
            index_keys.join("crates-root.json").as_os_str(),
            "--key".as_ref(),
            keys.key("tgt").as_os_str(),
        ],
        "rustup-verify release sign MIRROR --crates-root INDEX-KEYS/crates-root.json --key targets.key ...",
    )?;
    ok &= expect(
        code,
        0,
        "root repository publishes crates-repository/root.json",
    );
    let code = show(
        tool("index-sign")
            .args(["attach-root-repository", "--index"])
            .arg(&registry)
            .arg("--from")
            .arg(mirror.join("tuf")),
        "index-sign attach-root-repository --index REGISTRY --from MIRROR/tuf",
    )?;
    ok &= expect(code, 0, "root repository copied beside the index");

    step(4, "Serving the mirror on 127.0.0.1");
    copy_dir(&registry, &mirror.join("index"))?;
    copy_dir(&fixtures().join("crates"), &mirror.join("dl"))?;
    note(&format!(
        "{url}/dist/, {url}/rustup/, {url}/tuf/   the dist tree and its metadata"
    ));
    note(&format!(
        "{url}/index/ (with index/tuf/), {url}/dl/   the sparse index, its metadata, the crates"
    ));
    let code = show(
        tool("trust-roots")
            .args(["pin", "add", "demo-root", "--root"])
            .arg(&root_file)
            .args(["--url", &url, "--url", CRATES_IO, "--url", "https://index.crates.io/"]),
        &format!("trust-roots pin add demo-root --root root.json --url {url} --url {CRATES_IO} --url https://index.crates.io/"),
    )?;
    ok &= expect(code, 0, "root pinned in the temporary CARGO_HOME");

    step(5, "Real cargo through the mirror, then cargo index-verify");
    std::fs::write(
        cargo_home.join("config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"demo-mirror\"\n\n[source.demo-mirror]\nregistry = \"sparse+{url}/index/\"\n"
        ),
    )?;
    note(&format!(
        "CARGO_HOME/config.toml: [source.crates-io] replace-with = \"demo-mirror\" (registry = \"sparse+{url}/index/\")"
    ));
    std::fs::create_dir_all(project.join("src"))?;
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde_json = \"1\"\nlog = \"0.4\"\nlazy_static = \"1\"\n",
    )?;
    std::fs::write(project.join("src/lib.rs"), "")?;
    // `cargo index-verify` is found as a cargo subcommand on PATH.
    let path = std::env::join_paths(std::iter::once(tools.dir.clone()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    let cargo = |args: &[&str]| {
        let mut c = Command::new(&tools.cargo);
        env(&mut c);
        c.args(args)
            .current_dir(&project)
            .env("PATH", &path)
            .env("CARGO_TERM_COLOR", "never");
        c
    };
    let code = show(
        &mut cargo(&["generate-lockfile"]),
        "cargo generate-lockfile",
    )?;
    ok &= expect(code, 0, "resolved through the mirror");
    let code = show(&mut cargo(&["fetch"]), "cargo fetch")?;
    ok &= expect(code, 0, "fetched through the mirror");
    let code = show(&mut cargo(&["index-verify"]), "cargo index-verify")?;
    ok &= expect(code, 0, "every locked package verified");

    step(6, "Real rustup installs stable through rustup-verify");
    let rustup = install_rustup_copy(&cargo_home).context("copying rustup")?;
    let rustup_env = |c: &mut Command| {
        env(c);
        c.env("RUSTUP_HOME", &rustup_home)
            .env("RUSTUP_DIST_SERVER", &url)
            .env("RUSTUP_UPDATE_ROOT", format!("{url}/rustup"));
    };
    let install_via_hook = || {
        let mut c = tool("rustup-verify");
        rustup_env(&mut c);
        c.arg("run").arg("--").arg(&rustup).args([
            "toolchain",
            "install",
            "stable",
            "--profile",
            "minimal",
        ]);
        show(
            &mut c,
            "rustup-verify run -- rustup toolchain install stable --profile minimal",
        )
    };
    let code = install_via_hook()?;
    ok &= expect(code, 0, "toolchain installed through the hook");
    let mut c = Command::new(&rustup);
    rustup_env(&mut c);
    c.args(["run", "stable", "rustc", "--version"]);
    let code = show(&mut c, "rustup run stable rustc --version")?;
    ok &= expect(code, 0, "the installed toolchain runs");

    step(7, "The mirror turns malicious");
    note("It serves its own serde 1.0.102 and changes the cksum in the index to match.");
    let evil = repack_with_payload(&std::fs::read(
        fixtures().join("crates/serde-1.0.102.crate"),
    )?)?;
    let evil_sum = fakedist::sha256_hex(&evil);
    std::fs::write(mirror.join("dl/serde-1.0.102.crate"), &evil)?;
    let serde_file = mirror.join("index/se/rd/serde");
    let text = std::fs::read_to_string(&serde_file)?;
    let mut tampered = String::new();
    for line in text.lines() {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)?;
        if v.get("vers").and_then(|x| x.as_str()) == Some("1.0.102") {
            v.insert("cksum".into(), serde_json::Value::String(evil_sum.clone()));
        }
        tampered.push_str(&serde_json::to_string(&v)?);
        tampered.push('\n');
    }
    std::fs::write(&serde_file, tampered)?;
    std::fs::remove_dir_all(cargo_home.join("registry"))?;
    std::fs::remove_file(project.join("Cargo.lock"))?;
    note("A fresh checkout resolves and fetches again: cargo accepts the crate, whose checksum matches the index it was given.");
    let code = show(
        &mut cargo(&["generate-lockfile"]),
        "cargo generate-lockfile",
    )?;
    ok &= expect(code, 0, "cargo resolved");
    let code = show(&mut cargo(&["fetch"]), "cargo fetch")?;
    ok &= expect(code, 0, "cargo downloaded the malicious crate");
    let code = show(&mut cargo(&["index-verify"]), "cargo index-verify")?;
    ok &= expect(code, 1, "cargo index-verify caught it");
    note("That run checked what cargo read. It did not ask the mirror again for serde's index file: the copy verified in step 5 is still the signed one. --refresh asks, and names the mirror's file too.");
    let code = show(
        &mut cargo(&["index-verify", "--refresh", "--quiet"]),
        "cargo index-verify --refresh --quiet",
    )?;
    ok &= expect(
        code,
        1,
        "cargo index-verify --refresh caught the mirror's file",
    );

    note("It also swaps the rustc component tarball rustup would download.");
    let swapped = mirror.join(toolchain.artifact("rustc", "tar.zst"));
    let mut bytes = std::fs::read(&swapped).context("the rustc tarball")?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&swapped, bytes)?;
    let mut c = Command::new(&rustup);
    rustup_env(&mut c);
    c.args(["toolchain", "uninstall", "stable"]);
    let code = show(&mut c, "rustup toolchain uninstall stable")?;
    ok &= expect(code, 0, "toolchain removed, to install it again");
    let code = install_via_hook()?;
    ok &= expect(code, 1, "rustup-verify refused the tampered tarball");

    drop(server);
    Ok(ok)
}

/// The same `.crate` with a line added to every `src/lib.rs`: what a
/// malicious mirror would serve.
fn repack_with_payload(krate: &[u8]) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(krate).read_to_end(&mut raw)?;
    let mut archive = tar::Archive::new(raw.as_slice());
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        if path.ends_with("src/lib.rs") {
            data.extend_from_slice(b"\n// (code the mirror added)\n");
        }
        let mut h = entry.header().clone();
        h.set_size(data.len() as u64);
        h.set_cksum();
        out.append_data(&mut h, &path, data.as_slice())?;
    }
    let tar = out.into_inner()?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar)?;
    Ok(gz.finish()?)
}
