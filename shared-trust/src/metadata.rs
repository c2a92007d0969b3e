//! The TUF 1.0 metadata model: the signed envelope and the four top-level
//! roles plus delegated targets.
//!
//! Parsing keeps two things: the typed view ([`Root`], [`Timestamp`],
//! [`Snapshot`], [`Targets`]) and the canonical bytes of the `signed` object
//! exactly as received. Signatures are checked over those bytes, so fields
//! this implementation does not know still verify; every struct also keeps
//! them in `unknown_fields` so the repository side writes them back.
//!
//! Validation on parse follows the specification (and python-tuf where the
//! specification is silent): `_type` must match, `spec_version` must have
//! major version 1 (`1.0`, `1.0.31`, ...), versions and thresholds are
//! positive, `expires` is `YYYY-MM-DDTHH:MM:SSZ`, root names exactly the four
//! top-level roles, keyid lists have no duplicates, hashes are non-empty,
//! delegations have either `roles` or `succinct_roles`, and each delegated role
//! has either `paths` or `path_hash_prefixes`.

use crate::canonical::{self, CanonicalError};
use crate::crypto::{self, Key, KeyError, Signer};
use crate::time;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The four top-level role names.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// The specification version this implementation writes.
pub const SPEC_VERSION: &str = "1.0.31";

/// Why bytes are not valid metadata for a role.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// Not JSON at all, or not the expected shape.
    #[error("{role} metadata is not valid JSON metadata: {source}")]
    Json {
        /// Role being parsed.
        role: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A field of `signed` has the wrong type or is missing.
    #[error("{role} metadata: field {path}: {source}")]
    Field {
        /// Role being parsed.
        role: String,
        /// Path of the field in `signed`, e.g. `meta.snapshot\.json.version`.
        path: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The `signed` object has no canonical form.
    #[error("{role} metadata has no canonical form: {source}")]
    Canonical {
        /// Role being parsed.
        role: String,
        /// Why.
        #[source]
        source: CanonicalError,
    },
    /// `_type` is not the expected role type.
    #[error("{role} metadata has _type {found:?}, expected {expected:?}")]
    WrongType {
        /// Role being parsed.
        role: String,
        /// Expected `_type`.
        expected: &'static str,
        /// `_type` found.
        found: String,
    },
    /// A field has an invalid value.
    #[error("{role} metadata is invalid: {reason}")]
    Invalid {
        /// Role being parsed.
        role: String,
        /// What is wrong.
        reason: String,
    },
}

fn invalid(role: &str, reason: impl Into<String>) -> MetadataError {
    MetadataError::Invalid {
        role: role.to_string(),
        reason: reason.into(),
    }
}

/// One signature in the envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Which key signed (opaque).
    pub keyid: String,
    /// The signature, hex.
    pub sig: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// Keys and threshold of a role, as root lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleKeys {
    /// keyids allowed to sign for the role.
    pub keyids: Vec<String>,
    /// How many distinct keyids must sign.
    pub threshold: u64,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// Root metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// Always `root`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Specification version.
    pub spec_version: String,
    /// Version of this root.
    pub version: u64,
    /// Expiry, `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires: String,
    /// Whether metadata and targets are published with version/hash prefixes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_snapshot: Option<bool>,
    /// All keys root delegates to, by keyid.
    pub keys: BTreeMap<String, Key>,
    /// The four top-level roles.
    pub roles: BTreeMap<String, RoleKeys>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// Version, length and hashes of a metadata file, as timestamp and snapshot list them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaFile {
    /// Version of the file.
    pub version: u64,
    /// Length in bytes, if pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Hashes, if pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// Timestamp metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    /// Always `timestamp`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Specification version.
    pub spec_version: String,
    /// Version.
    pub version: u64,
    /// Expiry.
    pub expires: String,
    /// Must hold `snapshot.json`.
    pub meta: BTreeMap<String, MetaFile>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// Snapshot metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always `snapshot`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Specification version.
    pub spec_version: String,
    /// Version.
    pub version: u64,
    /// Expiry.
    pub expires: String,
    /// `ROLE.json` to its version (and optionally length and hashes).
    pub meta: BTreeMap<String, MetaFile>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// A target file's length, hashes and custom data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetFile {
    /// Length in bytes.
    pub length: u64,
    /// Hashes by algorithm name, hex.
    pub hashes: BTreeMap<String, String>,
    /// Opaque application data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// A role delegated to by a targets role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedRole {
    /// Role name.
    pub name: String,
    /// keyids allowed to sign.
    pub keyids: Vec<String>,
    /// Signatures needed.
    pub threshold: u64,
    /// If it matches a target, no later delegation is searched.
    pub terminating: bool,
    /// Target path patterns (`*` and `?` never match `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    /// Hex prefixes of SHA-256(target path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// TAP 15 succinct hashed-bin delegation: `2^bit_length` roles named
/// `NAME_PREFIX-HEX`, the bin chosen by the first bits of SHA-256(path).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccinctRoles {
    /// keyids allowed to sign every bin.
    pub keyids: Vec<String>,
    /// Signatures needed.
    pub threshold: u64,
    /// Number of hash bits that choose a bin, 1 to 32.
    pub bit_length: u32,
    /// Prefix of every bin's name.
    pub name_prefix: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// The `delegations` object of a targets role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegations {
    /// Keys of the delegated roles, by keyid.
    pub keys: BTreeMap<String, Key>,
    /// Ordered list of delegated roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    /// Succinct hashed bins instead of `roles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// Targets metadata (top-level or delegated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// Always `targets`.
    #[serde(rename = "_type")]
    pub type_: String,
    /// Specification version.
    pub spec_version: String,
    /// Version.
    pub version: u64,
    /// Expiry.
    pub expires: String,
    /// Target files by path.
    pub targets: BTreeMap<String, TargetFile>,
    /// Delegations, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
    /// Unknown fields.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// What every role's `signed` object has in common.
pub trait Role: Serialize + DeserializeOwned + Clone + fmt::Debug {
    /// The `_type` value.
    const TYPE: &'static str;
    /// Version.
    fn version(&self) -> u64;
    /// Expiry string.
    fn expires(&self) -> &str;
    /// `_type` as found.
    fn type_field(&self) -> &str;
    /// `spec_version` as found.
    fn spec_version(&self) -> &str;
    /// Role-specific checks beyond the common ones.
    fn validate_role(&self, role: &str) -> Result<(), MetadataError>;

    /// Expiry in Unix seconds (validated on parse).
    fn expires_unix(&self) -> i64 {
        time::parse_utc(self.expires()).unwrap_or(i64::MIN)
    }
    /// Whether the role has expired at `now` (expired when `now >= expires`).
    fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_unix()
    }
}

macro_rules! common_role {
    ($t:ty, $name:literal) => {
        impl Role for $t {
            const TYPE: &'static str = $name;
            fn version(&self) -> u64 {
                self.version
            }
            fn expires(&self) -> &str {
                &self.expires
            }
            fn type_field(&self) -> &str {
                &self.type_
            }
            fn spec_version(&self) -> &str {
                &self.spec_version
            }
            fn validate_role(&self, role: &str) -> Result<(), MetadataError> {
                self.validate_fields(role)
            }
        }
    };
}
common_role!(Root, "root");
common_role!(Timestamp, "timestamp");
common_role!(Snapshot, "snapshot");
common_role!(Targets, "targets");

fn validate_common<T: Role>(signed: &T, role: &str) -> Result<(), MetadataError> {
    if signed.type_field() != T::TYPE {
        return Err(MetadataError::WrongType {
            role: role.to_string(),
            expected: T::TYPE,
            found: signed.type_field().to_string(),
        });
    }
    if !spec_version_supported(signed.spec_version()) {
        return Err(invalid(
            role,
            format!(
                "unsupported spec_version {:?}, expected 1.x",
                signed.spec_version()
            ),
        ));
    }
    if signed.version() == 0 {
        return Err(invalid(role, "version must be at least 1"));
    }
    if time::parse_utc(signed.expires()).is_none() {
        return Err(invalid(
            role,
            format!(
                "expires {:?} is not of the form YYYY-MM-DDTHH:MM:SSZ",
                signed.expires()
            ),
        ));
    }
    signed.validate_role(role)
}

/// Whether a `spec_version` is one this client reads: `1.MINOR` or `1.MINOR.PATCH`.
pub fn spec_version_supported(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    (parts.len() == 2 || parts.len() == 3)
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0] == "1"
}

fn unique_keyids(role: &str, what: &str, keyids: &[String]) -> Result<(), MetadataError> {
    let mut seen = BTreeSet::new();
    for k in keyids {
        if !seen.insert(k) {
            return Err(invalid(role, format!("{what} lists keyid {k} twice")));
        }
    }
    Ok(())
}

fn check_threshold(role: &str, what: &str, threshold: u64) -> Result<(), MetadataError> {
    if threshold == 0 {
        return Err(invalid(role, format!("{what} has threshold 0")));
    }
    Ok(())
}

fn check_hashes(
    role: &str,
    what: &str,
    hashes: &BTreeMap<String, String>,
) -> Result<(), MetadataError> {
    if hashes.is_empty() {
        return Err(invalid(role, format!("{what} has an empty hashes object")));
    }
    Ok(())
}

impl Root {
    fn validate_fields(&self, role: &str) -> Result<(), MetadataError> {
        let names: BTreeSet<&str> = self.roles.keys().map(String::as_str).collect();
        let expected: BTreeSet<&str> = TOP_LEVEL_ROLES.into_iter().collect();
        if names != expected {
            return Err(invalid(
                role,
                format!("roles are {names:?}, expected exactly root, timestamp, snapshot, targets"),
            ));
        }
        for (name, r) in &self.roles {
            unique_keyids(role, &format!("role {name}"), &r.keyids)?;
            check_threshold(role, &format!("role {name}"), r.threshold)?;
        }
        Ok(())
    }

    /// Keys and threshold of a top-level role.
    pub fn role(&self, name: &str) -> Option<&RoleKeys> {
        self.roles.get(name)
    }

    /// `consistent_snapshot`, absent meaning false.
    pub fn consistent_snapshot(&self) -> bool {
        self.consistent_snapshot.unwrap_or(false)
    }
}

impl MetaFile {
    fn validate(&self, role: &str, name: &str) -> Result<(), MetadataError> {
        if self.version == 0 {
            return Err(invalid(role, format!("meta {name} has version 0")));
        }
        if let Some(h) = &self.hashes {
            check_hashes(role, &format!("meta {name}"), h)?;
        }
        Ok(())
    }

    /// A pin of version only.
    pub fn new(version: u64) -> Self {
        MetaFile {
            version,
            length: None,
            hashes: None,
            unknown_fields: BTreeMap::new(),
        }
    }
}

impl Timestamp {
    fn validate_fields(&self, role: &str) -> Result<(), MetadataError> {
        let snap = self
            .meta
            .get("snapshot.json")
            .ok_or_else(|| invalid(role, "meta has no snapshot.json"))?;
        snap.validate(role, "snapshot.json")
    }

    /// The pinned snapshot.
    pub fn snapshot_meta(&self) -> &MetaFile {
        // Present: checked when parsed.
        &self.meta["snapshot.json"]
    }
}

impl Snapshot {
    fn validate_fields(&self, role: &str) -> Result<(), MetadataError> {
        for (name, m) in &self.meta {
            m.validate(role, name)?;
        }
        Ok(())
    }
}

impl Targets {
    fn validate_fields(&self, role: &str) -> Result<(), MetadataError> {
        for (path, t) in &self.targets {
            check_hashes(role, &format!("target {path:?}"), &t.hashes)?;
        }
        if let Some(d) = &self.delegations {
            d.validate(role)?;
        }
        Ok(())
    }

    /// Empty targets metadata.
    pub fn new(version: u64, expires: i64) -> Self {
        Targets {
            type_: "targets".into(),
            spec_version: SPEC_VERSION.into(),
            version,
            expires: time::format_utc(expires),
            targets: BTreeMap::new(),
            delegations: None,
            unknown_fields: BTreeMap::new(),
        }
    }
}

impl Delegations {
    /// Delegations with no keys and an empty (ordered) list of roles.
    pub fn with_no_roles() -> Self {
        Delegations {
            keys: BTreeMap::new(),
            roles: Some(Vec::new()),
            succinct_roles: None,
            unknown_fields: BTreeMap::new(),
        }
    }

    fn validate(&self, role: &str) -> Result<(), MetadataError> {
        match (&self.roles, &self.succinct_roles) {
            (Some(roles), None) => {
                let mut names = BTreeSet::new();
                for r in roles {
                    if TOP_LEVEL_ROLES.contains(&r.name.as_str()) {
                        return Err(invalid(
                            role,
                            format!("delegates to a top-level role name {:?}", r.name),
                        ));
                    }
                    if !names.insert(r.name.as_str()) {
                        return Err(invalid(
                            role,
                            format!("delegates to role {:?} twice", r.name),
                        ));
                    }
                    let what = format!("delegated role {:?}", r.name);
                    unique_keyids(role, &what, &r.keyids)?;
                    check_threshold(role, &what, r.threshold)?;
                    if r.paths.is_some() == r.path_hash_prefixes.is_some() {
                        return Err(invalid(
                            role,
                            format!("{what} must have exactly one of paths and path_hash_prefixes"),
                        ));
                    }
                }
                Ok(())
            }
            (None, Some(s)) => {
                unique_keyids(role, "succinct_roles", &s.keyids)?;
                check_threshold(role, "succinct_roles", s.threshold)?;
                if !(1..=32).contains(&s.bit_length) {
                    return Err(invalid(
                        role,
                        format!("succinct_roles bit_length {} is not 1 to 32", s.bit_length),
                    ));
                }
                Ok(())
            }
            _ => Err(invalid(
                role,
                "delegations must have exactly one of roles and succinct_roles",
            )),
        }
    }

    /// Keys and threshold of the delegated role `name`, if delegated here.
    pub fn role_keys(&self, name: &str) -> Option<(&[String], u64)> {
        if let Some(roles) = &self.roles {
            return roles
                .iter()
                .find(|r| r.name == name)
                .map(|r| (r.keyids.as_slice(), r.threshold));
        }
        if let Some(s) = &self.succinct_roles {
            if s.is_role(name) {
                return Some((s.keyids.as_slice(), s.threshold));
            }
        }
        None
    }

    /// Delegated roles responsible for `target_path`, in order, with their
    /// `terminating` flag.
    pub fn roles_for_target(&self, target_path: &str) -> Vec<(String, bool)> {
        if let Some(roles) = &self.roles {
            return roles
                .iter()
                .filter(|r| r.is_delegated_path(target_path))
                .map(|r| (r.name.clone(), r.terminating))
                .collect();
        }
        if let Some(s) = &self.succinct_roles {
            return vec![(s.role_for_target(target_path), true)];
        }
        Vec::new()
    }
}

impl DelegatedRole {
    /// Whether this role is responsible for `target_path`.
    pub fn is_delegated_path(&self, target_path: &str) -> bool {
        if let Some(patterns) = &self.paths {
            return patterns.iter().any(|p| path_matches(p, target_path));
        }
        if let Some(prefixes) = &self.path_hash_prefixes {
            let h = crypto::sha256_hex(target_path.as_bytes());
            return prefixes.iter().any(|p| h.starts_with(p.as_str()));
        }
        false
    }
}

impl SuccinctRoles {
    /// Number of bins.
    pub fn bin_count(&self) -> u64 {
        1u64 << self.bit_length
    }

    fn suffix_len(&self) -> usize {
        // Hex digits to write the largest bin number.
        let max = self.bin_count() - 1;
        format!("{max:x}").len()
    }

    /// Name of bin `bin`.
    pub fn bin_name(&self, bin: u64) -> String {
        format!(
            "{}-{:0width$x}",
            self.name_prefix,
            bin,
            width = self.suffix_len()
        )
    }

    /// Name of the bin responsible for `target_path`.
    pub fn role_for_target(&self, target_path: &str) -> String {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(target_path.as_bytes());
        let first = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let bin = u64::from(first) >> (32 - self.bit_length);
        self.bin_name(bin)
    }

    /// Whether `name` is one of the bins.
    pub fn is_role(&self, name: &str) -> bool {
        let Some(suffix) = name
            .strip_prefix(self.name_prefix.as_str())
            .and_then(|s| s.strip_prefix('-'))
        else {
            return false;
        };
        if suffix.len() != self.suffix_len() || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        // Only lowercase, as bin_name writes.
        if suffix.bytes().any(|b| b.is_ascii_uppercase()) {
            return false;
        }
        u64::from_str_radix(suffix, 16).is_ok_and(|b| b < self.bin_count())
    }

    /// All bin names, in order.
    pub fn bin_names(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.bin_count()).map(|b| self.bin_name(b))
    }
}

/// Shell-style match of `pattern` against `path`, component by component:
/// both must have the same number of `/`-separated parts, and each part
/// matches with `*` (any run of characters), `?` (one character) and
/// `[...]`/`[!...]` classes. A wildcard therefore never matches `/`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = path.split('/').collect();
    pat.len() == parts.len()
        && pat.iter().zip(&parts).all(|(p, s)| {
            let p: Vec<char> = p.chars().collect();
            let s: Vec<char> = s.chars().collect();
            glob(&p, &s)
        })
}

fn glob(p: &[char], s: &[char]) -> bool {
    // Iterative matcher with single backtrack point for `*`.
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&p[pi..], s[si]) {
                        if matched {
                            pi += next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == '[' {
                        // An unclosed `[` is a literal.
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

// Matches a `[...]` class at the start of `p` against `c`; returns whether it
// matched and the class's length, or None if the class is not closed.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let end = p[i + 2];
            if ch <= c && c <= end {
                matched = true;
            }
            i += 3;
        } else {
            if ch == c {
                matched = true;
            }
            i += 1;
        }
    }
}

/// Parsed, not yet verified metadata: the typed `signed` part, its canonical
/// bytes (what signatures cover) and the signatures.
#[derive(Clone, Debug)]
pub struct Metadata<T> {
    /// The typed `signed` object.
    pub signed: T,
    /// The envelope's signatures.
    pub signatures: Vec<Signature>,
    canonical_signed: Vec<u8>,
}

#[derive(Deserialize)]
struct RawEnvelope {
    signatures: Vec<Signature>,
    signed: Value,
}

impl<T: Role> Metadata<T> {
    /// Parses metadata bytes for the role named `role` (used in errors).
    pub fn from_bytes(role: &str, bytes: &[u8]) -> Result<Self, MetadataError> {
        let json = |source| MetadataError::Json {
            role: role.to_string(),
            source,
        };
        let raw: RawEnvelope = serde_json::from_slice(bytes).map_err(json)?;
        // The specification requires unique keyids in `signatures`.
        let mut seen = BTreeSet::new();
        for s in &raw.signatures {
            if !seen.insert(s.keyid.as_str()) {
                return Err(invalid(
                    role,
                    format!("signatures list keyid {} more than once", s.keyid),
                ));
            }
        }
        let canonical_signed =
            canonical::to_canonical(&raw.signed).map_err(|source| MetadataError::Canonical {
                role: role.to_string(),
                source,
            })?;
        // Check `_type` first so a wrong role reads as such, not as a missing field.
        if let Some(found) = raw.signed.get("_type").and_then(Value::as_str) {
            if found != T::TYPE {
                return Err(MetadataError::WrongType {
                    role: role.to_string(),
                    expected: T::TYPE,
                    found: found.to_string(),
                });
            }
        }
        let signed: T = serde_path_to_error::deserialize(&raw.signed).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                // A field missing from `signed` itself: the message names it.
                json(e.into_inner())
            } else {
                MetadataError::Field {
                    role: role.to_string(),
                    path,
                    source: e.into_inner(),
                }
            }
        })?;
        validate_common(&signed, role)?;
        Ok(Metadata {
            signed,
            signatures: raw.signatures,
            canonical_signed,
        })
    }

    /// New unsigned metadata around `signed`.
    pub fn new(signed: T) -> Result<Self, MetadataError> {
        let value = serde_json::to_value(&signed).map_err(|source| MetadataError::Json {
            role: T::TYPE.to_string(),
            source,
        })?;
        let canonical_signed =
            canonical::to_canonical(&value).map_err(|source| MetadataError::Canonical {
                role: T::TYPE.to_string(),
                source,
            })?;
        validate_common(&signed, T::TYPE)?;
        Ok(Metadata {
            signed,
            signatures: Vec::new(),
            canonical_signed,
        })
    }

    /// The canonical bytes of `signed`: what every signature covers.
    pub fn canonical_signed(&self) -> &[u8] {
        &self.canonical_signed
    }

    /// Adds (or replaces) the signature of `signer` over the canonical form.
    pub fn sign(&mut self, signer: &dyn Signer) -> Result<(), KeyError> {
        let sig = hex::encode(signer.sign(&self.canonical_signed)?);
        self.signatures.retain(|s| s.keyid != signer.keyid());
        self.signatures.push(Signature {
            keyid: signer.keyid().to_string(),
            sig,
            unknown_fields: BTreeMap::new(),
        });
        Ok(())
    }

    /// Serializes to the bytes a repository publishes (pretty, sorted keys).
    pub fn to_bytes(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Out<'a, T> {
            signatures: &'a [Signature],
            signed: &'a T,
        }
        let mut v = serde_json::to_vec_pretty(&Out {
            signatures: &self.signatures,
            signed: &self.signed,
        })
        .expect("metadata always serializes");
        v.push(b'\n');
        v
    }

    /// Counts the distinct keyids of `keyids` with a valid signature using
    /// `keys`. Each keyid counts once, whatever the number of its signatures.
    pub fn count_valid_signatures(&self, keys: &BTreeMap<String, Key>, keyids: &[String]) -> u64 {
        self.signature_report(keys, keyids).valid.len() as u64
    }

    /// Which of `keyids` signed validly, which signed badly, which did not sign.
    pub fn signature_report(
        &self,
        keys: &BTreeMap<String, Key>,
        keyids: &[String],
    ) -> SignatureReport {
        let mut report = SignatureReport::default();
        let mut seen = BTreeSet::new();
        // A key counts once toward a threshold, whatever keyids name it.
        let mut counted_keys: BTreeSet<(String, String, String)> = BTreeSet::new();
        for keyid in keyids {
            if !seen.insert(keyid) {
                continue;
            }
            let sigs: Vec<&Signature> = self
                .signatures
                .iter()
                .filter(|s| &s.keyid == keyid)
                .collect();
            if sigs.is_empty() {
                report.missing.push(keyid.clone());
                continue;
            }
            let ok = keys
                .get(keyid)
                .and_then(|k| k.decode().ok())
                .is_some_and(|pk| {
                    sigs.iter()
                        .any(|s| pk.verify(&self.canonical_signed, &s.sig).is_ok())
                });
            let material = keys.get(keyid).map(|k| {
                (
                    k.keytype.clone(),
                    k.scheme.clone(),
                    k.keyval.public.trim().to_ascii_lowercase(),
                )
            });
            if ok && !material.is_some_and(|m| counted_keys.insert(m)) {
                report.same_key.push(keyid.clone());
            } else if ok {
                report.valid.push(keyid.clone());
            } else {
                report.invalid.push(keyid.clone());
            }
        }
        let allowed: BTreeSet<&String> = keyids.iter().collect();
        report.untrusted = self
            .signatures
            .iter()
            .filter(|s| !allowed.contains(&s.keyid))
            .map(|s| s.keyid.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        report
    }
}

/// Who signed a metadata file, as seen by one role definition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureReport {
    /// Authorized keyids whose signature verifies.
    pub valid: Vec<String>,
    /// Authorized keyids with a signature that does not verify.
    pub invalid: Vec<String>,
    /// Authorized keyids that did not sign.
    pub missing: Vec<String>,
    /// keyids that signed but are not authorized for the role.
    pub untrusted: Vec<String>,
    /// Authorized keyids whose valid signature is not counted because the
    /// same public key already counted under another keyid.
    pub same_key: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        assert!(path_matches("*", "foo"));
        assert!(!path_matches("*", "foo/bar"));
        assert!(path_matches("*/*", "foo/bar"));
        assert!(path_matches("foo/*.tgz", "foo/a.tgz"));
        assert!(!path_matches("foo/*.tgz", "foo/a.tar"));
        assert!(path_matches("f?o/*", "fxo/bar"));
        assert!(path_matches("[a-c]x", "bx"));
        assert!(!path_matches("[!a-c]x", "bx"));
        assert!(path_matches("a*b*c", "aXXbYYc"));
        assert!(!path_matches("a*b*c", "aXXbYY"));
        assert!(path_matches("", ""));
        assert!(path_matches("[", "["));
        assert!(path_matches("targets/*/file", "targets/x/file"));
    }

    #[test]
    fn succinct_names() {
        let s = SuccinctRoles {
            keyids: vec![],
            threshold: 1,
            bit_length: 8,
            name_prefix: "bin".into(),
            unknown_fields: BTreeMap::new(),
        };
        assert_eq!(s.bin_name(0), "bin-00");
        assert_eq!(s.bin_name(255), "bin-ff");
        assert!(s.is_role("bin-0a"));
        assert!(!s.is_role("bin-0A"));
        assert!(!s.is_role("bin-100"));
        assert!(!s.is_role("bin-a"));
        let s = SuccinctRoles { bit_length: 1, ..s };
        assert_eq!(s.bin_names().collect::<Vec<_>>(), ["bin-0", "bin-1"]);
        let s = SuccinctRoles {
            bit_length: 13,
            ..s
        };
        assert_eq!(s.bin_name(0x1fff), "bin-1fff");
    }

    #[test]
    fn spec_versions() {
        for v in ["1.0", "1.0.0", "1.0.31", "1.2"] {
            assert!(spec_version_supported(v), "{v}");
        }
        for v in ["2.0.0", "1", "1.0.0.0", "1.x", "", "1..0", "v1.0"] {
            assert!(!spec_version_supported(v), "{v}");
        }
    }
}
