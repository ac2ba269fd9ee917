//! borg's repository locations (`Location._parse`): local paths,
//! `file://` URLs, `ssh://[user@]host[:port]/path` and scp-style
//! `[user@]host:path`, each with an optional `::ARCHIVE`.

use std::path::PathBuf;

use oxiborg_remote::RemoteLocation;

use crate::exit::CliError;

/// A parsed `REPOSITORY[::ARCHIVE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The local repository path, or for a remote one the path sent to
    /// the server.
    pub path: PathBuf,
    /// The archive name, if given.
    pub archive: Option<String>,
    /// Host, user and port of an ssh location.
    pub remote: Option<RemoteLocation>,
}

impl Location {
    /// The canonical form borg records (`Location.canonical_path()`): the
    /// absolute normalised path, or `ssh://user@host:port/path` with a
    /// relative path as `/./path` and a home-relative one as `/~/path`.
    pub fn canonical(&self) -> String {
        match &self.remote {
            None => oxiborg_core::canonical_local_path(&self.path)
                .to_string_lossy()
                .into_owned(),
            Some(r) => {
                let path = if r.path.starts_with('~') {
                    format!("/{}", r.path)
                } else if !r.path.starts_with('/') {
                    format!("/./{}", r.path)
                } else {
                    r.path.clone()
                };
                let user = r.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
                let host = if r.host.contains(':') {
                    format!("[{}]", r.host)
                } else {
                    r.host.clone()
                };
                let port = r.port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("ssh://{user}{host}{port}{path}")
            }
        }
    }

    /// The path a new keyfile is named after (borg's `Location.path`:
    /// normalised, not made absolute), and the host for remote locations.
    pub fn key_name(&self) -> (String, Option<String>) {
        match &self.remote {
            Some(r) => (r.path.clone(), Some(r.host.clone())),
            None => (normpath_special(&self.path.to_string_lossy()), None),
        }
    }
}

fn invalid(text: &str) -> CliError {
    CliError::usage(format!("Invalid location format: \"{text}\""))
}

/// `os.path.normpath`, keeping a leading `/./` (borg's relative-path hack).
fn normpath_special(p: &str) -> String {
    use std::os::unix::ffi::OsStrExt;
    let relative = p.starts_with("/./");
    let norm = oxiborg_core::normpath(std::ffi::OsStr::new(p).as_bytes());
    let s = String::from_utf8_lossy(&norm).into_owned();
    if relative {
        format!("/.{s}")
    } else {
        s
    }
}

/// Parse `text` (or `BORG_REPO` for `::ARCHIVE` and empty input).
pub fn parse(text: Option<&str>) -> Result<Location, CliError> {
    let text = text.unwrap_or("");
    if let Some(loc) = parse_repo_text(text) {
        return Ok(loc);
    }
    // borg's env_re: "" or "::" or "::ARCHIVE" take the repository from
    // BORG_REPO.
    let archive = if text.is_empty() || text == "::" {
        None
    } else if let Some(a) = text.strip_prefix("::") {
        if a.contains('/') {
            return Err(invalid(text));
        }
        Some(a.to_string())
    } else {
        return Err(invalid(text));
    };
    let repo = std::env::var("BORG_REPO").map_err(|_| invalid(text))?;
    let mut loc = parse_repo_text(&repo).ok_or_else(|| invalid(text))?;
    if archive.is_some() {
        loc.archive = archive;
    }
    if let (Some(r), Some(a)) = (loc.remote.as_mut(), loc.archive.as_ref()) {
        if !text.is_empty() {
            r.processed = format!("{repo}::{a}");
        }
    }
    Ok(loc)
}

/// Split `rest` into path and `::archive` (the path may hold single
/// colons; the archive must not be empty or contain `/`).
fn split_archive(rest: &str) -> Option<(&str, Option<String>)> {
    match rest.find("::") {
        None => Some((rest, None)),
        Some(i) => {
            let a = &rest[i + 2..];
            if a.is_empty() || a.contains('/') {
                return None;
            }
            Some((&rest[..i], Some(a.to_string())))
        }
    }
}

/// borg's host_re: a name without `:` and `/` (not bracketed), or a
/// bracketed IPv6 address. Returns the host without brackets.
fn parse_host(h: &str) -> Option<String> {
    if let Some(inner) = h.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return None;
        }
        return Some(inner.to_string());
    }
    if h.is_empty() || h.contains([':', '/']) || h.ends_with(']') {
        return None;
    }
    Some(h.to_string())
}

/// `user@` (user without `@`, `:`, `/`) and the rest.
fn split_user(s: &str) -> (Option<String>, &str) {
    match s.split_once('@') {
        Some((u, rest)) if !u.is_empty() && !u.contains([':', '/']) => (Some(u.to_string()), rest),
        _ => (None, s),
    }
}

fn parse_repo_text(text: &str) -> Option<Location> {
    if let Some(rest) = text.strip_prefix("ssh://") {
        return parse_ssh(text, rest);
    }
    if let Some(rest) = text.strip_prefix("file://") {
        // file_path_re: optional server name, then a `/` that is part of
        // the path.
        let slash = rest.find('/')?;
        let (path, archive) = split_archive(&rest[slash..])?;
        if path.len() < 2 && path == "/" {
            return None;
        }
        return Some(Location {
            path: PathBuf::from(normpath_special(path)),
            archive,
            remote: None,
        });
    }
    // scp_re: `[user@]host:` is tried first; without it the whole text is
    // a local path.
    if let Some(loc) = parse_scp(text) {
        return Some(loc);
    }
    if text.starts_with(':') || text.starts_with("//") {
        return None;
    }
    let (path, archive) = split_archive(text)?;
    if path.is_empty() {
        return None;
    }
    Some(Location {
        path: PathBuf::from(path),
        archive,
        remote: None,
    })
}

fn parse_ssh(text: &str, rest: &str) -> Option<Location> {
    let (user, rest) = split_user(rest);
    // The host ends at the path's `/` or at `:port`; a bracketed IPv6
    // host ends at its `]`.
    let host_end = if rest.starts_with('[') {
        rest.find(']')? + 1
    } else {
        rest.find([':', '/'])?
    };
    let host = parse_host(&rest[..host_end])?;
    let mut after = &rest[host_end..];
    let mut port = None;
    if let Some(p) = after.strip_prefix(':') {
        let digits = p.find('/').map_or(p, |i| &p[..i]);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        port = Some(digits.parse::<u16>().ok()?);
        after = &p[digits.len()..];
    }
    if !after.starts_with('/') {
        return None;
    }
    let (path, archive) = split_archive(after)?;
    if path.len() < 2 {
        return None;
    }
    let path = normpath_special(path);
    let processed = text.to_string();
    Some(Location {
        path: PathBuf::from(&path),
        archive,
        remote: Some(RemoteLocation {
            user,
            host,
            port,
            path,
            processed,
        }),
    })
}

fn parse_scp(text: &str) -> Option<Location> {
    let (user, rest) = split_user(text);
    let host_end = if rest.starts_with('[') {
        rest.find(']')? + 1
    } else {
        rest.find([':', '/'])?
    };
    let host = parse_host(&rest[..host_end])?;
    let after = rest[host_end..].strip_prefix(':')?;
    // scp_path_re: not starting with ":", "//" or "ssh://".
    if after.is_empty()
        || after.starts_with(':')
        || after.starts_with("//")
        || after.starts_with("ssh://")
    {
        return None;
    }
    let (path, archive) = split_archive(after)?;
    if path.is_empty() {
        return None;
    }
    let path = normpath_special(path);
    Some(Location {
        path: PathBuf::from(&path),
        archive,
        remote: Some(RemoteLocation {
            user,
            host,
            port: None,
            path,
            processed: text.to_string(),
        }),
    })
}

/// Like [`parse`], refusing an archive part (borg's `archive=False`).
pub fn parse_repository(text: Option<&str>) -> Result<Location, CliError> {
    let loc = parse(text)?;
    if loc.archive.is_some() {
        return Err(CliError::usage("No archive can be specified".to_string()));
    }
    Ok(loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_forms() {
        assert_eq!(
            parse(Some("/srv/repo")).unwrap(),
            Location {
                path: "/srv/repo".into(),
                archive: None,
                remote: None,
            }
        );
        assert_eq!(
            parse(Some("/srv/repo::a1")).unwrap().archive.as_deref(),
            Some("a1")
        );
        assert_eq!(
            parse(Some("file:///srv/repo")).unwrap().path,
            PathBuf::from("/srv/repo")
        );
        assert_eq!(
            parse(Some("rel/repo")).unwrap().path,
            PathBuf::from("rel/repo")
        );
        assert_eq!(
            parse(Some("/mnt/a:b")).unwrap().path,
            PathBuf::from("/mnt/a:b")
        );
        assert!(parse(Some("/srv/repo::")).is_err());
        assert!(parse(Some("/srv/repo::a/b")).is_err());
        assert!(parse_repository(Some("/srv/repo::a")).is_err());
    }

    #[test]
    fn remote_forms_like_borg() {
        let l = parse(Some("ssh://u@h:2222/srv/r::a1")).unwrap();
        let r = l.remote.clone().unwrap();
        assert_eq!(
            (r.user.as_deref(), r.host.as_str(), r.port),
            (Some("u"), "h", Some(2222))
        );
        assert_eq!(r.path, "/srv/r");
        assert_eq!(l.archive.as_deref(), Some("a1"));
        assert_eq!(l.canonical(), "ssh://u@h:2222/srv/r");
        let l = parse(Some("ssh://h/./rel")).unwrap();
        assert_eq!(l.remote.as_ref().unwrap().path, "/./rel");
        assert_eq!(l.canonical(), "ssh://h/./rel");
        let l = parse(Some("ssh://h/~/x")).unwrap();
        assert_eq!(l.canonical(), "ssh://h/~/x");
        let l = parse(Some("u@host:repo")).unwrap();
        assert_eq!(l.remote.as_ref().unwrap().path, "repo");
        assert_eq!(l.canonical(), "ssh://u@host/./repo");
        let l = parse(Some("host:~/x::arch")).unwrap();
        assert_eq!(l.canonical(), "ssh://host/~/x");
        assert_eq!(l.archive.as_deref(), Some("arch"));
        let l = parse(Some("host:/abs/../p")).unwrap();
        assert_eq!(l.remote.as_ref().unwrap().path, "/p");
        let l = parse(Some("ssh://[::1]:22/srv")).unwrap();
        assert_eq!(l.remote.as_ref().unwrap().host, "::1");
        assert_eq!(l.canonical(), "ssh://[::1]:22/srv");
        // Not remote: no host part, or "::" right after the colon.
        assert!(parse(Some("repo::arch")).unwrap().remote.is_none());
        assert!(parse(Some("/mnt/a:b")).unwrap().remote.is_none());
        assert!(parse(Some("ssh://h:x/srv")).is_err());
        assert!(parse(Some("ssh://h")).is_err());
    }
}
