//! Proof against real borg 1.4.5: keys, envelopes, ids, TAMs and nonce files
//! made by borg are read by oxiborg, and oxiborg's are read by borg.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use oxiborg_crypto::{
    decode_key_blob_text, find_keyfile, format_keyfile, key_filename, keyfile_sanity_check,
    manifest_nonce, nonces::format_nonce, parse_keyfile, CryptoError, Key, KeyMaterial, KeyStorage,
    KeyType, NonceManager, SecurityDirNonceFile, CONTEXT_ARCHIVE, CONTEXT_MANIFEST,
    NONCE_SPACE_RESERVATION,
};
use oxiborg_msgpack::{MapBuilder, Value};
use oxiborg_oracle::{isolate_env, Borg, Oracle};

const PASS: &str = "oracle pass \u{fc}n\u{ef}code";

fn borg(oracle: &Oracle, base: &Path) -> Command {
    let mut c = oracle.borg(Borg::V14, base);
    c.env("BORG_PASSPHRASE", PASS);
    c
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn borg");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Run borg's Python with the isolated environment of `base` (so key_factory
/// finds keyfiles and the passphrase), feeding `stdin`.
fn python_in_env(oracle: &Oracle, base: &Path, script: &str, stdin: &str) -> String {
    let mut cmd = Command::new(oracle.python());
    cmd.arg("-c").arg(script);
    isolate_env(&mut cmd, base);
    cmd.env("BORG_PASSPHRASE", PASS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait python");
    assert!(
        out.status.success(),
        "python failed: {}\n{}\n--- script ---\n{script}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8 output")
}

/// Parse `<mode> <field> <value>` lines.
fn parse_lines(out: &str) -> HashMap<(String, String), String> {
    out.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            Some((
                (it.next()?.to_string(), it.next()?.to_string()),
                it.next().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

struct Answers(HashMap<(String, String), String>);

impl Answers {
    fn get(&self, mode: &str, field: &str) -> &str {
        self.0
            .get(&(mode.to_string(), field.to_string()))
            .unwrap_or_else(|| panic!("python gave no {mode} {field}"))
    }
    fn hex(&self, mode: &str, field: &str) -> Vec<u8> {
        hex::decode(self.get(mode, field)).expect("hex")
    }
}

/// The value of `name` in borg's INI repo config, joining TAB continuation lines.
fn config_value(config: &str, name: &str) -> Option<String> {
    let mut lines = config.lines();
    let prefix = format!("{name} =");
    let first = lines.by_ref().find(|l| l.starts_with(&prefix))?;
    let mut v = first[prefix.len()..].trim().to_string();
    for l in lines {
        if l.starts_with('\t') || l.starts_with(' ') {
            v.push('\n');
            v.push_str(l.trim());
        } else {
            break;
        }
    }
    Some(v)
}

fn repo_id_of(repo: &Path) -> [u8; 32] {
    let config = std::fs::read_to_string(repo.join("config")).expect("config");
    let mut id = [0u8; 32];
    hex::decode_to_slice(config_value(&config, "id").expect("id"), &mut id).expect("id hex");
    id
}

/// The key blob text exactly as oxiborg finds it for a borg-made repository.
fn blob_text_of(base: &Path, repo: &Path, kt: KeyType) -> Option<String> {
    let repo_id = repo_id_of(repo);
    match kt.storage() {
        KeyStorage::None => None,
        KeyStorage::Repository => {
            let config = std::fs::read_to_string(repo.join("config")).expect("config");
            Some(config_value(&config, "key").expect("key in config"))
        }
        KeyStorage::Keyfile => {
            let keys_dir = base.join(".config/borg/keys");
            let path = find_keyfile(&keys_dir, &repo_id).expect("keyfile found");
            // borg named it with Location.to_key_filename.
            assert_eq!(
                path.file_name().unwrap().to_str().unwrap(),
                key_filename(repo.to_str().unwrap(), None)
            );
            let contents = std::fs::read(&path).unwrap();
            keyfile_sanity_check(&contents, &repo_id, &path).expect("sanity");
            let parsed = parse_keyfile(&contents).expect("parse keyfile");
            assert_eq!(parsed.repository_id, repo_id);
            Some(parsed.blob_text)
        }
    }
}

fn load_key(base: &Path, repo: &Path, kt: KeyType) -> Key {
    match blob_text_of(base, repo, kt) {
        None => Key::plaintext(),
        Some(text) => {
            let m = KeyMaterial::from_key_blob_text(&text, PASS, false).expect("decrypt key blob");
            assert_eq!(m.repository_id, repo_id_of(repo));
            Key::new(kt, m).expect("key")
        }
    }
}

const BORG_VIEW: &str = r#"
import sys
from borg.logger import setup_logging; setup_logging(level='error')
from borg.repository import Repository
from borg.crypto.key import key_factory
from borg.helpers import msgpack
def out(mode, k, v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        v = bytes(v).hex()
    print(mode, k, v)
for line in sys.stdin.read().splitlines():
    mode, path = line.split('\t')
    with Repository(path, exclusive=True) as repo:
        m = repo.get(bytes(32))
        key = key_factory(repo, m)
        if hasattr(key, 'nonce_manager'):
            # init_ciphers' starting counter (decrypting moves borg's cipher IV)
            out(mode, 'next_iv', key.cipher.next_iv())
        plain = key.decrypt(None, m)
        out(mode, 'manifest', m)
        out(mode, 'compressed', key.decrypt(None, m, decompress=False))
        out(mode, 'plain', plain)
        out(mode, 'manifest_id', key.id_hash(plain))
        out(mode, 'hello_id', key.id_hash(b'hello borg'))
        out(mode, 'chunk_seed', key.chunk_seed)
        out(mode, 'tam_required', key.tam_required)
        out(mode, 'free_nonce', repo.get_free_nonce())
        if hasattr(key, 'enc_key'):
            out(mode, 'enc_key', key.enc_key)
            out(mode, 'enc_hmac_key', key.enc_hmac_key)
            out(mode, 'id_key', key.id_key)
        manifest = msgpack.unpackb(plain)
        for name, entry in manifest[b'archives'].items():
            aid = entry[b'id']
            env = repo.get(aid)
            out(mode, 'archive_id', aid)
            out(mode, 'archive_env', env)
            out(mode, 'archive_compressed', key.decrypt(aid, env, decompress=False))
            out(mode, 'archive_plain', key.decrypt(aid, env))
"#;

/// (a) + (c): `borg init` in all seven modes; oxiborg finds and decrypts the
/// key blob, decrypts the manifest envelope, verifies its TAM, and agrees
/// with borg on ids, chunk seed and the starting nonce.
#[test]
fn borg_made_repositories_all_modes() {
    let oracle = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let mut repos: Vec<(KeyType, PathBuf)> = Vec::new();
    for kt in KeyType::CREATABLE {
        let mode = kt.arg_name().unwrap();
        let repo = base.join(format!("repo {mode}-\u{fc}.x"));
        run_ok(borg(oracle, base).args(["init", "-e", mode]).arg(&repo));
        repos.push((kt, repo));
    }
    let input: String = repos
        .iter()
        .map(|(kt, p)| format!("{}\t{}\n", kt.arg_name().unwrap(), p.display()))
        .collect();
    let ans = Answers(parse_lines(&python_in_env(oracle, base, BORG_VIEW, &input)));

    for (kt, repo) in &repos {
        let mode = kt.arg_name().unwrap();
        let key = load_key(base, repo, *kt);
        if let Some(m) = key.material() {
            assert_eq!(m.enc_key.to_vec(), ans.hex(mode, "enc_key"), "{mode}");
            assert_eq!(m.enc_hmac_key, ans.hex(mode, "enc_hmac_key"), "{mode}");
            assert_eq!(m.id_key, ans.hex(mode, "id_key"), "{mode}");
            assert!(m.tam_required);
            let want = if kt.is_blake2() { 128 } else { 32 };
            assert_eq!(m.id_key.len(), want);
        }
        assert_eq!(key.chunk_seed().to_string(), ans.get(mode, "chunk_seed"));
        assert_eq!(
            if key.tam_required() { "True" } else { "False" },
            ans.get(mode, "tam_required")
        );

        let manifest = ans.hex(mode, "manifest");
        assert_eq!(KeyType::identify(manifest[0]).unwrap(), *kt);
        let compressed = key.decrypt(Some(&[0; 32]), &manifest).expect(mode);
        assert_eq!(compressed, ans.hex(mode, "compressed"), "{mode}");
        let plain = ans.hex(mode, "plain");
        let v = key.unpack_and_verify_manifest(&plain, false).expect(mode);
        assert!(v.verified, "{mode}: borg's manifest TAM verified");
        assert!(v.value.get("tam").is_none());
        assert_eq!(v.value.get("version").and_then(Value::as_u64), Some(1));
        if kt.has_key_material() {
            let cfg = v.value.get("config").expect("config");
            assert_eq!(cfg.get("tam_required").and_then(Value::as_bool), Some(true));
        }
        assert_eq!(key.id_hash(&plain).to_vec(), ans.hex(mode, "manifest_id"));
        assert_eq!(
            key.id_hash(b"hello borg").to_vec(),
            ans.hex(mode, "hello_id")
        );
        if kt.is_encrypted() {
            assert_eq!(
                manifest_nonce(&manifest).unwrap().to_string(),
                ans.get(mode, "next_iv")
            );
            // The repository's nonce file holds borg's reservation.
            let repo_nonce = SecurityDirNonceFile::new(repo).read().unwrap();
            assert_eq!(
                repo_nonce.map(|n| n.to_string()).as_deref(),
                Some(ans.get(mode, "free_nonce"))
            );
        }

        // (c) tampering: the manifest envelope (encrypted types: MAC names
        // the object) or its plaintext (TAM).
        if kt.is_encrypted() {
            let mut t = manifest.clone();
            t[60] ^= 0x20;
            let e = key.decrypt(Some(&[0; 32]), &t).unwrap_err();
            assert!(matches!(e, CryptoError::MacMismatch { .. }), "{e}");
            assert!(e.to_string().contains(&"00".repeat(32)), "{e}");
        }
        let mut t = plain.clone();
        let last = t.len() - 30;
        t[last] ^= 0x01;
        assert!(key.unpack_and_verify_manifest(&t, false).is_err(), "{mode}");

        // (c) wrong passphrase and broken blobs.
        if let Some(text) = blob_text_of(base, repo, *kt) {
            assert!(matches!(
                KeyMaterial::from_key_blob_text(&text, "wrong", false),
                Err(CryptoError::WrongPassphrase)
            ));
            assert!(matches!(
                KeyMaterial::from_key_blob_text(&text, "", false),
                Err(CryptoError::WrongPassphrase)
            ));
            for broken in [
                &text[..8],
                &text[..text.len() / 2 / 4 * 4],
                "!!!! not base64 at all ~~~",
                "QUJD",
                "",
                &text[..text.len() - 3],
            ] {
                let e = KeyMaterial::from_key_blob_text(broken, PASS, false).unwrap_err();
                assert!(
                    matches!(e, CryptoError::KeyfileInvalid { .. }),
                    "{mode} {broken:?}: {e}"
                );
            }
            // A valid envelope with a bad version / algorithm is rejected clearly.
            let packed = decode_key_blob_text(&text).unwrap();
            let mut garbage = packed.clone();
            for b in garbage.iter_mut().take(40) {
                *b = 0xc1;
            }
            assert!(matches!(
                oxiborg_crypto::open_key_blob(&garbage, PASS),
                Err(CryptoError::KeyfileInvalid { .. })
            ));
        }
    }
}

/// Nonce files: borg's are read by oxiborg; oxiborg's reservation is honoured
/// by a later `borg create`; borg's archive TAM is verified by oxiborg.
#[test]
fn nonce_files_and_archive_tam_interoperate() {
    let oracle = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let repo = base.join("repo");
    let src = base.join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("file"), vec![7u8; 100_000]).unwrap();
    run_ok(
        borg(oracle, base)
            .args(["init", "-e", "repokey"])
            .arg(&repo),
    );
    let after_init = SecurityDirNonceFile::new(&repo).read().unwrap().unwrap();
    run_ok(
        borg(oracle, base)
            .arg("create")
            .arg(format!("{}::a1", repo.display()))
            .arg(&src),
    );
    let id = repo_id_of(&repo);
    let secdir = base.join(".config/borg/security").join(hex::encode(id));
    let local = SecurityDirNonceFile::new(&secdir);
    let raw = std::fs::read(local.path()).unwrap();
    let v1 = local.read().unwrap().expect("borg wrote a local nonce");
    assert_eq!(
        raw,
        format_nonce(v1).as_bytes(),
        "16 lowercase hex, no newline"
    );
    assert_eq!(SecurityDirNonceFile::new(&repo).read().unwrap(), Some(v1));
    assert!(v1 >= after_init + NONCE_SPACE_RESERVATION);

    // Read borg's archive and verify its TAM.
    let input = format!("repokey\t{}\n", repo.display());
    let ans = Answers(parse_lines(&python_in_env(oracle, base, BORG_VIEW, &input)));
    let key = load_key(base, &repo, KeyType::Repokey);
    let manifest = ans.hex("repokey", "manifest");
    key.decrypt(None, &manifest).unwrap();
    let plain = ans.hex("repokey", "plain");
    let m = key.unpack_and_verify_manifest(&plain, false).unwrap();
    let archives = m.value.get("archives").unwrap();
    let aid_expected = archives
        .get("a1")
        .unwrap()
        .get("id")
        .unwrap()
        .as_raw()
        .unwrap();
    let aid: [u8; 32] = ans.hex("repokey", "archive_id").try_into().unwrap();
    assert_eq!(aid_expected, aid);
    let env = ans.hex("repokey", "archive_env");
    assert_eq!(
        key.decrypt(Some(&aid), &env).unwrap(),
        ans.hex("repokey", "archive_compressed")
    );
    let aplain = ans.hex("repokey", "archive_plain");
    key.assert_id(&aid, &aplain).unwrap();
    for force in [false, true] {
        let a = key.unpack_and_verify_archive(&aplain, force).unwrap();
        assert!(a.verified);
        assert_eq!(a.salt.as_ref().map(Vec::len), Some(64));
        assert_eq!(
            a.value.get("name").and_then(Value::as_raw),
            Some(&b"a1"[..])
        );
        // Re-packing with borg's salt reproduces borg's bytes exactly.
        let salt: [u8; 64] = a.salt.clone().unwrap().try_into().unwrap();
        let repacked = key
            .pack_and_authenticate(a.value.clone(), CONTEXT_ARCHIVE, Some(salt))
            .unwrap();
        assert_eq!(repacked, aplain);
    }
    // Tampered archive object names the object.
    let mut t = env.clone();
    t[100] ^= 4;
    let e = key.decrypt(Some(&aid), &t).unwrap_err();
    assert!(e.to_string().contains(&hex::encode(aid)), "{e}");

    // oxiborg reserves through both files, then borg must go beyond it.
    let mut nm = NonceManager::new(
        SecurityDirNonceFile::new(&repo),
        SecurityDirNonceFile::new(&secdir),
        manifest_nonce(&manifest).unwrap(),
    );
    let iv = nm.next_iv(1000).unwrap();
    assert_eq!(iv, v1);
    let ours = nm.end_of_reservation().unwrap();
    assert_eq!(ours, v1 + 63 + NONCE_SPACE_RESERVATION);
    drop(nm);
    run_ok(
        borg(oracle, base)
            .arg("create")
            .arg(format!("{}::a2", repo.display()))
            .arg(&src),
    );
    let v2 = local.read().unwrap().unwrap();
    assert!(
        v2 > ours,
        "borg honoured oxiborg's reservation: {v2} > {ours}"
    );
    assert_eq!(SecurityDirNonceFile::new(&repo).read().unwrap(), Some(v2));
    // And borg's IVs for the new archive start at or after our reservation.
    let ans = Answers(parse_lines(&python_in_env(oracle, base, BORG_VIEW, &input)));
    let manifest2 = ans.hex("repokey", "manifest");
    assert!(oxiborg_crypto::extract_iv(&manifest2).unwrap() >= ours);
    run_ok(borg(oracle, base).arg("check").arg(&repo));
}

const BORG_CHECKS_OXIBORG: &str = r#"
import sys
from borg.logger import setup_logging; setup_logging(level='error')
from borg.crypto.key import AVAILABLE_KEY_TYPES, Passphrase, PlaintextKey, KeyBlobStorage
from borg.helpers import Location, IntegrityError
byarg = {k.ARG_NAME: k for k in AVAILABLE_KEY_TYPES if k.ARG_NAME}
data = {}
for line in sys.stdin.read().splitlines():
    mode, field, value = line.split(' ', 2)
    data.setdefault(mode, {})[field] = bytes.fromhex(value)

class FakeRepo:
    def __init__(self, id, blob):
        self.id = id
        self.id_str = id.hex()
        self._location = Location('/nonexistent/oxiborg-fake')
        self.blob = blob
    def load_key(self):
        return self.blob

def out(mode, k, v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        v = bytes(v).hex()
    print(mode, k, v)

for mode, d in data.items():
    cls = byarg[mode]
    pw = d['passphrase'].decode()
    repo = FakeRepo(d['repo_id'], d.get('blob_text'))
    def load(passphrase):
        key = cls(repo)
        if cls is PlaintextKey:
            return key, True
        if cls.STORAGE == KeyBlobStorage.KEYFILE:
            path = d['keyfile_path'].decode()
            key.sanity_check(path, repo.id)
            ok = key.load(path, Passphrase(passphrase))
        else:
            ok = key.load(None, Passphrase(passphrase))
        return key, ok
    key, ok = load(pw)
    out(mode, 'load_ok', ok)
    out(mode, 'wrong_ok', load(pw + 'x')[1] if cls is not PlaintextKey else False)
    if cls is not PlaintextKey:
        key.init_ciphers()
        out(mode, 'enc_key', key.enc_key)
        out(mode, 'id_key', key.id_key)
        out(mode, 'enc_hmac_key', key.enc_hmac_key)
    out(mode, 'chunk_seed', key.chunk_seed)
    out(mode, 'tam_required', key.tam_required)
    try:
        plain = key.decrypt(d['id'], d['envelope'])
        out(mode, 'plain', plain)
    except Exception as e:
        out(mode, 'plain', 'ERROR ' + str(e))
        continue
    out(mode, 'id_hash', key.id_hash(plain))
    try:
        key.decrypt(d['id'], d['tampered'])
        out(mode, 'tampered', 'ACCEPTED')
    except Exception as e:
        # borg.crypto.low_level.IntegrityError (MAC) or borg.helpers.IntegrityError (id)
        out(mode, 'tampered', 'rejected ' + type(e).__name__ + ': ' + str(e))
    m, verified = key.unpack_and_verify_manifest(d['manifest'])
    out(mode, 'manifest_verified', verified)
    out(mode, 'manifest_keys', ','.join(sorted(k.decode() for k in m)))
    a, verified, salt = key.unpack_and_verify_archive(d['archive'])
    out(mode, 'archive_verified', verified)
    out(mode, 'archive_salt', salt)
    a = {k.decode(): v for k, v in a.items()}
    out(mode, 'borg_archive', key.pack_and_authenticate_metadata(a, context=b'archive', salt=salt))
    try:
        key.unpack_and_verify_archive(d['archive_tampered'])
        out(mode, 'archive_tampered', 'ACCEPTED')
    except IntegrityError as e:
        out(mode, 'archive_tampered', 'rejected ' + type(e).__name__)
"#;

/// (b): oxiborg makes keys, blobs, keyfiles, envelopes and TAMs in all seven
/// modes; borg's own key classes load and verify them.
#[test]
fn oxiborg_made_objects_verified_by_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let tmp = tempfile::tempdir().unwrap();
    let mut input = String::new();
    let mut expected = Vec::new();
    for (n, kt) in KeyType::CREATABLE.into_iter().enumerate() {
        let mode = kt.arg_name().unwrap();
        let mut repo_id = [0u8; 32];
        getrandom::getrandom(&mut repo_id).unwrap();
        let key = Key::generate(kt, repo_id).unwrap();
        let mut line = |field: &str, v: &[u8]| {
            input.push_str(&format!("{mode} {field} {}\n", hex::encode(v)));
        };
        line("repo_id", &repo_id);
        line("passphrase", PASS.as_bytes());
        if let Some(m) = key.material() {
            let text = m.to_key_blob_text(PASS).unwrap();
            match kt.storage() {
                KeyStorage::Keyfile => {
                    let path = tmp.path().join(format!("keyfile-{n}"));
                    std::fs::write(&path, format_keyfile(&repo_id, &text)).unwrap();
                    line("keyfile_path", path.to_str().unwrap().as_bytes());
                }
                _ => line("blob_text", text.as_bytes()),
            }
        }
        let plain = format!("object for {mode} \u{1f980}").into_bytes();
        let id = key.id_hash(&plain);
        let compressed = [&b"\x00\x00"[..], &plain].concat();
        let env = key.encrypt(0x1234_5678 + n as u64 * 1000, &compressed);
        let mut tampered = env.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x80;
        line("id", &id);
        line("envelope", &env);
        line("tampered", &tampered);
        let manifest = MapBuilder::new()
            .insert("version", 1u32)
            .insert("timestamp", "2025-01-02T03:04:05.000006")
            .insert("archives", MapBuilder::new().build())
            .insert("item_keys", Value::Array(vec![Value::raw("path")]))
            .insert(
                "config",
                MapBuilder::new().insert("tam_required", true).build(),
            )
            .build();
        let manifest = key
            .pack_and_authenticate(manifest, CONTEXT_MANIFEST, None)
            .unwrap();
        line("manifest", &manifest);
        let archive = MapBuilder::new()
            .insert("version", 1u32)
            .insert("name", format!("arch-{mode}").as_str())
            .insert("items", Value::Array(vec![Value::raw(id)]))
            .insert("cmdline", Value::Array(vec![Value::raw("oxiborg")]))
            .insert("time", "2025-01-02T03:04:05.000006")
            .build();
        let archive = key
            .pack_and_authenticate(archive, CONTEXT_ARCHIVE, None)
            .unwrap();
        line("archive", &archive);
        let mut archive_tampered = archive.clone();
        archive_tampered[3] ^= 1; // inside the "cmdline" key text
        line("archive_tampered", &archive_tampered);
        expected.push((kt, key, plain, id, archive));
    }
    // Isolated environment: borg's init_ciphers creates security dirs.
    let base = tmp.path().join("home");
    std::fs::create_dir(&base).unwrap();
    let ans = Answers(parse_lines(&python_in_env(
        oracle,
        &base,
        BORG_CHECKS_OXIBORG,
        &input,
    )));

    for (kt, key, plain, id, archive) in expected {
        let mode = kt.arg_name().unwrap();
        assert_eq!(ans.get(mode, "load_ok"), "True", "{mode}");
        assert_eq!(ans.get(mode, "wrong_ok"), "False", "{mode}");
        if let Some(m) = key.material() {
            assert_eq!(ans.hex(mode, "enc_key"), m.enc_key.to_vec());
            assert_eq!(ans.hex(mode, "id_key"), m.id_key);
            assert_eq!(ans.hex(mode, "enc_hmac_key"), m.enc_hmac_key);
        }
        assert_eq!(ans.get(mode, "chunk_seed"), key.chunk_seed().to_string());
        assert_eq!(
            ans.get(mode, "tam_required"),
            if key.tam_required() { "True" } else { "False" }
        );
        assert_eq!(
            ans.hex(mode, "plain"),
            plain,
            "{mode}: borg decrypted our envelope"
        );
        assert_eq!(ans.hex(mode, "id_hash"), id.to_vec(), "{mode}");
        let tampered = ans.get(mode, "tampered");
        if kt.is_encrypted() {
            assert!(
                tampered.contains("MAC Authentication failed"),
                "{mode}: {tampered}"
            );
        } else {
            // Unencrypted envelopes carry no MAC; borg's id check catches it.
            assert!(
                tampered.starts_with("rejected") && tampered.contains("id verification"),
                "{mode}: {tampered}"
            );
        }
        assert_eq!(ans.get(mode, "manifest_verified"), "True", "{mode}");
        assert_eq!(
            ans.get(mode, "manifest_keys"),
            "archives,config,item_keys,timestamp,version"
        );
        assert_eq!(ans.get(mode, "archive_verified"), "True", "{mode}");
        assert_eq!(ans.hex(mode, "archive_salt").len(), 64);
        assert_eq!(
            ans.hex(mode, "borg_archive"),
            archive,
            "{mode}: borg packs the same TAM'd bytes"
        );
        assert_eq!(
            ans.get(mode, "archive_tampered"),
            "rejected ArchiveTAMInvalid",
            "{mode}"
        );
    }
}

const BORG_IV_QUIRK: &str = r#"
from borg.logger import setup_logging; setup_logging(level='error')
from borg.crypto.key import RepoKey
from borg.compress import Compressor
from borg.helpers import Location
class R:
    id = bytes(32); id_str = '00' * 32; _location = Location('/nonexistent')
    n = None
    def get_free_nonce(self): return self.n
    def commit_nonce_reservation(self, nxt, prev): self.n = nxt
k = RepoKey(R()); k.init_from_random_data(); k.init_ciphers()
k.compressor = Compressor('none')
iv = lambda e: int.from_bytes(e[33:41], 'big')
a = k.encrypt(b'a' * 1000); b = k.encrypt(b'b' * 1000)
k.decrypt(None, a)
c = k.encrypt(b'c' * 1000)
print(iv(a), iv(b), iv(c))
"#;

/// Documents a borg 1.4.5 hazard oxiborg must not copy: borg's cipher object
/// is shared by encrypt and decrypt, decrypting moves its `next_iv`, and
/// `ensure_reservation` accepts any IV inside the current reservation, so an
/// encrypt after decrypting an older object reuses counter values. oxiborg's
/// `NonceManager` keeps its own counter; `Key::decrypt` has no state.
#[test]
fn borg_quirk_decrypt_rewinds_next_iv() {
    let oracle = oxiborg_oracle::require_oracle!();
    // Isolated environment: borg's NonceManager writes a security-dir nonce file.
    let tmp = tempfile::tempdir().unwrap();
    let out = python_in_env(oracle, tmp.path(), BORG_IV_QUIRK, "");
    let ivs: Vec<u64> = out.split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(ivs, [0, 63, 63], "borg reuses B's counter for C");

    let key = Key::generate(KeyType::Repokey, [0; 32]).unwrap();
    let mut nm = NonceManager::new(
        oxiborg_crypto::InMemoryNonceStore::default(),
        oxiborg_crypto::InMemoryNonceStore::default(),
        0,
    );
    let a = key.encrypt_with_nonces(&mut nm, &[b'a'; 1002]).unwrap();
    let b = key.encrypt_with_nonces(&mut nm, &[b'b'; 1002]).unwrap();
    key.decrypt(None, &a).unwrap();
    let c = key.encrypt_with_nonces(&mut nm, &[b'c'; 1002]).unwrap();
    let iv = |e: &[u8]| oxiborg_crypto::extract_iv(e).unwrap();
    assert_eq!([iv(&a), iv(&b), iv(&c)], [0, 63, 126]);
}
