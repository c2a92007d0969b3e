//! How the index commitment is bound into TUF, and where a registry serves
//! the signed files.
//!
//! The crates repository is a TUF repository: top-level `targets` (offline
//! key) delegates the role [`INDEX_ROLE`] (online key) for the single path
//! [`COMMITMENT_TARGET`]. That target's `custom` field carries the
//! [`IndexCommitment`]; its `length` and `sha256` are those of the
//! commitment's canonical JSON, so the target is self-describing and never
//! downloaded (a client recomputes and compares).
//!
//! Layout, relative to the registry's index URL (sparse) or the top of the
//! index repository (git):
//!
//! | path | what |
//! | --- | --- |
//! | `tuf/metadata/` | the crates repository's TUF metadata |
//! | `tuf/tree/HH/REST` | immutable tree objects, named by SHA-256 |
//! | `tuf/root-repository/metadata/` | the root repository's metadata (a copy) |
//! | `tuf/root-repository/targets/` | its targets, among them `crates-repository/root.json` |

use serde::{Deserialize, Serialize};
use shared_trust::canonical;
use shared_trust::crypto::sha256_hex;
use shared_trust::index::{self, Commitment, Hash};
use shared_trust::metadata::TargetFile;
use std::collections::BTreeMap;

/// The crates repository's metadata, relative to the registry.
pub const METADATA_DIR: &str = "tuf/metadata";
/// Tree objects, relative to the registry.
pub const TREE_DIR: &str = "tuf/tree";
/// The root repository's copy, relative to the registry.
pub const ROOT_REPOSITORY_DIR: &str = "tuf/root-repository";
/// The online role that signs the commitment.
pub const INDEX_ROLE: &str = "index";
/// The target path of the commitment.
pub const COMMITMENT_TARGET: &str = "index/commitment";
/// Key of the commitment inside the target's `custom` object.
const CUSTOM_KEY: &str = "index";

/// Why a commitment target is not acceptable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BindingError {
    /// `custom.index` is missing or malformed.
    #[error("target {COMMITMENT_TARGET}: custom.index is missing or malformed: {0}")]
    Malformed(String),
    /// The length or sha256 listed does not match the commitment.
    #[error(
        "target {COMMITMENT_TARGET}: listed {what} {listed} does not match the commitment's {computed}"
    )]
    Inconsistent {
        /// `length` or `sha256`.
        what: &'static str,
        /// What the target lists.
        listed: String,
        /// What the commitment gives.
        computed: String,
    },
}

/// What the `index` role signs: the tree head and a publish counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexCommitment {
    /// Root object hash, hex.
    pub root: String,
    /// Tree depth.
    pub depth: u8,
    /// Number of crate files.
    pub files: u64,
    /// Increases by one with every publish.
    pub generation: u64,
}

impl IndexCommitment {
    /// From a tree commitment and a generation.
    pub fn new(c: &Commitment, generation: u64) -> Self {
        IndexCommitment {
            root: c.root.clone(),
            depth: c.depth,
            files: c.files,
            generation,
        }
    }

    /// The tree part.
    pub fn tree(&self) -> Commitment {
        Commitment {
            root: self.root.clone(),
            depth: self.depth,
            files: self.files,
        }
    }

    /// The root hash, decoded.
    pub fn root_hash(&self) -> Option<Hash> {
        self.tree().root_hash()
    }

    fn canonical_bytes(&self) -> Vec<u8> {
        // A struct of strings and integers always has a canonical form.
        let value = serde_json::to_value(self).unwrap_or_default();
        canonical::to_canonical(&value).unwrap_or_default()
    }

    /// The target entry that carries this commitment.
    pub fn to_target(&self) -> TargetFile {
        let bytes = self.canonical_bytes();
        let mut custom = serde_json::Map::new();
        custom.insert(
            CUSTOM_KEY.to_string(),
            serde_json::to_value(self).unwrap_or_default(),
        );
        TargetFile {
            length: bytes.len() as u64,
            hashes: [("sha256".to_string(), sha256_hex(&bytes))].into(),
            custom: Some(serde_json::Value::Object(custom)),
            unknown_fields: BTreeMap::new(),
        }
    }

    /// Reads and checks the commitment a verified target entry carries.
    pub fn from_target(info: &TargetFile) -> Result<Self, BindingError> {
        let value = info
            .custom
            .as_ref()
            .and_then(|c| c.get(CUSTOM_KEY))
            .ok_or_else(|| BindingError::Malformed("absent".into()))?;
        let c: IndexCommitment = serde_json::from_value(value.clone())
            .map_err(|e| BindingError::Malformed(e.to_string()))?;
        if c.root_hash().is_none() {
            return Err(BindingError::Malformed(format!(
                "root {:?} is not 64 hex digits",
                c.root
            )));
        }
        if c.depth == 0 || c.depth > index::MAX_DEPTH {
            return Err(BindingError::Malformed(format!(
                "depth {} is not 1 to {}",
                c.depth,
                index::MAX_DEPTH
            )));
        }
        let bytes = c.canonical_bytes();
        if info.length != bytes.len() as u64 {
            return Err(BindingError::Inconsistent {
                what: "length",
                listed: info.length.to_string(),
                computed: bytes.len().to_string(),
            });
        }
        let computed = sha256_hex(&bytes);
        match info.hashes.get("sha256") {
            Some(h) if *h == computed => Ok(c),
            listed => Err(BindingError::Inconsistent {
                what: "sha256",
                listed: listed.cloned().unwrap_or_else(|| "nothing".into()),
                computed,
            }),
        }
    }
}

/// `base` with a trailing slash and no `sparse+` prefix.
pub fn base_url(base: &str) -> String {
    let b = base.strip_prefix("sparse+").unwrap_or(base);
    if b.ends_with('/') {
        b.to_string()
    } else {
        format!("{b}/")
    }
}

/// The crates repository's metadata URL under a registry or mirror URL.
pub fn metadata_url(base: &str) -> String {
    format!("{}{METADATA_DIR}/", base_url(base))
}

/// The root repository's metadata URL under a registry or mirror URL.
pub fn root_repository_metadata_url(base: &str) -> String {
    format!("{}{ROOT_REPOSITORY_DIR}/metadata/", base_url(base))
}

/// The root repository's targets URL under a registry or mirror URL.
pub fn root_repository_targets_url(base: &str) -> String {
    format!("{}{ROOT_REPOSITORY_DIR}/targets/", base_url(base))
}

/// The URL of a tree object under a registry or mirror URL.
pub fn object_url(base: &str, hash: &Hash) -> String {
    format!("{}{TREE_DIR}/{}", base_url(base), index::object_path(hash))
}

/// The URL of a crate file under a sparse registry or mirror URL.
pub fn crate_file_url(base: &str, index_path: &str) -> String {
    format!("{}{index_path}", base_url(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> IndexCommitment {
        IndexCommitment {
            root: "ab".repeat(32),
            depth: 4,
            files: 31_839,
            generation: 7,
        }
    }

    #[test]
    fn target_round_trip() {
        let c = sample();
        let t = c.to_target();
        assert_eq!(IndexCommitment::from_target(&t), Ok(c));
    }

    #[test]
    fn custom_that_disagrees_with_hashes_is_refused() {
        let mut t = sample().to_target();
        let mut other = sample();
        other.generation = 8;
        t.custom = other.to_target().custom;
        let e = IndexCommitment::from_target(&t).unwrap_err();
        assert!(
            matches!(e, BindingError::Inconsistent { what: "sha256", .. }),
            "{e}"
        );
    }

    #[test]
    fn malformed_custom_is_refused() {
        let mut t = sample().to_target();
        t.custom = Some(
            serde_json::json!({"index": {"root": "zz", "depth": 4, "files": 1, "generation": 1}}),
        );
        assert!(matches!(
            IndexCommitment::from_target(&t),
            Err(BindingError::Malformed(_))
        ));
        t.custom = Some(serde_json::json!({"other": 1}));
        assert!(matches!(
            IndexCommitment::from_target(&t),
            Err(BindingError::Malformed(_))
        ));
        t.custom = None;
        assert!(matches!(
            IndexCommitment::from_target(&t),
            Err(BindingError::Malformed(_))
        ));
        let mut deep = sample();
        deep.depth = 9;
        let t = deep.to_target();
        assert!(matches!(
            IndexCommitment::from_target(&t),
            Err(BindingError::Malformed(_))
        ));
    }

    #[test]
    fn urls() {
        assert_eq!(
            metadata_url("sparse+http://127.0.0.1:8080/index"),
            "http://127.0.0.1:8080/index/tuf/metadata/"
        );
        assert_eq!(
            crate_file_url("http://h/", "se/rd/serde"),
            "http://h/se/rd/serde"
        );
        let h = [0x12u8; 32];
        assert_eq!(
            object_url("http://h", &h),
            format!("http://h/tuf/tree/12/{}", "12".repeat(31))
        );
        assert_eq!(
            root_repository_targets_url("http://h/"),
            "http://h/tuf/root-repository/targets/"
        );
    }
}
