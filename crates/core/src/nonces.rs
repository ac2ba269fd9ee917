//! The repository side of nonce reservation: `get_free_nonce` and
//! `commit_nonce_reservation` through the [`Repository`] interface.

use oxiborg_crypto::{CryptoError, NonceStore};
use oxiborg_repository::{Repository, RepositoryError};

/// The repository's `nonce` file, as a [`NonceStore`].
#[derive(Debug)]
pub struct RepoNonces<'a, R: Repository + ?Sized>(pub &'a mut R);

fn wrap(e: RepositoryError) -> CryptoError {
    CryptoError::NonceStore(Box::new(e))
}

impl<R: Repository + ?Sized> NonceStore for RepoNonces<'_, R> {
    fn get(&mut self) -> oxiborg_crypto::Result<Option<u64>> {
        self.0.get_free_nonce().map_err(wrap)
    }
    fn commit_reservation(
        &mut self,
        next: u64,
        expected_previous: Option<u64>,
    ) -> oxiborg_crypto::Result<()> {
        self.0
            .commit_nonce_reservation(next, expected_previous)
            .map_err(wrap)
    }
}
