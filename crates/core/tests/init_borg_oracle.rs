//! Repositories initialised by oxiborg, in every mode, are used by real borg
//! 1.4.5 and 1.2.x: check, create and list work, with no TAM complaints.
//! And oxiborg reads the manifest borg then wrote.

use std::path::Path;
use std::sync::Arc;

use oxiborg_core::{
    decode_manifest, init, load_key, read_manifest_envelope, BorgDirs, FixedPassphrase,
    InitOptions, KeyLocation,
};
use oxiborg_crypto::KeyType;
use oxiborg_oracle::Borg;
use oxiborg_repository::{LocalRepository, NullReporter, OpenOptions};

fn dirs(base: &Path) -> BorgDirs {
    BorgDirs {
        keys_dir: base.join(".config/borg/keys"),
        security_dir: base.join(".config/borg/security"),
        cache_dir: base.join(".cache/borg"),
        key_file: None,
    }
}

fn open_opts() -> OpenOptions {
    OpenOptions::exclusive(oxiborg_lock::ProcessId::current(oxiborg_lock::host_id()))
}

const MODES: [KeyType; 7] = [
    KeyType::Plaintext,
    KeyType::Authenticated,
    KeyType::Blake2Authenticated,
    KeyType::Repokey,
    KeyType::Keyfile,
    KeyType::Blake2Repokey,
    KeyType::Blake2Keyfile,
];

#[test]
fn borg_uses_repositories_oxiborg_initialised() {
    let oracle = oxiborg_oracle::require_oracle!();
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.txt"), b"hello borg\n").unwrap();
    std::fs::write(data.join("sub/b.bin"), vec![7u8; 300_000]).unwrap();
    let d = dirs(base.path());
    for mode in MODES {
        let name = mode.arg_name().unwrap();
        let repo = base.path().join(format!("repo-{name}"));
        let opts = InitOptions {
            mode,
            open: open_opts(),
            canonical_location: repo.to_string_lossy().into_owned(),
        };
        let out = init(
            &repo,
            &opts,
            &d,
            &mut FixedPassphrase("secret pw".into()),
            Arc::new(NullReporter),
        )
        .unwrap();
        match (mode, &out.key_location) {
            (KeyType::Plaintext, KeyLocation::None) => {}
            (KeyType::Keyfile | KeyType::Blake2Keyfile, KeyLocation::Keyfile(p)) => {
                assert!(p.starts_with(&d.keys_dir))
            }
            (_, KeyLocation::Repository) => {}
            (m, l) => panic!("{m:?} stored its key at {l:?}"),
        }
        let repo_s = repo.to_str().unwrap();
        for which in [Borg::V14, Borg::V12] {
            let run = |args: &[&str]| {
                let o = oracle
                    .borg(which, base.path())
                    .env("BORG_PASSPHRASE", "secret pw")
                    .args(args)
                    .output()
                    .unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
                assert!(
                    o.status.success(),
                    "{which:?} {name}: borg {args:?} failed:\n{text}"
                );
                assert!(
                    !text.contains("TAM"),
                    "{which:?} {name}: TAM complaint:\n{text}"
                );
                text
            };
            run(&["check", repo_s]);
            let archive = format!("{repo_s}::a-{which:?}");
            run(&["create", &archive, data.to_str().unwrap()]);
            let listed = run(&["list", "--short", repo_s]);
            assert!(
                listed.contains(&format!("a-{which:?}")),
                "{which:?} {name}: {listed}"
            );
            run(&["check", "--verify-data", repo_s]);
        }
        // oxiborg reads borg's new manifest with the key it made.
        let mut r = LocalRepository::open(&repo, &open_opts(), Arc::new(NullReporter)).unwrap();
        let env = read_manifest_envelope(&mut r).unwrap();
        let sec = d.security_dir_for(&out.repository_id);
        let key = load_key(
            &mut r,
            env[0],
            &d,
            &mut FixedPassphrase("secret pw".into()),
            &repo.to_string_lossy(),
            sec.join("tam_required").exists(),
        )
        .unwrap();
        let m = decode_manifest(&key, &env).unwrap();
        assert!(
            m.tam_verified || mode == KeyType::Plaintext || m.manifest.tam_required(),
            "{name}"
        );
        let names: Vec<_> = m
            .manifest
            .archives
            .keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect();
        assert_eq!(
            names,
            vec!["a-V12".to_string(), "a-V14".to_string()],
            "{name}"
        );
        // The security directory holds what borg expects there.
        assert_eq!(
            std::fs::read_to_string(sec.join("key-type")).unwrap(),
            mode.type_byte().to_string()
        );
    }
}

#[test]
fn wrong_passphrase_is_refused() {
    let base = tempfile::tempdir().unwrap();
    let d = dirs(base.path());
    let repo = base.path().join("repo");
    let opts = InitOptions {
        mode: KeyType::Repokey,
        open: open_opts(),
        canonical_location: repo.to_string_lossy().into_owned(),
    };
    init(
        &repo,
        &opts,
        &d,
        &mut FixedPassphrase("right".into()),
        Arc::new(NullReporter),
    )
    .unwrap();
    let mut r = LocalRepository::open(&repo, &open_opts(), Arc::new(NullReporter)).unwrap();
    let env = read_manifest_envelope(&mut r).unwrap();
    let e = load_key(
        &mut r,
        env[0],
        &d,
        &mut FixedPassphrase("wrong".into()),
        &repo.to_string_lossy(),
        true,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            oxiborg_core::CoreError::Crypto(oxiborg_crypto::CryptoError::WrongPassphrase)
        ),
        "{e}"
    );
}
