//! The node libuuid (and so CPython's `uuid.getnode()` and borg's host id)
//! derives from the network interfaces, read over rtnetlink without `unsafe`.
//!
//! libuuid's `get_node_id()` runs `SIOCGIFCONF` on an `AF_INET` socket with
//! a 1024-byte buffer (25 `struct ifreq` entries on 64-bit Linux: one per
//! IPv4 address, devices in kernel list order), then `SIOCGIFHWADDR` on each,
//! and takes the first hardware address whose first six bytes are not all
//! zero. We rebuild that list from `RTM_GETADDR` (IPv4) and `RTM_GETLINK`
//! (`IFLA_ADDRESS`) dumps, ordering devices by ifindex.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{recv, sendto, socket, sockopt, AddressFamily, RecvFlags, SendFlags, SocketType};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const AF_INET: u8 = 2;
const IFLA_ADDRESS: u16 = 1;
/// `sizeof(buf) / sizeof(struct ifreq)` in libuuid on 64-bit Linux.
const IFCONF_ENTRIES: usize = 1024 / 40;

/// The node libuuid would use, or `None` if it would fall back to random.
pub(crate) fn libuuid_node() -> Option<u64> {
    // Protocol 0 is NETLINK_ROUTE.
    let fd = socket(AddressFamily::NETLINK, SocketType::RAW, None).ok()?;
    sockopt::set_socket_timeout(&fd, sockopt::Timeout::Recv, Some(Duration::from_secs(2))).ok()?;

    // struct ifaddrmsg { family, prefixlen, flags, scope, index: u32 }
    let addrs = dump(&fd, RTM_GETADDR, &[AF_INET, 0, 0, 0, 0, 0, 0, 0], 1)?;
    let mut ipv4: Vec<(u32, usize)> = Vec::new(); // (ifindex, dump position)
    for (i, (ty, body)) in addrs.iter().enumerate() {
        if *ty == RTM_NEWADDR && body.len() >= 8 && body[0] == AF_INET {
            ipv4.push((u32::from_ne_bytes([body[4], body[5], body[6], body[7]]), i));
        }
    }
    ipv4.sort_unstable();
    ipv4.truncate(IFCONF_ENTRIES);
    if ipv4.is_empty() {
        return None;
    }

    // struct ifinfomsg { family, pad, type: u16, index: i32, flags: u32, change: u32 }
    let links = dump(&fd, RTM_GETLINK, &[0u8; 16], 2)?;
    let mut hwaddr: HashMap<u32, Vec<u8>> = HashMap::new();
    for (ty, body) in &links {
        if *ty != RTM_NEWLINK || body.len() < 16 {
            continue;
        }
        let index = u32::from_ne_bytes([body[4], body[5], body[6], body[7]]);
        if let Some(addr) = attrs(&body[16..]).find(|(t, _)| *t == IFLA_ADDRESS) {
            hwaddr.insert(index, addr.1.to_vec());
        }
    }

    for (index, _) in ipv4 {
        let mut mac = [0u8; 6];
        if let Some(a) = hwaddr.get(&index) {
            let n = a.len().min(6);
            mac[..n].copy_from_slice(&a[..n]);
        }
        if mac != [0u8; 6] {
            return Some(mac.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)));
        }
    }
    None
}

/// Send a dump request and collect `(type, payload)` of every reply message.
fn dump(fd: &OwnedFd, msg_type: u16, body: &[u8], seq: u32) -> Option<Vec<(u16, Vec<u8>)>> {
    let mut req = Vec::with_capacity(NLMSG_HDRLEN + body.len());
    req.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
    req.extend_from_slice(&msg_type.to_ne_bytes());
    req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req.extend_from_slice(&seq.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(body);
    sendto(fd, &req, SendFlags::empty(), &SocketAddrNetlink::new(0, 0)).ok()?;

    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    // Bounded: a dump of even thousands of interfaces ends long before this.
    for _ in 0..10_000 {
        let (_, n) = recv(fd, &mut buf[..], RecvFlags::empty()).ok()?;
        if n == 0 || n > buf.len() {
            return None;
        }
        let mut data = &buf[..n];
        while data.len() >= NLMSG_HDRLEN {
            let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
            let ty = u16::from_ne_bytes([data[4], data[5]]);
            let mseq = u32::from_ne_bytes([data[8], data[9], data[10], data[11]]);
            if len < NLMSG_HDRLEN || len > data.len() {
                return None;
            }
            if mseq == seq {
                match ty {
                    NLMSG_DONE => return Some(out),
                    NLMSG_ERROR => return None,
                    _ => out.push((ty, data[NLMSG_HDRLEN..len].to_vec())),
                }
            }
            data = data.get(align4(len)..).unwrap_or(&[]);
        }
    }
    None
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Iterate `struct rtattr` entries: `(type, payload)`.
fn attrs(mut data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if data.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([data[0], data[1]]) as usize;
        let ty = u16::from_ne_bytes([data[2], data[3]]) & 0x3fff;
        if len < 4 || len > data.len() {
            return None;
        }
        let payload = &data[4..len];
        data = data.get(align4(len)..).unwrap_or(&[]);
        Some((ty, payload))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtattr_walk() {
        let mut buf = Vec::new();
        // IFLA_ADDRESS, 6 bytes payload, padded to 12
        buf.extend_from_slice(&10u16.to_ne_bytes());
        buf.extend_from_slice(&1u16.to_ne_bytes());
        buf.extend_from_slice(&[2, 0xfc, 0, 0, 0, 1, 0, 0]);
        // IFLA_IFNAME "lo\0"
        buf.extend_from_slice(&7u16.to_ne_bytes());
        buf.extend_from_slice(&3u16.to_ne_bytes());
        buf.extend_from_slice(b"lo\0\0");
        let got: Vec<_> = attrs(&buf).collect();
        assert_eq!(
            got,
            vec![(1, &[2, 0xfc, 0, 0, 0, 1][..]), (3, &b"lo\0"[..])]
        );
        // truncated attribute stops the walk
        assert_eq!(attrs(&buf[..8]).count(), 0);
    }

    #[test]
    fn node_is_48_bit_when_present() {
        if let Some(node) = libuuid_node() {
            assert!(node < 1 << 48);
            assert_ne!(node, 0);
        }
    }
}
