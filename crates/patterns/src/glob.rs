//! `fm:` and `sh:` patterns: Python's `fnmatch.translate` (CPython 3.11)
//! and borg's `shellpattern.translate`, ported to a token list that an NFA
//! matches over Python characters (code points).
//!
//! Both translators produce regular expressions that CPython then matches
//! with `re.match` against `path + "/"`, anchored at the end (`\Z`). The
//! token forms below have exactly the meaning of the regex fragments they
//! replace:
//!
//! | token        | regex fragment                          |
//! |--------------|-----------------------------------------|
//! | `Lit(c)`     | `re.escape(c)`                          |
//! | `Any`        | `.` under `(?s)`                        |
//! | `AnyNoSep`   | `[^/]`                                  |
//! | `Class(set)` | `[...]`                                 |
//! | `Never`      | `(?!)`                                  |
//! | `Star`       | `.*` under `(?s)` (and the atomic `(?>.*?X)` groups fnmatch emits, which match the same strings here) |
//! | `StarNoSep`  | `[^/]*`                                 |
//! | `DirStar`    | `(?:[^/]*/)*`                           |

use crate::pyre::{parse_class_text, ClassSet};

const SEP: u32 = b'/' as u32;

#[derive(Debug, Clone)]
enum Tok {
    Lit(u32),
    Any,
    AnyNoSep,
    Class(ClassSet),
    Never,
    Star,
    StarNoSep,
    DirStar,
}

/// A compiled `fm:` or `sh:` glob, matched as a whole (anchored both ends).
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
    /// Bit-parallel form, for globs of fewer than 128 tokens.
    fast: Option<Fast>,
}

/// The token NFA with one bit per state (bit `i`: before token `i`; bit
/// `n`: accept), stepped with word operations.
#[derive(Debug, Clone)]
struct Fast {
    n: usize,
    /// `Any` tokens: consume any character.
    any: u128,
    /// `AnyNoSep` tokens.
    any_nosep: u128,
    /// `Lit` tokens wanting each ASCII character.
    ascii: Box<[u128; 128]>,
    /// Distinct non-ASCII literal characters and the `Lit` tokens wanting them.
    lits: Vec<(u32, u128)>,
    /// Positions and sets of `Class` tokens.
    classes: Vec<(usize, ClassSet)>,
    /// `Star` tokens: stay on any character.
    star: u128,
    /// `StarNoSep` tokens: stay on any character but `/`.
    star_nosep: u128,
    /// `DirStar` tokens (their "inside a name" states are kept in `mid`).
    dirstar: u128,
    /// Tokens that may match nothing.
    eps: u128,
}

impl Fast {
    fn new(toks: &[Tok]) -> Option<Fast> {
        if toks.len() >= 128 {
            return None;
        }
        let mut f = Fast {
            n: toks.len(),
            any: 0,
            any_nosep: 0,
            ascii: Box::new([0; 128]),
            lits: Vec::new(),
            classes: Vec::new(),
            star: 0,
            star_nosep: 0,
            dirstar: 0,
            eps: 0,
        };
        for (i, t) in toks.iter().enumerate() {
            let bit = 1u128 << i;
            match t {
                Tok::Lit(c) if *c < 128 => f.ascii[*c as usize] |= bit,
                Tok::Lit(c) => match f.lits.iter_mut().find(|(x, _)| x == c) {
                    Some((_, bits)) => *bits |= bit,
                    None => f.lits.push((*c, bit)),
                },
                Tok::Any => f.any |= bit,
                Tok::AnyNoSep => f.any_nosep |= bit,
                Tok::Class(set) => f.classes.push((i, set.clone())),
                Tok::Never => {}
                Tok::Star => f.star |= bit,
                Tok::StarNoSep => f.star_nosep |= bit,
                Tok::DirStar => f.dirstar |= bit,
            }
            if matches!(t, Tok::Star | Tok::StarNoSep | Tok::DirStar) {
                f.eps |= bit;
            }
        }
        Some(f)
    }

    fn close(&self, mut at: u128) -> u128 {
        loop {
            let next = at | ((at & self.eps) << 1);
            if next == at {
                return at;
            }
            at = next;
        }
    }

    fn is_match(&self, s: &[u32]) -> bool {
        let mut at = self.close(1);
        let mut mid = 0u128;
        for &c in s {
            let sep = c == SEP;
            let mut single = self.any;
            if !sep {
                single |= self.any_nosep;
            }
            if let Some(bits) = self.ascii.get(c as usize) {
                single |= bits;
            } else {
                for (x, bits) in &self.lits {
                    if *x == c {
                        single |= bits;
                    }
                }
            }
            for (pos, set) in &self.classes {
                if set.contains(c) {
                    single |= 1u128 << pos;
                }
            }
            let mut next = (at & single) << 1;
            next |= at & self.star;
            if !sep {
                next |= at & self.star_nosep;
            }
            let inside = (at | mid) & self.dirstar;
            if sep {
                next |= inside;
                mid = 0;
            } else {
                mid = inside;
            }
            at = self.close(next);
            if at == 0 && mid == 0 {
                return false;
            }
        }
        (at >> self.n) & 1 == 1
    }
}

fn ch(c: char) -> u32 {
    u32::from(c)
}

/// Parse the regex set text `stuff` as CPython would parse `[stuff]`.
fn class_from_stuff(stuff: &[u32]) -> Result<ClassSet, String> {
    let mut text = stuff.to_vec();
    text.push(ch(']'));
    let (set, used) = parse_class_text(&text)?;
    if used != text.len() {
        // The translators never produce a set that ends early.
        return Err("internal: character set ended early".into());
    }
    Ok(set)
}

fn escape_backslashes(s: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        out.push(c);
        if c == ch('\\') {
            out.push(c);
        }
    }
    out
}

/// `fnmatch.translate` of CPython 3.11.
pub(crate) fn fnmatch(pat: &[u32]) -> Result<Glob, String> {
    let n = pat.len();
    let mut i = 0;
    let mut toks = Vec::new();
    while i < n {
        let c = pat[i];
        i += 1;
        if c == ch('*') {
            if !matches!(toks.last(), Some(Tok::Star)) {
                toks.push(Tok::Star);
            }
        } else if c == ch('?') {
            toks.push(Tok::Any);
        } else if c == ch('[') {
            let mut j = i;
            if j < n && pat[j] == ch('!') {
                j += 1;
            }
            if j < n && pat[j] == ch(']') {
                j += 1;
            }
            while j < n && pat[j] != ch(']') {
                j += 1;
            }
            if j >= n {
                toks.push(Tok::Lit(ch('[')));
                continue;
            }
            let mut stuff: Vec<u32>;
            if !pat[i..j].contains(&ch('-')) {
                stuff = escape_backslashes(&pat[i..j]);
            } else {
                let mut chunks: Vec<Vec<u32>> = Vec::new();
                let mut k = if pat[i] == ch('!') { i + 2 } else { i + 1 };
                loop {
                    // pat.find('-', k, j)
                    let found = (k..j).find(|&x| pat[x] == ch('-'));
                    let Some(kk) = found else { break };
                    chunks.push(pat[i..kk].to_vec());
                    i = kk + 1;
                    k = kk + 3;
                }
                let chunk = pat[i..j].to_vec();
                if !chunk.is_empty() {
                    chunks.push(chunk);
                } else if let Some(last) = chunks.last_mut() {
                    last.push(ch('-'));
                } else {
                    return Err("internal: fnmatch set without chunks".into());
                }
                // Remove empty ranges -- invalid in RE.
                let mut k = chunks.len().saturating_sub(1);
                while k > 0 {
                    let prev_last = chunks[k - 1].last().copied();
                    let this_first = chunks[k].first().copied();
                    let (Some(a), Some(b)) = (prev_last, this_first) else {
                        // CPython would raise IndexError here.
                        return Err("string index out of range".into());
                    };
                    if a > b {
                        let mut merged = chunks[k - 1][..chunks[k - 1].len() - 1].to_vec();
                        merged.extend_from_slice(&chunks[k][1..]);
                        chunks[k - 1] = merged;
                        chunks.remove(k);
                    }
                    k -= 1;
                }
                stuff = Vec::new();
                for (idx, s) in chunks.iter().enumerate() {
                    if idx > 0 {
                        stuff.push(ch('-'));
                    }
                    for &c in s {
                        if c == ch('\\') {
                            stuff.extend([ch('\\'), ch('\\')]);
                        } else if c == ch('-') {
                            stuff.extend([ch('\\'), ch('-')]);
                        } else {
                            stuff.push(c);
                        }
                    }
                }
            }
            // Escape set operations (&&, ~~ and ||).
            let mut escaped = Vec::with_capacity(stuff.len());
            for &c in &stuff {
                if c == ch('&') || c == ch('~') || c == ch('|') {
                    escaped.push(ch('\\'));
                }
                escaped.push(c);
            }
            stuff = escaped;
            i = j + 1;
            if stuff.is_empty() {
                toks.push(Tok::Never);
            } else if stuff == [ch('!')] {
                toks.push(Tok::Any);
            } else {
                if stuff[0] == ch('!') {
                    stuff[0] = ch('^');
                } else if stuff[0] == ch('^') || stuff[0] == ch('[') {
                    stuff.insert(0, ch('\\'));
                }
                toks.push(Tok::Class(class_from_stuff(&stuff)?));
            }
        } else {
            toks.push(Tok::Lit(c));
        }
    }
    Ok(Glob::new(toks))
}

/// borg's `shellpattern.translate` (with `match_end=r"\Z"`).
pub(crate) fn shell(pat: &[u32]) -> Result<Glob, String> {
    let n = pat.len();
    let mut i = 0;
    let mut toks = Vec::new();
    while i < n {
        let c = pat[i];
        i += 1;
        if c == ch('*') {
            if i + 1 < n && pat[i] == ch('*') && pat[i + 1] == SEP {
                toks.push(Tok::DirStar);
                i += 2;
            } else {
                toks.push(Tok::StarNoSep);
            }
        } else if c == ch('?') {
            toks.push(Tok::AnyNoSep);
        } else if c == ch('[') {
            let mut j = i;
            if j < n && pat[j] == ch('!') {
                j += 1;
            }
            if j < n && pat[j] == ch(']') {
                j += 1;
            }
            while j < n && pat[j] != ch(']') {
                j += 1;
            }
            if j >= n {
                toks.push(Tok::Lit(ch('[')));
            } else {
                let mut stuff = escape_backslashes(&pat[i..j]);
                i = j + 1;
                if stuff[0] == ch('!') {
                    stuff[0] = ch('^');
                } else if stuff[0] == ch('^') {
                    stuff.insert(0, ch('\\'));
                }
                toks.push(Tok::Class(class_from_stuff(&stuff)?));
            }
        } else {
            toks.push(Tok::Lit(c));
        }
    }
    Ok(Glob::new(toks))
}

impl Glob {
    fn new(toks: Vec<Tok>) -> Glob {
        let fast = Fast::new(&toks);
        Glob { toks, fast }
    }

    /// Whether the whole of `s` matches.
    pub(crate) fn is_match(&self, s: &[u32]) -> bool {
        match &self.fast {
            Some(f) => f.is_match(s),
            None => self.is_match_slow(s),
        }
    }

    /// The same automaton with one `bool` per state (any length).
    fn is_match_slow(&self, s: &[u32]) -> bool {
        let m = self.toks.len();
        // at[i]: before token i; mid[i]: inside DirStar i after a non-'/'.
        let mut at = vec![false; m + 1];
        let mut mid = vec![false; m + 1];
        let mut nat = vec![false; m + 1];
        let mut nmid = vec![false; m + 1];
        at[0] = true;
        self.close(&mut at);
        for &c in s {
            nat.iter_mut().for_each(|x| *x = false);
            nmid.iter_mut().for_each(|x| *x = false);
            let mut any = false;
            for i in 0..m {
                if mid[i] {
                    any = true;
                    if c == SEP {
                        nat[i] = true;
                    } else {
                        nmid[i] = true;
                    }
                }
                if !at[i] {
                    continue;
                }
                any = true;
                match &self.toks[i] {
                    Tok::Lit(x) => nat[i + 1] |= *x == c,
                    Tok::Any => nat[i + 1] = true,
                    Tok::AnyNoSep => nat[i + 1] |= c != SEP,
                    Tok::Class(set) => nat[i + 1] |= set.contains(c),
                    Tok::Never => {}
                    Tok::Star => nat[i] = true,
                    Tok::StarNoSep => nat[i] |= c != SEP,
                    Tok::DirStar => {
                        if c == SEP {
                            nat[i] = true;
                        } else {
                            nmid[i] = true;
                        }
                    }
                }
            }
            if !any {
                return false;
            }
            std::mem::swap(&mut at, &mut nat);
            std::mem::swap(&mut mid, &mut nmid);
            self.close(&mut at);
        }
        at[m]
    }

    /// Epsilon closure: the star tokens may match nothing.
    fn close(&self, at: &mut [bool]) {
        for i in 0..self.toks.len() {
            if at[i] && matches!(self.toks[i], Tok::Star | Tok::StarNoSep | Tok::DirStar) {
                at[i + 1] = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pystr::from_str;

    fn fm(p: &str, s: &str) -> bool {
        fnmatch(&from_str(p)).unwrap().is_match(&from_str(s))
    }
    fn sh(p: &str, s: &str) -> bool {
        shell(&from_str(p)).unwrap().is_match(&from_str(s))
    }

    #[test]
    fn fnmatch_basics() {
        assert!(fm("*", ""));
        assert!(fm("*", "a/b"));
        assert!(fm("a*b", "a/x/b"));
        assert!(!fm("a*b", "a/x/bc"));
        assert!(fm("?", "/"));
        assert!(fm("[a-c]x", "bx"));
        assert!(!fm("[!a-c]x", "bx"));
        assert!(fm("[!a-c]x", "/x"));
        assert!(!fm("[z-a]", "[z-a]"));
        assert!(!fm("[z-a]", "z"));
        assert!(fm("[]]", "]"));
        assert!(fm("[!]]", "a"));
        assert!(fm("[", "["));
        assert!(fm("[a-]", "-"));
        assert!(fm("[\\]", "\\"));
        assert!(fm("a[&&b]", "a&"));
    }

    #[test]
    fn fast_and_slow_agree() {
        let alphabet = ['a', 'b', '/', '*', '?', '[', ']', '!', '-', '\\', 'é'];
        let mut x: u64 = 0x1234_5678;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..3000 {
            let plen = next(9);
            let pat: String = (0..plen).map(|_| alphabet[next(alphabet.len())]).collect();
            let slen = next(8);
            let s: String = (0..slen).map(|_| alphabet[next(alphabet.len())]).collect();
            for g in [fnmatch(&from_str(&pat)), shell(&from_str(&pat))]
                .into_iter()
                .flatten()
            {
                let cps = from_str(&s);
                assert_eq!(g.is_match(&cps), g.is_match_slow(&cps), "{pat:?} {s:?}");
            }
        }
        // Long globs use the slow path.
        let long = "a*".repeat(100);
        let g = shell(&from_str(&long)).unwrap();
        assert!(g.fast.is_none());
        assert!(g.is_match(&from_str(&"a".repeat(100))));
        assert!(!g.is_match(&from_str(&"a".repeat(99))));
    }

    #[test]
    fn shell_basics() {
        assert!(sh("*", "abc"));
        assert!(!sh("*", "a/b"));
        assert!(sh("**/x", "x"));
        assert!(sh("**/x", "a/b/x"));
        assert!(!sh("**/x", "a/bx"));
        assert!(sh("a/**/*", "a/"));
        assert!(sh("a/**/*", "a/b/c/"));
        assert!(!sh("?", "/"));
        assert!(sh("[!a]", "/"));
        assert!(sh("**", "ab"));
        assert!(!sh("**", "a/b"));
        assert!(shell(&from_str("[z-a]")).is_err());
    }
}
