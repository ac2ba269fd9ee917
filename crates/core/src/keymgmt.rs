//! Key management as borg's `KeyManager` and key commands do it: exporting
//! the stored key blob (plain keyfile text, paper key, QR/HTML page),
//! importing it back, changing its passphrase and migrating a legacy
//! passphrase-mode repository to repokey mode.
//!
//! Nothing here reads the terminal: the interactive paper import lives in
//! the CLI, which uses [`paper_id_checksum`] and [`paper_line_checksum`].

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use oxiborg_crypto::primitives::sha256;
use oxiborg_crypto::{
    encode_key_blob_text, find_keyfile, format_keyfile, new_keyfile_path, CryptoError, Key,
    KeyMaterial, KeyStorage, KeyType, KEYFILE_ID,
};
use oxiborg_repository::Repository;

use crate::dirs::BorgDirs;
use crate::error::{CoreError, Result};
use crate::keys::{create_private_dir, find_keyfile_for, key_blob_text};
use crate::manifest::read_manifest_envelope;
use crate::passphrase::PassphraseSource;

/// Where a key blob lives, resolved for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyTarget {
    /// In the repository config; the canonical repository location.
    Repository(String),
    /// In this keyfile.
    Keyfile(PathBuf),
}

impl std::fmt::Display for KeyTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyTarget::Repository(loc) => f.write_str(loc),
            KeyTarget::Keyfile(p) => write!(f, "{}", p.display()),
        }
    }
}

/// `KeyManager.__init__`: the key storage of `repo`, from the type byte of
/// its manifest. `NoManifest` without a manifest, `UnencryptedRepo` for
/// mode `none`.
pub fn key_storage(repo: &mut dyn Repository) -> Result<(KeyType, KeyStorage)> {
    let envelope = read_manifest_envelope(repo)?;
    let byte = *envelope.first().ok_or(CoreError::NoManifest)?;
    let key_type = KeyType::identify(byte)?;
    match key_type.storage() {
        KeyStorage::None => Err(CoreError::UnencryptedRepo),
        s => Ok((key_type, s)),
    }
}

/// `KeyManager.load_keyblob`: the stored key blob text (for keyfiles,
/// everything after the header line).
pub fn load_keyblob(
    repo: &mut dyn Repository,
    key_type: KeyType,
    dirs: &BorgDirs,
    location: &str,
) -> Result<String> {
    key_blob_text(repo, key_type, dirs, location)
}

/// `KeyManager.get_keyfile_data`: `BORG_KEY <id>\n` and the blob, ending
/// in a newline (the plain `key export` format).
pub fn keyfile_data(repository_id: &[u8; 32], keyblob: &str) -> String {
    format_keyfile(repository_id, keyblob)
}

/// The `--qr-html` page: a self-contained printable HTML page holding the
/// plain export (`BORG_KEY ...`, as `key import` reads it back) in a
/// `<textarea>` and the same text as a QR code (inline SVG). borg's page
/// generates its QR code with JavaScript from the same text; oxiborg's
/// needs no script. Both carry exactly the plain export.
pub fn qr_html(repository_id: &[u8; 32], keyblob: &str) -> Vec<u8> {
    let data = keyfile_data(repository_id, keyblob);
    let qr = [qrcode::EcLevel::M, qrcode::EcLevel::L]
        .into_iter()
        .find_map(|ec| qrcode::QrCode::with_error_correction_level(data.as_bytes(), ec).ok())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(400, 400)
                .quiet_zone(true)
                .build()
        });
    let escaped = data
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let rows = data.lines().count() + 1;
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<title>BorgBackup Printable Key Backup</title>\n");
    page.push_str(
        "<style>body{font-family:sans-serif;margin:2em}textarea{font-family:monospace;\
         width:100%}@media print{textarea{border:none;overflow:hidden}}</style>\n",
    );
    page.push_str("</head>\n<body>\n<h1>BorgBackup Printable Key Backup</h1>\n");
    page.push_str(
        "<p>To restore the key, save the text below to a file and run \
         <code>borg key import REPOSITORY FILE</code>, or scan the QR code into that file.</p>\n",
    );
    page.push_str(&format!(
        "<textarea rows=\"{rows}\" readonly>{escaped}</textarea>\n"
    ));
    match qr {
        Some(svg) => {
            page.push_str("<div class=\"qr\">\n");
            page.push_str(&svg);
            page.push_str("\n</div>\n");
        }
        None => page.push_str("<p>The key is too long for a QR code.</p>\n"),
    }
    page.push_str("</body>\n</html>\n");
    page.into_bytes()
}

/// borg's `sha256_truncated`: the first `n` hex digits of SHA-256.
fn sha256_truncated(data: &[u8], n: usize) -> String {
    let mut h = hex::encode(sha256(data));
    h.truncate(n);
    h
}

/// The checksum of a paper key's `id:` line over its `data` part
/// (`lines/repoid/checksum`, spaces removed, lower-cased).
pub fn paper_id_checksum(data: &str) -> String {
    sha256_truncated(data.to_lowercase().as_bytes(), 2)
}

/// The checksum of paper key line `idx` holding `part`.
pub fn paper_line_checksum(idx: u16, part: &[u8]) -> String {
    let mut buf = idx.to_be_bytes().to_vec();
    buf.extend_from_slice(part);
    sha256_truncated(&buf, 2)
}

/// The checksum over all key bytes (the `id:` line's third field).
pub fn paper_total_checksum(binary: &[u8]) -> String {
    sha256_truncated(binary, 12)
}

/// The paper-key id: the first 18 hex digits of the repository id.
pub fn paper_repo_id(repository_id: &[u8; 32]) -> String {
    hex::encode(repository_id)[..18].to_string()
}

/// Groups of six characters separated by spaces (`grouped` in borg).
fn grouped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 6);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && i % 6 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `KeyManager.export_paperkey`: the `--paper` text.
pub fn paper_key(repository_id: &[u8; 32], keyblob: &str) -> Result<String> {
    let binary = oxiborg_crypto::keyblob::a2b_base64(keyblob)?;
    let mut out = String::from("To restore key use borg key import --paper /path/to/repo\n\n");
    out.push_str("BORG PAPER KEY v1\n");
    let lines = binary.len().div_ceil(18);
    let repoid = paper_repo_id(repository_id);
    let total = paper_total_checksum(&binary);
    let id_sum = sha256_truncated(format!("{lines}/{repoid}/{total}").as_bytes(), 2);
    out.push_str(&format!(
        "id: {lines} / {} / {} - {id_sum}\n",
        grouped(&repoid),
        grouped(&total)
    ));
    for (i, chunk) in binary.chunks(18).enumerate() {
        // borg's `idx.to_bytes(2)` overflows (an error) past 65535 lines;
        // key blobs have about 25.
        let idx = u16::try_from(i + 1).map_err(|_| {
            CoreError::InvalidInput("key blob too long for a paper key".to_string())
        })?;
        out.push_str(&format!(
            "{idx:2}: {} - {}\n",
            grouped(&hex::encode(chunk)),
            paper_line_checksum(idx, chunk)
        ));
    }
    Ok(out)
}

/// The key blob text a paper import stores: base64 wrapped at 70 columns
/// plus a newline (borg's `textwrap.wrap(b2a_base64(...))`).
pub fn keyblob_from_binary(binary: &[u8]) -> String {
    let mut s = encode_key_blob_text(binary);
    s.push('\n');
    s
}

/// `KeyManager.import_keyfile`: check the backup's first line against this
/// repository (`NotABorgKeyFile`, `RepoIdMismatch`) and return the key blob
/// that follows it, verbatim (borg does not validate it).
pub fn keyblob_from_backup(repository_id: &[u8; 32], contents: &[u8]) -> Result<String> {
    // Python's text mode: UTF-8 with universal newlines.
    let text = String::from_utf8_lossy(contents)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let first_line = format!("{KEYFILE_ID} {}\n", hex::encode(repository_id));
    let split = text
        .char_indices()
        .nth(first_line.chars().count())
        .map_or(text.len(), |(i, _)| i);
    let (head, rest) = text.split_at(split);
    if head != first_line {
        return Err(if head.starts_with(KEYFILE_ID) {
            CoreError::RepoIdMismatch
        } else {
            CoreError::NotABorgKeyFile
        });
    }
    Ok(rest.to_string())
}

/// `KeyManager.store_keyblob`: write an imported key blob where borg would:
/// for keyfile modes `BORG_KEY_FILE`, else the existing keyfile of this
/// repository, else a new file in the keys directory named after
/// `location_path` (the repository path as given, normalised); for repokey
/// modes the repository config. Returns where it went.
pub fn store_keyblob(
    repo: &mut dyn Repository,
    storage: KeyStorage,
    dirs: &BorgDirs,
    keyblob: &str,
    (location_path, host): (&str, Option<&str>),
    canonical_location: &str,
) -> Result<KeyTarget> {
    match storage {
        KeyStorage::Keyfile => {
            let id = repo.id();
            let target = match &dirs.key_file {
                Some(p) => p.clone(),
                None => {
                    create_private_dir(&dirs.keys_dir)?;
                    match find_keyfile(&dirs.keys_dir, &id) {
                        Ok(p) => p,
                        Err(CryptoError::KeyfileNotFound { .. }) => {
                            new_keyfile_path(&dirs.keys_dir, location_path, host)
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let data = keyfile_data(&id, keyblob);
            (|| {
                let mut f = fs::File::create(&target)?;
                f.write_all(data.as_bytes())?;
                f.sync_all()
            })()
            .map_err(|e| CoreError::io(&target, e))?;
            Ok(KeyTarget::Keyfile(target))
        }
        _ => {
            repo.save_key(keyblob.as_bytes())?;
            Ok(KeyTarget::Repository(canonical_location.to_string()))
        }
    }
}

/// borg's `find_key` for a loaded key: the keyfile in use, or the
/// repository (named by its canonical location).
pub fn key_target(
    repo: &mut dyn Repository,
    key_type: KeyType,
    dirs: &BorgDirs,
    canonical_location: &str,
) -> Result<KeyTarget> {
    match key_type.storage() {
        KeyStorage::Keyfile => Ok(KeyTarget::Keyfile(find_keyfile_for(
            dirs,
            &repo.id(),
            canonical_location,
        )?)),
        KeyStorage::Repository => {
            if repo.load_key()?.is_empty() {
                return Err(CoreError::RepoKeyNotFound(PathBuf::from(
                    canonical_location,
                )));
            }
            Ok(KeyTarget::Repository(canonical_location.to_string()))
        }
        KeyStorage::None => Err(CoreError::UnencryptedRepo),
    }
}

/// Save `material` protected by `passphrase` at `target`, as borg's
/// `KeyfileKey.save` (an atomically replaced keyfile) or `RepoKey.save`
/// (the repository config) do: a fresh salt and borg's PBKDF2 parameters.
pub fn save_key(
    repo: &mut dyn Repository,
    material: &KeyMaterial,
    target: &KeyTarget,
    passphrase: &str,
) -> Result<()> {
    let text = material.to_key_blob_text(passphrase)?;
    match target {
        KeyTarget::Repository(_) => Ok(repo.save_key(text.as_bytes())?),
        KeyTarget::Keyfile(path) => {
            let data = format_keyfile(&material.repository_id, &text);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = path.with_file_name(format!("{name}.oxiborg-tmp"));
            (|| {
                let mut f = fs::File::create(&tmp)?;
                f.write_all(data.as_bytes())?;
                f.sync_all()?;
                fs::rename(&tmp, path)
            })()
            .map_err(|e| {
                let _ = fs::remove_file(&tmp);
                CoreError::io(path, e)
            })
        }
    }
}

/// `key change-passphrase` after the key was loaded: ask `pass` for the new
/// passphrase and re-save the key where it was found. Returns that place.
pub fn change_passphrase(
    repo: &mut dyn Repository,
    key: &Key,
    dirs: &BorgDirs,
    canonical_location: &str,
    pass: &mut dyn PassphraseSource,
) -> Result<KeyTarget> {
    let material = key.material().ok_or(CoreError::UnencryptedRepo)?;
    let target = key_target(repo, key.key_type(), dirs, canonical_location)?;
    let passphrase = pass.new_passphrase()?;
    save_key(repo, material, &target, &passphrase)?;
    Ok(target)
}

/// `key migrate-to-repokey`: derive the secrets of a legacy passphrase-mode
/// repository from its passphrase (borg's `PassphraseKey.detect`: the
/// environment's or a prompted passphrase, then prompts, two tries in
/// all), and store them as a repokey protected by a new passphrase.
pub fn migrate_to_repokey(
    repo: &mut dyn Repository,
    canonical_location: &str,
    pass: &mut dyn PassphraseSource,
) -> Result<()> {
    // borg reads the manifest directly here: a missing one is `ObjectNotFound`.
    let envelope = repo.get(&oxiborg_format::MANIFEST_ID)?;
    let prompt = format!("Enter passphrase for {canonical_location}: ");
    let mut passphrase = match pass.env_passphrase()? {
        Some(p) => p,
        None => pass.prompt(&prompt)?,
    };
    let id = repo.id();
    let mut found = None;
    for _ in 0..2 {
        let material = KeyMaterial::from_legacy_passphrase(&passphrase, id);
        // borg's RepoKey-style decrypt accepts the 0x01 envelope type.
        let key = Key::new(KeyType::Repokey, material.clone())?;
        if key.decrypt(None, &envelope).is_ok() {
            found = Some(material);
            break;
        }
        passphrase = pass.prompt(&prompt)?;
    }
    let mut material = found.ok_or(CoreError::PasswordRetriesExceeded)?;
    // A fresh `RepoKey` requires the manifest TAM.
    material.tam_required = true;
    let new = pass.new_passphrase()?;
    save_key(
        repo,
        &material,
        &KeyTarget::Repository(canonical_location.to_string()),
        &new,
    )
}

/// `key export-related-secrets`: borg's JSON (`json.dump(indent=4)` and a
/// newline).
pub fn related_secrets_json(key: &Key) -> Result<String> {
    let m = key.material().ok_or(CoreError::UnencryptedRepo)?;
    Ok(format!(
        "{{\n    \"version\": 1,\n    \"id_key\": \"{}\",\n    \"chunk_seed\": {},\n    \"key_name\": \"{}\"\n}}\n",
        hex::encode(&m.id_key),
        m.chunk_seed,
        key.key_type().name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_like_borg() {
        assert_eq!(grouped("51d7c0cb9effdeef18"), "51d7c0 cb9eff deef18");
        assert_eq!(grouped("abcdefg"), "abcdef g");
        assert_eq!(grouped(""), "");
    }

    #[test]
    fn paper_checksums_match_a_borg_export() {
        // From `borg key export --paper` of a borg 1.4.5 repository.
        assert_eq!(
            paper_id_checksum("20/51d7c0cb9effdeef18/b5049b975c89"),
            "e9"
        );
        let line1 = hex::decode("86a9616c676f726974686da6736861323536").unwrap();
        assert_eq!(paper_line_checksum(1, &line1), "14");
        let last = hex::decode("858ba776657273696f6e01").unwrap();
        assert_eq!(paper_line_checksum(20, &last), "50");
    }

    #[test]
    fn backup_first_line_checks() {
        let id = [0xabu8; 32];
        let good = format!("BORG_KEY {}\nAAAA\nBBBB\n", hex::encode(id));
        assert_eq!(
            keyblob_from_backup(&id, good.as_bytes()).unwrap(),
            "AAAA\nBBBB\n"
        );
        let crlf = good.replace('\n', "\r\n");
        assert_eq!(
            keyblob_from_backup(&id, crlf.as_bytes()).unwrap(),
            "AAAA\nBBBB\n"
        );
        let other = format!("BORG_KEY {}\nAAAA\n", hex::encode([1u8; 32]));
        assert!(matches!(
            keyblob_from_backup(&id, other.as_bytes()),
            Err(CoreError::RepoIdMismatch)
        ));
        assert!(matches!(
            keyblob_from_backup(&id, b"hello\n"),
            Err(CoreError::NotABorgKeyFile)
        ));
        assert!(matches!(
            keyblob_from_backup(&id, b""),
            Err(CoreError::NotABorgKeyFile)
        ));
    }

    #[test]
    fn qr_page_holds_the_key_once_and_a_qr_code() {
        let id = [7u8; 32];
        let page = qr_html(&id, "QUJD");
        let text = String::from_utf8(page).unwrap();
        let want = format!("BORG_KEY {}\nQUJD\n</textarea>", hex::encode(id));
        assert_eq!(text.matches(&want).count(), 1);
        assert_eq!(text.matches("<svg").count(), 1, "{text}");
        // A realistic key blob (about 1 kB) still fits a QR code.
        let page = String::from_utf8(qr_html(&id, &"QUJD".repeat(250))).unwrap();
        assert!(page.contains("<svg"));
    }

    #[test]
    fn legacy_passphrase_secrets_are_pbkdf2_of_the_repo_id() {
        let id = [3u8; 32];
        let m = KeyMaterial::from_legacy_passphrase("pw", id);
        let mut want = [0u8; 100];
        oxiborg_crypto::primitives::pbkdf2_sha256_into(b"pw", &id, 100_000, &mut want);
        assert_eq!(&m.enc_key[..], &want[..32]);
        assert_eq!(&m.id_key[..], &want[64..96]);
        assert_eq!(
            m.chunk_seed,
            i32::from_be_bytes([want[96], want[97], want[98], want[99]])
        );
        assert!(!m.tam_required);
    }
}
