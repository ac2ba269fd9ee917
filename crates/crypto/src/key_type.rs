//! borg's key types (`src/borg/crypto/key.py`, `AVAILABLE_KEY_TYPES`).

use std::fmt;
use std::str::FromStr;

use crate::error::{CryptoError, Result};

/// Where a key type keeps its passphrase-protected key blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyStorage {
    /// No blob (plaintext, legacy passphrase).
    None,
    /// A keyfile on the client (`~/.config/borg/keys/...`).
    Keyfile,
    /// The `key` value of the repository's `config` file.
    Repository,
}

/// One of borg's eight key types; the discriminant is the envelope type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum KeyType {
    /// `0x00` `keyfile`: AES-256-CTR + HMAC-SHA256, key in a keyfile.
    Keyfile = 0x00,
    /// `0x01` legacy `passphrase` mode (borg < 1.0). Only ever seen as the
    /// type byte of objects in a repokey repository migrated from it.
    LegacyPassphrase = 0x01,
    /// `0x02` `none`: no encryption, no MAC, SHA-256 ids.
    Plaintext = 0x02,
    /// `0x03` `repokey`: AES-256-CTR + HMAC-SHA256, key in the repository.
    Repokey = 0x03,
    /// `0x04` `keyfile-blake2`: AES-256-CTR + BLAKE2b-256, key in a keyfile.
    Blake2Keyfile = 0x04,
    /// `0x05` `repokey-blake2`: AES-256-CTR + BLAKE2b-256, key in the repository.
    Blake2Repokey = 0x05,
    /// `0x06` `authenticated-blake2`: no encryption, BLAKE2b-256 ids.
    Blake2Authenticated = 0x06,
    /// `0x07` `authenticated`: no encryption, HMAC-SHA256 ids.
    Authenticated = 0x07,
}

impl KeyType {
    /// All eight types, in type-byte order.
    pub const ALL: [KeyType; 8] = [
        KeyType::Keyfile,
        KeyType::LegacyPassphrase,
        KeyType::Plaintext,
        KeyType::Repokey,
        KeyType::Blake2Keyfile,
        KeyType::Blake2Repokey,
        KeyType::Blake2Authenticated,
        KeyType::Authenticated,
    ];

    /// The seven types `borg init --encryption` can create, in borg's
    /// `AVAILABLE_KEY_TYPES` order.
    pub const CREATABLE: [KeyType; 7] = [
        KeyType::Plaintext,
        KeyType::Keyfile,
        KeyType::Repokey,
        KeyType::Authenticated,
        KeyType::Blake2Keyfile,
        KeyType::Blake2Repokey,
        KeyType::Blake2Authenticated,
    ];

    /// The type byte (`key.TYPE`).
    pub fn type_byte(self) -> u8 {
        self as u8
    }

    /// The key type with this exact type byte.
    pub fn from_byte(byte: u8) -> Result<KeyType> {
        KeyType::ALL
            .iter()
            .copied()
            .find(|k| k.type_byte() == byte)
            .ok_or(CryptoError::UnsupportedPayload(byte))
    }

    /// The key type to use for a repository whose manifest envelope starts
    /// with `byte` (borg's `identify_key`): like [`KeyType::from_byte`], but
    /// the legacy passphrase byte `0x01` means [`KeyType::Repokey`].
    pub fn identify(byte: u8) -> Result<KeyType> {
        match KeyType::from_byte(byte)? {
            KeyType::LegacyPassphrase => Ok(KeyType::Repokey),
            k => Ok(k),
        }
    }

    /// The `--encryption` argument (`key.ARG_NAME`); `None` for the legacy
    /// passphrase mode, which cannot be created.
    pub fn arg_name(self) -> Option<&'static str> {
        Some(match self {
            KeyType::Keyfile => "keyfile",
            KeyType::LegacyPassphrase => return None,
            KeyType::Plaintext => "none",
            KeyType::Repokey => "repokey",
            KeyType::Blake2Keyfile => "keyfile-blake2",
            KeyType::Blake2Repokey => "repokey-blake2",
            KeyType::Blake2Authenticated => "authenticated-blake2",
            KeyType::Authenticated => "authenticated",
        })
    }

    /// borg's human readable `key.NAME` (used e.g. by `borg info` and in
    /// `export-related-secrets`).
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Keyfile => "key file",
            KeyType::LegacyPassphrase => "passphrase",
            KeyType::Plaintext => "plaintext",
            KeyType::Repokey => "repokey",
            KeyType::Blake2Keyfile => "key file BLAKE2b",
            KeyType::Blake2Repokey => "repokey BLAKE2b",
            KeyType::Blake2Authenticated => "authenticated BLAKE2b",
            KeyType::Authenticated => "authenticated",
        }
    }

    /// Whether objects are encrypted (AES-256-CTR envelope with MAC).
    pub fn is_encrypted(self) -> bool {
        matches!(
            self,
            KeyType::Keyfile
                | KeyType::LegacyPassphrase
                | KeyType::Repokey
                | KeyType::Blake2Keyfile
                | KeyType::Blake2Repokey
        )
    }

    /// Whether ids (and MACs) use borg's BLAKE2b-256 construction instead of
    /// HMAC-SHA256.
    pub fn is_blake2(self) -> bool {
        matches!(
            self,
            KeyType::Blake2Keyfile | KeyType::Blake2Repokey | KeyType::Blake2Authenticated
        )
    }

    /// Whether this type has secret key material (everything but `none`).
    pub fn has_key_material(self) -> bool {
        self != KeyType::Plaintext
    }

    /// Where the key blob lives (`key.STORAGE`).
    pub fn storage(self) -> KeyStorage {
        match self {
            KeyType::Plaintext | KeyType::LegacyPassphrase => KeyStorage::None,
            KeyType::Keyfile | KeyType::Blake2Keyfile => KeyStorage::Keyfile,
            KeyType::Repokey
            | KeyType::Blake2Repokey
            | KeyType::Blake2Authenticated
            | KeyType::Authenticated => KeyStorage::Repository,
        }
    }

    /// Whether an object envelope starting with `byte` may be decrypted by a
    /// key of this type: the exact type byte, and for `repokey` and
    /// `repokey-blake2` (subclasses of borg's `RepoKey`) also `0x01`.
    pub fn accepts_envelope_byte(self, byte: u8) -> bool {
        byte == self.type_byte()
            || (byte == KeyType::LegacyPassphrase.type_byte()
                && matches!(self, KeyType::Repokey | KeyType::Blake2Repokey))
    }

    /// Whether `self` and `other` compute ids the same way (borg's
    /// `uses_same_id_hash`: the HMAC-SHA256 trio vs. the BLAKE2b trio).
    /// Plaintext and the legacy mode match nothing.
    pub fn uses_same_id_hash(self, other: KeyType) -> bool {
        let hmac = |k: KeyType| {
            matches!(
                k,
                KeyType::Repokey | KeyType::Keyfile | KeyType::Authenticated
            )
        };
        (hmac(self) && hmac(other)) || (self.is_blake2() && other.is_blake2())
    }

    /// The key type whose `NAME` is `name` (e.g. from an
    /// `export-related-secrets` file).
    pub fn from_name(name: &str) -> Option<KeyType> {
        KeyType::ALL.iter().copied().find(|k| k.name() == name)
    }
}

impl FromStr for KeyType {
    type Err = CryptoError;

    /// Parse an `--encryption` argument (`none`, `repokey`, ...).
    fn from_str(s: &str) -> Result<KeyType> {
        KeyType::ALL
            .iter()
            .copied()
            .find(|k| k.arg_name() == Some(s))
            .ok_or_else(|| CryptoError::InvalidKeyTypeName(s.to_string()))
    }
}

impl fmt::Display for KeyType {
    /// borg's `NAME`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        for k in KeyType::ALL {
            assert_eq!(KeyType::from_byte(k.type_byte()).unwrap(), k);
        }
        assert!(matches!(
            KeyType::from_byte(8),
            Err(CryptoError::UnsupportedPayload(8))
        ));
        assert_eq!(KeyType::identify(1).unwrap(), KeyType::Repokey);
        assert_eq!(KeyType::identify(5).unwrap(), KeyType::Blake2Repokey);
    }

    #[test]
    fn cli_names() {
        let names: Vec<_> = KeyType::CREATABLE
            .iter()
            .map(|k| k.arg_name().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "none",
                "keyfile",
                "repokey",
                "authenticated",
                "keyfile-blake2",
                "repokey-blake2",
                "authenticated-blake2"
            ]
        );
        for k in KeyType::CREATABLE {
            assert_eq!(k.arg_name().unwrap().parse::<KeyType>().unwrap(), k);
        }
        assert!("passphrase".parse::<KeyType>().is_err());
        assert!("".parse::<KeyType>().is_err());
        assert_eq!(KeyType::LegacyPassphrase.arg_name(), None);
    }

    #[test]
    fn properties() {
        use KeyType::*;
        let enc: Vec<_> = KeyType::ALL
            .iter()
            .filter(|k| k.is_encrypted())
            .copied()
            .collect();
        assert_eq!(
            enc,
            [
                Keyfile,
                LegacyPassphrase,
                Repokey,
                Blake2Keyfile,
                Blake2Repokey
            ]
        );
        assert!(Blake2Authenticated.is_blake2() && !Authenticated.is_blake2());
        assert_eq!(Authenticated.storage(), KeyStorage::Repository);
        assert_eq!(Blake2Keyfile.storage(), KeyStorage::Keyfile);
        assert_eq!(Plaintext.storage(), KeyStorage::None);
        assert!(Repokey.accepts_envelope_byte(1));
        assert!(Blake2Repokey.accepts_envelope_byte(1));
        assert!(!Keyfile.accepts_envelope_byte(1));
        assert!(!Authenticated.accepts_envelope_byte(1));
        assert!(Repokey.uses_same_id_hash(Authenticated));
        assert!(Blake2Keyfile.uses_same_id_hash(Blake2Authenticated));
        assert!(!Repokey.uses_same_id_hash(Blake2Repokey));
        assert!(!Plaintext.uses_same_id_hash(Plaintext));
        assert_eq!(KeyType::from_name("key file BLAKE2b"), Some(Blake2Keyfile));
        assert_eq!(Repokey.to_string(), "repokey");
    }
}
