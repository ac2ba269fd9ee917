//! Python `re` (CPython 3.11 `re._parser`) syntax, parsed into a small
//! AST and re-emitted as `fancy_regex` syntax.
//!
//! The parser follows `re/_parser.py` closely so that the same patterns are
//! accepted and rejected. The emitter spells every Python construct out
//! explicitly (character literals as `\x{..}`, Python's definitions of `\w`,
//! `\s`, `\d`, `\b`, `.`, `^`, `$`) so that the meaning does not depend on
//! the Rust engine's defaults.
//!
//! Haystacks are Python strings (see [`crate::pystr`]). Lone surrogates
//! cannot live in a Rust `str`, so the escape range U+DC80..U+DCFF is moved
//! to U+10FF80..U+10FFFF ([`map_escape`]) both in the haystack and in the
//! emitted pattern.

use crate::pystr::{ESCAPE_HI, ESCAPE_LO};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Where [`map_escape`] puts the surrogate escape range in a Rust string.
pub(crate) const ESCAPE_TARGET: u32 = 0x10FF80;

/// Map a Python code point to the Rust `char` that stands for it in
/// haystacks given to the compiled regex; `None` for surrogates that can
/// never occur in a decoded path (not in the escape range).
pub(crate) fn map_escape(c: u32) -> Option<char> {
    if (ESCAPE_LO..=ESCAPE_HI).contains(&c) {
        char::from_u32(c - ESCAPE_LO + ESCAPE_TARGET)
    } else {
        char::from_u32(c)
    }
}

/// The Rust string a decoded path is matched as (see [`map_escape`]).
pub(crate) fn haystack(s: &[u32]) -> String {
    s.iter().filter_map(|&c| map_escape(c)).collect()
}

const FLAG_I: u8 = 1;
const FLAG_M: u8 = 2;
const FLAG_S: u8 = 4;
const FLAG_X: u8 = 8;
const FLAG_A: u8 = 16;
const FLAG_U: u8 = 32;
const FLAG_L: u8 = 64;
const TYPE_FLAGS: u8 = FLAG_A | FLAG_U | FLAG_L;

/// `_sre.MAXREPEAT` on 64-bit CPython.
const MAXREPEAT: u64 = 4_294_967_295;
/// `MAXWIDTH` of the parser (stands for "unbounded").
const MAXWIDTH: u128 = 1 << 64;

fn flag_of(c: u32) -> Option<u8> {
    Some(match char::from_u32(c)? {
        'i' => FLAG_I,
        'L' => FLAG_L,
        'm' => FLAG_M,
        's' => FLAG_S,
        'x' => FLAG_X,
        'a' => FLAG_A,
        // 't' (TEMPLATE) is a global-only flag: accepted by the tokenizer,
        // rejected for scoped groups; it changes nothing that matters here.
        't' => 128,
        'u' => FLAG_U,
        _ => return None,
    })
}

/// A category escape (`\d`, `\D`, `\s`, `\S`, `\w`, `\W`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

/// One member of a character set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClassItem {
    /// A single code point.
    Lit(u32),
    /// An inclusive code point range.
    Range(u32, u32),
    /// A category escape.
    Cat(Category),
}

/// A parsed `[...]` set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClassSet {
    pub(crate) negate: bool,
    pub(crate) items: Vec<ClassItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Beginning,
    End,
    BeginString,
    EndString,
    Boundary,
    NonBoundary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RepKind {
    Greedy,
    Lazy,
    Possessive,
}

#[derive(Debug, Clone)]
enum Node {
    Lit(u32),
    Any,
    In(ClassSet),
    Cat(Category),
    At(At),
    Branch(Vec<Vec<Node>>),
    Sub {
        group: Option<usize>,
        add: u8,
        del: u8,
        body: Vec<Node>,
    },
    Atomic(Vec<Node>),
    Assert {
        behind: bool,
        negate: bool,
        body: Vec<Node>,
    },
    Repeat {
        min: u64,
        max: u64,
        kind: RepKind,
        body: Vec<Node>,
    },
    GroupRef(usize),
    GroupRefExists {
        group: usize,
        yes: Vec<Node>,
        no: Option<Vec<Node>>,
    },
}

/// A token: a character or a backslash escape (backslash + next char).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ch(u32),
    Esc(u32),
}

impl Tok {
    fn is(self, c: char) -> bool {
        self == Tok::Ch(c as u32)
    }
}

fn in_set(t: Option<Tok>, set: &str) -> bool {
    matches!(t, Some(Tok::Ch(c)) if char::from_u32(c).is_some_and(|ch| set.contains(ch)))
}

fn is_digit(t: Option<Tok>) -> bool {
    in_set(t, "0123456789")
}

struct Tokenizer<'a> {
    s: &'a [u32],
    /// Index just after `next`.
    index: usize,
    next: Option<Tok>,
}

impl<'a> Tokenizer<'a> {
    fn new(s: &'a [u32]) -> Result<Self, String> {
        let mut t = Tokenizer {
            s,
            index: 0,
            next: None,
        };
        t.advance()?;
        Ok(t)
    }

    fn advance(&mut self) -> Result<(), String> {
        let Some(&c) = self.s.get(self.index) else {
            self.next = None;
            return Ok(());
        };
        if c == u32::from('\\') {
            let Some(&d) = self.s.get(self.index + 1) else {
                return Err("bad escape (end of pattern)".into());
            };
            self.index += 2;
            self.next = Some(Tok::Esc(d));
        } else {
            self.index += 1;
            self.next = Some(Tok::Ch(c));
        }
        Ok(())
    }

    fn get(&mut self) -> Result<Option<Tok>, String> {
        let this = self.next;
        self.advance()?;
        Ok(this)
    }

    fn matches(&mut self, c: char) -> Result<bool, String> {
        if self.next.is_some_and(|t| t.is(c)) {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn tell(&self) -> usize {
        match self.next {
            None => self.index,
            Some(Tok::Ch(_)) => self.index - 1,
            Some(Tok::Esc(_)) => self.index - 2,
        }
    }

    fn seek(&mut self, index: usize) -> Result<(), String> {
        self.index = index;
        self.advance()
    }

    fn getwhile(&mut self, n: usize, set: &str) -> Result<Vec<u32>, String> {
        let mut out = Vec::new();
        for _ in 0..n {
            match self.next {
                Some(Tok::Ch(c)) if in_set(self.next, set) => {
                    out.push(c);
                    self.advance()?;
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// Characters up to `term` (consumed); escapes count as two characters.
    fn getuntil(&mut self, term: char, what: &str) -> Result<Vec<u32>, String> {
        let mut out = Vec::new();
        loop {
            let c = self.next;
            self.advance()?;
            match c {
                None => {
                    return Err(if out.is_empty() {
                        format!("missing {what}")
                    } else {
                        format!("missing {term}, unterminated name")
                    })
                }
                Some(t) if t.is(term) => {
                    if out.is_empty() {
                        return Err(format!("missing {what}"));
                    }
                    return Ok(out);
                }
                Some(Tok::Ch(c)) => out.push(c),
                Some(Tok::Esc(c)) => {
                    out.push(u32::from('\\'));
                    out.push(c);
                }
            }
        }
    }
}

const HEX: &str = "0123456789abcdefABCDEF";
const OCT: &str = "01234567";

fn hex_value(digits: &[u32]) -> u32 {
    digits.iter().fold(0u32, |acc, &d| {
        acc.wrapping_mul(16)
            .wrapping_add(char::from_u32(d).and_then(|c| c.to_digit(16)).unwrap_or(0))
    })
}

fn esc_name(c: u32) -> String {
    let mut s = String::from("\\");
    s.push(char::from_u32(c).unwrap_or('\u{fffd}'));
    s
}

/// Escapes shared by `_escape` and `_class_escape` (`\x`, `\u`, `\U`, `\N`).
fn numeric_escape(src: &mut Tokenizer<'_>, c: u32) -> Result<Option<u32>, String> {
    let (n, what) = match char::from_u32(c) {
        Some('x') => (2, "x"),
        Some('u') => (4, "u"),
        Some('U') => (8, "U"),
        Some('N') => {
            if !src.matches('{')? {
                return Err("missing {".into());
            }
            let name = src.getuntil('}', "character name")?;
            return lookup_name(&name).map(Some);
        }
        _ => return Ok(None),
    };
    let digits = src.getwhile(n, HEX)?;
    if digits.len() != n {
        let mut e = format!("incomplete escape \\{what}");
        e.extend(digits.iter().filter_map(|&d| char::from_u32(d)));
        return Err(e);
    }
    let v = hex_value(&digits);
    if v > 0x10FFFF {
        let mut e = format!("bad escape \\{what}");
        e.extend(digits.iter().filter_map(|&d| char::from_u32(d)));
        return Err(e);
    }
    Ok(Some(v))
}

/// `unicodedata.lookup(name)` as used by `\N{name}`: case-insensitive,
/// name aliases accepted (the loose matching of `unicode_names2` is
/// narrowed to what CPython accepts).
fn lookup_name(name: &[u32]) -> Result<u32, String> {
    let text: String = name.iter().filter_map(|&c| char::from_u32(c)).collect();
    let undefined = || format!("undefined character name {text:?}");
    if text.chars().count() != name.len() {
        return Err(undefined());
    }
    let upper = text.to_uppercase();
    let ch = unicode_names2::character(&text).ok_or_else(undefined)?;
    let exact = unicode_names2::name(ch).is_some_and(|n| n.to_string() == upper);
    // Not the character's own name: accept it as an alias only when it is
    // spelled the strict way (the crate also matches "latinsmalllettera").
    let alias_form = upper
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ' || b == b'-')
        && !upper.contains("  ")
        && !upper.starts_with([' ', '-'])
        && !upper.ends_with([' ', '-'])
        && upper.contains(' ');
    if exact || alias_form {
        Ok(u32::from(ch))
    } else {
        Err(undefined())
    }
}

fn simple_escape(c: u32) -> Option<u32> {
    Some(match char::from_u32(c)? {
        'a' => 7,
        'b' => 8,
        'f' => 12,
        'n' => 10,
        'r' => 13,
        't' => 9,
        'v' => 11,
        '\\' => 92,
        _ => return None,
    })
}

fn category(c: u32) -> Option<Category> {
    Some(match char::from_u32(c)? {
        'd' => Category::Digit,
        'D' => Category::NotDigit,
        's' => Category::Space,
        'S' => Category::NotSpace,
        'w' => Category::Word,
        'W' => Category::NotWord,
        _ => return None,
    })
}

fn is_ascii_letter(c: u32) -> bool {
    char::from_u32(c).is_some_and(|ch| ch.is_ascii_alphabetic())
}

fn class_escape(src: &mut Tokenizer<'_>, c: u32) -> Result<ClassItem, String> {
    if let Some(v) = simple_escape(c) {
        return Ok(ClassItem::Lit(v));
    }
    if let Some(cat) = category(c) {
        return Ok(ClassItem::Cat(cat));
    }
    if let Some(v) = numeric_escape(src, c)? {
        return Ok(ClassItem::Lit(v));
    }
    if in_set(Some(Tok::Ch(c)), OCT) {
        let mut digits = vec![c];
        digits.extend(src.getwhile(2, OCT)?);
        let v = digits
            .iter()
            .fold(0u32, |acc, &d| acc * 8 + (d - u32::from('0')));
        if v > 0o377 {
            return Err("octal escape value outside of range 0-0o377".into());
        }
        return Ok(ClassItem::Lit(v));
    }
    if in_set(Some(Tok::Ch(c)), "0123456789") || is_ascii_letter(c) {
        return Err(format!("bad escape {}", esc_name(c)));
    }
    Ok(ClassItem::Lit(c))
}

/// Parse the inside of a set; `src` is positioned just after `[`.
fn parse_class(src: &mut Tokenizer<'_>) -> Result<ClassSet, String> {
    let negate = src.matches('^')?;
    let mut items: Vec<ClassItem> = Vec::new();
    loop {
        let this = src.get()?.ok_or("unterminated character set")?;
        if this.is(']') && !items.is_empty() {
            break;
        }
        let code1 = match this {
            Tok::Esc(c) => class_escape(src, c)?,
            Tok::Ch(c) => ClassItem::Lit(c),
        };
        if src.matches('-')? {
            let that = src.get()?.ok_or("unterminated character set")?;
            if that.is(']') {
                items.push(code1);
                items.push(ClassItem::Lit(u32::from('-')));
                break;
            }
            let code2 = match that {
                Tok::Esc(c) => class_escape(src, c)?,
                Tok::Ch(c) => ClassItem::Lit(c),
            };
            match (code1, code2) {
                (ClassItem::Lit(lo), ClassItem::Lit(hi)) if hi >= lo => {
                    items.push(ClassItem::Range(lo, hi));
                }
                _ => return Err("bad character range".into()),
            }
        } else {
            items.push(code1);
        }
    }
    Ok(ClassSet { negate, items })
}

/// Parse a set given as the text after `[` (which must contain the closing
/// `]`), as the glob translators produce it. Returns the set and how many
/// code points were consumed.
pub(crate) fn parse_class_text(text: &[u32]) -> Result<(ClassSet, usize), String> {
    let mut src = Tokenizer::new(text)?;
    let set = parse_class(&mut src)?;
    Ok((set, src.tell()))
}

impl ClassSet {
    /// Whether `c` is in the set, with no flags (the glob case).
    pub(crate) fn contains(&self, c: u32) -> bool {
        let hit = self.items.iter().any(|it| match *it {
            ClassItem::Lit(x) => x == c,
            ClassItem::Range(lo, hi) => (lo..=hi).contains(&c),
            // Globs never produce categories (their backslashes are escaped).
            ClassItem::Cat(_) => false,
        });
        hit != self.negate
    }
}

struct State {
    flags: u8,
    groupdict: HashMap<Vec<u32>, usize>,
    /// Width of each closed group; `None` while open. Index 0 is group 0.
    groupwidths: Vec<Option<(u128, u128)>>,
    lookbehindgroups: Option<usize>,
    grouprefpos: Vec<usize>,
}

impl State {
    fn groups(&self) -> usize {
        self.groupwidths.len()
    }
    fn checkgroup(&self, gid: usize) -> bool {
        gid < self.groups() && self.groupwidths[gid].is_some()
    }
    fn checklookbehindgroup(&self, gid: usize) -> Result<(), String> {
        if let Some(lb) = self.lookbehindgroups {
            if !self.checkgroup(gid) {
                return Err("cannot refer to an open group".into());
            }
            if gid >= lb {
                return Err(
                    "cannot refer to group defined in the same lookbehind subpattern".into(),
                );
            }
        }
        Ok(())
    }
}

fn width(seq: &[Node], st: &State) -> (u128, u128) {
    let (mut lo, mut hi) = (0u128, 0u128);
    for n in seq {
        let (i, j) = match n {
            Node::Branch(alts) => {
                let mut i = MAXWIDTH;
                let mut j = 0;
                for a in alts {
                    let (l, h) = width(a, st);
                    i = i.min(l);
                    j = j.max(h);
                }
                (i, j)
            }
            Node::Atomic(b) | Node::Sub { body: b, .. } => width(b, st),
            Node::Repeat { min, max, body, .. } => {
                let (i, j) = width(body, st);
                let lo = i * u128::from(*min);
                let hi = if *max == MAXREPEAT && j > 0 {
                    MAXWIDTH
                } else {
                    j * u128::from(*max)
                };
                (lo, hi)
            }
            Node::Lit(_) | Node::Any | Node::In(_) | Node::Cat(_) => (1, 1),
            Node::GroupRef(g) => st.groupwidths.get(*g).copied().flatten().unwrap_or((0, 0)),
            Node::GroupRefExists { yes, no, .. } => {
                let (mut i, mut j) = width(yes, st);
                if let Some(no) = no {
                    let (l, h) = width(no, st);
                    i = i.min(l);
                    j = j.max(h);
                } else {
                    i = 0;
                }
                (i, j)
            }
            Node::At(_) | Node::Assert { .. } => (0, 0),
        };
        lo += i;
        hi += j;
    }
    (lo.min(MAXWIDTH), hi.min(MAXWIDTH))
}

fn escape(src: &mut Tokenizer<'_>, c: u32, st: &State) -> Result<Node, String> {
    match char::from_u32(c) {
        Some('A') => return Ok(Node::At(At::BeginString)),
        Some('Z') => return Ok(Node::At(At::EndString)),
        Some('b') => return Ok(Node::At(At::Boundary)),
        Some('B') => return Ok(Node::At(At::NonBoundary)),
        _ => {}
    }
    if let Some(cat) = category(c) {
        return Ok(Node::Cat(cat));
    }
    if let Some(v) = simple_escape(c) {
        return Ok(Node::Lit(v));
    }
    if let Some(v) = numeric_escape(src, c)? {
        return Ok(Node::Lit(v));
    }
    if c == u32::from('0') {
        let mut digits = vec![c];
        digits.extend(src.getwhile(2, OCT)?);
        let v = digits
            .iter()
            .fold(0u32, |acc, &d| acc * 8 + (d - u32::from('0')));
        return Ok(Node::Lit(v));
    }
    if in_set(Some(Tok::Ch(c)), "123456789") {
        let mut digits = vec![c];
        if is_digit(src.next) {
            if let Some(Tok::Ch(d)) = src.get()? {
                digits.push(d);
            }
            if in_set(Some(Tok::Ch(digits[0])), OCT)
                && in_set(Some(Tok::Ch(digits[1])), OCT)
                && in_set(src.next, OCT)
            {
                if let Some(Tok::Ch(d)) = src.get()? {
                    digits.push(d);
                }
                let v = digits
                    .iter()
                    .fold(0u32, |acc, &d| acc * 8 + (d - u32::from('0')));
                if v > 0o377 {
                    return Err("octal escape value outside of range 0-0o377".into());
                }
                return Ok(Node::Lit(v));
            }
        }
        let group = digits
            .iter()
            .fold(0usize, |acc, &d| acc * 10 + (d - u32::from('0')) as usize);
        if group < st.groups() {
            if !st.checkgroup(group) {
                return Err("cannot refer to an open group".into());
            }
            st.checklookbehindgroup(group)?;
            return Ok(Node::GroupRef(group));
        }
        return Err(format!("invalid group reference {group}"));
    }
    if is_ascii_letter(c) {
        return Err(format!("bad escape {}", esc_name(c)));
    }
    Ok(Node::Lit(c))
}

fn is_identifier(name: &[u32]) -> bool {
    let mut chars = name.iter().map(|&c| char::from_u32(c));
    match chars.next() {
        Some(Some(c)) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_some_and(|c| c == '_' || c.is_alphanumeric()))
}

fn checkgroupname(name: &[u32]) -> Result<(), String> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(format!(
            "bad character in group name {:?}",
            crate::pystr::to_display(name)
        ))
    }
}

fn parse_sub(
    src: &mut Tokenizer<'_>,
    st: &mut State,
    mut verbose: bool,
    nested: usize,
) -> Result<Vec<Node>, String> {
    let mut items = Vec::new();
    loop {
        let first = nested == 0 && items.is_empty();
        items.push(parse(src, st, verbose, nested + 1, first)?);
        if !src.matches('|')? {
            break;
        }
        if nested == 0 {
            verbose = st.flags & FLAG_X != 0;
        }
    }
    if items.len() == 1 {
        return Ok(items.pop().unwrap_or_default());
    }
    Ok(vec![Node::Branch(items)])
}

fn parse_flags(
    src: &mut Tokenizer<'_>,
    st: &mut State,
    first: u32,
) -> Result<Option<(u8, u8)>, String> {
    let mut add: u8 = 0;
    let mut del: u8 = 0;
    let mut ch = Some(Tok::Ch(first));
    if first != u32::from('-') {
        loop {
            let Some(Tok::Ch(c)) = ch else {
                return Err("missing -, : or )".into());
            };
            let flag = flag_of(c).ok_or("unknown flag")?;
            if flag == FLAG_L {
                return Err("bad inline flags: cannot use 'L' flag with a str pattern".into());
            }
            add |= flag;
            if flag & TYPE_FLAGS != 0 && add & TYPE_FLAGS != flag {
                return Err("bad inline flags: flags 'a', 'u' and 'L' are incompatible".into());
            }
            ch = src.get()?;
            match ch {
                None => return Err("missing -, : or )".into()),
                Some(t) if t.is(')') || t.is('-') || t.is(':') => break,
                Some(Tok::Ch(c)) if flag_of(c).is_some() => {}
                Some(Tok::Ch(c)) if char::from_u32(c).is_some_and(char::is_alphabetic) => {
                    return Err("unknown flag".into())
                }
                _ => return Err("missing -, : or )".into()),
            }
        }
    }
    if ch.is_some_and(|t| t.is(')')) {
        st.flags |= add & !128;
        return Ok(None);
    }
    if add & 128 != 0 {
        return Err("bad inline flags: cannot turn on global flag".into());
    }
    if ch.is_some_and(|t| t.is('-')) {
        ch = src.get()?;
        match ch {
            None => return Err("missing flag".into()),
            Some(Tok::Ch(c)) if flag_of(c).is_some() => {}
            Some(Tok::Ch(c)) if char::from_u32(c).is_some_and(char::is_alphabetic) => {
                return Err("unknown flag".into())
            }
            _ => return Err("missing flag".into()),
        }
        loop {
            let Some(Tok::Ch(c)) = ch else {
                return Err("missing :".into());
            };
            let flag = flag_of(c).ok_or("unknown flag")?;
            if flag & TYPE_FLAGS != 0 {
                return Err("bad inline flags: cannot turn off flags 'a', 'u' and 'L'".into());
            }
            del |= flag;
            ch = src.get()?;
            match ch {
                None => return Err("missing :".into()),
                Some(t) if t.is(':') => break,
                Some(Tok::Ch(c)) if flag_of(c).is_some() => {}
                Some(Tok::Ch(c)) if char::from_u32(c).is_some_and(char::is_alphabetic) => {
                    return Err("unknown flag".into())
                }
                _ => return Err("missing :".into()),
            }
        }
    }
    if del & 128 != 0 {
        return Err("bad inline flags: cannot turn off global flag".into());
    }
    if add & del != 0 {
        return Err("bad inline flags: flag turned on and off".into());
    }
    Ok(Some((add, del)))
}

const SPECIAL: &str = ".\\[{()*+?^$|";

#[allow(clippy::too_many_lines)]
fn parse(
    src: &mut Tokenizer<'_>,
    st: &mut State,
    mut verbose: bool,
    nested: usize,
    first: bool,
) -> Result<Vec<Node>, String> {
    let mut seq: Vec<Node> = Vec::new();
    while let Some(this) = src.next {
        if this.is('|') || this.is(')') {
            break;
        }
        src.get()?;
        if verbose {
            if in_set(Some(this), " \t\n\r\x0b\x0c") {
                continue;
            }
            if this.is('#') {
                loop {
                    match src.get()? {
                        None => break,
                        Some(t) if t.is('\n') => break,
                        _ => {}
                    }
                }
                continue;
            }
        }
        let c = match this {
            Tok::Esc(c) => {
                seq.push(escape(src, c, st)?);
                continue;
            }
            Tok::Ch(c) => c,
        };
        if !in_set(Some(this), SPECIAL) {
            seq.push(Node::Lit(c));
            continue;
        }
        match char::from_u32(c).unwrap_or('\0') {
            '[' => {
                let set = parse_class(src)?;
                seq.push(Node::In(set));
            }
            q @ ('?' | '*' | '+' | '{') => {
                let here = src.tell();
                let (min, max) = match q {
                    '?' => (0, 1),
                    '*' => (0, MAXREPEAT),
                    '+' => (1, MAXREPEAT),
                    _ => {
                        if src.next.is_some_and(|t| t.is('}')) {
                            seq.push(Node::Lit(c));
                            continue;
                        }
                        let mut lo = Vec::new();
                        let mut hi = Vec::new();
                        while is_digit(src.next) {
                            if let Some(Tok::Ch(d)) = src.get()? {
                                lo.push(d);
                            }
                        }
                        if src.matches(',')? {
                            while is_digit(src.next) {
                                if let Some(Tok::Ch(d)) = src.get()? {
                                    hi.push(d);
                                }
                            }
                        } else {
                            hi.clone_from(&lo);
                        }
                        if !src.matches('}')? {
                            seq.push(Node::Lit(c));
                            src.seek(here)?;
                            continue;
                        }
                        let num = |ds: &[u32]| -> Result<u64, String> {
                            let mut v: u64 = 0;
                            for &d in ds {
                                v = v
                                    .saturating_mul(10)
                                    .saturating_add(u64::from(d - u32::from('0')));
                            }
                            if v >= MAXREPEAT {
                                return Err("the repetition number is too large".into());
                            }
                            Ok(v)
                        };
                        let min = if lo.is_empty() { 0 } else { num(&lo)? };
                        let max = if hi.is_empty() { MAXREPEAT } else { num(&hi)? };
                        if !hi.is_empty() && max < min {
                            return Err("min repeat greater than max repeat".into());
                        }
                        (min, max)
                    }
                };
                let item = match seq.pop() {
                    None | Some(Node::At(_)) => return Err("nothing to repeat".into()),
                    Some(Node::Repeat { .. }) => return Err("multiple repeat".into()),
                    Some(Node::Sub {
                        group: None,
                        add: 0,
                        del: 0,
                        body,
                    }) => body,
                    Some(other) => vec![other],
                };
                let kind = if src.matches('?')? {
                    RepKind::Lazy
                } else if src.matches('+')? {
                    RepKind::Possessive
                } else {
                    RepKind::Greedy
                };
                seq.push(Node::Repeat {
                    min,
                    max,
                    kind,
                    body: item,
                });
            }
            '.' => seq.push(Node::Any),
            '(' => {
                let mut capture = true;
                let mut atomic = false;
                let mut name: Option<Vec<u32>> = None;
                let mut add = 0u8;
                let mut del = 0u8;
                if src.matches('?')? {
                    let ch = src.get()?.ok_or("unexpected end of pattern")?;
                    let Tok::Ch(chc) = ch else {
                        return Err("unknown extension ?\\".into());
                    };
                    match char::from_u32(chc).unwrap_or('\0') {
                        'P' => {
                            if src.matches('<')? {
                                let n = src.getuntil('>', "group name")?;
                                checkgroupname(&n)?;
                                name = Some(n);
                            } else if src.matches('=')? {
                                let n = src.getuntil(')', "group name")?;
                                checkgroupname(&n)?;
                                let gid = *st.groupdict.get(&n).ok_or_else(|| {
                                    format!("unknown group name {:?}", crate::pystr::to_display(&n))
                                })?;
                                if !st.checkgroup(gid) {
                                    return Err("cannot refer to an open group".into());
                                }
                                st.checklookbehindgroup(gid)?;
                                seq.push(Node::GroupRef(gid));
                                continue;
                            } else {
                                return Err(match src.get()? {
                                    None => "unexpected end of pattern".into(),
                                    Some(_) => "unknown extension ?P".into(),
                                });
                            }
                        }
                        ':' => capture = false,
                        '#' => {
                            loop {
                                match src.next {
                                    None => return Err("missing ), unterminated comment".into()),
                                    Some(_) => {
                                        if src.get()?.is_some_and(|t| t.is(')')) {
                                            break;
                                        }
                                    }
                                }
                            }
                            continue;
                        }
                        d @ ('=' | '!' | '<') => {
                            let mut negate = d == '!';
                            let mut behind = false;
                            let saved_lb = st.lookbehindgroups;
                            if d == '<' {
                                let c2 = src.get()?.ok_or("unexpected end of pattern")?;
                                if c2.is('=') {
                                    negate = false;
                                } else if c2.is('!') {
                                    negate = true;
                                } else {
                                    return Err("unknown extension ?<".into());
                                }
                                behind = true;
                                if saved_lb.is_none() {
                                    st.lookbehindgroups = Some(st.groups());
                                }
                            }
                            let body = parse_sub(src, st, verbose, nested + 1)?;
                            if behind && saved_lb.is_none() {
                                st.lookbehindgroups = None;
                            }
                            if !src.matches(')')? {
                                return Err("missing ), unterminated subpattern".into());
                            }
                            if behind {
                                let (lo, hi) = width(&body, st);
                                if lo != hi {
                                    return Err("look-behind requires fixed-width pattern".into());
                                }
                            }
                            seq.push(Node::Assert {
                                behind,
                                negate,
                                body,
                            });
                            continue;
                        }
                        '(' => {
                            let condname = src.getuntil(')', "group name")?;
                            let group = if is_identifier(&condname) {
                                *st.groupdict.get(&condname).ok_or_else(|| {
                                    format!(
                                        "unknown group name {:?}",
                                        crate::pystr::to_display(&condname)
                                    )
                                })?
                            } else {
                                let ok = condname
                                    .iter()
                                    .all(|&d| in_set(Some(Tok::Ch(d)), "0123456789"));
                                if !ok {
                                    return Err(format!(
                                        "bad character in group name {:?}",
                                        crate::pystr::to_display(&condname)
                                    ));
                                }
                                let g = condname.iter().fold(0usize, |a, &d| {
                                    a.saturating_mul(10)
                                        .saturating_add((d - u32::from('0')) as usize)
                                });
                                if g == 0 {
                                    return Err("bad group number".into());
                                }
                                if g >= 1 << 30 {
                                    return Err(format!("invalid group reference {g}"));
                                }
                                st.grouprefpos.push(g);
                                g
                            };
                            st.checklookbehindgroup(group)?;
                            let yes = parse(src, st, verbose, nested + 1, false)?;
                            let no = if src.matches('|')? {
                                let no = parse(src, st, verbose, nested + 1, false)?;
                                if src.next.is_some_and(|t| t.is('|')) {
                                    return Err(
                                        "conditional backref with more than two branches".into()
                                    );
                                }
                                Some(no)
                            } else {
                                None
                            };
                            if !src.matches(')')? {
                                return Err("missing ), unterminated subpattern".into());
                            }
                            seq.push(Node::GroupRefExists { group, yes, no });
                            continue;
                        }
                        '>' => {
                            capture = false;
                            atomic = true;
                        }
                        f if flag_of(chc).is_some() || f == '-' => {
                            match parse_flags(src, st, chc)? {
                                None => {
                                    if !first || !seq.is_empty() {
                                        return Err(
                                            "global flags not at the start of the expression"
                                                .into(),
                                        );
                                    }
                                    verbose = st.flags & FLAG_X != 0;
                                    continue;
                                }
                                Some((a, d)) => {
                                    add = a;
                                    del = d;
                                    capture = false;
                                }
                            }
                        }
                        _ => return Err("unknown extension".into()),
                    }
                }
                let group = if capture {
                    let gid = st.groups();
                    st.groupwidths.push(None);
                    if let Some(n) = &name {
                        if st.groupdict.contains_key(n) {
                            return Err(format!(
                                "redefinition of group name {:?}",
                                crate::pystr::to_display(n)
                            ));
                        }
                        st.groupdict.insert(n.clone(), gid);
                    }
                    Some(gid)
                } else {
                    None
                };
                let sub_verbose = (verbose || add & FLAG_X != 0) && del & FLAG_X == 0;
                let body = parse_sub(src, st, sub_verbose, nested + 1)?;
                if !src.matches(')')? {
                    return Err("missing ), unterminated subpattern".into());
                }
                if let Some(g) = group {
                    let w = width(&body, st);
                    st.groupwidths[g] = Some(w);
                }
                if atomic {
                    seq.push(Node::Atomic(body));
                } else {
                    seq.push(Node::Sub {
                        group,
                        add,
                        del,
                        body,
                    });
                }
            }
            '^' => seq.push(Node::At(At::Beginning)),
            '$' => seq.push(Node::At(At::End)),
            _ => seq.push(Node::Lit(c)),
        }
    }
    // Unpack plain non-capturing groups, as Python does.
    let mut out = Vec::with_capacity(seq.len());
    for n in seq {
        match n {
            Node::Sub {
                group: None,
                add: 0,
                del: 0,
                body,
            } => out.extend(body),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Parse a Python regular expression and translate it to `fancy_regex`
/// syntax with the same meaning for `re.search`.
pub(crate) fn translate(pattern: &[u32]) -> Result<Translated, String> {
    let mut src = Tokenizer::new(pattern)?;
    let mut st = State {
        flags: 0,
        groupdict: HashMap::new(),
        groupwidths: vec![None],
        lookbehindgroups: None,
        grouprefpos: Vec::new(),
    };
    let seq = parse_sub(&mut src, &mut st, false, 0)?;
    if src.next.is_some() {
        return Err("unbalanced parenthesis".into());
    }
    for &g in &st.grouprefpos {
        if g >= st.groups() {
            return Err(format!("invalid group reference {g}"));
        }
    }
    if st.flags & FLAG_A != 0 && st.flags & FLAG_U != 0 {
        return Err("ASCII and UNICODE flags are incompatible".into());
    }
    // Only groups that a backreference or conditional uses are emitted as
    // capturing groups (renumbered); the others cannot change whether
    // there is a match, and plain groups are cheaper for the Rust engine.
    let mut used = vec![false; st.groups()];
    mark_used_groups(&seq, &mut used);
    let mut next = 0;
    let renumber: Vec<Option<usize>> = used
        .iter()
        .map(|&u| {
            u.then(|| {
                next += 1;
                next
            })
        })
        .collect();
    let strict = emit(&seq, st.flags, None, &renumber);
    let relaxed = has_big_repeat(&seq).then(|| emit(&seq, st.flags, Some(BIG_REPEAT), &renumber));
    Ok(Translated { strict, relaxed })
}

/// Counted repetitions above this may be emitted as unbounded
/// ([`Translated::relaxed`]).
const BIG_REPEAT: u64 = 1000;

/// The result of [`translate`].
#[derive(Debug)]
pub(crate) struct Translated {
    /// The exact translation.
    pub(crate) strict: String,
    /// For patterns with counted repetitions above [`BIG_REPEAT`] (which the
    /// Rust engine may refuse to compile): the same with those upper bounds
    /// removed. It differs only on haystacks longer than the bound.
    pub(crate) relaxed: Option<String>,
}

fn has_big_repeat(seq: &[Node]) -> bool {
    seq.iter().any(|n| match n {
        Node::Repeat { max, body, .. } => {
            (*max > BIG_REPEAT && *max != MAXREPEAT) || has_big_repeat(body)
        }
        Node::Sub { body, .. } | Node::Atomic(body) | Node::Assert { body, .. } => {
            has_big_repeat(body)
        }
        Node::Branch(alts) => alts.iter().any(|a| has_big_repeat(a)),
        Node::GroupRefExists { yes, no, .. } => {
            has_big_repeat(yes) || no.as_ref().is_some_and(|n| has_big_repeat(n))
        }
        _ => false,
    })
}

fn mark_used_groups(seq: &[Node], used: &mut [bool]) {
    for n in seq {
        match n {
            Node::GroupRef(g) => {
                if let Some(u) = used.get_mut(*g) {
                    *u = true;
                }
            }
            Node::GroupRefExists { group, yes, no } => {
                if let Some(u) = used.get_mut(*group) {
                    *u = true;
                }
                mark_used_groups(yes, used);
                if let Some(no) = no {
                    mark_used_groups(no, used);
                }
            }
            Node::Sub { body, .. }
            | Node::Atomic(body)
            | Node::Assert { body, .. }
            | Node::Repeat { body, .. } => {
                mark_used_groups(body, used);
            }
            Node::Branch(alts) => alts.iter().for_each(|a| mark_used_groups(a, used)),
            Node::Lit(_) | Node::Any | Node::In(_) | Node::Cat(_) | Node::At(_) => {}
        }
    }
}

fn emit(seq: &[Node], flags: u8, unbound_above: Option<u64>, renumber: &[Option<usize>]) -> String {
    let mut out = String::new();
    let em = Emitter {
        flags,
        unbound_above,
        renumber,
    };
    if em.rust_casei() {
        out.push_str("(?i)");
    }
    // A top-level `$` that ends a branch may consume the newline it allows:
    // nothing follows it, and only whether there is a match matters.
    match seq {
        [Node::Branch(alts)] => {
            out.push_str("(?:");
            for (k, alt) in alts.iter().enumerate() {
                if k > 0 {
                    out.push('|');
                }
                em.seq_top(alt, &mut out);
            }
            out.push(')');
        }
        _ => em.seq_top(seq, &mut out),
    }
    out
}

#[derive(Clone, Copy)]
struct Emitter<'a> {
    flags: u8,
    unbound_above: Option<u64>,
    /// Python group number -> emitted group number (`None`: not captured).
    renumber: &'a [Option<usize>],
}

fn push_char(out: &mut String, c: char) {
    let _ = write!(out, "\\x{{{:X}}}", u32::from(c));
}

/// Whether a sequence can only ever match the empty string (assertions).
fn zero_width(seq: &[Node]) -> bool {
    seq.iter().all(|n| match n {
        Node::At(_) | Node::Assert { .. } => true,
        Node::Sub { body, .. } | Node::Atomic(body) | Node::Repeat { body, .. } => zero_width(body),
        Node::Branch(alts) => alts.iter().all(|a| zero_width(a)),
        _ => false,
    })
}

/// Never matches (a set with no member).
const NEVER: &str = "[^\\x{0}-\\x{10FFFF}]";

fn ascii_swapcase(c: u32) -> Option<u32> {
    match char::from_u32(c)? {
        'a'..='z' => Some(c - 32),
        'A'..='Z' => Some(c + 32),
        _ => None,
    }
}

impl Emitter<'_> {
    /// Whether the Rust engine does the case folding (Python IGNORECASE
    /// with Unicode rules); with the ASCII flag only ASCII letters fold, which
    /// [`Emitter::ascii_fold`] spells out instead.
    fn rust_casei(self) -> bool {
        self.flags & FLAG_I != 0 && self.flags & FLAG_A == 0
    }

    fn ascii_fold(self) -> bool {
        self.flags & FLAG_I != 0 && self.flags & FLAG_A != 0
    }

    fn seq_top(self, seq: &[Node], out: &mut String) {
        match seq.split_last() {
            Some((Node::At(At::End), rest)) if self.flags & FLAG_M == 0 => {
                self.seq(rest, out);
                out.push_str("\\n?\\z");
            }
            _ => self.seq(seq, out),
        }
    }

    fn seq(self, seq: &[Node], out: &mut String) {
        for n in seq {
            self.node(n, out);
        }
    }

    fn word_set(self, negate: bool) -> &'static str {
        match (self.flags & FLAG_A != 0, negate) {
            (false, false) => "[\\p{L}\\p{N}_]",
            (false, true) => "[^\\p{L}\\p{N}_]",
            (true, false) => "[A-Za-z0-9_]",
            (true, true) => "[^A-Za-z0-9_]",
        }
    }

    fn cat_set(self, cat: Category) -> &'static str {
        let ascii = self.flags & FLAG_A != 0;
        match (cat, ascii) {
            (Category::Digit, false) => "[\\p{Nd}]",
            (Category::NotDigit, false) => "[^\\p{Nd}]",
            (Category::Digit, true) => "[0-9]",
            (Category::NotDigit, true) => "[^0-9]",
            (Category::Space, false) => "[\\s\\x{1C}-\\x{1F}]",
            (Category::NotSpace, false) => "[^\\s\\x{1C}-\\x{1F}]",
            (Category::Space, true) => "[\\x{9}-\\x{D}\\x{20}]",
            (Category::NotSpace, true) => "[^\\x{9}-\\x{D}\\x{20}]",
            (Category::Word, _) => self.word_set(false),
            (Category::NotWord, _) => self.word_set(true),
        }
    }

    fn class(self, set: &ClassSet, out: &mut String) {
        let mut body = String::new();
        let mut items = set.items.clone();
        if self.ascii_fold() {
            for it in &set.items {
                match *it {
                    ClassItem::Lit(c) => items.extend(ascii_swapcase(c).map(ClassItem::Lit)),
                    ClassItem::Range(lo, hi) => {
                        for (a, z) in [
                            (u32::from('a'), u32::from('z')),
                            (u32::from('A'), u32::from('Z')),
                        ] {
                            let (l, h) = (lo.max(a), hi.min(z));
                            if l <= h {
                                if let (Some(x), Some(y)) = (ascii_swapcase(l), ascii_swapcase(h)) {
                                    items.push(ClassItem::Range(x, y));
                                }
                            }
                        }
                    }
                    ClassItem::Cat(_) => {}
                }
            }
        }
        for it in &items {
            match *it {
                ClassItem::Lit(c) => {
                    if let Some(ch) = map_escape(c) {
                        push_char(&mut body, ch);
                    }
                }
                ClassItem::Range(lo, hi) => {
                    // Non-surrogate parts keep their meaning; the escape part
                    // moves with map_escape; other surrogates never occur.
                    let mut part = |a: u32, b: u32| {
                        if a <= b {
                            if let (Some(x), Some(y)) = (map_escape(a), map_escape(b)) {
                                push_char(&mut body, x);
                                body.push('-');
                                push_char(&mut body, y);
                            }
                        }
                    };
                    part(lo, hi.min(0xD7FF));
                    part(lo.max(ESCAPE_LO), hi.min(ESCAPE_HI));
                    part(lo.max(0xE000), hi);
                }
                ClassItem::Cat(cat) => body.push_str(self.cat_set(cat)),
            }
        }
        match (body.is_empty(), set.negate) {
            (true, false) => out.push_str(NEVER),
            (true, true) => out.push_str("(?s:.)"),
            (false, neg) => {
                out.push('[');
                if neg {
                    out.push('^');
                }
                out.push_str(&body);
                out.push(']');
            }
        }
    }

    fn node(self, n: &Node, out: &mut String) {
        match n {
            Node::Lit(c) => match (map_escape(*c), ascii_swapcase(*c)) {
                (Some(ch), Some(other)) if self.ascii_fold() => {
                    out.push('[');
                    push_char(out, ch);
                    push_char(out, char::from_u32(other).unwrap_or(ch));
                    out.push(']');
                }
                (Some(ch), _) => push_char(out, ch),
                (None, _) => out.push_str(NEVER),
            },
            Node::Any => {
                if self.flags & FLAG_S != 0 {
                    out.push_str("(?s:.)");
                } else {
                    out.push_str("[^\\x{A}]");
                }
            }
            Node::In(set) => self.class(set, out),
            Node::Cat(cat) => out.push_str(self.cat_set(*cat)),
            Node::At(at) => {
                let m = self.flags & FLAG_M != 0;
                match at {
                    At::Beginning if m => out.push_str("(?m:^)"),
                    At::Beginning | At::BeginString => out.push_str("\\A"),
                    At::End if m => out.push_str("(?m:$)"),
                    At::End => out.push_str("(?=\\n?\\z)"),
                    At::EndString => out.push_str("\\z"),
                    At::Boundary => {
                        let w = self.word_set(false);
                        let _ = write!(out, "(?:(?<={w})(?!{w})|(?<!{w})(?={w}))");
                    }
                    At::NonBoundary => {
                        // CPython 3.11: \B never matches the empty string.
                        let w = self.word_set(false);
                        let _ = write!(
                            out,
                            "(?:(?<={w})(?={w})|(?<!{w})(?!{w})(?:(?<=(?s:.))|(?=(?s:.))))"
                        );
                    }
                }
            }
            Node::Branch(alts) => {
                out.push_str("(?:");
                for (k, alt) in alts.iter().enumerate() {
                    if k > 0 {
                        out.push('|');
                    }
                    self.seq(alt, out);
                }
                out.push(')');
            }
            Node::Sub {
                group,
                add,
                del,
                body,
            } => {
                let inner = Emitter {
                    flags: (self.flags | add) & !del,
                    ..self
                };
                let captured = group.and_then(|g| self.renumber.get(g).copied().flatten());
                out.push_str(if captured.is_some() { "(" } else { "(?:" });
                let was_i = self.rust_casei();
                let now_i = inner.rust_casei();
                if was_i != now_i {
                    out.push_str(if now_i { "(?i:" } else { "(?-i:" });
                }
                inner.seq(body, out);
                if was_i != now_i {
                    out.push(')');
                }
                out.push(')');
            }
            Node::Atomic(body) => {
                out.push_str("(?>");
                self.seq(body, out);
                out.push(')');
            }
            Node::Assert {
                behind,
                negate,
                body,
            } => {
                out.push_str(match (behind, negate) {
                    (false, false) => "(?=",
                    (false, true) => "(?!",
                    (true, false) => "(?<=",
                    (true, true) => "(?<!",
                });
                self.seq(body, out);
                out.push(')');
            }
            Node::Repeat {
                min,
                max,
                kind,
                body,
            } if zero_width(body) => {
                // Repeating an assertion: the Rust engine refuses it. At one
                // position it matches like one optional (min 0) or one
                // mandatory (min >= 1) occurrence.
                out.push_str("(?:");
                match (*min, kind) {
                    (0, RepKind::Lazy) => {
                        out.push('|');
                        self.seq(body, out);
                    }
                    (0, _) => {
                        self.seq(body, out);
                        out.push('|');
                    }
                    _ => self.seq(body, out),
                }
                out.push(')');
            }
            Node::Repeat {
                min,
                max,
                kind,
                body,
            } => {
                if *kind == RepKind::Possessive {
                    out.push_str("(?>");
                }
                out.push_str("(?:");
                self.seq(body, out);
                out.push(')');
                let unbounded = *max == MAXREPEAT || self.unbound_above.is_some_and(|b| *max > b);
                if unbounded {
                    let _ = write!(out, "{{{min},}}");
                } else {
                    let _ = write!(out, "{{{min},{max}}}");
                }
                match kind {
                    RepKind::Lazy => out.push('?'),
                    RepKind::Possessive => out.push(')'),
                    RepKind::Greedy => {}
                }
            }
            Node::GroupRef(g) => {
                let g = self.renumber.get(*g).copied().flatten().unwrap_or(0);
                let _ = write!(out, "(?:\\{g})");
            }
            Node::GroupRefExists { group, yes, no } => {
                let group = self.renumber.get(*group).copied().flatten().unwrap_or(0);
                let _ = write!(out, "(?({group})");
                self.seq(yes, out);
                out.push('|');
                if let Some(no) = no {
                    self.seq(no, out);
                }
                out.push(')');
            }
        }
    }
}
