//! Process identity (`platform/base.py: hostid, get_process_id`) and the
//! liveness test (`platform/posix.pyx: process_alive, local_pid_alive`).

use std::sync::OnceLock;

use rustix::io::Errno;
use rustix::process::Pid;

/// Identity of a lock holder: `(hostid, pid, thread)` like borg's
/// `get_process_id()`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProcessId {
    /// borg's host id, normally `"<fqdn>@<mac as decimal>"` (see [`host_id`]).
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// Thread id; always 0 in borg 1.x.
    pub thread: u32,
}

impl ProcessId {
    /// This process, with `host_id` computed by the caller (normally
    /// [`host_id()`], or `BORG_HOST_ID` when the CLI found it set).
    /// `thread` is 0 like borg.
    pub fn current(host_id: String) -> Self {
        ProcessId {
            host: host_id,
            pid: std::process::id(),
            thread: 0,
        }
    }

    /// The name of this holder's file in `lock.exclusive/`:
    /// `"%s.%d-%x" % (host, pid, thread)`.
    pub fn lock_file_name(&self) -> String {
        format!("{}.{}-{:x}", self.host, self.pid, self.thread)
    }
}

/// borg's default host id, `f"{fqdn}@{uuid.getnode()}"`, computed once per
/// process (like borg, which computes it at import time).
///
/// The library never reads environment variables: the CLI checks
/// `BORG_HOST_ID` itself and only calls this when it is unset or empty.
///
/// * `fqdn` is borg's patched `socket.getfqdn()`: the first non-empty
///   canonical name of `getaddrinfo(gethostname(), None, 0, SOCK_DGRAM, 0,
///   AI_CANONNAME)`, or the plain host name when that lookup fails.
/// * The node is CPython's `uuid.getnode()` on Linux, which takes the node
///   field of a libuuid `uuid_generate_time_safe()` UUID. libuuid uses the
///   hardware address of the first interface in `SIOCGIFCONF` order (i.e.
///   among interfaces with an IPv4 address, only the first 25 such
///   addresses) whose address is not all zeros; the MAC is then read as a
///   big-endian 48-bit integer. We ask the kernel over rtnetlink for the
///   IPv4 addresses and link addresses and walk interfaces in ascending
///   ifindex order, which is the kernel's device-list order on all usual
///   systems.
/// * When no such interface exists (or netlink is unavailable), libuuid and
///   therefore borg use a random 48-bit number with the multicast bit
///   (`1 << 40`) set, freshly chosen *per process*: borg's host id is then
///   not stable across processes, so neither borg nor oxiborg can recognise
///   each other's (or their own earlier) locks as same-host stale locks. We
///   do exactly the same (one random node per process), which is the only
///   faithful choice; such hosts should set `BORG_HOST_ID`.
/// * If a `uuidd` daemon is running, libuuid asks it instead; it derives the
///   node the same way (in its own network namespace).
pub fn host_id() -> String {
    static HOST_ID: OnceLock<String> = OnceLock::new();
    HOST_ID
        .get_or_init(|| {
            let fqdn = getfqdn(&gethostname());
            let node = crate::netlink::libuuid_node().unwrap_or_else(random_node);
            format!("{fqdn}@{node}")
        })
        .clone()
}

/// `socket.gethostname()`: the uname node name.
fn gethostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Python's `str.isspace()` for the characters a host name could contain.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// borg's patched `socket.getfqdn(name)` (`platform/base.py`).
fn getfqdn(name: &str) -> String {
    let mut name = name.trim_matches(py_isspace).to_string();
    if name.is_empty() || name == "0.0.0.0" {
        name = gethostname();
    }
    // AI_CANONNAME and SOCK_DGRAM have these values on every Linux libc.
    const AI_CANONNAME: i32 = 0x0002;
    const SOCK_DGRAM: i32 = 2;
    let hints = dns_lookup::AddrInfoHints {
        flags: AI_CANONNAME,
        address: 0,
        socktype: SOCK_DGRAM,
        protocol: 0,
    };
    // dns-lookup unwraps a non-UTF-8 canonical name; never let that escape.
    let lookup = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dns_lookup::getaddrinfo(Some(&name), None, Some(hints)).map(|addrs| {
            addrs
                .filter_map(Result::ok)
                .find_map(|a| a.canonname.filter(|c| !c.is_empty()))
        })
    }));
    match lookup {
        Ok(Ok(Some(canon))) => canon,
        _ => name,
    }
}

/// libuuid's fallback node: random 48 bits with the multicast bit set.
fn random_node() -> u64 {
    (rand::random::<u64>() & 0xffff_ffff_ffff) | (1 << 40)
}

/// An integer as Python sees it in a lock file name or the roster, reduced
/// to what the liveness test needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PyInt {
    /// Fits in an i128.
    Small(i128),
    /// Too large for anything; never zero.
    Big,
}

impl PyInt {
    /// Parse normalized decimal text (as produced by the JSON reader).
    pub(crate) fn from_decimal(s: &str) -> PyInt {
        match s.parse::<i128>() {
            Ok(v) => PyInt::Small(v),
            Err(_) => PyInt::Big,
        }
    }

    fn is_zero(self) -> bool {
        self == PyInt::Small(0)
    }
}

/// What `process_alive` concluded.
pub(crate) type Alive = Result<bool, String>;

/// `platform.process_alive(host, pid, thread)`: `Ok(false)` only for a
/// provably dead process on this host; `Err` where borg would raise
/// (`OverflowError` for a pid outside C `int`).
pub(crate) fn process_alive(my_host: &[u8], host: &[u8], pid: PyInt, thread: PyInt) -> Alive {
    if host != my_host {
        return Ok(true);
    }
    if !thread.is_zero() {
        return Ok(true);
    }
    local_pid_alive(pid)
}

/// `os.kill(pid, 0)`; only ESRCH means dead.
fn local_pid_alive(pid: PyInt) -> Alive {
    let pid = match pid {
        PyInt::Small(p) if (i32::MIN as i128..=i32::MAX as i128).contains(&p) => p as i32,
        _ => return Err("OverflowError: Python int too large to convert to C int".into()),
    };
    let result = if pid > 0 {
        match Pid::from_raw(pid) {
            Some(p) => rustix::process::test_kill_process(p),
            None => Ok(()),
        }
    } else if pid == 0 {
        rustix::process::test_kill_current_process_group()
    } else if pid == -1 {
        // kill(-1, 0) probes "every process we may signal"; there always is
        // one in practice, and rustix offers no safe call for it.
        Ok(())
    } else if pid == i32::MIN {
        // The kernel answers ESRCH for INT_MIN.
        Err(Errno::SRCH)
    } else {
        match Pid::from_raw(-pid) {
            Some(p) => rustix::process::test_kill_process_group(p),
            None => Ok(()),
        }
    };
    match result {
        Ok(()) => Ok(true),
        Err(e) if e == Errno::SRCH => Ok(false),
        Err(_) => Ok(true),
    }
}

/// Python's `int(s, radix)` on ASCII input (radix 10 or 16); `None` where
/// Python raises `ValueError`.
pub(crate) fn py_int(s: &[u8], radix: u32) -> Option<PyInt> {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f);
    let start = s.iter().position(|b| !is_ws(b))?;
    let end = s.iter().rposition(|b| !is_ws(b))? + 1;
    let mut s = &s[start..end];
    let negative = match s.first() {
        Some(b'-') => true,
        Some(b'+') => false,
        _ => {
            return parse_digits(s, radix, false);
        }
    };
    s = &s[1..];
    parse_digits(s, radix, negative)
}

fn parse_digits(mut s: &[u8], radix: u32, negative: bool) -> Option<PyInt> {
    let mut underscore_ok = false; // an '_' may follow a digit or the base prefix
    if radix == 16 && s.len() >= 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') {
        s = &s[2..];
        underscore_ok = true;
    }
    if radix == 10 && s.len() > 4300 {
        return None; // int_max_str_digits
    }
    let mut value = PyInt::Small(0);
    let mut any_digit = false;
    let mut last_underscore = false;
    for &b in s {
        if b == b'_' {
            if !underscore_ok || last_underscore {
                return None;
            }
            last_underscore = true;
            continue;
        }
        let d = (b as char).to_digit(radix)?;
        any_digit = true;
        last_underscore = false;
        underscore_ok = true;
        value = match value {
            PyInt::Small(v) => v
                .checked_mul(radix as i128)
                .and_then(|v| v.checked_add(d as i128))
                .map_or(PyInt::Big, PyInt::Small),
            PyInt::Big => PyInt::Big,
        };
    }
    if !any_digit || last_underscore {
        return None;
    }
    Some(match value {
        PyInt::Small(v) if negative => PyInt::Small(-v),
        v => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_parsing() {
        let ok10 = [
            ("17002", 17002),
            (" 12 ", 12),
            ("-5", -5),
            ("+7", 7),
            ("1_000", 1000),
            ("007", 7),
        ];
        for (s, v) in ok10 {
            assert_eq!(py_int(s.as_bytes(), 10), Some(PyInt::Small(v)), "{s}");
        }
        let ok16 = [
            ("0", 0),
            ("ff", 255),
            ("0x1F", 31),
            ("0x_f", 15),
            ("-a", -10),
        ];
        for (s, v) in ok16 {
            assert_eq!(py_int(s.as_bytes(), 16), Some(PyInt::Small(v)), "{s}");
        }
        for bad in ["", " ", "_1", "1_", "1__0", "0x10", "1a", "- 5", "+", "1.5"] {
            assert_eq!(py_int(bad.as_bytes(), 10), None, "{bad}");
        }
        for bad in ["_f", "0x", "x1", "g"] {
            assert_eq!(py_int(bad.as_bytes(), 16), None, "{bad}");
        }
        assert_eq!(py_int("9".repeat(60).as_bytes(), 10), Some(PyInt::Big));
        assert_eq!(py_int("9".repeat(4301).as_bytes(), 10), None);
    }

    #[test]
    fn liveness() {
        let me = b"h@1".as_slice();
        let pid = PyInt::Small(std::process::id() as i128);
        assert_eq!(process_alive(me, me, pid, PyInt::Small(0)), Ok(true));
        // other host / nonzero thread: never stale
        assert_eq!(
            process_alive(
                me,
                b"other",
                PyInt::Small(i32::MAX as i128),
                PyInt::Small(0)
            ),
            Ok(true)
        );
        assert_eq!(
            process_alive(me, me, PyInt::Small(i32::MAX as i128), PyInt::Small(1)),
            Ok(true)
        );
        // pid_max is at most 2**22, so this pid cannot exist
        assert_eq!(
            process_alive(me, me, PyInt::Small(i32::MAX as i128), PyInt::Small(0)),
            Ok(false)
        );
        assert!(process_alive(me, me, PyInt::Small(1 << 40), PyInt::Small(0)).is_err());
        assert!(process_alive(me, me, PyInt::Big, PyInt::Small(0)).is_err());
    }

    #[test]
    fn host_id_shape() {
        let id = host_id();
        let (fqdn, node) = id.rsplit_once('@').expect("fqdn@node");
        assert!(!fqdn.is_empty());
        let node: u64 = node.parse().expect("decimal node");
        assert!(node < 1 << 48);
        assert_eq!(host_id(), id, "cached");
    }

    #[test]
    fn lock_file_name_format() {
        let id = ProcessId {
            host: "vm@3281355014145".into(),
            pid: 17002,
            thread: 255,
        };
        assert_eq!(id.lock_file_name(), "vm@3281355014145.17002-ff");
    }
}
