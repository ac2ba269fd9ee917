//! `oxiborg config`: get, set, delete and list values of the repository
//! config, as borg 1.4.5's `do_config` (under the exclusive repository lock).

use oxiborg_cli_args::ConfigArgs;

use super::archive::py_repr;
use super::{print_out, Ctx};
use crate::exit::CliError;
use crate::location::parse_repository;

/// borg's `MAX_SEGMENT_SIZE_LIMIT`: 2**32 minus the largest object (20 MiB).
const MAX_SEGMENT_SIZE_LIMIT: i128 = oxiborg_repository::MAX_SEGMENT_SIZE_LIMIT as i128;

/// borg fails with an uncaught `ValueError` (a traceback, rc 2 in both
/// modes); oxiborg prints its last line.
fn value_error(msg: &str) -> anyhow::Error {
    CliError::usage(format!("ValueError: {msg}")).into()
}

/// Python's `int(s)` for a decimal string.
fn py_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let ok = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !ok {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// borg's `parse_file_size`: `int(float(number) * factor)` with an optional
/// K/M/G/T/P suffix (powers of 1000).
fn parse_file_size(s: &str) -> Option<i128> {
    let last = s.chars().last()?;
    let (num, factor) = match last {
        'K' => (&s[..s.len() - 1], 1e3),
        'M' => (&s[..s.len() - 1], 1e6),
        'G' => (&s[..s.len() - 1], 1e9),
        'T' => (&s[..s.len() - 1], 1e12),
        'P' => (&s[..s.len() - 1], 1e15),
        _ => (s, 1.0),
    };
    let t = num.trim();
    let valid = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !valid {
        return None;
    }
    let v: f64 = t.parse().ok()?;
    let total = (v * factor).trunc();
    total.is_finite().then_some(total as i128)
}

/// `repo_validate` of `do_config`.
fn repo_validate(section: &str, name: &str, value: Option<&str>) -> anyhow::Result<()> {
    if section != "repository" {
        return Err(value_error("Invalid section"));
    }
    match name {
        "segments_per_dir" | "last_segment_checked" => {
            if let Some(v) = value {
                py_int(v).ok_or_else(|| value_error("Invalid value"))?;
            }
        }
        "max_segment_size" | "additional_free_space" | "storage_quota" => {
            if let Some(v) = value {
                let wanted = parse_file_size(v).ok_or_else(|| value_error("Invalid value"))?;
                let minimum = 10_000_000;
                match name {
                    "storage_quota" if wanted != 0 && wanted < minimum => {
                        return Err(value_error("Invalid value: storage_quota < 10M"))
                    }
                    "additional_free_space" if wanted != 0 && wanted < minimum => {
                        return Err(value_error("Invalid value: additional_free_space < 10M"))
                    }
                    "max_segment_size" if wanted >= MAX_SEGMENT_SIZE_LIMIT => {
                        return Err(value_error(&format!(
                            "Invalid value: max_segment_size >= {MAX_SEGMENT_SIZE_LIMIT}"
                        )))
                    }
                    _ => {}
                }
            }
        }
        "append_only" => {
            if value.is_some_and(|v| v != "0" && v != "1") {
                return Err(value_error("Invalid value"));
            }
        }
        "id" => {
            if let Some(v) = value {
                if v.len() % 2 == 1 {
                    return Err(value_error("Odd-length string"));
                }
                let bin = hex::decode(v).map_err(|_| value_error("Non-hexadecimal digit found"))?;
                if bin.len() != 32 {
                    return Err(value_error(&format!(
                        "Expected 32 bytes (64 hex digits), got {} bytes.",
                        bin.len()
                    )));
                }
            }
        }
        _ => return Err(value_error("Invalid name")),
    }
    Ok(())
}

/// `list_config`: the known keys in borg's order. A missing key shows as
/// `False` (borg asks ConfigParser with `fallback=False`).
fn list_config(config: &oxiborg_repository::ConfigFile) -> String {
    let mut out = String::from("[repository]\n");
    for key in [
        "version",
        "segments_per_dir",
        "max_segment_size",
        "storage_quota",
        "additional_free_space",
        "append_only",
        "id",
    ] {
        out.push_str(&format!("{key} = {}\n", config.get(key).unwrap_or("False")));
    }
    if let Some(v) = config.get("last_segment_checked") {
        out.push_str(&format!("last_segment_checked = {v}\n"));
    }
    out
}

pub fn run(ctx: &Ctx, args: &ConfigArgs) -> anyhow::Result<u8> {
    let loc = parse_repository(args.repository.as_deref())?;
    if args.cache {
        return Err(CliError::usage(
            "oxiborg does not implement `config --cache` yet; see docs/compat.md",
        )
        .into());
    }
    let mut repo = ctx.open_local(&loc, true, "config")?;
    let (section, name) = if args.list {
        (String::new(), String::new())
    } else {
        let Some(full) = args.name.as_deref() else {
            return Err(CliError::command("No config key name was provided.").into());
        };
        match full.split('.').collect::<Vec<_>>()[..] {
            [s, n] => (s.to_string(), n.to_string()),
            _ => ("repository".to_string(), full.to_string()),
        }
    };
    let value = args.value.as_deref().filter(|v| !v.is_empty());
    if args.delete {
        repo_validate(&section, &name, None)?;
        repo.delete_config(&name)?;
    } else if args.list {
        print_out(&list_config(repo.config()))?;
    } else if let Some(v) = value {
        repo_validate(&section, &name, Some(v))?;
        // ConfigParser strips values when it reads them back; store them so.
        repo.set_config(&name, v.trim())?;
    } else {
        let missing = if section != "repository" {
            format!("Error: No section: {}", py_repr(section.as_bytes()))
        } else {
            match repo.config().get(&name) {
                Some(v) => {
                    let v = v.to_string();
                    repo.close()?;
                    return print_out(&format!("{v}\n"));
                }
                None => format!(
                    "Error: No option {} in section: 'repository'",
                    py_repr(name.to_lowercase().as_bytes())
                ),
            }
        };
        return Err(CliError::usage(missing).into());
    }
    repo.close()?;
    Ok(0)
}
