//! Fetchers against misbehaving servers: real sockets on 127.0.0.1 (a
//! thread that answers a few connections and exits by itself), and endless
//! or oversized local files for `file://`.

use crate::sim::*;
use shared_trust::crypto::Signer;
use shared_trust::fetcher::{CurlFetcher, FetchError, Fetcher, FileFetcher, Timeouts};
use shared_trust::repository::Repository;
use shared_trust::updater::{Config, Error, Updater};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Most an endless response sends before giving up by itself.
const ENDLESS_CAP: u64 = 64 << 20;

/// What the test server answers for a path.
#[derive(Clone)]
enum Reply {
    /// 200 with a Content-Length and this body.
    Body(Vec<u8>),
    /// This status, short body.
    Status(u16),
    /// 200 without Content-Length, then bytes until the client goes away
    /// (or [`ENDLESS_CAP`]).
    Endless,
    /// 200 without Content-Length, then nothing until the client goes away.
    Stall,
}

/// Starts a server on 127.0.0.1 (port 0) answering up to `conns`
/// connections, one at a time, by `routes` (404 for other paths). The
/// thread exits after that many connections, or after a minute without
/// them. It returns, per connection, the path and the body bytes sent.
fn serve(conns: usize, routes: HashMap<String, Reply>) -> (String, JoinHandle<Vec<(String, u64)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut log = Vec::new();
        while log.len() < conns && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    let path = read_request_path(&mut stream);
                    let reply = routes.get(&path).cloned().unwrap_or(Reply::Status(404));
                    let sent = answer(&mut stream, reply);
                    log.push((path, sent));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(_) => break,
            }
        }
        log
    });
    (base, handle)
}

fn read_request_path(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace().nth(1).unwrap_or("").to_string()
}

fn answer(stream: &mut TcpStream, reply: Reply) -> u64 {
    let header = |status: &str, len: Option<usize>| {
        let len = len
            .map(|l| format!("Content-Length: {l}\r\n"))
            .unwrap_or_default();
        format!("HTTP/1.1 {status}\r\n{len}Connection: close\r\n\r\n")
    };
    match reply {
        Reply::Body(body) => {
            let _ = stream.write_all(header("200 OK", Some(body.len())).as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.shutdown(Shutdown::Write);
            body.len() as u64
        }
        Reply::Status(code) => {
            let body = b"nope\n";
            let _ = stream.write_all(header(&format!("{code} Nope"), Some(body.len())).as_bytes());
            let _ = stream.write_all(body);
            let _ = stream.shutdown(Shutdown::Write);
            0
        }
        Reply::Endless => {
            let _ = stream.write_all(header("200 OK", None).as_bytes());
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0u64;
            while sent < ENDLESS_CAP && stream.write_all(&chunk).is_ok() {
                sent += chunk.len() as u64;
            }
            sent
        }
        Reply::Stall => {
            let _ = stream.write_all(header("200 OK", None).as_bytes());
            let _ = stream.flush();
            // Wait, sending nothing, until the client hangs up.
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut sink = [0u8; 64];
            while let Ok(n) = stream.read(&mut sink) {
                if n == 0 {
                    break;
                }
            }
            0
        }
    }
}

fn routes(pairs: &[(&str, Reply)]) -> HashMap<String, Reply> {
    pairs
        .iter()
        .map(|(p, r)| (p.to_string(), r.clone()))
        .collect()
}

/// Short stall detection, so a stalling test takes a few seconds.
fn impatient() -> CurlFetcher {
    CurlFetcher {
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            stall: Duration::from_secs(2),
            low_speed_bytes: 1,
            total: None,
        },
        user_agent: None,
    }
}

// ---------------------------------------------------------------------------
// CurlFetcher alone
// ---------------------------------------------------------------------------

#[test]
fn curl_endless_body_is_cut_off_at_the_limit() {
    let (base, server) = serve(1, routes(&[("/big", Reply::Endless)]));
    let limit = 100_000;
    let mut sink = Vec::new();
    let err = CurlFetcher::default()
        .fetch_to(&format!("{base}/big"), limit, &mut sink)
        .unwrap_err();
    assert_variant!(
        err,
        FetchError::TooLarge { limit: l, url } if *l == limit && url.ends_with("/big"),
        &["/big", "more than 100000 bytes"]
    );
    assert!(sink.len() as u64 <= limit, "{} bytes passed on", sink.len());
    let log = server.join().unwrap();
    assert_eq!(log[0].0, "/big");
    assert!(
        log[0].1 < ENDLESS_CAP,
        "the client kept reading: the server sent {} bytes",
        log[0].1
    );
}

#[test]
fn curl_body_within_the_limit_is_returned() {
    let body = b"0123456789".to_vec();
    let (base, server) = serve(
        2,
        routes(&[
            ("/a", Reply::Body(body.clone())),
            ("/b", Reply::Body(body.clone())),
        ]),
    );
    assert_eq!(
        CurlFetcher::default()
            .fetch(&format!("{base}/a"), 10)
            .unwrap(),
        body
    );
    let err = CurlFetcher::default()
        .fetch(&format!("{base}/b"), 9)
        .unwrap_err();
    assert_variant!(
        err,
        FetchError::TooLarge { limit: 9, .. },
        &["more than 9 bytes"]
    );
    server.join().unwrap();
}

#[test]
fn curl_stalled_server_times_out() {
    let (base, server) = serve(1, routes(&[("/slow", Reply::Stall)]));
    let err = impatient()
        .fetch(&format!("{base}/slow"), 1000)
        .unwrap_err();
    assert_variant!(
        err,
        FetchError::Timeout { url, .. } if url.ends_with("/slow"),
        &["/slow", "timed out"]
    );
    server.join().unwrap();
}

#[test]
fn curl_not_found_and_other_statuses() {
    let (base, server) = serve(
        3,
        routes(&[("/gone", Reply::Status(410)), ("/boom", Reply::Status(500))]),
    );
    let f = CurlFetcher::default();
    let err = f.fetch(&format!("{base}/missing"), 1000).unwrap_err();
    assert_variant!(
        err,
        FetchError::NotFound { url } if url.ends_with("/missing"),
        &["/missing", "not found"]
    );
    let err = f.fetch(&format!("{base}/gone"), 1000).unwrap_err();
    assert_variant!(err, FetchError::NotFound { .. }, &["/gone"]);
    let err = f.fetch(&format!("{base}/boom"), 1000).unwrap_err();
    assert_variant!(
        err,
        FetchError::Status { status: 500, .. },
        &["HTTP status 500"]
    );
    server.join().unwrap();
}

// ---------------------------------------------------------------------------
// The Updater over HTTP
// ---------------------------------------------------------------------------

/// A simulated repository (non-consistent) and a client synced with it.
fn synced_client() -> (Sim, Client) {
    let sim = Sim::new(false);
    let client = sim.client();
    client.refresh(&sim.server, NOW).unwrap();
    (sim, client)
}

fn http_updater(client: &Client, base: &str, fetcher: CurlFetcher) -> Updater<CurlFetcher> {
    Updater::new(
        &client.dir,
        &format!("{base}/metadata/"),
        fetcher,
        Config::default(),
        NOW,
    )
    .unwrap()
}

#[test]
fn updater_over_http_control() {
    let sim = Sim::new(false);
    let client = sim.client();
    let (base, server) = serve(
        4,
        routes(&[
            (
                "/metadata/timestamp.json",
                Reply::Body(sim.meta("timestamp.json")),
            ),
            (
                "/metadata/snapshot.json",
                Reply::Body(sim.meta("snapshot.json")),
            ),
            (
                "/metadata/targets.json",
                Reply::Body(sim.meta("targets.json")),
            ),
        ]),
    );
    http_updater(&client, &base, CurlFetcher::default())
        .refresh()
        .unwrap();
    assert_eq!(
        client.read("timestamp.json").unwrap(),
        sim.meta("timestamp.json")
    );
    assert_eq!(
        client.read("targets.json").unwrap(),
        sim.meta("targets.json")
    );
    let paths: Vec<String> = server.join().unwrap().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "/metadata/2.root.json",
            "/metadata/timestamp.json",
            "/metadata/snapshot.json",
            "/metadata/targets.json"
        ]
    );
}

#[test]
fn updater_over_http_endless_timestamp_is_transport_error() {
    let (_sim, client) = synced_client();
    let before = client.files();
    let (base, server) = serve(2, routes(&[("/metadata/timestamp.json", Reply::Endless)]));
    let err = expect_err(
        http_updater(&client, &base, CurlFetcher::default()).refresh(),
        "endless timestamp",
    );
    let limit = Config::default().timestamp_max_length;
    assert_variant!(
        err,
        Error::Transport { what, source: FetchError::TooLarge { limit: l, .. } }
            if what == "timestamp" && *l == limit,
        &["fetching timestamp failed", &format!("more than {limit} bytes")]
    );
    assert_same_files(&before, &client.files());
    let log = server.join().unwrap();
    assert!(log[1].1 < ENDLESS_CAP);
}

#[test]
fn updater_over_http_endless_root_is_transport_error() {
    let (_sim, client) = synced_client();
    let before = client.files();
    let (base, server) = serve(1, routes(&[("/metadata/2.root.json", Reply::Endless)]));
    let err = expect_err(
        http_updater(&client, &base, CurlFetcher::default()).refresh(),
        "endless root",
    );
    assert_variant!(
        err,
        Error::Transport { what, source: FetchError::TooLarge { .. } } if what == "root version 2",
        &["fetching root version 2 failed"]
    );
    assert_same_files(&before, &client.files());
    server.join().unwrap();
}

#[test]
fn updater_over_http_stalled_timestamp_is_transport_error() {
    let (_sim, client) = synced_client();
    let before = client.files();
    let (base, server) = serve(2, routes(&[("/metadata/timestamp.json", Reply::Stall)]));
    let err = expect_err(http_updater(&client, &base, impatient()).refresh(), "stall");
    assert_variant!(
        err,
        Error::Transport { what, source: FetchError::Timeout { .. } } if what == "timestamp",
        &["fetching timestamp failed", "timed out"]
    );
    assert_same_files(&before, &client.files());
    server.join().unwrap();
}

#[test]
fn updater_over_http_missing_timestamp_is_transport_error() {
    let (_sim, client) = synced_client();
    let before = client.files();
    let (base, server) = serve(2, HashMap::new());
    let err = expect_err(
        http_updater(&client, &base, CurlFetcher::default()).refresh(),
        "404",
    );
    assert_variant!(
        err,
        Error::Transport { what, source: FetchError::NotFound { .. } } if what == "timestamp",
        &["timestamp.json: not found"]
    );
    assert_same_files(&before, &client.files());
    server.join().unwrap();
}

// ---------------------------------------------------------------------------
// FileFetcher
// ---------------------------------------------------------------------------

/// A sink that refuses more than `cap` bytes, so a fetcher that ignores its
/// limit on an endless file fails the test instead of filling memory.
struct CappedSink {
    buf: Vec<u8>,
    cap: usize,
}

impl Write for CappedSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.cap {
            return Err(std::io::Error::other("test sink cap reached"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A fetcher passing every call to `F` with a [`CappedSink`] (cap: the
/// limit plus 1 MiB).
struct Capped<F>(F);

impl<F: Fetcher> Fetcher for Capped<F> {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        let mut capped = CappedSink {
            buf: Vec::new(),
            cap: usize::try_from(max_len)
                .unwrap_or(usize::MAX)
                .saturating_add(1 << 20),
        };
        let n = self.0.fetch_to(url, max_len, &mut capped)?;
        sink.write_all(&capped.buf)
            .map_err(|source| FetchError::Sink {
                url: url.to_string(),
                source,
            })?;
        Ok(n)
    }
}

#[cfg(unix)]
#[test]
fn file_fetcher_endless_file_is_cut_off_at_the_limit() {
    let limit = 1_000_000;
    let mut sink = CappedSink {
        buf: Vec::new(),
        cap: 2 * limit as usize,
    };
    let err = FileFetcher
        .fetch_to("file:///dev/zero", limit, &mut sink)
        .unwrap_err();
    assert_variant!(
        err,
        FetchError::TooLarge { limit: l, .. } if *l == limit,
        &["file:///dev/zero", "more than 1000000 bytes"]
    );
    assert!(sink.buf.len() as u64 <= limit);
}

#[test]
fn file_fetcher_limit_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.bin");
    std::fs::write(&p, vec![7u8; 100_000]).unwrap();
    let url = format!("file://{}", p.display());
    assert_eq!(FileFetcher.fetch(&url, 100_000).unwrap().len(), 100_000);
    let err = FileFetcher.fetch(&url, 99_999).unwrap_err();
    assert_variant!(
        err,
        FetchError::TooLarge { limit: 99_999, .. },
        &["big.bin"]
    );
}

/// A repository published to `dir` with `Repository::publish`; returns the
/// metadata URL and root v1.
fn published(dir: &std::path::Path) -> (String, Vec<u8>) {
    let mut repo = Repository::new(NOW, false);
    for (i, role) in ["root", "timestamp", "snapshot", "targets"]
        .iter()
        .enumerate()
    {
        let s: std::sync::Arc<dyn Signer> = signer(1 + i as u8);
        repo.add_key(role, s).unwrap();
    }
    repo.add_target("targets", "a.txt", b"a", None).unwrap();
    repo.publish(dir).unwrap();
    let root = std::fs::read(dir.join("metadata/1.root.json")).unwrap();
    (format!("file://{}/metadata/", dir.display()), root)
}

#[cfg(unix)]
#[test]
fn updater_over_file_urls_with_endless_and_oversized_timestamp() {
    let repo_dir = tempfile::tempdir().unwrap();
    let (url, root) = published(repo_dir.path());
    let client = Client::new(&root);
    let open = || {
        Updater::new(
            &client.dir,
            &url,
            Capped(FileFetcher),
            Config::default(),
            NOW,
        )
        .unwrap()
    };
    // Control: the published repository verifies.
    open().refresh().unwrap();
    let mut up = open();
    assert!(up.get_targetinfo("a.txt").unwrap().is_some());
    drop(up);
    let before = client.files();

    let ts = repo_dir.path().join("metadata/timestamp.json");
    std::fs::remove_file(&ts).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &ts).unwrap();
    let limit = Config::default().timestamp_max_length;
    let err = expect_err(open().refresh(), "endless timestamp");
    assert_variant!(
        err,
        Error::Transport { what, source: FetchError::TooLarge { limit: l, .. } }
            if what == "timestamp" && *l == limit,
        &["fetching timestamp failed", &format!("more than {limit} bytes")]
    );
    assert_same_files(&before, &client.files());

    std::fs::remove_file(&ts).unwrap();
    std::fs::write(&ts, vec![b' '; limit as usize + 1]).unwrap();
    let err = expect_err(open().refresh(), "oversized timestamp");
    assert_variant!(
        err,
        Error::Transport {
            source: FetchError::TooLarge { .. },
            ..
        },
        &["timestamp"]
    );
    assert_same_files(&before, &client.files());
}
