//! Object stores by URL: `file://` (and plain paths), `s3://` (feature `s3`), `memory://`.
//!
//! Connectors read their exports and the lake keeps its snapshots through the same
//! `object_store` seam, so the lake can move from a local directory to an S3-compatible store by
//! changing one URL. S3 settings come from the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`), never from files.

use std::path::Path as FsPath;
use std::sync::{Arc, Mutex, OnceLock};

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use url::Url;

/// Errors resolving a location.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The text is not a URL or path searchlight understands.
    #[error("`{0}` is not a valid location: {1}")]
    BadLocation(String, String),
    /// The scheme needs a cargo feature that this build lacks, or is unknown.
    #[error("`{0}`: {1}")]
    Unsupported(String, String),
    /// The store could not be built (e.g. missing credentials).
    #[error("`{0}`: {1}")]
    Store(String, object_store::Error),
}

/// A store plus the path of a location inside it.
#[derive(Debug, Clone)]
pub struct Located {
    /// The store holding the location.
    pub store: Arc<dyn ObjectStore>,
    /// The URL of the store's root (`file:///`, `s3://bucket/`, `memory:///`).
    pub root: Url,
    /// Path of the location inside the store.
    pub path: Path,
}

/// Turns a location into a URL: plain paths are resolved against `base` (absolute paths as is).
pub fn to_url(location: &str, base: &FsPath) -> Result<Url, StorageError> {
    if location.contains("://") {
        return Url::parse(location).map_err(|e| StorageError::BadLocation(location.into(), e.to_string()));
    }
    let p = FsPath::new(location);
    let abs = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    let abs = normalize_path(&abs);
    Url::from_file_path(&abs).map_err(|_| StorageError::BadLocation(location.into(), "not an absolute path".into()))
}

fn normalize_path(p: &FsPath) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn memory_store() -> Arc<dyn ObjectStore> {
    // one process-wide in-memory store, so tests can share `memory://` between lake and engine
    static STORE: OnceLock<Arc<InMemory>> = OnceLock::new();
    STORE.get_or_init(|| Arc::new(InMemory::new())).clone()
}

/// Resolves a URL to its store and the path inside it. Stores are cached per root.
pub fn locate(url: &Url) -> Result<Located, StorageError> {
    static CACHE: OnceLock<Mutex<Vec<(Url, Arc<dyn ObjectStore>)>>> = OnceLock::new();
    let (root, path) = match url.scheme() {
        "file" => {
            let fs = url
                .to_file_path()
                .map_err(|_| StorageError::BadLocation(url.to_string(), "not a local path".into()))?;
            let path =
                Path::from_absolute_path(&fs).map_err(|e| StorageError::BadLocation(url.to_string(), e.to_string()))?;
            (Url::parse("file:///").expect("static url"), path)
        }
        "memory" | "s3" => {
            let host = url.host_str().unwrap_or_default();
            let root = Url::parse(&format!("{}://{}/", url.scheme(), host))
                .map_err(|e| StorageError::BadLocation(url.to_string(), e.to_string()))?;
            let decoded = percent_decode(url.path().trim_start_matches('/'));
            let path = Path::parse(&decoded).map_err(|e| StorageError::BadLocation(url.to_string(), e.to_string()))?;
            (root, path)
        }
        other => {
            return Err(StorageError::Unsupported(
                url.to_string(),
                format!("unsupported scheme `{other}` (use a path, file://, s3:// or memory://)"),
            ));
        }
    };
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    if let Some((_, s)) = cache.lock().expect("store cache").iter().find(|(u, _)| *u == root) {
        return Ok(Located { store: s.clone(), root, path });
    }
    let store: Arc<dyn ObjectStore> = match root.scheme() {
        "file" => Arc::new(LocalFileSystem::new().with_automatic_cleanup(true)),
        "memory" => memory_store(),
        "s3" => s3_store(&root)?,
        _ => unreachable!("scheme checked above"),
    };
    cache.lock().expect("store cache").push((root.clone(), store.clone()));
    Ok(Located { store, root, path })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(feature = "s3")]
fn s3_store(root: &Url) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let bucket = root.host_str().unwrap_or_default();
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| StorageError::Store(root.to_string(), e))?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "s3"))]
fn s3_store(root: &Url) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Err(StorageError::Unsupported(
        root.to_string(),
        "this build has no S3 support (rebuild with `--features s3`)".into(),
    ))
}

/// The display form of a location inside a store: a local path for `file://`, the URL otherwise.
pub fn display(root: &Url, path: &Path) -> String {
    if root.scheme() == "file" { format!("/{path}") } else { format!("{root}{path}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_resolve_against_the_base() {
        let u = to_url("fixtures/a.csv", FsPath::new("/proj")).unwrap();
        assert_eq!(u.as_str(), "file:///proj/fixtures/a.csv");
        let u = to_url("../x/./b.csv", FsPath::new("/proj/sub")).unwrap();
        assert_eq!(u.as_str(), "file:///proj/x/b.csv");
        let l = locate(&to_url("/tmp/数据/a.csv", FsPath::new("/")).unwrap()).unwrap();
        assert_eq!(l.path.as_ref(), "tmp/数据/a.csv");
        assert_eq!(display(&l.root, &l.path), "/tmp/数据/a.csv");
    }

    #[test]
    fn urls_split_into_root_and_path() {
        let l = locate(&Url::parse("memory://lake/a/b").unwrap()).unwrap();
        assert_eq!(l.root.as_str(), "memory://lake/");
        assert_eq!(l.path.as_ref(), "a/b");
        assert!(locate(&Url::parse("ftp://x/y").unwrap()).is_err());
    }
}
