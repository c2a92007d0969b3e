//! Running the python-tuf interop scripts in `tests/python/`.
//!
//! The interpreter comes from `TUF_INTEROP_PYTHON` (a python with
//! `tests/python/requirements.txt` installed). Unset, every interop test
//! fails with set-up instructions, unless `TUF_INTEROP_SKIP=1`, in which
//! case they print a skip message and pass.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest a script may run before it is killed and the test fails.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

/// The python-tuf major version the scripts are written for.
const TUF_MAJOR: &str = "7.";

const SETUP: &str = "\
These tests run python-tuf 7 (tests/python/*.py) as a subprocess and need a
python with tests/python/requirements.txt installed. From the workspace root:

    python3 -m venv .venv
    .venv/bin/pip install -r tests/python/requirements.txt
    TUF_INTEROP_PYTHON=$PWD/.venv/bin/python cargo test -p e2e-tests

To skip the interop tests instead, set TUF_INTEROP_SKIP=1.";

/// The interpreter to use, or `None` when the tests are to be skipped.
/// Panics (failing the test) when not configured or not usable.
pub fn interpreter(test: &str) -> Option<PathBuf> {
    match std::env::var_os("TUF_INTEROP_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => Some(checked(PathBuf::from(p))),
        None if std::env::var("TUF_INTEROP_SKIP").as_deref() == Ok("1") => {
            eprintln!("SKIPPED {test}: TUF_INTEROP_SKIP=1 (python-tuf interop not run)");
            None
        }
        None => panic!("TUF_INTEROP_PYTHON is not set.\n{SETUP}"),
    }
}

/// Checks once that the interpreter runs and has python-tuf 7.
fn checked(python: PathBuf) -> PathBuf {
    static VERSION: OnceLock<Result<String, String>> = OnceLock::new();
    let version = VERSION.get_or_init(|| {
        let out = Command::new(&python)
            .args([
                "-c",
                "import tuf, securesystemslib, cryptography; print(tuf.__version__)",
            ])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} cannot import tuf, securesystemslib and cryptography:\n{}",
                python.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    match version {
        Ok(v) if v.starts_with(TUF_MAJOR) => python,
        Ok(v) => panic!(
            "TUF_INTEROP_PYTHON={} has python-tuf {v}, expected {TUF_MAJOR}x.\n{SETUP}",
            python.display()
        ),
        Err(e) => panic!("TUF_INTEROP_PYTHON is not usable: {e}\n{SETUP}"),
    }
}

/// Gets the interpreter or returns from the test (when skipping).
macro_rules! require_python {
    ($test:expr) => {
        match crate::python::interpreter($test) {
            Some(p) => p,
            None => return,
        }
    };
}
pub(crate) use require_python;

/// What a script did.
#[derive(Debug)]
pub struct ScriptOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl ScriptOutput {
    /// Panics with both streams unless the script exited 0.
    pub fn expect_success(self, what: &str) -> Self {
        assert!(
            self.status.success(),
            "{what}: python exited with {}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("script stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Path of a script in `tests/python/`.
pub fn script_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// Runs `tests/python/SCRIPT ARGS...` with `python`, feeding `stdin`, and
/// kills it (failing the test) after [`SCRIPT_TIMEOUT`].
pub fn run_script<I, S>(python: &Path, script: &str, args: I, stdin: Option<&[u8]>) -> ScriptOutput
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let path = script_path(script);
    let mut child = Command::new(python)
        .arg(&path)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .env("PYTHONUTF8", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} {}: {e}", python.display(), path.display()));

    let writer = stdin.map(|data| {
        let data = data.to_vec();
        let mut pipe = child.stdin.take().expect("stdin is piped");
        std::thread::spawn(move || {
            // A script that exits early closes the pipe; its exit status says why.
            let _ = pipe.write_all(&data);
        })
    });
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout is piped")));
    let err = drain(Box::new(child.stderr.take().expect("stderr is piped")));

    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{script} ran longer than {SCRIPT_TIMEOUT:?} and was killed; stderr:\n{}",
                    err.join().unwrap_or_default()
                );
            }
            Err(e) => panic!("waiting for {script}: {e}"),
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    ScriptOutput {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}
