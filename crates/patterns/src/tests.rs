//! Unit tests with expectations taken from borg 1.4.5 (the oracle tests in
//! `tests/` check the same machinery against the real Python module).

use super::*;

fn m(style: PatternStyle, pat: &str, path: &str) -> bool {
    Pattern::new(style, pat, true)
        .unwrap()
        .matches(path.as_bytes())
}

fn fm(pat: &str, path: &str) -> bool {
    m(PatternStyle::Fnmatch, pat, path)
}
fn sh(pat: &str, path: &str) -> bool {
    m(PatternStyle::Shell, pat, path)
}
fn re(pat: &str, path: &str) -> bool {
    m(PatternStyle::Regex, pat, path)
}
fn pp(pat: &str, path: &str) -> bool {
    m(PatternStyle::PathPrefix, pat, path)
}
fn pf(pat: &str, path: &str) -> bool {
    m(PatternStyle::PathFull, pat, path)
}

fn prepared(style: PatternStyle, pat: &str) -> String {
    String::from_utf8(Pattern::new(style, pat, true).unwrap().prepared().to_vec()).unwrap()
}

#[test]
fn style_prefixes() {
    for s in STYLES_ALL {
        assert_eq!(s.prefix().parse::<PatternStyle>().unwrap(), s);
        assert_eq!(s.to_string(), s.prefix());
    }
    assert!("FM".parse::<PatternStyle>().is_err());
    assert!("xx".parse::<PatternStyle>().is_err());
}

const STYLES_ALL: [PatternStyle; 5] = [
    PatternStyle::Fnmatch,
    PatternStyle::Shell,
    PatternStyle::Regex,
    PatternStyle::PathPrefix,
    PatternStyle::PathFull,
];

#[test]
fn prepared_forms() {
    assert_eq!(prepared(PatternStyle::Fnmatch, "/home/u"), "home/u/*");
    assert_eq!(prepared(PatternStyle::Fnmatch, "/home/u/"), "home/u/*/");
    assert_eq!(prepared(PatternStyle::Fnmatch, ""), "./*");
    assert_eq!(prepared(PatternStyle::Fnmatch, "/"), "*/");
    assert_eq!(prepared(PatternStyle::Shell, "a//b/./c"), "a/b/c/**/*");
    assert_eq!(prepared(PatternStyle::Shell, "a/"), "a/**/*/");
    assert_eq!(prepared(PatternStyle::PathPrefix, "/a/b/"), "a/b/");
    assert_eq!(prepared(PatternStyle::PathPrefix, "/"), "");
    assert_eq!(prepared(PatternStyle::PathFull, "//a/../b/"), "b");
    assert_eq!(prepared(PatternStyle::Regex, "^/x$"), "^/x$");
}

#[test]
fn fnmatch_style() {
    // A pattern matches the path and everything below it.
    assert!(fm("home/u", "home/u"));
    assert!(fm("home/u", "home/u/a/b"));
    assert!(!fm("home/u", "home/user"));
    // `*` and `?` cross "/".
    assert!(fm("home/*.tmp", "home/a/b.tmp"));
    assert!(fm("home?u", "home/u"));
    assert!(fm("*", ""));
    // Trailing slash: the contents, not the directory itself.
    assert!(!fm("home/u/", "home/u"));
    assert!(fm("home/u/", "home/u/x"));
    // Leading "/" of the pattern is dropped; the path is used as given.
    assert!(fm("/home", "home"));
    assert!(!fm("/home", "/home"));
    // "./" is normalized away in the pattern, never in the path.
    assert!(fm("./a", "a"));
    assert!(!fm("./a", "./a"));
    // Sets.
    assert!(fm("[ab]", "b"));
    assert!(fm("[!ab]", "/"));
    assert!(fm("[a-]", "-"));
    assert!(fm("[]]", "]"));
    assert!(!fm("[z-a]", "z"));
    assert!(fm("[", "["));
    // No escapes: a backslash is literal.
    assert!(fm("a\\*", "a\\bc"));
    assert!(!fm("a\\*", "a*"));
    // Empty pattern: normpath("") is ".", so only "." (and below) match.
    assert!(fm("", "."));
    assert!(!fm("", "a"));
}

#[test]
fn shell_style() {
    assert!(sh("home/*/x", "home/u/x"));
    assert!(!sh("home/*/x", "home/u/v/x"));
    assert!(sh("home/**/x", "home/x"));
    assert!(sh("home/**/x", "home/u/v/x"));
    assert!(sh("home/**/x", "home/u/v/x/y"));
    assert!(!sh("home/**/x", "home/u/vx"));
    assert!(sh("**/.cache", ".cache/a"));
    assert!(sh("**/.cache", "a/b/.cache"));
    // `?` does not match "/", but a negated set does.
    assert!(!sh("a?b", "a/b"));
    assert!(sh("a[!x]b", "a/b"));
    // `**` not followed by "/" is two single-segment stars.
    assert!(sh("a**", "abc"));
    assert!(sh("a**", "abc/d"));
    assert!(!sh("a**b", "a/b"));
    // Trailing slash.
    assert!(!sh("a/", "a"));
    assert!(sh("a/", "a/b"));
    // Backslashes are literal inside sets and outside.
    assert!(sh("[\\]", "\\"));
    assert!(sh("a\\b", "a\\b"));
    // A reversed range is an error (re.error in borg).
    assert!(Pattern::new(PatternStyle::Shell, "[z-a]", true).is_err());
}

#[test]
fn regex_style() {
    // search, not match; the path keeps its form (leading "/" is matched).
    assert!(re("tmp", "a/tmp/b"));
    assert!(re("^/home", "/home"));
    assert!(!re("^/home", "home"));
    // `$` also matches before a final newline, `\Z` does not.
    assert!(re("a$", "a\n"));
    assert!(!re("a\\Z", "a\n"));
    // `.` matches an undecodable byte but not a newline.
    assert!(Pattern::new(PatternStyle::Regex, "^a.b$", true)
        .unwrap()
        .matches(b"a\xffb"));
    assert!(!re("^a.b$", "a\nb"));
    // One character is one code point.
    assert!(re("^.$", "\u{e9}"));
    assert!(!re("^..$", "\u{e9}"));
    // Python \w: letters and digits (any script) and "_", no combining marks.
    assert!(re("^\\w+$", "\u{e9}t\u{e9}_2"));
    assert!(!re("^\\w+$", "e\u{301}"));
    // Lookaround, backreferences, named groups, conditionals.
    assert!(re("^(?!home/)", "etc/x"));
    assert!(re("(a)\\1", "aa"));
    assert!(re("(?P<x>b)(?P=x)", "bb"));
    assert!(re("(a)?(?(1)b|c)", "c"));
    // Inline flags.
    assert!(re("(?i)\\.TMP$", "x.tmp"));
    assert!(!re("(?ai)k", "\u{212a}"));
    assert!(re("(?i)k", "\u{212a}"));
    // Named character escapes.
    assert!(re("\\N{LATIN SMALL LETTER E WITH ACUTE}", "\u{e9}"));
    // Errors.
    for bad in [
        "(", "*a", "a**", "\\q", "[z-a]", "(?<=a+)b", "(?L)a", "a(?i)",
    ] {
        assert!(
            Pattern::new(PatternStyle::Regex, bad, true).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn path_styles() {
    assert!(pp("home/u", "home/u"));
    assert!(pp("home/u/", "home/u/x"));
    assert!(!pp("home/u", "home/user"));
    assert!(pp("/home/u", "home/u"));
    assert!(pp("/", "anything"));
    assert!(pf("/home/u/", "home/u"));
    assert!(!pf("home/u", "home/u/x"));
    assert!(pf("a/./b", "a/b"));
}

#[test]
fn non_utf8_paths_and_patterns() {
    let p = Pattern::from_bytes(PatternStyle::Shell, b"a/\xff*", true).unwrap();
    assert!(p.matches(b"a/\xffbc"));
    assert!(!p.matches(b"a/\xfebc"));
    assert_eq!(p.original_bytes(), b"a/\xff*");
    // `?` is one character: a valid UTF-8 sequence or one stray byte.
    let q = Pattern::from_bytes(PatternStyle::Fnmatch, b"?", true).unwrap();
    assert!(q.matches("\u{e9}".as_bytes()));
    assert!(q.matches(b"\xc3"));
    assert!(!q.matches(b"\xc3\xc3"));
    // A set over undecodable bytes (they sort as U+DC80..U+DCFF).
    let r = Pattern::from_bytes(PatternStyle::Fnmatch, b"[\x80-\xff]", true).unwrap();
    assert!(r.matches(b"\xc3"));
    assert!(!r.matches("\u{e9}".as_bytes()));
    let s = Pattern::from_bytes(PatternStyle::Regex, b"^[\x80-\xff]$", true).unwrap();
    assert!(s.matches(b"\xc3"));
    assert!(!s.matches("\u{e9}".as_bytes()));
}

#[test]
fn known_deviation_private_use_collision() {
    // `re:` only: undecodable bytes are carried as U+10FF80..U+10FFFF, so a
    // path holding those (private-use) characters looks the same to a
    // regex. borg would not match here.
    assert!(Pattern::new(PatternStyle::Regex, "\\xff", true).is_ok());
    let p = Pattern::from_bytes(PatternStyle::Regex, b"\xff", true).unwrap();
    assert!(p.matches("\u{10ffff}".as_bytes()));
}

#[test]
fn parse_prefixes() {
    let p = Pattern::parse("sh:home/*", PatternStyle::Fnmatch).unwrap();
    assert_eq!(p.style(), PatternStyle::Shell);
    assert_eq!(p.original(), "home/*");
    assert_eq!(p.to_string(), "home/*");
    assert!(p.recurse_dir());
    // Two alphanumerics and a colon form a prefix, which must be known.
    assert!(matches!(
        Pattern::parse("xx:foo", PatternStyle::Fnmatch),
        Err(PatternError::UnknownStyle { .. })
    ));
    assert!(Pattern::parse("FM:foo", PatternStyle::Fnmatch).is_err());
    assert!(Pattern::parse("\u{e9}\u{e9}:foo", PatternStyle::Fnmatch).is_err());
    // Otherwise the whole text is the pattern.
    let q = Pattern::parse("a_:foo", PatternStyle::Fnmatch).unwrap();
    assert_eq!(q.original(), "a_:foo");
    let r = Pattern::parse("fm", PatternStyle::PathFull).unwrap();
    assert_eq!(r.style(), PatternStyle::PathFull);
    // An empty pattern after the prefix is fine.
    assert_eq!(
        Pattern::parse("pp:", PatternStyle::Fnmatch)
            .unwrap()
            .prepared(),
        b"./"
    );
}

#[test]
fn match_count() {
    let p = Pattern::parse("a", PatternStyle::PathPrefix).unwrap();
    assert_eq!(p.match_count(), 0);
    assert!(p.matches(b"a/b"));
    assert!(!p.matches(b"b"));
    assert!(p.matches(b"a"));
    assert_eq!(p.match_count(), 2);
    assert_eq!(p.clone().match_count(), 2);
}

#[test]
fn matcher_first_match_wins_and_recurse_dir() {
    let mut ie = Vec::new();
    let mut roots = Vec::new();
    load_pattern_file(
        "R /home\n+ home/u/keep\n! home/u/skip\n- home/u\n",
        &mut roots,
        &mut ie,
        None,
    )
    .unwrap();
    assert_eq!(roots, vec![b"/home".to_vec()]);
    let mut m = PatternMatcher::new(Some(true));
    assert!(!m.recurse_dir());
    assert_eq!(m.recurse_dir_state(), None);
    m.add_inclexcl(ie);
    assert!(m.matches(b"/home/u/keep/x"));
    assert!(m.recurse_dir());
    assert!(!m.matches(b"home/u/skip"));
    assert!(!m.recurse_dir());
    assert!(!m.matches(b"home/u/other"));
    assert!(m.recurse_dir());
    assert!(m.matches(b"home/v"));
    assert!(m.recurse_dir());
    assert!(!m.empty());
}

#[test]
fn matcher_path_full_table() {
    // pf: patterns are looked up before all others, and a later pf: for the
    // same path replaces an earlier one.
    let mut m = PatternMatcher::new(Some(true));
    m.add_inclexcl([
        (
            Pattern::parse("home", PatternStyle::PathPrefix).unwrap(),
            Action::Include,
        ),
        (
            Pattern::parse("pf:home/a", PatternStyle::Shell).unwrap(),
            Action::Include,
        ),
        (
            Pattern::parse("pf:/home/a/", PatternStyle::Shell).unwrap(),
            Action::ExcludeNoRecurse,
        ),
    ]);
    assert!(!m.matches(b"home/a"));
    assert!(!m.recurse_dir());
    assert!(m.matches(b"home/b"));
    let only_pf = {
        let mut m = PatternMatcher::new(None);
        m.add(
            [Pattern::parse("pf:x", PatternStyle::Shell).unwrap()],
            Action::Exclude,
        );
        m
    };
    assert!(!only_pf.empty());
}

#[test]
fn matcher_include_paths() {
    let mut m = PatternMatcher::new(None);
    assert_eq!(m.match_path(b"a"), None);
    assert!(m.empty());
    m.add_includepaths(&["home/u", "pf:etc/x", "sh:var/**/*.log", "nothing"])
        .unwrap();
    assert_eq!(m.fallback(), Some(false));
    assert!(m.matches(b"home/u/f"));
    assert!(m.matches(b"etc/x"));
    assert!(!m.matches(b"etc/y"));
    let unmatched: Vec<String> = m
        .get_unmatched_include_patterns()
        .iter()
        .map(|p| p.original().to_string())
        .collect();
    assert_eq!(unmatched, vec!["var/**/*.log", "nothing"]);
    let mut n = PatternMatcher::new(None);
    n.add_includepaths::<&str>(&[]).unwrap();
    assert_eq!(n.fallback(), Some(true));
    assert!(n.matches(b"anything"));
}

#[test]
fn pattern_file_lines() {
    let mut roots = Vec::new();
    let mut ie = Vec::new();
    let text = "# comment\n\n  R  /a b  \r\nP fm\n- *.o\rp re\n+ ^x$\n!\tsh:y/**\n-z\n";
    load_pattern_file(text, &mut roots, &mut ie, None).unwrap();
    assert_eq!(roots, vec![b"/a b".to_vec()]);
    let got: Vec<(PatternStyle, String, Action, bool)> = ie
        .iter()
        .map(|(p, a)| (p.style(), p.original().to_string(), *a, p.recurse_dir()))
        .collect();
    assert_eq!(
        got,
        vec![
            (PatternStyle::Fnmatch, "*.o".into(), Action::Exclude, true),
            (PatternStyle::Regex, "^x$".into(), Action::Include, true),
            (
                PatternStyle::Shell,
                "y/**".into(),
                Action::ExcludeNoRecurse,
                false
            ),
            (PatternStyle::Regex, "z".into(), Action::Exclude, true),
        ]
    );
}

#[test]
fn pattern_file_errors_carry_line_numbers() {
    let mut roots = Vec::new();
    let mut ie = Vec::new();
    let err = load_pattern_file("+ a\n\nx b\n", &mut roots, &mut ie, None).unwrap_err();
    match err {
        PatternError::Line { line, source } => {
            assert_eq!(line, 3);
            assert!(matches!(*source, PatternError::BadCommand { .. }));
        }
        other => panic!("{other:?}"),
    }
    let err = load_pattern_file("P zz\n", &mut roots, &mut ie, None).unwrap_err();
    assert!(
        err.to_string().contains("Invalid pattern style: zz"),
        "{err}"
    );
    let err = load_pattern_file("+ re:(\n", &mut roots, &mut ie, None).unwrap_err();
    assert!(matches!(err, PatternError::Line { line: 1, .. }));
    assert!(matches!(
        decode_pattern_file(b"- a\n- \xff\n"),
        Err(PatternError::Encoding { offset: 6 })
    ));
}

#[test]
fn pattern_and_exclude_arguments() {
    let mut args = PatternArgs::new();
    args.path(b"src");
    args.exclude(b"*.tmp").unwrap();
    args.pattern(b"R /etc").unwrap();
    args.pattern(b"P re").unwrap(); // no effect on the command line
    args.pattern(b"- home ").unwrap();
    args.exclude_from(b"# c\n  a/b  \n").unwrap();
    args.patterns_from(b"P pp\n+ x\n").unwrap();
    assert_eq!(args.paths, vec![b"src".to_vec(), b"/etc".to_vec()]);
    let got: Vec<(PatternStyle, String, Action)> = args
        .patterns
        .iter()
        .map(|(p, a)| (p.style(), p.original().to_string(), *a))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                PatternStyle::Fnmatch,
                "*.tmp".into(),
                Action::ExcludeNoRecurse
            ),
            (PatternStyle::Shell, "home ".into(), Action::Exclude),
            (
                PatternStyle::Fnmatch,
                "a/b".into(),
                Action::ExcludeNoRecurse
            ),
            (PatternStyle::PathPrefix, "x".into(), Action::Include),
        ]
    );
    assert!(matches!(args.pattern(b""), Err(PatternError::EmptyCommand)));
    assert!(matches!(
        args.pattern(b" - a"),
        Err(PatternError::BadCommand { .. })
    ));
    assert!(matches!(
        args.pattern(b"-  "),
        Err(PatternError::MissingValue { .. })
    ));
    let (p, a) = parse_exclude_pattern(b"", PatternStyle::Fnmatch).unwrap();
    assert_eq!(
        (p.style(), a, p.recurse_dir()),
        (PatternStyle::Fnmatch, Action::ExcludeNoRecurse, false)
    );
}

#[test]
fn inclexcl_command_kinds() {
    assert!(matches!(
        parse_inclexcl_command(b"r  x ", PatternStyle::Shell).unwrap(),
        InclExclCommand::Root(r) if r == b"x "
    ));
    assert!(matches!(
        parse_inclexcl_command(b"p\tpf", PatternStyle::Shell).unwrap(),
        InclExclCommand::Style(PatternStyle::PathFull)
    ));
    assert!(matches!(
        parse_inclexcl_command(b"+\xe3\x80\x80a", PatternStyle::Shell).unwrap(),
        InclExclCommand::Pattern(p, Action::Include) if p.original() == "a"
    ));
}

#[test]
fn universal_newlines() {
    let lines: Vec<(usize, &str)> = universal_lines("a\r\nb\rc\n\nd");
    assert_eq!(lines, vec![(1, "a"), (2, "b"), (3, "c"), (4, ""), (5, "d")]);
}
