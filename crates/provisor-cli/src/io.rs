//! The binary's contact with the outside: reading an assessment and the files it names
//! (with size limits), writing output atomically, printing errors with the offending
//! source line, and the clock.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use provisor_engine::{Assessment, AssessmentFile, Files, InputError};

use crate::Failure;

/// Files larger than this are refused: no assessment, scan or evidence file is near it.
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a file whole, refusing one over the limit.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let file = fs::File::open(path).map_err(|error| error.to_string())?;
    let metadata = file.metadata().map_err(|error| error.to_string())?;
    if metadata.is_dir() {
        return Err("it is a directory".into());
    }
    if !metadata.is_file() {
        return Err("not a regular file (a device or a pipe?)".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {} MiB", MAX_FILE_BYTES >> 20));
    }
    Ok(bytes)
}

/// Reads a UTF-8 text file, or says what is wrong with it.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    let bytes = read_limited(path)
        .map_err(|reason| Failure::Invalid(format!("cannot read {}: {reason}", path.display())))?;
    String::from_utf8(bytes).map_err(|error| {
        Failure::Invalid(format!(
            "{}: not UTF-8 text (invalid byte at offset {}); an assessment file is TOML",
            path.display(),
            error.utf8_error().valid_up_to()
        ))
    })
}

/// The files an assessment names, relative to its directory.
struct Beside {
    base: PathBuf,
}

impl Files for Beside {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        read_limited(&self.base.join(path))
    }
}

/// Renders input errors with the source line and a caret under the offending text.
pub fn render_errors(errors: &[InputError]) -> String {
    let mut out = String::new();
    for (index, error) in errors.iter().enumerate() {
        if index > 0 {
            out.push_str("\nerror: ");
        }
        out.push_str(&error.message);
        if let Some(place) = error.place() {
            out.push_str(&format!("\n  --> {place}"));
        }
        if let (Some(snippet), Some((line, column))) = (&error.snippet, error.position) {
            let gutter = line.to_string().len();
            let pad = " ".repeat(gutter);
            let caret_pad: String = snippet
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!(
                "\n{pad} |\n{line} | {snippet}\n{pad} | {caret_pad}{}",
                "^".repeat(error.width as usize)
            ));
        }
        if let Some(help) = &error.help {
            out.push_str(&format!("\n  = help: {help}"));
        }
    }
    out
}

/// Parses an assessment file from disk.
pub fn parse_assessment(path: &Path) -> Result<AssessmentFile, Failure> {
    let text = read_text(path)?;
    provisor_engine::parse(&text, &path.display().to_string())
        .map_err(|error| Failure::Invalid(render_errors(&[error])))
}

/// Parses and judges an assessment file from disk.
pub fn load_assessment(path: &Path) -> Result<Assessment<'static>, Failure> {
    let file = parse_assessment(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    provisor_engine::load(&file, &Beside { base })
        .map_err(|errors| Failure::Invalid(render_errors(&errors)))
}

/// Writes `contents` to `path` through a temporary file in the same directory and a
/// rename, so that a reader never sees a partial file and a failure leaves the old one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), Failure> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Failure::Invalid(format!("{} is not a file name", path.display())))?;
    let temporary = directory.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    result.map_err(|error| {
        let _ = fs::remove_file(&temporary);
        Failure::Invalid(format!("cannot write {}: {error}", path.display()))
    })
}

/// Writes text to standard output; ANSI styles are stripped unless it is a terminal.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = anstream::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`provisor check … | head`) is not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Failure::from),
    }
}

/// Prints an error message to standard error.
pub fn print_error(message: &str) {
    use anstyle::{AnsiColor, Style};
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{red}error{red:#}: {message}");
}

/// The time a report is made, RFC 3339 in UTC. `SOURCE_DATE_EPOCH` fixes it, for
/// reproducible reports.
pub fn now() -> String {
    let time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .map(|seconds| std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
        .unwrap_or_else(std::time::SystemTime::now);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The context every report carries.
pub fn report_context(source: &Path) -> provisor_report::Context {
    provisor_report::Context {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: now(),
        source: source.display().to_string(),
    }
}
