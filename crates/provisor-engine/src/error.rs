//! Errors in what a user gave the engine: each says what is wrong, where (file:line:col
//! or a JSON pointer), and what to do.

use std::fmt;

use provisor_catalog::ConditionId;

/// Invalid input with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// The file, when known.
    pub file: Option<String>,
    /// 1-based line and column, when known.
    pub position: Option<(u32, u32)>,
    /// Length of the offending text, for the caret line.
    pub width: u32,
    /// JSON pointer inside the file, for JSON inputs.
    pub pointer: Option<String>,
    /// The source line, for display under the message.
    pub snippet: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl InputError {
    /// An error with no location yet.
    pub fn new(message: impl Into<String>) -> Self {
        InputError {
            message: message.into(),
            file: None,
            position: None,
            width: 1,
            pointer: None,
            snippet: None,
            help: None,
        }
    }

    /// Places the error at a line and column of a file.
    pub fn at_line(mut self, file: &str, line: u32, column: u32) -> Self {
        self.file = Some(file.to_owned());
        self.position = Some((line, column));
        self
    }

    /// Places the error at a JSON pointer of a file.
    pub fn at_pointer(mut self, file: &str, pointer: String) -> Self {
        self.file = Some(file.to_owned());
        self.pointer = Some(pointer);
        self
    }

    /// Places the error at a byte span of a source text, with the line shown.
    pub fn at_span(mut self, file: &str, source: &str, span: std::ops::Range<usize>) -> Self {
        let start = span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |index| index + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |index| start + index);
        let line = source[..start].matches('\n').count() as u32 + 1;
        let column = source[line_start..start].chars().count() as u32 + 1;
        let end = span.end.clamp(start, line_end);
        self.width = (source[start..end].chars().count() as u32).max(1);
        self.snippet = Some(
            source[line_start..line_end]
                .trim_end_matches('\r')
                .to_owned(),
        );
        self.at_line(file, line, column)
    }

    /// Adds advice.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The place as `file:line:col`, `file (at /pointer)` or `file`.
    pub fn place(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match (self.position, &self.pointer) {
            (Some((line, column)), _) => format!("{file}:{line}:{column}"),
            (None, Some(pointer)) => format!("{file} (at {pointer})"),
            (None, None) => file.to_owned(),
        })
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place() {
            Some(place) => write!(formatter, "{place}: {}", self.message),
            None => formatter.write_str(&self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// What an invalid part of the input is about, so a loader can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The answer to a condition.
    Condition(ConditionId),
    /// The statement on a provision.
    Statement(String),
    /// The record of a test case.
    Test(String),
    /// An acceptance, by its position among the `[[accept]]` entries.
    Acceptance(usize),
    /// An IXIT entry (table, position), or one of its fields.
    Ixit(String, usize, Option<String>),
    /// The assessment's kind.
    Kind,
    /// The review and sign-off.
    Review,
    /// A `[[scan]]` entry, by its file.
    Scan(String),
    /// The edition the file names (or does not).
    Edition,
}

/// Something in the input that does not stop the judgement but that the user should
/// see: a test case recorded for a provision that does not apply, an acceptance that
/// matches nothing or has expired, an unknown IXIT field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What it is about.
    pub subject: Subject,
    /// What is the matter, lowercase, no trailing period.
    pub message: String,
    /// What to do, when something should be done.
    pub help: Option<String>,
}

/// Input the engine cannot judge, before locations are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// What it is about.
    pub subject: Subject,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}
