//! Where passphrases come from. The CLI implements [`PassphraseSource`]
//! with borg's order: `BORG_PASSPHRASE`, `BORG_PASSCOMMAND`,
//! `BORG_PASSPHRASE_FD`, then a prompt.

use crate::error::Result;

/// Supplies passphrases to the engine.
pub trait PassphraseSource {
    /// A passphrase from the environment (variable, command or fd), if one
    /// is configured. Used as is, without prompting.
    fn env_passphrase(&mut self) -> Result<Option<String>>;
    /// Prompt for the passphrase of an existing key (`prompt` names it).
    fn prompt(&mut self, prompt: &str) -> Result<String>;
    /// A passphrase for a new key: `BORG_NEW_PASSPHRASE`, else the
    /// environment, else a prompt with confirmation.
    fn new_passphrase(&mut self) -> Result<String>;
}

/// A fixed passphrase (tests, and callers that already hold one).
#[derive(Debug, Clone)]
pub struct FixedPassphrase(pub String);

impl PassphraseSource for FixedPassphrase {
    fn env_passphrase(&mut self) -> Result<Option<String>> {
        Ok(Some(self.0.clone()))
    }
    fn prompt(&mut self, _prompt: &str) -> Result<String> {
        Ok(self.0.clone())
    }
    fn new_passphrase(&mut self) -> Result<String> {
        Ok(self.0.clone())
    }
}
