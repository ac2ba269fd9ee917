//! CPython's `PyOS_double_to_string` (`Python/pystrtod.c`,
//! `format_float_short`), with David Gay's `_Py_dg_dtoa` digit generation
//! provided by Rust's own correctly rounded float formatting (round half to
//! even on the exact binary value, like `_Py_dg_dtoa`).

/// The digit string `_Py_dg_dtoa` returns: `digits` without trailing zeros
/// (empty when a fixed-point conversion rounds to nothing), the decimal
/// point position `decpt`, and whether the sign bit was set.
struct Dtoa {
    digits: Vec<u8>,
    decpt: i64,
    negative: bool,
}

/// Split Rust's `{:e}` output (`d.ddde-5`) into digits and decpt.
fn from_exp_format(s: &str) -> (Vec<u8>, i64) {
    let (mant, exp) = s.split_once('e').expect("exponent");
    let exp: i64 = exp.parse().expect("exponent value");
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, exp + 1)
}

/// `_Py_dg_dtoa(x, mode, ndigits)` for finite `x`.
/// mode 0: shortest round-trip; mode 2: `max(1, ndigits)` significant
/// digits; mode 3: `ndigits` digits after the decimal point.
fn dtoa(x: f64, mode: u8, ndigits: usize) -> Dtoa {
    let negative = x.is_sign_negative();
    let a = x.abs();
    if a == 0.0 {
        return Dtoa {
            digits: vec![b'0'],
            decpt: 1,
            negative,
        };
    }
    let (digits, decpt) = match mode {
        0 => from_exp_format(&format!("{a:e}")),
        2 => from_exp_format(&format!("{:.*e}", ndigits.max(1) - 1, a)),
        _ => {
            let s = format!("{a:.ndigits$}");
            let (int_part, frac) = s.split_once('.').unwrap_or((&s, ""));
            let mut digits: Vec<u8> = int_part.bytes().chain(frac.bytes()).collect();
            let mut decpt = int_part.len() as i64;
            let lead = digits.iter().take_while(|&&d| d == b'0').count();
            if lead == digits.len() {
                // Rounds to zero: no digits, "fcvt style".
                return Dtoa {
                    digits: Vec::new(),
                    decpt: -(ndigits as i64),
                    negative,
                };
            }
            digits.drain(..lead);
            decpt -= lead as i64;
            while digits.last() == Some(&b'0') {
                digits.pop();
            }
            (digits, decpt)
        }
    };
    Dtoa {
        digits,
        decpt,
        negative,
    }
}

/// Flags of `PyOS_double_to_string`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DtsFlags {
    pub sign: bool,
    pub add_dot_0: bool,
    pub alt: bool,
    pub no_neg_0: bool,
}

/// `PyOS_double_to_string(val, format_code, precision, flags)` with
/// `format_code` one of `e E f F g G r`.
pub(crate) fn double_to_string(
    val: f64,
    format_code: char,
    precision: usize,
    flags: DtsFlags,
) -> String {
    let upper = format_code.is_ascii_uppercase();
    let code = format_code.to_ascii_lowercase();
    let (mode, precision) = match code {
        'e' => (2u8, precision + 1),
        'f' => (3, precision),
        'g' => (2, precision.max(1)),
        _ => (0, 0),
    };
    let mut out = String::new();
    if val.is_nan() || val.is_infinite() {
        // The sign of a nan is ignored.
        if val.is_infinite() && val < 0.0 {
            out.push('-');
        } else if flags.sign {
            out.push('+');
        }
        let word = if val.is_nan() { "nan" } else { "inf" };
        if upper {
            out.push_str(&word.to_ascii_uppercase());
        } else {
            out.push_str(word);
        }
        return out;
    }
    let d = dtoa(val, mode, precision);
    let mut negative = d.negative;
    let digits = d.digits;
    let mut decpt = d.decpt;
    let digits_len = digits.len() as i64;
    if flags.no_neg_0 && negative && (digits.is_empty() || digits.iter().all(|&c| c == b'0')) {
        negative = false;
    }
    let precision = precision as i64;
    let mut use_exp = false;
    let mut vdigits_end = digits_len;
    match code {
        'e' => {
            use_exp = true;
            vdigits_end = precision;
        }
        'f' => vdigits_end = decpt + precision,
        'g' => {
            let limit = if flags.add_dot_0 {
                precision - 1
            } else {
                precision
            };
            if decpt <= -4 || decpt > limit {
                use_exp = true;
            }
            if flags.alt {
                vdigits_end = precision;
            }
        }
        _ => {
            if decpt <= -4 || decpt > 16 {
                use_exp = true;
            }
        }
    }
    let mut exp = 0i64;
    if use_exp {
        exp = decpt - 1;
        decpt = 1;
    }
    let vdigits_start = if decpt <= 0 { decpt - 1 } else { 0 };
    if !use_exp && flags.add_dot_0 {
        vdigits_end = vdigits_end.max(decpt + 1);
    } else {
        vdigits_end = vdigits_end.max(decpt);
    }
    if negative {
        out.push('-');
    } else if flags.sign {
        out.push('+');
    }
    let zeros = |out: &mut String, n: i64| {
        for _ in 0..n.max(0) {
            out.push('0');
        }
    };
    let dstr = |r: std::ops::Range<i64>| -> &str {
        std::str::from_utf8(&digits[r.start as usize..r.end as usize]).unwrap_or("")
    };
    if decpt <= 0 {
        zeros(&mut out, decpt - vdigits_start);
        out.push('.');
        zeros(&mut out, -decpt);
    } else {
        zeros(&mut out, -vdigits_start);
    }
    if 0 < decpt && decpt <= digits_len {
        out.push_str(dstr(0..decpt));
        out.push('.');
        out.push_str(dstr(decpt..digits_len));
    } else {
        out.push_str(dstr(0..digits_len));
    }
    if digits_len < decpt {
        zeros(&mut out, decpt - digits_len);
        out.push('.');
        zeros(&mut out, vdigits_end - decpt);
    } else {
        zeros(&mut out, vdigits_end - digits_len);
    }
    if out.ends_with('.') && !flags.alt {
        out.pop();
    }
    if use_exp {
        out.push(if upper { 'E' } else { 'e' });
        let sign = if exp < 0 { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}", exp.unsigned_abs()));
    }
    out
}

/// `repr(x)` / `str(x)` of a Python float.
pub(crate) fn repr_float(x: f64) -> String {
    double_to_string(
        x,
        'r',
        0,
        DtsFlags {
            add_dot_0: true,
            ..DtsFlags::default()
        },
    )
}

/// Python's `round(x, ndigits)` for a float and `ndigits >= 0`.
pub(crate) fn py_round(x: f64, ndigits: usize) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    // CPython: dtoa mode 3 then strtod; Rust's fixed formatting is the
    // same correctly rounded decimal string.
    if ndigits > 400 {
        return x;
    }
    let s = format!("{x:.ndigits$}");
    s.parse::<f64>().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64, code: char, p: usize) -> String {
        double_to_string(v, code, p, DtsFlags::default())
    }

    #[test]
    fn basics() {
        assert_eq!(repr_float(1.0), "1.0");
        assert_eq!(repr_float(0.1), "0.1");
        assert_eq!(repr_float(1e16), "1e+16");
        assert_eq!(repr_float(1e15), "1000000000000000.0");
        assert_eq!(repr_float(1e-5), "1e-05");
        assert_eq!(repr_float(0.0001), "0.0001");
        assert_eq!(repr_float(-0.0), "-0.0");
        assert_eq!(repr_float(f64::INFINITY), "inf");
        assert_eq!(f(1.5, 'f', 0), "2");
        assert_eq!(f(0.001, 'f', 2), "0.00");
        assert_eq!(f(-0.001, 'f', 2), "-0.00");
        assert_eq!(f(1234.5678, 'e', 3), "1.235e+03");
        assert_eq!(f(1234.5678, 'g', 6), "1234.57");
        assert_eq!(f(100000.0, 'g', 6), "100000");
        assert_eq!(f(1000000.0, 'g', 6), "1e+06");
        assert_eq!(f(0.0, 'e', 2), "0.00e+00");
        assert_eq!(f(1e300, 'E', 1), "1.0E+300");
        assert_eq!(py_round(2.675, 2), 2.67);
    }
}
