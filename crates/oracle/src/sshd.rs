//! A real OpenSSH `sshd` on 127.0.0.1 for the remote-repository tests and
//! benches, set up as a NAS would be: a generated host key, and an
//! `authorized_keys` whose keys may carry forced commands.
//!
//! sshd gives each session a clean environment, so a forced command must
//! carry what it needs (`env BORG_BASE_DIR=... /path/borg serve ...`).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs sshd.
pub const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd; dropping it stops the daemon.
#[derive(Debug)]
pub struct Sshd {
    dir: PathBuf,
    port: u16,
    child: Child,
    user: String,
}

fn run_quiet(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            let out = Command::new("id").arg("-un").output().ok()?;
            Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "root".into())
}

impl Sshd {
    /// Start sshd with its configuration, host key and `authorized_keys`
    /// in `dir`, on a free port of 127.0.0.1, and wait until it accepts
    /// connections.
    pub fn start(dir: &Path) -> Result<Sshd, String> {
        if !Path::new(SSHD).exists() {
            return Err(format!(
                "{SSHD} not found: install openssh-server (cargo xtask test does)"
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // sshd insists on its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let host_key = dir.join("host_ed25519");
        if !host_key.exists() {
            run_quiet(
                Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                    .arg(&host_key),
            )?;
        }
        let auth = dir.join("authorized_keys");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&auth)
            .map_err(|e| format!("{}: {e}", auth.display()))?;
        let mut last_err = String::new();
        // A port found free can be taken before sshd binds it: retry.
        for _ in 0..5 {
            let port = free_port()?;
            let config = dir.join("sshd_config");
            let text = format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {pid}\n\
                 AuthorizedKeysFile {auth}\nStrictModes no\nUsePAM no\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PrintMotd no\nAcceptEnv no\nMaxStartups 100:30:200\nMaxSessions 100\n\
                 LogLevel ERROR\nSubsystem sftp internal-sftp\n",
                hk = host_key.display(),
                pid = dir.join("sshd.pid").display(),
                auth = auth.display(),
            );
            std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
            let log = std::fs::File::create(dir.join("sshd.log"))
                .map_err(|e| format!("sshd log: {e}"))?;
            let mut child = Command::new(SSHD)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .map_err(|e| format!("cannot start {SSHD}: {e}"))?;
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last_err = format!(
                        "sshd exited with {status}: {}",
                        std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
                    );
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Sshd {
                        dir: dir.to_path_buf(),
                        port,
                        child,
                        user: current_user(),
                    });
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_err = "sshd did not listen within 10 s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(last_err)
    }

    /// The port sshd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user the clients log in as (the one running the tests).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Generate client key `name` and authorize it, with
    /// `command="<forced>",restrict` when `forced` is given. Returns the
    /// `BORG_RSH` value that logs in with exactly that key.
    pub fn client(&self, name: &str, forced: Option<&str>) -> String {
        let key = self.dir.join(format!("client_{name}"));
        if !key.exists() {
            run_quiet(
                Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                    .arg(&key),
            )
            .unwrap_or_else(|e| panic!("client key {name}: {e}"));
        }
        let public = std::fs::read_to_string(key.with_extension("pub"))
            .unwrap_or_else(|e| panic!("client key {name}.pub: {e}"));
        let line = match forced {
            Some(cmd) => format!(
                "command=\"{}\",restrict {}",
                cmd.replace('\\', "\\\\").replace('"', "\\\""),
                public.trim()
            ),
            None => format!("restrict {}", public.trim()),
        };
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("authorized_keys"))
            .expect("authorized_keys");
        writeln!(f, "{line}").expect("write authorized_keys");
        format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o IdentityAgent=none \
             -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
             -o LogLevel=ERROR -o Ciphers=aes128-gcm@openssh.com -o Compression=no",
            key.display()
        )
    }

    /// `ssh://user@127.0.0.1:<port><path>` for an absolute `path`.
    pub fn url(&self, path: &Path) -> String {
        assert!(path.is_absolute(), "{} is not absolute", path.display());
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            path.display()
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forced_command_runs_whatever_the_client_asks() {
        if !Path::new(SSHD).exists() {
            assert!(!crate::in_ci(), "{SSHD} missing in CI");
            eprintln!("skipping: {SSHD} not installed");
            return;
        }
        let dir = std::env::temp_dir().join(format!("oxiborg-sshd-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sshd = Sshd::start(&dir).expect("sshd starts");
        let free = sshd.client("free", None);
        let forced = sshd.client("forced", Some("echo forced $SSH_ORIGINAL_COMMAND"));
        let run = |rsh: &str| {
            let mut argv: Vec<String> = rsh.split_whitespace().map(String::from).collect();
            argv.extend([
                "-p".into(),
                sshd.port().to_string(),
                format!("{}@127.0.0.1", sshd.user()),
                "echo".into(),
                "hello".into(),
            ]);
            let out = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        assert_eq!(run(&free), "hello");
        assert_eq!(run(&forced), "forced echo hello");
        drop(sshd);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
