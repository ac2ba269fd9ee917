//! Chunker parameters and borg's `--chunker-params` grammar.

use std::fmt;
use std::str::FromStr;

use crate::error::ParamsError;

/// borg's `MAX_DATA_SIZE` (`constants.py`): the largest chunk borg stores.
pub const MAX_DATA_SIZE: u32 = 20_971_479;

/// borg's `CHUNK_MIN_EXP` (512 KiB minimum chunk).
pub const CHUNK_MIN_EXP: u32 = 19;
/// borg's `CHUNK_MAX_EXP` (8 MiB maximum chunk).
pub const CHUNK_MAX_EXP: u32 = 23;
/// borg's `HASH_MASK_BITS` (about 2 MiB average chunk).
pub const HASH_MASK_BITS: u32 = 21;
/// borg's `HASH_WINDOW_SIZE` (`0xfff`).
pub const HASH_WINDOW_SIZE: u32 = 0xfff;

/// Name of the buzhash algorithm in params strings and archive metadata.
pub const CH_BUZHASH: &str = "buzhash";
/// Name of the fixed-block algorithm in params strings and archive metadata.
pub const CH_FIXED: &str = "fixed";

/// Parameters of one of borg's two chunkers.
///
/// Values built directly (not through [`FromStr`]) are checked by
/// [`ChunkerParams::validate`] and by every constructor that uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkerParams {
    /// Content-defined chunking with the buzhash rolling hash.
    Buzhash {
        /// Minimum chunk size is `2**min_exp` bytes.
        min_exp: u32,
        /// Maximum chunk size is `2**max_exp` bytes.
        max_exp: u32,
        /// A cut happens where the low `mask_bits` bits of the hash are zero.
        mask_bits: u32,
        /// Rolling hash window size in bytes (odd).
        window_size: u32,
    },
    /// Fixed-size blocks after an optional header.
    Fixed {
        /// Block size in bytes.
        block_size: u32,
        /// Size of the leading header range in bytes (0: none).
        header_size: u32,
    },
}

impl ChunkerParams {
    /// borg's `CHUNKER_PARAMS`, the default for file data: `buzhash,19,23,21,4095`.
    pub const DEFAULT: ChunkerParams = ChunkerParams::Buzhash {
        min_exp: CHUNK_MIN_EXP,
        max_exp: CHUNK_MAX_EXP,
        mask_bits: HASH_MASK_BITS,
        window_size: HASH_WINDOW_SIZE,
    };

    /// borg's `ITEMS_CHUNKER_PARAMS`, used for the item metadata stream:
    /// `buzhash,15,19,17,4095`.
    pub const ITEMS: ChunkerParams = ChunkerParams::Buzhash {
        min_exp: 15,
        max_exp: 19,
        mask_bits: 17,
        window_size: HASH_WINDOW_SIZE,
    };

    /// Validated buzhash parameters.
    pub fn buzhash(
        min_exp: u32,
        max_exp: u32,
        mask_bits: u32,
        window_size: u32,
    ) -> Result<Self, ParamsError> {
        let p = ChunkerParams::Buzhash {
            min_exp,
            max_exp,
            mask_bits,
            window_size,
        };
        p.validate()?;
        Ok(p)
    }

    /// Validated fixed-block parameters.
    pub fn fixed(block_size: u32, header_size: u32) -> Result<Self, ParamsError> {
        let p = ChunkerParams::Fixed {
            block_size,
            header_size,
        };
        p.validate()?;
        Ok(p)
    }

    /// The algorithm name as recorded in archive metadata (`"buzhash"` or `"fixed"`).
    pub fn algorithm(&self) -> &'static str {
        match self {
            ChunkerParams::Buzhash { .. } => CH_BUZHASH,
            ChunkerParams::Fixed { .. } => CH_FIXED,
        }
    }

    /// Check borg's constraints.
    ///
    /// Buzhash: `6 <= MIN_EXP <= MASK_BITS <= MAX_EXP <= 23`, odd window and
    /// `WINDOW + 2**MIN_EXP + 1 <= 2**MAX_EXP` (the last one is an assertion in
    /// borg's `Chunker`, not part of its CLI parser).
    /// Fixed: `64 <= BLOCK <= MAX_DATA_SIZE` and `HEADER <= MAX_DATA_SIZE`.
    pub fn validate(&self) -> Result<(), ParamsError> {
        match *self {
            ChunkerParams::Buzhash {
                min_exp,
                max_exp,
                mask_bits,
                window_size,
            } => {
                if !(min_exp <= mask_bits && mask_bits <= max_exp) {
                    return Err(ParamsError::Order {
                        min_exp,
                        mask_bits,
                        max_exp,
                    });
                }
                if min_exp < 6 {
                    return Err(ParamsError::MinTooSmall(min_exp));
                }
                if max_exp > 23 {
                    return Err(ParamsError::MaxTooLarge(max_exp));
                }
                if window_size % 2 == 0 {
                    return Err(ParamsError::EvenWindow(window_size));
                }
                // min_exp <= max_exp <= 23, so the shifts cannot overflow.
                if u64::from(window_size) + (1u64 << min_exp) + 1 > (1u64 << max_exp) {
                    return Err(ParamsError::WindowTooLarge {
                        window_size,
                        min_exp,
                        max_exp,
                    });
                }
                Ok(())
            }
            ChunkerParams::Fixed {
                block_size,
                header_size,
            } => {
                if block_size < 64 {
                    return Err(ParamsError::BlockTooSmall(block_size));
                }
                if block_size > MAX_DATA_SIZE || header_size > MAX_DATA_SIZE {
                    return Err(ParamsError::SizeTooLarge {
                        block_size,
                        header_size,
                        max: MAX_DATA_SIZE,
                    });
                }
                Ok(())
            }
        }
    }
}

impl Default for ChunkerParams {
    fn default() -> Self {
        ChunkerParams::DEFAULT
    }
}

/// Parse one number the way Python's `int()` does for the values borg sees:
/// surrounding whitespace, an optional `+`, decimal digits with single
/// underscores between them. Negative numbers are rejected (borg would
/// accept some, e.g. a negative fixed header size, which makes no sense).
/// Values beyond `u32::MAX` saturate so that range checks report them.
fn parse_num(s: &str) -> Result<u32, ParamsError> {
    let bad = || ParamsError::BadNumber(s.to_string());
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return Err(bad());
    }
    let mut v: u32 = 0;
    for c in t.chars() {
        match c {
            '_' => {}
            '0'..='9' => {
                let d = u32::from(c as u8 - b'0');
                v = v.saturating_mul(10).saturating_add(d);
            }
            _ => return Err(bad()),
        }
    }
    Ok(v)
}

impl FromStr for ChunkerParams {
    type Err = ParamsError;

    /// borg's `--chunker-params` grammar: `buzhash,MIN_EXP,MAX_EXP,MASK_BITS,WINDOW`,
    /// the pre-1.2 form `MIN_EXP,MAX_EXP,MASK_BITS,WINDOW`, `default`, or
    /// `fixed,BLOCK_SIZE[,HEADER_SIZE]`. The algorithm name is case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = s.trim().split(',').collect();
        let count = fields.len();
        let algo = fields[0].to_lowercase();
        if algo == CH_FIXED && (2..=3).contains(&count) {
            let block_size = parse_num(fields[1])?;
            let header_size = if count == 3 { parse_num(fields[2])? } else { 0 };
            return ChunkerParams::fixed(block_size, header_size);
        }
        if algo == "default" && count == 1 {
            return Ok(ChunkerParams::DEFAULT);
        }
        if (algo == CH_BUZHASH && count == 5) || count == 4 {
            let n = &fields[count - 4..];
            let (min_exp, max_exp, mask_bits, window_size) = (
                parse_num(n[0])?,
                parse_num(n[1])?,
                parse_num(n[2])?,
                parse_num(n[3])?,
            );
            return ChunkerParams::buzhash(min_exp, max_exp, mask_bits, window_size);
        }
        Err(ParamsError::Invalid(s.to_string()))
    }
}

impl fmt::Display for ChunkerParams {
    /// The canonical form, matching the tuple borg records in archive
    /// metadata: `buzhash,19,23,21,4095` or `fixed,4096,0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkerParams::Buzhash {
                min_exp,
                max_exp,
                mask_bits,
                window_size,
            } => {
                write!(
                    f,
                    "{CH_BUZHASH},{min_exp},{max_exp},{mask_bits},{window_size}"
                )
            }
            ChunkerParams::Fixed {
                block_size,
                header_size,
            } => write!(f, "{CH_FIXED},{block_size},{header_size}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<ChunkerParams, ParamsError> {
        s.parse()
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(p("default").unwrap(), ChunkerParams::DEFAULT);
        assert_eq!(p("  default  ").unwrap(), ChunkerParams::DEFAULT);
        assert_eq!(p("buzhash,19,23,21,4095").unwrap(), ChunkerParams::DEFAULT);
        assert_eq!(p("BuzHash,15,19,17,4095").unwrap(), ChunkerParams::ITEMS);
        assert_eq!(p("19,23,21,4095").unwrap(), ChunkerParams::DEFAULT);
        assert_eq!(
            p("10, 16 ,12,+4_095").unwrap(),
            ChunkerParams::buzhash(10, 16, 12, 4095).unwrap()
        );
        assert_eq!(
            p("fixed,4096").unwrap(),
            ChunkerParams::Fixed {
                block_size: 4096,
                header_size: 0
            }
        );
        assert_eq!(
            p("FIXED,4096,512").unwrap(),
            ChunkerParams::Fixed {
                block_size: 4096,
                header_size: 512
            }
        );
        assert_eq!(
            p("fixed,64").unwrap(),
            ChunkerParams::Fixed {
                block_size: 64,
                header_size: 0
            }
        );
        assert_eq!(
            p("fixed,20971479,20971479").unwrap(),
            ChunkerParams::Fixed {
                block_size: MAX_DATA_SIZE,
                header_size: MAX_DATA_SIZE
            }
        );
        assert_eq!(
            p("6,12,8,63").unwrap(),
            ChunkerParams::buzhash(6, 12, 8, 63).unwrap()
        );
        assert_eq!(
            p("buzhash,6,7,6,63").unwrap(),
            ChunkerParams::buzhash(6, 7, 6, 63).unwrap()
        );
    }

    #[test]
    fn rejected_forms() {
        use ParamsError::*;
        assert!(matches!(p(""), Err(Invalid(_))));
        assert!(matches!(p("default,1"), Err(Invalid(_))));
        assert!(matches!(p("buzhash,19,23,21"), Err(BadNumber(_))));
        assert!(matches!(p("buzhash,19,23"), Err(Invalid(_))));
        assert!(matches!(p("19,23,21,4095,1"), Err(Invalid(_))));
        assert!(matches!(p("fixed"), Err(Invalid(_))));
        assert!(matches!(p("fixed,1,2,3"), Err(BadNumber(_))));
        assert!(matches!(p("fixed,abc"), Err(BadNumber(_))));
        assert!(matches!(p("fixed,4096,-1"), Err(BadNumber(_))));
        assert!(matches!(p("fixed,63"), Err(BlockTooSmall(63))));
        assert!(matches!(p("fixed,20971480"), Err(SizeTooLarge { .. })));
        assert!(matches!(p("fixed,4096,20971480"), Err(SizeTooLarge { .. })));
        assert!(matches!(
            p("fixed,99999999999999999999999"),
            Err(SizeTooLarge { .. })
        ));
        assert!(matches!(p("buzhash,19,23,24,4095"), Err(Order { .. })));
        assert!(matches!(p("buzhash,20,19,19,4095"), Err(Order { .. })));
        assert!(matches!(p("5,12,8,63"), Err(MinTooSmall(5))));
        assert!(matches!(p("19,24,21,4095"), Err(MaxTooLarge(24))));
        assert!(matches!(p("19,23,21,4096"), Err(EvenWindow(4096))));
        assert!(matches!(p("19,23,21,0"), Err(EvenWindow(0))));
        assert!(matches!(p("6,6,6,63"), Err(WindowTooLarge { .. })));
        assert!(matches!(p("10,11,10,1025"), Err(WindowTooLarge { .. })));
        assert!(p("10,11,10,1023").is_ok());
        assert!(matches!(p("1__0,16,12,63"), Err(BadNumber(_))));
        assert!(matches!(p("_10,16,12,63"), Err(BadNumber(_))));
        assert!(matches!(p("-10,16,12,63"), Err(BadNumber(_))));
        assert!(matches!(p("buzhash ,10,16,12,63"), Err(Invalid(_))));
    }

    #[test]
    fn display_roundtrip() {
        for s in [
            "buzhash,19,23,21,4095",
            "buzhash,15,19,17,4095",
            "fixed,4096,0",
            "fixed,65536,512",
        ] {
            let v = p(s).unwrap();
            assert_eq!(v.to_string(), s);
            assert_eq!(p(&v.to_string()).unwrap(), v);
        }
        assert_eq!(p("default").unwrap().to_string(), "buzhash,19,23,21,4095");
        assert_eq!(p("fixed,4096").unwrap().to_string(), "fixed,4096,0");
        assert_eq!(ChunkerParams::default(), ChunkerParams::DEFAULT);
        assert_eq!(ChunkerParams::DEFAULT.algorithm(), "buzhash");
        assert_eq!(p("fixed,4096").unwrap().algorithm(), "fixed");
    }

    #[test]
    fn constructors_validate() {
        assert!(ChunkerParams::DEFAULT.validate().is_ok());
        assert!(ChunkerParams::ITEMS.validate().is_ok());
        assert!(ChunkerParams::Buzhash {
            min_exp: 30,
            max_exp: 40,
            mask_bits: 35,
            window_size: 1
        }
        .validate()
        .is_err());
        assert!(ChunkerParams::Fixed {
            block_size: 0,
            header_size: 0
        }
        .validate()
        .is_err());
    }
}
