//! `oxiborg init`

use oxiborg_cli_args::{InitArgs, LogLevel};
use oxiborg_core::KeyLocation;
use oxiborg_crypto::KeyType;

use super::Ctx;
use crate::env::{borg_dirs, EnvPassphrase};
use crate::location::parse_repository;

const IMPORTANT: &str = "IMPORTANT: you will need both KEY AND PASSPHRASE to access this repo!

Key storage location depends on the mode:
- repokey modes: key is stored in the repository directory.
- keyfile modes: key is stored in the home directory of this user.

For any mode, you should:
1. Export the borg key and store the result at a safe place:
   borg key export           REPOSITORY encrypted-key-backup
   borg key export --paper   REPOSITORY encrypted-key-backup.txt
   borg key export --qr-html REPOSITORY encrypted-key-backup.html
2. Write down the borg key passphrase and store it at safe place.
";

pub fn run(ctx: &Ctx, args: &InitArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    let mode: KeyType = args.encryption.parse()?;
    let mut open = ctx.open_options(true);
    open.create = true;
    open.append_only = args.append_only;
    open.storage_quota = args.storage_quota;
    open.make_parent_dirs = args.make_parent_dirs;
    let mut repo = ctx.open_with(&loc, &open)?;
    let (key_path, host) = loc.key_name();
    let out = oxiborg_core::init_repository(
        repo.as_mut(),
        mode,
        &loc.canonical(),
        &key_path,
        host.as_deref(),
        &borg_dirs(),
        &mut EnvPassphrase::default(),
    )?;
    repo.close_boxed()?;
    if let KeyLocation::Keyfile(p) = &out.key_location {
        ctx.logger.log(
            LogLevel::Info,
            "borg.archiver",
            &format!("Key in \"{}\" created.", p.display()),
            None,
            false,
        );
        ctx.logger.log(
            LogLevel::Info,
            "borg.archiver",
            "Keep this key safe. Your data will be inaccessible without it.",
            None,
            false,
        );
    }
    if mode.is_encrypted() {
        ctx.logger
            .log(LogLevel::Warning, "borg.archiver", IMPORTANT, None, false);
    }
    Ok(0)
}
