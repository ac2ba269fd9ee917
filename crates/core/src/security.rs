//! The security directory shared with borg (`~/.config/borg/security/<id>/`):
//! `key-type`, `location`, `manifest-timestamp`, `tam_required` and `nonce`.
//! Sharing it is what keeps borg and oxiborg from reusing AES-CTR counters
//! or accepting a replayed manifest.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use oxiborg_crypto::SecurityDirNonceFile;

use crate::dirs::BorgDirs;
use crate::error::{CoreError, Result};

/// One repository's security directory.
#[derive(Debug, Clone)]
pub struct SecurityDir {
    path: PathBuf,
}

impl SecurityDir {
    /// The security directory of repository `id`.
    pub fn new(dirs: &BorgDirs, id: &[u8; 32]) -> Self {
        SecurityDir {
            path: dirs.security_dir_for(id),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn ensure(&self) -> Result<()> {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&self.path)
            .map_err(|e| CoreError::io(&self.path, e))
    }

    fn write(&self, name: &str, content: &str) -> Result<()> {
        self.ensure()?;
        let path = self.path.join(name);
        let tmp = self.path.join(format!("{name}.oxiborg-tmp"));
        (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(content.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })()
        .map_err(|e| CoreError::io(&path, e))
    }

    /// Read a file's text (borg writes them without a trailing newline).
    pub fn read(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.path.join(name)).ok()
    }

    /// Record location, key type and manifest timestamp, as borg's
    /// `SecurityManager.save` after each writing command.
    pub fn save(&self, location: &str, key_type_byte: u8, manifest_timestamp: &str) -> Result<()> {
        self.write("location", location)?;
        self.write("key-type", &key_type_byte.to_string())?;
        self.write("manifest-timestamp", manifest_timestamp)
    }

    /// Whether the `tam_required` flag file exists.
    pub fn tam_required(&self) -> bool {
        self.path.join("tam_required").exists()
    }

    /// Create or delete the `tam_required` flag file.
    pub fn set_tam_required(&self, required: bool) -> Result<()> {
        let p = self.path.join("tam_required");
        if required {
            self.ensure()?;
            fs::File::create(&p)
                .map(drop)
                .map_err(|e| CoreError::io(&p, e))
        } else {
            match fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CoreError::io(&p, e)),
                _ => Ok(()),
            }
        }
    }

    /// The local nonce file.
    pub fn nonce_file(&self) -> SecurityDirNonceFile {
        SecurityDirNonceFile::new(&self.path)
    }
}
