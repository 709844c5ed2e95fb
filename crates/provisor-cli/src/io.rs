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

/// Parses and judges an assessment file from disk; its warnings go to standard error.
pub fn load_assessment(path: &Path) -> Result<Assessment<'static>, Failure> {
    let file = parse_assessment(path)?;
    judge(path, &file)
}

/// Judges a parsed assessment file, reading the files it names beside it, with
/// acceptances expiring against today (or `SOURCE_DATE_EPOCH`'s day); its warnings go
/// to standard error.
pub fn judge(path: &Path, file: &AssessmentFile) -> Result<Assessment<'static>, Failure> {
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let assessment = provisor_engine::load_as_of(file, &Beside { base }, Some(today()))
        .map_err(|errors| Failure::Invalid(render_errors(&errors)))?;
    for warning in &assessment.warnings {
        print_warning(&render_errors(&[file.locate_warning(warning)]));
    }
    Ok(assessment)
}

/// Reads and parses a wording file given on the command line, for `catalog`'s edition.
pub fn read_wording(
    path: &Path,
    catalog: &provisor_catalog::Catalog,
) -> Result<provisor_engine::Wording, Failure> {
    let bytes = read_limited(path)
        .map_err(|reason| Failure::Invalid(format!("cannot read {}: {reason}", path.display())))?;
    provisor_engine::Wording::parse(&bytes, &path.display().to_string(), catalog)
        .map_err(|error| Failure::Invalid(render_errors(&[error])))
}

/// Puts the wording file given on the command line into an assessment, in place of the
/// one the assessment names.
pub fn apply_wording(assessment: &mut Assessment<'_>, path: Option<&Path>) -> Result<(), Failure> {
    if let Some(path) = path {
        assessment.wording = Some(read_wording(path, assessment.catalog)?);
    }
    Ok(())
}

/// Writes text to `output` atomically (saying so on standard error), or to standard
/// output when there is none.
pub fn deliver(text: &str, output: Option<&Path>) -> Result<(), Failure> {
    match output {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
        None => print(text),
    }
}

/// The lock file that serializes the commands rewriting an assessment. It is a file of
/// its own because the assessment is replaced by a rename, and a lock on the replaced
/// file would not hold the next writer back.
fn lock_path(assessment: &Path) -> PathBuf {
    let name = assessment
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "assessment".into());
    assessment.with_file_name(format!(".{name}.lock"))
}

/// Rewrites an assessment under an advisory lock: waits for other writers, re-reads
/// the file under the lock, hands its text to `change`, and writes what `change`
/// returns (if anything) atomically before the lock is released. Concurrent commands
/// each see the others' changes; none is lost.
pub fn update_assessment<T>(
    path: &Path,
    change: impl FnOnce(&str) -> Result<(Option<String>, T), Failure>,
) -> Result<T, Failure> {
    let lock = lock_path(path);
    let handle = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|error| {
            Failure::Invalid(format!(
                "cannot open the lock file {}: {error}; is the directory writable?",
                lock.display()
            ))
        })?;
    handle
        .lock()
        .map_err(|error| Failure::Invalid(format!("cannot lock {}: {error}", lock.display())))?;
    let text = read_text(path)?;
    let (new_text, value) = change(&text)?;
    if let Some(new_text) = new_text {
        // Refuse to write what would no longer parse: nothing half-done lands.
        provisor_engine::parse(&new_text, &path.display().to_string()).map_err(|error| {
            Failure::Internal(anyhow::anyhow!(
                "the rewritten assessment does not parse: {error}"
            ))
        })?;
        write_atomically(path, new_text.as_bytes())?;
    }
    drop(handle);
    Ok(value)
}

/// Today's date in UTC, or `SOURCE_DATE_EPOCH`'s.
pub fn today() -> provisor_engine::Date {
    provisor_engine::Date::from_unix_seconds(epoch_seconds())
}

fn epoch_seconds() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs())
        })
}

/// Writes `contents` to `path` through a temporary file in the same directory and a
/// rename, so that a reader never sees a partial file and a failure leaves the old one.
/// A symbolic link is followed (the file it names is replaced, the link stays); a device,
/// pipe or socket (`-o /dev/null`, `-o /dev/stdout`, a FIFO) is written as it is: it
/// cannot be replaced, and a rename would put a plain file in its place.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), Failure> {
    let followed;
    let path = match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => match fs::canonicalize(path) {
            Ok(target) => {
                followed = target;
                followed.as_path()
            }
            Err(_) => path,
        },
        _ => path,
    };
    if let Ok(metadata) = fs::metadata(path)
        && !metadata.is_file()
        && !metadata.is_dir()
    {
        return fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut file| file.write_all(contents))
            .map_err(|error| {
                Failure::Invalid(format!("cannot write {}: {error}", path.display()))
            });
    }
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

/// Prints a warning to standard error.
pub fn print_warning(message: &str) {
    use anstyle::{AnsiColor, Style};
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold();
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{yellow}warning{yellow:#}: {message}");
}

/// The time a report is made, RFC 3339 in UTC. `SOURCE_DATE_EPOCH` fixes it, for
/// reproducible reports.
pub fn now() -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch_seconds());
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

#[cfg(test)]
mod tests {
    use super::write_atomically;

    /// A pipe is written through, not replaced by a plain file; a link stays a link and
    /// the file it names gets the contents.
    #[test]
    fn pipes_are_written_through_and_links_followed() {
        let directory = tempfile::tempdir().unwrap();
        let pipe = directory.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let pipe = pipe.clone();
            std::thread::spawn(move || std::fs::read(pipe).unwrap())
        };
        write_atomically(&pipe, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&pipe).unwrap().file_type().is_fifo());

        let file = directory.path().join("report.html");
        std::fs::write(&file, "old").unwrap();
        let link = directory.path().join("latest.html");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
    }
}
