//! Creating, storing and loading keys, as borg's key classes do: repokeys
//! in the repository config, keyfiles in the keys directory (or
//! `BORG_KEY_FILE`), the empty passphrase tried first, then the environment,
//! then up to three prompts.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use oxiborg_crypto::{
    find_keyfile, format_keyfile, keyfile_sanity_check, new_keyfile_path, parse_keyfile,
    CryptoError, Key, KeyMaterial, KeyStorage, KeyType,
};
use oxiborg_repository::Repository;

use crate::dirs::BorgDirs;
use crate::error::{CoreError, Result};
use crate::passphrase::PassphraseSource;

/// Where a new key was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// No key (mode `none`).
    None,
    /// In the repository config.
    Repository,
    /// In this keyfile.
    Keyfile(PathBuf),
}

/// Generate a key of `mode` for `repo` and store it, asking `pass` for the
/// new passphrase. `location_path` and `host` name a new keyfile as borg's
/// `Location.to_key_filename` does.
pub fn create_key(
    repo: &mut dyn Repository,
    mode: KeyType,
    dirs: &BorgDirs,
    pass: &mut dyn PassphraseSource,
    location_path: &str,
    host: Option<&str>,
) -> Result<(Key, KeyLocation)> {
    let key = Key::generate(mode, repo.id())?;
    let Some(material) = key.material() else {
        return Ok((key, KeyLocation::None));
    };
    let passphrase = pass.new_passphrase()?;
    let blob_text = material.to_key_blob_text(&passphrase)?;
    match mode.storage() {
        KeyStorage::Keyfile => {
            let path = match &dirs.key_file {
                Some(p) if p.exists() => return Err(CoreError::KeyfileExists(p.clone())),
                Some(p) => p.clone(),
                None => {
                    create_private_dir(&dirs.keys_dir)?;
                    new_keyfile_path(&dirs.keys_dir, location_path, host)
                }
            };
            write_new_file(&path, format_keyfile(&repo.id(), &blob_text).as_bytes())?;
            Ok((key, KeyLocation::Keyfile(path)))
        }
        _ => {
            repo.save_key(blob_text.as_bytes())?;
            Ok((key, KeyLocation::Repository))
        }
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| CoreError::io(dir, e))
}

fn write_new_file(path: &Path, data: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(data)?;
        f.sync_all()
    })()
    .map_err(|e| CoreError::io(path, e))
}

/// borg's `KeyfileKey.find_key`: `BORG_KEY_FILE` when set, else the file in
/// the keys directory whose header names `id`. `location` (the canonical
/// repository location) is what borg's `KeyfileNotFoundError` names.
pub(crate) fn find_keyfile_for(dirs: &BorgDirs, id: &[u8; 32], location: &str) -> Result<PathBuf> {
    let not_found = || {
        CoreError::Crypto(CryptoError::KeyfileNotFound {
            repository: location.to_string(),
            keys_dir: dirs.keys_dir.clone(),
        })
    };
    match &dirs.key_file {
        Some(p) => {
            let contents = fs::read(p).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => not_found(),
                _ => CoreError::io(p, e),
            })?;
            keyfile_sanity_check(&contents, id, p)?;
            Ok(p.clone())
        }
        None => find_keyfile(&dirs.keys_dir, id).map_err(|e| match e {
            CryptoError::KeyfileNotFound { .. } => not_found(),
            e => e.into(),
        }),
    }
}

/// The key blob text of `repo`, from its config or its keyfile (borg's
/// `KeyManager.load_keyblob`: for keyfiles everything after the first line).
pub(crate) fn key_blob_text(
    repo: &mut dyn Repository,
    key_type: KeyType,
    dirs: &BorgDirs,
    location: &str,
) -> Result<String> {
    match key_type.storage() {
        KeyStorage::Keyfile => {
            let id = repo.id();
            let path = find_keyfile_for(dirs, &id, location)?;
            let contents = fs::read(&path).map_err(|e| CoreError::io(&path, e))?;
            keyfile_sanity_check(&contents, &id, &path)?;
            Ok(parse_keyfile(&contents)?.blob_text)
        }
        _ => {
            let text = repo.load_key()?;
            if text.is_empty() {
                return Err(CoreError::RepoKeyNotFound(PathBuf::from(location)));
            }
            Ok(String::from_utf8_lossy(&text).into_owned())
        }
    }
}

/// Load the key of `repo`, whose manifest envelope starts with
/// `type_byte`. `tam_required_fallback` is used for old key blobs without
/// the flag (the security directory's `tam_required` file).
pub fn load_key(
    repo: &mut dyn Repository,
    type_byte: u8,
    dirs: &BorgDirs,
    pass: &mut dyn PassphraseSource,
    location: &str,
    tam_required_fallback: bool,
) -> Result<Key> {
    let key_type = KeyType::identify(type_byte)?;
    if !key_type.has_key_material() {
        return Ok(Key::plaintext());
    }
    let text = key_blob_text(repo, key_type, dirs, location)?;
    let try_pass = |p: &str| match KeyMaterial::from_key_blob_text(&text, p, tam_required_fallback)
    {
        Ok(m) => Ok(Some(m)),
        Err(CryptoError::WrongPassphrase) => Ok(None),
        Err(e) => Err(CoreError::from(e)),
    };
    let material = if let Some(p) = pass.env_passphrase()? {
        try_pass(&p)?.ok_or(CoreError::Crypto(CryptoError::WrongPassphrase))?
    } else if let Some(m) = try_pass("")? {
        m
    } else {
        let prompt = match key_type.storage() {
            KeyStorage::Keyfile => "Enter passphrase for key file: ".to_string(),
            _ => format!("Enter passphrase for key {location}: "),
        };
        let mut found = None;
        for _ in 0..3 {
            if let Some(m) = try_pass(&pass.prompt(&prompt)?)? {
                found = Some(m);
                break;
            }
        }
        found.ok_or(CoreError::PasswordRetriesExceeded)?
    };
    Ok(Key::new(key_type, material)?)
}
