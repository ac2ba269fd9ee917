//! borg's repository locations (`Location._parse`). oxiborg handles local
//! repositories today; ssh locations are recognised and refused clearly.

use std::path::PathBuf;

use crate::exit::CliError;

/// A parsed `REPOSITORY[::ARCHIVE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The local repository path.
    pub path: PathBuf,
    /// The archive name, if given.
    pub archive: Option<String>,
}

impl Location {
    /// The canonical form borg records (absolute normalised path).
    pub fn canonical(&self) -> String {
        oxiborg_core::canonical_local_path(&self.path)
            .to_string_lossy()
            .into_owned()
    }
}

fn invalid(text: &str) -> CliError {
    CliError::usage(format!("Invalid location format: \"{text}\""))
}

/// Parse `text` (or `BORG_REPO` for `::ARCHIVE` and empty input).
pub fn parse(text: Option<&str>) -> Result<Location, CliError> {
    let text = text.unwrap_or("");
    let (repo, archive) = match text.find("::") {
        Some(i) => (&text[..i], Some(&text[i + 2..])),
        None => (text, None),
    };
    if archive == Some("") && !repo.is_empty() {
        return Err(invalid(text));
    }
    let archive = archive.filter(|a| !a.is_empty()).map(str::to_string);
    if archive.as_deref().is_some_and(|a| a.contains('/')) {
        return Err(invalid(text));
    }
    let repo = if repo.is_empty() {
        std::env::var("BORG_REPO").map_err(|_| invalid(text))?
    } else {
        repo.to_string()
    };
    if repo.is_empty() {
        return Err(invalid(text));
    }
    let local = if let Some(rest) = repo.strip_prefix("file://") {
        rest.to_string()
    } else if repo.starts_with("ssh://") || is_scp_style(&repo) {
        return Err(CliError::usage(format!(
            "remote repository {repo:?}: oxiborg does not support ssh repositories yet; see docs/compat.md"
        )));
    } else {
        repo
    };
    Ok(Location {
        path: PathBuf::from(local),
        archive,
    })
}

/// `[user@]host:path` where the part before the first `:` has no `/`.
fn is_scp_style(s: &str) -> bool {
    match s.find(':') {
        Some(i) => !s[..i].contains('/') && i > 0,
        None => false,
    }
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
                archive: None
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
    fn remote_forms_are_refused() {
        for r in ["ssh://u@h:22/srv/r", "u@host:repo", "backup:repo"] {
            let e = parse(Some(r)).unwrap_err();
            assert!(e.message.contains("ssh repositories"), "{r}: {}", e.message);
        }
    }
}
