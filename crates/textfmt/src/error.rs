//! Errors: the Python exceptions `str.format` raises, and borg's
//! placeholder errors.

use std::fmt;

/// The Python exception class a formatting failure corresponds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PyExc {
    /// `ValueError` (bad template or format spec).
    ValueError,
    /// `KeyError` (unknown field name).
    KeyError,
    /// `IndexError` (`{name[99]}` out of range).
    IndexError,
    /// `TypeError` (e.g. a format spec for `None`, indexing an int).
    TypeError,
    /// `OverflowError` (e.g. `{x:c}` out of range).
    OverflowError,
    /// `AttributeError` (`{name.attr}`: attribute access is not modelled).
    AttributeError,
    /// `MemoryError`: a width or precision so large that this crate refuses
    /// to allocate it (Python would try).
    MemoryError,
}

impl PyExc {
    /// The class name, e.g. `ValueError`.
    pub fn name(self) -> &'static str {
        match self {
            PyExc::ValueError => "ValueError",
            PyExc::KeyError => "KeyError",
            PyExc::IndexError => "IndexError",
            PyExc::TypeError => "TypeError",
            PyExc::OverflowError => "OverflowError",
            PyExc::AttributeError => "AttributeError",
            PyExc::MemoryError => "MemoryError",
        }
    }
}

impl fmt::Display for PyExc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failure of [`crate::format`]: the Python exception class and
/// `str(exception)` (for `KeyError` that is the quoted key, `'foo'`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct FormatError {
    /// The exception class.
    pub kind: PyExc,
    /// `str(exception)`.
    pub message: String,
}

impl FormatError {
    pub(crate) fn new(kind: PyExc, message: impl Into<String>) -> Self {
        FormatError {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn value(message: impl Into<String>) -> Self {
        Self::new(PyExc::ValueError, message)
    }

    pub(crate) fn type_error(message: impl Into<String>) -> Self {
        Self::new(PyExc::TypeError, message)
    }
}

/// borg's `PlaceholderError` family, raised by `format_line` (and so by
/// `replace_placeholders`, i.e. archive names, `--prefix`, `--glob-archives`,
/// `--comment`, repository locations and `--remote-path`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceholderError {
    /// `InvalidPlaceholder`: a `{key}` that is not in the dictionary, or
    /// one with a `!conversion`. borg: `Invalid placeholder "{key}" in
    /// string: {text}`, exit code 2 (legacy) / 6 (modern).
    #[error("Invalid placeholder \"{placeholder}\" in string: {text}")]
    Invalid {
        /// The field name as written (including `.attr`/`[idx]`).
        placeholder: String,
        /// The whole template.
        text: String,
    },
    /// `PlaceholderError`: `format_map` itself failed (bad format spec,
    /// unknown key in a nested spec, `{}`...). borg:
    /// `Formatting Error: "{text}".format({data!r}): {Exc}({message})`,
    /// exit code 2 (legacy) / 5 (modern).
    #[error("Formatting Error: \"{text}\".format({data_repr}): {}({})", error.kind, error.message)]
    Formatting {
        /// The whole template.
        text: String,
        /// `repr(data)` of borg's dictionary (addresses of wrapper objects
        /// are not reproducible, see [`crate::FieldMap::python_repr`]).
        data_repr: String,
        /// The underlying exception.
        error: FormatError,
    },
    /// The template itself is malformed (`Single '}' encountered in format
    /// string`, ...). borg's `format_line` parses the template outside its
    /// `try`, so this is a bare Python `ValueError`, not a borg `Error`
    /// (argparse turns it into `invalid ... value`).
    #[error("{}", .0.message)]
    Parse(FormatError),
}

impl PlaceholderError {
    /// borg's modern exit code (`BORG_EXIT_CODES=modern`): 6 for
    /// `InvalidPlaceholder`, 5 for `PlaceholderError`; `None` for a bare
    /// `ValueError`. With legacy exit codes borg exits with 2 for both.
    pub fn exit_mcode(&self) -> Option<i32> {
        match self {
            PlaceholderError::Invalid { .. } => Some(6),
            PlaceholderError::Formatting { .. } => Some(5),
            PlaceholderError::Parse(_) => None,
        }
    }
}
