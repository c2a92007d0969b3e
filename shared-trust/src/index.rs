//! The index commitment: a content-addressed, tiled Merkle map over every
//! crate file of a registry index, whose root a signed TUF role commits to.
//! The design and why it meets each property is in `docs/index-commitment.md`.
//!
//! - **Entries.** Key: the index path of a crate file (`se/rd/serde`,
//!   `3/s/syn`, `1/a`). Value: SHA-256 of the file's canonical form
//!   ([`canonical_crate_file`]): every line parsed as JSON and re-encoded as
//!   canonical JSON, lines joined by `\n`. A mirror that re-serializes lines
//!   (spaces, key order) verifies; one that changes a field does not.
//! - **Tree.** A 16-ary trie over the nibbles of SHA-256(path), of a fixed
//!   depth `D` chosen for the index size. Level `D` holds *buckets*: the
//!   sorted (path, file hash) entries whose path hash starts with the
//!   bucket's `D` nibbles. Above them, *nodes* of 16 child hashes.
//! - **Objects.** A node or bucket is an immutable object named by the
//!   SHA-256 of its bytes (`tree/HH/REST`); a tag byte separates the two
//!   kinds. A lookup fetches `D + 1` objects (root node to bucket); a change
//!   to one file creates exactly `D + 1` new objects.
//!
//! This module is sans-I/O: [`Tree`] builds and updates the map and yields
//! objects to store; [`Lookup`] verifies a path against a [`Commitment`]
//! from objects the caller fetches, one at a time.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

const TAG_BUCKET: u8 = 0;
const TAG_NODE: u8 = 1;
const FANOUT: usize = 16;
/// Deepest tree supported (16^8 buckets).
pub const MAX_DEPTH: u8 = 8;
/// Longest index path accepted (cargo names are at most 64 bytes).
pub const MAX_PATH_LEN: usize = 256;

/// Why index data is not acceptable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexError {
    /// A crate file line is not a JSON object, or has no canonical form.
    #[error("{path}: line {line}: {reason}")]
    BadLine {
        /// Index path of the file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An object fetched does not hash to the name it was fetched by.
    #[error("tree object {expected}: content hashes to {found}")]
    ObjectHashMismatch {
        /// Expected hash (hex).
        expected: String,
        /// Actual hash (hex).
        found: String,
    },
    /// An object is not a well-formed node or bucket.
    #[error("tree object {hash}: malformed {what}: {reason}")]
    MalformedObject {
        /// Object hash (hex).
        hash: String,
        /// `node` or `bucket`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A path is not a valid index path.
    #[error("invalid index path {0:?}")]
    BadPath(String),
    /// A depth outside 1..=MAX_DEPTH.
    #[error("tree depth {0} is not 1 to {MAX_DEPTH}")]
    BadDepth(u8),
    /// A lookup step was called out of order (caller misuse).
    #[error("lookup misuse: {0}")]
    Misuse(&'static str),
}

/// Hex of a hash.
pub fn hex_hash(h: &Hash) -> String {
    hex::encode(h)
}

fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}

/// The canonical form of a crate file: each non-empty line parsed as a JSON
/// object and written as canonical JSON, each followed by `\n`.
pub fn canonical_crate_file(path: &str, content: &[u8]) -> Result<Vec<u8>, IndexError> {
    crate::canonical_fast::canonical_crate_file(path, content)
}

/// SHA-256 of the canonical form of a crate file.
pub fn crate_file_hash(path: &str, content: &[u8]) -> Result<Hash, IndexError> {
    crate::canonical_fast::crate_file_hash(path, content)
}

/// The index path cargo uses for a crate name (lower-cased):
/// `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd...`.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        0 => String::new(),
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

/// Whether `path` is a plausible index path (relative, `/`-separated,
/// no empty, `.` or `..` parts, printable ASCII, bounded length).
pub fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= MAX_PATH_LEN
        && path.bytes().all(|b| b.is_ascii_graphic())
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

fn nibble(h: &Hash, i: usize) -> usize {
    let b = h[i / 2];
    usize::from(if i.is_multiple_of(2) {
        b >> 4
    } else {
        b & 0x0f
    })
}

fn bucket_index(path_hash: &Hash, depth: u8) -> u32 {
    (0..usize::from(depth)).fold(0u32, |acc, i| (acc << 4) | nibble(path_hash, i) as u32)
}

/// The depth to use for an index of `files` crate files: the smallest with
/// at most 4 files per bucket on average (at least 1).
pub fn depth_for(files: u64) -> u8 {
    let mut d = 1u8;
    while d < MAX_DEPTH && files > 4 * 16u64.pow(u32::from(d)) {
        d += 1;
    }
    d
}

fn encode_bucket(entries: &BTreeMap<String, Hash>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + entries.len() * 64);
    out.push(TAG_BUCKET);
    for (path, hash) in entries {
        out.extend_from_slice(&(path.len() as u16).to_be_bytes());
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(hash);
    }
    out
}

fn encode_node(children: &[Hash; FANOUT]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + FANOUT * 32);
    out.push(TAG_NODE);
    for c in children {
        out.extend_from_slice(c);
    }
    out
}

/// Parses a bucket object (fuzzable; never panics).
pub fn decode_bucket(hash: &Hash, bytes: &[u8]) -> Result<BTreeMap<String, Hash>, IndexError> {
    let bad = |reason: &str| IndexError::MalformedObject {
        hash: hex_hash(hash),
        what: "bucket",
        reason: reason.to_string(),
    };
    let (&tag, mut rest) = bytes.split_first().ok_or_else(|| bad("empty"))?;
    if tag != TAG_BUCKET {
        return Err(bad("not a bucket"));
    }
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(bad("truncated length"));
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
        if rest.len() < len + 32 {
            return Err(bad("truncated entry"));
        }
        let path = std::str::from_utf8(&rest[..len]).map_err(|_| bad("path is not UTF-8"))?;
        if !valid_path(path) {
            return Err(bad("invalid path"));
        }
        if last.as_deref().is_some_and(|l| l >= path) {
            return Err(bad("entries not sorted and unique"));
        }
        let mut h = [0u8; 32];
        h.copy_from_slice(&rest[len..len + 32]);
        out.insert(path.to_string(), h);
        last = Some(path.to_string());
        rest = &rest[len + 32..];
    }
    Ok(out)
}

/// Parses a node object (fuzzable; never panics).
pub fn decode_node(hash: &Hash, bytes: &[u8]) -> Result<[Hash; FANOUT], IndexError> {
    if bytes.len() != 1 + FANOUT * 32 || bytes[0] != TAG_NODE {
        return Err(IndexError::MalformedObject {
            hash: hex_hash(hash),
            what: "node",
            reason: format!("{} bytes, expected a tag and 16 hashes", bytes.len()),
        });
    }
    let mut children = [[0u8; 32]; FANOUT];
    for (i, c) in children.iter_mut().enumerate() {
        c.copy_from_slice(&bytes[1 + i * 32..1 + (i + 1) * 32]);
    }
    Ok(children)
}

/// What a signed role commits to: the tree's root and shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    /// Root object hash, hex.
    pub root: String,
    /// Tree depth.
    pub depth: u8,
    /// Number of crate files.
    pub files: u64,
}

impl Commitment {
    /// The root hash, decoded.
    pub fn root_hash(&self) -> Option<Hash> {
        let v = hex::decode(&self.root).ok()?;
        v.try_into().ok()
    }
}

/// The whole map, with every node cached, for the signer.
#[derive(Clone, Debug)]
pub struct Tree {
    depth: u8,
    buckets: BTreeMap<u32, BTreeMap<String, Hash>>,
    // Hash of every node, per level (level 0 is the root), by prefix index.
    levels: Vec<BTreeMap<u32, Hash>>,
    empty: Vec<Hash>,
}

/// A new object to store: its hash and bytes.
pub type Object = (Hash, Vec<u8>);

impl Tree {
    /// Builds the map from (path, file hash) entries. Returns the tree and
    /// every object of it.
    pub fn build(
        depth: u8,
        entries: impl IntoIterator<Item = (String, Hash)>,
    ) -> Result<(Tree, Vec<Object>), IndexError> {
        if depth == 0 || depth > MAX_DEPTH {
            return Err(IndexError::BadDepth(depth));
        }
        let mut buckets: BTreeMap<u32, BTreeMap<String, Hash>> = BTreeMap::new();
        for (path, hash) in entries {
            if !valid_path(&path) {
                return Err(IndexError::BadPath(path));
            }
            let b = bucket_index(&sha256(path.as_bytes()), depth);
            buckets.entry(b).or_default().insert(path, hash);
        }
        // Hashes of empty subtrees, from bucket level up.
        let mut empty = vec![[0u8; 32]; usize::from(depth) + 1];
        let empty_bucket = encode_bucket(&BTreeMap::new());
        empty[usize::from(depth)] = sha256(&empty_bucket);
        let mut objects = vec![(empty[usize::from(depth)], empty_bucket)];
        for level in (0..usize::from(depth)).rev() {
            let node = encode_node(&[empty[level + 1]; FANOUT]);
            empty[level] = sha256(&node);
            objects.push((empty[level], node));
        }
        let mut tree = Tree {
            depth,
            buckets,
            levels: vec![BTreeMap::new(); usize::from(depth) + 1],
            empty,
        };
        // Buckets.
        for (&b, entries) in &tree.buckets {
            let bytes = encode_bucket(entries);
            let h = sha256(&bytes);
            tree.levels[usize::from(depth)].insert(b, h);
            objects.push((h, bytes));
        }
        // Nodes, bottom up, only where something is below.
        for level in (0..usize::from(depth)).rev() {
            let parents: Vec<u32> = tree.levels[level + 1].keys().map(|k| k >> 4).collect();
            let mut parents = parents;
            parents.dedup();
            for p in parents {
                let (h, bytes) = tree.node_object(level, p);
                tree.levels[level].insert(p, h);
                objects.push((h, bytes));
            }
        }
        Ok((tree, objects))
    }

    fn node_object(&self, level: usize, index: u32) -> Object {
        let mut children = [self.empty[level + 1]; FANOUT];
        for (i, c) in children.iter_mut().enumerate() {
            let child = (index << 4) | i as u32;
            if let Some(h) = self.levels[level + 1].get(&child) {
                *c = *h;
            }
        }
        let bytes = encode_node(&children);
        (sha256(&bytes), bytes)
    }

    /// Sets (or, with `None`, removes) entries; returns the new objects only:
    /// for each touched bucket, the bucket and its `depth` ancestors.
    pub fn update(
        &mut self,
        changes: impl IntoIterator<Item = (String, Option<Hash>)>,
    ) -> Result<Vec<Object>, IndexError> {
        let depth = usize::from(self.depth);
        let mut touched = std::collections::BTreeSet::new();
        for (path, hash) in changes {
            if !valid_path(&path) {
                return Err(IndexError::BadPath(path));
            }
            let b = bucket_index(&sha256(path.as_bytes()), self.depth);
            let bucket = self.buckets.entry(b).or_default();
            match hash {
                Some(h) => {
                    bucket.insert(path, h);
                }
                None => {
                    bucket.remove(&path);
                }
            }
            touched.insert(b);
        }
        let mut objects = Vec::new();
        for &b in &touched {
            let entries = self.buckets.get(&b).cloned().unwrap_or_default();
            if entries.is_empty() {
                self.buckets.remove(&b);
                self.levels[depth].remove(&b);
            } else {
                let bytes = encode_bucket(&entries);
                let h = sha256(&bytes);
                self.levels[depth].insert(b, h);
                objects.push((h, bytes));
            }
        }
        let mut current: Vec<u32> = touched.into_iter().collect();
        for level in (0..depth).rev() {
            let mut parents: Vec<u32> = current.iter().map(|k| k >> 4).collect();
            parents.dedup();
            for &p in &parents {
                let (h, bytes) = self.node_object(level, p);
                if h == self.empty[level] && level > 0 {
                    self.levels[level].remove(&p);
                } else {
                    self.levels[level].insert(p, h);
                    objects.push((h, bytes));
                }
            }
            current = parents;
        }
        Ok(objects)
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        self.levels[0].get(&0).copied().unwrap_or(self.empty[0])
    }

    /// Number of crate files.
    pub fn files(&self) -> u64 {
        self.buckets.values().map(|b| b.len() as u64).sum()
    }

    /// The commitment to sign.
    pub fn commitment(&self) -> Commitment {
        Commitment {
            root: hex_hash(&self.root()),
            depth: self.depth,
            files: self.files(),
        }
    }

    /// Every (path, file hash) entry, bucket by bucket.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Hash)> {
        self.buckets.values().flatten()
    }

    /// The file hash of `path`, if present.
    pub fn get(&self, path: &str) -> Option<&Hash> {
        let b = bucket_index(&sha256(path.as_bytes()), self.depth);
        self.buckets.get(&b)?.get(path)
    }
}

/// Verifies one path against a commitment, sans-I/O: ask
/// [`Lookup::next_object`] which object to fetch, give its bytes to
/// [`Lookup::feed`], until [`Lookup::result`] answers.
#[derive(Debug)]
pub struct Lookup {
    path: String,
    path_hash: Hash,
    depth: u8,
    level: u8,
    want: Option<Hash>,
    result: Option<Option<Hash>>,
}

impl Lookup {
    /// Starts verifying `path` against `commitment`.
    pub fn new(commitment: &Commitment, path: &str) -> Result<Self, IndexError> {
        if commitment.depth == 0 || commitment.depth > MAX_DEPTH {
            return Err(IndexError::BadDepth(commitment.depth));
        }
        if !valid_path(path) {
            return Err(IndexError::BadPath(path.to_string()));
        }
        let root = commitment
            .root_hash()
            .ok_or_else(|| IndexError::BadPath(format!("commitment root {:?}", commitment.root)))?;
        Ok(Lookup {
            path: path.to_string(),
            path_hash: sha256(path.as_bytes()),
            depth: commitment.depth,
            level: 0,
            want: Some(root),
            result: None,
        })
    }

    /// The next object to fetch, or `None` when done.
    pub fn next_object(&self) -> Option<Hash> {
        self.want
    }

    /// Gives the bytes of the object [`Lookup::next_object`] asked for.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), IndexError> {
        let want = self
            .want
            .ok_or(IndexError::Misuse("lookup already finished"))?;
        let found = sha256(bytes);
        if found != want {
            return Err(IndexError::ObjectHashMismatch {
                expected: hex_hash(&want),
                found: hex_hash(&found),
            });
        }
        if self.level == self.depth {
            let entries = decode_bucket(&want, bytes)?;
            // Every entry must belong in this bucket.
            let me = bucket_index(&self.path_hash, self.depth);
            if let Some(p) = entries
                .keys()
                .find(|p| bucket_index(&sha256(p.as_bytes()), self.depth) != me)
            {
                return Err(IndexError::MalformedObject {
                    hash: hex_hash(&want),
                    what: "bucket",
                    reason: format!("entry {p:?} does not belong in this bucket"),
                });
            }
            self.result = Some(entries.get(&self.path).copied());
            self.want = None;
        } else {
            let children = decode_node(&want, bytes)?;
            self.want = Some(children[nibble(&self.path_hash, usize::from(self.level))]);
            self.level += 1;
        }
        Ok(())
    }

    /// `Some(Some(hash))`: the path is committed with this file hash;
    /// `Some(None)`: the commitment proves the path absent; `None`: not done.
    pub fn result(&self) -> Option<Option<Hash>> {
        self.result
    }

    /// The path being verified.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Object store path of an object: `HH/REST` (hex).
pub fn object_path(hash: &Hash) -> String {
    let h = hex_hash(hash);
    format!("{}/{}", &h[..2], &h[2..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<(String, Hash)> {
        (0..n)
            .map(|i| {
                let name = format!("crate{i}");
                let h = sha256(name.as_bytes());
                (index_path(&name), h)
            })
            .collect()
    }

    fn lookup(
        objects: &BTreeMap<Hash, Vec<u8>>,
        c: &Commitment,
        path: &str,
    ) -> Result<Option<Hash>, IndexError> {
        let mut l = Lookup::new(c, path)?;
        let mut fetched = 0;
        while let Some(h) = l.next_object() {
            l.feed(&objects[&h])?;
            fetched += 1;
        }
        assert_eq!(fetched, usize::from(c.depth) + 1);
        Ok(l.result().unwrap())
    }

    #[test]
    fn canonical_form_ignores_serialization_but_not_content() {
        let a =
            br#"{"name":"a","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}"#;
        let b = b"{ \"yanked\": false, \"vers\": \"1.0.0\", \"name\": \"a\", \"deps\": [ ], \"features\": { }, \"cksum\": \"00\" }\r\n\n";
        assert_eq!(
            crate_file_hash("1/a", a).unwrap(),
            crate_file_hash("1/a", b).unwrap()
        );
        let c =
            br#"{"name":"a","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":true}"#;
        assert_ne!(
            crate_file_hash("1/a", a).unwrap(),
            crate_file_hash("1/a", c).unwrap()
        );
        let e = crate_file_hash("1/a", b"{\"a\":1}\n[1]\n").unwrap_err();
        assert!(matches!(e, IndexError::BadLine { line: 2, .. }), "{e}");
    }

    #[test]
    fn index_paths() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("Syn"), "3/s/syn");
        assert_eq!(index_path("serde"), "se/rd/serde");
    }

    #[test]
    fn build_lookup_and_absence() {
        let e = entries(500);
        let (tree, objs) = Tree::build(depth_for(500), e.clone()).unwrap();
        let objects: BTreeMap<Hash, Vec<u8>> = objs.into_iter().collect();
        let c = tree.commitment();
        assert_eq!(c.files, 500);
        for (p, h) in e.iter().take(50) {
            assert_eq!(lookup(&objects, &c, p).unwrap(), Some(*h));
        }
        assert_eq!(lookup(&objects, &c, "no/ne/nonexistent").unwrap(), None);
    }

    #[test]
    fn update_matches_rebuild_and_is_logarithmic() {
        let e = entries(300);
        let depth = 3;
        let (mut tree, objs) = Tree::build(depth, e.clone()).unwrap();
        let mut objects: BTreeMap<Hash, Vec<u8>> = objs.into_iter().collect();
        let new_hash = sha256(b"new");
        let new_objs = tree
            .update([("ne/w-/new-crate".to_string(), Some(new_hash))])
            .unwrap();
        assert_eq!(new_objs.len(), usize::from(depth) + 1);
        objects.extend(new_objs);
        let mut e2 = e.clone();
        e2.push(("ne/w-/new-crate".into(), new_hash));
        let (rebuilt, _) = Tree::build(depth, e2).unwrap();
        assert_eq!(tree.root(), rebuilt.root());
        assert_eq!(
            lookup(&objects, &tree.commitment(), "ne/w-/new-crate").unwrap(),
            Some(new_hash)
        );
        // Removal back to the original tree.
        tree.update([("ne/w-/new-crate".to_string(), None)])
            .unwrap();
        let (orig, _) = Tree::build(depth, e).unwrap();
        assert_eq!(tree.root(), orig.root());
    }

    #[test]
    fn tampered_objects_are_rejected() {
        let e = entries(100);
        let (tree, objs) = Tree::build(2, e.clone()).unwrap();
        let mut objects: BTreeMap<Hash, Vec<u8>> = objs.into_iter().collect();
        let c = tree.commitment();
        // A mirror swaps the bytes served for the root.
        let root = tree.root();
        let mut bad = objects[&root].clone();
        bad[5] ^= 1;
        objects.insert(root, bad);
        assert!(matches!(
            lookup(&objects, &c, &e[0].0),
            Err(IndexError::ObjectHashMismatch { .. })
        ));
    }

    #[test]
    fn decoders_reject_garbage() {
        let h = [0u8; 32];
        for bytes in [
            &b""[..],
            b"\x00\x00",
            b"\x00\x00\x05abc",
            b"\x01abc",
            b"\x02",
        ] {
            assert!(decode_bucket(&h, bytes).is_err() || decode_node(&h, bytes).is_err());
        }
        // Unsorted entries.
        let mut v = vec![0u8];
        for p in ["b/b", "a/a"] {
            v.extend_from_slice(&(p.len() as u16).to_be_bytes());
            v.extend_from_slice(p.as_bytes());
            v.extend_from_slice(&[0; 32]);
        }
        assert!(decode_bucket(&h, &v).is_err());
    }

    #[test]
    fn depth_grows_with_size() {
        assert_eq!(depth_for(10), 1);
        assert_eq!(depth_for(31_839), 4);
        assert_eq!(depth_for(190_000), 4);
        assert_eq!(depth_for(2_000_000), 5);
    }
}
