//! The format-spec mini-language of CPython 3.11
//! (`Python/formatter_unicode.c`) for `str`, `int` (and `bool`) and `float`.

use crate::error::{FormatError, PyExc};
use crate::float::{double_to_string, DtsFlags};
use crate::pyrepr::decimal_value;

/// Widths and precisions above this are refused with `MemoryError`
/// instead of allocating (Python would try to build the string).
pub const MAX_WIDTH: i64 = 1 << 26;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    None,
    Comma,
    Underscore,
    UnderFour,
    Current,
}

#[derive(Debug, Clone)]
struct Spec {
    fill: char,
    align: char,
    alternate: bool,
    sign: char,
    no_neg_0: bool,
    width: i64,
    thousands: Sep,
    precision: i64,
    ty: char,
}

fn char_desc(c: char) -> String {
    let cp = c as u32;
    if cp > 32 && cp < 128 {
        c.to_string()
    } else {
        format!("\\x{cp:x}")
    }
}

fn unknown_presentation_type(ty: char, type_name: &str) -> FormatError {
    FormatError::value(format!(
        "Unknown format code '{}' for object of type '{}'",
        char_desc(ty),
        type_name
    ))
}

/// `get_integer`: consume decimal digits (any Unicode decimal digit).
/// Returns (value, digits consumed).
fn get_integer(spec: &[char], pos: &mut usize) -> Result<(i64, usize), FormatError> {
    let mut acc: i64 = 0;
    let mut n = 0;
    while *pos < spec.len() {
        let Some(d) = decimal_value(spec[*pos]) else {
            break;
        };
        let d = i64::from(d);
        if acc > (i64::MAX - d) / 10 {
            return Err(FormatError::value(
                "Too many decimal digits in format string",
            ));
        }
        acc = acc * 10 + d;
        *pos += 1;
        n += 1;
    }
    Ok((acc, n))
}

fn is_align(c: char) -> bool {
    matches!(c, '<' | '>' | '=' | '^')
}

fn parse_spec(
    spec: &[char],
    default_type: char,
    default_align: char,
    type_name: &str,
) -> Result<Spec, FormatError> {
    let mut f = Spec {
        fill: ' ',
        align: default_align,
        alternate: false,
        sign: '\0',
        no_neg_0: false,
        width: -1,
        thousands: Sep::None,
        precision: -1,
        ty: default_type,
    };
    let end = spec.len();
    let mut pos = 0;
    let mut align_specified = false;
    let mut fill_specified = false;
    if end - pos >= 2 && is_align(spec[pos + 1]) {
        f.align = spec[pos + 1];
        f.fill = spec[pos];
        fill_specified = true;
        align_specified = true;
        pos += 2;
    } else if end - pos >= 1 && is_align(spec[pos]) {
        f.align = spec[pos];
        align_specified = true;
        pos += 1;
    }
    if pos < end && matches!(spec[pos], ' ' | '+' | '-') {
        f.sign = spec[pos];
        pos += 1;
    }
    if pos < end && spec[pos] == 'z' {
        f.no_neg_0 = true;
        pos += 1;
    }
    if pos < end && spec[pos] == '#' {
        f.alternate = true;
        pos += 1;
    }
    if !fill_specified && pos < end && spec[pos] == '0' {
        f.fill = '0';
        if !align_specified && default_align == '>' {
            f.align = '=';
        }
        pos += 1;
    }
    let (w, n) = get_integer(spec, &mut pos)?;
    if n > 0 {
        f.width = w;
    }
    if pos < end && spec[pos] == ',' {
        f.thousands = Sep::Comma;
        pos += 1;
    }
    if pos < end && spec[pos] == '_' {
        if f.thousands != Sep::None {
            return Err(FormatError::value("Cannot specify both ',' and '_'."));
        }
        f.thousands = Sep::Underscore;
        pos += 1;
    }
    if pos < end && spec[pos] == ',' && f.thousands == Sep::Underscore {
        return Err(FormatError::value("Cannot specify both ',' and '_'."));
    }
    if pos < end && spec[pos] == '.' {
        pos += 1;
        let (p, n) = get_integer(spec, &mut pos)?;
        if n == 0 {
            return Err(FormatError::value("Format specifier missing precision"));
        }
        f.precision = p;
    }
    if end - pos > 1 {
        let s: String = spec.iter().collect();
        return Err(FormatError::value(format!(
            "Invalid format specifier '{s}' for object of type '{type_name}'"
        )));
    }
    if end - pos == 1 {
        f.ty = spec[pos];
    }
    if f.thousands != Sep::None {
        match f.ty {
            'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F' | '\0' => {}
            'b' | 'o' | 'x' | 'X' if f.thousands == Sep::Underscore => {
                f.thousands = Sep::UnderFour;
            }
            t => {
                let which = if f.thousands == Sep::Comma { ',' } else { '_' };
                return Err(FormatError::value(format!(
                    "Cannot specify '{which}' with '{}'.",
                    char_desc(t)
                )));
            }
        }
    }
    if f.width > MAX_WIDTH {
        return Err(FormatError::new(PyExc::MemoryError, ""));
    }
    Ok(f)
}

/// Pad `content` (of `nchars` characters) per `calc_padding`.
fn pad_str(out: &mut String, content: &str, nchars: i64, width: i64, align: char, fill: char) {
    let total = if width >= 0 {
        nchars.max(width)
    } else {
        nchars
    };
    let left = match align {
        '>' => total - nchars,
        '^' => (total - nchars) / 2,
        _ => 0,
    };
    let right = total - nchars - left;
    for _ in 0..left {
        out.push(fill);
    }
    out.push_str(content);
    for _ in 0..right {
        out.push(fill);
    }
}

/// `format(s, spec)` for a Python str given as its characters (`chars`
/// may hold lone surrogates, shown as `?`).
pub(crate) fn format_str(cps: &[u32], spec: &str) -> Result<String, FormatError> {
    let render = |cps: &[u32]| crate::pyrepr::codepoints_to_output(cps);
    if spec.is_empty() {
        return Ok(render(cps));
    }
    let spec: Vec<char> = spec.chars().collect();
    let f = parse_spec(&spec, 's', '<', "str")?;
    if f.ty != 's' {
        return Err(unknown_presentation_type(f.ty, "str"));
    }
    if f.sign != '\0' {
        return Err(FormatError::value(if f.sign == ' ' {
            "Space not allowed in string format specifier"
        } else {
            "Sign not allowed in string format specifier"
        }));
    }
    if f.no_neg_0 {
        return Err(FormatError::value(
            "Negative zero coercion (z) not allowed in string format specifier",
        ));
    }
    if f.alternate {
        return Err(FormatError::value(
            "Alternate form (#) not allowed in string format specifier",
        ));
    }
    if f.align == '=' {
        return Err(FormatError::value(
            "'=' alignment not allowed in string format specifier",
        ));
    }
    let mut len = cps.len() as i64;
    if f.precision >= 0 && len >= f.precision {
        len = f.precision;
    }
    let content = render(&cps[..len as usize]);
    let mut out = String::new();
    pad_str(&mut out, &content, len, f.width, f.align, f.fill);
    Ok(out)
}

struct Locale {
    decimal_point: &'static str,
    thousands_sep: &'static str,
    grouping: &'static [u8],
}

fn locale_for(sep: Sep) -> Locale {
    // The C locale (LC_NUMERIC is never set by Python or borg): '.', no
    // grouping.
    match sep {
        Sep::None | Sep::Current => Locale {
            decimal_point: ".",
            thousands_sep: "",
            grouping: &[],
        },
        Sep::Comma => Locale {
            decimal_point: ".",
            thousands_sep: ",",
            grouping: &[3],
        },
        Sep::Underscore => Locale {
            decimal_point: ".",
            thousands_sep: "_",
            grouping: &[3],
        },
        Sep::UnderFour => Locale {
            decimal_point: ".",
            thousands_sep: "_",
            grouping: &[4],
        },
    }
}

/// `_PyUnicode_InsertThousandsGrouping`: the digits with separators and
/// with zero padding up to `min_width` (the grouping repeats the last
/// group size forever; an empty grouping means no grouping).
fn insert_grouping(digits: &str, min_width: i64, locale: &Locale) -> String {
    let sep = locale.thousands_sep;
    let sep_len = sep.chars().count() as i64;
    let digits: Vec<char> = digits.chars().collect();
    let mut remaining = digits.len() as i64;
    let mut min_width = min_width.max(0);
    let mut pieces: Vec<String> = Vec::new(); // built right to left
    let mut digits_pos = digits.len();
    let mut use_sep = false;
    let mut loop_broken = false;
    let mut gi = 0usize;
    let mut previous: i64 = 0;
    let fill = |pieces: &mut Vec<String>,
                digits_pos: &mut usize,
                n_chars: i64,
                n_zeros: i64,
                use_sep: bool| {
        let mut s = String::new();
        for _ in 0..n_zeros {
            s.push('0');
        }
        let start = *digits_pos - n_chars as usize;
        s.extend(&digits[start..*digits_pos]);
        *digits_pos = start;
        if use_sep {
            s.push_str(sep);
        }
        pieces.push(s);
    };
    loop {
        // GroupGenerator_next
        let len = if locale.grouping.is_empty() {
            0
        } else if gi < locale.grouping.len() {
            previous = i64::from(locale.grouping[gi]);
            gi += 1;
            previous
        } else {
            previous
        };
        if len <= 0 {
            break;
        }
        let len = len.min(remaining.max(min_width).max(1));
        let n_zeros = (len - remaining).max(0);
        let n_chars = remaining.min(len).max(0);
        fill(&mut pieces, &mut digits_pos, n_chars, n_zeros, use_sep);
        use_sep = true;
        remaining -= n_chars;
        min_width -= len;
        if remaining <= 0 && min_width <= 0 {
            loop_broken = true;
            break;
        }
        min_width -= sep_len;
    }
    if !loop_broken {
        let len = remaining.max(min_width).max(1);
        let n_zeros = (len - remaining).max(0);
        let n_chars = remaining.min(len).max(0);
        fill(&mut pieces, &mut digits_pos, n_chars, n_zeros, use_sep);
    }
    pieces.iter().rev().map(String::as_str).collect()
}

/// `calc_number_widths` + `fill_number`.
/// `number` = digits (integer part) + optional decimal + remainder.
#[allow(clippy::too_many_arguments)]
fn fill_number(
    f: &Spec,
    prefix: &str,
    sign_char: char,
    digits: &str,
    has_decimal: bool,
    remainder: &str,
    locale: &Locale,
    toupper: bool,
) -> String {
    let (n_sign, sign) = match f.sign {
        '+' => (1, if sign_char == '-' { '-' } else { '+' }),
        ' ' => (1, if sign_char == '-' { '-' } else { ' ' }),
        _ if sign_char == '-' => (1, '-'),
        _ => (0, '\0'),
    };
    let n_prefix = prefix.chars().count() as i64;
    let n_decimal = if has_decimal {
        locale.decimal_point.chars().count() as i64
    } else {
        0
    };
    let n_remainder = remainder.chars().count() as i64;
    let n_digits = digits.chars().count() as i64;
    let non_digit = n_sign + n_prefix + n_decimal + n_remainder;
    let min_width = if f.fill == '0' && f.align == '=' {
        f.width - non_digit
    } else {
        0
    };
    let grouped = if n_digits == 0 {
        String::new()
    } else {
        insert_grouping(digits, min_width, locale)
    };
    let n_grouped = grouped.chars().count() as i64;
    let n_padding = f.width - (non_digit + n_grouped);
    let (mut lpad, mut spad, mut rpad) = (0, 0, 0);
    if n_padding > 0 {
        match f.align {
            '<' => rpad = n_padding,
            '^' => {
                lpad = n_padding / 2;
                rpad = n_padding - lpad;
            }
            '=' => spad = n_padding,
            _ => lpad = n_padding,
        }
    }
    let mut out = String::new();
    let pad = |out: &mut String, n: i64| {
        for _ in 0..n {
            out.push(f.fill);
        }
    };
    pad(&mut out, lpad);
    if n_sign == 1 {
        out.push(sign);
    }
    if toupper {
        out.push_str(&prefix.to_ascii_uppercase());
    } else {
        out.push_str(prefix);
    }
    pad(&mut out, spad);
    if toupper {
        out.push_str(&grouped.to_ascii_uppercase());
    } else {
        out.push_str(&grouped);
    }
    if has_decimal {
        out.push_str(locale.decimal_point);
    }
    if toupper {
        out.push_str(&remainder.to_ascii_uppercase());
    } else {
        out.push_str(remainder);
    }
    pad(&mut out, rpad);
    out
}

fn to_base(v: i128, base: u32) -> String {
    let mut n = v.unsigned_abs();
    if n == 0 {
        return "0".to_string();
    }
    let mut buf = Vec::new();
    while n > 0 {
        let d = (n % u128::from(base)) as u32;
        buf.push(char::from_digit(d, base).unwrap_or('?'));
        n /= u128::from(base);
    }
    buf.iter().rev().collect()
}

/// `format(i, spec)` for a Python int (or bool, `type_name` "bool").
pub(crate) fn format_int(v: i128, spec: &str, type_name: &str) -> Result<String, FormatError> {
    if spec.is_empty() {
        return Ok(v.to_string());
    }
    let spec: Vec<char> = spec.chars().collect();
    let f = parse_spec(&spec, 'd', '>', type_name)?;
    match f.ty {
        'b' | 'c' | 'd' | 'o' | 'x' | 'X' | 'n' => {}
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => return format_float_spec(v as f64, &f),
        t => return Err(unknown_presentation_type(t, type_name)),
    }
    if f.precision != -1 {
        return Err(FormatError::value(
            "Precision not allowed in integer format specifier",
        ));
    }
    if f.no_neg_0 {
        return Err(FormatError::value(
            "Negative zero coercion (z) not allowed in integer format specifier",
        ));
    }
    if f.ty == 'c' {
        if f.sign != '\0' {
            return Err(FormatError::value(
                "Sign not allowed with integer format specifier 'c'",
            ));
        }
        if f.alternate {
            return Err(FormatError::value(
                "Alternate form (#) not allowed with integer format specifier 'c'",
            ));
        }
        if v > i128::from(i64::MAX) || v < i128::from(i64::MIN) {
            return Err(FormatError::new(
                PyExc::OverflowError,
                "Python int too large to convert to C long",
            ));
        }
        if !(0..=0x10ffff).contains(&v) {
            return Err(FormatError::new(
                PyExc::OverflowError,
                "%c arg not in range(0x110000)",
            ));
        }
        // A lone surrogate is printed as '?' by borg.
        let ch = char::from_u32(v as u32).unwrap_or('?').to_string();
        let locale = locale_for(Sep::None);
        return Ok(fill_number(&f, "", '\0', "", false, &ch, &locale, false));
    }
    let (base, prefix) = match f.ty {
        'b' => (2, "0b"),
        'o' => (8, "0o"),
        'x' => (16, "0x"),
        'X' => (16, "0X"),
        _ => (10, ""),
    };
    let digits = to_base(v, base);
    let prefix = if f.alternate { prefix } else { "" };
    let sign_char = if v < 0 { '-' } else { '\0' };
    let locale = locale_for(if f.ty == 'n' {
        Sep::Current
    } else {
        f.thousands
    });
    Ok(fill_number(
        &f,
        &prefix.to_ascii_lowercase(),
        sign_char,
        &digits,
        false,
        "",
        &locale,
        f.ty == 'X',
    ))
}

/// `format(x, spec)` for a Python float.
pub(crate) fn format_float(v: f64, spec: &str) -> Result<String, FormatError> {
    if spec.is_empty() {
        return Ok(crate::float::repr_float(v));
    }
    let spec: Vec<char> = spec.chars().collect();
    let f = parse_spec(&spec, '\0', '>', "float")?;
    match f.ty {
        '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%' => format_float_spec(v, &f),
        t => Err(unknown_presentation_type(t, "float")),
    }
}

/// `format_float_internal`.
fn format_float_spec(v: f64, f: &Spec) -> Result<String, FormatError> {
    if f.precision > i64::from(i32::MAX) {
        return Err(FormatError::value("precision too big"));
    }
    if f.precision > MAX_WIDTH {
        return Err(FormatError::new(PyExc::MemoryError, ""));
    }
    let mut flags = DtsFlags {
        alt: f.alternate,
        no_neg_0: f.no_neg_0,
        ..DtsFlags::default()
    };
    let mut ty = f.ty;
    let mut default_precision = 6;
    if ty == '\0' {
        flags.add_dot_0 = true;
        ty = 'r';
        default_precision = 0;
    }
    if ty == 'n' {
        ty = 'g';
    }
    let mut val = v;
    let mut add_pct = false;
    if ty == '%' {
        ty = 'f';
        val *= 100.0;
        add_pct = true;
    }
    let precision = if f.precision < 0 {
        default_precision
    } else {
        if ty == 'r' {
            ty = 'g';
        }
        f.precision as usize
    };
    let mut buf = double_to_string(val, ty, precision, flags);
    if add_pct {
        buf.push('%');
    }
    let (sign_char, body) = match buf.strip_prefix('-') {
        Some(rest) => ('-', rest.to_string()),
        None => ('\0', buf),
    };
    let int_end = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let digits = &body[..int_end];
    let rest = &body[int_end..];
    let (has_decimal, remainder) = match rest.strip_prefix('.') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let locale = locale_for(if f.ty == 'n' {
        Sep::Current
    } else {
        f.thousands
    });
    Ok(fill_number(
        f,
        "",
        sign_char,
        digits,
        has_decimal,
        remainder,
        &locale,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str, spec: &str) -> String {
        let cps: Vec<u32> = v.chars().map(|c| c as u32).collect();
        format_str(&cps, spec).unwrap_or_else(|e| format!("ERR {e}"))
    }
    fn i(v: i128, spec: &str) -> String {
        format_int(v, spec, "int").unwrap_or_else(|e| format!("ERR {e}"))
    }
    fn fl(v: f64, spec: &str) -> String {
        format_float(v, spec).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn strings() {
        assert_eq!(s("a", "010"), "a000000000");
        assert_eq!(s("x", "^6"), "  x   ");
        assert_eq!(s("abc", ".2"), "ab");
        assert_eq!(s("a", ","), "ERR ValueError: Cannot specify ',' with 's'.");
        assert_eq!(
            s("a", "xyz"),
            "ERR ValueError: Invalid format specifier 'xyz' for object of type 'str'"
        );
    }

    #[test]
    fn ints() {
        assert_eq!(i(12345, "010,"), "00,012,345");
        assert_eq!(i(12345, "09,"), "0,012,345");
        assert_eq!(i(12345, "0=+12_"), "+000_012_345");
        assert_eq!(i(255, "#X"), "0XFF");
        assert_eq!(i(-255, "#010x"), "-0x00000ff");
        assert_eq!(i(255, "#_b"), "0b1111_1111");
        assert_eq!(i(5, "*^+#08"), "***+5***");
        assert_eq!(i(1, "\u{663}"), "  1");
        assert_eq!(i(65, "c"), "A");
    }

    #[test]
    fn floats() {
        assert_eq!(fl(1.0, "0=5"), "001.0");
        assert_eq!(fl(f64::INFINITY, "010,"), "0000000inf");
        assert_eq!(fl(1.5, "%"), "150.000000%");
        assert_eq!(fl(-0.001, "z.2f"), "0.00");
        assert_eq!(fl(123456.0, ".3"), "1.23e+05");
        assert_eq!(fl(1.0, "#.0f"), "1.");
        assert_eq!(fl(1234567.891, ",.2f"), "1,234,567.89");
    }
}
