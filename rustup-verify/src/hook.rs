//! The download hook: a loopback HTTP endpoint that rustup uses as its
//! `RUSTUP_DIST_SERVER` and `RUSTUP_UPDATE_ROOT`, and that hands rustup
//! only what verified.
//!
//! rustup has no plugin interface, but it fetches everything from those
//! two URLs. For each request the hook:
//!
//! | rustup asks for | the hook |
//! | --- | --- |
//! | `dist/[DATE/]channel-rust-X.toml.sha256` | refreshes the root repository, fetches the manifest from upstream, checks it against the signed target, and answers the SHA-256 **of the verified bytes** |
//! | `dist/[DATE/]channel-rust-X.toml` | serves the manifest verified for the `.sha256` just before (within two minutes and while that timestamp is unexpired), else verifies it afresh |
//! | `dist/DATE/FILE` (gz, xz, zst artifacts) | finds the SHA-256 in a verified manifest (those verified in the last 30 minutes, else the dated manifests signed for `DATE`), streams the upstream file to disk while hashing, and serves it only if the hash matched |
//! | `rustup/release-stable.toml`, `rustup/archive/V/TRIPLE/rustup-init` | checks them against their signed targets (streamed to disk for rustup-init) |
//! | anything else (legacy v1 manifests, `.asc`) | 404: not signed, not served |
//!
//! Nothing reaches rustup before it verified: the response head is sent
//! only after the whole file matched. A refusal is printed on stderr (what,
//! which file, expected and found), recorded for the final [`Report`], and
//! rustup gets an error status: `404` when no signed metadata lists the file
//! (rustup reports the toolchain or file as not found), `502` when the file
//! or the metadata did not verify or could not be fetched, `500` for local
//! failures. rustup retries failed component downloads; a hash mismatch is
//! remembered for 30 seconds so a retry is refused again without another
//! download.
//!
//! One thread per connection; `Connection: close` on every response. Large
//! artifacts pass through a temporary file, never memory.

use crate::http::{self, Method, RequestHead};
use crate::layout::{self, Request};
use crate::manifest::RustupRelease;
use crate::verify::{
    self, artifact_expectation, hash_file_line, FailureKind, VerifiedFile, VerifiedManifest,
    Verifier, VerifyError,
};
use shared_trust::fetcher::Fetcher;
use shared_trust::time;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a manifest verified for its `.sha256` is served as is.
pub const MANIFEST_REUSE: Duration = Duration::from_secs(120);
/// How long a verified manifest is used to look up artifact hashes.
pub const ARTIFACT_WINDOW: Duration = Duration::from_secs(30 * 60);
/// How long a hash mismatch is remembered (rustup retries at once).
pub const REFUSAL_MEMORY: Duration = Duration::from_secs(30);
/// Default limit for one artifact (rustup's largest are a few hundred MB).
pub const DEFAULT_MAX_ARTIFACT: u64 = 4 << 30;

/// Settings of a hook.
#[derive(Clone, Debug)]
pub struct HookConfig {
    /// Where artifacts wait while they are verified (a private temporary
    /// directory is created inside; default: the system's temporary directory).
    pub download_dir: Option<PathBuf>,
    /// Most bytes accepted for one artifact.
    pub max_artifact_bytes: u64,
    /// Show download progress on stderr.
    pub progress: bool,
    /// Log every file served, not only refusals.
    pub verbose: bool,
    /// Stop after this long without a request (long-running form).
    pub idle_exit: Option<Duration>,
}

impl Default for HookConfig {
    fn default() -> Self {
        HookConfig {
            download_dir: None,
            max_artifact_bytes: DEFAULT_MAX_ARTIFACT,
            progress: std::io::stderr().is_terminal(),
            verbose: false,
            idle_exit: None,
        }
    }
}

/// One file the hook refused to hand out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The request path.
    pub file: String,
    /// Kind of failure.
    pub kind: FailureKind,
    /// The message printed.
    pub message: String,
}

/// What a hook did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Files handed out after verification.
    pub served: usize,
    /// Files refused (each distinct refusal once).
    pub refusals: Vec<Refusal>,
}

struct CachedManifest {
    verified: Arc<VerifiedManifest>,
    /// When it was last found signed.
    at: Instant,
    /// When the timestamp it was last found signed under expires.
    expires: i64,
}

impl CachedManifest {
    fn new(verified: Arc<VerifiedManifest>, expires: i64) -> Self {
        CachedManifest {
            verified,
            at: Instant::now(),
            expires,
        }
    }

    fn usable(&self, window: Duration) -> bool {
        self.at.elapsed() < window && time::now_unix() < self.expires
    }
}

#[derive(Default)]
struct Cache {
    manifests: BTreeMap<String, CachedManifest>,
    refused: BTreeMap<String, (Instant, String)>,
}

struct Shared<F: Fetcher> {
    verifier: Verifier<F>,
    config: HookConfig,
    download_dir: PathBuf,
    cache: Mutex<Cache>,
    report: Mutex<Report>,
    active: AtomicUsize,
    last_activity: Mutex<Instant>,
    stop: AtomicBool,
}

/// A bound, not yet running hook.
pub struct Hook<F: Fetcher> {
    listener: TcpListener,
    shared: Arc<Shared<F>>,
    _tmp: tempfile::TempDir,
}

/// A hook serving on a background thread.
pub struct RunningHook<F: Fetcher> {
    addr: SocketAddr,
    shared: Arc<Shared<F>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _tmp: tempfile::TempDir,
}

/// Why a request failed: a verification failure, or a request the hook
/// does not serve.
enum Failure {
    Verify(VerifyError),
    Remembered(FailureKind, String),
    NotServed(String),
    BadRequest(String),
}

impl From<VerifyError> for Failure {
    fn from(e: VerifyError) -> Self {
        Failure::Verify(e)
    }
}

enum Body {
    Bytes(Vec<u8>),
    File(VerifiedFile),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking request thread must not take the hook down.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<F: Fetcher + Send + Sync + 'static> Hook<F> {
    /// Binds the endpoint (use port 0 for a free port).
    pub fn bind(
        verifier: Verifier<F>,
        config: HookConfig,
        addr: SocketAddr,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let tmp = match &config.download_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                tempfile::Builder::new()
                    .prefix("rustup-verify-")
                    .tempdir_in(d)?
            }
            None => tempfile::Builder::new()
                .prefix("rustup-verify-")
                .tempdir()?,
        };
        Ok(Hook {
            listener,
            shared: Arc::new(Shared {
                verifier,
                download_dir: tmp.path().to_path_buf(),
                config,
                cache: Mutex::new(Cache::default()),
                report: Mutex::new(Report::default()),
                active: AtomicUsize::new(0),
                last_activity: Mutex::new(Instant::now()),
                stop: AtomicBool::new(false),
            }),
            _tmp: tmp,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until stopped by the idle limit (or forever), then returns
    /// what it did.
    pub fn serve(self) -> Report {
        let addr = self.listener.local_addr().ok();
        spawn_watchdog(&self.shared, addr);
        accept_loop(&self.listener, &self.shared);
        wait_idle(&self.shared, Duration::from_secs(10));
        let report = lock(&self.shared.report).clone();
        report
    }

    /// Serves on a background thread.
    pub fn spawn(self) -> std::io::Result<RunningHook<F>> {
        let addr = self.listener.local_addr()?;
        let shared = self.shared.clone();
        spawn_watchdog(&shared, Some(addr));
        let listener = self.listener;
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("rustup-verify-hook".into())
            .spawn(move || accept_loop(&listener, &thread_shared))?;
        Ok(RunningHook {
            addr,
            shared,
            thread: Some(thread),
            _tmp: self._tmp,
        })
    }
}

impl<F: Fetcher> RunningHook<F> {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`: the `RUSTUP_DIST_SERVER` to give rustup.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it did so far.
    pub fn report(&self) -> Report {
        lock(&self.shared.report).clone()
    }

    /// Stops accepting, waits (a few seconds at most) for requests in
    /// flight, and returns the report.
    pub fn stop(mut self) -> Report {
        request_stop(&self.shared, self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        wait_idle(&self.shared, Duration::from_secs(5));
        lock(&self.shared.report).clone()
    }
}

fn request_stop<F: Fetcher>(shared: &Shared<F>, addr: SocketAddr) {
    shared.stop.store(true, Ordering::SeqCst);
    // Wake the blocking accept.
    let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
}

fn wait_idle<F: Fetcher>(shared: &Shared<F>, limit: Duration) {
    let start = Instant::now();
    while shared.active.load(Ordering::SeqCst) > 0 && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_watchdog<F: Fetcher + Send + Sync + 'static>(
    shared: &Arc<Shared<F>>,
    addr: Option<SocketAddr>,
) {
    let (Some(idle), Some(addr)) = (shared.config.idle_exit, addr) else {
        return;
    };
    let shared = shared.clone();
    let tick = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let _ = std::thread::Builder::new()
        .name("rustup-verify-idle".into())
        .spawn(move || loop {
            std::thread::sleep(tick);
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            let idle_for = lock(&shared.last_activity).elapsed();
            if shared.active.load(Ordering::SeqCst) == 0 && idle_for >= idle {
                request_stop(&shared, addr);
                return;
            }
        });
}

fn accept_loop<F: Fetcher + Send + Sync + 'static>(
    listener: &TcpListener,
    shared: &Arc<Shared<F>>,
) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        shared.active.fetch_add(1, Ordering::SeqCst);
        *lock(&shared.last_activity) = Instant::now();
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("rustup-verify-request".into())
            .spawn(move || {
                handle_connection(&s, stream);
                *lock(&s.last_activity) = Instant::now();
                s.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn handle_connection<F: Fetcher>(shared: &Shared<F>, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let head = match http::read_head(&mut stream) {
        Ok(h) => h,
        Err(_) => return,
    };
    let req = match http::parse_head(&head) {
        Ok(r) => r,
        Err(e) => {
            let status = if matches!(e, http::HttpError::Method(_)) {
                405
            } else {
                400
            };
            let _ = respond_text(&mut stream, status, &format!("{e}\n"), Method::Get);
            return;
        }
    };
    let result = shared.answer(&req.path);
    match result {
        Ok(body) => {
            if send_body(&mut stream, &req, body).is_ok() {
                lock(&shared.report).served += 1;
                if shared.config.verbose {
                    shared.say(&format!("served {}", req.path));
                }
            }
        }
        Err(failure) => {
            let (status, message) = shared.refuse(&req.path, failure);
            let _ = respond_text(&mut stream, status, &format!("{message}\n"), req.method);
        }
    }
}

fn respond_text(
    stream: &mut TcpStream,
    status: u16,
    text: &str,
    method: Method,
) -> std::io::Result<()> {
    http::write_head(
        stream,
        status,
        text.len() as u64,
        &[("Content-Type", "text/plain; charset=utf-8".into())],
    )?;
    if method == Method::Get {
        stream.write_all(text.as_bytes())?;
    }
    stream.flush()
}

fn send_body(stream: &mut TcpStream, req: &RequestHead, body: Body) -> std::io::Result<()> {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(300)));
    match body {
        Body::Bytes(bytes) => {
            let total = bytes.len() as u64;
            match byte_range(req, total) {
                Ok(None) => {
                    http::write_head(stream, 200, total, &[])?;
                    if req.method == Method::Get {
                        stream.write_all(&bytes)?;
                    }
                }
                Ok(Some((start, len))) => {
                    http::write_head(stream, 206, len, &[content_range(start, len, total)])?;
                    if req.method == Method::Get {
                        let s = start as usize;
                        stream.write_all(&bytes[s..s + len as usize])?;
                    }
                }
                Err(()) => unsatisfiable(stream, total)?,
            }
        }
        Body::File(file) => {
            let total = file.length;
            let mut f = std::fs::File::open(file.path())?;
            match byte_range(req, total) {
                Ok(None) => {
                    http::write_head(stream, 200, total, &[])?;
                    if req.method == Method::Get {
                        std::io::copy(&mut f, stream)?;
                    }
                }
                Ok(Some((start, len))) => {
                    http::write_head(stream, 206, len, &[content_range(start, len, total)])?;
                    if req.method == Method::Get {
                        f.seek(SeekFrom::Start(start))?;
                        std::io::copy(&mut f.take(len), stream)?;
                    }
                }
                Err(()) => unsatisfiable(stream, total)?,
            }
            // `file` (the verified temporary file) is removed here.
        }
    }
    stream.flush()
}

fn content_range(start: u64, len: u64, total: u64) -> (&'static str, String) {
    (
        "Content-Range",
        format!("bytes {start}-{}/{total}", start + len - 1),
    )
}

fn unsatisfiable(stream: &mut TcpStream, total: u64) -> std::io::Result<()> {
    http::write_head(
        stream,
        416,
        0,
        &[("Content-Range", format!("bytes */{total}"))],
    )
}

/// `Ok(None)`: whole body; `Ok(Some((start, len)))`: a range; `Err`: unsatisfiable.
fn byte_range(req: &RequestHead, total: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(r) = req.range else { return Ok(None) };
    if r.start >= total {
        return Err(());
    }
    let end = r.end.map_or(total - 1, |e| e.min(total - 1));
    Ok(Some((r.start, end - r.start + 1)))
}

impl<F: Fetcher> Shared<F> {
    fn say(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "rustup-verify: {line}");
    }

    fn refuse(&self, path: &str, failure: Failure) -> (u16, String) {
        let (kind, message, remembered) = match failure {
            Failure::Verify(e) => (e.kind(), e.to_string(), false),
            Failure::Remembered(kind, message) => (kind, message, true),
            Failure::NotServed(message) => {
                if self.config.verbose {
                    self.say(&format!("not served: {path}: {message}"));
                }
                return (404, message);
            }
            Failure::BadRequest(message) => return (400, message),
        };
        let status = match kind {
            FailureKind::NotSigned => 404,
            FailureKind::Verification | FailureKind::Unavailable => 502,
            FailureKind::Local => 500,
        };
        if !remembered {
            // Most messages start with the file already.
            if message.starts_with(&format!("{path}: ")) {
                self.say(&format!("refused {message}"));
            } else {
                self.say(&format!("refused {path}: {message}"));
            }
            let mut report = lock(&self.report);
            let refusal = Refusal {
                file: path.to_string(),
                kind,
                message: message.clone(),
            };
            if !report.refusals.contains(&refusal) {
                report.refusals.push(refusal);
            }
        }
        (status, message)
    }

    fn answer(&self, path: &str) -> Result<Body, Failure> {
        let request = layout::classify(path).map_err(|e| Failure::BadRequest(e.to_string()))?;
        match request {
            Request::ManifestHash { manifest } => {
                let m = self.manifest(&manifest, true)?;
                Ok(Body::Bytes(m.sha256_file().into_bytes()))
            }
            Request::Manifest { path } => {
                let m = self.manifest(&path, false)?;
                Ok(Body::Bytes(m.bytes.clone()))
            }
            Request::Artifact { path, date } => self.artifact(&path, &date).map(Body::File),
            Request::RustupFile { path } => self.rustup_file(&path),
            Request::RustupFileHash { file } => {
                let mut session = self.verifier.open()?;
                let signed = session.target(&file)?;
                Ok(Body::Bytes(
                    hash_file_line(&signed.sha256()?, &file).into_bytes(),
                ))
            }
            Request::Unknown => Err(Failure::NotServed(format!(
                "{path}: not a signed release file; rustup-verify serves signed channel manifests, the artifacts they list, and signed rustup releases"
            ))),
        }
    }

    /// A verified manifest. When `fresh`, the root repository is
    /// refreshed and the manifest must be the one signed now (bytes already
    /// verified with the same signed length and SHA-256 are reused rather
    /// than downloaded again: `rustup update` with nothing new costs one
    /// metadata refresh). Otherwise a manifest verified within
    /// [`MANIFEST_REUSE`] (the `.sha256` rustup asked for just before) is
    /// served as is.
    fn manifest(&self, path: &str, fresh: bool) -> Result<Arc<VerifiedManifest>, VerifyError> {
        if !fresh {
            if let Some(c) = lock(&self.cache).manifests.get(path) {
                if c.usable(MANIFEST_REUSE) {
                    return Ok(c.verified.clone());
                }
            }
        }
        let mut session = self.verifier.open()?;
        let signed = session.target(path)?;
        let sha256 = signed.sha256()?;
        let cached = lock(&self.cache).manifests.get(path).and_then(|c| {
            (c.verified.sha256 == sha256 && c.verified.bytes.len() as u64 == signed.info.length)
                .then(|| c.verified.clone())
        });
        let verified = match cached {
            Some(v) => v,
            None => Arc::new(session.verify_manifest(path)?),
        };
        let expires = session.timestamp_expires;
        drop(session);
        if self.config.verbose {
            self.say(&format!(
                "verified {path} (sha256 {}, timestamp version {})",
                verified.sha256, verified.timestamp_version
            ));
        }
        lock(&self.cache).manifests.insert(
            path.to_string(),
            CachedManifest::new(verified.clone(), expires),
        );
        Ok(verified)
    }

    fn artifact(&self, path: &str, date: &str) -> Result<VerifiedFile, Failure> {
        {
            let mut cache = lock(&self.cache);
            cache
                .refused
                .retain(|_, (at, _)| at.elapsed() < REFUSAL_MEMORY);
            if let Some((_, message)) = cache.refused.get(path) {
                return Err(Failure::Remembered(
                    FailureKind::Verification,
                    message.clone(),
                ));
            }
        }
        let expected = match self.cached_expectation(path) {
            Some(e) => e,
            None => self.dated_expectation(path, date)?,
        };
        let url = self.verifier.upstream().url_for(path);
        let progress = self.progress_for(path);
        let result = verify::fetch_to_file(
            self.verifier.fetcher(),
            &url,
            &expected,
            self.config.max_artifact_bytes,
            &self.download_dir,
            progress,
        );
        match result {
            Ok(f) => {
                if self.config.verbose {
                    self.say(&format!(
                        "verified {path} ({} bytes, sha256 {})",
                        f.length, f.sha256
                    ));
                }
                Ok(f)
            }
            Err(e) => {
                if e.kind() == FailureKind::Verification {
                    lock(&self.cache)
                        .refused
                        .insert(path.to_string(), (Instant::now(), e.to_string()));
                }
                Err(Failure::Verify(e))
            }
        }
    }

    fn cached_expectation(&self, path: &str) -> Option<verify::Expected> {
        let cache = lock(&self.cache);
        cache
            .manifests
            .values()
            .filter(|c| c.usable(ARTIFACT_WINDOW))
            .find_map(|c| artifact_expectation(&c.verified, path))
    }

    /// Verifies the channel manifests signed for `dist/DATE/` until one
    /// lists `path` (rustup may ask for an artifact of a manifest it
    /// fetched earlier, for `rustup component add`).
    fn dated_expectation(&self, path: &str, date: &str) -> Result<verify::Expected, VerifyError> {
        let mut session = self.verifier.open()?;
        let candidates: Vec<String> = session
            .signed_paths(&format!("dist/{date}/channel-rust-"))?
            .into_iter()
            .filter(|p| layout::is_channel_manifest(p))
            .collect();
        let mut checked = Vec::new();
        for candidate in candidates {
            let verified = Arc::new(session.verify_manifest(&candidate)?);
            checked.push(candidate.clone());
            let found = artifact_expectation(&verified, path);
            let expires = session.timestamp_expires;
            lock(&self.cache)
                .manifests
                .insert(candidate, CachedManifest::new(verified, expires));
            if let Some(e) = found {
                return Ok(e);
            }
        }
        Err(VerifyError::NotListed {
            file: path.to_string(),
            checked,
        })
    }

    fn rustup_file(&self, path: &str) -> Result<Body, Failure> {
        if path == "rustup/release-stable.toml" {
            let (_, bytes) = self.verifier.open()?.fetch_signed(path)?;
            RustupRelease::parse(path, &bytes).map_err(VerifyError::from)?;
            return Ok(Body::Bytes(bytes));
        }
        // Look up under the lock, download without it.
        let expected = {
            let mut session = self.verifier.open()?;
            session.target(path)?.expectation()?
        };
        let url = self.verifier.upstream().url_for(path);
        let f = verify::fetch_to_file(
            self.verifier.fetcher(),
            &url,
            &expected,
            self.config.max_artifact_bytes,
            &self.download_dir,
            self.progress_for(path),
        )?;
        Ok(Body::File(f))
    }

    fn progress_for(&self, path: &str) -> Option<Box<dyn FnMut(u64) + Send>> {
        if !self.config.progress {
            return None;
        }
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        let mut last = Instant::now();
        Some(Box::new(move |bytes| {
            if last.elapsed() >= Duration::from_secs(2) {
                last = Instant::now();
                let mut err = std::io::stderr().lock();
                let _ = writeln!(
                    err,
                    "rustup-verify: verifying {name}: {:.1} MB received",
                    bytes as f64 / 1e6
                );
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Range;

    #[test]
    fn ranges_map_to_slices() {
        let req = |range| RequestHead {
            method: Method::Get,
            path: "x".into(),
            range,
        };
        assert_eq!(byte_range(&req(None), 10), Ok(None));
        assert_eq!(
            byte_range(
                &req(Some(Range {
                    start: 4,
                    end: None
                })),
                10
            ),
            Ok(Some((4, 6)))
        );
        assert_eq!(
            byte_range(
                &req(Some(Range {
                    start: 4,
                    end: Some(100)
                })),
                10
            ),
            Ok(Some((4, 6)))
        );
        assert_eq!(
            byte_range(
                &req(Some(Range {
                    start: 2,
                    end: Some(3)
                })),
                10
            ),
            Ok(Some((2, 2)))
        );
        assert_eq!(
            byte_range(
                &req(Some(Range {
                    start: 10,
                    end: None
                })),
                10
            ),
            Err(())
        );
    }
}
