//! oxiborg's engine. It owns the workflows that combine the repository, the
//! keys and the formats: today `init`, key loading and the manifest; the
//! create pipeline, caches, extract, prune, check and compact join it.
//!
//! Like every library crate here it never prints and never reads the
//! environment: directories come in as [`BorgDirs`], passphrases through
//! [`PassphraseSource`], messages go out through
//! [`oxiborg_repository::Reporter`].

mod archives;
mod cache;
mod check;
mod create;
mod diff;
mod dirs;
mod error;
mod export_tar;
mod extract;
mod import_tar;
mod init;
mod keymgmt;
mod keys;
mod manifest;
mod meta;
mod nonces;
mod ops;
mod passphrase;
mod prune;
mod recreate;
mod security;
mod session;

pub use archives::{
    for_each_item, get_many, load_archive, load_archive_by_name, open_object, read_items,
    LoadedArchive,
};
pub use cache::{
    build_archive_index, Cache, CacheDir, CacheOptions, FileCacheEntry, FilesCache, FilesCacheMode,
};
pub use check::{borg_error_text, ArchiveCheckOptions, ArchiveChecker, CheckTarget, KeySource};
pub use create::{
    create, create_entries, format_chunker_params, make_path_safe, normpath, CreateObserver,
    CreateOptions, CreateOutcome, Entry, EntrySource, FilesChanged, Input, InputCheck, Source,
    Stats,
};
pub use diff::{compare_archives, diff_items, Change, DiffOptions, ItemDiff, Side};
pub use dirs::BorgDirs;
pub use error::{CoreError, Result};
pub use export_tar::{export_tar, ExportObserver, ExportOptions};
pub use extract::{decode_parallel, extract, strip_components, ExtractObserver, ExtractOptions};
pub use import_tar::TarEntries;
pub use init::{canonical_local_path, init, init_repository, InitOptions, InitOutcome};
pub use keymgmt::{
    change_passphrase, key_storage, keyblob_from_backup, keyblob_from_binary, keyfile_data,
    load_keyblob, migrate_to_repokey, paper_id_checksum, paper_key, paper_line_checksum,
    paper_repo_id, paper_total_checksum, qr_html, related_secrets_json, store_keyblob, KeyTarget,
};
pub use keys::{create_key, load_key, KeyLocation};
pub use manifest::{
    decode_manifest, read_manifest_envelope, seal_manifest, write_manifest, LoadedManifest,
};
pub use meta::{MetaOptions, RestoreOptions};
pub use nonces::RepoNonces;
pub use ops::{
    delete_archive, delete_archive_forced, delete_archives, rename_archive, DeleteStats,
};
pub use passphrase::{FixedPassphrase, PassphraseSource};
pub use prune::{
    checkpoint_stem, is_checkpoint, iso_week, parse_interval, plan as prune_plan, LocalTime,
    PruneArchive, PruneDecision, PrunePlan, PruneRules, Rule as PruneRule,
};
pub use recreate::{
    is_temporary_archive, recreate, Recompress, RecreateObserver, RecreateOptions, RecreateOutcome,
};
pub use security::SecurityDir;
pub use session::{SecurityAnswers, Session, SharedRepository};
