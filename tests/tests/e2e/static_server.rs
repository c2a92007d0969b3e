//! A static HTTP/1.1 file server on 127.0.0.1 for the end-to-end tests: what
//! a mirror looks like to cargo and to the verifier. GET and HEAD, `ETag`
//! and `If-None-Match` (304), keep-alive; every request is logged. It stops
//! when dropped, and on its own after ten idle minutes.

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running server.
pub struct StaticServer {
    port: u16,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
}

impl StaticServer {
    /// Serves `root` on a free port.
    pub fn start(root: &Path) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (root, stop2, log2) = (root.to_path_buf(), stop.clone(), log.clone());
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let mut idle = std::time::Instant::now();
            while !stop2.load(Ordering::SeqCst) && idle.elapsed() < Duration::from_secs(600) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        idle = std::time::Instant::now();
                        let (root, log, stop) = (root.clone(), log2.clone(), stop2.clone());
                        std::thread::spawn(move || serve(stream, &root, &log, &stop));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        StaticServer { port, stop, log }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests so far, as `METHOD PATH STATUS`.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Forgets the logged requests.
    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>, stop: &AtomicBool) {
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let mut if_none_match = None;
        let mut content_length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("if-none-match") {
                    if_none_match = Some(v.trim().to_string());
                } else if k.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut discard = vec![0u8; content_length];
        let _ = reader.read_exact(&mut discard);
        let path = target.split('?').next().unwrap_or("/");
        let file = resolve(root, path);
        let body = file.as_ref().and_then(|f| std::fs::read(f).ok());
        let (status, body, etag) = match body {
            Some(b) => {
                let etag = format!("\"{}\"", hex::encode(Sha256::digest(&b)));
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    (304, Vec::new(), Some(etag))
                } else {
                    (200, b, Some(etag))
                }
            }
            None => (404, b"not found".to_vec(), None),
        };
        log.lock()
            .unwrap()
            .push(format!("{method} {path} {status}"));
        let reason = match status {
            200 => "OK",
            304 => "Not Modified",
            _ => "Not Found",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n",
            if status == 304 { 0 } else { body.len() }
        );
        if let Some(e) = etag {
            head.push_str(&format!("ETag: {e}\r\n"));
        }
        head.push_str("\r\n");
        if out.write_all(head.as_bytes()).is_err() {
            return;
        }
        if method != "HEAD" && status != 304 && out.write_all(&body).is_err() {
            return;
        }
    }
}

fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        if seg == ".." || seg.contains('\\') {
            return None;
        }
        p.push(seg);
    }
    p.is_file().then_some(p)
}
