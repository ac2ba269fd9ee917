//! Compare oxiborg-patterns with borg 1.4.5's `borg.patterns` on many
//! (pattern, path) pairs, pattern files, exclude files and argument lists.
//!
//! Data goes to the venv Python as tab-separated lines of hex-encoded bytes
//! (decoded there with `os.fsdecode`, i.e. `surrogateescape`), results come
//! back one line per case.

use oxiborg_patterns::{
    load_exclude_file, load_pattern_file, normpath, parse_exclude_pattern, parse_pattern_arg,
    Action, Pattern, PatternMatcher, PatternStyle,
};

const SCRIPT: &str = r#"
import sys, os, io, warnings
warnings.simplefilter('ignore')
from borg import patterns as P

STY = {'fm': P.FnmatchPattern, 'sh': P.ShellPattern, 're': P.RegexPattern,
       'pp': P.PathPrefixPattern, 'pf': P.PathFullPattern}

def d(h):
    return os.fsdecode(bytes.fromhex(h)) if h != '-' else ''

def e(s):
    return os.fsencode(s).hex() or '-'

def hexlist(f):
    n, rest = f.split(':', 1)
    return [d(x) for x in rest.split(',')] if n != '0' else []

def tri(v):
    return {None: 'N', True: 'T', False: 'F'}[v]

def run_matcher(m, paths):
    res = ''
    for x in paths:
        r = m.match(x)
        res += tri(r) + tri(m.recurse_dir)
    return res or '-'

out = []
for line in sys.stdin.buffer.read().decode('ascii').split('\n'):
    if not line:
        continue
    f = line.split('\t')
    kind = f[0]
    try:
        if kind == 'P':
            p = P.parse_pattern(d(f[2]), STY[f[1]], f[3] == '1')
            paths = hexlist(f[4])
            res = ''.join('1' if p.match(x) else '0' for x in paths) or '-'
            out.append('OK %s %s %s %d %d' % (e(p.pattern), res, e(str(p)), p.match_count, int(p.recurse_dir)))
        elif kind == 'M':
            roots, ie = [], []
            text = bytes.fromhex(f[2]).decode('utf-8') if f[2] != '-' else ''
            P.load_pattern_file(io.StringIO(text, newline=None), roots, ie)
            fb = {'T': True, 'F': False, 'N': None}[f[1]]
            m = P.PatternMatcher(fallback=fb)
            m.add_inclexcl(ie)
            if f[3] != '-':
                m.add_includepaths(hexlist(f[3][1:]))
            res = run_matcher(m, hexlist(f[4]))
            unmatched = ','.join(e(str(p)) for p in m.get_unmatched_include_patterns()) or '-'
            rts = ','.join(e(r) for r in roots) or '-'
            out.append('OK %s %s %s %s %s' % (rts, res, unmatched, tri(m.fallback), int(m.empty())))
        elif kind == 'X':
            ie = []
            text = bytes.fromhex(f[1]).decode('utf-8') if f[1] != '-' else ''
            P.load_exclude_file(io.StringIO(text, newline=None), ie)
            m = P.PatternMatcher(fallback=True)
            m.add_inclexcl(ie)
            out.append('OK %s' % run_matcher(m, hexlist(f[2])))
        elif kind == 'A':
            paths, patterns = [], []
            for op in f[1].split(','):
                if not op:
                    continue
                what, val = op[0], d(op[1:])
                if what == 'p':
                    P.parse_patternfile_line(val, paths, patterns, P.ShellPattern)
                else:
                    patterns.append(P.parse_exclude_pattern(val))
            m = P.PatternMatcher(fallback=True)
            m.add_inclexcl(patterns)
            rts = ','.join(e(r) for r in paths) or '-'
            out.append('OK %s %s' % (rts, run_matcher(m, hexlist(f[2]))))
        elif kind == 'N':
            out.append('OK ' + e(os.path.normpath(d(f[1]))))
        else:
            raise RuntimeError('bad kind ' + kind)
    except Exception as ex:
        if isinstance(ex, RuntimeError):
            raise
        out.append('ERR ' + type(ex).__name__)
sys.stdout.write('\n'.join(out) + '\n')
"#;

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A list sent to Python: `<count>:<hex>,<hex>,...`.
fn hexlist<P: AsRef<[u8]>>(items: &[P]) -> String {
    let parts: Vec<String> = items.iter().map(|p| hex(p.as_ref())).collect();
    format!("{}:{}", items.len(), parts.join(","))
}

/// A list as Python prints it: hex items (`-` for an empty one) joined by
/// `,`, or `-` for no items.
fn outlist<P: AsRef<[u8]>>(items: &[P]) -> String {
    if items.is_empty() {
        return "-".into();
    }
    items
        .iter()
        .map(|p| hex(p.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

fn tri(v: Option<bool>) -> char {
    match v {
        None => 'N',
        Some(true) => 'T',
        Some(false) => 'F',
    }
}

fn run_matcher(m: &mut PatternMatcher, paths: &[Vec<u8>]) -> String {
    let mut s = String::new();
    for p in paths {
        let r = m.match_path(p);
        s.push(tri(r));
        s.push(tri(m.recurse_dir_state()));
    }
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    /// `base`, XOR-ed with `OXIBORG_PATTERNS_SEED` when set (to explore
    /// more cases locally; the default run is deterministic).
    fn seeded(base: u64) -> Self {
        let extra = std::env::var("OXIBORG_PATTERNS_SEED")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        Rng((base ^ extra.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

fn style_name(s: PatternStyle) -> &'static str {
    s.prefix()
}

const STYLES: [PatternStyle; 5] = [
    PatternStyle::Fnmatch,
    PatternStyle::Shell,
    PatternStyle::Regex,
    PatternStyle::PathPrefix,
    PatternStyle::PathFull,
];

/// One `parse_pattern` case: (fallback, recurse_dir, pattern, paths).
type PCase = (PatternStyle, bool, Vec<u8>, Vec<Vec<u8>>);

fn rust_p(case: &PCase) -> String {
    let (fb, rec, pat, paths) = case;
    match Pattern::parse_bytes(pat, *fb, *rec) {
        Err(_) => "ERR".into(),
        Ok(p) => {
            let mut res: String = paths
                .iter()
                .map(|x| if p.matches(x) { '1' } else { '0' })
                .collect();
            if res.is_empty() {
                res = "-".into();
            }
            format!(
                "OK {} {} {} {} {}",
                hex(p.prepared()),
                res,
                hex(&p.original_bytes()),
                p.match_count(),
                u8::from(p.recurse_dir())
            )
        }
    }
}

fn py_line_p(case: &PCase) -> String {
    let (fb, rec, pat, paths) = case;
    format!(
        "P\t{}\t{}\t{}\t{}",
        style_name(*fb),
        hex(pat),
        u8::from(*rec),
        hexlist(paths)
    )
}

/// Compare a batch: Rust results vs Python output lines. Python errors are
/// reported as `ERR <ExceptionType>`; only the fact of an error is compared.
/// Returns how many cases borg answered without an error.
fn compare(
    oracle: &oxiborg_oracle::Oracle,
    lines: &[String],
    ours: &[String],
    describe: &dyn Fn(usize) -> String,
) -> usize {
    let input = lines.join("\n") + "\n";
    let out = String::from_utf8(oracle.run_python(SCRIPT, input.as_bytes())).expect("utf8");
    let theirs: Vec<&str> = out.lines().collect();
    assert_eq!(
        theirs.len(),
        ours.len(),
        "python answered {} of {} cases",
        theirs.len(),
        ours.len()
    );
    let mut failures = Vec::new();
    for (i, (t, o)) in theirs.iter().zip(ours).enumerate() {
        let t_norm = if t.starts_with("ERR") { "ERR" } else { t };
        if t_norm != o {
            failures.push(format!(
                "case {i}: {}\n  borg: {t}\n  ours: {o}",
                describe(i)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        ours.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    theirs.iter().filter(|t| t.starts_with("OK")).count()
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// Returns how many patterns borg accepted.
fn check_p_cases(oracle: &oxiborg_oracle::Oracle, cases: &[PCase]) -> usize {
    let lines: Vec<String> = cases.iter().map(py_line_p).collect();
    let ours: Vec<String> = cases.iter().map(rust_p).collect();
    compare(oracle, &lines, &ours, &|i| {
        let (fb, rec, pat, paths) = &cases[i];
        let paths_s = if paths.len() > 15 {
            "common_paths()".to_string()
        } else {
            format!("{:?}", paths.iter().map(|p| show(p)).collect::<Vec<_>>())
        };
        format!(
            "fallback={} recurse={} pattern={} [{:02x?}] paths={paths_s}",
            fb.prefix(),
            rec,
            show(pat),
            pat,
        )
    })
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Paths most hand-written cases are checked against.
fn common_paths() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "",
        ".",
        "/",
        "a",
        "a/",
        "/a",
        "ab",
        "a/b",
        "a/b/c",
        "a/bc",
        "b/a",
        "x/a/b",
        "home",
        "home/user",
        "home/user/.cache",
        "home/user/.cache/x",
        "home/user/file.tmp",
        "home/user/file.tmp.bak",
        "/home/user/file.tmp",
        "home/other/file.TMP",
        "home/user/sub/deep/file.pyc",
        "./a",
        "../a",
        "a/./b",
        "a//b",
        "foo",
        "foo/bar",
        "foobar",
        "foo/bar/baz",
        "é",
        "é/x",
        "e\u{301}",
        "日本/語",
        "[a]",
        "a*b",
        "a?b",
        "a\\b",
        "a\nb",
        "a\n",
        "-",
        "!",
        "^x",
        "a-b",
        "k",
        "K",
        "\u{212a}",
        "S",
        "\u{17f}",
        "ss",
        "\u{df}",
        "\u{c9}",
        "\u{e9}",
        "x\u{e0}y",
        "ab",
        "abcd",
        "abbcd",
        "aaaa",
        "bx",
        "by",
        "ac",
        "bac",
        "a b",
        "a\u{b2}",
        "\u{661}",
        "a\u{1c}b",
        "\u{2028}",
        "\u{a0}",
        "a\u{ad}b",
    ]
    .iter()
    .map(|s| b(s))
    .collect();
    v.push(b"\xff".to_vec());
    v.push(b"a/\xffb".to_vec());
    v.push(b"a/\xe9".to_vec());
    v.push(b"\xc3".to_vec());
    v.push(b"\xc3\xa9".to_vec());
    v.push(b"home/user/\xed\xa0\x80".to_vec());
    v
}

#[test]
fn handwritten_patterns_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let pats: &[&str] = &[
        "",
        "/",
        "//",
        ".",
        "./",
        "..",
        "a",
        "a/",
        "/a",
        "/a/",
        "//a",
        "a//",
        "a/b",
        "a/b/",
        "*",
        "*/",
        "**",
        "**/",
        "a/*",
        "a/**",
        "a/**/c",
        "**/b",
        "**/c",
        "*/b",
        "a*",
        "a?",
        "?",
        "??",
        "a?b",
        "a[*]b",
        "a[?]b",
        "[a]",
        "[ab]/*",
        "[!a]",
        "[!a]*",
        "[^a]",
        "[]a]",
        "[!]a]",
        "[a-]",
        "[-a]",
        "[a-c]",
        "[c-a]",
        "[a-c-e]",
        "[\\]",
        "[\\]]",
        "a\\b",
        "a\\*b",
        "[",
        "[a",
        "]",
        "[[]",
        "[&&]",
        "[a&&b]",
        "[a--b]",
        "[--a]",
        "[!--a]",
        "[~~]",
        "[||]",
        "[é]",
        "[é-ë]",
        "é",
        "e\u{301}",
        "日本",
        "home/user",
        "home/user/",
        "home/*/file.tmp",
        "home/*/*.tmp",
        "*.tmp",
        "**/*.tmp",
        "*.TMP",
        "home/user/.cache",
        "home/user/.cache/",
        "/home/user/.cache/",
        "home/**/*.pyc",
        "sh:home/*",
        "fm:home/*",
        "re:home",
        "pp:home",
        "pf:home/user",
        "pf:/home/user/",
        "pp:/home/user/",
        "xx:foo",
        "FM:foo",
        "éé:foo",
        "12:foo",
        "a_:foo",
        "fm:",
        "sh:",
        "re:",
        "pp:",
        "pf:",
        "fm",
        "re:^home/.*\\.tmp$",
        "re:\\.tmp$",
        "re:\\.TMP$",
        "re:(?i)\\.tmp$",
        "re:^/home",
        "re:^home/[^/]+$",
        "re:a\\nb",
        "re:a$",
        "re:a\\Z",
        "re:a\\z",
        "re:\\bb\\b",
        "re:\\Bb",
        "re:\\w+/\\w+",
        "re:^\\W",
        "re:\\d",
        "re:\\s",
        "re:\\S+$",
        "re:.",
        "re:^.$",
        "re:^..$",
        "re:(?s)a.b",
        "re:a.b",
        "re:(?m)^b",
        "re:(?m)a$",
        "re:(a)\\1",
        "re:(?P<x>a)(?P=x)",
        "re:(?=a)",
        "re:(?!a)^.",
        "re:(?<=a)/",
        "re:(?<!a)/",
        "re:(?<=ab|cd)/",
        "re:(?<=a|bc)/",
        "re:(?>a+)b",
        "re:a++b",
        "re:a{2}",
        "re:a{,2}b",
        "re:a{1,}",
        "re:a{}",
        "re:a{x}",
        "re:{1}",
        "re:a{2,1}",
        "re:a**",
        "re:*a",
        "re:(",
        "re:)",
        "re:[",
        "re:[]a]",
        "re:[^]a]",
        "re:[a-]",
        "re:[z-a]",
        "re:[\\d-z]",
        "re:\\q",
        "re:\\",
        "re:\\x41",
        "re:\\x4",
        "re:\\u00e9",
        "re:\\U0001F600",
        "re:\\101",
        "re:\\0",
        "re:\\8",
        "re:(?i:A)B",
        "re:(?-i:a)",
        "re:(?i)(?-i:a)",
        "re:a(?i)b",
        "re:(?x) a b # comment",
        "re:(?#comment)a",
        "re:(a)?(?(1)b|c)",
        "re:(?a)\\w",
        "re:(?L)a",
        "re:(?u)é",
        "re:a|",
        "re:|",
        "re:(?:)",
        "re:a|b$",
        "re:[\\w.]+",
        "re:[\\W]",
        "re:[\\s\\S]",
        "re:\\A\\Z",
        "re:^$",
        "re:\\udcff",
        "re:[\\udc80-\\udcff]",
        "re:[\\ud800-\\udfff]",
        "re:^[^/]*$",
        "re:(?i)É",
        "re:(?i)[à-ÿ]",
        "re:(?i)ss",
        "re:(?i)k",
        "re:(?i)s",
        "re:(?i)\\w",
        "re:(?ai)k",
        "re:(?a)[^\\W]",
        "re:(?x)[ ]a",
        "re:(?x)a\\ b",
        "re:a(?x: b )c",
        "re:(?x:a b)",
        "re:(?i:a(?-i:b))",
        "re:x*?$",
        "re:(a|b)+?/",
        "re:(?:a|ab)(?:c|bcd)(d*)",
        "re:(?P<n>a)|b(?(n)x|y)",
        "re:(a)|b(?(1)x)",
        "re:(?(2)a|b)(c)",
        "re:(?(3)a)",
        "re:\\N{LATIN SMALL LETTER E WITH ACUTE}",
        "re:[\\N{LATIN SMALL LETTER A}]",
        "re:(?P<1>a)",
        "re:(?P<a>a)(?P<a>b)",
        "re:(?P=zz)",
        "re:(a)(?P=1)",
        "re:\\g<1>",
        "re:(?<a>x)",
        "re:a{1000}",
        "re:a{4294967295}",
        "re:a{,4294967294}",
        "re:[a-z&&[^b]]",
        "re:[[:alpha:]]",
        "re:\\p{L}",
        "re:a(?=b",
        "re:(?<=a+)b",
        "re:(?<=(a))b",
        "re:(a)(?<=\\1)",
        "re:(?#unterminated",
        "re:(?",
        "re:(?P",
        "re:(?Px)",
        "re:(?<x)",
        "re:(?-)",
        "re:(?i-i:a)",
        "re:(?a-u:a)",
        "re:(?au)a",
        "re:(?a)(?u)a",
        "re:(?t)a",
        "re:(?q)",
        "re:a(?i)",
        "re:(?i)(?s).",
        "re:\\ca",
        "re:\\e",
        "re:\\-",
        "re:\\/",
        "re:\\ ",
        "re:[\\b]",
        "re:[\\A]",
        "re:[\\Z]",
        "re:[\\8]",
        "re:[\\0]",
        "re:[\\377]",
        "re:[\\400]",
        "re:\\400",
        "re:\\1",
        "re:(a)\\10",
        "re:(a)\\11",
        "re:\\11",
        "re:\\111",
        "re:$\\n",
        "re:a$\\n",
        "re:(?m)$\\n",
        "re:^*",
        "re:\\b*",
        "re:(?=a)*",
        "re:(?=a)+b",
        "re:(?:)*",
        "re:()*",
        "re:(a*)*",
        "re:(a*)+$",
        "re:(?s:.)",
        "re:(?-s:.)",
        "re:(?s)(?-s:.)",
    ];
    let paths = common_paths();
    let mut cases: Vec<PCase> = Vec::new();
    for p in pats {
        for fb in STYLES {
            cases.push((fb, true, b(p), paths.clone()));
        }
    }
    // Non-UTF-8 patterns (surrogate-escaped on the Python side).
    for p in [
        &b"\xff"[..],
        b"a/\xff*",
        b"[\xff]",
        b"[\xc3-\xff]",
        b"\xc3*",
        b"re:\xff",
        b"re:[\x80-\xff]",
        b"*\xa9",
        b"?\xa9",
    ] {
        for fb in STYLES {
            cases.push((fb, false, p.to_vec(), paths.clone()));
        }
    }
    let ok = check_p_cases(oracle, &cases);
    assert!(
        ok >= cases.len() / 4,
        "only {ok} of {} patterns were valid",
        cases.len()
    );
}

fn random_text(rng: &mut Rng, alphabet: &[&[u8]], max_len: usize) -> Vec<u8> {
    let n = rng.below(max_len + 1);
    let mut v = Vec::new();
    for _ in 0..n {
        v.extend_from_slice(rng.pick(alphabet));
    }
    v
}

const PATH_ALPHABET: &[&[u8]] = &[
    b"a",
    b"b",
    b"a",
    b"b",
    b"/",
    b"/",
    b"/",
    b".",
    b"..",
    b"-",
    b"\xc3\xa9",
    b"\xff",
    b"\xc3",
    b"*",
    b"[",
    b"!",
    b"\n",
];

fn random_path(rng: &mut Rng) -> Vec<u8> {
    random_text(rng, PATH_ALPHABET, 8)
}

#[test]
fn random_glob_and_path_patterns_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = Rng::seeded(0x9E37_79B9_7F4A_7C15);
    let pat_alphabet: &[&[u8]] = &[
        b"a",
        b"b",
        b"/",
        b"/",
        b"*",
        b"*",
        b"**/",
        b"?",
        b"[",
        b"]",
        b"!",
        b"^",
        b"-",
        b"\\",
        b".",
        b"..",
        b"&&",
        b"\xc3\xa9",
        b"\xff",
        b"\xc3",
    ];
    let mut cases: Vec<PCase> = Vec::new();
    for _ in 0..3000 {
        let pat = random_text(&mut rng, pat_alphabet, 7);
        let style = rng.pick(&[
            PatternStyle::Fnmatch,
            PatternStyle::Shell,
            PatternStyle::PathPrefix,
            PatternStyle::PathFull,
        ]);
        let paths: Vec<Vec<u8>> = (0..12).map(|_| random_path(&mut rng)).collect();
        cases.push((style, rng.below(2) == 0, pat, paths));
    }
    let ok = check_p_cases(oracle, &cases);
    assert!(
        ok >= cases.len() / 4,
        "only {ok} of {} patterns were valid",
        cases.len()
    );
}

#[test]
fn random_regex_patterns_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = Rng::seeded(0xD1B5_4A32_D192_ED03);
    let atoms: &[&[u8]] = &[
        b"a",
        b"b",
        b"/",
        b".",
        b"^",
        b"$",
        b"*",
        b"+",
        b"?",
        b"{1,2}",
        b"{,1}",
        b"(",
        b")",
        b"(?:",
        b"|",
        b"[",
        b"]",
        b"[^",
        b"-",
        b"\\w",
        b"\\W",
        b"\\d",
        b"\\s",
        b"\\b",
        b"\\B",
        b"\\A",
        b"\\Z",
        b"\\.",
        b"\\n",
        b"\\\\",
        b"(?=",
        b"(?!",
        b"(?<=",
        b"\\1",
        b"\xc3\xa9",
        b"\xff",
        b"\\xff",
        b"(?i)",
        b"(?s)",
        b"(?m)",
    ];
    let mut cases: Vec<PCase> = Vec::new();
    for _ in 0..8000 {
        let mut pat = b"re:".to_vec();
        pat.extend(random_text(&mut rng, atoms, 6));
        let paths: Vec<Vec<u8>> = (0..12).map(|_| random_path(&mut rng)).collect();
        cases.push((PatternStyle::Fnmatch, true, pat, paths));
    }
    let ok = check_p_cases(oracle, &cases);
    assert!(
        ok >= cases.len() / 4,
        "only {ok} of {} patterns were valid",
        cases.len()
    );
}

#[test]
fn random_regex_sets_and_flags_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = Rng::seeded(0x5851_F42D_4C95_7F2D);
    let atoms: &[&[u8]] = &[
        b"[",
        b"[",
        b"]",
        b"]",
        b"^",
        b"-",
        b"a",
        b"b",
        b"z",
        b"A",
        b"Z",
        b"_",
        b"/",
        b".",
        b"\\",
        b"\\]",
        b"\\-",
        b"\\w",
        b"\\W",
        b"\\s",
        b"\\d",
        b"\\S",
        b"\\D",
        b"\\b",
        b"\\x2f",
        b"\\u00e9",
        b"\\U0001F600",
        b"\\n",
        b"\xc3\xa9",
        b"\xc3\x89",
        b"\xff",
        b"\\udcff",
        b"k",
        b"K",
        b"s",
        b"*",
        b"+?",
        b"{2}",
        b"?",
        b"(",
        b")",
        b"|",
        b"$",
        b"\\Z",
        b"\\A",
        b"(?i)",
        b"(?a)",
        b"(?x)",
        b" ",
        b"#",
        b"(?i:",
        b"(?-i:",
        b"(?s:",
        b"(?m:",
        b"(?>",
        b"(?P<g>",
        b"(?P=g)",
        b"(?(1)",
        b"++",
        b"*+",
        b"&&",
        b"--",
        b"~~",
        b"||",
    ];
    let path_alphabet: &[&[u8]] = &[
        b"a",
        b"b",
        b"z",
        b"A",
        b"K",
        b"k",
        b"s",
        b"S",
        b"_",
        b"/",
        b"/",
        b".",
        b"-",
        b"]",
        b"\\",
        b" ",
        b"\n",
        b"\xc3\xa9",
        b"\xc3\x89",
        b"\xe2\x84\xaa",
        b"\xc5\xbf",
        b"\xff",
        b"\xf0\x9f\x98\x80",
        b"1",
        b"\xd9\xa1",
    ];
    let mut cases: Vec<PCase> = Vec::new();
    for _ in 0..8000 {
        let mut pat = b"re:".to_vec();
        pat.extend(random_text(&mut rng, atoms, 8));
        let paths: Vec<Vec<u8>> = (0..12)
            .map(|_| random_text(&mut rng, path_alphabet, 6))
            .collect();
        cases.push((PatternStyle::Fnmatch, false, pat, paths));
    }
    let ok = check_p_cases(oracle, &cases);
    assert!(
        ok >= cases.len() / 4,
        "only {ok} of {} patterns were valid",
        cases.len()
    );
}

#[test]
fn random_glob_sets_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = Rng::seeded(0x2545_F491_4F6C_DD1D);
    let atoms: &[&[u8]] = &[
        b"[",
        b"[",
        b"]",
        b"]",
        b"!",
        b"^",
        b"-",
        b"-",
        b"a",
        b"b",
        b"z",
        b"/",
        b"\\",
        b"&",
        b"~",
        b"|",
        b"*",
        b"?",
        b"\xc3\xa9",
        b"\xff",
        b".",
        b"**/",
    ];
    let path_alphabet: &[&[u8]] = &[
        b"a",
        b"b",
        b"z",
        b"/",
        b"-",
        b"]",
        b"[",
        b"!",
        b"^",
        b"\\",
        b"&",
        b"~",
        b"|",
        b"\xc3\xa9",
        b"\xff",
        b"y",
    ];
    let mut cases: Vec<PCase> = Vec::new();
    for _ in 0..4000 {
        let pat = random_text(&mut rng, atoms, 9);
        let style = rng.pick(&[PatternStyle::Fnmatch, PatternStyle::Shell]);
        let paths: Vec<Vec<u8>> = (0..12)
            .map(|_| random_text(&mut rng, path_alphabet, 5))
            .collect();
        cases.push((style, true, pat, paths));
    }
    let ok = check_p_cases(oracle, &cases);
    assert!(
        ok >= cases.len() / 4,
        "only {ok} of {} patterns were valid",
        cases.len()
    );
}

#[test]
fn normpath_matches_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = Rng::seeded(42);
    let mut inputs: Vec<Vec<u8>> = [
        "", "/", "//", "///", "////a", "//a/..", "a/..", "../..", "/..", "./.", "a/./b/",
    ]
    .iter()
    .map(|s| b(s))
    .collect();
    for _ in 0..500 {
        inputs.push(random_text(
            &mut rng,
            &[b"a", b"/", b".", b"..", b"\xff"],
            8,
        ));
    }
    let lines: Vec<String> = inputs.iter().map(|p| format!("N\t{}", hex(p))).collect();
    let ours: Vec<String> = inputs
        .iter()
        .map(|p| format!("OK {}", hex(&normpath(p))))
        .collect();
    compare(oracle, &lines, &ours, &|i| show(&inputs[i]));
}

/// A matcher scenario: fallback, pattern-file text, include paths
/// (`None` = `add_includepaths` not called), paths to match.
struct MCase {
    fallback: Option<bool>,
    text: Vec<u8>,
    includes: Option<Vec<Vec<u8>>>,
    paths: Vec<Vec<u8>>,
}

fn rust_m(c: &MCase) -> String {
    let mut roots = Vec::new();
    let mut ie = Vec::new();
    let Ok(text) = std::str::from_utf8(&c.text) else {
        return "ERR".into();
    };
    if load_pattern_file(text, &mut roots, &mut ie, None).is_err() {
        return "ERR".into();
    }
    let mut m = PatternMatcher::new(c.fallback);
    m.add_inclexcl(ie);
    if let Some(inc) = &c.includes {
        if m.add_includepaths(inc).is_err() {
            return "ERR".into();
        }
    }
    let res = run_matcher(&mut m, &c.paths);
    let unmatched: Vec<Vec<u8>> = m
        .get_unmatched_include_patterns()
        .iter()
        .map(|p| p.original_bytes())
        .collect();
    format!(
        "OK {} {} {} {} {}",
        outlist(&roots),
        res,
        outlist(&unmatched),
        tri(m.fallback()),
        u8::from(m.empty())
    )
}

fn py_line_m(c: &MCase) -> String {
    let fb = tri(c.fallback);
    let inc = match &c.includes {
        None => "-".to_string(),
        Some(v) => format!("I{}", hexlist(v)),
    };
    format!("M\t{fb}\t{}\t{inc}\t{}", hex(&c.text), hexlist(&c.paths))
}

/// Returns how many scenarios borg accepted.
fn check_m_cases(oracle: &oxiborg_oracle::Oracle, cases: &[MCase]) -> usize {
    let lines: Vec<String> = cases.iter().map(py_line_m).collect();
    let ours: Vec<String> = cases.iter().map(rust_m).collect();
    compare(oracle, &lines, &ours, &|i| {
        let c = &cases[i];
        let paths_s = if c.paths.len() > 15 {
            "common_paths()".to_string()
        } else {
            format!("{:?}", c.paths.iter().map(|p| show(p)).collect::<Vec<_>>())
        };
        format!(
            "fallback={:?} text={} includes={:?} paths={paths_s}",
            c.fallback,
            show(&c.text),
            c.includes
                .as_ref()
                .map(|v| v.iter().map(|p| show(p)).collect::<Vec<_>>()),
        )
    })
}

#[test]
fn handwritten_pattern_files_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let texts: &[&str] = &[
        "",
        "# only a comment\n\n   \n",
        "R /home\n- home/*/.cache\n+ home/user\n- home\n",
        "R /home\n! home/*/.cache\n+ home/user\n- home\n",
        "R /\nP fm\n- *.tmp\nP re\n+ ^home/user\n- .*\n",
        "p pp\n+ home/user\n! home\n",
        "P pf\n+ home/user\n- home\n+ pf:home\n",
        "- pf:home\n+ pf:home\n",
        "+ pf:home\n- pf:home\n",
        "- pf:/home/\n",
        "  - home/user  \n\t+ home\t\n",
        "-home/user\n+home\n",
        "-   \n",
        "x foo\n",
        " # not a comment? (stripped: it is)\n",
        "P xx\n",
        "P  sh\n- a\n",
        "r relative/root\nR  /abs \n",
        "- a\r+ b\r\n! c\n",
        "- a\u{3000}\n",
        "\u{feff}- a\n",
        "+ re:(\n",
        "- sh:[z-a]\n",
        "- fm:[z-a]\n- a\n",
        "- xx:foo\n",
        "+ home/user/**\n- home/**\n",
        "+ **/*.pyc\n- *\n",
        "- **/.cache\n",
        "! **/.cache/\n",
        "- é\n+ é/x\n",
        "- fm:*\n",
        "- re:\n",
        "- pp:\n",
        "+ pp:/\n- *\n",
        "P re\n- ^a$\n- a/b\n",
        "- a\n# - b\n- c",
    ];
    let include_sets: Vec<Option<Vec<Vec<u8>>>> = vec![
        None,
        Some(vec![]),
        Some(vec![b("home/user")]),
        Some(vec![
            b("home/user"),
            b("nonexistent"),
            b("pf:a"),
            b("pf:nothing"),
            b("sh:**/*.tmp"),
            b("/a/"),
        ]),
        Some(vec![b("re:(")]),
        Some(vec![b("a"), b("a")]),
    ];
    let paths = common_paths();
    let mut cases = Vec::new();
    for t in texts {
        for inc in &include_sets {
            for fb in [None, Some(true), Some(false)] {
                cases.push(MCase {
                    fallback: fb,
                    text: b(t),
                    includes: inc.clone(),
                    paths: paths.clone(),
                });
            }
        }
    }
    // Invalid UTF-8 in a pattern file: borg fails to read it.
    cases.push(MCase {
        fallback: None,
        text: b"- \xff\n".to_vec(),
        includes: None,
        paths: vec![],
    });
    let ok = check_m_cases(oracle, &cases);
    assert!(
        ok >= cases.len() / 4,
        "only {ok} of {} scenarios were valid",
        cases.len()
    );
}

#[test]
fn random_pattern_files_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut rng = Rng::seeded(0x1234_5678_9ABC_DEF1);
    let cmds: &[&str] = &["+ ", "- ", "! ", "R ", "P ", "+", "-", " - ", "# ", ""];
    let styles: &[&str] = &["sh", "fm", "re", "pp", "pf", "xx"];
    let prefixes: &[&str] = &["", "", "", "sh:", "fm:", "pp:", "pf:", "re:"];
    let bodies: &[&str] = &[
        "a", "a/b", "a/*", "*", "**/b", "b", "a/", "/a", "*/b", "a/**", "[ab]", "?", "^a", "a$",
        "é", "a/b/",
    ];
    let mut cases = Vec::new();
    for _ in 0..600 {
        let mut text = String::new();
        for _ in 0..rng.below(7) {
            let c = rng.pick(cmds);
            text.push_str(c);
            if c.trim() == "P" {
                text.push_str(rng.pick(styles));
            } else {
                text.push_str(rng.pick(prefixes));
                text.push_str(rng.pick(bodies));
            }
            text.push_str(rng.pick(&["\n", "\n", "\r\n", "  \n", "\r"]));
        }
        let includes = match rng.below(3) {
            0 => None,
            1 => Some(vec![]),
            _ => Some((0..rng.below(3) + 1).map(|_| b(rng.pick(bodies))).collect()),
        };
        let paths: Vec<Vec<u8>> = (0..10).map(|_| random_path(&mut rng)).collect();
        cases.push(MCase {
            fallback: rng.pick(&[None, Some(true), Some(false)]),
            text: text.into_bytes(),
            includes,
            paths,
        });
    }
    let ok = check_m_cases(oracle, &cases);
    assert!(
        ok >= cases.len() / 4,
        "only {ok} of {} scenarios were valid",
        cases.len()
    );
}

#[test]
fn exclude_files_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let texts: &[&str] = &[
        "",
        "*.tmp\nhome/*/.cache\n",
        "  # comment\n\n/home/user/.cache/\n",
        "sh:**/*.pyc\nre:^home/other\npp:foo\npf:a\n",
        "xx:bad\n",
        "re:(\n",
        "a\r\nb\rc\n",
        "\u{2003}a\u{2003}\n",
        "fm:\n",
    ];
    let paths = common_paths();
    let lines: Vec<String> = texts
        .iter()
        .map(|t| format!("X\t{}\t{}", hex(t.as_bytes()), hexlist(&paths)))
        .collect();
    let ours: Vec<String> = texts
        .iter()
        .map(|t| {
            let mut ie = Vec::new();
            if load_exclude_file(t, &mut ie).is_err() {
                return "ERR".to_string();
            }
            assert!(ie
                .iter()
                .all(|(p, a)| *a == Action::ExcludeNoRecurse && !p.recurse_dir()));
            let mut m = PatternMatcher::new(Some(true));
            m.add_inclexcl(ie);
            format!("OK {}", run_matcher(&mut m, &paths))
        })
        .collect();
    compare(oracle, &lines, &ours, &|i| format!("{:?}", texts[i]));
}

#[test]
fn pattern_and_exclude_arguments_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    // Each op: 'p' = --pattern VALUE, 'e' = --exclude VALUE.
    let scenarios: Vec<Vec<(char, Vec<u8>)>> = vec![
        vec![
            ('e', b("*.tmp")),
            ('p', b("+ home/user")),
            ('p', b("- home")),
        ],
        vec![
            ('p', b("R /home")),
            ('p', b("- home/*/.cache")),
            ('e', b("home/other")),
        ],
        vec![('p', b("P fm")), ('p', b("- home/*"))],
        vec![('p', b(" - home"))],
        vec![('p', b("- home "))],
        vec![('p', b("-"))],
        vec![('p', b(""))],
        vec![('p', b("# - home"))],
        vec![('p', b("R   spaced root  "))],
        vec![('e', b(""))],
        vec![('e', b(" home"))],
        vec![('e', b("home/user/"))],
        vec![('e', b("re:^home/u"))],
        vec![('e', b("sh:home/**/.cache"))],
        vec![('e', b("pf:home"))],
        vec![('e', b("xx:home"))],
        vec![('p', b"- a/\xff*".to_vec()), ('p', b"R /\xff".to_vec())],
        vec![('e', b"\xff".to_vec())],
        vec![('p', b("! home/user")), ('p', b("+ home/user/.cache"))],
    ];
    let paths = common_paths();
    let lines: Vec<String> = scenarios
        .iter()
        .map(|ops| {
            let ops_s: Vec<String> = ops.iter().map(|(k, v)| format!("{k}{}", hex(v))).collect();
            format!("A\t{}\t{}", ops_s.join(","), hexlist(&paths))
        })
        .collect();
    let ours: Vec<String> = scenarios
        .iter()
        .map(|ops| {
            let mut roots = Vec::new();
            let mut pats = Vec::new();
            for (k, v) in ops {
                let r = if *k == 'p' {
                    parse_pattern_arg(v, &mut roots, &mut pats)
                } else {
                    parse_exclude_pattern(v, PatternStyle::Fnmatch).map(|pa| pats.push(pa))
                };
                if r.is_err() {
                    return "ERR".to_string();
                }
            }
            let mut m = PatternMatcher::new(Some(true));
            m.add_inclexcl(pats);
            format!("OK {} {}", outlist(&roots), run_matcher(&mut m, &paths))
        })
        .collect();
    compare(oracle, &lines, &ours, &|i| format!("{:?}", scenarios[i]));
}
