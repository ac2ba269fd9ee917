//! The repository `config` file: an INI file as Python's `ConfigParser`
//! writes it (`[repository]`, `name = value`, continuation lines indented by
//! a TAB, a blank line at the end), and its validated settings.

use std::path::Path;

use crate::error::{RepositoryError, Result};

/// Default soft limit of a segment file (500 MiB).
pub const DEFAULT_MAX_SEGMENT_SIZE: u64 = 524_288_000;
/// Segments per `data/` sub-directory.
pub const DEFAULT_SEGMENTS_PER_DIR: u32 = 1000;
/// `max_segment_size` must stay below this so offsets fit in u32.
pub const MAX_SEGMENT_SIZE_LIMIT: u64 = (1 << 32) - 20 * 1024 * 1024;

/// The `[repository]` section, keys in file order. Option names are
/// case-insensitive and stored lower-case, as ConfigParser does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFile {
    entries: Vec<(String, String)>,
}

impl ConfigFile {
    /// Parse the text of a `config` file. Only `[repository]` is kept;
    /// a file without that section is an error.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let invalid = |reason: String| RepositoryError::InvalidRepositoryConfig {
            path: path.to_path_buf(),
            reason,
        };
        let mut entries: Vec<(String, String)> = Vec::new();
        let mut section: Option<String> = None;
        let mut saw_repository = false;
        let mut last_key: Option<usize> = None;
        for (lineno, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            let indented = raw.starts_with([' ', '\t']);
            if trimmed.is_empty() {
                last_key = None;
                continue;
            }
            if indented {
                if let Some(i) = last_key {
                    entries[i].1.push('\n');
                    entries[i].1.push_str(trimmed);
                    continue;
                }
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                saw_repository |= name == "repository";
                section = Some(name.to_string());
                last_key = None;
                continue;
            }
            let Some(sec) = &section else {
                return Err(invalid(format!(
                    "line {}: option outside any section",
                    lineno + 1
                )));
            };
            let pos = trimmed
                .find(['=', ':'])
                .ok_or_else(|| invalid(format!("line {}: expected name = value", lineno + 1)))?;
            let (k, v) = (
                trimmed[..pos].trim().to_lowercase(),
                trimmed[pos + 1..].trim().to_string(),
            );
            if sec != "repository" {
                last_key = None;
                continue;
            }
            if let Some(i) = entries.iter().position(|(ek, _)| *ek == k) {
                entries[i].1 = v;
                last_key = Some(i);
            } else {
                entries.push((k, v));
                last_key = Some(entries.len() - 1);
            }
        }
        if !saw_repository {
            return Err(invalid("no [repository] section".into()));
        }
        Ok(ConfigFile { entries })
    }

    /// The text ConfigParser would write.
    pub fn render(&self) -> String {
        let mut s = String::from("[repository]\n");
        for (k, v) in &self.entries {
            s.push_str(k);
            s.push_str(" = ");
            s.push_str(&v.replace('\n', "\n\t"));
            s.push('\n');
        }
        s.push('\n');
        s
    }

    /// The value of option `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let key = key.to_lowercase();
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Set option `key`, keeping its position when it exists.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let key = key.to_lowercase();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Remove option `key`; report whether it existed.
    pub fn remove(&mut self, key: &str) -> bool {
        let key = key.to_lowercase();
        let before = self.entries.len();
        self.entries.retain(|(k, _)| *k != key);
        before != self.entries.len()
    }

    /// All options in file order.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }
}

/// borg's `parse_file_size`: an optional suffix K, M, G, T or P (powers of
/// 1000) after a decimal number, which may have a fraction; truncated.
pub fn parse_file_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 1e3),
        'M' => (&s[..s.len() - 1], 1e6),
        'G' => (&s[..s.len() - 1], 1e9),
        'T' => (&s[..s.len() - 1], 1e12),
        'P' => (&s[..s.len() - 1], 1e15),
        _ => (s, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    let total = v * mult;
    (total.is_finite() && total >= 0.0 && total < u64::MAX as f64).then_some(total as u64)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// The validated settings of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Always 1.
    pub version: u32,
    /// Segments per `data/` sub-directory.
    pub segments_per_dir: u32,
    /// Soft limit of a segment file.
    pub max_segment_size: u64,
    /// `append_only` from the config.
    pub append_only: bool,
    /// `storage_quota` from the config (0 = none).
    pub storage_quota: u64,
    /// `additional_free_space` required at commit.
    pub additional_free_space: u64,
    /// The repository id.
    pub id: [u8; 32],
}

impl Settings {
    /// Validate `config` as borg's `Repository.open` does.
    pub fn from_config(config: &ConfigFile, path: &Path) -> Result<Self> {
        let invalid = |reason: &str| RepositoryError::InvalidRepositoryConfig {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let version: i64 = config
            .get("version")
            .ok_or_else(|| invalid("version is missing"))?
            .parse()
            .map_err(|_| invalid("version is not an integer"))?;
        if version != 1 {
            return Err(invalid(&format!(
                "repository version {version} is not supported by this borg version"
            )));
        }
        let segments_per_dir: u32 = config
            .get("segments_per_dir")
            .ok_or_else(|| invalid("segments_per_dir is missing"))?
            .parse()
            .ok()
            .filter(|&n: &u32| n > 0)
            .ok_or_else(|| invalid("segments_per_dir is not a positive integer"))?;
        let max_segment_size = config
            .get("max_segment_size")
            .and_then(parse_file_size)
            .ok_or_else(|| invalid("max_segment_size is missing or invalid"))?;
        if max_segment_size >= MAX_SEGMENT_SIZE_LIMIT {
            return Err(invalid(&format!(
                "max_segment_size >= {MAX_SEGMENT_SIZE_LIMIT}"
            )));
        }
        let append_only = match config.get("append_only") {
            None => false,
            Some(v) => parse_bool(v).ok_or_else(|| invalid("append_only is not a boolean"))?,
        };
        let size_or_zero = |k: &str| -> Result<u64> {
            match config.get(k) {
                None => Ok(0),
                Some(v) => parse_file_size(v).ok_or_else(|| invalid(&format!("{k} is invalid"))),
            }
        };
        let storage_quota = size_or_zero("storage_quota")?;
        let additional_free_space = size_or_zero("additional_free_space")?;
        let id_hex = config.get("id").ok_or_else(|| invalid("id is missing"))?;
        let id: [u8; 32] = hex::decode(id_hex.trim())
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| invalid("id is not 32 bytes of hex"))?;
        Ok(Settings {
            version: 1,
            segments_per_dir,
            max_segment_size,
            append_only,
            storage_quota,
            additional_free_space,
            id,
        })
    }

    /// The config a new repository starts with, in borg's key order.
    pub fn new_config(id: &[u8; 32], append_only: bool, storage_quota: u64) -> ConfigFile {
        let mut c = ConfigFile::default();
        c.set("version", "1");
        c.set("segments_per_dir", DEFAULT_SEGMENTS_PER_DIR.to_string());
        c.set("max_segment_size", DEFAULT_MAX_SEGMENT_SIZE.to_string());
        c.set("append_only", if append_only { "1" } else { "0" });
        c.set("storage_quota", storage_quota.to_string());
        c.set("additional_free_space", "0");
        c.set("id", hex::encode(id));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BORG_145_INIT: &str = "[repository]\nversion = 1\nsegments_per_dir = 1000\nmax_segment_size = 524288000\nappend_only = 0\nstorage_quota = 0\nadditional_free_space = 0\nid = f37632653da737e5c43a10bb8835c2a6790082a440fa1495de375941ec0360d3\n\n";

    #[test]
    fn new_config_renders_like_borg_init() {
        let id: [u8; 32] =
            hex::decode("f37632653da737e5c43a10bb8835c2a6790082a440fa1495de375941ec0360d3")
                .unwrap()
                .try_into()
                .unwrap();
        assert_eq!(Settings::new_config(&id, false, 0).render(), BORG_145_INIT);
    }

    #[test]
    fn key_continuation_lines_round_trip() {
        let mut c = ConfigFile::parse(BORG_145_INIT, Path::new("c")).unwrap();
        c.set("key", "line1\nline2\nline3");
        let text = c.render();
        assert!(text.contains("key = line1\n\tline2\n\tline3\n"));
        let back = ConfigFile::parse(&text, Path::new("c")).unwrap();
        assert_eq!(back.get("key"), Some("line1\nline2\nline3"));
        assert_eq!(back, c);
    }

    #[test]
    fn validation_matches_borg() {
        let p = Path::new("/r");
        let ok = ConfigFile::parse(BORG_145_INIT, p).unwrap();
        let s = Settings::from_config(&ok, p).unwrap();
        assert_eq!(s.segments_per_dir, 1000);
        assert!(!s.append_only);
        let mut bad = ok.clone();
        bad.set("version", "2");
        let e = Settings::from_config(&bad, p).unwrap_err().to_string();
        assert!(e.contains("repository version 2 is not supported"), "{e}");
        let mut bad = ok.clone();
        bad.set("max_segment_size", "4273995776");
        assert!(Settings::from_config(&bad, p).is_err());
        let mut bad = ok.clone();
        bad.set("id", "abcd");
        assert!(Settings::from_config(&bad, p).is_err());
        let mut yes = ok.clone();
        yes.set("APPEND_ONLY", "yes");
        assert!(Settings::from_config(&yes, p).unwrap().append_only);
        assert!(ConfigFile::parse("no section\n", p).is_err());
        assert!(ConfigFile::parse("[other]\na = 1\n", p).is_err());
    }

    #[test]
    fn file_sizes() {
        assert_eq!(parse_file_size("0"), Some(0));
        assert_eq!(parse_file_size("10M"), Some(10_000_000));
        assert_eq!(parse_file_size("1.5T"), Some(1_500_000_000_000));
        assert_eq!(parse_file_size("524288000"), Some(524_288_000));
        assert_eq!(parse_file_size("5k"), None);
        assert_eq!(parse_file_size("-1"), None);
        assert_eq!(parse_file_size(""), None);
    }
}
