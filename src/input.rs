//! Bounds on what emrstack reads from its users: every file is read only when
//! it is a regular file and only up to a size limit, and every nested
//! document (TOML, JSON, saved plans) only down to a depth limit, so that no
//! input can exhaust memory or the stack (docs/config-reference.md, "Limits").

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The largest stack file, var file, policy file or classification file
/// emrstack reads, in bytes (8 MiB). The largest real stacks are a few
/// hundred kilobytes; this leaves room for generated ones (100,000
/// classifications take about 5 MB) while bounding the memory a mistaken
/// path such as `/dev/zero` can take.
pub const MAX_SOURCE_BYTES: u64 = 8 * 1024 * 1024;

/// The largest saved plan emrstack reads, in bytes (64 MiB). Plans carry the
/// resolved stack and every change, about 3 KB per application.
pub const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// How deeply values may nest in a stack file, a var file or a JSON document
/// (policies, classification files), counting the document itself as the
/// first level. The deepest value the stack language has a use for (a
/// policy condition's list of values inside a role) is about 10 levels down.
pub const MAX_DEPTH: usize = 64;

/// How deeply values may nest in a saved plan: the plan's own structure
/// (about a dozen levels) on top of values of at most [`MAX_DEPTH`] levels.
pub const MAX_PLAN_DEPTH: usize = 128;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The operating system refused (missing file, permissions).
    Io(std::io::Error),
    /// The path names something other than a regular file: a directory, a
    /// device such as `/dev/zero`, a FIFO or a socket.
    NotAFile(&'static str),
    /// The file is larger than the limit, in bytes.
    TooLarge(u64),
    /// The file is not UTF-8 text.
    NotText,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(error) => write!(f, "{error}"),
            ReadError::NotAFile(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge(limit) => write!(f, "it is larger than {}", size(*limit)),
            ReadError::NotText => write!(f, "it is not UTF-8 text"),
        }
    }
}

impl std::error::Error for ReadError {}

/// `8 MiB`, `512 KiB` or `100 bytes`.
pub fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the text file at `path`, refusing anything but a regular file and
/// anything larger than `limit` bytes.
///
/// The file is opened without blocking (a FIFO with no writer would
/// otherwise wait forever) and its type checked on the open handle, so what
/// is checked is what is read. At most `limit + 1` bytes are read whatever
/// the file claims its size is (files in `/proc` claim 0).
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let mut file = open(path).map_err(ReadError::Io)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile(kind(&metadata.file_type())));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0).saturating_add(1));
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText)
}

/// The byte offset of the first `[` or `{` of a JSON text that opens a
/// level deeper than `limit`, if there is one. A linear scan that reads
/// strings only to skip them; it does not check the syntax, which the
/// parser that runs after it does.
pub fn json_too_deep(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &byte) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(offset);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// 1-based line and column (in characters) of a byte offset of `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(unix)]
fn kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn kind(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "x = 1\n").unwrap();
        assert_eq!(read_text(&path, 6).unwrap(), "x = 1\n");
        assert!(matches!(read_text(&path, 5), Err(ReadError::TooLarge(5))));
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(matches!(read_text(&path, 5), Err(ReadError::NotText)));
        assert!(matches!(
            read_text(&dir.path().join("missing"), 5),
            Err(ReadError::Io(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_devices_directories_and_fifos_without_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_text(Path::new("/dev/zero"), MAX_SOURCE_BYTES).unwrap_err();
        assert_eq!(error.to_string(), "it is a character device, not a regular file");
        let error = read_text(dir.path(), MAX_SOURCE_BYTES).unwrap_err();
        assert_eq!(error.to_string(), "it is a directory, not a regular file");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        // Without a writer, a blocking open would wait forever.
        let error = read_text(&fifo, MAX_SOURCE_BYTES).unwrap_err();
        assert_eq!(error.to_string(), "it is a FIFO, not a regular file");
    }

    #[test]
    fn finds_where_json_nests_too_deeply() {
        assert_eq!(json_too_deep("[[1]]", 2), None);
        assert_eq!(json_too_deep("[[[1]]]", 2), Some(2));
        assert_eq!(json_too_deep(r#"{"a": "[[[[\"[[["}"#, 1), None);
        assert_eq!(json_too_deep(r#"{"a": "\\\\", "b": [[1]]}"#, 2), Some(20));
        let deep = format!("{}{}", "[".repeat(7300), "]".repeat(7300));
        assert_eq!(json_too_deep(&deep, MAX_PLAN_DEPTH), Some(MAX_PLAN_DEPTH));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(MAX_SOURCE_BYTES), "8 MiB");
        assert_eq!(size(2048), "2 KiB");
        assert_eq!(size(100), "100 bytes");
    }
}
