//! Job artifacts: the local files a job needs, read (bounded), directories
//! zipped reproducibly, each named by the SHA-256 of its bytes, so that one
//! URI always holds the same content and the same content is uploaded once.
//! No AWS calls here: `apply::jobs` uploads, the CLI asks `HeadObject`.

mod zip;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::job::upload_name;
use crate::model::{Desired, S3Location, S3Object, Uploaded};

/// The largest artifact emrstack uploads, file or zipped directory: one
/// `PutObject` (S3 takes up to 5 GB in one), held in memory.
pub const MAX_ARTIFACT_BYTES: u64 = 256 * 1024 * 1024;

/// The most files a zipped directory may hold.
pub const MAX_DIRECTORY_ENTRIES: usize = 10_000;

/// How deep a zipped directory may nest.
pub const MAX_DIRECTORY_DEPTH: usize = 32;

/// One local file or directory, ready to upload.
#[derive(Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The path as the stack resolved it.
    pub source: PathBuf,
    /// Whether `source` is a directory (uploaded as a zip).
    pub directory: bool,
    /// The name it is uploaded under (`main.py`, `deps.zip`).
    pub file_name: String,
    /// The SHA-256 of `body`, 64 hex digits.
    pub sha256: String,
    /// The bytes to upload.
    pub body: Vec<u8>,
    /// `<artifacts prefix>/<sha256>/<file name>`.
    pub object: S3Object,
}

impl fmt::Debug for Artifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Artifact")
            .field("source", &self.source)
            .field("file_name", &self.file_name)
            .field("sha256", &self.sha256)
            .field("size", &self.body.len())
            .field("object", &self.object)
            .finish()
    }
}

impl Artifact {
    /// `s3://bucket/key`.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.object.bucket, self.object.key)
    }

    /// The content type it is uploaded with.
    pub fn content_type(&self) -> &'static str {
        if self.directory || self.file_name.ends_with(".zip") {
            "application/zip"
        } else {
            "application/octet-stream"
        }
    }
}

/// Why a local file could not become an artifact.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("cannot read `{path}`: {error}")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("`{path}` is larger than {MAX_ARTIFACT_BYTES} bytes, the most emrstack uploads in one piece")]
    TooLarge { path: PathBuf },
    #[error("`{path}` has more than {MAX_DIRECTORY_ENTRIES} files")]
    TooManyFiles { path: PathBuf },
    #[error("`{path}` nests more than {MAX_DIRECTORY_DEPTH} directories deep")]
    TooDeep { path: PathBuf },
    #[error("`{path}` is neither a regular file nor a directory")]
    NotAFile { path: PathBuf },
    #[error("job `{job}` has local files but the stack has no `[stack] artifacts`")]
    NoLocation { job: String },
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes`, 64 hex digits.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Reads a regular file, refusing more than [`MAX_ARTIFACT_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, ArtifactError> {
    let read_error = |error| ArtifactError::Read {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut body = Vec::new();
    file.take(MAX_ARTIFACT_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(read_error)?;
    if body.len() as u64 > MAX_ARTIFACT_BYTES {
        return Err(ArtifactError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(body)
}

/// Every regular file under `root`, as `(name inside the zip, path)`,
/// sorted by name. `__pycache__` directories are left out: their bytecode
/// differs from machine to machine and would change the hash.
fn directory_files(root: &Path) -> Result<Vec<(String, PathBuf)>, ArtifactError> {
    let mut out = Vec::new();
    let mut pending = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, prefix, depth)) = pending.pop() {
        if depth > MAX_DIRECTORY_DEPTH {
            return Err(ArtifactError::TooDeep { path: dir });
        }
        let entries = std::fs::read_dir(&dir).map_err(|error| ArtifactError::Read {
            path: dir.clone(),
            error,
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| ArtifactError::Read {
                path: dir.clone(),
                error,
            })?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let metadata = std::fs::metadata(&path).map_err(|error| ArtifactError::Read {
                path: path.clone(),
                error,
            })?;
            let inner = format!("{prefix}{name}");
            if metadata.is_dir() {
                if name != "__pycache__" {
                    pending.push((path, format!("{inner}/"), depth + 1));
                }
            } else if metadata.is_file() {
                out.push((inner, path));
                if out.len() > MAX_DIRECTORY_ENTRIES {
                    return Err(ArtifactError::TooManyFiles {
                        path: root.to_path_buf(),
                    });
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The bytes of a local path: a file as is, a directory as a reproducible zip.
pub fn bytes_of(path: &Path) -> Result<(Vec<u8>, bool), ArtifactError> {
    let metadata = std::fs::metadata(path).map_err(|error| ArtifactError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    if metadata.is_file() {
        return Ok((read_bounded(path)?, false));
    }
    if !metadata.is_dir() {
        return Err(ArtifactError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut entries = Vec::new();
    let mut total = 0u64;
    for (name, file) in directory_files(path)? {
        let body = read_bounded(&file)?;
        total += body.len() as u64;
        if total > MAX_ARTIFACT_BYTES {
            return Err(ArtifactError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        entries.push((name, body));
    }
    Ok((zip::stored(&entries), true))
}

/// Reads one local path into an artifact under `location`.
pub fn prepare(path: &Path, location: &S3Location) -> Result<Artifact, ArtifactError> {
    let (body, directory) = bytes_of(path)?;
    let file_name = upload_name(path, directory);
    let sha256 = sha256(&body);
    let object = location.object(&format!("{sha256}/{file_name}"));
    Ok(Artifact {
        source: path.to_path_buf(),
        directory,
        file_name,
        sha256,
        body,
        object,
    })
}

/// The artifacts of `jobs` (every job of the stack when empty), each local
/// path once, in a stable order.
pub fn for_jobs(desired: &Desired, jobs: &[String]) -> Result<Vec<Artifact>, ArtifactError> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for (key, job) in &desired.jobs {
        if !jobs.is_empty() && !jobs.contains(key) {
            continue;
        }
        let local = job.local_paths();
        if !local.is_empty() && desired.stack.artifacts.is_none() {
            return Err(ArtifactError::NoLocation { job: key.clone() });
        }
        for path in local {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    let Some(location) = &desired.stack.artifacts else {
        return Ok(Vec::new());
    };
    paths.iter().map(|path| prepare(path, location)).collect()
}

/// Each artifact's URI by its source path, for `JobSpec::request`.
pub fn uploaded(artifacts: &[Artifact]) -> BTreeMap<PathBuf, Uploaded> {
    artifacts
        .iter()
        .map(|artifact| {
            (
                artifact.source.clone(),
                Uploaded {
                    file_name: artifact.file_name.clone(),
                    uri: artifact.uri(),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_named_by_the_hash_of_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("main.py");
        std::fs::write(&path, b"print('hi')\n").expect("write");
        let location = S3Location::parse("s3://b/art").expect("location");
        let artifact = prepare(&path, &location).expect("prepare");
        assert_eq!(artifact.sha256, sha256(b"print('hi')\n"));
        assert_eq!(artifact.object.key, format!("art/{}/main.py", artifact.sha256));
        assert_eq!(artifact.uri(), format!("s3://b/art/{}/main.py", artifact.sha256));
    }

    #[test]
    fn a_directory_zips_the_same_whatever_the_times_and_order() {
        let location = S3Location::parse("s3://b").expect("location");
        let make = |order: &[&str]| {
            let dir = tempfile::tempdir().expect("tempdir");
            let root = dir.path().join("deps");
            std::fs::create_dir_all(root.join("pkg/__pycache__")).expect("mkdir");
            for name in order {
                std::fs::write(root.join(name), name.as_bytes()).expect("write");
            }
            std::fs::write(root.join("pkg/__pycache__/x.pyc"), std::process::id().to_string()).expect("write");
            let artifact = prepare(&root, &location).expect("prepare");
            (dir, artifact)
        };
        let (_a, first) = make(&["pkg/a.py", "pkg/__init__.py", "b.py"]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let (_b, second) = make(&["b.py", "pkg/__init__.py", "pkg/a.py"]);
        assert_eq!(first.sha256, second.sha256);
        assert_eq!(first.file_name, "deps.zip");
        assert_eq!(first.object.key, format!("{}/deps.zip", first.sha256));
        let names = zip::names(&first.body);
        assert_eq!(names, vec!["b.py", "pkg/__init__.py", "pkg/a.py"]);
    }

    #[test]
    fn too_large_files_are_refused_before_reading_them_all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.jar");
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(MAX_ARTIFACT_BYTES + 1).expect("set_len");
        let location = S3Location::parse("s3://b").expect("location");
        assert!(matches!(prepare(&path, &location), Err(ArtifactError::TooLarge { .. })));
    }
}
