//! Just enough HTTP/1.1 for a loopback endpoint that rustup downloads
//! from: `GET` and `HEAD`, one request per connection, an optional
//! `Range: bytes=START-[END]` (rustup resumes partial downloads that way).
//! Parsing is sans-I/O ([`parse_head`]); [`read_head`] and [`write_head`]
//! do the socket side.

use std::io::{Read, Write};

/// Most bytes accepted in a request head.
pub const MAX_HEAD: usize = 16 * 1024;

/// Request method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: headers only.
    Head,
}

/// A byte range asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive), if given.
    pub end: Option<u64>,
}

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// Method.
    pub method: Method,
    /// Path without the leading `/`, the query and the fragment.
    pub path: String,
    /// `Range: bytes=...`, if present and of the one supported form.
    pub range: Option<Range>,
}

/// Why a request was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Not a request line of the form `METHOD /PATH HTTP/1.x`.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A method other than GET and HEAD.
    #[error("method {0} not allowed")]
    Method(String),
    /// The head is longer than [`MAX_HEAD`].
    #[error("request head longer than {MAX_HEAD} bytes")]
    TooLong,
}

/// Parses a request head (everything before the blank line).
pub fn parse_head(head: &[u8]) -> Result<RequestHead, HttpError> {
    let text = std::str::from_utf8(head)
        .map_err(|_| HttpError::Malformed("request head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::Malformed(format!("request line {first:?}")));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed(format!("version {version:?}")));
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        other => return Err(HttpError::Method(other.to_string())),
    };
    let path = target
        .strip_prefix('/')
        .ok_or_else(|| HttpError::Malformed(format!("target {target:?}")))?;
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    let mut range = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("range") {
                range = parse_range(value.trim());
            }
        }
    }
    Ok(RequestHead {
        method,
        path,
        range,
    })
}

/// Parses `bytes=START-` or `bytes=START-END`; anything else is ignored
/// (the whole file is served).
pub fn parse_range(value: &str) -> Option<Range> {
    let spec = value.strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start = start.trim().parse::<u64>().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse::<u64>().ok()?),
    };
    if end.is_some_and(|e| e < start) {
        return None;
    }
    Some(Range { start, end })
}

/// Reads a request head from `stream`: bytes up to the blank line.
pub fn read_head(stream: &mut impl Read) -> Result<Vec<u8>, std::io::Error> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find_blank_line(&buf) {
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                HttpError::TooLong,
            ));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before the request head ended",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_blank_line(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The reason phrase of the statuses used.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    }
}

/// Writes a response head: status, `Content-Length`, `Connection: close`
/// and any extra headers.
pub fn write_head(
    out: &mut impl Write,
    status: u16,
    content_length: u64,
    extra: &[(&str, String)],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {content_length}\r\nConnection: close\r\n",
        reason(status)
    );
    for (name, value) in extra {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_rustup_sends() {
        let h = parse_head(
            b"GET /dist/channel-rust-stable.toml.sha256 HTTP/1.1\r\nhost: 127.0.0.1:1\r\naccept: */*",
        )
        .unwrap();
        assert_eq!(h.method, Method::Get);
        assert_eq!(h.path, "dist/channel-rust-stable.toml.sha256");
        assert_eq!(h.range, None);
        let h = parse_head(b"HEAD /dist/x?y=1 HTTP/1.0\r\nRange: bytes=100-\r\n").unwrap();
        assert_eq!(h.method, Method::Head);
        assert_eq!(h.path, "dist/x");
        assert_eq!(
            h.range,
            Some(Range {
                start: 100,
                end: None
            })
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("bytes=5-9"),
            Some(Range {
                start: 5,
                end: Some(9)
            })
        );
        assert_eq!(parse_range("bytes=9-5"), None);
        assert_eq!(parse_range("bytes=-5"), None);
        assert_eq!(parse_range("bytes=1-2,4-5"), None);
        assert_eq!(parse_range("items=1-"), None);
    }

    #[test]
    fn refuses_other_requests() {
        assert!(matches!(
            parse_head(b"POST /x HTTP/1.1"),
            Err(HttpError::Method(_))
        ));
        assert!(matches!(
            parse_head(b"GET x HTTP/1.1"),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            parse_head(b"GET /x SPDY/3"),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            parse_head(b"GET /x HTTP/1.1 extra"),
            Err(HttpError::Malformed(_))
        ));
    }

    #[test]
    fn reads_head_up_to_blank_line() {
        let mut input: &[u8] = b"GET / HTTP/1.1\r\nA: b\r\n\r\nBODY";
        assert_eq!(read_head(&mut input).unwrap(), b"GET / HTTP/1.1\r\nA: b");
        let mut endless = std::io::repeat(b'a');
        assert!(read_head(&mut endless).is_err());
        let mut short: &[u8] = b"GET / HTTP/1.1\r\n";
        assert!(read_head(&mut short).is_err());
    }
}
