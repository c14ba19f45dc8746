//! STAGE 2 · the lake: immutable, versioned Parquet snapshots on an object store.
//!
//! [`Lake::ingest`] lands one connector: it reads every source once to fingerprint it (an
//! unchanged source creates no snapshot), decodes the splits in parallel (already while that
//! read goes on, when a new snapshot is certain), writes Parquet parts,
//! the quarantine and flag files and the manifest into a new snapshot directory, and only then
//! replaces the dataset's `_current.json`. A crash at any point before that last write leaves
//! the previous snapshot current; the half-written directory is never read (it has no manifest
//! or is not pointed to) and `searchlight lake` shows it as incomplete.
//!
//! The lake knows nothing of formats: it receives [`Landing`]s and stores Parquet. Readers get
//! the current snapshot's part files through [`Lake::current`] and [`Lake::part_urls`].

pub mod manifest;
pub mod parts;

use std::collections::{BTreeMap, HashSet};
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use datafusion::arrow::record_batch::RecordBatch;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use url::Url;

use crate::connector::{self, Connector, Landing, RowIssue};
use crate::storage;
pub use manifest::Manifest;
/// Folder of model runs inside the lake (not a dataset: it has no current pointer).
pub const RUNS: &str = "_runs";

use manifest::{CLAIM, CURRENT, ColumnEntry, FLAGS, MANIFEST, PartEntry, Pointer, QUARANTINE, SourceEntry};

/// Errors of the lake stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connector could not read or decode its sources.
    #[error(transparent)]
    Connector(#[from] connector::Error),
    /// The lake's store failed.
    #[error("lake {url}: {source}")]
    Store { url: String, source: object_store::Error },
    /// The lake location is invalid.
    #[error(transparent)]
    Location(#[from] storage::StorageError),
    /// Encoding Parquet failed.
    #[error("writing {dataset}: {message}")]
    Write { dataset: String, message: String },
    /// A manifest or pointer is unreadable (a damaged lake).
    #[error("lake {path}: {message}")]
    Corrupt { path: String, message: String },
}

/// Result alias of this stage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Options of one ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Approximate bytes per split of text exports.
    pub chunk_bytes: u64,
    /// Splits decoded at once (default: available cores).
    pub workers: usize,
    /// The date the export describes.
    pub as_of: chrono::NaiveDate,
    /// Land even when the fingerprint equals the current snapshot's.
    pub force: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            chunk_bytes: 32 << 20,
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            as_of: chrono::Local::now().date_naive(),
            force: false,
        }
    }
}

/// What an ingest did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A new snapshot became current.
    Landed(Manifest),
    /// The sources and connector are unchanged: the current snapshot stays.
    Unchanged(Manifest),
}

impl Outcome {
    /// The manifest of the snapshot that is current afterwards.
    pub fn manifest(&self) -> &Manifest {
        match self {
            Outcome::Landed(m) | Outcome::Unchanged(m) => m,
        }
    }
}

/// Progress callbacks of an ingest (the CLI draws a bar; tests pass nothing).
pub trait Progress: Sync {
    /// Total bytes of both passes are known.
    fn start(&self, _total: u64) {}
    /// Bytes processed.
    fn advance(&self, _bytes: u64) {}
}

/// Progress that reports nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// State of one snapshot directory, for listings.
#[derive(Debug, Clone)]
pub struct SnapshotInfo {
    /// Snapshot id.
    pub id: String,
    /// Its manifest, when complete.
    pub manifest: Option<Manifest>,
    /// Whether it is the current one.
    pub current: bool,
}

/// A lake rooted at a URL.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    root_url: Url,
    store_root: Url,
    root: Path,
}

impl Lake {
    /// Opens (or starts) a lake at `url`.
    pub fn open(url: &Url) -> Result<Lake> {
        let located = storage::locate(url)?;
        Ok(Lake { store: located.store, root_url: url.clone(), store_root: located.root, root: located.path })
    }

    /// The lake's URL.
    pub fn url(&self) -> &Url {
        &self.root_url
    }

    /// The object store holding the lake and the URL of its root, for engines to register.
    pub fn store(&self) -> (Url, Arc<dyn ObjectStore>) {
        (self.store_root.clone(), self.store.clone())
    }

    fn path(&self, parts: &[&str]) -> Path {
        let mut p = self.root.clone();
        for part in parts {
            p = p.join(*part);
        }
        p
    }

    fn store_err(&self, e: object_store::Error) -> Error {
        Error::Store { url: self.root_url.to_string(), source: e }
    }

    async fn read_json<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        match self.store.get(path).await {
            Ok(r) => {
                let bytes = r.bytes().await.map_err(|e| self.store_err(e))?;
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| Error::Corrupt { path: path.to_string(), message: e.to_string() })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.store_err(e)),
        }
    }

    async fn put(&self, path: &Path, bytes: Vec<u8>, mode: PutMode) -> Result<(), object_store::Error> {
        self.store.put_opts(path, PutPayload::from(Bytes::from(bytes)), PutOptions::from(mode)).await.map(|_| ())
    }

    /// Stores one file of a model run under `_runs/<run>/<file>`. Runs are kept for good: an
    /// existing file is never replaced.
    pub async fn put_run_file(&self, run: &str, file: &str, bytes: Vec<u8>) -> Result<Url> {
        let path = self.path(&[RUNS, run, file]);
        self.put(&path, bytes, PutMode::Create).await.map_err(|e| self.store_err(e))?;
        Ok(self.store_root.join(path.as_ref()).expect("object paths are valid URL paths"))
    }

    /// One file of a model run (`_runs/<run>/<file>`), if it exists.
    pub async fn run_file(&self, run: &str, file: &str) -> Result<Option<Bytes>> {
        match self.store.get(&self.path(&[RUNS, run, file])).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| self.store_err(e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.store_err(e)),
        }
    }

    /// The manifest of one snapshot of a dataset, current or not.
    pub async fn manifest(&self, dataset: &str, snapshot: &str) -> Result<Option<Manifest>> {
        self.read_json::<Manifest>(&self.path(&[dataset, snapshot, MANIFEST])).await
    }

    /// Dataset names with a current snapshot, sorted.
    pub async fn datasets(&self) -> Result<Vec<String>> {
        let listing = self.store.list_with_delimiter(Some(&self.root)).await;
        let listing = match listing {
            Ok(l) => l,
            Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(self.store_err(e)),
        };
        let mut names = Vec::new();
        for p in listing.common_prefixes {
            if let Some(name) = p.filename() {
                if self.store.head(&self.path(&[name, CURRENT])).await.is_ok() {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// The manifest of a dataset's current snapshot.
    pub async fn current(&self, dataset: &str) -> Result<Option<Manifest>> {
        let Some(ptr) = self.read_json::<Pointer>(&self.path(&[dataset, CURRENT])).await? else {
            return Ok(None);
        };
        let m = self.read_json::<Manifest>(&self.path(&[dataset, &ptr.snapshot, MANIFEST])).await?;
        m.map(Some).ok_or_else(|| Error::Corrupt {
            path: format!("{dataset}/{}", ptr.snapshot),
            message: "current pointer names a snapshot without a manifest".into(),
        })
    }

    /// Every snapshot directory of a dataset, oldest first.
    pub async fn snapshots(&self, dataset: &str) -> Result<Vec<SnapshotInfo>> {
        let current = self.read_json::<Pointer>(&self.path(&[dataset, CURRENT])).await?.map(|p| p.snapshot);
        let listing =
            self.store.list_with_delimiter(Some(&self.path(&[dataset]))).await.map_err(|e| self.store_err(e))?;
        let mut ids: Vec<String> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .filter(|n| n.starts_with('v'))
            .collect();
        ids.sort();
        let mut out = Vec::new();
        for id in ids {
            let manifest = self.read_json::<Manifest>(&self.path(&[dataset, &id, MANIFEST])).await?;
            out.push(SnapshotInfo { current: current.as_deref() == Some(id.as_str()), id, manifest });
        }
        Ok(out)
    }

    /// URLs of a snapshot's Parquet parts.
    pub fn part_urls(&self, m: &Manifest) -> Vec<Url> {
        m.parts.iter().map(|p| self.file_url(&m.dataset, &m.snapshot, &p.file)).collect()
    }

    /// URL of a file inside a snapshot directory (parts, quarantine, flags).
    pub fn file_url(&self, dataset: &str, snapshot: &str, file: &str) -> Url {
        let path = self.path(&[dataset, snapshot, file]);
        self.store_root.join(path.as_ref()).expect("object paths are valid URL paths")
    }

    /// Claims the next snapshot id by creating its claim marker (exclusive where the store
    /// supports it, so two ingests never write into one directory).
    async fn claim(&self, dataset: &str) -> Result<String> {
        let existing = match self.store.list_with_delimiter(Some(&self.path(&[dataset]))).await {
            Ok(l) => l
                .common_prefixes
                .iter()
                .filter_map(|p| p.filename().and_then(|n| n.strip_prefix('v')).and_then(|n| n.parse::<u64>().ok()))
                .max()
                .unwrap_or(0),
            Err(object_store::Error::NotFound { .. }) => 0,
            Err(e) => return Err(self.store_err(e)),
        };
        let mut n = existing + 1;
        loop {
            let id = format!("v{n:06}");
            let marker = serde_json::to_vec(
                &serde_json::json!({"pid": std::process::id(), "at": chrono::Local::now().to_rfc3339()}),
            )
            .expect("json");
            match self.put(&self.path(&[dataset, &id, CLAIM]), marker.clone(), PutMode::Create).await {
                Ok(()) => return Ok(id),
                Err(object_store::Error::AlreadyExists { .. }) => n += 1,
                Err(object_store::Error::NotImplemented { .. }) | Err(object_store::Error::NotSupported { .. }) => {
                    self.put(&self.path(&[dataset, &id, CLAIM]), marker, PutMode::Overwrite)
                        .await
                        .map_err(|e| self.store_err(e))?;
                    return Ok(id);
                }
                Err(e) => return Err(self.store_err(e)),
            }
        }
    }

    async fn discard(&self, dataset: &str, id: &str) {
        let prefix = self.path(&[dataset, id]);
        let files: Vec<Path> =
            self.store.list(Some(&prefix)).map_ok(|m| m.location).filter_map(|r| async { r.ok() }).collect().await;
        // the manifest first, so a half-deleted directory never looks complete
        for f in files
            .iter()
            .filter(|f| f.filename() == Some(MANIFEST))
            .chain(files.iter().filter(|f| f.filename() != Some(MANIFEST)))
        {
            let _ = self.store.delete(f).await;
        }
    }

    /// Lands one connector's sources as a new snapshot (see the module docs for the protocol).
    /// `base` resolves relative source paths.
    pub async fn ingest(
        &self,
        conn: &Connector,
        base: &FsPath,
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        let started = Instant::now();
        let dataset = conn.name().to_string();
        let files = conn.list_files(base).await?;
        let total: u64 = files.iter().map(|f| f.size).sum();
        progress.start(total * 2);
        let current = self.current(&dataset).await?;
        // When a new snapshot is certain (forced, none yet, or the declaration or a file's size
        // changed), pass two decodes each split as soon as pass one finds it. Otherwise pass one
        // runs alone first: an unchanged source must cost one read, not a decode.
        let certain = opts.force || current.as_ref().is_none_or(|m| !same_sources(m, conn, &files));
        if certain {
            let id = self.claim(&dataset).await?;
            let (tx, rx) = futures::channel::mpsc::unbounded();
            let pass_one = async move {
                let on_split = |s: &connector::Split| {
                    let _ = tx.unbounded_send(s.clone());
                };
                Ok::<_, Error>(conn.plan(files, opts.chunk_bytes, &|n| progress.advance(n), &on_split).await?)
            };
            let landed = async {
                let (plan, landed) = futures::try_join!(pass_one, self.land_splits(conn, rx, &id, opts, progress))?;
                self.seal(conn, &plan, landed, &id, opts, started).await
            };
            return self.keep_or_discard(&dataset, &id, landed.await).await;
        }
        let plan = conn.plan(files, opts.chunk_bytes, &|n| progress.advance(n), &|_| {}).await?;
        if let Some(current) = current {
            if current.fingerprint == plan.fingerprint {
                progress.advance(total);
                return Ok(Outcome::Unchanged(current));
            }
        }
        let id = self.claim(&dataset).await?;
        let landed = async {
            let splits = futures::stream::iter(plan.splits.clone());
            let landed = self.land_splits(conn, splits, &id, opts, progress).await?;
            self.seal(conn, &plan, landed, &id, opts, started).await
        };
        self.keep_or_discard(&dataset, &id, landed.await).await
    }

    async fn keep_or_discard(&self, dataset: &str, id: &str, landed: Result<Manifest>) -> Result<Outcome> {
        match landed {
            Ok(m) => Ok(Outcome::Landed(m)),
            Err(e) => {
                self.discard(dataset, id).await;
                Err(e)
            }
        }
    }

    /// Pass two: decodes every split and writes its Parquet part, several at once; results come
    /// back in split order.
    async fn land_splits(
        &self,
        conn: &Connector,
        splits: impl futures::Stream<Item = connector::Split>,
        id: &str,
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<Landed> {
        let schema = conn.schema();
        let key_idx: Vec<usize> = conn.spec.key.iter().filter_map(|k| schema.index_of(k).ok()).collect();
        let shared_conn = Arc::new(conn.clone());
        splits
            .enumerate()
            .map(|(i, split)| {
                let conn = shared_conn.clone();
                let schema = schema.clone();
                let key_idx = key_idx.clone();
                async move {
                    let bytes = conn.fetch(&split).await?;
                    let len = split.len();
                    let worker_conn = conn.clone();
                    let (landings, encoded, key_hashes) = tokio::task::spawn_blocking(move || {
                        let mut landings = worker_conn.decode(&split, bytes)?;
                        let batches: Vec<RecordBatch> =
                            landings.iter().map(|l| l.batch.clone()).filter(|b| b.num_rows() > 0).collect();
                        let encoded = if batches.is_empty() {
                            None
                        } else {
                            Some(parts::encode(&schema, &batches).map_err(|e| Error::Write {
                                dataset: worker_conn.name().into(),
                                message: e.to_string(),
                            })?)
                        };
                        let key_hashes = hash_keys(&mut landings, &key_idx);
                        Ok::<_, Error>((landings, encoded, key_hashes))
                    })
                    .await
                    .map_err(|e| Error::Write {
                        dataset: conn.name().into(),
                        message: format!("worker failed: {e}"),
                    })??;
                    let part = match encoded {
                        Some(buf) => {
                            let file = format!("part-{i:05}.parquet");
                            let rows: u64 = landings.iter().map(|l| l.batch.num_rows() as u64).sum();
                            let bytes = buf.len() as u64;
                            self.put(&self.path(&[conn.name(), id, &file]), buf, PutMode::Overwrite)
                                .await
                                .map_err(|e| self.store_err(e))?;
                            crate::fault::point("lake.after_part");
                            Some(PartEntry { file, rows, bytes })
                        }
                        None => None,
                    };
                    progress.advance(len);
                    let mut rejected = Vec::new();
                    let mut flagged = Vec::new();
                    let mut rows_read = 0u64;
                    for l in landings {
                        rows_read += l.rows_read as u64;
                        rejected.extend(l.rejected);
                        flagged.extend(l.flagged);
                    }
                    Ok::<_, Error>(SplitResult { part, rejected, flagged, rows_read, key_hashes })
                }
            })
            .buffered(opts.workers.max(1))
            // results are taken in split order as they come, while later splits still decode
            .try_fold(Landed::new(conn), |mut landed, r| async move {
                landed.add(r);
                Ok(landed)
            })
            .await
    }

    /// Writes what the splits left (duplicate keys, quarantine, flags), the manifest, and last
    /// the pointer that makes the snapshot current.
    async fn seal(
        &self,
        conn: &Connector,
        plan: &connector::Plan,
        landed: Landed,
        id: &str,
        opts: &IngestOptions,
        started: Instant,
    ) -> Result<Manifest> {
        let dataset = conn.name().to_string();
        let schema = conn.schema();
        let write_err = |m: String| Error::Write { dataset: dataset.clone(), message: m };
        let Landed { mut parts, rejected, flagged, rows_read, .. } = landed;
        if parts.is_empty() {
            // an export with no data rows still lands its schema
            let buf = parts::encode(&schema, &[RecordBatch::new_empty(schema.clone())])
                .map_err(|e| write_err(e.to_string()))?;
            let file = "part-00000.parquet".to_string();
            let bytes = buf.len() as u64;
            self.put(&self.path(&[&dataset, id, &file]), buf, PutMode::Overwrite)
                .await
                .map_err(|e| self.store_err(e))?;
            parts.push(PartEntry { file, rows: 0, bytes });
        }
        let mut quarantine = BTreeMap::new();
        for r in &rejected {
            *quarantine.entry(r.code.clone()).or_insert(0u64) += 1;
        }
        let mut flags = BTreeMap::new();
        for f in &flagged {
            *flags.entry(f.code.clone()).or_insert(0u64) += 1;
        }
        let rows_quarantined =
            rejected.iter().map(|r| (&r.file, &r.sheet, r.line)).collect::<HashSet<_>>().len() as u64;
        for (file, issues) in [(QUARANTINE, &rejected), (FLAGS, &flagged)] {
            if !issues.is_empty() {
                let buf = parts::encode(&parts::issue_schema(), &[parts::issue_batch(issues)])
                    .map_err(|e| write_err(e.to_string()))?;
                self.put(&self.path(&[&dataset, id, file]), buf, PutMode::Overwrite)
                    .await
                    .map_err(|e| self.store_err(e))?;
            }
        }
        let manifest = Manifest {
            dataset: dataset.clone(),
            snapshot: id.to_string(),
            title: conn.spec.title.clone(),
            domain: conn.spec.domain.clone(),
            created_at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            as_of: opts.as_of.to_string(),
            connector: conn.path.display().to_string(),
            spec_hash: conn.spec_hash.clone(),
            fingerprint: plan.fingerprint.clone(),
            sources: plan
                .files
                .iter()
                .zip(&plan.hashes)
                .map(|(f, hash)| SourceEntry {
                    location: f.file.display.clone(),
                    bytes: f.file.size,
                    blake3: hash.clone(),
                    encoding: f.encoding.map(|e| e.label().to_string()),
                })
                .collect(),
            rows_read,
            rows: parts.iter().map(|p| p.rows).sum(),
            rows_quarantined,
            quarantine,
            flags,
            parts,
            schema: schema
                .fields()
                .iter()
                .map(|f| ColumnEntry {
                    name: f.name().clone(),
                    data_type: f.data_type().to_string(),
                    label: f.metadata().get("label").cloned(),
                    nullable: f.is_nullable(),
                })
                .collect(),
            key: conn.spec.key.clone(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            writer: format!("searchlight {}", env!("CARGO_PKG_VERSION")),
        };
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        self.put(&self.path(&[&dataset, id, MANIFEST]), json, PutMode::Overwrite)
            .await
            .map_err(|e| self.store_err(e))?;
        crate::fault::point("lake.before_pointer");
        let ptr = serde_json::to_vec(&Pointer { snapshot: id.to_string() }).expect("pointer serialises");
        self.put(&self.path(&[&dataset, CURRENT]), ptr, PutMode::Overwrite).await.map_err(|e| self.store_err(e))?;
        Ok(manifest)
    }
}

/// Whether the current snapshot was landed by this declaration from files of these names and
/// sizes. If not, the fingerprint will differ too, and that is known before reading a byte.
fn same_sources(m: &Manifest, conn: &Connector, files: &[connector::SourceFile]) -> bool {
    m.spec_hash == conn.spec_hash
        && m.sources.len() == files.len()
        && m.sources.iter().zip(files).all(|(s, f)| s.location == f.display && s.bytes == f.size)
}

/// A hasher for values that are hashes already.
#[derive(Default)]
struct KeyHash(u64);

impl std::hash::Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ *b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// What the splits of one snapshot left, taken in split order: parts, issues, and the keys seen
/// so far (a key seen before is a duplicate, flagged at its later line).
struct Landed {
    parts: Vec<PartEntry>,
    rejected: Vec<RowIssue>,
    flagged: Vec<RowIssue>,
    rows_read: u64,
    key: Vec<String>,
    // the values are already hashes: hashing them again would only cost time
    seen: HashSet<u64, std::hash::BuildHasherDefault<KeyHash>>,
}

impl Landed {
    fn new(conn: &Connector) -> Self {
        Landed {
            parts: Vec::new(),
            rejected: Vec::new(),
            flagged: Vec::new(),
            rows_read: 0,
            key: conn.spec.key.clone(),
            seen: HashSet::default(),
        }
    }

    fn add(&mut self, r: SplitResult) {
        self.parts.extend(r.part);
        self.rejected.extend(r.rejected);
        self.flagged.extend(r.flagged);
        self.rows_read += r.rows_read;
        for k in r.key_hashes {
            self.seen.reserve(k.hashes.len());
            for (&h, &line) in k.hashes.iter().zip(&k.lines) {
                if self.seen.insert(h) {
                    continue;
                }
                self.flagged.push(RowIssue {
                    file: k.file.clone(),
                    sheet: None,
                    line,
                    column: self.key.join("+"),
                    raw: String::new(),
                    code: "duplicate_key".into(),
                    reason: format!("主键({})与前面的行重复", self.key.join(", ")),
                    record: None,
                });
            }
        }
    }
}

struct SplitResult {
    part: Option<PartEntry>,
    rejected: Vec<RowIssue>,
    flagged: Vec<RowIssue>,
    rows_read: u64,
    key_hashes: Vec<KeyHashes>,
}

/// Hashes of the key columns of one landing's rows, with their source lines.
struct KeyHashes {
    file: String,
    hashes: Vec<u64>,
    lines: Vec<u64>,
}

fn hash_keys(landings: &mut [Landing], key_idx: &[usize]) -> Vec<KeyHashes> {
    use datafusion::common::hash_utils::{RandomState, create_hashes};
    if key_idx.is_empty() {
        return Vec::new();
    }
    let state = RandomState::with_seed(0x5EA2C411);
    let mut out = Vec::new();
    for l in landings.iter_mut() {
        let n = l.batch.num_rows();
        if n == 0 {
            continue;
        }
        let cols: Vec<_> = key_idx.iter().map(|&i| l.batch.column(i).clone()).collect();
        let mut hashes = vec![0u64; n];
        if create_hashes(&cols, &state, &mut hashes).is_err() {
            continue;
        }
        out.push(KeyHashes { file: l.file.clone(), hashes, lines: std::mem::take(&mut l.lines) });
    }
    out
}
