//! Fetching bytes from an untrusted mirror, with a byte limit on every call.
//!
//! A [`Fetcher`] never returns more than the limit the caller passes: the
//! limit is enforced while the body streams in, so a server that never stops
//! sending costs at most `limit + 1` bytes before the transfer is cut off.
//! [`CurlFetcher`] (HTTP and HTTPS, on libcurl) also gives up on a server that
//! stalls; [`FileFetcher`] serves `file://` URLs; [`AnyFetcher`] picks one by
//! scheme.

use std::io::{Read, Write};
use std::time::Duration;

/// Why a fetch failed. These are transport failures, kept apart from
/// verification failures: the bytes were never seen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server says the file does not exist (HTTP 404/403/410, or no such file).
    #[error("{url}: not found")]
    NotFound {
        /// URL.
        url: String,
    },
    /// The body exceeded the limit.
    #[error("{url}: more than {limit} bytes, the most allowed for this file")]
    TooLarge {
        /// URL.
        url: String,
        /// Limit in bytes.
        limit: u64,
    },
    /// The server stopped sending, or the whole transfer took too long.
    #[error("{url}: timed out ({reason})")]
    Timeout {
        /// URL.
        url: String,
        /// Which time-out.
        reason: String,
    },
    /// An HTTP error status other than not-found.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// URL.
        url: String,
        /// HTTP status.
        status: u32,
    },
    /// The URL's scheme is not handled by this fetcher.
    #[error("{url}: unsupported URL scheme")]
    UnsupportedScheme {
        /// URL.
        url: String,
    },
    /// Any other transport failure.
    #[error("{url}: {message}")]
    Transport {
        /// URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// Writing the body to the caller's sink failed.
    #[error("{url}: writing the download failed: {source}")]
    Sink {
        /// URL.
        url: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Transport for metadata and targets.
pub trait Fetcher {
    /// Streams the body of `url` into `sink`, failing with
    /// [`FetchError::TooLarge`] as soon as more than `max_len` bytes arrive.
    /// Returns the number of bytes written.
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError>;

    /// Fetches the body of `url` into memory, at most `max_len` bytes.
    fn fetch(&self, url: &str, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let mut buf = Vec::new();
        self.fetch_to(url, max_len, &mut buf)?;
        Ok(buf)
    }
}

impl<F: Fetcher + ?Sized> Fetcher for &F {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        (**self).fetch_to(url, max_len, sink)
    }
}

impl<F: Fetcher + ?Sized> Fetcher for Box<F> {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        (**self).fetch_to(url, max_len, sink)
    }
}

/// Copies at most `max_len` bytes from `reader` to `sink`; more is an error.
pub fn copy_limited(
    url: &str,
    reader: &mut dyn Read,
    max_len: u64,
    sink: &mut dyn Write,
) -> Result<u64, FetchError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(FetchError::Transport {
                    url: url.to_string(),
                    message: e.to_string(),
                })
            }
        };
        total += n as u64;
        if total > max_len {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: max_len,
            });
        }
        sink.write_all(&buf[..n])
            .map_err(|source| FetchError::Sink {
                url: url.to_string(),
                source,
            })?;
    }
}

/// Serves `file://` URLs from the local file system.
#[derive(Clone, Debug, Default)]
pub struct FileFetcher;

/// The local path of a `file://` URL, percent-decoded.
pub fn file_url_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("file://")?;
    // `file:///abs` or `file://localhost/abs`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let bytes = percent_decode(rest)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(std::path::PathBuf::from(std::ffi::OsString::from_vec(
            bytes,
        )))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(bytes).ok().map(std::path::PathBuf::from)
    }
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

impl Fetcher for FileFetcher {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        let path = file_url_path(url).ok_or_else(|| FetchError::UnsupportedScheme {
            url: url.to_string(),
        })?;
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FetchError::NotFound {
                    url: url.to_string(),
                })
            }
            Err(e) => {
                return Err(FetchError::Transport {
                    url: url.to_string(),
                    message: e.to_string(),
                })
            }
        };
        if path.is_dir() {
            return Err(FetchError::NotFound {
                url: url.to_string(),
            });
        }
        copy_limited(url, &mut file, max_len, sink)
    }
}

/// Time-outs for network fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting.
    pub connect: Duration,
    /// A transfer that moves fewer than `low_speed_bytes` per second for this
    /// long is abandoned (a stalled server).
    pub stall: Duration,
    /// Bytes per second below which a transfer counts as stalled.
    pub low_speed_bytes: u32,
    /// The whole transfer, or `None` for no overall limit (large artifacts).
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(15),
            stall: Duration::from_secs(30),
            low_speed_bytes: 1,
            total: None,
        }
    }
}

/// HTTP(S) fetcher on libcurl.
#[cfg(feature = "curl")]
#[derive(Clone, Debug, Default)]
pub struct CurlFetcher {
    /// Time-outs applied to every transfer.
    pub timeouts: Timeouts,
    /// `User-Agent` header, if any.
    pub user_agent: Option<String>,
}

#[cfg(feature = "curl")]
thread_local! {
    // One libcurl handle per thread, reset before each transfer, so that
    // consecutive fetches from one server reuse its connection.
    static CURL_HANDLE: std::cell::RefCell<curl::easy::Easy> =
        std::cell::RefCell::new(curl::easy::Easy::new());
}

/// Runs `f` with this thread's reset libcurl handle (a fresh one if the
/// handle is already in use further up the stack).
#[cfg(feature = "curl")]
pub fn with_curl_handle<T>(f: impl FnOnce(&mut curl::easy::Easy) -> T) -> T {
    CURL_HANDLE.with(|h| match h.try_borrow_mut() {
        Ok(mut easy) => {
            easy.reset();
            f(&mut easy)
        }
        Err(_) => f(&mut curl::easy::Easy::new()),
    })
}

#[cfg(feature = "curl")]
impl Fetcher for CurlFetcher {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        with_curl_handle(|easy| self.fetch_with(easy, url, max_len, sink))
    }
}

#[cfg(feature = "curl")]
impl CurlFetcher {
    fn fetch_with(
        &self,
        easy: &mut curl::easy::Easy,
        url: &str,
        max_len: u64,
        sink: &mut dyn Write,
    ) -> Result<u64, FetchError> {
        let transport = |e: curl::Error| FetchError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        };
        easy.url(url).map_err(transport)?;
        easy.follow_location(true).map_err(transport)?;
        easy.max_redirections(5).map_err(transport)?;
        easy.connect_timeout(self.timeouts.connect)
            .map_err(transport)?;
        easy.low_speed_limit(self.timeouts.low_speed_bytes)
            .map_err(transport)?;
        easy.low_speed_time(self.timeouts.stall)
            .map_err(transport)?;
        if let Some(total) = self.timeouts.total {
            easy.timeout(total).map_err(transport)?;
        }
        if let Some(ua) = &self.user_agent {
            easy.useragent(ua).map_err(transport)?;
        }
        // Error statuses fail the transfer before any body reaches the sink.
        easy.fail_on_error(true).map_err(transport)?;

        let mut total: u64 = 0;
        let mut too_large = false;
        let mut sink_error: Option<std::io::Error> = None;
        let result = {
            let mut transfer = easy.transfer();
            transfer
                .write_function(|data| {
                    total += data.len() as u64;
                    if total > max_len {
                        too_large = true;
                        return Ok(0); // aborts the transfer
                    }
                    if let Err(e) = sink.write_all(data) {
                        sink_error = Some(e);
                        return Ok(0);
                    }
                    Ok(data.len())
                })
                .map_err(transport)?;
            transfer.perform()
        };
        let code = easy.response_code().unwrap_or(0);
        if too_large {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: max_len,
            });
        }
        if let Some(source) = sink_error {
            return Err(FetchError::Sink {
                url: url.to_string(),
                source,
            });
        }
        match result {
            Ok(()) => {}
            Err(e) if e.is_http_returned_error() => {}
            Err(e) if e.is_operation_timedout() => {
                return Err(FetchError::Timeout {
                    url: url.to_string(),
                    reason: e.to_string(),
                })
            }
            Err(e) => return Err(transport(e)),
        }
        match code {
            200..=299 | 0 => Ok(total),
            403 | 404 | 410 => Err(FetchError::NotFound {
                url: url.to_string(),
            }),
            status => Err(FetchError::Status {
                url: url.to_string(),
                status,
            }),
        }
    }
}

/// Picks a fetcher by URL scheme: `file://` to [`FileFetcher`], `http(s)://`
/// to [`CurlFetcher`] (with the `curl` feature).
#[derive(Clone, Debug, Default)]
pub struct AnyFetcher {
    /// For `file://`.
    pub file: FileFetcher,
    /// For `http://` and `https://`.
    #[cfg(feature = "curl")]
    pub http: CurlFetcher,
}

impl Fetcher for AnyFetcher {
    fn fetch_to(&self, url: &str, max_len: u64, sink: &mut dyn Write) -> Result<u64, FetchError> {
        if url.starts_with("file://") {
            return self.file.fetch_to(url, max_len, sink);
        }
        #[cfg(feature = "curl")]
        if url.starts_with("http://") || url.starts_with("https://") {
            return self.http.fetch_to(url, max_len, sink);
        }
        Err(FetchError::UnsupportedScheme {
            url: url.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_fetch_limits() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a b.json");
        std::fs::write(&p, b"0123456789").unwrap();
        let url = format!("file://{}", dir.path().join("a%20b.json").display());
        assert_eq!(FileFetcher.fetch(&url, 10).unwrap(), b"0123456789");
        assert!(matches!(
            FileFetcher.fetch(&url, 9),
            Err(FetchError::TooLarge { limit: 9, .. })
        ));
        let missing = format!("file://{}/nope", dir.path().display());
        assert!(matches!(
            FileFetcher.fetch(&missing, 9),
            Err(FetchError::NotFound { .. })
        ));
        assert!(matches!(
            FileFetcher.fetch("ftp://x/y", 9),
            Err(FetchError::UnsupportedScheme { .. })
        ));
    }
}
