//! [`PlaceholderValues::from_system`]: the values borg computes from the
//! running system (system calls only; no environment variables).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::borg::PlaceholderValues;
use crate::value::FieldValue;
use crate::zone::LocalZone;

impl PlaceholderValues {
    /// Everything from the system, with the local zone read from
    /// `/etc/localtime` (what glibc uses when `TZ` is unset; a caller that
    /// honours `TZ` uses [`PlaceholderValues::from_system_in_zone`] with
    /// [`LocalZone::from_tz`]).
    ///
    /// The caller still applies borg's environment overrides:
    /// `BORG_HOSTNAME` (non-empty) replaces `hostname`, `BORG_USERNAME`
    /// (non-empty) replaces `user`.
    pub fn from_system(borg_version: &str) -> Self {
        Self::from_system_in_zone(borg_version, &LocalZone::system())
    }

    /// [`PlaceholderValues::from_system`] with an explicit local zone.
    ///
    /// * `hostname`: `gethostname()` up to the first `.` (borg's
    ///   `hostname.split('.')[0]`);
    /// * `fqdn`: borg's patched `socket.getfqdn()` of the full host name:
    ///   the first non-empty canonical name from
    ///   `getaddrinfo(name, None, 0, SOCK_DGRAM, 0, AI_CANONNAME)`, or the
    ///   host name when the lookup fails (this may query DNS, like borg);
    /// * `user`: the passwd name of the real uid (`getuid()`), or the uid
    ///   itself as an int;
    /// * `pid`, the current time (floored to microseconds, like
    ///   `datetime.now()`), and a random version-4 UUID.
    pub fn from_system_in_zone(borg_version: &str, zone: &LocalZone) -> Self {
        let full_host = gethostname();
        let fqdn = getfqdn(&full_host);
        let hostname = full_host.split('.').next().unwrap_or("").to_string();
        let uid = nix::unistd::getuid();
        let user = match nix::unistd::User::from_uid(uid) {
            Ok(Some(u)) => FieldValue::Str(u.name),
            _ => FieldValue::Int(i128::from(uid.as_raw())),
        };
        let (secs, micros) = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
            Err(e) => {
                // Before 1970: floor to the microsecond.
                let d = e.duration();
                let total = -(d.as_micros() as i128);
                (
                    total.div_euclid(1_000_000) as i64,
                    total.rem_euclid(1_000_000) as u32,
                )
            }
        };
        PlaceholderValues::new(
            std::process::id(),
            fqdn,
            hostname,
            user,
            uuid4(),
            borg_version,
            secs,
            micros,
            zone,
        )
    }
}

/// `socket.gethostname()`.
pub fn gethostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Python's `str.isspace()` for what a host name could contain.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// borg's patched `socket.getfqdn(name)` (`platform/base.py`).
pub fn getfqdn(name: &str) -> String {
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

/// `str(uuid.uuid4())`: 122 random bits, version 4, RFC 4122 variant.
pub fn uuid4() -> String {
    let mut b = [0u8; 16];
    if getrandom::getrandom(&mut b).is_err() {
        // No entropy source: fall back to the clock (never in practice).
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = (t ^ (u128::from(std::process::id()) << 64)).to_le_bytes();
    }
    uuid4_from_bytes(b)
}

/// The uuid4 string for 16 given random bytes (version and variant bits
/// are forced, like `uuid.UUID(bytes=b, version=4)`).
pub fn uuid4_from_bytes(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(
            uuid4_from_bytes([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
    }

    #[test]
    fn system_values() {
        let v = PlaceholderValues::from_system("1.4.5");
        assert!(!v.hostname.contains('.'));
        assert_eq!(v.pid, std::process::id());
        assert_eq!(
            v.to_field_map().get("borgpatch"),
            Some(&FieldValue::str("1.4.5"))
        );
    }
}
