//! Private key files for key holders and signing services.
//!
//! A key file is JSON holding one ed25519 private key:
//!
//! ```json
//! {"kind": "tuf-private-key", "keytype": "ed25519", "scheme": "ed25519",
//!  "public": "<64 hex>", "seed": "<64 hex>"}
//! ```
//!
//! It is created with mode 0600 (owner read/write only, and never through
//! an existing file), and refused on load if group or others can read or
//! write it, or if its seed does not produce its public key. The private
//! part is never printed: [`KeyFileError`] messages name the file and the
//! problem only. The public half is exported as a TUF key object
//! ([`crate::crypto::Key`]) for root or delegating metadata.

use crate::crypto::{Ed25519Signer, Key, Signer};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const KIND: &str = "tuf-private-key";

/// Why a key file could not be written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Reading or writing failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Group or others may access the file.
    #[error("key file {path} has open permissions {mode:04o}; a private key must be readable by its owner only (chmod 600 {path})")]
    OpenPermissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The content is not a key file of a supported kind.
    #[error("key file {path} is not a valid private key file: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong (never includes key material).
        reason: String,
    },
    /// The file exists already.
    #[error("key file {path} already exists; refusing to overwrite a private key")]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

#[derive(Serialize, Deserialize)]
struct KeyFileJson {
    kind: String,
    keytype: String,
    scheme: String,
    public: String,
    seed: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `signer`'s private key to a new file at `path`, mode 0600.
pub fn write_private_key(path: &Path, signer: &Ed25519Signer) -> Result<(), KeyFileError> {
    let json = KeyFileJson {
        kind: KIND.into(),
        keytype: "ed25519".into(),
        scheme: "ed25519".into(),
        public: signer.public_key().keyval.public.clone(),
        seed: hex::encode(signer.seed()),
    };
    let mut bytes = serde_json::to_vec_pretty(&json).expect("key file serializes");
    bytes.push(b'\n');
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyFileError::Exists {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io(path)(e)),
    };
    f.write_all(&bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))?;
    Ok(())
}

/// Loads a private key file, checking its permissions and consistency.
pub fn read_private_key(path: &Path) -> Result<Ed25519Signer, KeyFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::OpenPermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let bytes = std::fs::read(path).map_err(io(path))?;
    let corrupt = |reason: &str| KeyFileError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let json: KeyFileJson = serde_json::from_slice(&bytes)
        .map_err(|_| corrupt("not JSON with kind, keytype, scheme, public and seed"))?;
    if json.kind != KIND {
        return Err(corrupt("kind is not tuf-private-key"));
    }
    if json.keytype != "ed25519" || json.scheme != "ed25519" {
        return Err(corrupt("only ed25519 keys are supported"));
    }
    let seed: [u8; 32] = hex::decode(&json.seed)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| corrupt("seed is not 32 bytes of hex"))?;
    let signer = Ed25519Signer::from_seed(&seed);
    if signer.public_key().keyval.public != json.public.to_ascii_lowercase() {
        return Err(corrupt("the seed does not match the public key"));
    }
    Ok(signer)
}

/// Writes the public key object (a TUF key, with its keyid) as JSON.
pub fn public_key_json(key: &Key) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(&serde_json::json!({
        "keyid": key.keyid(),
        "key": key,
    }))
    .expect("key serializes");
    v.push(b'\n');
    v
}

/// Reads a public key file written by [`public_key_json`]: the keyid and key.
pub fn read_public_key(path: &Path) -> Result<(String, Key), KeyFileError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    #[derive(Deserialize)]
    struct PubJson {
        keyid: String,
        key: Key,
    }
    let p: PubJson = serde_json::from_slice(&bytes).map_err(|e| KeyFileError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("not a public key file ({{\"keyid\", \"key\"}}): {e}"),
    })?;
    if p.key.decode().is_err() {
        return Err(KeyFileError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "key type {}/{} does not decode",
                p.key.keytype, p.key.scheme
            ),
        });
    }
    Ok((p.keyid, p.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k.json");
        let s = Ed25519Signer::generate();
        write_private_key(&p, &s).unwrap();
        assert!(matches!(
            write_private_key(&p, &s),
            Err(KeyFileError::Exists { .. })
        ));
        let back = read_private_key(&p).unwrap();
        assert_eq!(back.keyid(), s.keyid());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read_private_key(&p).unwrap_err();
            assert!(matches!(
                e,
                KeyFileError::OpenPermissions { mode: 0o644, .. }
            ));
            assert!(e.to_string().contains("chmod 600"));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }

        // Corrupt: a different public key.
        let text = std::fs::read_to_string(&p).unwrap();
        let other = Ed25519Signer::generate().public_key().keyval.public.clone();
        let bad = text.replace(&s.public_key().keyval.public, &other);
        std::fs::write(&p, bad).unwrap();
        let e = read_private_key(&p).unwrap_err();
        assert!(matches!(e, KeyFileError::Corrupt { .. }));
        assert!(!e.to_string().contains(&hex::encode(s.seed())));
    }

    #[test]
    fn public_key_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k.pub.json");
        let s = Ed25519Signer::generate();
        std::fs::write(&p, public_key_json(s.public_key())).unwrap();
        let (id, key) = read_public_key(&p).unwrap();
        assert_eq!(id, s.keyid());
        assert_eq!(&key, s.public_key());
    }
}
