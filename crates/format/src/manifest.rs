//! The manifest (`src/borg/helpers/manifest.py: Manifest`,
//! `src/borg/item.pyx: ManifestItem`), its write rules and feature flags.
//!
//! The TAM is handled elsewhere: [`Manifest::from_value`] drops a `tam` key
//! and [`Manifest::to_value`] never writes one.

use std::collections::{BTreeMap, BTreeSet};

use oxiborg_msgpack::{MapBuilder, Value};

use crate::error::ModelError;
use crate::item::ITEM_KEYS;
use crate::timestamp::{next_manifest_timestamp, UtcTimestamp};
use crate::value_util::{key_cmp_raw, sort_maps_recursive, surrogateescape_len, wrong};

/// The manifest's object ID: 32 zero bytes.
pub const MANIFEST_ID: [u8; 32] = [0; 32];
/// `MAX_ARCHIVES`: most archives a manifest may list.
pub const MAX_ARCHIVES: usize = 400_000;
/// Longest archive name, in characters (after surrogate-escape decoding).
pub const MAX_ARCHIVE_NAME_CHARS: usize = 255;
/// Most item keys a manifest may register.
pub const MAX_ITEM_KEYS: usize = 100;
/// The manifest version borg writes.
pub const MANIFEST_VERSION: i64 = 1;
/// Repository features this crate supports (borg 1.4: none).
pub const SUPPORTED_REPO_FEATURES: &[&[u8]] = &[];

/// The operations feature flags are declared for
/// (`Manifest.Operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Listing and extracting.
    Read,
    /// Consistency checks and rarely used commands.
    Check,
    /// Adding archives.
    Write,
    /// Deleting archives (needs exact reference counts).
    Delete,
}

impl Operation {
    /// The key in `feature_flags` (`read`, `check`, `write`, `delete`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Check => "check",
            Operation::Write => "write",
            Operation::Delete => "delete",
        }
    }
}

/// Whether a plaintext manifest is "from the future" (starts with
/// `c1 c1 c1 c1`), which borg 1.x refuses with `UnsupportedManifestError`
/// before anything else.
pub fn check_manifest_plaintext(data: &[u8]) -> Result<(), ModelError> {
    if data.starts_with(&[0xc1; 4]) {
        Err(ModelError::ManifestFromFuture)
    } else {
        Ok(())
    }
}

/// One manifest entry: the archive's metadata object ID and start time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ManifestArchive {
    /// ID of the archive metadata object.
    pub id: [u8; 32],
    /// The archive's `time` (UTC, `ISO_FORMAT`).
    pub time: String,
    /// Unknown keys of the entry, kept.
    pub extra: Vec<(Value, Value)>,
}

impl ManifestArchive {
    /// An entry without extra keys.
    pub fn new(id: [u8; 32], time: impl Into<String>) -> Self {
        ManifestArchive {
            id,
            time: time.into(),
            extra: Vec::new(),
        }
    }

    /// The parsed time.
    pub fn timestamp(&self) -> Result<UtcTimestamp, ModelError> {
        UtcTimestamp::parse_iso(&self.time)
    }

    fn to_value(&self) -> Value {
        let mut m = vec![
            (Value::raw("id"), Value::Raw(self.id.to_vec())),
            (Value::raw("time"), Value::raw(&self.time)),
        ];
        m.extend(self.extra.iter().cloned());
        m.sort_by(|a, b| key_cmp_raw(&a.0, &b.0));
        Value::Map(m)
    }

    fn from_value(name: &[u8], v: Value) -> Result<Self, ModelError> {
        let key = format!("archives[{}]", String::from_utf8_lossy(name));
        let Value::Map(entries) = v else {
            return Err(wrong(WHAT, &key, "map with id and time"));
        };
        let (mut id, mut time) = (None, None);
        let mut extra = Vec::new();
        for (k, v) in entries {
            match k.as_raw() {
                Some(b"id") => {
                    id = Some(
                        v.as_raw()
                            .and_then(|b| <[u8; 32]>::try_from(b).ok())
                            .ok_or_else(|| wrong(WHAT, &key, "32-byte raw id"))?,
                    )
                }
                Some(b"time") => match v {
                    Value::Raw(b) => {
                        time = Some(
                            String::from_utf8(b)
                                .map_err(|_| wrong(WHAT, &key, "UTF-8 time string"))?,
                        )
                    }
                    _ => return Err(wrong(WHAT, &key, "raw time string")),
                },
                _ => extra.push((k, v)),
            }
        }
        match (id, time) {
            (Some(id), Some(time)) => Ok(ManifestArchive { id, time, extra }),
            _ => Err(wrong(WHAT, &key, "map with id and time")),
        }
    }
}

/// The manifest (without TAM).
///
/// `config` is kept as the stored map so unknown keys survive; typed access
/// to `tam_required` and `feature_flags` is provided by methods.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The version read (1 or 2). [`Manifest::to_value`] always writes 1,
    /// as borg does.
    pub version: i64,
    /// Archives by name (raw bytes), sorted bytewise.
    pub archives: BTreeMap<Vec<u8>, ManifestArchive>,
    /// Repository configuration map (`tam_required`, `feature_flags`, ...).
    pub config: Vec<(Value, Value)>,
    /// Known item keys: [`ITEM_KEYS`] plus any registered in the repository.
    pub item_keys: BTreeSet<Vec<u8>>,
    /// Last write time (`ISO_FORMAT`), strictly increasing.
    pub timestamp: Option<String>,
    /// Unknown top-level keys, kept (borg itself drops them on write).
    pub extra: Vec<(Value, Value)>,
}

const WHAT: &str = "manifest";

impl Default for Manifest {
    fn default() -> Self {
        Manifest::new()
    }
}

impl Manifest {
    /// A fresh manifest: version 1, no archives, empty config, the standard
    /// item keys, no timestamp yet.
    pub fn new() -> Self {
        Manifest {
            version: MANIFEST_VERSION,
            archives: BTreeMap::new(),
            config: Vec::new(),
            item_keys: ITEM_KEYS.iter().map(|k| k.as_bytes().to_vec()).collect(),
            timestamp: None,
            extra: Vec::new(),
        }
    }

    /// Parse a manifest dict (TAM already verified and removed; a remaining
    /// `tam` key is ignored). As borg's `Manifest.load`: `version` must be 1
    /// or 2, `archives` and `config` are required, `item_keys` are merged
    /// with [`ITEM_KEYS`]. Limits are not enforced on read (borg 1.4 does
    /// not either); see [`Manifest::check_limits`].
    pub fn from_value(v: Value) -> Result<Manifest, ModelError> {
        let Value::Map(entries) = v else {
            return Err(ModelError::NotAMap { what: WHAT });
        };
        let mut m = Manifest::new();
        let (mut version, mut archives, mut config) = (None, None, None);
        for (k, v) in entries {
            let Some(name) = k.as_raw().and_then(|b| std::str::from_utf8(b).ok()) else {
                m.extra.push((k, v));
                continue;
            };
            match name {
                "version" => version = Some(v),
                "archives" => archives = Some(v),
                "config" => config = Some(v),
                "item_keys" => {
                    let Value::Array(keys) = v else {
                        return Err(wrong(WHAT, name, "array of raw item keys"));
                    };
                    for key in keys {
                        match key {
                            Value::Raw(b) if std::str::from_utf8(&b).is_ok() => {
                                m.item_keys.insert(b);
                            }
                            _ => return Err(wrong(WHAT, name, "array of raw item keys")),
                        }
                    }
                }
                "timestamp" => match v {
                    Value::Raw(b) => {
                        m.timestamp = Some(
                            String::from_utf8(b)
                                .map_err(|_| wrong(WHAT, name, "UTF-8 timestamp"))?,
                        )
                    }
                    _ => return Err(wrong(WHAT, name, "raw timestamp")),
                },
                "tam" => {}
                _ => m.extra.push((k, v)),
            }
        }
        m.version = match version {
            Some(Value::Int(v @ (1 | 2))) => v as i64,
            Some(other) => return Err(ModelError::InvalidManifestVersion(format!("{other:?}"))),
            None => return Err(ModelError::InvalidManifestVersion("missing".to_string())),
        };
        let Some(Value::Map(archives)) = archives else {
            return Err(match archives {
                None => ModelError::MissingKey {
                    what: WHAT,
                    key: "archives",
                },
                Some(_) => wrong(WHAT, "archives", "map"),
            });
        };
        for (k, v) in archives {
            let Value::Raw(name) = k else {
                return Err(wrong(WHAT, "archives", "raw archive names"));
            };
            let entry = ManifestArchive::from_value(&name, v)?;
            m.archives.insert(name, entry);
        }
        m.config = match config {
            Some(Value::Map(c)) => c,
            None => {
                return Err(ModelError::MissingKey {
                    what: WHAT,
                    key: "config",
                })
            }
            Some(_) => return Err(wrong(WHAT, "config", "map")),
        };
        Ok(m)
    }

    /// Check the plaintext for "manifest from the future", then decode it
    /// and parse it with [`Manifest::from_value`]. For plaintext without a
    /// TAM; keyed repositories go through the TAM verifier instead.
    pub fn decode(plaintext: &[u8]) -> Result<Manifest, ModelError> {
        check_manifest_plaintext(plaintext)?;
        Manifest::from_value(oxiborg_msgpack::decode_one(plaintext)?)
    }

    /// The write-time limits borg asserts in `Manifest.write`: at most
    /// [`MAX_ARCHIVES`] archives, names of at most 255 characters, at most
    /// [`MAX_ITEM_KEYS`] item keys.
    pub fn check_limits(&self) -> Result<(), ModelError> {
        if self.archives.len() > MAX_ARCHIVES {
            return Err(ModelError::LimitExceeded(format!(
                "{} archives (max {MAX_ARCHIVES})",
                self.archives.len()
            )));
        }
        if let Some(name) = self
            .archives
            .keys()
            .find(|n| surrogateescape_len(n) > MAX_ARCHIVE_NAME_CHARS)
        {
            return Err(ModelError::LimitExceeded(format!(
                "archive name {:?} longer than {MAX_ARCHIVE_NAME_CHARS} characters",
                String::from_utf8_lossy(name)
            )));
        }
        if self.item_keys.len() > MAX_ITEM_KEYS {
            return Err(ModelError::LimitExceeded(format!(
                "{} item keys (max {MAX_ITEM_KEYS})",
                self.item_keys.len()
            )));
        }
        Ok(())
    }

    /// The manifest dict to sign and store: sorted keys (nested maps
    /// sorted too), `version` 1, no `tam`. Fails when a limit of
    /// [`Manifest::check_limits`] is exceeded.
    pub fn to_value(&self) -> Result<Value, ModelError> {
        self.check_limits()?;
        let archives = Value::Map(
            self.archives
                .iter()
                .map(|(name, a)| (Value::Raw(name.clone()), a.to_value()))
                .collect(),
        );
        let mut config = Value::Map(self.config.clone());
        sort_maps_recursive(&mut config);
        let item_keys = Value::Array(
            self.item_keys
                .iter()
                .map(|k| Value::Raw(k.clone()))
                .collect(),
        );
        let mut extra = Value::Map(self.extra.clone());
        sort_maps_recursive(&mut extra);
        let mut v = MapBuilder::new()
            .insert("version", Value::from(MANIFEST_VERSION))
            .insert("archives", archives)
            .insert("config", config)
            .insert("item_keys", item_keys)
            .insert_opt("timestamp", self.timestamp.as_deref().map(Value::raw))
            .build();
        if let (Value::Map(m), Value::Map(e)) = (&mut v, extra) {
            m.extend(e);
            m.sort_by(|a, b| key_cmp_raw(&a.0, &b.0));
        }
        Ok(v)
    }

    /// borg's msgpack bytes of the manifest without TAM.
    pub fn encode(&self) -> Result<Vec<u8>, ModelError> {
        Ok(oxiborg_msgpack::encode(&self.to_value()?))
    }

    /// Set `timestamp` for a write at time `now` (borg's rule: the string
    /// maximum of previous + 1 µs and now). Returns the new timestamp.
    pub fn update_timestamp(&mut self, now: UtcTimestamp) -> Result<&str, ModelError> {
        let next = next_manifest_timestamp(self.timestamp.as_deref(), now)?;
        Ok(self.timestamp.insert(next).as_str())
    }

    /// The entry of archive `name`.
    pub fn archive(&self, name: &[u8]) -> Option<&ManifestArchive> {
        self.archives.get(name)
    }

    /// Add or replace an archive entry.
    pub fn set_archive(&mut self, name: impl Into<Vec<u8>>, id: [u8; 32], time: impl Into<String>) {
        self.archives
            .insert(name.into(), ManifestArchive::new(id, time));
    }

    /// Remove an archive entry.
    pub fn remove_archive(&mut self, name: &[u8]) -> Option<ManifestArchive> {
        self.archives.remove(name)
    }

    /// A config value by key (last occurrence wins).
    pub fn config_get(&self, key: &str) -> Option<&Value> {
        self.config
            .iter()
            .rev()
            .find(|(k, _)| k.as_raw() == Some(key.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Set a config value, replacing any existing one.
    pub fn config_set(&mut self, key: &str, value: Value) {
        self.config
            .retain(|(k, _)| k.as_raw() != Some(key.as_bytes()));
        self.config.push((Value::raw(key), value));
    }

    /// `config['tam_required']` (false when absent or not a bool).
    pub fn tam_required(&self) -> bool {
        matches!(self.config_get("tam_required"), Some(Value::Bool(true)))
    }

    /// Set `config['tam_required']` (borg writes `True` for keyed repos).
    pub fn set_tam_required(&mut self, required: bool) {
        self.config_set("tam_required", Value::Bool(required));
    }

    /// The mandatory features per operation from `config['feature_flags']`
    /// (borg's `get_all_mandatory_features`).
    pub fn mandatory_features(&self) -> Result<BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>, ModelError> {
        let mut out = BTreeMap::new();
        let flags = match self.config_get("feature_flags") {
            None | Some(Value::Nil) => return Ok(out),
            Some(Value::Map(m)) => m,
            Some(_) => {
                return Err(ModelError::MalformedFeatureFlags(
                    "feature_flags is not a map",
                ))
            }
        };
        for (op, req) in flags {
            let op = op.as_raw().ok_or(ModelError::MalformedFeatureFlags(
                "operation name is not raw",
            ))?;
            if let Some(features) = mandatory_of(req)? {
                out.insert(op.to_vec(), features);
            }
        }
        Ok(out)
    }

    /// borg's `check_repository_compatibility`: refuse when any of
    /// `operations` has a mandatory feature not in `supported` (borg 1.4
    /// supports none: pass [`SUPPORTED_REPO_FEATURES`]).
    pub fn check_repository_compatibility(
        &self,
        operations: &[Operation],
        supported: &[&[u8]],
    ) -> Result<(), ModelError> {
        let flags = match self.config_get("feature_flags") {
            None | Some(Value::Nil) => return Ok(()),
            Some(Value::Map(m)) => m,
            Some(_) => {
                return Err(ModelError::MalformedFeatureFlags(
                    "feature_flags is not a map",
                ))
            }
        };
        for &op in operations {
            let Some((_, req)) = flags
                .iter()
                .rev()
                .find(|(k, _)| k.as_raw() == Some(op.as_str().as_bytes()))
            else {
                continue;
            };
            if let Some(features) = mandatory_of(req)? {
                let unsupported: Vec<String> = features
                    .iter()
                    .filter(|f| !supported.contains(&f.as_slice()))
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                if !unsupported.is_empty() {
                    return Err(ModelError::MandatoryFeatureUnsupported {
                        operation: op.as_str(),
                        features: unsupported,
                    });
                }
            }
        }
        Ok(())
    }
}

/// The `mandatory` list of one operation's requirements, if present.
fn mandatory_of(req: &Value) -> Result<Option<BTreeSet<Vec<u8>>>, ModelError> {
    let Value::Map(req) = req else {
        return Err(ModelError::MalformedFeatureFlags(
            "operation requirements are not a map",
        ));
    };
    let Some((_, mandatory)) = req
        .iter()
        .rev()
        .find(|(k, _)| k.as_raw() == Some(b"mandatory".as_slice()))
    else {
        return Ok(None);
    };
    let Value::Array(list) = mandatory else {
        return Err(ModelError::MalformedFeatureFlags(
            "mandatory is not an array",
        ));
    };
    list.iter()
        .map(|f| {
            f.as_raw()
                .map(<[u8]>::to_vec)
                .ok_or(ModelError::MalformedFeatureFlags("feature name is not raw"))
        })
        .collect::<Result<BTreeSet<_>, _>>()
        .map(Some)
}
