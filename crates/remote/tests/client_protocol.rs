//! What the client writes, byte for byte: against a real `borg serve`
//! 1.4.5 (captured with a `tee` in the "ssh" command) and against a scripted
//! borg 1.0-style peer.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use oxiborg_msgpack::Decoder;
use oxiborg_remote::codec::{parse_request, Format, Request};
use oxiborg_remote::fuzzing::no_bin;
use oxiborg_remote::{ClientOptions, RemoteLocation, RemoteOutput, RemoteRepository};
use oxiborg_repository::{CommitOptions, OpenOptions, Repository};

#[derive(Debug)]
struct Quiet;

impl RemoteOutput for Quiet {
    fn remote_log(&self, _: &str, _: &str, _: &str) {}
    fn remote_progress(&self, _: &str, _: Option<&str>) {}
    fn remote_raw(&self, _: &str) {}
}

fn script(path: &Path, body: &str) -> PathBuf {
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

/// An "ssh" that drops the host and runs the rest locally, copying what
/// the client sends to `capture`. The server's borg directories live in
/// `base`.
fn tee_rsh(dir: &Path, capture: &Path, base: &Path) -> PathBuf {
    script(
        &dir.join("rsh-tee"),
        &format!(
            "#!/bin/sh\nshift\nexport BORG_BASE_DIR='{}'\ntee '{}' | \"$@\"\n",
            base.display(),
            capture.display()
        ),
    )
}

fn location(path: &Path) -> RemoteLocation {
    RemoteLocation {
        user: None,
        host: "backup.example".into(),
        port: None,
        path: path.display().to_string(),
        processed: format!("ssh://backup.example{}", path.display()),
    }
}

fn options(rsh: &Path, remote_path: &Path) -> ClientOptions {
    ClientOptions {
        rsh: vec![rsh.display().to_string()],
        remote_path: remote_path.display().to_string(),
        serve_options: vec![],
        upload_ratelimit: 0,
        upload_buffer: 0,
        env_remove: vec![],
        output: Arc::new(Quiet),
    }
}

/// The messages of a captured stream, each as its bytes.
fn messages(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut d = Decoder::new(stream);
    let mut out = Vec::new();
    let mut pos = 0;
    while d
        .next_value()
        .expect("the client wrote valid msgpack")
        .is_some()
    {
        out.push(stream[pos..d.position()].to_vec());
        pos = d.position();
    }
    assert_eq!(pos, stream.len(), "a partial message at the end");
    out
}

fn request(bytes: &[u8]) -> Request {
    parse_request(oxiborg_msgpack::decode_one(bytes).unwrap()).unwrap()
}

fn open_options(create: bool, exclusive: Option<bool>) -> OpenOptions {
    let mut o = OpenOptions::exclusive(oxiborg_lock::ProcessId::current("hostile-test".into()));
    o.create = create;
    o.exclusive = exclusive;
    o
}

fn borg_init(o: &oxiborg_oracle::Oracle, base: &Path, repo: &Path) {
    let out = Command::new(o.borg14())
        .env("BORG_BASE_DIR", base)
        .args(["init", "-e", "none"])
        .arg(repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn session_start_is_byte_identical_to_borg_1_4_5() {
    let Some(o) = oxiborg_oracle::get() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let repo = t.join("repo");
    borg_init(o, &base, &repo);
    // borg list: negotiate, then open(path, create=False, lock_wait=1,
    // lock=True, exclusive=False, append_only=False, make_parent_dirs=False).
    let borg_cap = t.join("borg.c2s");
    let rsh = tee_rsh(t, &borg_cap, &base);
    let out = Command::new(o.borg14())
        .env("BORG_BASE_DIR", &base)
        .env("BORG_RSH", &rsh)
        .env("BORG_REMOTE_PATH", o.borg14())
        .env("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes")
        .env("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes")
        .arg("list")
        .arg(format!("ssh://backup.example{}", repo.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let borg_msgs = messages(&std::fs::read(&borg_cap).unwrap());

    let ox_cap = t.join("oxiborg.c2s");
    let rsh = tee_rsh(t, &ox_cap, &base);
    let r = RemoteRepository::connect(
        &location(&repo),
        &options(&rsh, &o.borg14()),
        &open_options(false, Some(false)),
    )
    .unwrap();
    assert_eq!(r.server_version(), [1, 4, 5, -1]);
    Box::new(r).close_boxed().unwrap();
    let ox_msgs = messages(&std::fs::read(&ox_cap).unwrap());
    assert_eq!(ox_msgs.len(), 2, "only negotiate and open");
    assert_eq!(
        ox_msgs[..],
        borg_msgs[..2],
        "negotiate and open differ from borg's"
    );
    let open = request(&ox_msgs[1]);
    let names: Vec<&str> = open.args.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "path",
            "create",
            "lock_wait",
            "lock",
            "exclusive",
            "append_only",
            "make_parent_dirs"
        ]
    );
}

#[test]
fn a_whole_session_sends_raw_types_only() {
    let Some(o) = oxiborg_oracle::get() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let base = t.join("base");
    let repo = t.join("repo");
    let cap = t.join("c2s");
    let rsh = tee_rsh(t, &cap, &base);
    let mut r = RemoteRepository::connect(
        &location(&repo),
        &options(&rsh, &o.borg14()),
        &open_options(true, Some(true)),
    )
    .unwrap();
    // Sizes that need fixstr, str8, str16 and str32 headers (bin would be
    // 0xc4..0xc6: borg 1.2 servers refuse it).
    let mut ids = Vec::new();
    for (i, len) in [0usize, 17, 200, 4000, 70_000, 300_000]
        .into_iter()
        .enumerate()
    {
        let mut id = [0u8; 32];
        id[0] = 1 + i as u8;
        r.put(&id, &vec![0xc4; len]).unwrap();
        ids.push(id);
    }
    r.commit(CommitOptions::default()).unwrap();
    let got = r.get_many(&ids).unwrap();
    assert_eq!(got[4].len(), 70_000);
    r.delete(&ids[0]).unwrap();
    assert_eq!(r.list(Some(100), None).unwrap().len(), 5);
    r.commit(CommitOptions::default()).unwrap();
    assert_eq!(r.len().unwrap(), 5);
    Box::new(r).close_boxed().unwrap();

    let stream = std::fs::read(&cap).unwrap();
    assert!(no_bin(&stream), "the client sent a bin type");
    let msgs = messages(&stream);
    let reqs: Vec<Request> = msgs.iter().map(|m| request(m)).collect();
    assert_eq!(reqs[0].method, "negotiate");
    assert_eq!(reqs[0].format, Format::Legacy);
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(r.msgid, i as u64 + 1, "message ids count up from 1");
        if i > 0 {
            assert_eq!(r.format, Format::Dict, "{}", r.method);
        }
    }
    let methods: Vec<&str> = reqs.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods[..2], ["negotiate", "open"]);
    assert!(methods.contains(&"commit") && methods.contains(&"delete"));
}

#[test]
fn a_borg_1_0_server_gets_legacy_requests() {
    // A server that answers negotiate with the bare protocol version 2
    // (borg 1.0) must be spoken to in the tuple format only. The peer is a
    // shell script: both replies up front, then it records what it gets.
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let cap = t.join("c2s");
    let server = script(
        &t.join("server"),
        &format!(
            "#!/bin/sh\nprintf '\\224\\001\\001\\300\\002'\nprintf '\\224\\001\\002\\300\\331\\040'\nprintf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\nexec cat > '{}'\n",
            cap.display()
        ),
    );
    let rsh = script(&t.join("rsh"), "#!/bin/sh\nshift\nexec \"$@\"\n");
    let mut opts = open_options(false, Some(false));
    opts.lock_wait = Some(Duration::from_secs(1));
    let r = RemoteRepository::connect(
        &location(Path::new("/srv/r")),
        &options(&rsh, &server),
        &opts,
    )
    .unwrap();
    assert_eq!(r.id(), [b'a'; 32]);
    assert_eq!(r.server_version(), [1, 0, 8, -1]);
    Box::new(r).close_boxed().unwrap();
    let stream = std::fs::read(&cap).unwrap();
    let msgs = messages(&stream);
    assert_eq!(msgs.len(), 2, "negotiate and open");
    let negotiate = request(&msgs[0]);
    assert_eq!(
        (negotiate.format, negotiate.method.as_str()),
        (Format::Legacy, "negotiate")
    );
    // [1, 2, "open", [path, create, lock_wait, lock, exclusive, append_only]]
    let mut want = vec![0x94, 0x01, 0x02, 0xa4];
    want.extend_from_slice(b"open");
    want.extend_from_slice(&[0x96, 0xa6]);
    want.extend_from_slice(b"/srv/r");
    want.extend_from_slice(&[0xc2, 0x01, 0xc3, 0xc2, 0xc2]);
    assert_eq!(msgs[1], want);
}
