//! oxiborg-textfmt against borg 1.4.5's Python (CPython 3.11 / glibc):
//! `str.format` with random format specs and templates, strftime, file
//! sizes, time deltas, placeholders, stat.filemode, local-time conversions
//! and borg's Item/ArchiveFormatter.

use oxiborg_textfmt::{
    filemode, format, format_file_size, format_file_size_f64, format_line, format_timedelta,
    format_value, format_value_with, isoformat_time, item_mode_type_extra, partial_format,
    replace_placeholders, replace_placeholders_in_zone, safe_timestamp, strftime,
    timedelta_from_seconds, to_localtime, DateStyle, DateTime, FieldMap, FieldValue, FormatOptions,
    LocalZone, PlaceholderError, PlaceholderValues, TzInfo, UtcMktime,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Python helpers shared by all scripts: value decoding and result encoding.
const PRELUDE: &str = r#"
import sys, struct, datetime, os, time
os.environ['TZ'] = 'UTC'
time.tzset()
from borg.helpers.parseformat import DatetimeWrapper
from borg.helpers.time import OutputTimestamp

def dec(v):
    k, _, p = v.partition(':')
    if k == 's': return bytes.fromhex(p).decode('utf-8')
    if k == 'b': return bytes.fromhex(p).decode('utf-8', 'surrogateescape')
    if k == 'i': return int(p)
    if k == 'f': return struct.unpack('>d', bytes.fromhex(p))[0]
    if k == 'B': return p == '1'
    if k == 'N': return None
    y, m, d, H, M, S, us, off, name = p.split(',')
    if off == 'n':
        tz = None
    elif name == '-':
        tz = datetime.timezone(datetime.timedelta(seconds=int(off)))
    else:
        tz = datetime.timezone(datetime.timedelta(seconds=int(off)), bytes.fromhex(name).decode())
    dt = datetime.datetime(int(y), int(m), int(d), int(H), int(M), int(S), int(us), tzinfo=tz)
    if k == 'p': return dt
    if k == 'P': return DatetimeWrapper(dt)
    return OutputTimestamp(dt)

def enc(s):
    return s.encode('utf-8', 'replace').hex()

def run(fn):
    out = []
    for line in sys.stdin.read().split('\n')[:-1]:
        try:
            out.append('OK ' + enc(fn(line.split('\t'))))
        except Exception as e:
            out.append('ERR %s %s' % (type(e).__name__, enc(str(e))))
    sys.stdout.write('\n'.join(out) + '\n')
"#;

fn enc_value(v: &FieldValue) -> String {
    match v {
        FieldValue::Str(s) => format!("s:{}", hex(s.as_bytes())),
        FieldValue::Bytes(b) => format!("b:{}", hex(b)),
        FieldValue::Int(i) => format!("i:{i}"),
        FieldValue::Float(f) => format!("f:{}", hex(&f.to_bits().to_be_bytes())),
        FieldValue::Bool(b) => format!("B:{}", u8::from(*b)),
        FieldValue::None => "N:".to_string(),
        FieldValue::DateTime(dt, style) => {
            let k = match style {
                DateStyle::Python => 'p',
                DateStyle::Placeholder => 'P',
                DateStyle::Output => 'O',
            };
            let (off, name) = match &dt.tz {
                None => ("n".to_string(), "-".to_string()),
                Some(tz) => (
                    tz.offset_seconds.to_string(),
                    tz.name
                        .as_ref()
                        .map_or("-".to_string(), |n| hex(n.as_bytes())),
                ),
            };
            format!(
                "{k}:{},{},{},{},{},{},{},{off},{name}",
                dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond
            )
        }
    }
}

/// What our side produced, in the oracle's line format.
fn enc_result(r: Result<String, oxiborg_textfmt::FormatError>) -> String {
    match r {
        Ok(s) => format!("OK {}", hex(s.as_bytes())),
        Err(e) => format!("ERR {} {}", e.kind.name(), hex(e.message.as_bytes())),
    }
}

fn show(line: &str) -> String {
    let mut parts = line.splitn(3, ' ');
    let tag = parts.next().unwrap_or("");
    if tag == "OK" {
        format!(
            "OK {:?}",
            String::from_utf8_lossy(&unhex(parts.next().unwrap_or("")))
        )
    } else {
        let cls = parts.next().unwrap_or("");
        format!(
            "ERR {cls} {:?}",
            String::from_utf8_lossy(&unhex(parts.next().unwrap_or("")))
        )
    }
}

/// Run `script` over `lines`, compare with `ours` line by line.
fn compare(
    oracle: &oxiborg_oracle::Oracle,
    what: &str,
    script: &str,
    lines: &[String],
    ours: &[String],
    skip: impl Fn(&str, &str) -> bool,
) {
    let full = format!("{PRELUDE}\n{script}");
    let input = lines.join("\n") + "\n";
    let out = String::from_utf8(oracle.run_python(&full, input.as_bytes())).unwrap();
    let theirs: Vec<&str> = out.lines().collect();
    assert_eq!(theirs.len(), lines.len(), "{what}: line count");
    let mut failures = Vec::new();
    let mut checked = 0;
    for ((inp, mine), theirs) in lines.iter().zip(ours).zip(&theirs) {
        if skip(theirs, mine) {
            continue;
        }
        checked += 1;
        if normalize_addresses(mine) != normalize_addresses(theirs) {
            failures.push(format!(
                "input {inp:?}\n  python: {}\n  ours:   {}",
                show(theirs),
                show(mine)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{what}: {} of {} differ:\n{}",
        failures.len(),
        checked,
        failures[..failures.len().min(25)].join("\n")
    );
    assert!(checked * 10 >= lines.len() * 9, "{what}: too few compared");
}

/// Replace the hex digits of `object at 0x...>` (memory addresses) so that
/// outputs compare equal whatever the address.
fn normalize_addresses(line: &str) -> String {
    let Some((tag, rest)) = line.split_once(' ') else {
        return line.to_string();
    };
    let (prefix, payload) = match tag {
        "OK" | "BERR" => (tag.to_string(), rest),
        _ => match rest.split_once(' ') {
            Some((cls, p)) => (format!("{tag} {cls}"), p),
            None => return line.to_string(),
        },
    };
    let text = String::from_utf8_lossy(&unhex(payload)).into_owned();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("object at 0x") {
        let start = i + "object at 0x".len();
        out.push_str(&rest[..start]);
        let n = rest[start..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        out.push_str("ADDR");
        rest = &rest[start + n..];
    }
    out.push_str(rest);
    format!("{prefix} {}", hex(out.as_bytes()))
}

fn sample<S: Strategy>(strategy: S, n: usize, seed: u8) -> Vec<S::Value> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn spec_strategy() -> impl Strategy<Value = String> {
    let fill_align = prop_oneof![
        Just(String::new()),
        prop::sample::select(vec!["<", ">", "^", "="]).prop_map(str::to_string),
        (
            prop::sample::select(vec!['*', '0', ' ', 'x', 'é', '{', '}', '<', '=']),
            prop::sample::select(vec!['<', '>', '^', '='])
        )
            .prop_map(|(f, a)| format!("{f}{a}")),
    ];
    let opt =
        |s: &'static [&'static str]| prop::sample::select(s.to_vec()).prop_map(str::to_string);
    let structured = (
        fill_align,
        opt(&["", "", "+", "-", " "]),
        opt(&["", "", "", "z"]),
        opt(&["", "", "#"]),
        opt(&["", "", "0"]),
        prop_oneof![Just(String::new()), (0u32..30).prop_map(|w| w.to_string())],
        opt(&["", "", "", ",", "_"]),
        prop_oneof![
            Just(String::new()),
            Just(String::new()),
            (0u32..20).prop_map(|p| format!(".{p}"))
        ],
        opt(&[
            "", "", "", "s", "d", "b", "o", "x", "X", "c", "n", "e", "E", "f", "F", "g", "G", "%",
            "r", "y",
        ]),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i)| format!("{a}{b}{c}{d}{e}{f}{g}{h}{i}"));
    let junk = proptest::collection::vec(
        prop::sample::select(vec![
            '<', '>', '^', '=', '+', '-', ' ', 'z', '#', '0', '1', '9', ',', '_', '.', 's', 'd',
            'x', 'f', 'g', '%', 'é', '٣',
        ]),
        0..7,
    )
    .prop_map(|v| v.into_iter().collect::<String>());
    prop_oneof![4 => structured, 1 => junk]
}

fn float_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            -0.001,
            1e16,
            1e15,
            123456.789,
            1e-5,
            0.0001,
            9.995,
            999.995,
            1e300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            5e-324,
            f64::MAX,
            0.1,
            2.675,
            1234567.891,
        ]),
        any::<f64>(),
        (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
    ]
}

fn value_strategy() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "a",
            "hello",
            "hello world, this is long",
            "é😀x",
            "\u{a0}\t\n'\"\\",
        ])
        .prop_map(FieldValue::str),
        "[a-z'\" é\u{1F600}\u{2028}\\x00-\\x1f]{0,12}".prop_map(FieldValue::Str),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(FieldValue::Bytes),
        prop::sample::select(vec![
            0i128,
            1,
            -1,
            42,
            65,
            255,
            -255,
            1234567,
            -987654321,
            0x10ffff,
            0x110000,
            0xd800,
            i64::MAX as i128,
            i64::MIN as i128,
            i128::MAX,
            i128::MIN + 1,
            1 << 70,
        ])
        .prop_map(FieldValue::Int),
        any::<i64>().prop_map(|i| FieldValue::Int(i128::from(i))),
        float_strategy().prop_map(FieldValue::Float),
        any::<bool>().prop_map(FieldValue::Bool),
        Just(FieldValue::None),
    ]
}

#[test]
fn format_specs_match_python() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut specs: Vec<String> = [
        "",
        "<",
        ">10",
        "^9",
        "=8",
        "*^+#08",
        "010,",
        "09,",
        "0=+12_",
        "#X",
        "#010x",
        "#_b",
        ",",
        "_",
        ",_",
        "_,",
        ".",
        ".0",
        ".3",
        "z.2f",
        "z",
        "+",
        " ",
        "#",
        "c",
        "+c",
        "#c",
        ",c",
        "n",
        ",n",
        "%",
        ".1%",
        "e",
        ".0e",
        "#.0e",
        "g",
        "#g",
        ".0g",
        "#.3g",
        "G",
        "E",
        "F",
        ".2f",
        "+.2f",
        " .2f",
        "010.3f",
        "<010.3f",
        ",.2f",
        "_.3f",
        "x<010",
        "0<5",
        "\u{663}",
        "\u{663}.\u{661}f",
        "99999999999999999999",
        ".99999999999999999999",
        "xyz",
        "é",
        "s",
        ".2s",
        "10.3s",
        "d",
        "x",
        "o",
        "b",
        "X",
        ",x",
        "_x",
        "_o",
        ",d",
        ">+,",
        "=^",
        "0=",
        "00",
        "+010",
        "-010",
        " 010",
        "z010.2f",
        "#o",
        "#b",
        "#x",
        ".0f",
        ".20f",
        "#.0f",
        ".17g",
        ".16g",
        "r",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    specs.extend(sample(spec_strategy(), 2500, 7));
    let values = sample(value_strategy(), 4000, 8);
    let mut lines = Vec::new();
    let mut ours = Vec::new();
    let mut vi = 0;
    for spec in &specs {
        for _ in 0..10 {
            let v = &values[vi % values.len()];
            vi += 1;
            lines.push(format!("{}\t{}", enc_value(v), hex(spec.as_bytes())));
            ours.push(enc_result(format_value(v, spec)));
        }
    }
    // Also every handpicked spec against a fixed set of values.
    let fixed = [
        FieldValue::str("abc"),
        FieldValue::Int(12345),
        FieldValue::Int(-7),
        FieldValue::Float(-1234.5678),
        FieldValue::Float(0.0),
        FieldValue::Bool(true),
        FieldValue::Bytes(b"\xffab\xe2\x82".to_vec()),
    ];
    for spec in specs.iter().take(90) {
        for v in &fixed {
            lines.push(format!("{}\t{}", enc_value(v), hex(spec.as_bytes())));
            ours.push(enc_result(format_value(v, spec)));
        }
    }
    let script = r#"
run(lambda f: format(dec(f[0]), bytes.fromhex(f[1]).decode()))
"#;
    // Python allocates enormous widths; we refuse them (MemoryError).
    compare(
        oracle,
        "format(value, spec)",
        script,
        &lines,
        &ours,
        |_, _| false,
    );
}

fn template_fields() -> Vec<(&'static str, FieldValue)> {
    vec![
        ("a", FieldValue::str("hello")),
        ("n", FieldValue::Int(42)),
        ("w", FieldValue::Int(7)),
        ("x", FieldValue::Float(2.5)),
        ("sp", FieldValue::str(">10")),
        ("b", FieldValue::Bytes(b"ab\xffc".to_vec())),
        ("u", FieldValue::str("é😀")),
        ("no", FieldValue::None),
        ("t", FieldValue::Bool(false)),
        (
            "dt",
            FieldValue::DateTime(
                DateTime::naive(2026, 11, 22, 1, 40, 48, 5),
                DateStyle::Python,
            ),
        ),
        (
            "now",
            FieldValue::DateTime(
                DateTime::naive(2026, 11, 22, 1, 40, 48, 5).with_tz(TzInfo {
                    offset_seconds: 3600,
                    name: Some("CET".into()),
                }),
                DateStyle::Placeholder,
            ),
        ),
        (
            "mtime",
            FieldValue::DateTime(DateTime::naive(1999, 1, 2, 13, 4, 5, 0), DateStyle::Output),
        ),
        ("NL", FieldValue::str("\n")),
        ("reverse-fqdn", FieldValue::str("com.example")),
    ]
}

const TEMPLATE_DICT: &str = r#"
d = {
    'a': 'hello', 'n': 42, 'w': 7, 'x': 2.5, 'sp': '>10',
    'b': b'ab\xffc'.decode('utf-8', 'surrogateescape'), 'u': 'é😀', 'no': None, 't': False,
    'dt': datetime.datetime(2026, 11, 22, 1, 40, 48, 5),
    'now': DatetimeWrapper(datetime.datetime(2026, 11, 22, 1, 40, 48, 5,
        tzinfo=datetime.timezone(datetime.timedelta(seconds=3600), 'CET'))),
    'mtime': OutputTimestamp(datetime.datetime(1999, 1, 2, 13, 4, 5)),
    'NL': '\n', 'reverse-fqdn': 'com.example',
}
"#;

fn template_strategy() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "a",
        "n",
        "w",
        "x",
        "sp",
        "b",
        "u",
        "no",
        "t",
        "dt",
        "now",
        "mtime",
        "NL",
        "reverse-fqdn",
        "zz",
        "",
        "0",
        "a[1]",
        "b[2]",
        "a[9]",
        "a[x]",
        "n[0]",
        "a.upper",
        "a[1]x",
        "a[",
        "٣",
    ]);
    let spec = prop_oneof![
        Just(String::new()),
        spec_strategy().prop_map(|s| format!(":{s}")),
        prop::sample::select(vec![
            ":{w}",
            ":{sp}",
            ":>{w}",
            ":{w}.{w}",
            ":%Y-%m-%d",
            ":%H:%M:%S.%f %z %Z",
            ":{{",
            ":%s",
            ":{w:{w}}",
            ":{zz}",
            ":}",
        ])
        .prop_map(str::to_string),
    ];
    let conv = prop::sample::select(vec!["", "", "", "!r", "!s", "!a", "!x", "!", "!rr"]);
    let field = (names, conv, spec).prop_map(|(n, c, s)| format!("{{{n}{c}{s}}}"));
    let literal = prop::sample::select(vec![
        "", "x", " ", "{{", "}}", "}", "{", "-", "é", "[", "]", ":", "!",
    ])
    .prop_map(str::to_string);
    proptest::collection::vec(prop_oneof![3 => field, 2 => literal], 0..5)
        .prop_map(|parts| parts.concat())
}

#[test]
fn templates_match_python() {
    let oracle = oxiborg_oracle::require_oracle!();
    let fields = template_fields();
    let map: FieldMap = fields.iter().cloned().collect();
    let mut templates: Vec<String> = [
        "{a} {n:>5} {x}",
        "{{a}} {a!r:>9}",
        "{n:{w}}|",
        "{b} {b!r} {b:>5} {b[2]!r} {b!a}",
        "{dt} {dt!r} {dt!s} {now} {now:%Y %z %Z} {mtime} {mtime!s} {mtime:%d.%m.%Y}",
        "{no} {no!r} {t} {t!r} {u!a} {u:^9}",
        "{a:{w}.{w}}{NL}",
        "{reverse-fqdn}.{a}",
        "x}}y{{",
        "{a[}]}",
        "{a:{b}}}",
        "{}",
        "{0}",
        "{!r}",
        "{a!}",
        "{a",
        "{a:",
        "{a!",
        "{a{}",
        "}",
        "{",
        "{a.}",
        "{a[]}",
        "{a[0]x}",
        "{n:{w:{w}}}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    templates.extend(sample(template_strategy(), 3000, 9));
    let lines: Vec<String> = templates.iter().map(|t| hex(t.as_bytes())).collect();
    let ours: Vec<String> = templates
        .iter()
        .map(|t| enc_result(format(t, &map)))
        .collect();
    let script =
        format!("{TEMPLATE_DICT}\nrun(lambda f: bytes.fromhex(f[0]).decode().format_map(d))\n");
    // Attribute access (`{a.upper}`) returns Python objects we do not model.
    let attr_err = "ERR AttributeError ".to_string();
    compare(
        oracle,
        "template.format_map(d)",
        &script,
        &lines,
        &ours,
        |_, mine| mine.starts_with(&attr_err),
    );

    // borg's format_line on the same templates and dictionary.
    let ours: Vec<String> = templates
        .iter()
        .map(|t| match format_line(t, &map) {
            Ok(s) => format!("OK {}", hex(s.as_bytes())),
            Err(PlaceholderError::Invalid { .. }) => "INV".to_string(),
            Err(PlaceholderError::Formatting { error, .. }) => {
                format!(
                    "PHE {} {}",
                    error.kind.name(),
                    hex(error.message.as_bytes())
                )
            }
            Err(PlaceholderError::Parse(e)) => {
                format!("ERR {} {}", e.kind.name(), hex(e.message.as_bytes()))
            }
        })
        .collect();
    let script = format!(
        r#"{TEMPLATE_DICT}
from borg.helpers.parseformat import format_line, InvalidPlaceholder, PlaceholderError
out = []
for line in sys.stdin.read().split('\n')[:-1]:
    t = bytes.fromhex(line).decode()
    try:
        out.append('OK ' + enc(format_line(t, d)))
    except InvalidPlaceholder as e:
        out.append('INV')
    except PlaceholderError as e:
        out.append('PHE %s %s' % (e.args[2], enc(e.args[3])))
    except Exception as e:
        out.append('ERR %s %s' % (type(e).__name__, enc(str(e))))
sys.stdout.write('\n'.join(out) + '\n')
"#
    );
    compare(
        oracle,
        "format_line(template, d)",
        &script,
        &lines,
        &ours,
        |_, mine| mine.starts_with("PHE AttributeError "),
    );
}

fn datetime_strategy() -> impl Strategy<Value = DateTime> {
    (
        prop_oneof![1i32..=9999, 1900i32..2100, Just(2026)],
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        prop_oneof![Just(0u32), 0u32..1_000_000],
        prop_oneof![
            Just(None),
            Just(Some(TzInfo::utc())),
            (-86399i32..86400, prop::option::of("[A-Z%]{1,5}")).prop_map(|(o, n)| Some(TzInfo {
                offset_seconds: o,
                name: n
            })),
        ],
    )
        .prop_map(|(y, mo, d, h, mi, s, us, tz)| {
            let dim = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo as usize - 1];
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let d = if mo == 2 && !leap {
                d.min(28)
            } else {
                d.min(dim)
            };
            DateTime {
                year: y,
                month: mo,
                day: d,
                hour: h,
                minute: mi,
                second: s,
                microsecond: us,
                tz,
            }
        })
}

fn strftime_format_strategy() -> impl Strategy<Value = String> {
    let conv = (
        prop::sample::select(vec!["", "", "", "-", "_", "0", "^", "#", "^#", "-_", "0-"]),
        prop_oneof![
            Just(String::new()),
            Just(String::new()),
            (0u32..25).prop_map(|w| w.to_string())
        ],
        prop::sample::select(vec!["", "", "", "", "E", "O"]),
        prop::sample::select(vec![
            'a', 'A', 'b', 'B', 'c', 'C', 'd', 'D', 'e', 'f', 'F', 'g', 'G', 'h', 'H', 'I', 'j',
            'k', 'l', 'm', 'M', 'n', 'p', 'P', 'r', 'R', 's', 'S', 't', 'T', 'u', 'U', 'V', 'w',
            'W', 'x', 'X', 'y', 'Y', 'z', 'Z', '%', 'q', 'Q', '+', 'i', 'é',
        ]),
    )
        .prop_map(|(f, w, m, c)| format!("%{f}{w}{m}{c}"));
    let lit =
        prop::sample::select(vec!["", " ", "-", ":", "T", "é", "%", "x"]).prop_map(str::to_string);
    proptest::collection::vec(prop_oneof![3 => conv, 1 => lit], 1..5).prop_map(|v| v.concat())
}

#[test]
fn strftime_matches_python() {
    let oracle = oxiborg_oracle::require_oracle!();
    let dts = sample(datetime_strategy(), 3000, 10);
    let mut fmts = sample(strftime_format_strategy(), 3000, 11);
    fmts.extend(
        [
            "%a, %Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S.%f",
            "%c|%x|%X|%D|%F|%r|%R|%T",
            "%G-W%V-%u %g %U %W %j %C %y",
            "%5000Y",
            "%1000Y",
            "%%z%%Z%%f%",
            "%-z%5Z%_z",
            "%^p %#p %^P %#Z %#a %^#B",
            "%10c|%^10c|%010D",
            "%_10s|%-s|%010s",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let mut lines = Vec::new();
    let mut ours = Vec::new();
    for (i, f) in fmts.iter().enumerate() {
        let dt = &dts[i % dts.len()];
        let v = FieldValue::DateTime(dt.clone(), DateStyle::Python);
        lines.push(format!("{}\t{}", enc_value(&v), hex(f.as_bytes())));
        ours.push(enc_result(strftime(dt, f, &UtcMktime)));
    }
    // Borg's own formats on many dates.
    for dt in &dts {
        for f in [
            "%a, %Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S.%f",
            "%s %G %V %U %W",
        ] {
            let v = FieldValue::DateTime(dt.clone(), DateStyle::Python);
            lines.push(format!("{}\t{}", enc_value(&v), hex(f.as_bytes())));
            ours.push(enc_result(strftime(dt, f, &UtcMktime)));
        }
    }
    let script = "run(lambda f: dec(f[0]).strftime(bytes.fromhex(f[1]).decode()))\n";
    compare(
        oracle,
        "datetime.strftime",
        script,
        &lines,
        &ours,
        |_, _| false,
    );
}

#[test]
fn file_sizes_match_python() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut ints: Vec<i128> = vec![
        0,
        1,
        -1,
        999,
        1000,
        1001,
        1023,
        1024,
        1025,
        999_499,
        999_500,
        999_994,
        999_995,
        999_999,
        1_000_000,
        1_048_575,
        1_048_576,
        1_234_567,
        123_456_789_012,
        999_995_000_000_000_000_000_000,
        1_000_000_000_000_000_000_000_000_000,
        i128::from(i64::MAX),
        -1_234_567,
    ];
    ints.extend(sample(any::<i64>().prop_map(i128::from), 300, 12));
    ints.extend(sample(
        (0u32..60, 0u64..2000).prop_map(|(e, m)| i128::from(m) << e),
        300,
        13,
    ));
    ints.extend(sample(
        (1u32..25, 0u64..10).prop_map(|(e, d)| 10i128.pow(e) - i128::from(d) * 5),
        300,
        14,
    ));
    let mut lines = Vec::new();
    let mut ours = Vec::new();
    for &v in &ints {
        for precision in [0usize, 1, 2, 3] {
            for sign in [false, true] {
                for iec in [false, true] {
                    lines.push(format!(
                        "i:{v}\t{precision}\t{}\t{}",
                        u8::from(sign),
                        u8::from(iec)
                    ));
                    ours.push(enc_result(Ok(format_file_size(v, precision, sign, iec))));
                }
            }
        }
    }
    let floats = sample(
        float_strategy().prop_filter("finite", |f| f.is_finite()),
        400,
        15,
    );
    for &f in &floats {
        for precision in [0usize, 2] {
            for iec in [false, true] {
                let fv = FieldValue::Float(f);
                lines.push(format!(
                    "{}\t{precision}\t1\t{}",
                    enc_value(&fv),
                    u8::from(iec)
                ));
                ours.push(enc_result(Ok(format_file_size_f64(
                    f, precision, true, iec,
                ))));
            }
        }
    }
    let script = r#"
from borg.helpers import format_file_size
run(lambda f: format_file_size(dec(f[0]), precision=int(f[1]), sign=f[2] == '1', iec=f[3] == '1'))
"#;
    compare(oracle, "format_file_size", script, &lines, &ours, |_, _| {
        false
    });
}

#[test]
fn timedeltas_match_python() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut us: Vec<i64> = vec![
        0,
        1,
        5_310_000,
        65_310_000,
        3_600_000_000,
        86_400_000_000,
        90_061_500_000,
        -1,
        -5_000_000,
        -90_061_500_000,
        59_999_999,
        59_995_000,
        59_994_999,
        3_599_999_999,
    ];
    us.extend(sample(-10_000_000_000_000i64..10_000_000_000_000, 1500, 16));
    us.extend(sample(0i64..200_000_000, 500, 17));
    let mut lines = Vec::new();
    let mut ours = Vec::new();
    for &u in &us {
        lines.push(format!("td\t{u}"));
        ours.push(enc_result(Ok(format_timedelta(u))));
    }
    let secs = sample(
        prop_oneof![
            (-1e7f64..1e7),
            (0i64..100_000_000).prop_map(|n| n as f64 / 1e7),
            (0i64..100_000).prop_map(|n| n as f64 + 0.5e-6),
            (0i64..100_000).prop_map(|n| n as f64 * 1e-6 + 1.5e-6),
        ],
        1500,
        18,
    );
    for &s in &secs {
        let fv = FieldValue::Float(s);
        lines.push(format!("sec\t{}", enc_value(&fv)));
        ours.push(enc_result(Ok(timedelta_from_seconds(s).to_string())));
    }
    let script = r#"
from borg.helpers import format_timedelta
def f(a):
    if a[0] == 'td':
        return format_timedelta(datetime.timedelta(microseconds=int(a[1])))
    td = datetime.timedelta(seconds=dec(a[1]))
    return str((td.days * 86400 + td.seconds) * 1000000 + td.microseconds)
run(f)
"#;
    compare(oracle, "format_timedelta", script, &lines, &ours, |_, _| {
        false
    });
}

#[test]
fn filemode_matches_python() {
    let oracle = oxiborg_oracle::require_oracle!();
    let mut modes: Vec<u32> = Vec::new();
    for t in 0..16u32 {
        for perm in [
            0o0, 0o644, 0o755, 0o777, 0o4755, 0o2755, 0o1777, 0o7000, 0o7777, 0o4644,
        ] {
            modes.push((t << 12) | perm);
        }
    }
    modes.extend(sample(any::<u32>(), 500, 19));
    let lines: Vec<String> = modes.iter().map(|m| format!("{m}")).collect();
    let ours: Vec<String> = modes.iter().map(|&m| enc_result(Ok(filemode(m)))).collect();
    let script = "import stat\nrun(lambda f: stat.filemode(int(f[0])))\n";
    compare(oracle, "stat.filemode", script, &lines, &ours, |_, _| false);
}

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "EST5EDT,M3.2.0,M11.1.0",
];

#[test]
fn local_time_conversions_match_python() {
    let oracle = oxiborg_oracle::require_oracle!();
    let times = sample(
        (
            prop_oneof![0i64..2_147_483_647, 1_600_000_000i64..1_800_000_000],
            0u32..1_000_000,
        ),
        400,
        20,
    );
    let nss = sample(
        prop_oneof![
            -10i128..10,
            0i128..3_000_000_000_000_000_000,
            1_600_000_000_000_000_000i128..1_800_000_000_000_000_000,
        ],
        400,
        21,
    );
    for tzname in ZONES {
        let zone = LocalZone::from_tz(tzname);
        let opts = FormatOptions { mktime: &zone };
        let mut lines = Vec::new();
        let mut ours = Vec::new();
        for &(s, us) in &times {
            // OutputTimestamp(aware UTC) -> to_localtime; str() and isoformat().
            lines.push(format!("ot\t{s}\t{us}"));
            let lt = to_localtime(s, us, &zone);
            let v = FieldValue::DateTime(lt.clone(), DateStyle::Output);
            ours.push(enc_result(
                format_value_with(&v, "", &opts).map(|t| format!("{t}|{}", isoformat_time(&lt))),
            ));
            // DatetimeWrapper(now.astimezone(None)) with a few specs.
            lines.push(format!("now\t{s}\t{us}"));
            let now = FieldValue::DateTime(zone.astimezone(s, us), DateStyle::Placeholder);
            let r: Result<Vec<String>, _> = ["", "%z %Z", "%s", "%Y-%m-%dT%H:%M:%S.%f%z"]
                .iter()
                .map(|spec| format_value_with(&now, spec, &opts))
                .collect();
            ours.push(enc_result(r.map(|v| v.join("|"))));
        }
        for &ns in &nss {
            lines.push(format!("ns\t{ns}"));
            let dt = safe_timestamp(ns, &zone);
            let v = FieldValue::DateTime(dt.clone(), DateStyle::Output);
            ours.push(enc_result(
                format_value_with(&v, "", &opts).map(|t| format!("{t}|{}", isoformat_time(&dt))),
            ));
        }
        let script = format!(
            r#"
os.environ['TZ'] = '{tzname}'
time.tzset()
from borg.helpers.time import safe_timestamp
def f(a):
    if a[0] == 'ot':
        ts = datetime.datetime.fromtimestamp(int(a[1]), datetime.timezone.utc).replace(microsecond=int(a[2]))
        o = OutputTimestamp(ts)
        return '%s|%s' % (o, o.isoformat())
    if a[0] == 'now':
        ts = datetime.datetime.fromtimestamp(int(a[1]), datetime.timezone.utc).replace(microsecond=int(a[2]))
        w = DatetimeWrapper(ts.astimezone(None))
        return '|'.join(format(w, s) for s in ['', '%z %Z', '%s', '%Y-%m-%dT%H:%M:%S.%f%z'])
    o = OutputTimestamp(safe_timestamp(int(a[1])))
    return '%s|%s' % (o, o.isoformat())
run(f)
"#
        );
        compare(
            oracle,
            &format!("local times in {tzname}"),
            &script,
            &lines,
            &ours,
            |_, _| false,
        );
    }
}

fn placeholder_values(zone: &LocalZone, user: FieldValue, ts: (i64, u32)) -> PlaceholderValues {
    PlaceholderValues::new(
        4242,
        "host.sub.example.com",
        "host",
        user,
        "0f1e2d3c-4b5a-4697-8877-665544332211",
        "1.4.5",
        ts.0,
        ts.1,
        zone,
    )
}

#[test]
fn replace_placeholders_matches_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let templates: Vec<String> = [
        "{hostname}-{now}",
        "{fqdn}/{reverse-fqdn}",
        "{utcnow}-{unixtime}-{pid}",
        "{user}@{hostname}:{now:%Y-%m-%d %H:%M:%S.%f %z %Z}",
        "{utcnow:%Y-%m-%dT%H:%M:%S%z %Z %s}",
        "{now:%s} {unixtime:>12} {pid:08x}",
        "{uuid4} {borgversion} {borgmajor} {borgminor} {borgpatch}",
        "{user:>10}|{hostname:^10}|{fqdn:.4}",
        "plain text",
        "{{hostname}}",
        "{nope}",
        "{now!r}",
        "{hostname.upper}",
        "{pid[0]}",
        "{}",
        "{hostname:{nope}}",
        "{pid:s}",
        "{now:%Y",
        "{hostname",
        "x}",
        "{nope} {",
        "{ {nope}",
        "{now:{pid}}",
        "{user:d}",
        "arch-{now:%Y-%m-%d}-{utcnow:%H%M}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let cases: Vec<(&str, FieldValue, (i64, u32))> = vec![
        (
            "Europe/Berlin",
            FieldValue::str("alice"),
            (1_700_000_000, 123_456),
        ),
        (
            "America/New_York",
            FieldValue::Int(12345),
            (1_690_000_000, 0),
        ),
        ("UTC", FieldValue::str("bob"), (1_000_000_000, 999_999)),
    ];
    for (tzname, user, ts) in cases {
        let zone = LocalZone::from_tz(tzname);
        let values = placeholder_values(&zone, user.clone(), ts);
        let ours: Vec<String> = templates
            .iter()
            .map(|t| match replace_placeholders_in_zone(t, &values, &zone) {
                Ok(s) => format!("OK {}", hex(s.as_bytes())),
                Err(e) => format!("BERR {}", hex(e.to_string().as_bytes())),
            })
            .collect();
        // Also the UTC-%s variant agrees wherever %s is not involved.
        for t in &templates {
            if !t.contains("%s") {
                assert_eq!(
                    replace_placeholders(t, &values).map_err(|e| e.to_string()),
                    replace_placeholders_in_zone(t, &values, &zone).map_err(|e| e.to_string())
                );
            }
        }
        let user_py = match &user {
            FieldValue::Str(s) => format!("{s:?}"),
            FieldValue::Int(i) => i.to_string(),
            _ => unreachable!(),
        };
        let script = format!(
            r#"
import re, uuid
os.environ['TZ'] = '{tzname}'
time.tzset()
import borg.platform as plat
import borg.helpers.parseformat as pf
from borg.helpers.errors import Error
plat.fqdn = 'host.sub.example.com'
plat.hostname = 'host'
plat.getosusername = lambda: {user_py}
os.getpid = lambda: 4242
uuid.uuid4 = lambda: uuid.UUID('0f1e2d3c-4b5a-4697-8877-665544332211')
class FakeDT(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.fromtimestamp({secs}, tz).replace(microsecond={us})
pf.datetime = FakeDT
out = []
for line in sys.stdin.read().split('\n')[:-1]:
    t = bytes.fromhex(line).decode()
    try:
        out.append('OK ' + enc(pf.replace_placeholders(t)))
    except Error as e:
        msg = re.sub(r'at 0x[0-9a-f]+>', 'at 0x7f0000000000>', str(e))
        out.append('BERR ' + enc(msg))
    except ValueError as e:
        out.append('BERR ' + enc(str(e)))
sys.stdout.write('\n'.join(out) + '\n')
"#,
            secs = ts.0,
            us = ts.1
        );
        let lines: Vec<String> = templates.iter().map(|t| hex(t.as_bytes())).collect();
        compare(
            oracle,
            &format!("replace_placeholders in {tzname}"),
            &script,
            &lines,
            &ours,
            |_, _| false,
        );
    }
}

/// (mode, path bytes, source, user, group, uid, gid, mtime_ns, ctime_ns)
type ItemRow = (
    u32,
    &'static [u8],
    &'static str,
    &'static str,
    &'static str,
    u32,
    u32,
    i128,
    i128,
);

#[test]
fn item_and_archive_formatters_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let zone = LocalZone::from_tz("Europe/Berlin");
    let opts = FormatOptions { mktime: &zone };
    // (mode, path bytes, source, user, group, uid, gid, mtime_ns, ctime_ns)
    let items: Vec<ItemRow> = vec![
        (
            0o100644,
            b"home/a.txt",
            "",
            "alice",
            "users",
            1000,
            100,
            1_700_000_000_123_456_789,
            1_700_000_100_000_000_000,
        ),
        (
            0o120777,
            b"home/link",
            "a.txt",
            "alice",
            "users",
            1000,
            100,
            1_600_000_000_000_000_000,
            0,
        ),
        (
            0o100600,
            b"home/hard",
            "home/a.txt",
            "",
            "",
            1001,
            1002,
            1_650_000_000_999_999_999,
            1,
        ),
        (
            0o40755,
            b"home/d\xffir",
            "",
            "root",
            "root",
            0,
            0,
            -5,
            4_000_000_000_000_000_000,
        ),
        (0o20620, b"dev/tty", "", "root", "tty", 0, 5, 0, 0),
    ];
    let formats = [
        "{mode} {user:6} {group:6} {mtime} {path}{extra}{NL}",
        "{type}|{mode}|{uid}|{gid}|{user:>8}|{group:<8}|{bpath}|{source}|{linktarget}|{extra}|{health}{NUL}",
        "{isomtime} {isoctime} {mtime:%Y-%m-%d %H:%M:%S.%f} {ctime:%s}{LF}",
        "{archivename}:{archiveid} {path!r} {bpath!r}{TAB}{SPACE}{CR}{NEWLINE}",
        "{archivename:>20} {{literal}} {{NL}} {flags}{NL}",
    ];
    let archive_name = "arch-{NL}";
    let archive_id = "00".repeat(32);
    let mut ours = Vec::new();
    for fmt in formats {
        let mut statics = FieldMap::new();
        statics.insert("archivename", archive_name);
        statics.insert("archiveid", archive_id.as_str());
        for (k, v) in oxiborg_textfmt::fixed_keys("\n").iter() {
            statics.insert(k, v.clone());
        }
        let pre = partial_format(fmt, &statics).unwrap();
        for &(mode, path, source, user, group, uid, gid, mtime, ctime) in &items {
            let (m, t, extra) = item_mode_type_extra(mode, source);
            let mut d = statics.clone();
            d.insert("type", t.to_string());
            d.insert("mode", m);
            d.insert(
                "user",
                if user.is_empty() {
                    FieldValue::from(uid)
                } else {
                    FieldValue::from(user)
                },
            );
            d.insert(
                "group",
                if group.is_empty() {
                    FieldValue::from(gid)
                } else {
                    FieldValue::from(group)
                },
            );
            d.insert("uid", uid);
            d.insert("gid", gid);
            d.insert("path", oxiborg_textfmt::remove_surrogates(path));
            d.insert("bpath", FieldValue::Bytes(path.to_vec()));
            d.insert("extra", extra);
            d.insert("health", "healthy");
            d.insert("source", source);
            d.insert("linktarget", source);
            d.insert("flags", 0);
            let mt = safe_timestamp(mtime, &zone);
            let ct = safe_timestamp(if ctime != 0 { ctime } else { mtime }, &zone);
            d.insert("mtime", FieldValue::DateTime(mt.clone(), DateStyle::Output));
            d.insert("ctime", FieldValue::DateTime(ct.clone(), DateStyle::Output));
            d.insert("isomtime", isoformat_time(&mt));
            d.insert("isoctime", isoformat_time(&ct));
            ours.push(enc_result(oxiborg_textfmt::format_with(&pre, &d, &opts)));
        }
    }
    // Archives.
    let archives: Vec<(&str, i64, u32)> = vec![
        ("backup-2024-01-01", 1_704_067_200, 5),
        (
            "a-very-long-archive-name-that-exceeds-36-chars",
            1_690_000_000,
            999_999,
        ),
        ("é😀", 0, 0),
    ];
    let afmts = [
        "{archive:<36} {time} [{id}]{NL}",
        "{name}|{barchive}|{start}|{time:%Y-%m-%dT%H:%M:%S}|{id:.8}{NUL}",
    ];
    for fmt in afmts {
        let statics = oxiborg_textfmt::fixed_keys("\n");
        let pre = partial_format(fmt, &statics).unwrap();
        for &(name, s, us) in &archives {
            let mut d = statics.clone();
            d.insert("name", name);
            d.insert("archive", name);
            d.insert("barchive", name);
            d.insert("id", "ab".repeat(32));
            let t = FieldValue::DateTime(to_localtime(s, us, &zone), DateStyle::Output);
            d.insert("time", t.clone());
            d.insert("start", t);
            ours.push(enc_result(oxiborg_textfmt::format_with(&pre, &d, &opts)));
        }
    }
    let mut script = String::from(
        r#"
os.environ['TZ'] = 'Europe/Berlin'
time.tzset()
from borg.helpers.parseformat import ItemFormatter, ArchiveFormatter
from borg.helpers.manifest import ArchiveInfo
from borg.item import Item
class FakeArchive:
    name = 'arch-{NL}'
    fpr = '00' * 32
items = [
"#,
    );
    for &(mode, path, source, user, group, uid, gid, mtime, ctime) in &items {
        script.push_str(&format!(
            "    dict(mode={mode}, path=bytes.fromhex('{}').decode('utf-8', 'surrogateescape'), source={source:?}, user={user:?}, group={group:?}, uid={uid}, gid={gid}, mtime={mtime}, ctime={ctime}),\n",
            hex(path)
        ));
    }
    script.push_str("]\nformats = [\n");
    for f in formats {
        script.push_str(&format!("    {f:?},\n"));
    }
    script.push_str("]\narchives = [\n");
    for &(name, s, us) in &archives {
        script.push_str(&format!("    ({name:?}, {s}, {us}),\n"));
    }
    script.push_str("]\nafmts = [\n");
    for f in afmts {
        script.push_str(&format!("    {f:?},\n"));
    }
    script.push_str(
        r#"]
out = []
def add(fn):
    try:
        out.append('OK ' + enc(fn()))
    except Exception as e:
        out.append('ERR %s %s' % (type(e).__name__, enc(str(e))))
for fmt in formats:
    fm = ItemFormatter(FakeArchive, fmt)
    for it in items:
        kw = dict(it)
        if not kw['source']:
            del kw['source']
        if not kw['ctime']:
            del kw['ctime']
        add(lambda: fm.format_item(Item(**kw)))
for fmt in afmts:
    fm = ArchiveFormatter(fmt, None, None, None)
    for name, s, us in archives:
        ts = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).replace(microsecond=us)
        add(lambda: fm.format_item(ArchiveInfo(name, b'\xab' * 32, ts)))
sys.stdout.write('\n'.join(out) + '\n')
"#,
    );
    let lines: Vec<String> = (0..ours.len()).map(|i| i.to_string()).collect();
    compare(
        oracle,
        "Item/ArchiveFormatter",
        &script,
        &lines,
        &ours,
        |_, _| false,
    );
}

#[test]
fn system_values_and_zone_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let v = PlaceholderValues::from_system("1.4.5");
    let zone = LocalZone::system();
    let times: Vec<i64> = vec![
        0,
        1_000_000_000,
        1_700_000_000,
        1_690_000_000,
        2_000_000_000,
    ];
    let script = format!(
        r#"
os.environ.pop('TZ', None)
time.tzset()
from borg.platform import hostname, fqdn, getosusername
print(hostname)
print(fqdn)
print(getosusername())
for t in {times:?}:
    w = DatetimeWrapper(datetime.datetime.fromtimestamp(t, datetime.timezone.utc).astimezone(None))
    print(format(w, '%Y-%m-%dT%H:%M:%S%z %Z'))
"#
    );
    let out = String::from_utf8(oracle.run_python(&format!("{PRELUDE}\n{script}"), b"")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], v.hostname, "hostname");
    assert_eq!(lines[1], v.fqdn, "fqdn");
    let user = format_value(&v.user, "").unwrap();
    assert_eq!(lines[2], user, "user");
    for (i, &t) in times.iter().enumerate() {
        let now = FieldValue::DateTime(zone.astimezone(t, 0), DateStyle::Placeholder);
        assert_eq!(
            lines[3 + i],
            format_value(&now, "%Y-%m-%dT%H:%M:%S%z %Z").unwrap(),
            "local time of {t}"
        );
    }
}

#[test]
fn format_archive_and_json_times_match_borg() {
    let oracle = oxiborg_oracle::require_oracle!();
    let zone = LocalZone::from_tz("America/New_York");
    let archives: Vec<(&str, i64, u32)> = vec![
        ("short", 1_704_067_200, 5),
        (
            "a-very-long-archive-name-that-exceeds-36-chars",
            1_690_000_000,
            999_999,
        ),
        ("é😀", 0, 0),
    ];
    let mut ours = Vec::new();
    let mut py = String::new();
    for &(name, s, us) in &archives {
        let lt = to_localtime(s, us, &zone);
        ours.push(format!(
            "{}|{}",
            oxiborg_textfmt::format_archive(name, &lt, &"cd".repeat(32)),
            isoformat_time(&lt)
        ));
        py.push_str(&format!("    ({name:?}, {s}, {us}),\n"));
    }
    let script = format!(
        r#"
os.environ['TZ'] = 'America/New_York'
time.tzset()
from types import SimpleNamespace
from borg.helpers import format_archive
for name, s, us in [
{py}]:
    ts = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).replace(microsecond=us)
    print('%s|%s' % (format_archive(SimpleNamespace(name=name, ts=ts, id=b'\xcd' * 32)), OutputTimestamp(ts).to_json()))
"#
    );
    let out = String::from_utf8(oracle.run_python(&format!("{PRELUDE}\n{script}"), b"")).unwrap();
    let theirs: Vec<&str> = out.lines().collect();
    assert_eq!(theirs, ours);
}
