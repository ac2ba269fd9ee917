//! borg 1.4.5's include/exclude pattern machinery (`borg/patterns.py` and
//! `borg/shellpattern.py`), on byte paths.
//!
//! # Styles
//!
//! | prefix | [`PatternStyle`] | borg class | how a path matches |
//! |---|---|---|---|
//! | `fm:` | [`PatternStyle::Fnmatch`] | `FnmatchPattern` | `fnmatch.translate(normpath(p) + "/*")` (or `rstrip("/") + "/*/"` for a trailing slash) must match the whole of `path + "/"`; `*` and `?` cross `/` |
//! | `sh:` | [`PatternStyle::Shell`] | `ShellPattern` | like `fm:` with `"/**/*"` appended, but `*`/`?` stop at `/` and `**/` spans directories |
//! | `re:` | [`PatternStyle::Regex`] | `RegexPattern` | Python `re.search(p, path)`: unanchored, the leading `/` is *not* removed from `p` |
//! | `pp:` | [`PatternStyle::PathPrefix`] | `PathPrefixPattern` | `(path + "/").startswith(normpath(p).rstrip("/") + "/")` |
//! | `pf:` | [`PatternStyle::PathFull`] | `PathFullPattern` | `path == normpath(p)` |
//!
//! All styles except `re:` strip leading slashes from the *pattern*.
//! `--exclude`/`--exclude-from` default to `fm:`; `--pattern`/
//! `--patterns-from` default to `sh:`; positional PATHs of extract, list,
//! diff, export-tar, recreate default to `pp:`.
//!
//! # What path to pass to [`PatternMatcher::matches`]
//!
//! [`PatternMatcher::matches`] (borg's `PatternMatcher.match`) removes all
//! leading `/` from the path itself (`path = normalize_path(path).lstrip(os.path.sep)`),
//! and does nothing else to it: no `normpath`, no `./` removal, no
//! trailing-slash handling. The caller must therefore pass exactly the
//! string borg passes:
//!
//! * **create**: the *file-system path as walked*, i.e. for a root given
//!   on the command line or by an `R` line, `os.path.normpath(root)` (see
//!   [`normpath`]), and for everything below it
//!   `os.path.normpath(os.path.join(parent_path, name))`. That path still
//!   carries the root as the user typed it (made normal): a root of
//!   `/home/u` gives `/home/u/x` (matched as `home/u/x`), a root of `.` is
//!   matched as `.` and its children as `x` (not `./x`), a root of `../d`
//!   gives `../d/x`, and with the slashdot hack `/srv/./data` the matcher
//!   sees `/srv/data/x`, i.e. the part that is stripped from the archived
//!   name *is* part of the matched path. borg 1.4.5 `archiver.py`:
//!
//!   ```text
//!   strip_prefix = get_strip_prefix(path)
//!   path = os.path.normpath(path)
//!   ...
//!   self._rec_walk(path=path, parent_fd=None, name=None, ...)
//!   ...
//!   def _rec_walk(self, *, path, parent_fd, name, fso, cache, matcher, ...):
//!       ...
//!       if matcher.match(path):
//!       ...
//!       normpath = os.path.normpath(os.path.join(path, dirent.name))
//!       self._rec_walk(path=normpath, parent_fd=child_fd, name=dirent.name, ...)
//!   ```
//!
//!   create uses `PatternMatcher(fallback=True)` with only
//!   `add_inclexcl(args.patterns)` (positional PATHs are roots, not
//!   patterns; see [`PatternArgs::create_matcher`]). The root itself is
//!   matched too. When `matches` returns false, borg prints `x`, and, only
//!   if [`PatternMatcher::recurse_dir`] is true and the item is a
//!   directory, still descends into it (children may be included again)
//!   without archiving the directory itself; otherwise it does not even
//!   `stat` the item. Paths from `--paths-from-stdin`,
//!   `--paths-from-command`, `--content-from-command` and the `-` (stdin)
//!   root are **not** matched at all in borg 1.4.5 (they go straight to
//!   `_process_any` / `process_pipe`).
//!
//! * **extract, export-tar, list, diff, recreate**: the item's archived
//!   path, `item.path`, exactly as stored in the archive (relative, no
//!   leading `/`, surrogate-escaped in Python = the raw bytes here). With
//!   `--strip-components` the *unstripped* path is matched. borg 1.4.5
//!   `archiver.py`:
//!
//!   ```text
//!   def build_matcher(inclexcl_patterns, include_paths):
//!       matcher = PatternMatcher()
//!       matcher.add_inclexcl(inclexcl_patterns)
//!       matcher.add_includepaths(include_paths)
//!       return matcher
//!   ...
//!   matched = matcher.match(item.path) and os.sep.join(item.path.split(os.sep)[strip_components:])
//!   ...
//!   matched = matcher.match(item.path)
//!   ...
//!   for item in archive.iter_items(lambda item: matcher.match(item.path)):   # list
//!   ```
//!
//!   `recurse_dir` is not consulted there. diff matches both archives'
//!   `item.path` the same way (`compare_archives_iter`), and recreate uses
//!   `matcher.match(item.path)` after adding, for `--exclude-caches` /
//!   `--exclude-if-present`, `PathPrefixPattern(dir, recurse_dir=False)`
//!   (or with `--keep-exclude-tags` an include `PathPrefixPattern` of the
//!   tag file and an exclude `FnmatchPattern(dir + "/", recurse_dir=False)`),
//!   i.e. [`Pattern::new`] plus [`PatternMatcher::add`]. See
//!   [`PatternArgs::archive_matcher`].
//!
//! Paths are bytes. borg matches on `str` decoded with `surrogateescape`;
//! this crate decodes the same way internally, so a `?` matches one UTF-8
//! encoded character *or* one byte that is not part of valid UTF-8,
//! exactly as in borg.
//!
//! # Example
//!
//! ```
//! use oxiborg_patterns::PatternArgs;
//!
//! let mut args = PatternArgs::new();
//! args.exclude(b"*.tmp")?; // --exclude: fm: style, never descends
//! args.pattern(b"+ home/u/keep")?; // --pattern: sh: style
//! args.pattern(b"- home/u")?;
//! let mut m = args.create_matcher();
//! assert!(!m.matches(b"/home/u/keep/a.tmp"));
//! assert!(!m.recurse_dir());
//! assert!(m.matches(b"/home/u/keep/x"));
//! assert!(!m.matches(b"/home/u/other"));
//! assert!(m.recurse_dir()); // `-` excludes but borg still descends
//! assert!(m.matches(b"/etc/hosts")); // create's fallback is "include"
//! # Ok::<(), oxiborg_patterns::PatternError>(())
//! ```
//!
//! # Pattern sources
//!
//! borg collects `--exclude`, `--exclude-from`, `--pattern`,
//! `--patterns-from` into one ordered list (`args.patterns`) in command-line
//! order; `R` lines and `--pattern "R path"` append to `args.paths`.
//! [`PatternArgs`] reproduces that; [`load_pattern_file`],
//! [`load_exclude_file`], [`parse_pattern_arg`], [`parse_exclude_pattern`],
//! [`parse_inclexcl_command`] and [`parse_patternfile_line`] are the
//! individual borg functions.
//!
//! # Deviations from borg
//!
//! `fm:`, `sh:`, `pp:`, `pf:`, pattern files and the matcher are exact
//! (checked against borg 1.4.5 on many random cases). `re:` patterns are
//! parsed with CPython 3.11's `re` grammar (same accepted/rejected
//! patterns) and run on `fancy_regex`; what cannot be identical:
//!
//! * undecodable bytes are carried as U+10FF80..U+10FFFF inside the regex
//!   engine, so a path that really contains those private-use code points
//!   is indistinguishable from one with the bytes `0x80..0xFF` there;
//! * Unicode tables (`\w`, `\d`, `\s`, `\b`, case-insensitive matching, and
//!   the `str.isalnum()` test of a `xx:` style prefix) come from Rust's
//!   Unicode version, not CPython 3.11's Unicode 14.0;
//! * `\N{name}` accepts the names `unicode_names2` knows (aliases only in
//!   their exact spelling);
//! * a counted repetition bound above 1000 that the engine cannot compile
//!   is treated as unbounded (differs only on longer paths);
//! * a match needing more than 50 million backtracking steps counts as no
//!   match (CPython would keep going);
//! * exotic combinations that `fancy_regex` handles differently from SRE
//!   (captured groups inside atomic or possessive repetitions that a
//!   backreference uses) may differ.
//!
//! On macOS borg NFD-normalizes paths and patterns; this crate does not.

mod glob;
mod pyre;
mod pystr;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

pub use pystr::normpath;

/// Backtracking budget for one `re:` match (Python has none; see crate docs).
const REGEX_BACKTRACK_LIMIT: usize = 50_000_000;

/// borg's archive-name glob (`-a/--glob-archives`, `Archives.list(glob=)`):
/// `re.match(shellpattern.translate(glob, match_end=r"\Z"), name)`, i.e.
/// the whole name must match; no path normalisation as for `sh:` paths.
#[derive(Debug, Clone)]
pub struct ArchiveGlob(glob::Glob);

impl ArchiveGlob {
    /// Compile a glob.
    pub fn new(pattern: &str) -> Result<ArchiveGlob, PatternError> {
        let cps = pystr::from_str(pattern);
        glob::shell(&cps)
            .map(ArchiveGlob)
            .map_err(|message| PatternError::Regex {
                pattern: pattern.to_string(),
                message,
            })
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        self.0.is_match(&pystr::from_str(name))
    }
}

/// Errors from parsing patterns, pattern lines and pattern files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// `xx:` prefix that is not a known style (borg: `ValueError`).
    #[error("Unknown pattern style: {style}")]
    UnknownStyle {
        /// The two characters before the colon.
        style: String,
    },
    /// A `P` line naming an unknown style.
    #[error("Invalid pattern style: {style}")]
    InvalidStyle {
        /// The text after `P`.
        style: String,
    },
    /// An empty `--pattern` value.
    #[error("A pattern/command must not be empty.")]
    EmptyCommand,
    /// A pattern line that does not start with `-`, `!`, `+`, `R`, `r`, `P`, `p`.
    #[error("A pattern/command must start with any of: -, !, +, R, r, P, p (got {line:?})")]
    BadCommand {
        /// The offending line.
        line: String,
    },
    /// A command character with nothing after it.
    #[error("A pattern/command must have a value part. (got {line:?})")]
    MissingValue {
        /// The offending line.
        line: String,
    },
    /// The pattern does not compile (Python `re.error`, including bad
    /// ranges in `sh:` sets, or a construct the Rust engine cannot run).
    #[error("invalid pattern {pattern:?}: {message}")]
    Regex {
        /// The pattern text (without style prefix).
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A pattern file is not valid UTF-8 (borg: `UnicodeDecodeError`).
    #[error("pattern file is not valid UTF-8 (at byte {offset})")]
    Encoding {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// An error on a given line of a pattern or exclude file.
    #[error("line {line}: {source}")]
    Line {
        /// 1-based physical line number (universal newlines).
        line: usize,
        /// The error.
        #[source]
        source: Box<PatternError>,
    },
}

/// The five pattern styles of borg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatternStyle {
    /// `fm:` — `FnmatchPattern`.
    Fnmatch,
    /// `sh:` — `ShellPattern`.
    Shell,
    /// `re:` — `RegexPattern`.
    Regex,
    /// `pp:` — `PathPrefixPattern`.
    PathPrefix,
    /// `pf:` — `PathFullPattern`.
    PathFull,
}

impl PatternStyle {
    /// The two-letter prefix (`fm`, `sh`, `re`, `pp`, `pf`).
    pub fn prefix(self) -> &'static str {
        match self {
            PatternStyle::Fnmatch => "fm",
            PatternStyle::Shell => "sh",
            PatternStyle::Regex => "re",
            PatternStyle::PathPrefix => "pp",
            PatternStyle::PathFull => "pf",
        }
    }

    /// borg's `get_pattern_class`: exact, case-sensitive prefix lookup.
    pub fn from_prefix(prefix: &str) -> Option<PatternStyle> {
        Some(match prefix {
            "fm" => PatternStyle::Fnmatch,
            "sh" => PatternStyle::Shell,
            "re" => PatternStyle::Regex,
            "pp" => PatternStyle::PathPrefix,
            "pf" => PatternStyle::PathFull,
            _ => return None,
        })
    }
}

impl FromStr for PatternStyle {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PatternStyle::from_prefix(s).ok_or_else(|| PatternError::UnknownStyle {
            style: s.to_string(),
        })
    }
}

impl fmt::Display for PatternStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// What a matching pattern does (borg's `IECommand` without the
/// non-pattern commands `RootPath` and `PatternStyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `+`: include.
    Include,
    /// `-`: exclude, but still descend into an excluded directory.
    Exclude,
    /// `!` (and every `--exclude`): exclude and do not descend.
    ExcludeNoRecurse,
}

impl Action {
    /// borg's `PatternMatcher.is_include_cmd[cmd]`.
    pub fn is_include(self) -> bool {
        self == Action::Include
    }

    /// borg's `command_recurses_dir(cmd)`.
    pub fn recurses_dir(self) -> bool {
        self != Action::ExcludeNoRecurse
    }
}

#[derive(Debug, Clone)]
enum Matcher {
    Full(Vec<u8>),
    Prefix(Vec<u8>),
    Glob(glob::Glob),
    Regex(Box<fancy_regex::Regex>),
}

/// One include/exclude pattern (borg's `PatternBase` subclasses).
#[derive(Debug)]
pub struct Pattern {
    style: PatternStyle,
    /// `pattern_orig`: the text without style prefix.
    original: Vec<u32>,
    /// [`Pattern::original`] (lossy if not UTF-8).
    original_text: String,
    /// `self.pattern`: the prepared text, as bytes.
    prepared: Vec<u8>,
    matcher: Matcher,
    recurse_dir: bool,
    match_count: AtomicU64,
}

impl Clone for Pattern {
    fn clone(&self) -> Self {
        Pattern {
            style: self.style,
            original: self.original.clone(),
            original_text: self.original_text.clone(),
            prepared: self.prepared.clone(),
            matcher: self.matcher.clone(),
            recurse_dir: self.recurse_dir,
            match_count: AtomicU64::new(self.match_count.load(Ordering::Relaxed)),
        }
    }
}

impl fmt::Display for Pattern {
    /// borg's `str(pattern)`: the original text without style prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original_text)
    }
}

/// A path prepared once for matching against many patterns.
struct Subject<'a> {
    bytes: &'a [u8],
    /// Decoded path plus a trailing `/` (what fm/sh match).
    slashed: OnceCell<Vec<u32>>,
    /// The Rust-string form of the decoded path (what `re:` searches).
    hay: OnceCell<String>,
}

impl<'a> Subject<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Subject {
            bytes,
            slashed: OnceCell::new(),
            hay: OnceCell::new(),
        }
    }
}

impl Pattern {
    /// Build a pattern of a known style from its text (borg: calling the
    /// class directly, e.g. `PathPrefixPattern(path, recurse_dir=False)`).
    pub fn new(
        style: PatternStyle,
        pattern: &str,
        recurse_dir: bool,
    ) -> Result<Pattern, PatternError> {
        Pattern::build(style, pystr::from_str(pattern), recurse_dir)
    }

    /// Like [`Pattern::new`], for a pattern given as bytes (e.g. a
    /// command-line argument that is not UTF-8).
    pub fn from_bytes(
        style: PatternStyle,
        pattern: &[u8],
        recurse_dir: bool,
    ) -> Result<Pattern, PatternError> {
        Pattern::build(style, pystr::decode(pattern), recurse_dir)
    }

    /// borg's `parse_pattern(text, fallback)`: honours an `xx:` style prefix,
    /// else uses `default_style`; `recurse_dir` is true (borg's default).
    pub fn parse(text: &str, default_style: PatternStyle) -> Result<Pattern, PatternError> {
        parse_pattern_cps(pystr::from_str(text), default_style, true)
    }

    /// borg's `parse_pattern(text, fallback, recurse_dir)` for a pattern
    /// given as bytes.
    pub fn parse_bytes(
        text: &[u8],
        default_style: PatternStyle,
        recurse_dir: bool,
    ) -> Result<Pattern, PatternError> {
        parse_pattern_cps(pystr::decode(text), default_style, recurse_dir)
    }

    fn build(
        style: PatternStyle,
        original: Vec<u32>,
        recurse_dir: bool,
    ) -> Result<Pattern, PatternError> {
        let raw = pystr::encode(&original);
        let err = |message: String| PatternError::Regex {
            pattern: pystr::to_display(&original),
            message,
        };
        let (prepared, matcher) = match style {
            PatternStyle::PathFull => {
                let p = pystr::lstrip_byte(&normpath(&raw), b'/').to_vec();
                (p.clone(), Matcher::Full(p))
            }
            PatternStyle::PathPrefix => {
                let mut p = pystr::rstrip_byte(&normpath(&raw), b'/').to_vec();
                p.push(b'/');
                let p = pystr::lstrip_byte(&p, b'/').to_vec();
                (p.clone(), Matcher::Prefix(p))
            }
            PatternStyle::Fnmatch | PatternStyle::Shell => {
                let tail: &[u8] = match (style, raw.ends_with(b"/")) {
                    (PatternStyle::Fnmatch, true) => b"/*/",
                    (PatternStyle::Fnmatch, false) => b"/*",
                    (_, true) => b"/**/*/",
                    (_, false) => b"/**/*",
                };
                let norm = normpath(&raw);
                let mut p = if raw.ends_with(b"/") {
                    pystr::rstrip_byte(&norm, b'/').to_vec()
                } else {
                    norm
                };
                p.extend_from_slice(tail);
                let p = pystr::lstrip_byte(&p, b'/').to_vec();
                let cps = pystr::decode(&p);
                let g = if style == PatternStyle::Fnmatch {
                    glob::fnmatch(&cps)
                } else {
                    glob::shell(&cps)
                }
                .map_err(err)?;
                (p, Matcher::Glob(g))
            }
            PatternStyle::Regex => {
                let translated = pyre::translate(&original).map_err(err)?;
                let compile = |text: &str| {
                    fancy_regex::RegexBuilder::new(text)
                        .backtrack_limit(REGEX_BACKTRACK_LIMIT)
                        .build()
                };
                let re = match (compile(&translated.strict), &translated.relaxed) {
                    (Ok(re), _) => re,
                    (Err(_), Some(relaxed)) if compile(relaxed).is_ok() => {
                        compile(relaxed).map_err(|e| err(e.to_string()))?
                    }
                    (Err(e), _) => {
                        return Err(err(format!("{e} (translated to {:?})", translated.strict)))
                    }
                };
                (raw, Matcher::Regex(Box::new(re)))
            }
        };
        Ok(Pattern {
            style,
            original_text: pystr::to_display(&original),
            original,
            prepared,
            matcher,
            recurse_dir,
            match_count: AtomicU64::new(0),
        })
    }

    /// The style of this pattern.
    pub fn style(&self) -> PatternStyle {
        self.style
    }

    /// borg's `str(pattern)` / `pattern_orig`: the pattern text as given,
    /// *without* the `xx:` prefix (lossy if it was not UTF-8).
    pub fn original(&self) -> &str {
        &self.original_text
    }

    /// [`Pattern::original`] as exact bytes.
    pub fn original_bytes(&self) -> Vec<u8> {
        pystr::encode(&self.original)
    }

    /// borg's `self.pattern`: the prepared form (normalized, leading `/`
    /// removed, `/*`, `/**/*` etc. appended; the regex text for `re:`).
    pub fn prepared(&self) -> &[u8] {
        &self.prepared
    }

    /// Whether a directory matched by this pattern is still descended into
    /// (borg's `pattern.recurse_dir`).
    pub fn recurse_dir(&self) -> bool {
        self.recurse_dir
    }

    /// How many times [`Pattern::matches`] (directly or through a
    /// [`PatternMatcher`]) returned true. `pf:` patterns inside a
    /// [`PatternMatcher`] are looked up in a table and never counted.
    pub fn match_count(&self) -> u64 {
        self.match_count.load(Ordering::Relaxed)
    }

    /// borg's `pattern.match(path)`: whether `path` matches, counting hits.
    /// The path is used as is (a leading `/` is *not* removed here, only by
    /// [`PatternMatcher::matches`]). A `re:` match that exceeds the
    /// backtracking budget counts as no match (see the crate docs).
    pub fn matches(&self, path: &[u8]) -> bool {
        self.matches_subject(&Subject::new(path))
    }

    fn matches_subject(&self, s: &Subject<'_>) -> bool {
        let hit = match &self.matcher {
            Matcher::Full(p) => s.bytes == p.as_slice(),
            Matcher::Prefix(p) => {
                // (path + "/").startswith(p); p always ends with "/" or is empty.
                let b = s.bytes;
                if b.len() >= p.len() {
                    b.starts_with(p)
                } else {
                    b.len() + 1 == p.len() && p.starts_with(b) && p.ends_with(b"/")
                }
            }
            Matcher::Glob(g) => g.is_match(s.slashed.get_or_init(|| {
                let mut v = pystr::decode(s.bytes);
                v.push(u32::from(b'/'));
                v
            })),
            Matcher::Regex(re) => {
                let hay = s
                    .hay
                    .get_or_init(|| pyre::haystack(&pystr::decode(s.bytes)));
                re.is_match(hay.as_str()).unwrap_or(false)
            }
        };
        if hit {
            self.match_count.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }
}

fn parse_pattern_cps(
    text: Vec<u32>,
    fallback: PatternStyle,
    recurse_dir: bool,
) -> Result<Pattern, PatternError> {
    if text.len() > 2
        && text[2] == u32::from(b':')
        && pystr::is_alnum(text[0])
        && pystr::is_alnum(text[1])
    {
        let style_text = pystr::to_display(&text[..2]);
        let style = PatternStyle::from_prefix(&style_text)
            .ok_or(PatternError::UnknownStyle { style: style_text })?;
        Pattern::build(style, text[3..].to_vec(), recurse_dir)
    } else {
        Pattern::build(fallback, text, recurse_dir)
    }
}

/// A parsed `--patterns-from` / `--pattern` line (borg's `CmdTuple`).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum InclExclCommand {
    /// `R path` / `r path`: a root path (the value, unmodified bytes).
    Root(Vec<u8>),
    /// `P style` / `p style`: default style for the following lines.
    Style(PatternStyle),
    /// `+`, `-` or `!` with its pattern.
    Pattern(Pattern, Action),
}

/// borg's `parse_inclexcl_command(line, fallback)`: the line is used as
/// given (no stripping except whitespace between command and value).
pub fn parse_inclexcl_command(
    line: &[u8],
    fallback: PatternStyle,
) -> Result<InclExclCommand, PatternError> {
    inclexcl_cps(&pystr::decode(line), fallback)
}

fn inclexcl_cps(line: &[u32], fallback: PatternStyle) -> Result<InclExclCommand, PatternError> {
    let Some(&first) = line.first() else {
        return Err(PatternError::EmptyCommand);
    };
    enum Cmd {
        Act(Action),
        Root,
        Style,
    }
    let cmd = match char::from_u32(first) {
        Some('-') => Cmd::Act(Action::Exclude),
        Some('!') => Cmd::Act(Action::ExcludeNoRecurse),
        Some('+') => Cmd::Act(Action::Include),
        Some('R' | 'r') => Cmd::Root,
        Some('P' | 'p') => Cmd::Style,
        _ => {
            return Err(PatternError::BadCommand {
                line: pystr::to_display(line),
            })
        }
    };
    let rest = pystr::lstrip(&line[1..]);
    if rest.is_empty() {
        return Err(PatternError::MissingValue {
            line: pystr::to_display(line),
        });
    }
    Ok(match cmd {
        Cmd::Root => InclExclCommand::Root(pystr::encode(rest)),
        Cmd::Style => {
            let s = pystr::to_display(rest);
            match PatternStyle::from_prefix(&s) {
                Some(style) if pystr::encode(rest) == s.as_bytes() => InclExclCommand::Style(style),
                _ => return Err(PatternError::InvalidStyle { style: s }),
            }
        }
        Cmd::Act(action) => InclExclCommand::Pattern(
            parse_pattern_cps(rest.to_vec(), fallback, action.recurses_dir())?,
            action,
        ),
    })
}

/// borg's `parse_patternfile_line(line, roots, ie_commands, fallback)`:
/// applies one line and returns the (possibly changed) default style.
pub fn parse_patternfile_line(
    line: &[u8],
    roots: &mut Vec<Vec<u8>>,
    ie_commands: &mut Vec<(Pattern, Action)>,
    fallback: PatternStyle,
) -> Result<PatternStyle, PatternError> {
    patternfile_line_cps(&pystr::decode(line), roots, ie_commands, fallback)
}

fn patternfile_line_cps(
    line: &[u32],
    roots: &mut Vec<Vec<u8>>,
    ie_commands: &mut Vec<(Pattern, Action)>,
    fallback: PatternStyle,
) -> Result<PatternStyle, PatternError> {
    match inclexcl_cps(line, fallback)? {
        InclExclCommand::Root(r) => roots.push(r),
        InclExclCommand::Style(s) => return Ok(s),
        InclExclCommand::Pattern(p, a) => ie_commands.push((p, a)),
    }
    Ok(fallback)
}

/// Lines of a text file as Python's text mode yields them (universal
/// newlines: `\n`, `\r\n` and `\r` all end a line), with 1-based numbers.
fn universal_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let (mut start, mut i, mut no) = (0, 0, 1);
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            out.push((no, &text[start..i]));
            no += 1;
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < b.len() {
        out.push((no, &text[start..]));
    }
    out
}

/// borg's `clean_lines`: strip whitespace both sides, drop empty lines and
/// lines starting with `#`.
fn clean_lines(text: &str) -> impl Iterator<Item = (usize, Vec<u32>)> + '_ {
    universal_lines(text).into_iter().filter_map(|(no, l)| {
        let cps = pystr::from_str(l);
        let s = pystr::rstrip(pystr::lstrip(&cps));
        if s.is_empty() || s[0] == u32::from(b'#') {
            None
        } else {
            Some((no, s.to_vec()))
        }
    })
}

fn at_line(line: usize) -> impl Fn(PatternError) -> PatternError {
    move |e| PatternError::Line {
        line,
        source: Box::new(e),
    }
}

/// Decode a pattern/exclude file the way borg's `open(filename)` does
/// (strict UTF-8; a BOM is kept as a character).
pub fn decode_pattern_file(bytes: &[u8]) -> Result<&str, PatternError> {
    std::str::from_utf8(bytes).map_err(|e| PatternError::Encoding {
        offset: e.valid_up_to(),
    })
}

/// borg's `load_pattern_file(fileobj, roots, ie_commands, fallback)`
/// (`--patterns-from`). `fallback` `None` means `sh:`. A `P` line changes
/// the style only for the following lines of this file.
pub fn load_pattern_file(
    text: &str,
    roots: &mut Vec<Vec<u8>>,
    ie_commands: &mut Vec<(Pattern, Action)>,
    fallback: Option<PatternStyle>,
) -> Result<(), PatternError> {
    let mut fallback = fallback.unwrap_or(PatternStyle::Shell);
    for (no, line) in clean_lines(text) {
        fallback =
            patternfile_line_cps(&line, roots, ie_commands, fallback).map_err(at_line(no))?;
    }
    Ok(())
}

/// borg's `load_exclude_file(fileobj, patterns)` (`--exclude-from`): every
/// cleaned line is an `fm:`-default exclude ([`parse_exclude_pattern`]).
pub fn load_exclude_file(
    text: &str,
    patterns: &mut Vec<(Pattern, Action)>,
) -> Result<(), PatternError> {
    for (no, line) in clean_lines(text) {
        let p = parse_pattern_cps(line, PatternStyle::Fnmatch, false).map_err(at_line(no))?;
        patterns.push((p, Action::ExcludeNoRecurse));
    }
    Ok(())
}

/// borg's `parse_exclude_pattern(text, fallback)` (`--exclude`): the text
/// is used as given; returns the pattern with [`Action::ExcludeNoRecurse`]
/// and `recurse_dir` false. borg's default `fallback` is `fm:`.
pub fn parse_exclude_pattern(
    text: &[u8],
    fallback: PatternStyle,
) -> Result<(Pattern, Action), PatternError> {
    Ok((
        Pattern::parse_bytes(text, fallback, false)?,
        Action::ExcludeNoRecurse,
    ))
}

/// borg's `ArgparsePatternAction` (`--pattern VALUE`): one pattern-file
/// line, taken verbatim (not stripped; `#` is not a comment), default
/// style `sh:`. `R` appends to `roots`; a `P` line is accepted but has no
/// effect.
pub fn parse_pattern_arg(
    value: &[u8],
    roots: &mut Vec<Vec<u8>>,
    ie_commands: &mut Vec<(Pattern, Action)>,
) -> Result<(), PatternError> {
    parse_patternfile_line(value, roots, ie_commands, PatternStyle::Shell).map(|_| ())
}

/// The pattern-related part of borg's parsed arguments: `args.paths` and
/// `args.patterns`, filled in command-line order.
#[derive(Debug, Clone, Default)]
pub struct PatternArgs {
    /// `args.paths`: positional PATHs plus `R` roots, in order of appearance.
    pub paths: Vec<Vec<u8>>,
    /// `args.patterns`: the ordered include/exclude list.
    pub patterns: Vec<(Pattern, Action)>,
}

impl PatternArgs {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A positional PATH argument.
    pub fn path(&mut self, path: &[u8]) {
        self.paths.push(path.to_vec());
    }

    /// `--exclude PATTERN`.
    pub fn exclude(&mut self, pattern: &[u8]) -> Result<(), PatternError> {
        self.patterns
            .push(parse_exclude_pattern(pattern, PatternStyle::Fnmatch)?);
        Ok(())
    }

    /// `--exclude-from FILE`, given the file's content.
    pub fn exclude_from(&mut self, content: &[u8]) -> Result<(), PatternError> {
        load_exclude_file(decode_pattern_file(content)?, &mut self.patterns)
    }

    /// `--pattern PATTERN`.
    pub fn pattern(&mut self, value: &[u8]) -> Result<(), PatternError> {
        parse_pattern_arg(value, &mut self.paths, &mut self.patterns)
    }

    /// `--patterns-from FILE`, given the file's content.
    pub fn patterns_from(&mut self, content: &[u8]) -> Result<(), PatternError> {
        load_pattern_file(
            decode_pattern_file(content)?,
            &mut self.paths,
            &mut self.patterns,
            None,
        )
    }

    /// The roots (`R` lines) and patterns of one `--patterns-from` file.
    pub fn from_pattern_file(content: &[u8]) -> Result<PatternArgs, PatternError> {
        let mut args = PatternArgs::new();
        args.patterns_from(content)?;
        Ok(args)
    }

    /// The matcher `borg create` uses: `PatternMatcher(fallback=True)` plus
    /// `add_inclexcl(args.patterns)`; [`PatternArgs::paths`] are the roots
    /// to walk.
    pub fn create_matcher(&self) -> PatternMatcher {
        let mut m = PatternMatcher::new(Some(true));
        m.add_inclexcl(self.patterns.iter().cloned());
        m
    }

    /// borg's `build_matcher(args.patterns, args.paths)`, used by extract,
    /// export-tar, list, diff and recreate: the PATHs become `pp:`-default
    /// include patterns and decide the fallback.
    pub fn archive_matcher(&self) -> Result<PatternMatcher, PatternError> {
        let mut m = PatternMatcher::new(None);
        m.add_inclexcl(self.patterns.iter().cloned());
        m.add_includepaths(&self.paths)?;
        Ok(m)
    }
}

/// borg's `PatternMatcher`: an ordered list of patterns, first match wins,
/// except that `pf:` patterns are looked up first in a table (where a later
/// `pf:` with the same normalized path replaces an earlier one).
#[derive(Debug, Clone)]
pub struct PatternMatcher {
    items: Vec<(Pattern, Action)>,
    path_full: HashMap<Vec<u8>, Action>,
    fallback: Option<bool>,
    recurse_dir: Option<bool>,
    recurse_dir_default: bool,
    /// Indexes into `items` of the non-`pf:` patterns of the last
    /// `add_includepaths` call.
    include_patterns: Vec<usize>,
}

impl PatternMatcher {
    /// `PatternMatcher(fallback)`: `fallback` is returned when nothing
    /// matches (`None` reads as false through [`PatternMatcher::matches`]).
    pub fn new(fallback: Option<bool>) -> Self {
        PatternMatcher {
            items: Vec::new(),
            path_full: HashMap::new(),
            fallback,
            recurse_dir: None,
            recurse_dir_default: true,
            include_patterns: Vec::new(),
        }
    }

    /// The current fallback value.
    pub fn fallback(&self) -> Option<bool> {
        self.fallback
    }

    /// borg's `empty()`: no patterns at all.
    pub fn empty(&self) -> bool {
        self.items.is_empty() && self.path_full.is_empty()
    }

    /// borg's `is_include_cmd[action]`.
    pub fn is_include_cmd(action: Action) -> bool {
        action.is_include()
    }

    fn add_one(&mut self, pattern: Pattern, action: Action) -> Option<usize> {
        if pattern.style == PatternStyle::PathFull {
            self.path_full.insert(pattern.prepared.clone(), action);
            None
        } else {
            self.items.push((pattern, action));
            Some(self.items.len() - 1)
        }
    }

    /// borg's `add(patterns, cmd)`: every pattern with the same action.
    /// (Each pattern keeps its own `recurse_dir`.)
    pub fn add(&mut self, patterns: impl IntoIterator<Item = Pattern>, action: Action) {
        for p in patterns {
            self.add_one(p, action);
        }
    }

    /// borg's `add_inclexcl(patterns)`: `(pattern, action)` pairs in order.
    pub fn add_inclexcl(&mut self, patterns: impl IntoIterator<Item = (Pattern, Action)>) {
        for (p, a) in patterns {
            self.add_one(p, a);
        }
    }

    /// borg's `add_includepaths(paths)`: each path is parsed with default
    /// style `pp:` (a style prefix is honoured) and added as
    /// [`Action::Include`]; the fallback becomes "no paths given"; the
    /// patterns become the ones [`PatternMatcher::get_unmatched_include_patterns`]
    /// reports on.
    pub fn add_includepaths<P: AsRef<[u8]>>(&mut self, paths: &[P]) -> Result<(), PatternError> {
        let mut parsed = Vec::with_capacity(paths.len());
        for p in paths {
            parsed.push(Pattern::parse_bytes(
                p.as_ref(),
                PatternStyle::PathPrefix,
                true,
            )?);
        }
        self.fallback = Some(parsed.is_empty());
        self.include_patterns = parsed
            .into_iter()
            .filter_map(|p| self.add_one(p, Action::Include))
            .collect();
        Ok(())
    }

    /// borg's `get_unmatched_include_patterns()`: patterns from the last
    /// [`PatternMatcher::add_includepaths`] that never matched (`pf:` ones
    /// are never reported).
    pub fn get_unmatched_include_patterns(&self) -> Vec<&Pattern> {
        self.include_patterns
            .iter()
            .map(|&i| &self.items[i].0)
            .filter(|p| p.match_count() == 0)
            .collect()
    }

    /// borg's `match(path)` with its tri-state result: `Some(include)` or
    /// the fallback. Sets [`PatternMatcher::recurse_dir`].
    pub fn match_path(&mut self, path: &[u8]) -> Option<bool> {
        let path = pystr::lstrip_byte(path, b'/');
        if let Some(&action) = self.path_full.get(path) {
            self.recurse_dir = Some(action.recurses_dir());
            return Some(action.is_include());
        }
        let subject = Subject::new(path);
        for (pattern, action) in &self.items {
            if pattern.matches_subject(&subject) {
                self.recurse_dir = Some(pattern.recurse_dir);
                return Some(action.is_include());
            }
        }
        self.recurse_dir = Some(self.recurse_dir_default);
        self.fallback
    }

    /// borg's `match(path)` as a boolean: whether to include `path` (a
    /// `None` fallback counts as false, like Python's falsy `None`). See the
    /// crate docs for what `path` must be.
    pub fn matches(&mut self, path: &[u8]) -> bool {
        self.match_path(path).unwrap_or(false)
    }

    /// borg's `recurse_dir` after the last match: whether an excluded
    /// directory should still be descended into. False before any match
    /// (borg: `None`).
    pub fn recurse_dir(&self) -> bool {
        self.recurse_dir.unwrap_or(false)
    }

    /// The raw `recurse_dir` (`None` before the first match).
    pub fn recurse_dir_state(&self) -> Option<bool> {
        self.recurse_dir
    }

    /// The non-`pf:` patterns in match order.
    pub fn patterns(&self) -> impl Iterator<Item = &(Pattern, Action)> {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests;
