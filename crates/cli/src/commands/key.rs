//! `oxiborg key export|export-related-secrets|import|change-passphrase|migrate-to-repokey`

use std::io::{BufRead, Write};

use oxiborg_cli_args::{
    KeyCommand, KeyExportArgs, KeyImportArgs, KeyPathArgs, KeyRepoArgs, LogLevel,
};
use oxiborg_core::{
    change_passphrase, key_storage, keyblob_from_backup, keyblob_from_binary, keyfile_data,
    load_keyblob, migrate_to_repokey, paper_id_checksum, paper_key, paper_line_checksum,
    paper_repo_id, paper_total_checksum, qr_html, related_secrets_json, store_keyblob, CoreError,
};
use oxiborg_format::Operation;

use super::archive::{open_session, os_error_text};
use super::{print_out, Ctx};
use crate::env::{borg_dirs, EnvPassphrase};
use crate::exit::CliError;
use crate::location::{parse_repository, Location};

pub fn run(ctx: &Ctx, cmd: Option<KeyCommand>) -> anyhow::Result<u8> {
    match cmd {
        None => print_out(&oxiborg_cli_args::help_for(&["key"])),
        Some(KeyCommand::Export(a)) => export(ctx, &a),
        Some(KeyCommand::ExportRelatedSecrets(a)) => export_related_secrets(ctx, &a),
        Some(KeyCommand::Import(a)) => import(ctx, &a),
        Some(KeyCommand::ChangePassphrase(a)) => change(ctx, &a),
        Some(KeyCommand::MigrateToRepokey(a)) => migrate(ctx, &a),
    }
}

fn info(ctx: &Ctx, msg: &str) {
    ctx.logger
        .log(LogLevel::Info, "borg.archiver", msg, None, false);
}

/// Open the repository without a lock (borg's `lock=False` for key
/// export and import).
fn open_unlocked(ctx: &Ctx, loc: &Location) -> anyhow::Result<oxiborg_core::SharedRepository> {
    let mut o = ctx.open_options(false);
    o.lock = false;
    ctx.open_with(loc, &o)
}

/// borg's `dash_open(path, 'w')` and a write: `-` (or no path) is stdout.
fn write_out(path: Option<&str>, data: &[u8]) -> std::io::Result<()> {
    match path {
        None | Some("-") => {
            let mut out = std::io::stdout().lock();
            out.write_all(data)?;
            out.flush()
        }
        Some(p) => std::fs::File::create(p)?.write_all(data),
    }
}

fn export(ctx: &Ctx, args: &KeyExportArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    let mut repo = open_unlocked(ctx, &loc)?;
    let (key_type, _) = key_storage(repo.as_mut())?;
    let keyblob = load_keyblob(repo.as_mut(), key_type, &borg_dirs(), &loc.canonical())?;
    let id = repo.id();
    let path = args.path.as_deref();
    let result = if args.paper {
        // borg has no directory check here: the OSError surfaces as is.
        let text = paper_key(&id, &keyblob)?;
        return match write_out(path, text.as_bytes()) {
            Ok(()) => Ok(0),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(e.into()),
            Err(e) => {
                Err(CliError::usage(os_error_text(&e, path.unwrap_or("-").as_bytes())).into())
            }
        };
    } else if args.qr_html {
        write_out(path, &qr_html(&id, &keyblob))
    } else {
        write_out(path, keyfile_data(&id, &keyblob).as_bytes())
    };
    match result {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Err(CliError::command(format!(
            "'{}' must be a file, not a directory",
            path.unwrap_or("-")
        ))
        .into()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(e.into()),
        Err(e) => Err(CliError::usage(os_error_text(&e, path.unwrap_or("-").as_bytes())).into()),
    }
}

fn export_related_secrets(ctx: &Ctx, args: &KeyPathArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    let session = open_session(ctx, &loc, false, Operation::Read)?;
    if !session.key.key_type().has_key_material() {
        // borg 1.4.5 fails with an AttributeError traceback (rc 2).
        return Err(CliError::usage(
            "Key management not available for unencrypted repositories (borg 1.4.5 fails here too, with rc 2).",
        )
        .into());
    }
    let json = related_secrets_json(&session.key)?;
    let Some(path) = args.path.as_deref() else {
        // borg 1.4.5 fails with a TypeError traceback (rc 2) without PATH.
        return Err(
            CliError::usage("key export-related-secrets needs a PATH (use - for stdout).").into(),
        );
    };
    write_out(Some(path), json.as_bytes())
        .map_err(|e| CliError::usage(os_error_text(&e, path.as_bytes())))?;
    session.close()?;
    Ok(0)
}

fn import(ctx: &Ctx, args: &KeyImportArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    let mut repo = open_unlocked(ctx, &loc)?;
    let (_, storage) = key_storage(repo.as_mut())?;
    let dirs = borg_dirs();
    let (location_path, host) = loc.key_name();
    let canonical = loc.canonical();
    if args.paper {
        if args.path.is_some() {
            return Err(CliError::command("with --paper import from file is not supported").into());
        }
        let Some(keyblob) = paper_input(ctx, &paper_repo_id(&repo.id()))? else {
            return Ok(0);
        };
        store_keyblob(
            repo.as_mut(),
            storage,
            &dirs,
            &keyblob,
            (&location_path, host.as_deref()),
            &canonical,
        )?;
        return Ok(0);
    }
    let Some(path) = args.path.as_deref() else {
        return Err(CliError::command("expected input file to import key from").into());
    };
    if path != "-" && !std::path::Path::new(path).exists() {
        return Err(CliError::command(format!("input file does not exist: {path}")).into());
    }
    let contents = if path == "-" {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut v)?;
        v
    } else {
        std::fs::read(path).map_err(|e| CliError::usage(os_error_text(&e, path.as_bytes())))?
    };
    let id = repo.id();
    let keyblob = keyblob_from_backup(&id, &contents)?;
    store_keyblob(
        repo.as_mut(),
        storage,
        &dirs,
        &keyblob,
        (&location_path, host.as_deref()),
        &canonical,
    )?;
    Ok(0)
}

/// Python's `input(prompt)` on a pipe: the prompt on stdout, a line from
/// stdin without its newline; `None` at end of input.
fn input(stdin: &mut dyn BufRead, prompt: &str) -> anyhow::Result<Option<String>> {
    {
        let mut out = std::io::stdout().lock();
        out.write_all(prompt.as_bytes())?;
        out.flush()?;
    }
    let mut buf = Vec::new();
    if stdin.read_until(b'\n', &mut buf)? == 0 {
        return Ok(None);
    }
    if buf.ends_with(b"\n") {
        buf.pop();
        if buf.ends_with(b"\r") {
            buf.pop();
        }
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

fn say(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// borg's `yes('Abort import? [yN]:')`: the question on stderr, answers
/// from stdin until one qualifies; end of input means no.
fn abort_import(ctx: &Ctx, stdin: &mut dyn BufRead) -> anyhow::Result<bool> {
    let msg = "Abort import? [yN]:";
    {
        let mut err = std::io::stderr().lock();
        if ctx.logger.json() {
            writeln!(
                err,
                "{{\"type\": \"question_prompt\", \"msgid\": null, \"message\": \"{msg}\"}}"
            )?;
        } else {
            write!(err, "{msg}")?;
        }
        err.flush()?;
    }
    loop {
        let mut buf = Vec::new();
        if stdin.read_until(b'\n', &mut buf)? == 0 {
            return Ok(false);
        }
        let answer = String::from_utf8_lossy(&buf);
        let answer = answer.strip_suffix('\n').unwrap_or(&answer);
        match answer {
            "" | "Default" | "DEFAULT" | "default" | "D" | "d" => return Ok(false),
            "Yes" | "YES" | "yes" | "Y" | "y" | "1" => return Ok(true),
            "No" | "NO" | "no" | "N" | "n" | "0" => return Ok(false),
            _ => continue,
        }
    }
}

/// The line as typed with spaces removed, or `None` when the user gave up
/// (end of input, or a blank line and a yes to "Abort import?").
fn paper_line(ctx: &Ctx, stdin: &mut dyn BufRead, prompt: &str) -> anyhow::Result<Option<String>> {
    let Some(line) = input(stdin, prompt)? else {
        return Ok(None);
    };
    let line = line.replace(' ', "");
    if line.is_empty() && abort_import(ctx, stdin)? {
        return Ok(None);
    }
    Ok(Some(line))
}

/// borg's `binascii.unhexlify` messages.
fn unhexlify(s: &str) -> Result<Vec<u8>, &'static str> {
    if s.len() % 2 == 1 {
        return Err("Odd-length string");
    }
    hex::decode(s).map_err(|_| "Non-hexadecimal digit found")
}

/// `KeyManager.import_paperkey`'s dialogue: the key blob text, or `None`
/// when aborted (borg prints ` - aborted` and succeeds).
fn paper_input(ctx: &Ctx, repoid: &str) -> anyhow::Result<Option<String>> {
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let aborted = || -> anyhow::Result<Option<String>> {
        say("\n - aborted")?;
        Ok(None)
    };
    loop {
        let (lines, id_repoid, id_total) = loop {
            let Some(idline) = paper_line(ctx, &mut stdin, "id: ")? else {
                return aborted();
            };
            let parts: Vec<&str> = idline.split('-').collect();
            let [data, checksum] = parts[..] else {
                say("each line must contain exactly one '-', try again")?;
                continue;
            };
            let fields: Vec<&str> = data.split('/').collect();
            let [id_lines, id_repoid, id_total] = fields[..] else {
                say("the id line must contain exactly two '/', try again")?;
                continue;
            };
            if paper_id_checksum(data) != checksum {
                say("line checksum did not match, try same line again")?;
                continue;
            }
            let Ok(lines) = id_lines.trim().parse::<i64>() else {
                say("internal error while parsing length")?;
                // borg then fails with an UnboundLocalError traceback (rc 2).
                return Err(CliError::usage(
                    "the id line's length field is not a number (borg 1.4.5 fails here too)",
                )
                .into());
            };
            break (lines, id_repoid.to_string(), id_total.to_string());
        };
        if id_repoid != repoid {
            return Err(CoreError::RepoIdMismatch.into());
        }
        let mut result = Vec::new();
        let mut idx: u16 = 1;
        loop {
            let Some(inline) = paper_line(ctx, &mut stdin, &format!("{idx:2}: "))? else {
                return aborted();
            };
            let parts: Vec<&str> = inline.split('-').collect();
            let [data, checksum] = parts[..] else {
                say("each line must contain exactly one '-', try again")?;
                continue;
            };
            let part = match unhexlify(data) {
                Ok(p) => p,
                Err(e) => {
                    say(&format!(
                        "only characters 0-9 and a-f and '-' are valid, try again [{e}]"
                    ))?;
                    continue;
                }
            };
            if paper_line_checksum(idx, &part) != checksum {
                say(&format!(
                    "line checksum did not match, try line {idx} again"
                ))?;
                continue;
            }
            result.extend_from_slice(&part);
            if i64::from(idx) == lines {
                break;
            }
            idx = idx.checked_add(1).ok_or_else(|| {
                CliError::usage("paper key has too many lines (borg fails with an OverflowError)")
            })?;
        }
        if paper_total_checksum(&result) != id_total {
            say("The overall checksum did not match, retry or enter a blank line to abort.")?;
            continue;
        }
        return Ok(Some(keyblob_from_binary(&result)));
    }
}

fn change(ctx: &Ctx, args: &KeyRepoArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    let mut session = open_session(ctx, &loc, false, Operation::Check)?;
    if !session.key.key_type().has_key_material() {
        return Err(CliError::command(
            "This repository is not encrypted, cannot change the passphrase.",
        )
        .into());
    }
    let key = session.key.clone();
    let target = change_passphrase(
        session.repo.as_mut(),
        &key,
        &borg_dirs(),
        &loc.canonical(),
        &mut EnvPassphrase::default(),
    )?;
    info(ctx, "Key updated");
    info(ctx, &format!("Key location: {target}"));
    session.close()?;
    Ok(0)
}

fn migrate(ctx: &Ctx, args: &KeyRepoArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    let mut repo = ctx.open(&loc, false)?;
    migrate_to_repokey(
        repo.as_mut(),
        &loc.canonical(),
        &mut EnvPassphrase::default(),
    )?;
    info(ctx, "Key updated");
    repo.close_boxed()?;
    Ok(0)
}
