//! The data path of a backup, end to end at the object level: chunk a file
//! with the key's seed, id-hash, compress and encrypt each chunk. borg 1.4.5
//! decrypts, decompresses and id-checks every object, chunks the same file
//! into the same ids (so data deduplicates across the tools), and its own
//! encrypted chunks are read back by oxiborg.

use oxiborg_chunker::{Chunker, ChunkerParams};
use oxiborg_crypto::{Key, KeyMaterial, KeyType};
use oxiborg_format::{CompressionSpec, Compressor};
use rand::{Rng, SeedableRng};

const SCRIPT: &str = r#"
import sys, io, hashlib
from borg.logger import setup_logging; setup_logging(level='error')
from borg.crypto.key import AVAILABLE_KEY_TYPES, Passphrase, PlaintextKey
from borg.helpers import Location
from borg.chunker import get_chunker
from borg.compress import Compressor
lines = sys.stdin.read().splitlines()
mode, pw, rid, blob = lines[0].split(' ')
cls = {k.ARG_NAME: k for k in AVAILABLE_KEY_TYPES if k.ARG_NAME}[mode]
class R:
    def __init__(s):
        s.id = bytes.fromhex(rid); s.id_str = rid; s._location = Location('/nonexistent/oxiborg-it'); s.n = None
    def load_key(s): return bytes.fromhex(blob)
    def get_free_nonce(s): return s.n
    def commit_nonce_reservation(s, nxt, prev): s.n = nxt
key = cls(R())
if cls is not PlaintextKey:
    assert key.load(None, Passphrase(pw)), "borg cannot load oxiborg's key blob"
    key.init_ciphers()
data = bytes.fromhex(lines[1])
for line in lines[2:]:
    i, e = line.split(' ')
    plain = key.decrypt(bytes.fromhex(i), bytes.fromhex(e))
    print('ok', i, hashlib.sha256(plain).hexdigest())
key.compressor = Compressor('zstd', level=3)
for ch in get_chunker('buzhash', 10, 16, 12, 4095, seed=key.chunk_seed).chunkify(io.BytesIO(data)):
    cid = key.id_hash(ch.data)
    print('borg', cid.hex(), key.encrypt(ch.data).hex())
"#;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex(&oxiborg_crypto::primitives::sha256(b))
}

#[test]
fn chunks_objects_and_ids_cross_between_oxiborg_and_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // Mixed content: random runs and repetitive runs, so compressors differ.
    let mut file = Vec::new();
    while file.len() < 600_000 {
        let n = rng.gen_range(1_000..40_000);
        if rng.gen_bool(0.5) {
            file.extend((0..n).map(|_| rng.gen::<u8>()));
        } else {
            file.extend(b"borg and oxiborg ".iter().cycle().take(n));
        }
    }
    let params: ChunkerParams = "buzhash,10,16,12,4095".parse().unwrap();
    let modes = [
        ("none", KeyType::Plaintext),
        ("authenticated", KeyType::Authenticated),
        ("repokey", KeyType::Repokey),
        ("repokey-blake2", KeyType::Blake2Repokey),
        ("authenticated-blake2", KeyType::Blake2Authenticated),
    ];
    let repo_id: [u8; 32] = rng.gen();
    for (i, (mode, kt)) in modes.into_iter().enumerate() {
        let (key, blob) = if kt == KeyType::Plaintext {
            (Key::plaintext(), "00".to_string())
        } else {
            let m = KeyMaterial::generate(kt, repo_id).unwrap();
            let blob = m.to_key_blob_text("pw").unwrap();
            (Key::new(kt, m).unwrap(), hex(blob.as_bytes()))
        };
        let spec = ["lz4", "zstd,3", "zlib,6", "lzma,1", "auto,zstd,9"][i];
        let compressor = Compressor::new(CompressionSpec::parse(spec).unwrap());
        let chunker = Chunker::new(params, key.chunk_seed() as u32).unwrap();
        let mut ours = Vec::new();
        let mut input = format!("{mode} pw {} {blob}\n{}\n", hex(&repo_id), hex(&file));
        for (n, chunk) in chunker.split(&file).enumerate() {
            let data = chunk;
            let id = key.id_hash(data);
            let envelope = key.encrypt(n as u64 * 100_000, &compressor.compress(data));
            input += &format!("{} {}\n", hex(&id), hex(&envelope));
            ours.push((id, sha256_hex(data)));
        }
        let out = String::from_utf8(oracle.run_python(SCRIPT, input.as_bytes())).unwrap();
        let mut verified = 0;
        let mut borg_ids = Vec::new();
        for line in out.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            match f[0] {
                "ok" => {
                    assert_eq!(
                        (f[1].to_string(), f[2].to_string()),
                        (hex(&ours[verified].0), ours[verified].1.clone()),
                        "{mode}"
                    );
                    verified += 1;
                }
                "borg" => {
                    let id = unhex(f[1]);
                    // oxiborg reads borg's object: MAC/type check, zstd, id check.
                    let compressed = key
                        .decrypt(Some(&id.clone().try_into().unwrap()), &unhex(f[2]))
                        .unwrap();
                    let plain = Compressor::decompress(&compressed).unwrap();
                    key.assert_id(&id.clone().try_into().unwrap(), &plain)
                        .unwrap();
                    borg_ids.push(id);
                }
                _ => panic!("unexpected output {line}"),
            }
        }
        assert_eq!(verified, ours.len(), "{mode}: borg verified every object");
        let our_ids: Vec<Vec<u8>> = ours.iter().map(|(id, _)| id.to_vec()).collect();
        assert!(
            our_ids.len() > 10,
            "{mode}: expected many chunks, got {}",
            our_ids.len()
        );
        assert_eq!(
            our_ids, borg_ids,
            "{mode}: same chunks, same ids: the data deduplicates across tools"
        );
    }
}
