//! borg's archive-name placeholders (`replace_placeholders`): `{hostname}`,
//! `{fqdn}`, `{reverse-fqdn}`, `{now}`, `{utcnow}`, `{unixtime}`, `{user}`,
//! `{pid}`, `{uuid4}`, `{borgversion}`, `{borgmajor}`, `{borgminor}`,
//! `{borgpatch}`, with Python format specs (`{now:%Y-%m-%d}`).

use chrono::{Local, Utc};
use oxiborg_cli_args::BORG_COMPAT_VERSION;

use crate::exit::{class, CliError};

/// The short host name (`socket.gethostname()` up to the first dot), or
/// `$BORG_HOSTNAME` (borg ≥ 1.4.5).
pub fn hostname() -> String {
    if let Ok(h) = std::env::var("BORG_HOSTNAME") {
        return h;
    }
    let full = fqdn_raw();
    full.split('.').next().unwrap_or(&full).to_string()
}

fn fqdn_raw() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// The login name (`$BORG_USERNAME` or the user of the effective uid).
pub fn username() -> String {
    if let Ok(u) = std::env::var("BORG_USERNAME") {
        return u;
    }
    let uid = rustix::process::geteuid().as_raw();
    oxiborg_fsmeta::user_name(uid)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|| uid.to_string())
}

fn placeholder_error(text: &str, what: &str) -> CliError {
    CliError {
        class: class::INVALID_PLACEHOLDER,
        message: format!("Invalid placeholder \"{what}\" in string: {text}"),
    }
}

/// Expand placeholders in `text`.
pub fn expand(text: &str) -> Result<String, CliError> {
    let now = Local::now();
    let utc = Utc::now();
    let mut out = String::new();
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{');
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match it.next() {
                        Some('}') => break,
                        Some(ch) => field.push(ch),
                        None => {
                            return Err(CliError {
                                class: class::PLACEHOLDER_ERROR,
                                message: format!("Formatting Error: \"{text}\".format(): expected '}}' before end of string"),
                            })
                        }
                    }
                }
                let (name, spec) = match field.split_once(':') {
                    Some((n, s)) => (n, Some(s)),
                    None => (field.as_str(), None),
                };
                let v = match name {
                    "hostname" => hostname(),
                    "fqdn" => fqdn_raw(),
                    "reverse-fqdn" => {
                        let f = fqdn_raw();
                        f.split('.').rev().collect::<Vec<_>>().join(".")
                    }
                    "now" => now.format(spec.unwrap_or("%Y-%m-%dT%H:%M:%S")).to_string(),
                    "utcnow" => utc.format(spec.unwrap_or("%Y-%m-%dT%H:%M:%S")).to_string(),
                    "unixtime" => utc.timestamp().to_string(),
                    "user" => username(),
                    "pid" => std::process::id().to_string(),
                    "uuid4" => uuid4(),
                    "borgversion" => BORG_COMPAT_VERSION.to_string(),
                    "borgmajor" => BORG_COMPAT_VERSION
                        .split('.')
                        .next()
                        .unwrap_or("1")
                        .to_string(),
                    "borgminor" => BORG_COMPAT_VERSION
                        .split('.')
                        .take(2)
                        .collect::<Vec<_>>()
                        .join("."),
                    "borgpatch" => BORG_COMPAT_VERSION.to_string(),
                    _ => return Err(placeholder_error(text, name)),
                };
                if spec.is_some() && !matches!(name, "now" | "utcnow") {
                    return Err(placeholder_error(text, &field));
                }
                out.push_str(&v);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn uuid4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands() {
        assert_eq!(
            expand("a-{pid}").unwrap(),
            format!("a-{}", std::process::id())
        );
        assert_eq!(expand("{{x}}").unwrap(), "{x}");
        assert_eq!(
            expand("{now:%Y}").unwrap(),
            Local::now().format("%Y").to_string()
        );
        assert_eq!(expand("{borgmajor}.{borgminor}").unwrap(), "1.1.4");
        assert!(expand("{bogus}").is_err());
    }
}
