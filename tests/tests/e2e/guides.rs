//! The user guides in `docs/guides/`, run as written.
//!
//! There is one guide per reader (a developer running `cargo
//! index-verify`, a rustup user, a mirror user pinning a root, a mirror
//! operator, a registry operator, a root key holder). Each test below
//! builds the world its guide describes (a signed index served by a mirror
//! on 127.0.0.1, a signed dist tree, a root repository, temporary homes),
//! then extracts the guide's command blocks and runs them in order in one
//! bash session, as a reader would type them in one terminal, checking
//! every exit status and every line of expected output the guide shows.
//!
//! What a guide may contain, and what is done with it:
//!
//! - ```` ```console ```` blocks: a line starting with `$ ` is a command
//!   (a line ending in `\` continues it); the lines after it, up to the next
//!   `$ `, are an excerpt of its output (stdout and stderr together). Each
//!   non-empty excerpt line must equal an output line (surrounding white
//!   space aside), in the order shown; `...` in an excerpt line stands for
//!   any text. A command must exit 0, unless the next command is `echo $?`
//!   and shows another status: then it must exit with that one. The
//!   commands of a guide share one shell: `cd` and variables carry over.
//! - ```` ```sh ```` blocks: a script, run on its own in a subshell with
//!   `set -eo pipefail` (as a CI step runs a script); it must exit 0.
//! - ```` ```yaml ```` (CI workflows) and ```` ```crontab ```` blocks are
//!   not run, but every command in them (`run:` lines, crontab entries) must
//!   be, verbatim, a command the guide runs (a console command or a line of
//!   a script).
//! - Blocks in [`SHOWN`] languages (text, toml, json, ...) are shown, not
//!   run. Any other language fails the test, so no command block can escape
//!   being run.
//!
//! Placeholders: each guide lists its `$VARIABLES` in a table whose rows
//! start with ``| `$NAME` |``. The test sets exactly those, to paths and
//! URLs of the world it built (a placeholder documented but not set, or set
//! but not documented, fails).
//!
//! The session's environment: `PATH` starts with the directory of the
//! workspace's binaries (`cargo index-verify` resolves as a cargo
//! subcommand), then the directory of the real `cargo` running these tests
//! (not a rustup proxy); `HOME` and `CARGO_HOME` are temporary;
//! `CARGO_TUF_SYSTEM_PINS` names a file that does not exist, so the
//! machine's `/etc/cargo-tuf/pins.json` is never read; cargo's and rustup's
//! variables from the test's own environment are removed.
//!
//! Finally `readme_and_docs_commands_are_exercised` reads the command
//! blocks of `README.md` and of the design notes in `docs/*.md` and checks that
//! each of their commands of this project's tools is exercised by a guide
//! here (same program, subcommands, flags), or is on [`NOT_RUN_HERE`] with
//! the reason.

// The dist-tree fixtures; `rustup.rs` includes the same file as a private
// module of its own.
#[allow(clippy::duplicate_mod)]
#[path = "../../../rustup-verify/benches/support/fakedist.rs"]
mod fakedist;

use crate::index::World;
use crate::support::copy_dir;
use shared_trust::crypto::{Ed25519Signer, Signer};
use shared_trust::keyfile;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Fenced-block languages that are shown, never run.
const SHOWN: &[&str] = &["text", "toml", "json", "nginx", "dockerfile"];

/// The longest one command may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(180);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace")
        .to_path_buf()
}

// ---------------------------------------------------------------------
// Reading a guide

/// What a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A console command, run in the session's shell.
    Command,
    /// A script, run in a subshell with `set -eo pipefail`.
    Script,
}

/// One thing to run.
#[derive(Clone, Debug)]
struct Step {
    /// Line of the guide where it starts (1-based).
    line: usize,
    kind: Kind,
    text: String,
    /// Excerpt of the expected output.
    expect: Vec<String>,
    /// Expected exit status.
    code: i32,
}

/// A fenced block.
struct Block {
    lang: String,
    /// Line of the opening fence (1-based).
    line: usize,
    lines: Vec<String>,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match current.take() {
            None if fence => {
                current = Some(Block {
                    lang: line.trim_start().trim_start_matches('`').trim().to_string(),
                    line: i + 1,
                    lines: Vec::new(),
                })
            }
            None => {}
            Some(b) if fence => out.push(b),
            Some(mut b) => {
                b.lines.push(line.to_string());
                current = Some(b);
            }
        }
    }
    assert!(current.is_none(), "unclosed code fence");
    out
}

/// A guide: its steps, the commands quoted in workflows and crontabs, and
/// its documented placeholders.
struct Guide {
    path: PathBuf,
    steps: Vec<Step>,
    quoted: Vec<(usize, String)>,
    placeholders: BTreeSet<String>,
}

impl Guide {
    fn read(name: &str) -> Guide {
        let path = workspace().join("docs/guides").join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut steps: Vec<Step> = Vec::new();
        let mut quoted = Vec::new();
        for b in blocks(&text) {
            match b.lang.as_str() {
                "console" => steps.extend(console_steps(&b)),
                "sh" => steps.push(Step {
                    line: b.line + 1,
                    kind: Kind::Script,
                    text: b.lines.join("\n"),
                    expect: Vec::new(),
                    code: 0,
                }),
                "yaml" => quoted.extend(workflow_commands(&b)),
                "crontab" => quoted.extend(crontab_commands(&b)),
                l if SHOWN.contains(&l) => {}
                l => panic!(
                    "{}:{}: a ```{l} block is neither run nor shown: use console, sh, yaml, crontab or one of {SHOWN:?}",
                    path.display(),
                    b.line
                ),
            }
        }
        // `$ echo $?` showing N: the command before it exits N.
        for i in 1..steps.len() {
            if steps[i].kind == Kind::Command && steps[i].text.trim() == "echo $?" {
                let shown = steps[i].expect.first().map(|s| s.trim().to_string());
                let code = shown
                    .as_deref()
                    .and_then(|s| s.parse::<i32>().ok())
                    .unwrap_or_else(|| {
                        panic!(
                            "{}:{}: `echo $?` must show a status",
                            path.display(),
                            steps[i].line
                        )
                    });
                steps[i - 1].code = code;
            }
        }
        let placeholders = text
            .lines()
            .filter_map(|l| l.strip_prefix("| `$"))
            .filter_map(|l| l.split_once('`'))
            .map(|(name, _)| name.to_string())
            .collect();
        Guide {
            path,
            steps,
            quoted,
            placeholders,
        }
    }

    /// Every command the guide runs, one per logical line, white space
    /// collapsed.
    fn commands_run(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for s in &self.steps {
            match s.kind {
                Kind::Command => {
                    out.insert(normalize(&s.text));
                }
                Kind::Script => out.extend(logical_lines(&s.text).map(|l| normalize(&l))),
            }
        }
        out
    }
}

/// Lines of a script with `\` continuations joined, comments and blank
/// lines left out.
fn logical_lines(script: &str) -> impl Iterator<Item = String> + '_ {
    let mut joined = Vec::new();
    let mut cur = String::new();
    for line in script.lines() {
        if let Some(head) = line.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(line);
            joined.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        joined.push(cur);
    }
    joined
        .into_iter()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

fn normalize(command: &str) -> String {
    command
        .replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn console_steps(b: &Block) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut continued = false;
    for (i, line) in b.lines.iter().enumerate() {
        if continued {
            let s = steps.last_mut().expect("a command continues");
            s.text.push('\n');
            s.text.push_str(line);
            continued = line.ends_with('\\');
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: b.line + 1 + i,
                kind: Kind::Command,
                text: cmd.to_string(),
                expect: Vec::new(),
                code: 0,
            });
            continued = cmd.ends_with('\\');
        } else if !line.trim().is_empty() {
            match steps.last_mut() {
                Some(s) => s.expect.push(line.to_string()),
                None => panic!(
                    "line {}: output before the first command of a console block",
                    b.line + 1 + i
                ),
            }
        }
    }
    steps
}

/// `run:` commands of a CI workflow (one-line, or each line of `run: |`).
fn workflow_commands(b: &Block) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.lines.len() {
        let line = &b.lines[i];
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        if let Some(rest) = t.strip_prefix("run:") {
            let rest = rest.trim();
            if rest == "|" || rest == ">" {
                let indent = line.len() - line.trim_start().len();
                let start = b.line + 2 + i;
                i += 1;
                let mut script = String::new();
                while i < b.lines.len() {
                    let l = &b.lines[i];
                    if !l.trim().is_empty() && l.len() - l.trim_start().len() <= indent {
                        break;
                    }
                    script.push_str(l.trim());
                    script.push('\n');
                    i += 1;
                }
                out.extend(logical_lines(&script).map(|c| (start, c)));
                continue;
            }
            out.push((b.line + 1 + i, rest.to_string()));
        }
        i += 1;
    }
    out
}

/// Commands of crontab entries (variable assignments and comments aside).
fn crontab_commands(b: &Block) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in b.lines.iter().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let first = t.split_whitespace().next().unwrap_or_default();
        if first.contains('=') {
            continue;
        }
        let fields = if first.starts_with('@') { 1 } else { 5 };
        let cmd = t
            .split_whitespace()
            .skip(fields)
            .collect::<Vec<_>>()
            .join(" ");
        out.push((b.line + 1 + i, cmd));
    }
    out
}

/// Whether an output line matches an excerpt line (`...`: any text).
fn line_matches(pattern: &str, line: &str) -> bool {
    let (p, l) = (pattern.trim(), line.trim());
    let parts: Vec<&str> = p.split("...").collect();
    if parts.len() == 1 {
        return p == l;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !l.starts_with(first) || l.len() < first.len() + last.len() || !l.ends_with(last) {
        return false;
    }
    let mut rest = &l[first.len()..l.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The first excerpt line not found (in order) in the output.
fn missing_line<'a>(expect: &'a [String], output: &str) -> Option<&'a str> {
    let lines: Vec<&str> = output.lines().collect();
    let mut at = 0;
    for e in expect {
        if e.trim() == "..." {
            continue;
        }
        match lines[at..].iter().position(|l| line_matches(e, l)) {
            Some(i) => at += i + 1,
            None => return Some(e),
        }
    }
    None
}

// ---------------------------------------------------------------------
// Running a guide

/// One bash process for a whole guide: commands are written to its stdin
/// one at a time; each one's output and status land in files.
struct Session {
    child: Child,
    stdin: ChildStdin,
    out: tempfile::TempDir,
    next: usize,
}

impl Session {
    fn start(cwd: &Path, env: &BTreeMap<String, String>) -> Session {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-s"])
            .current_dir(cwd)
            .env_clear()
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = cmd.spawn().expect("bash runs");
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"__guide_status() { return \"$1\"; }\n__guide_last=0\n")
            .unwrap();
        Session {
            child,
            stdin,
            out: tempfile::tempdir().unwrap(),
            next: 0,
        }
    }

    /// Runs a step; its exit status and output.
    fn run(&mut self, step: &Step) -> (i32, String) {
        let n = self.next;
        self.next += 1;
        let dir = self.out.path();
        let (out, rc) = (dir.join(format!("{n}.out")), dir.join(format!("{n}.rc")));
        let q = |p: &Path| format!("'{}'", p.display());
        let body = match step.kind {
            Kind::Command => format!(
                "__guide_status \"$__guide_last\"\n{{\n{}\n}} >{} 2>&1 </dev/null\n__guide_last=$?\n",
                step.text,
                q(&out)
            ),
            Kind::Script => format!(
                "( set -eo pipefail\n{}\n) >{} 2>&1 </dev/null\n__guide_last=$?\n",
                step.text,
                q(&out)
            ),
        };
        let tmp = dir.join(format!("{n}.rc.tmp"));
        let script = format!(
            "{body}echo \"$__guide_last\" >{} && mv {} {}\n",
            q(&tmp),
            q(&tmp),
            q(&rc)
        );
        self.stdin.write_all(script.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
        let start = Instant::now();
        loop {
            if let Ok(code) = std::fs::read_to_string(&rc) {
                let output = std::fs::read_to_string(&out).unwrap_or_default();
                return (code.trim().parse().unwrap(), output);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "line {}: the shell exited ({status}) during `{}`",
                    step.line, step.text
                );
            }
            assert!(
                start.elapsed() < STEP_TIMEOUT,
                "line {}: `{}` did not finish within {STEP_TIMEOUT:?}; output so far:\n{}",
                step.line,
                step.text,
                std::fs::read_to_string(&out).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The shell and whatever it left running (its own process group).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// The directory holding the workspace's binaries.
fn tool_dir() -> PathBuf {
    let dir = crate::index::bin("trust-roots")
        .parent()
        .unwrap()
        .to_path_buf();
    for t in [
        "cargo-index-verify",
        "index-sign",
        "rustup-verify",
        "trust-roots",
    ] {
        assert!(
            dir.join(t).is_file(),
            "{} is not built: run the tests of the whole workspace",
            dir.join(t).display()
        );
    }
    dir
}

/// The real cargo running these tests (not a rustup proxy).
fn real_cargo_dir() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO")?;
    Some(PathBuf::from(cargo).parent()?.to_path_buf())
}

/// What a guide's session needs besides its placeholders.
struct Machine {
    /// Temporary `HOME`.
    home: PathBuf,
    cargo_home: PathBuf,
    /// Directories put on `PATH` after the tools and real cargo.
    path: Vec<PathBuf>,
    /// Leave the real cargo's directory off `PATH` (rustup's guide: its
    /// proxies must win).
    no_real_cargo: bool,
    /// Further variables (not placeholders).
    env: Vec<(String, String)>,
}

impl Machine {
    fn new(root: &Path, cargo_home: &Path) -> Machine {
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        Machine {
            home,
            cargo_home: cargo_home.to_path_buf(),
            path: Vec::new(),
            no_real_cargo: false,
            env: Vec::new(),
        }
    }

    fn environment(&self, placeholders: &[(&str, String)]) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| {
                !(k.starts_with("CARGO")
                    || k.starts_with("RUSTUP")
                    || k.starts_with("RUSTC")
                    || k.starts_with("RUST_")
                    || k.starts_with("GIT_")
                    || k.starts_with("NEXTEST")
                    || k == "HOME"
                    || k == "PATH"
                    || k == "NO_COLOR")
            })
            .collect();
        let mut path = vec![tool_dir()];
        if !self.no_real_cargo {
            path.extend(real_cargo_dir());
        }
        path.extend(self.path.iter().cloned());
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(path).unwrap();
        let set = [
            ("PATH", path.to_string_lossy().into_owned()),
            ("HOME", self.home.display().to_string()),
            ("CARGO_HOME", self.cargo_home.display().to_string()),
            (
                "CARGO_TUF_SYSTEM_PINS",
                self.home.join("no-system-pins.json").display().to_string(),
            ),
            ("CARGO_TERM_COLOR", "never".into()),
            ("GIT_AUTHOR_NAME", "Registry Operator".into()),
            ("GIT_AUTHOR_EMAIL", "registry@corp.example".into()),
            ("GIT_COMMITTER_NAME", "Registry Operator".into()),
            ("GIT_COMMITTER_EMAIL", "registry@corp.example".into()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ];
        for (k, v) in set {
            env.insert(k.into(), v);
        }
        for (k, v) in &self.env {
            env.insert(k.clone(), v.clone());
        }
        for (k, v) in placeholders {
            env.insert(k.to_string(), v.clone());
        }
        env
    }
}

/// Runs a guide in `cwd`: every step, in order, as the guide says.
fn run_guide(name: &str, cwd: &Path, machine: &Machine, placeholders: &[(&str, String)]) {
    let guide = Guide::read(name);
    let shown = guide.path.display().to_string();
    assert!(!guide.steps.is_empty(), "{shown}: no commands");
    let set: BTreeSet<String> = placeholders.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(
        set, guide.placeholders,
        "{shown}: the placeholders the test sets (left) differ from those the guide's table documents (right)"
    );
    let run = guide.commands_run();
    for (line, cmd) in &guide.quoted {
        assert!(
            run.contains(&normalize(cmd)),
            "{shown}:{line}: `{cmd}` is quoted in a workflow or crontab but never run by the guide"
        );
    }
    let started = Instant::now();
    let mut session = Session::start(cwd, &machine.environment(placeholders));
    for step in &guide.steps {
        let t = Instant::now();
        let (code, output) = session.run(step);
        let entry = format!(
            "--- {shown}:{} ({:.1} s, exit {code})\n$ {}\n{output}",
            step.line,
            t.elapsed().as_secs_f64(),
            step.text
        );
        eprintln!("{entry}");
        assert_eq!(
            code, step.code,
            "{shown}:{}: `{}` exited {code}, the guide says {}; output:\n{output}",
            step.line, step.text, step.code
        );
        if let Some(line) = missing_line(&step.expect, &output) {
            panic!(
                "{shown}:{}: the output of `{}` lacks the line the guide shows:\n  {line}\noutput:\n{output}",
                step.line, step.text
            );
        }
    }
    eprintln!(
        "{shown}: {} steps in {:.1} s",
        guide.steps.len(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------
// The guides

/// The developer: a project whose crates-io is replaced by a company
/// mirror (sparse, on 127.0.0.1), locked and fetched; the registry's root
/// committed in the project as `ci/crates-io-root.json`, not pinned yet.
#[test]
fn guide_cargo_index_verify() {
    let w = World::new();
    std::fs::remove_dir_all(w.cargo_home.join("tuf")).unwrap();
    let ci = w.project.join("ci");
    std::fs::create_dir_all(&ci).unwrap();
    std::fs::copy(
        w.tmp.path().join("root-repository/metadata/1.root.json"),
        ci.join("crates-io-root.json"),
    )
    .unwrap();
    let m = Machine::new(w.tmp.path(), &w.cargo_home);
    run_guide("cargo-index-verify.md", &w.project, &m, &[]);
}

/// `None` (after saying so) when rustup is absent and skipping is allowed,
/// as in `rustup.rs`.
fn rustup_copy(cargo_home: &Path) -> Option<PathBuf> {
    let found = fakedist::install_rustup_copy(cargo_home);
    if found.is_none() {
        if std::env::var_os("RUSTUP_VERIFY_E2E_SKIP").is_some_and(|v| v == "1") {
            eprintln!("SKIPPED: rustup is not on PATH (RUSTUP_VERIFY_E2E_SKIP=1)");
            return None;
        }
        panic!("rustup is not on PATH; this guide needs real rustup (set RUSTUP_VERIFY_E2E_SKIP=1 to skip it)");
    }
    found
}

/// A dist mirror (static server on 127.0.0.1): stable 1.86.0 and a beta,
/// signed by a root repository made with the root ceremony; after
/// signing, the mirror's beta rustc tarball was altered. Returns the root
/// v1 and the beta toolchain.
fn dist_mirror(tree: &Path, rustup: &str) -> (Vec<u8>, fakedist::Toolchain) {
    use fakedist::*;
    write_toolchain(tree, &Toolchain::new("stable", "1.86.0", "2025-04-03"));
    let beta = Toolchain::new("beta", "1.87.0-beta.3", "2025-04-05");
    write_toolchain(tree, &beta);
    write_rustup_release(tree, rustup);
    write_rustup_init(tree, rustup);
    let keys = Keys::generate(&tree.parent().unwrap().join("release-keys"));
    let now = shared_trust::time::now_unix();
    let root = root_ceremony(tree, &keys, now);
    sign_with(tree, &keys, &["rel1", "rel2"], now, 86_400);
    (root, beta)
}

/// The rustup user: real rustup (a copy in a temporary `CARGO_HOME`, a
/// temporary `RUSTUP_HOME`) behind a company dist mirror, whose root they
/// were given as `rust-dist-root.json`.
#[test]
fn guide_rustup_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let cargo_home = root.join("cargo-home");
    let Some(rustup) = rustup_copy(&cargo_home) else {
        return;
    };
    let tree = root.join("mirror");
    let (root_v1, beta) = dist_mirror(&tree, &fakedist::rustup_version(&rustup));
    crate::support::flip_byte(&tree.join(beta.artifact("rustc", "tar.zst")), 100);
    let server = fakedist::StaticServer::start(&tree, Duration::from_secs(300));
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("rust-dist-root.json"), root_v1).unwrap();
    let mut m = Machine::new(root, &cargo_home);
    m.path.push(cargo_home.join("bin"));
    m.no_real_cargo = true;
    m.env.push((
        "RUSTUP_HOME".into(),
        root.join("rustup-home").display().to_string(),
    ));
    run_guide(
        "rustup-verify.md",
        &work,
        &m,
        &[
            ("RUSTUP_DIST_SERVER", server.url()),
            ("RUSTUP_UPDATE_ROOT", format!("{}/rustup", server.url())),
        ],
    );
}

/// Root v1 of a fresh root repository (made with the root ceremony in
/// `dir`).
fn another_root(dir: &Path) -> Vec<u8> {
    let keys = fakedist::Keys::generate(&dir.join("keys"));
    fakedist::root_ceremony(dir, &keys, shared_trust::time::now_unix())
}

/// The mirror user: the company mirror of crates.io (sparse, on
/// 127.0.0.1), a project locked and fetched through it in `~/demo`, no pin
/// yet; in `~`, the root of crates.io's signing repository and the root of
/// the company's private registry, as handed out.
#[test]
fn guide_pinning() {
    let w = World::new();
    std::fs::remove_dir_all(w.cargo_home.join("tuf")).unwrap();
    let m = Machine::new(w.tmp.path(), &w.cargo_home);
    copy_dir(&w.project, &m.home.join("demo"));
    std::fs::copy(
        w.tmp.path().join("root-repository/metadata/1.root.json"),
        m.home.join("crates-io-root.json"),
    )
    .unwrap();
    let corp = another_root(&w.tmp.path().join("corp"));
    std::fs::write(m.home.join("corp-root.json"), corp).unwrap();
    run_guide(
        "pinning.md",
        &m.home,
        &m,
        &[("MIRROR_URL", format!("sparse+{}/index/", w.server.url()))],
    );
}

/// The mirror operator: a sync of crates.io's index (with its `tuf/`) and
/// its `.crate` files, and of a dist tree (stable and beta, with `tuf/`),
/// waiting in `$STAGING`, beside it the directory the web server serves
/// (`$MIRROR_ROOT/current`, not there yet); the two roots as handed out in
/// the working directory, and no pins yet.
#[test]
fn guide_mirror_operator() {
    let w = World::new();
    let root = w.tmp.path();
    let srv = root.join("srv/mirror");
    let staging = srv.join("staging");
    copy_dir(&w.registry, &staging.join("crates-io/index"));
    copy_dir(&w.mirror.join("dl"), &staging.join("crates-io/crates"));
    let tree = root.join("dist");
    let (dist_root, _) = dist_mirror(&tree, "1.28.2");
    copy_dir(&tree, &staging.join("rust"));
    let operator = root.join("operator");
    std::fs::create_dir_all(&operator).unwrap();
    std::fs::copy(
        root.join("root-repository/metadata/1.root.json"),
        operator.join("crates-io-root.json"),
    )
    .unwrap();
    std::fs::write(operator.join("rust-dist-root.json"), dist_root).unwrap();
    let m = Machine::new(root, &root.join("operator-cargo-home"));
    run_guide(
        "mirror-operator.md",
        &operator,
        &m,
        &[
            ("MIRROR_ROOT", srv.display().to_string()),
            ("STAGING", staging.display().to_string()),
        ],
    );
}

/// Generates an ed25519 key as `dir/NAME.key` and `dir/NAME.pub.json`.
fn key_file(dir: &Path, name: &str) -> Ed25519Signer {
    let s = Ed25519Signer::generate();
    keyfile::write_private_key(&dir.join(format!("{name}.key")), &s).unwrap();
    std::fs::write(
        dir.join(format!("{name}.pub.json")),
        keyfile::public_key_json(s.public_key()),
    )
    .unwrap();
    s
}

/// A published root repository in `dir/root-repository` (root 2 of 2:
/// alice and bob; targets, timestamp and snapshot keys, one each), the key
/// files in `dir`, as the root key holders' coordinator keeps them.
fn published_root_repository(dir: &Path) {
    use trust_roots::ceremony::{self, InitSpec, RoleSpec, RELEASES_PATHS};
    let names = [
        "alice",
        "bob",
        "targets",
        "timestamp",
        "snapshot",
        "release",
    ];
    let mut keys: BTreeMap<&str, Ed25519Signer> =
        names.iter().map(|n| (*n, key_file(dir, n))).collect();
    let spec = |ns: &[&str], threshold: u64| RoleSpec {
        keys: ns.iter().map(|n| keys[n].public_key().clone()).collect(),
        threshold,
    };
    let mut roles = BTreeMap::new();
    roles.insert("root".to_string(), spec(&["alice", "bob"], 2));
    for role in ["targets", "timestamp", "snapshot"] {
        roles.insert(role.to_string(), spec(&[role], 1));
    }
    let repo = dir.join("root-repository");
    let now = shared_trust::time::now_unix();
    ceremony::init(
        &repo,
        &InitSpec {
            roles,
            releases: Some((
                spec(&["release"], 1),
                RELEASES_PATHS.iter().map(|s| s.to_string()).collect(),
            )),
            root_days: 365,
            targets_days: 365,
            now,
        },
    )
    .unwrap();
    for holder in ["alice", "bob", "targets"] {
        ceremony::sign(&repo, &keys[holder]).unwrap();
    }
    let online = [
        keys.remove("timestamp").unwrap(),
        keys.remove("snapshot").unwrap(),
    ];
    ceremony::publish(&repo, &online, now).unwrap();
}

/// The registry operator: the registry's index (the project's sample of
/// seven crates, a git repository) in `$INDEX`, no keys yet; in the
/// working directory, the published root repository and the keys of its
/// targets holder and online roles (the root holders' side of the guide);
/// `$OFFLINE_KEYS` an empty directory (removable media).
#[test]
fn guide_registry_operator() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let index = root.join("srv/registry/index");
    copy_dir(&workspace().join("fixtures/registry-sample/index"), &index);
    std::fs::write(
        index.join("config.json"),
        "{\"dl\": \"https://registry.corp.example/api/v1/crates\", \"api\": \"https://registry.corp.example\"}\n",
    )
    .unwrap();
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    published_root_repository(&work);
    let offline = root.join("media/offline-keys");
    std::fs::create_dir_all(&offline).unwrap();
    let m = Machine::new(root, &root.join("cargo-home"));
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&index)
            .envs(
                m.environment(&[])
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("GIT_") || k == "HOME"),
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "master"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "The index"]);
    run_guide(
        "registry-operator.md",
        &work,
        &m,
        &[
            ("INDEX", index.display().to_string()),
            ("KEYS", root.join("srv/registry/keys").display().to_string()),
            ("OFFLINE_KEYS", offline.display().to_string()),
            (
                "ROOT_REPOSITORY",
                work.join("root-repository").display().to_string(),
            ),
            (
                "REGISTRY_URL",
                "sparse+https://registry.corp.example/index/".into(),
            ),
        ],
    );
}

/// The key holders: an empty working directory (one machine plays every
/// holder and the coordinator), and `crates-root.json`, the crates
/// repository's root v1 a registry operator handed over (made here with
/// `index-sign init` on the project's index sample).
#[test]
fn guide_root_ceremony() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let index = root.join("registry/index");
    copy_dir(&workspace().join("fixtures/registry-sample/index"), &index);
    std::fs::write(
        index.join("config.json"),
        "{\"dl\": \"https://registry.corp.example/api/v1/crates\"}\n",
    )
    .unwrap();
    let keys = root.join("registry/keys");
    let out = Command::new(tool_dir().join("index-sign"))
        .args(["init", "--index"])
        .arg(&index)
        .arg("--keys")
        .arg(&keys)
        .output()
        .unwrap();
    assert!(out.status.success(), "index-sign init: {out:?}");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(keys.join("crates-root.json"), work.join("crates-root.json")).unwrap();
    let m = Machine::new(root, &root.join("cargo-home"));
    run_guide("root-ceremony.md", &work, &m, &[]);
}

// ---------------------------------------------------------------------
// README.md and the design notes in docs/

/// The guides this module runs.
const GUIDES: [&str; 6] = [
    "cargo-index-verify.md",
    "rustup-verify.md",
    "pinning.md",
    "mirror-operator.md",
    "registry-operator.md",
    "root-ceremony.md",
];

/// Commands of `README.md` and `docs/*.md` that no guide runs, each with
/// the reason (the command as written, white space collapsed).
const NOT_RUN_HERE: &[(&str, &str)] = &[
    (
        "./scripts/test.sh",
        "runs every test of the workspace, this one included; CI runs it (.ci/run)",
    ),
    (
        "./scripts/quickstart.sh",
        "builds the tools and starts the quickstart binary, which quickstart/tests/quickstart.rs runs end to end",
    ),
    (
        "cargo fmt --all",
        "rewrites the sources; CI checks it (`cargo fmt --all -- --check` in .ci/run)",
    ),
    (
        "cargo clippy --workspace --all-targets -- -D warnings",
        "the lint gate; CI runs it (.ci/run)",
    ),
    (
        "cargo install cargo-nextest",
        "installs a third-party tool from crates.io (network)",
    ),
    (
        "cargo install cargo-fuzz",
        "installs a third-party tool from crates.io (network)",
    ),
    (
        "apt-get install faketime",
        "a system package for the external conformance suite",
    ),
    (
        "git clone https://github.com/theupdateframework/tuf-conformance",
        "fetches the external conformance suite (network)",
    ),
    (
        "git -C tuf-conformance checkout eec841c",
        "part of fetching the external conformance suite",
    ),
    (
        "./scripts/conformance.sh tuf-conformance",
        "runs the external conformance suite (needs it cloned, and PyPI)",
    ),
    (
        "tuf-conformance-client --metadata-dir DIR init ROOT.json",
        "the suite's client protocol (CLIENT-CLI.md); ./scripts/conformance.sh drives it",
    ),
    (
        "tuf-conformance-client --metadata-url URL --metadata-dir DIR refresh",
        "the suite's client protocol (CLIENT-CLI.md); ./scripts/conformance.sh drives it",
    ),
    (
        "tuf-conformance-client --metadata-url URL --metadata-dir DIR --target-name PATH [--target-name PATH2 ...] --target-base-url URL --target-dir DIR download",
        "the suite's client protocol (CLIENT-CLI.md); ./scripts/conformance.sh drives it",
    ),
    (
        "./fuzz/seed.sh",
        "seeds the fuzz corpora; fuzzing needs cargo-fuzz and a nightly-capable compiler",
    ),
    (
        "cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run metadata -- -max_total_time=300",
        "five minutes of fuzzing with cargo-fuzz",
    ),
    (
        "RUSTC_BOOTSTRAP=1 cargo fuzz run <target> -- -max_total_time=300",
        "fuzzing with cargo-fuzz, minutes per target",
    ),
    (
        "RUSTC_BOOTSTRAP=1 cargo fuzz run -s none <target> -- -max_total_time=300",
        "fuzzing with cargo-fuzz, minutes per target",
    ),
    (
        "cargo bench -p shared-trust --bench trust",
        "a benchmark of one to two minutes, figures in docs/benchmarks.md",
    ),
    (
        "python3 -m venv .venv",
        "the python-tuf environment of the benchmarks and interoperability tests; ./scripts/test.sh makes it",
    ),
    (
        ".venv/bin/pip install -r tests/python/requirements.txt",
        "installs python-tuf from PyPI; ./scripts/test.sh does",
    ),
    (
        "BENCH_PYTHON=$PWD/.venv/bin/python cargo bench -p shared-trust --bench trust",
        "the benchmark with python-tuf beside it",
    ),
    (
        "rustup-verify release sign TREE --key release-1.key --key release-2.key --online-key ts.key --online-key snap.key",
        "the release team's signing command: tests/tests/e2e/rustup.rs runs it (--key, --online-key, --nightly-key, --crates-root) before real rustup",
    ),
    (
        "rustup-verify release sign TREE --key release-1.key --key release-2.key --nightly-key nightly.pub.json --key nightly.key --online-key ts.key --online-key snap.key",
        "the release team's signing command: tests/tests/e2e/rustup.rs runs it (--key, --online-key, --nightly-key, --crates-root) before real rustup",
    ),
    (
        "export RUSTUP_DIST_SERVER=http://127.0.0.1:8765",
        "one of the lines `rustup-verify serve` prints; docs/guides/rustup-verify.md takes them from its output",
    ),
    (
        "export RUSTUP_UPDATE_ROOT=http://127.0.0.1:8765/rustup",
        "one of the lines `rustup-verify serve` prints; docs/guides/rustup-verify.md takes them from its output",
    ),
    (
        "export RUSTUP_DOWNLOAD_TIMEOUT=3600",
        "one of the lines `rustup-verify serve` prints; docs/guides/rustup-verify.md takes them from its output",
    ),
];

/// The project's programs and their subcommand words.
const PROGRAMS: &[(&str, &[&str])] = &[
    (
        "trust-roots",
        &[
            "pin",
            "ceremony",
            "add",
            "list",
            "show",
            "remove",
            "resolve",
            "keygen",
            "init",
            "sign",
            "status",
            "publish",
            "stage-root",
            "stage-targets",
        ],
    ),
    (
        "index-sign",
        &["init", "update", "renew", "attach-root-repository"],
    ),
    ("cargo index-verify", &["mirror"]),
    (
        "rustup-verify",
        &["run", "serve", "check", "release", "sign"],
    ),
];

/// Words of a shell command: quotes removed, up to a comment.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in command.replace("\\\n", " ").chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                started = true;
            }
            None if c.is_whitespace() => {
                if started || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            None if c == '#' && cur.is_empty() && !started => break,
            None => cur.push(c),
        }
    }
    if started || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A line without its trailing comment (a `#` starting a word, outside
/// quotes), white space collapsed.
fn strip_comment(line: &str) -> String {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && prev.is_whitespace() => return normalize(&line[..i]),
            None => {}
        }
        prev = c;
    }
    normalize(line)
}

/// The simple commands of a line (split at `&&`, `||`, `;`, `|`, `&`
/// outside quotes), white space collapsed.
fn simple_commands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                cur.push(c);
            }
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                cur.push(c);
            }
            None if matches!(c, '&' | '|' | ';') => {
                out.push(std::mem::take(&mut cur));
            }
            None => cur.push(c),
        }
    }
    out.push(cur);
    out.iter()
        .map(|c| normalize(c))
        .filter(|c| !c.is_empty())
        .collect()
}

/// What identifies a use of one of the project's programs.
#[derive(Debug)]
struct Shape {
    program: String,
    subcommands: Vec<String>,
    flags: BTreeSet<String>,
    /// The command after `--` (`rustup-verify run -- ...`): its words
    /// before the first flag, and its flags.
    wrapped: Option<(Vec<String>, BTreeSet<String>)>,
}

fn flags_of(ws: &[String]) -> BTreeSet<String> {
    ws.iter()
        .filter(|w| w.starts_with('-') && w.len() > 1)
        .map(|w| w.split('=').next().unwrap_or_default().to_string())
        .collect()
}

/// The shape of a simple command, if it runs one of the project's programs.
fn shape(command: &str) -> Option<Shape> {
    let mut ws = words(command);
    while ws.first().is_some_and(|w| {
        w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
    }) {
        ws.remove(0);
    }
    let (program, rest) = match ws.first().map(String::as_str) {
        Some("cargo") if ws.get(1).is_some_and(|w| w == "index-verify") => {
            ("cargo index-verify".to_string(), &ws[2..])
        }
        Some(p) => (p.to_string(), &ws[1..]),
        None => return None,
    };
    let vocab = PROGRAMS.iter().find(|(p, _)| *p == program)?.1;
    let (own, wrapped) = match rest.iter().position(|w| w == "--") {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let subcommands = own
        .iter()
        .take_while(|w| vocab.contains(&w.as_str()))
        .cloned()
        .collect();
    Some(Shape {
        program,
        subcommands,
        flags: flags_of(own),
        wrapped: wrapped.map(|w| {
            (
                w.iter()
                    .take_while(|x| !x.starts_with('-'))
                    .cloned()
                    .collect(),
                flags_of(w),
            )
        }),
    })
}

/// Whether a run command exercises everything `doc` asks for.
fn exercises(run: &Shape, doc: &Shape) -> bool {
    run.program == doc.program
        && run.subcommands == doc.subcommands
        && doc.flags.is_subset(&run.flags)
        && match (&doc.wrapped, &run.wrapped) {
            (None, _) => true,
            (Some((dw, df)), Some((rw, rf))) => dw == rw && df.is_subset(rf),
            (Some(_), None) => false,
        }
}

/// Commands shown in a markdown file's command blocks (sh, console,
/// bash, shell), one per logical line, with their line numbers.
fn documented_commands(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for b in blocks(markdown) {
        match b.lang.as_str() {
            "console" => out.extend(
                console_steps(&b)
                    .into_iter()
                    .map(|s| (s.line, strip_comment(&s.text.replace("\\\n", " ")))),
            ),
            "sh" | "bash" | "shell" | "" => {
                out.extend(logical_lines(&b.lines.join("\n")).map(|l| (b.line, strip_comment(&l))))
            }
            _ => {}
        }
    }
    out
}

#[test]
fn readme_and_docs_commands_are_exercised() {
    let mut run: Vec<Shape> = Vec::new();
    for g in GUIDES {
        for c in Guide::read(g).commands_run() {
            run.extend(
                simple_commands(&strip_comment(&c))
                    .iter()
                    .filter_map(|s| shape(s)),
            );
        }
    }
    let mut files = vec![workspace().join("README.md")];
    let mut notes: Vec<PathBuf> = std::fs::read_dir(workspace().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    notes.sort();
    files.extend(notes);
    let allowed: BTreeMap<String, &str> = NOT_RUN_HERE
        .iter()
        .map(|(c, why)| (normalize(c), *why))
        .collect();
    let mut missing = Vec::new();
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (line, cmd) in documented_commands(&text) {
            checked += 1;
            if allowed.contains_key(&cmd) {
                continue;
            }
            let covered = simple_commands(&cmd).iter().all(|part| match shape(part) {
                Some(doc) => run.iter().any(|r| exercises(r, &doc)),
                None => false,
            });
            if !covered {
                missing.push(format!(
                    "{}:{line}: {cmd}",
                    f.strip_prefix(workspace()).unwrap_or(f).display()
                ));
            }
        }
    }
    eprintln!("{checked} documented commands checked");
    assert!(
        missing.is_empty(),
        "commands documented but neither run by a guide (same program, subcommands and flags) nor listed in NOT_RUN_HERE with a reason:\n{}",
        missing.join("\n")
    );
}
