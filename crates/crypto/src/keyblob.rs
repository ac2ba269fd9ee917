//! Key blobs (§2.2–2.5): the inner `Key` msgpack, the PBKDF2 passphrase
//! wrapper (`EncryptedKey`), the base64 text form and keyfiles.

use std::path::{Path, PathBuf};

use aes::cipher::{KeyIvInit, StreamCipher};
use oxiborg_msgpack::{decode_one, decode_stream_item, encode, MapBuilder, Value};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CryptoError, Result};
use crate::key::KeyMaterial;
use crate::primitives::{hmac_sha256, pbkdf2_sha256, random_array, Aes256Ctr};

/// borg's `PBKDF2_ITERATIONS` for new key blobs.
pub const PBKDF2_ITERATIONS: u32 = 100_000;

/// First word of a keyfile (`KeyfileKey.FILE_ID`), for all keyfile types.
pub const KEYFILE_ID: &str = "BORG_KEY";

/// Decoded key blobs shorter than this are rejected (borg's `_load` check).
pub const MIN_KEY_BLOB_LEN: usize = 20;

fn field<'a>(map: &'a Value, name: &str) -> Result<&'a Value> {
    map.get(name)
        .ok_or_else(|| CryptoError::keyfile_invalid(format!("key data lacks field '{name}'")))
}

fn raw_field<'a>(map: &'a Value, name: &str) -> Result<&'a [u8]> {
    field(map, name)?
        .as_raw()
        .ok_or_else(|| CryptoError::keyfile_invalid(format!("key field '{name}' is not bytes")))
}

fn int_field(map: &Value, name: &str) -> Result<i128> {
    match field(map, name)? {
        Value::Int(i) => Ok(*i),
        _ => Err(CryptoError::keyfile_invalid(format!(
            "key field '{name}' is not an integer"
        ))),
    }
}

fn array32(b: &[u8], name: &str) -> Result<[u8; 32]> {
    b.try_into().map_err(|_| {
        CryptoError::keyfile_invalid(format!("key field '{name}' has {} bytes, not 32", b.len()))
    })
}

/// Overwrite every byte string inside a decoded value (used to wipe the
/// decoded inner key after copying what we need).
fn wipe_value(v: &mut Value) {
    match v {
        Value::Raw(b) => b.zeroize(),
        Value::Array(a) => a.iter_mut().for_each(wipe_value),
        Value::Map(m) => m.iter_mut().for_each(|(k, v)| {
            wipe_value(k);
            wipe_value(v)
        }),
        _ => {}
    }
}

impl KeyMaterial {
    /// The decrypted inner key blob (borg's `Key`, packed with sorted keys):
    /// `chunk_seed`, `enc_hmac_key`, `enc_key`, `id_key`, `repository_id`,
    /// `tam_required`, `version` = 1.
    pub fn to_msgpack(&self) -> Zeroizing<Vec<u8>> {
        let mut map = MapBuilder::new()
            .insert("version", 1u32)
            .insert("repository_id", &self.repository_id[..])
            .insert("enc_key", &self.enc_key[..])
            .insert("enc_hmac_key", &self.enc_hmac_key[..])
            .insert("id_key", &self.id_key[..])
            .insert("chunk_seed", self.chunk_seed)
            .insert("tam_required", self.tam_required)
            .build();
        let out = Zeroizing::new(encode(&map));
        wipe_value(&mut map);
        out
    }

    /// Parse a decrypted inner key blob (`KeyfileKeyBase._load`).
    ///
    /// `tam_required_fallback` is used when the blob has no `tam_required`
    /// field (very old keys); borg uses whether `<security dir>/tam_required`
    /// exists. Unknown fields are ignored.
    pub fn from_msgpack(data: &[u8], tam_required_fallback: bool) -> Result<KeyMaterial> {
        let mut map = decode_one(data)
            .map_err(|e| CryptoError::keyfile_invalid(format!("inner key: {e}")))?;
        let r = Self::from_value(&map, tam_required_fallback);
        wipe_value(&mut map);
        r
    }

    fn from_value(map: &Value, tam_required_fallback: bool) -> Result<KeyMaterial> {
        if map.as_map().is_none() {
            return Err(CryptoError::keyfile_invalid("inner key is not a map"));
        }
        let version = int_field(map, "version")?;
        if version != 1 {
            return Err(CryptoError::UnsupportedKeyVersion(version));
        }
        let chunk_seed = int_field(map, "chunk_seed")?;
        let chunk_seed = i32::try_from(chunk_seed).map_err(|_| {
            CryptoError::keyfile_invalid(format!("chunk_seed {chunk_seed} is not a 32-bit int"))
        })?;
        let tam_required = match map.get("tam_required") {
            None => tam_required_fallback,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| CryptoError::keyfile_invalid("tam_required is not a bool"))?,
        };
        Ok(KeyMaterial {
            enc_key: array32(raw_field(map, "enc_key")?, "enc_key")?,
            enc_hmac_key: raw_field(map, "enc_hmac_key")?.to_vec(),
            id_key: raw_field(map, "id_key")?.to_vec(),
            chunk_seed,
            repository_id: array32(raw_field(map, "repository_id")?, "repository_id")?,
            tam_required,
        })
    }

    /// The full key blob text for `passphrase` (inner key, passphrase
    /// wrapper with a fresh salt and 100 000 iterations, base64 wrapped at
    /// 70 columns), as stored in a keyfile or the repo config.
    pub fn to_key_blob_text(&self, passphrase: &str) -> Result<String> {
        let packed = seal_key_blob(&self.to_msgpack(), passphrase)?;
        Ok(encode_key_blob_text(&packed))
    }

    /// Decode and decrypt a key blob text (keyfile body or repo config
    /// `key` value). See [`open_key_blob`] and [`KeyMaterial::from_msgpack`].
    pub fn from_key_blob_text(
        text: &str,
        passphrase: &str,
        tam_required_fallback: bool,
    ) -> Result<KeyMaterial> {
        let packed = decode_key_blob_text(text)?;
        let inner = open_key_blob(&packed, passphrase)?;
        KeyMaterial::from_msgpack(&inner, tam_required_fallback)
    }
}

/// Wrap the inner key with `passphrase` (`encrypt_key_file`) using a random
/// 32-byte salt and [`PBKDF2_ITERATIONS`]; returns the packed `EncryptedKey`.
pub fn seal_key_blob(inner: &[u8], passphrase: &str) -> Result<Vec<u8>> {
    let salt = random_array::<32>()?;
    Ok(seal_key_blob_with(
        inner,
        passphrase,
        &salt,
        PBKDF2_ITERATIONS,
    ))
}

/// [`seal_key_blob`] with a given salt and iteration count (`iterations`
/// must be at least 1; 0 is treated as 1).
///
/// `KEK = PBKDF2-HMAC-SHA256(passphrase, salt, iterations, 32)`,
/// `hash = HMAC-SHA256(KEK, inner)`, `data = AES-256-CTR(KEK, iv 0, inner)`,
/// packed as the sorted map `{algorithm: "sha256", data, hash, iterations,
/// salt, version: 1}`.
pub fn seal_key_blob_with(inner: &[u8], passphrase: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    let iterations = iterations.max(1);
    let kek = pbkdf2_sha256(passphrase.as_bytes(), salt, iterations);
    let hash = hmac_sha256(kek.as_ref(), inner);
    let mut data = inner.to_vec();
    Aes256Ctr::new(kek.as_ref().into(), &[0u8; 16].into()).apply_keystream(&mut data);
    let map = MapBuilder::new()
        .insert("version", 1u32)
        .insert("salt", salt)
        .insert("iterations", iterations)
        .insert("algorithm", "sha256")
        .insert("hash", &hash[..])
        .insert("data", data)
        .build();
    encode(&map)
}

/// Unwrap a packed `EncryptedKey` with `passphrase` (`decrypt_key_file`),
/// using the stored salt and iteration count. Returns the inner key msgpack.
///
/// Errors: [`CryptoError::UnsupportedEncryptedKeyVersion`],
/// [`CryptoError::UnsupportedKeyAlgorithm`], [`CryptoError::KeyfileInvalid`]
/// for malformed data, [`CryptoError::WrongPassphrase`] when the HMAC over the
/// decrypted key does not match.
pub fn open_key_blob(packed: &[u8], passphrase: &str) -> Result<Zeroizing<Vec<u8>>> {
    // borg reads the first msgpack object and ignores anything after it.
    let (map, _) = decode_stream_item(packed)
        .map_err(|e| CryptoError::keyfile_invalid(format!("encrypted key: {e}")))?;
    if map.as_map().is_none() {
        return Err(CryptoError::keyfile_invalid("encrypted key is not a map"));
    }
    let version = int_field(&map, "version")?;
    if version != 1 {
        return Err(CryptoError::UnsupportedEncryptedKeyVersion(version));
    }
    let algorithm = raw_field(&map, "algorithm")?;
    if algorithm != b"sha256" {
        return Err(CryptoError::UnsupportedKeyAlgorithm(
            String::from_utf8_lossy(algorithm).into_owned(),
        ));
    }
    let salt = raw_field(&map, "salt")?;
    let iterations = int_field(&map, "iterations")?;
    let iterations = u32::try_from(iterations)
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| {
            CryptoError::keyfile_invalid(format!("invalid PBKDF2 iteration count {iterations}"))
        })?;
    let hash = raw_field(&map, "hash")?;
    let data = raw_field(&map, "data")?;
    let kek = pbkdf2_sha256(passphrase.as_bytes(), salt, iterations);
    let mut inner = Zeroizing::new(data.to_vec());
    Aes256Ctr::new(kek.as_ref().into(), &[0u8; 16].into()).apply_keystream(&mut inner);
    if bool::from(hmac_sha256(kek.as_ref(), &inner).ct_eq(hash)) {
        Ok(inner)
    } else {
        Err(CryptoError::WrongPassphrase)
    }
}

/// base64 of the packed blob, wrapped at 70 characters, lines joined with
/// `\n`, no trailing newline (`KeyfileKeyBase._save`).
pub fn encode_key_blob_text(packed: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(packed);
    let mut out = String::with_capacity(b64.len() + b64.len() / 70 + 1);
    for (i, chunk) in b64.as_bytes().chunks(70).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.extend(chunk.iter().map(|&b| b as char));
    }
    out
}

/// Decode a key blob text like borg's `_load`: Python's lenient
/// `binascii.a2b_base64` (characters outside the alphabet such as newlines
/// and tabs are skipped), then reject results shorter than 20 bytes.
pub fn decode_key_blob_text(text: &str) -> Result<Vec<u8>> {
    let data = a2b_base64(text)?;
    if data.len() < MIN_KEY_BLOB_LEN {
        return Err(CryptoError::keyfile_invalid(format!(
            "key data is only {} bytes after base64 decoding",
            data.len()
        )));
    }
    Ok(data)
}

fn b64_value(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// Python's non-strict `binascii.a2b_base64` (CPython 3.11 semantics).
pub fn a2b_base64(text: &str) -> Result<Vec<u8>> {
    if !text.is_ascii() {
        return Err(CryptoError::keyfile_invalid(
            "key data is not base64 (non-ASCII characters)",
        ));
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut quad_pos = 0u8;
    let mut left = 0u8;
    let mut pads = 0u8;
    let mut data_chars = 0usize;
    for &c in text.as_bytes() {
        if c == b'=' {
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    // A complete pad sequence ends the input.
                    return Ok(out);
                }
            }
            continue;
        }
        let Some(v) = b64_value(c) else { continue };
        data_chars += 1;
        pads = 0;
        match quad_pos {
            0 => {
                quad_pos = 1;
                left = v;
            }
            1 => {
                quad_pos = 2;
                out.push((left << 2) | (v >> 4));
                left = v & 0x0f;
            }
            2 => {
                quad_pos = 3;
                out.push((left << 4) | (v >> 2));
                left = v & 0x03;
            }
            _ => {
                quad_pos = 0;
                out.push((left << 6) | v);
                left = 0;
            }
        }
    }
    match quad_pos {
        0 => Ok(out),
        1 => Err(CryptoError::keyfile_invalid(format!(
            "key data is not base64: number of data characters ({data_chars}) cannot be 1 more than a multiple of 4"
        ))),
        _ => Err(CryptoError::keyfile_invalid(
            "key data is not base64: incorrect padding",
        )),
    }
}

/// The keyfile text: `BORG_KEY <hex repo id>\n<blob text>\n` (`KeyfileKey.save`;
/// also the `borg key export` format).
pub fn format_keyfile(repository_id: &[u8; 32], blob_text: &str) -> String {
    let mut s = format!("{KEYFILE_ID} {}\n{blob_text}", hex::encode(repository_id));
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// A keyfile split into its header id and its blob text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKeyfile {
    /// The repository id from the `BORG_KEY <hex>` line.
    pub repository_id: [u8; 32],
    /// Everything after the first line (the base64 blob text).
    pub blob_text: String,
}

/// Split text into lines like Python's universal-newline `readlines()`,
/// keeping line endings.
fn py_lines(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let end = match b[i] {
            b'\n' => i + 1,
            b'\r' if b.get(i + 1) == Some(&b'\n') => i + 2,
            b'\r' => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        lines.push(&text[start..end]);
        start = end;
        i = end;
    }
    if start < b.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Parse a keyfile (or `borg key export` output): the first line must be
/// `BORG_KEY <64 hex digits>`, the rest is the blob text.
pub fn parse_keyfile(contents: &[u8]) -> Result<ParsedKeyfile> {
    let text = std::str::from_utf8(contents)
        .map_err(|_| CryptoError::keyfile_invalid("keyfile is not UTF-8 text"))?;
    let lines = py_lines(text);
    let first = lines.first().copied().unwrap_or("").trim_end();
    let hex_id = first
        .strip_prefix(KEYFILE_ID)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| CryptoError::keyfile_invalid("not a borg keyfile (no BORG_KEY header)"))?;
    let mut repository_id = [0u8; 32];
    hex::decode_to_slice(hex_id, &mut repository_id).map_err(|_| {
        CryptoError::keyfile_invalid("keyfile header does not hold a 64-digit repository id")
    })?;
    Ok(ParsedKeyfile {
        repository_id,
        blob_text: lines.get(1..).unwrap_or(&[]).concat(),
    })
}

/// borg's `KeyfileKey.sanity_check`: does `contents` (of the file `path`)
/// look like a keyfile for `repository_id`?
///
/// [`CryptoError::KeyfileMismatch`] if it is a keyfile for another repository,
/// [`CryptoError::KeyfileInvalid`] if it is not a usable keyfile.
pub fn keyfile_sanity_check(contents: &[u8], repository_id: &[u8; 32], path: &Path) -> Result<()> {
    let invalid = |why: &str| CryptoError::keyfile_invalid(format!("{}: {why}", path.display()));
    let magic = format!("{KEYFILE_ID} ");
    let hex_id = hex::encode(repository_id);
    if !contents.starts_with(magic.as_bytes()) {
        return Err(invalid("does not start with BORG_KEY"));
    }
    if !contents[magic.len()..].starts_with(hex_id.as_bytes()) {
        return Err(CryptoError::KeyfileMismatch {
            expected: hex_id,
            path: path.to_path_buf(),
        });
    }
    let text = std::str::from_utf8(contents).map_err(|_| invalid("not UTF-8 text"))?;
    let lines = py_lines(text);
    if lines.len() < 2 {
        return Err(invalid("expected 2+ lines total"));
    }
    if lines[0].trim_end().len() > magic.len() + hex_id.len() {
        return Err(invalid("key line 1 seems too long"));
    }
    let key = a2b_base64(&lines[1..].concat())
        .map_err(|_| invalid("key line 2+ does not look like base64"))?;
    if key.len() < MIN_KEY_BLOB_LEN {
        return Err(invalid(
            "binary encrypted key data from key line 2+ suspiciously short",
        ));
    }
    Ok(())
}

/// Find the keyfile for `repository_id` in `keys_dir` (borg's
/// `_find_key_in_keys_dir`): every regular file is checked with
/// [`keyfile_sanity_check`]; names do not matter. Files are tried in name
/// order (borg uses directory order).
pub fn find_keyfile(keys_dir: &Path, repository_id: &[u8; 32]) -> Result<PathBuf> {
    let not_found = || CryptoError::KeyfileNotFound {
        repository: hex::encode(repository_id),
        keys_dir: keys_dir.to_path_buf(),
    };
    let entries = match std::fs::read_dir(keys_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(CryptoError::io(keys_dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if !p.is_file() {
            continue;
        }
        let Ok(contents) = std::fs::read(&p) else {
            continue;
        };
        if keyfile_sanity_check(&contents, repository_id, &p).is_ok() {
            return Ok(p);
        }
    }
    Err(not_found())
}

fn sanitize(s: &str) -> String {
    // Python's `re.sub(r'[^\w]', '_', s)`: \w is Unicode alphanumerics and '_'.
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The base file name for a new keyfile (`Location.to_key_filename`):
/// the repository path with every non-word character replaced by `_`,
/// leading/trailing `_` stripped, prefixed by `<host>__` (host sanitized the
/// same way, e.g. `::1` for `[::1]`) for remote repositories, truncated to
/// 100 characters.
pub fn key_filename(repo_path: &str, host: Option<&str>) -> String {
    let mut name = sanitize(repo_path).trim_matches('_').to_string();
    if let Some(host) = host {
        name = format!("{}__{name}", sanitize(host));
    }
    name.chars().take(100).collect()
}

/// Where `borg init` would put a new keyfile (`_get_new_target_in_keys_dir`):
/// `keys_dir/<key_filename>`, or with `.2`, `.3`, ... appended while that
/// path exists.
pub fn new_keyfile_path(keys_dir: &Path, repo_path: &str, host: Option<&str>) -> PathBuf {
    let name = key_filename(repo_path, host);
    let mut path = keys_dir.join(&name);
    let mut i = 1u64;
    while path.exists() {
        i += 1;
        path = keys_dir.join(format!("{name}.{i}"));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const A5_KEYFILE: &str =
        "BORG_KEY b8f93f5daf7b667497f6ede8d198305f8596ab5036da0d26deab324aeab37e18
hqlhbGdvcml0aG2mc2hhMjU2pGRhdGHaAN7vgyOl0oeA4NDbE/Lw6HJOutc95/D9W7Ghda
jVE/K484oeeuKV/jBD90jDrvgo95w/91qYHdWTgYoDX/u/dzwu25WgmhmALFUBt16fCYLK
cYVpijfRUzBi+DdGt8ocbdI8J1G5rEo3ecyN2qnDf33MO0t2uytF/kb8zbD23XPNRngvve
NZf56On0kLeMkr5gLVuOTpuB21S65pn6/efAaP6O73bxrrEgJBTfaXdI8v7+NARQ4vVmzC
+XaZlEFUtLn6OXOg3CZ2CGicUQtGUWg7UB8IfSuv7AXYlJX/N26kaGFzaNoAIIn7lNfvjb
gd28VE+rgWdW8GYGeax44J0d04zQ+SRq+1qml0ZXJhdGlvbnPOAAGGoKRzYWx02gAgtg+4
lD6dG/KQjRb7A04bqOee+XEBxi6xepkYeJaE7C6ndmVyc2lvbgE=
";

    /// Spec A.5.
    #[test]
    fn a5_key_blob() {
        let kf = parse_keyfile(A5_KEYFILE.as_bytes()).unwrap();
        let rid = kf.repository_id;
        assert_eq!(
            hex::encode(rid),
            "b8f93f5daf7b667497f6ede8d198305f8596ab5036da0d26deab324aeab37e18"
        );
        keyfile_sanity_check(A5_KEYFILE.as_bytes(), &rid, Path::new("a5")).unwrap();
        let packed = decode_key_blob_text(&kf.blob_text).unwrap();
        // Re-encoding reproduces the text exactly.
        assert_eq!(encode_key_blob_text(&packed) + "\n", kf.blob_text);
        assert_eq!(
            format_keyfile(&rid, &encode_key_blob_text(&packed)),
            A5_KEYFILE
        );

        let wrapper = decode_one(&packed).unwrap();
        let salt = wrapper.get("salt").unwrap().as_raw().unwrap();
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"secret", salt, 100_000).as_ref()),
            "a926882f7e3e05c032933360ced276f807a9429f08fb3e3a3d29a720774c3e62"
        );
        let inner = open_key_blob(&packed, "secret").unwrap();
        assert_eq!(inner.len(), 222);
        assert_eq!(
            hex::encode(crate::primitives::sha256(&inner)),
            "e76343ed44cf73f1edcba9e013bfeec072386c07cb170eabbe1955e06add2422"
        );
        assert_eq!(&inner[..13], b"\x87\xaachunk_seed\xd2");
        let m = KeyMaterial::from_msgpack(&inner, false).unwrap();
        assert_eq!(m.chunk_seed, -137214441);
        assert_eq!(
            hex::encode(m.enc_key),
            "353e7afbab1dfd2573cf698af4c65fa3b3d3f7c7afb3b29bc0ca337e049bb1ef"
        );
        assert_eq!(
            hex::encode(&m.enc_hmac_key),
            "2ee52b186d374caa93fbec57a5948f4b2ae5628bf2022072d4b684302b37eaf9"
        );
        assert_eq!(
            hex::encode(&m.id_key),
            "2d51576b79860e0bd9ff7ab6a907da1360abf44bc9bb7d6dbccb224c38a78a3c"
        );
        assert_eq!(m.repository_id, rid);
        assert!(m.tam_required);
        // The inner msgpack is re-encoded byte-identically.
        assert_eq!(m.to_msgpack().as_slice(), inner.as_slice());

        assert!(matches!(
            open_key_blob(&packed, "Secret"),
            Err(CryptoError::WrongPassphrase)
        ));
        assert!(matches!(
            KeyMaterial::from_key_blob_text(&kf.blob_text, "", false),
            Err(CryptoError::WrongPassphrase)
        ));
    }

    #[test]
    fn seal_open_round_trip() {
        let m = KeyMaterial::generate(crate::KeyType::Blake2Repokey, [1; 32]).unwrap();
        let inner = m.to_msgpack();
        let packed = seal_key_blob_with(&inner, "pw", &[7u8; 32], 10);
        let w = decode_one(&packed).unwrap();
        let keys: Vec<_> = w
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| String::from_utf8(k.as_raw().unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(
            keys,
            ["algorithm", "data", "hash", "iterations", "salt", "version"]
        );
        let text = encode_key_blob_text(&packed);
        assert!(text.lines().all(|l| l.len() <= 70));
        assert!(text.lines().rev().skip(1).all(|l| l.len() == 70));
        let back = KeyMaterial::from_key_blob_text(&text, "pw", false).unwrap();
        assert_eq!(back.to_msgpack().as_slice(), inner.as_slice());
    }

    fn rewrap(f: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
        let packed = seal_key_blob_with(b"\x80", "pw", &[7u8; 32], 3);
        let Value::Map(mut m) = decode_one(&packed).unwrap() else {
            unreachable!()
        };
        f(&mut m);
        encode(&Value::Map(m))
    }

    fn set(m: &mut [(Value, Value)], key: &str, v: Value) {
        for (k, old) in m.iter_mut() {
            if k.as_raw() == Some(key.as_bytes()) {
                *old = v.clone();
            }
        }
    }

    #[test]
    fn wrapper_rejections() {
        let ok = rewrap(|_| {});
        assert_eq!(open_key_blob(&ok, "pw").unwrap().as_slice(), b"\x80");
        let v2 = rewrap(|m| set(m, "version", Value::Int(2)));
        assert!(matches!(
            open_key_blob(&v2, "pw"),
            Err(CryptoError::UnsupportedEncryptedKeyVersion(2))
        ));
        let alg = rewrap(|m| set(m, "algorithm", Value::raw("argon2 chacha20-poly1305")));
        let e = open_key_blob(&alg, "pw").unwrap_err();
        assert!(matches!(e, CryptoError::UnsupportedKeyAlgorithm(_)), "{e}");
        let it0 = rewrap(|m| set(m, "iterations", Value::Int(0)));
        assert!(matches!(
            open_key_blob(&it0, "pw"),
            Err(CryptoError::KeyfileInvalid { .. })
        ));
        let nosalt = rewrap(|m| m.retain(|(k, _)| k.as_raw() != Some(b"salt")));
        assert!(matches!(
            open_key_blob(&nosalt, "pw"),
            Err(CryptoError::KeyfileInvalid { .. })
        ));
        for n in 0..ok.len() {
            let e = open_key_blob(&ok[..n], "pw").unwrap_err();
            assert!(matches!(e, CryptoError::KeyfileInvalid { .. }), "{n}: {e}");
        }
        assert!(matches!(
            open_key_blob(b"\x01\x02\x03", "pw"),
            Err(CryptoError::KeyfileInvalid { .. })
        ));
        // Inner key checks.
        let inner = |v: Value| encode(&v);
        let mut m = KeyMaterial::generate(crate::KeyType::Repokey, [1; 32]).unwrap();
        m.tam_required = false;
        let Value::Map(mut entries) = decode_one(&m.to_msgpack()).unwrap() else {
            unreachable!()
        };
        set(&mut entries, "version", Value::Int(2));
        assert!(matches!(
            KeyMaterial::from_msgpack(&inner(Value::Map(entries.clone())), false),
            Err(CryptoError::UnsupportedKeyVersion(2))
        ));
        set(&mut entries, "version", Value::Int(1));
        entries.retain(|(k, _)| k.as_raw() != Some(b"tam_required"));
        let fallback =
            KeyMaterial::from_msgpack(&inner(Value::Map(entries.clone())), true).unwrap();
        assert!(fallback.tam_required);
        set(&mut entries, "enc_key", Value::raw([1u8; 31]));
        assert!(KeyMaterial::from_msgpack(&inner(Value::Map(entries)), true).is_err());
        assert!(KeyMaterial::from_msgpack(b"\x93\x01\x02\x03", true).is_err());
        assert!(KeyMaterial::from_msgpack(b"", true).is_err());
    }

    #[test]
    fn base64_like_python() {
        assert_eq!(a2b_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(a2b_base64("aGVs\n\tbG8=").unwrap(), b"hello");
        assert_eq!(a2b_base64("aGVsbG8=garbage").unwrap(), b"hello");
        assert_eq!(a2b_base64("aGVsbA==").unwrap(), b"hell");
        assert_eq!(a2b_base64("=aGVsbA==").unwrap(), b"hell");
        assert_eq!(a2b_base64("aGVs!bG8=").unwrap(), b"hello");
        assert_eq!(a2b_base64("").unwrap(), b"");
        assert!(a2b_base64("aGVsbG8").is_err());
        assert!(a2b_base64("aGVsb").is_err());
        assert!(a2b_base64("aGVsbA=").is_err());
        assert!(a2b_base64("äGVs").is_err());
        assert!(decode_key_blob_text("aGVsbG8=").is_err());
    }

    #[test]
    fn keyfile_checks() {
        let rid = parse_keyfile(A5_KEYFILE.as_bytes()).unwrap().repository_id;
        let p = Path::new("k");
        let other = [0u8; 32];
        assert!(matches!(
            keyfile_sanity_check(A5_KEYFILE.as_bytes(), &other, p),
            Err(CryptoError::KeyfileMismatch { .. })
        ));
        assert!(matches!(
            keyfile_sanity_check(b"BORG_KEX", &rid, p),
            Err(CryptoError::KeyfileInvalid { .. })
        ));
        let one_line = format!("BORG_KEY {}", hex::encode(rid));
        assert!(keyfile_sanity_check(one_line.as_bytes(), &rid, p).is_err());
        let long = format!(
            "BORG_KEY {}x\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
            hex::encode(rid)
        );
        assert!(keyfile_sanity_check(long.as_bytes(), &rid, p).is_err());
        let short = format!("BORG_KEY {}\nAAAA\n", hex::encode(rid));
        assert!(keyfile_sanity_check(short.as_bytes(), &rid, p).is_err());
        let crlf = A5_KEYFILE.replace('\n', "\r\n");
        keyfile_sanity_check(crlf.as_bytes(), &rid, p).unwrap();
        assert!(parse_keyfile(b"garbage\nmore").is_err());
        assert!(parse_keyfile(b"BORG_KEY abc\nmore").is_err());
        assert!(parse_keyfile(b"").is_err());
        assert!(parse_keyfile(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn find_in_dir() {
        let dir = tempfile::tempdir().unwrap();
        let rid = parse_keyfile(A5_KEYFILE.as_bytes()).unwrap().repository_id;
        assert!(matches!(
            find_keyfile(&dir.path().join("missing"), &rid),
            Err(CryptoError::KeyfileNotFound { .. })
        ));
        std::fs::write(dir.path().join("aaa"), b"junk").unwrap();
        std::fs::create_dir(dir.path().join("adir")).unwrap();
        std::fs::write(
            dir.path().join("other"),
            A5_KEYFILE.replace("b8f93f", "000000"),
        )
        .unwrap();
        assert!(matches!(
            find_keyfile(dir.path(), &rid),
            Err(CryptoError::KeyfileNotFound { .. })
        ));
        std::fs::write(dir.path().join("zz_whatever_name"), A5_KEYFILE).unwrap();
        assert_eq!(
            find_keyfile(dir.path(), &rid).unwrap(),
            dir.path().join("zz_whatever_name")
        );
    }

    #[test]
    fn key_filenames() {
        assert_eq!(key_filename("/srv/verify/repo", None), "srv_verify_repo");
        assert_eq!(key_filename("./repo", Some("host")), "host__repo");
        assert_eq!(key_filename("/srv/borg", Some("::1")), "__1__srv_borg");
        assert_eq!(key_filename("/a-b/ü ñ/", None), "a_b_ü_ñ");
        let long = "/x".repeat(80);
        assert_eq!(key_filename(&long, None).chars().count(), 100);
        let dir = tempfile::tempdir().unwrap();
        let first = new_keyfile_path(dir.path(), "/srv/r", None);
        assert_eq!(first, dir.path().join("srv_r"));
        std::fs::write(&first, "x").unwrap();
        assert_eq!(
            new_keyfile_path(dir.path(), "/srv/r", None),
            dir.path().join("srv_r.2")
        );
        std::fs::write(dir.path().join("srv_r.2"), "x").unwrap();
        assert_eq!(
            new_keyfile_path(dir.path(), "/srv/r", None),
            dir.path().join("srv_r.3")
        );
    }
}
