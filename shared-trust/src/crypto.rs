//! Keys, signatures and hashes.
//!
//! Public keys come as TUF key objects (`keytype`, `scheme`, `keyval.public`).
//! Supported, as securesystemslib writes them:
//!
//! | keytype | scheme | `keyval.public` | signature |
//! | --- | --- | --- | --- |
//! | `ed25519` | `ed25519` | 32 bytes, hex | 64 bytes, hex |
//! | `ecdsa` or `ecdsa-sha2-nistp256` | `ecdsa-sha2-nistp256` | PEM SubjectPublicKeyInfo | DER, hex |
//! | `rsa` | `rsassa-pss-sha256` | PEM SubjectPublicKeyInfo | raw, hex |
//!
//! A key of any other type parses (metadata may list keys a client does not
//! understand) but never verifies a signature. keyids are opaque: a client
//! never recomputes them; [`Key::keyid`] is only how *our* repository side
//! names new keys.

use crate::canonical;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};
use std::collections::BTreeMap;

/// A public key as it appears in root or delegating targets metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// Key type, e.g. `ed25519`.
    pub keytype: String,
    /// Signature scheme, e.g. `ed25519`.
    pub scheme: String,
    /// Key value; `public` holds the public key.
    pub keyval: KeyVal,
    /// Fields this implementation does not know, kept for re-serialization.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// The `keyval` object of a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyVal {
    /// The public key, encoded as its key type requires.
    pub public: String,
    /// Fields this implementation does not know.
    #[serde(flatten)]
    pub unknown_fields: BTreeMap<String, Value>,
}

/// Why a key or a signature could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The key type / scheme pair is not one this implementation verifies.
    #[error("unsupported key type {keytype:?} with scheme {scheme:?}")]
    Unsupported {
        /// The key's `keytype`.
        keytype: String,
        /// The key's `scheme`.
        scheme: String,
    },
    /// The public key does not decode.
    #[error("malformed {keytype} public key: {reason}")]
    MalformedKey {
        /// The key's `keytype`.
        keytype: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The signature does not decode (bad hex, bad length, bad DER).
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// The signature is well formed but does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A decoded public key, ready to verify.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA over NIST P-256 with SHA-256, DER signatures.
    EcdsaP256(p256::ecdsa::VerifyingKey),
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256.
    RsaPss(Box<rsa::RsaPublicKey>),
}

impl Key {
    /// A new ed25519 key object from raw public key bytes.
    pub fn ed25519(public: &[u8; 32]) -> Key {
        Key {
            keytype: "ed25519".into(),
            scheme: "ed25519".into(),
            keyval: KeyVal {
                public: hex::encode(public),
                unknown_fields: BTreeMap::new(),
            },
            unknown_fields: BTreeMap::new(),
        }
    }

    /// The keyid securesystemslib would compute: SHA-256 of the canonical
    /// key object, hex. Used to name new keys; never used to check one.
    pub fn keyid(&self) -> String {
        let value = serde_json::to_value(self).expect("a key always serializes");
        let bytes = canonical::to_canonical(&value).expect("a key holds no floats");
        hex::encode(Sha256::digest(bytes))
    }

    /// Decodes the public key.
    pub fn decode(&self) -> Result<PublicKey, KeyError> {
        let malformed = |reason: String| KeyError::MalformedKey {
            keytype: self.keytype.clone(),
            reason,
        };
        match (self.keytype.as_str(), self.scheme.as_str()) {
            ("ed25519", "ed25519") => {
                let raw = hex::decode(&self.keyval.public).map_err(|e| malformed(e.to_string()))?;
                let raw: [u8; 32] = raw
                    .try_into()
                    .map_err(|v: Vec<u8>| malformed(format!("{} bytes, expected 32", v.len())))?;
                ed25519_dalek::VerifyingKey::from_bytes(&raw)
                    .map(PublicKey::Ed25519)
                    .map_err(|e| malformed(e.to_string()))
            }
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                use p256::pkcs8::DecodePublicKey;
                p256::ecdsa::VerifyingKey::from_public_key_pem(self.keyval.public.trim())
                    .map(PublicKey::EcdsaP256)
                    .map_err(|e| malformed(e.to_string()))
            }
            ("rsa", "rsassa-pss-sha256") => {
                use rsa::pkcs8::DecodePublicKey;
                rsa::RsaPublicKey::from_public_key_pem(self.keyval.public.trim())
                    .map(|k| PublicKey::RsaPss(Box::new(k)))
                    .map_err(|e| malformed(e.to_string()))
            }
            _ => Err(KeyError::Unsupported {
                keytype: self.keytype.clone(),
                scheme: self.scheme.clone(),
            }),
        }
    }

    /// Checks `sig_hex` over `msg` with this key.
    pub fn verify(&self, msg: &[u8], sig_hex: &str) -> Result<(), KeyError> {
        self.decode()?.verify(msg, sig_hex)
    }
}

impl PublicKey {
    /// Checks a hex-encoded signature over `msg`.
    pub fn verify(&self, msg: &[u8], sig_hex: &str) -> Result<(), KeyError> {
        let sig = hex::decode(sig_hex).map_err(|e| KeyError::MalformedSignature(e.to_string()))?;
        match self {
            PublicKey::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(&sig)
                    .map_err(|e| KeyError::MalformedSignature(e.to_string()))?;
                key.verify_strict(msg, &sig)
                    .map_err(|_| KeyError::BadSignature)
            }
            PublicKey::EcdsaP256(key) => {
                use p256::ecdsa::signature::Verifier;
                let sig = p256::ecdsa::DerSignature::from_bytes(&sig)
                    .map_err(|e| KeyError::MalformedSignature(e.to_string()))?;
                key.verify(msg, &sig).map_err(|_| KeyError::BadSignature)
            }
            PublicKey::RsaPss(key) => {
                let digest = Sha256::digest(msg);
                // securesystemslib signs with a salt as long as the digest;
                // older signers used the longest salt that fits. Accept both.
                let max_salt = key_bytes(key).saturating_sub(32 + 2);
                for salt in [32, max_salt] {
                    let scheme = rsa::Pss::new_with_salt::<Sha256>(salt);
                    if key.verify(scheme, &digest, &sig).is_ok() {
                        return Ok(());
                    }
                }
                Err(KeyError::BadSignature)
            }
        }
    }
}

fn key_bytes(key: &rsa::RsaPublicKey) -> usize {
    use rsa::traits::PublicKeyParts;
    key.size()
}

/// Verifies many ed25519 signatures at once (all must be valid). Faster per
/// signature than one by one; on failure, check one by one to find the bad one.
pub fn ed25519_verify_batch(
    messages: &[&[u8]],
    signatures: &[ed25519_dalek::Signature],
    keys: &[ed25519_dalek::VerifyingKey],
) -> Result<(), KeyError> {
    ed25519_dalek::verify_batch(messages, signatures, keys).map_err(|_| KeyError::BadSignature)
}

/// Something that can sign metadata: a private key, or a holder's device.
pub trait Signer {
    /// The public key object to list in delegating metadata.
    fn public_key(&self) -> &Key;
    /// The keyid this signer signs as.
    fn keyid(&self) -> &str;
    /// Signs `msg`, returning raw signature bytes.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError>;
}

/// An ed25519 private key.
pub struct Ed25519Signer {
    key: Key,
    keyid: String,
    signing: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

impl Ed25519Signer {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let signing = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        Self::from_signing_key(signing)
    }

    /// A key from its 32-byte seed (deterministic; for fixtures and tests).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_signing_key(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, to store in a private key file.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    fn from_signing_key(signing: ed25519_dalek::SigningKey) -> Self {
        let key = Key::ed25519(signing.verifying_key().as_bytes());
        let keyid = key.keyid();
        Self {
            key,
            keyid,
            signing,
        }
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> &Key {
        &self.key
    }
    fn keyid(&self) -> &str {
        &self.keyid
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        use ed25519_dalek::Signer as _;
        Ok(self.signing.sign(msg).to_bytes().to_vec())
    }
}

/// An ECDSA P-256 private key (signatures in DER, as securesystemslib).
pub struct EcdsaP256Signer {
    key: Key,
    keyid: String,
    signing: p256::ecdsa::SigningKey,
}

impl std::fmt::Debug for EcdsaP256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdsaP256Signer")
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

impl EcdsaP256Signer {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        use p256::pkcs8::{EncodePublicKey, LineEnding};
        let signing = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let pem = signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("a P-256 key always encodes");
        let key = Key {
            keytype: "ecdsa".into(),
            scheme: "ecdsa-sha2-nistp256".into(),
            keyval: KeyVal {
                public: pem,
                unknown_fields: BTreeMap::new(),
            },
            unknown_fields: BTreeMap::new(),
        };
        let keyid = key.keyid();
        Self {
            key,
            keyid,
            signing,
        }
    }
}

impl Signer for EcdsaP256Signer {
    fn public_key(&self) -> &Key {
        &self.key
    }
    fn keyid(&self) -> &str {
        &self.keyid
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::Signature = self.signing.sign(msg);
        Ok(sig.to_der().as_bytes().to_vec())
    }
}

/// Hash algorithms a target or metadata file may be pinned with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Looks up an algorithm by its TUF name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Hashes `data`, returning lowercase hex.
    pub fn hex_digest(self, data: &[u8]) -> String {
        match self {
            Self::Sha256 => hex::encode(Sha256::digest(data)),
            Self::Sha512 => hex::encode(Sha512::digest(data)),
        }
    }
}

/// SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    HashAlgorithm::Sha256.hex_digest(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_sign_verify() {
        let s = Ed25519Signer::from_seed(&[7; 32]);
        let sig = hex::encode(s.sign(b"hello").unwrap());
        s.public_key().verify(b"hello", &sig).unwrap();
        assert_eq!(
            s.public_key().verify(b"hellO", &sig),
            Err(KeyError::BadSignature)
        );
        assert!(matches!(
            s.public_key().verify(b"hello", "zz"),
            Err(KeyError::MalformedSignature(_))
        ));
    }

    #[test]
    fn ecdsa_sign_verify() {
        let s = EcdsaP256Signer::generate();
        let sig = hex::encode(s.sign(b"msg").unwrap());
        s.public_key().verify(b"msg", &sig).unwrap();
        assert_eq!(
            s.public_key().verify(b"msh", &sig),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn unknown_key_type_never_verifies() {
        let mut k = Ed25519Signer::from_seed(&[1; 32]).public_key().clone();
        k.keytype = "mystery".into();
        assert!(matches!(
            k.verify(b"x", "00"),
            Err(KeyError::Unsupported { .. })
        ));
    }

    #[test]
    fn keyid_is_sha256_of_canonical_key() {
        let k = Key::ed25519(&[0; 32]);
        let canon = format!(
            "{{\"keytype\":\"ed25519\",\"keyval\":{{\"public\":\"{}\"}},\"scheme\":\"ed25519\"}}",
            "00".repeat(32)
        );
        assert_eq!(k.keyid(), sha256_hex(canon.as_bytes()));
    }
}
