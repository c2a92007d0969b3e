//! `metadata::path_matches(pattern, path)` on arbitrary strings, checked
//! against a simple memoized reference matcher with the documented
//! semantics, plus `time::parse_utc` / `time::format_utc` round trips.
//!
//! Input: `PATTERN '\n' PATH` (lossy UTF-8); the whole input is also fed
//! to `parse_utc`, and its first 8 bytes, as an i64, to `format_utc`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared_trust::metadata::path_matches;
use shared_trust::time::{format_utc, parse_utc};

/// A class's members: single characters as `(c, c)`, ranges as `(lo, hi)`.
type Members = Vec<(char, char)>;

#[derive(Debug)]
enum Tok {
    Star,
    Any,
    Lit(char),
    /// negate, single chars and ranges.
    Class(bool, Members),
}

// A `[...]` class at the start of `p`: (negate, items, length), or None if
// it is not closed (then `[` is a literal). `]` right after `[` or `[!` is a
// member; `a-z` is a range unless `-` is followed by the closing `]`.
fn parse_class(p: &[char]) -> Option<(bool, Members, usize)> {
    let mut i = 1;
    let negate = p.get(1) == Some(&'!');
    if negate {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((negate, items, i + 1));
        }
        first = false;
        match (p.get(i + 1), p.get(i + 2)) {
            (Some('-'), Some(&end)) if end != ']' => {
                items.push((ch, end));
                i += 3;
            }
            _ => {
                items.push((ch, ch));
                i += 1;
            }
        }
    }
}

fn tokenize(p: &[char]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => {
                toks.push(Tok::Star);
                i += 1;
            }
            '?' => {
                toks.push(Tok::Any);
                i += 1;
            }
            '[' => match parse_class(&p[i..]) {
                Some((neg, items, len)) => {
                    toks.push(Tok::Class(neg, items));
                    i += len;
                }
                None => {
                    toks.push(Tok::Lit('['));
                    i += 1;
                }
            },
            c => {
                toks.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    toks
}

fn one(t: &Tok, c: char) -> bool {
    match t {
        Tok::Star => unreachable!(),
        Tok::Any => true,
        Tok::Lit(l) => *l == c,
        Tok::Class(neg, items) => items.iter().any(|&(a, b)| a <= c && c <= b) != *neg,
    }
}

// Dynamic programming over (token, char) positions: O(tokens * chars).
fn glob_ref(toks: &[Tok], s: &[char]) -> bool {
    // m[j] = tokens[..i] match s[..j]
    let mut m = vec![false; s.len() + 1];
    m[0] = true;
    for t in toks {
        let mut next = vec![false; s.len() + 1];
        match t {
            Tok::Star => {
                let mut any = false;
                for j in 0..=s.len() {
                    any |= m[j];
                    next[j] = any;
                }
            }
            _ => {
                for j in 1..=s.len() {
                    next[j] = m[j - 1] && one(t, s[j - 1]);
                }
            }
        }
        m = next;
    }
    m[s.len()]
}

fn reference(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    pat.len() == parts.len()
        && pat.iter().zip(&parts).all(|(p, s)| {
            let p: Vec<char> = p.chars().collect();
            let s: Vec<char> = s.chars().collect();
            glob_ref(&tokenize(&p), &s)
        })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (pattern, path) = text.split_once('\n').unwrap_or((&text, ""));
    let got = path_matches(pattern, path);
    assert_eq!(
        got,
        reference(pattern, path),
        "pattern {pattern:?} path {path:?}"
    );
    if !pattern.contains(['*', '?', '[']) {
        assert_eq!(got, pattern == path, "literal {pattern:?} vs {path:?}");
    }

    for s in [&*text, pattern, path] {
        if let Some(t) = parse_utc(s) {
            assert_eq!(
                format_utc(t),
                s,
                "parse_utc({s:?}) = {t} does not round-trip"
            );
        }
    }
    if let Some(bytes) = data.get(..8) {
        // Years 0000 to 9999, the range format_utc supports.
        let t = i64::from_le_bytes(bytes.try_into().unwrap())
            .rem_euclid(253_402_300_800 + 62_167_219_200)
            - 62_167_219_200;
        let s = format_utc(t);
        assert_eq!(parse_utc(&s), Some(t), "{t} -> {s:?} does not parse back");
    }
});
