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

pub mod gc;
pub mod manifest;
pub mod parts;

use std::collections::{BTreeMap, HashMap, HashSet};

use datafusion::arrow::array::BooleanArray;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use datafusion::arrow::record_batch::RecordBatch;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use url::Url;

use crate::connector::{self, Connector, Landing, RowIssue};
use crate::storage;
pub use manifest::Manifest;
/// Fails a snapshot whose quarantined share of data rows (totals rows are not data) exceeds
/// the connector's `max_quarantine`.
fn too_much_quarantined(conn: &Connector, m: &Manifest) -> Result<()> {
    let limit = conn.spec.max_quarantine.unwrap_or(connector::spec::DEFAULT_MAX_QUARANTINE);
    let totals: u64 = connector::convert::NOT_DATA.iter().map(|c| m.quarantine.get(*c).copied().unwrap_or(0)).sum();
    let quarantined = m.rows_quarantined.saturating_sub(totals);
    let read = m.rows_read.saturating_sub(totals);
    if read == 0 || quarantined as f64 <= limit * read as f64 {
        return Ok(());
    }
    let mut reasons: Vec<(&String, &u64)> =
        m.quarantine.iter().filter(|(c, _)| !connector::convert::NOT_DATA.contains(&c.as_str())).collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    Err(Error::Quarantined {
        dataset: m.dataset.clone(),
        connector: conn.path.display().to_string(),
        quarantined,
        read,
        share: 100.0 * quarantined as f64 / read as f64,
        limit: 100.0 * limit,
        reasons: reasons.iter().take(3).map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", "),
    })
}

/// Beside a local dataset's pointer: held while the pointer is compared and replaced.
const POINTER_LOCK: &str = "_pointer.lock";

/// An exclusive lock on a local file, released when dropped.
struct PointerLock(std::fs::File);

impl PointerLock {
    fn take(file: &std::path::Path) -> std::io::Result<PointerLock> {
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(file)?;
        f.lock()?;
        Ok(PointerLock(f))
    }
}

impl Drop for PointerLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// fsync of a file and of its directory (so its name survives as well as its bytes).
fn sync_file_and_dir(file: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_all()?;
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The lake's identity file at its root.
const IDENTITY: &str = "_lake.json";

#[derive(serde::Serialize, serde::Deserialize)]
struct Identity {
    id: String,
    created_at: String,
}

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
    /// A concurrent ingest made a later snapshot current first.
    #[error(
        "{dataset}: a concurrent ingest made snapshot {current} current first; {snapshot} is not made current and is discarded (the pointer never moves backwards)"
    )]
    Superseded { dataset: String, snapshot: String, current: String },
    /// More of an export's rows were quarantined than its connector allows.
    #[error(
        "{dataset}: {quarantined} of {read} rows ({share:.1}%) were quarantined, more than max_quarantine allows ({limit:.1}%); top reasons: {reasons}. 隔离行过多，本次未入湖，原有快照(如有)仍为当前 (fix the connector, or raise max_quarantine in {connector} to accept)"
    )]
    Quarantined {
        dataset: String,
        connector: String,
        quarantined: u64,
        read: u64,
        share: f64,
        limit: f64,
        reasons: String,
    },
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

    /// A throwaway lake in memory, its own for this process (dry runs).
    pub fn scratch() -> Result<Lake> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let url = Url::parse(&format!("memory://scratch-{}-{n}/", std::process::id())).expect("a valid URL");
        Lake::open(&url)
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

    /// Writes one object. On a local lake the file and its directory are fsynced before this
    /// returns, so what a later pointer names is on disk beyond a power cut, not only beyond
    /// `kill -9` (object stores are durable when a put returns).
    async fn put(&self, path: &Path, bytes: Vec<u8>, mode: PutMode) -> Result<(), object_store::Error> {
        self.store.put_opts(path, PutPayload::from(Bytes::from(bytes)), PutOptions::from(mode)).await?;
        if let Some(file) = self.local_file(path) {
            sync_file_and_dir(&file)
                .map_err(|e| object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(e) })?;
        }
        Ok(())
    }

    /// The file behind an object of a local lake.
    fn local_file(&self, path: &Path) -> Option<std::path::PathBuf> {
        (self.store_root.scheme() == "file").then(|| std::path::PathBuf::from(format!("/{}", path.as_ref())))
    }

    /// The lake's identity (`_lake.json`): made when the lake first receives data and kept
    /// with it wherever it is copied, so a ledger can tell its lake from another at the same or
    /// another address. `None` for a location that holds no lake.
    pub async fn identity(&self) -> Result<Option<String>> {
        Ok(self.read_json::<Identity>(&self.path(&[IDENTITY])).await?.map(|i| i.id))
    }

    /// The lake's identity, made now if it has none (the first writer wins; a concurrent one
    /// reads the winner's).
    pub async fn claim_identity(&self) -> Result<String> {
        if let Some(id) = self.identity().await? {
            return Ok(id);
        }
        let now = chrono::Local::now();
        let seed =
            format!("{}|{:?}|{}|{}", self.root_url, now, std::process::id(), now.timestamp_nanos_opt().unwrap_or(0));
        let id = format!("L{}", &blake3::hash(seed.as_bytes()).to_hex()[..16]);
        let body = serde_json::to_vec_pretty(&Identity {
            id: id.clone(),
            created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        })
        .expect("identity serialises");
        match self.put(&self.path(&[IDENTITY]), body, PutMode::Create).await {
            Ok(()) => Ok(id),
            Err(object_store::Error::AlreadyExists { .. }) => self
                .identity()
                .await?
                .ok_or_else(|| Error::Corrupt { path: IDENTITY.into(), message: "vanished".into() }),
            // stores without conditional writes: the read above is the guard
            Err(object_store::Error::NotImplemented { .. }) | Err(object_store::Error::NotSupported { .. }) => {
                let body = serde_json::to_vec_pretty(&Identity {
                    id: id.clone(),
                    created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                })
                .expect("identity serialises");
                self.put(&self.path(&[IDENTITY]), body, PutMode::Overwrite).await.map_err(|e| self.store_err(e))?;
                Ok(id)
            }
            Err(e) => Err(self.store_err(e)),
        }
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

    /// A Parquet reader of a file a run wrote that fetches only the byte ranges asked of it
    /// (the footer and page index, then the pages of the rows wanted), or `None` if the file
    /// is not there: a paper shows a few rows of an evidence file that can hold a million.
    pub async fn run_file_reader(&self, run: &str, file: &str) -> Result<Option<RangeReader>> {
        let path = self.path(&[RUNS, run, file]);
        match self.store.head(&path).await {
            Ok(meta) => Ok(Some(RangeReader { store: self.store.clone(), path, size: meta.size })),
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
        m.parts.iter().map(|p| self.file_url(&m.dataset, m.part_home(p), &p.file)).collect()
    }

    /// URLs of a snapshot's issue file (quarantine or flags) and those of the snapshots it
    /// appends to, earliest first: the ones that exist.
    pub async fn issue_urls(&self, m: &Manifest, file: &str) -> Result<Vec<Url>> {
        let mut chain = vec![m.snapshot.clone()];
        let mut next = m.appends.clone();
        while let Some(s) = next.take() {
            next = self.manifest(&m.dataset, &s).await?.and_then(|e| e.appends);
            chain.push(s);
        }
        let mut out = Vec::new();
        for s in chain.iter().rev() {
            match self.store.head(&self.path(&[&m.dataset, s, file])).await {
                Ok(_) => out.push(self.file_url(&m.dataset, s, file)),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.store_err(e)),
            }
        }
        Ok(out)
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

    /// Lands one connector's source — export files, a database, an HTTP API, all one
    /// [`connector::source::Source`]: a new snapshot of every dataset it declares (see the
    /// module docs for the protocol), or none when the source and the declaration are
    /// unchanged. `base` resolves relative source paths. Outcomes come in block order.
    ///
    /// - **Unchanged** is known before reading a row when the survey fingerprints the source
    ///   (files: their bytes); otherwise the rows read decide (their order-free digest), and an
    ///   equal read is discarded.
    /// - **Pipelined**: when a new snapshot is certain before the survey (files whose sizes
    ///   changed, none landed yet, `--force`), splits are read and converted as soon as the
    ///   survey finds them.
    /// - **Incremental**: files declared `append` whose earlier files are unchanged to the byte
    ///   land only the new files; a live source with a watermark reads only rows past the one
    ///   the current snapshots reached. Either way the new snapshot appends to the current one.
    /// - Any failure — a bad file, the connection lost mid-read — discards what was written
    ///   (after every part in flight is stored); the current snapshot stays current.
    pub async fn ingest(
        &self,
        conn: &Connector,
        base: &FsPath,
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<Vec<Outcome>> {
        let source = conn.source(base, opts.chunk_bytes).await?;
        self.ingest_from(conn, source.as_ref(), base, opts, progress).await
    }

    /// [`Lake::ingest`] from a source given: any [`connector::source::Source`], its rows
    /// converted by `conn`.
    pub async fn ingest_from(
        &self,
        conn: &Connector,
        source: &dyn connector::source::Source,
        base: &FsPath,
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<Vec<Outcome>> {
        let started = Instant::now();
        self.claim_identity().await?;
        let mut currents = Vec::new();
        for b in &conn.blocks {
            currents.push(self.current(&b.name).await?);
        }
        let since = self.reached_watermark(conn, &currents, opts);
        let listing = source.listing();
        let total: u64 = listing.map_or(0, |files| files.iter().map(|f| f.size).sum());
        // An export that only grows (`append = true`) and whose current snapshots' files are
        // still the first files, at their sizes: the survey reads everything (an earlier file
        // must be unchanged to the byte), only the new files are converted.
        let appending = conn.spec.append
            && !opts.force
            && listing.is_some_and(|files| {
                currents.iter().all(|c| c.as_ref().is_some_and(|m| extended_by(m, conn, files, base)))
            });
        // A new snapshot certain before the survey: convert each split as soon as it is found.
        // Otherwise the survey runs alone first: an unchanged source must cost one read, not a
        // conversion.
        let certain = !appending
            && listing.is_some_and(|files| {
                opts.force || currents.iter().any(|c| c.as_ref().is_none_or(|m| !same_sources(m, conn, files, base)))
            });
        if listing.is_some() {
            // files: the survey's bytes, then the conversion's
            progress.start(total * 2);
        }
        let inflight = Arc::new(());
        let (ids, landed) = if certain {
            let ids = self.claim_all(conn).await?;
            let (tx, rx) = futures::channel::mpsc::unbounded();
            let watch = Announce { tx, announced: Default::default(), progress };
            let from = since.clone();
            let surveying = async move {
                let survey = source.survey(from.as_deref(), &watch).await?;
                let announced = watch.announced.load(std::sync::atomic::Ordering::Relaxed);
                for split in survey.splits.iter().skip(announced) {
                    let _ = watch.tx.unbounded_send(split.clone());
                }
                Ok::<_, Error>(survey)
            };
            let reading = self.land_reads(conn, source, rx, None, &ids, &inflight, opts, progress);
            let landed = futures::try_join!(surveying, reading).map(|(survey, read)| (survey, read, None));
            (ids, landed)
        } else {
            let survey = source.survey(since.as_deref(), &Advance(progress)).await?;
            if listing.is_none() {
                progress.start(survey.rows.unwrap_or(0));
            }
            let unchanged = |fp: &str| currents.iter().all(|c| c.as_ref().is_some_and(|m| m.fingerprint == fp));
            if survey.fingerprint.as_deref().is_some_and(unchanged) || (since.is_some() && survey.rows == Some(0)) {
                progress.advance(total);
                return Ok(currents.into_iter().map(|c| Outcome::Unchanged(c.expect("checked"))).collect());
            }
            // appended to: every earlier file unchanged to the byte
            let appended: Option<Vec<Manifest>> =
                appending.then(|| currents.iter().flatten().cloned().collect::<Vec<_>>()).filter(|ms| {
                    ms.iter().all(|m| {
                        m.sources.len() < survey.files.len()
                            && m.sources
                                .iter()
                                .zip(&survey.files)
                                .all(|(s, (f, h))| &s.blake3 == h && same_location(s, &f.file.display, base))
                    })
                });
            let splits: Vec<connector::source::Split> = match &appended {
                Some(ms) => {
                    // the earlier files are the first ones (checked by `extended_by`)
                    let old: HashSet<&str> =
                        survey.files[..ms[0].sources.len()].iter().map(|(f, _)| f.file.display.as_str()).collect();
                    let (kept, skipped): (Vec<_>, Vec<_>) = survey
                        .splits
                        .iter()
                        .cloned()
                        .partition(|s| s.file().is_none_or(|f| !old.contains(f.display.as_str())));
                    progress.advance(
                        skipped
                            .iter()
                            .map(|s| if let connector::source::Split::File(f) = s { f.len() } else { 0 })
                            .sum(),
                    );
                    kept
                }
                None => survey.splits.clone(),
            };
            let columns = match &survey.header {
                Some(h) => Some(Arc::new(connector::source::ResultColumns::of(conn, h, &source.describe())?)),
                None => None,
            };
            let ids = self.claim_all(conn).await?;
            let splits = futures::stream::iter(splits);
            let landed = self.land_reads(conn, source, splits, columns, &ids, &inflight, opts, progress).await;
            (ids, landed.map(|read| (survey, read, appended)))
        };
        let sealed = match landed {
            Ok((survey, read, appended)) => {
                let earlier = appended.as_deref();
                let sealing =
                    Sealing { survey: &survey, since: since.as_deref(), appended: earlier, currents: &currents };
                self.seal_read(conn, source, base, sealing, read, &ids, opts, started).await
            }
            Err(e) => Err(e),
        };
        self.settle(conn, &ids, currents, sealed, &inflight).await
    }

    /// The watermark every dataset's current snapshot reached, when the connector loads
    /// incrementally, this declaration landed them all and they stopped at the same place.
    fn reached_watermark(
        &self,
        conn: &Connector,
        currents: &[Option<Manifest>],
        opts: &IngestOptions,
    ) -> Option<String> {
        conn.watermark()?;
        if opts.force {
            return None;
        }
        let reached: Vec<Option<&str>> = currents
            .iter()
            .map(|c| {
                c.as_ref()
                    .filter(|m| m.spec_hash == conn.spec_hash)
                    .and_then(|m| m.load.as_ref())
                    .and_then(|l| l.watermark.as_deref())
            })
            .collect();
        match reached.first() {
            Some(Some(w)) if reached.iter().all(|r| r == &Some(*w)) => Some(w.to_string()),
            _ => None,
        }
    }

    /// Seals what a read landed: the fingerprint the survey knew, or else the rows' own (an
    /// equal one on a full read is no new snapshot: `None`).
    #[allow(clippy::too_many_arguments)]
    async fn seal_read(
        &self,
        conn: &Connector,
        source: &dyn connector::source::Source,
        base: &FsPath,
        sealing: Sealing<'_>,
        read: Read,
        ids: &[String],
        opts: &IngestOptions,
        started: Instant,
    ) -> Result<Option<Vec<Manifest>>> {
        let Sealing { survey, since, appended, currents } = sealing;
        if let Some(fingerprint) = &survey.fingerprint {
            let sources = survey
                .files
                .iter()
                .map(|(f, hash)| SourceEntry {
                    location: source_location(&f.file.display, base),
                    bytes: f.file.size,
                    blake3: hash.clone(),
                    encoding: f.encoding.map(|e| e.label().to_string()),
                })
                .collect();
            let ms = self.seal_all(conn, fingerprint, sources, None, read.landed, ids, appended, opts, started).await?;
            return Ok(Some(ms));
        }
        // a live source: what makes the snapshot new is its rows
        let since = since.map(str::to_string);
        let mut fp = blake3::Hasher::new();
        fp.update(b"searchlight-live-v1\0");
        fp.update(conn.spec_hash.as_bytes());
        if since.is_some() {
            fp.update(currents[0].as_ref().map(|m| m.fingerprint.as_str()).unwrap_or_default().as_bytes());
        }
        fp.update(&read.digest.to_le_bytes());
        fp.update(&read.rows.to_le_bytes());
        let fingerprint = fp.finalize().to_hex()[..32].to_string();
        if since.is_none()
            && !opts.force
            && currents.iter().all(|c| c.as_ref().is_some_and(|m| m.fingerprint == fingerprint))
        {
            return Ok(None);
        }
        let load = manifest::Load {
            mode: if since.is_some() { manifest::LoadMode::Incremental } else { manifest::LoadMode::Full },
            rows: read.rows,
            watermark_column: conn.watermark().map(str::to_string),
            since: since.clone(),
            // an empty read keeps the watermark where it was
            watermark: survey.watermark.as_ref().and_then(|(_, w)| w.clone()).or_else(|| since.clone()),
        };
        let shown = source.describe();
        let sources = vec![SourceEntry {
            location: shown,
            bytes: read.bytes,
            blake3: format!("{:032x}", read.digest),
            encoding: None,
        }];
        let earlier: Option<Vec<Manifest>> = since.as_ref().map(|_| currents.iter().flatten().cloned().collect());
        let ms = self
            .seal_all(conn, &fingerprint, sources, Some(load), read.landed, ids, earlier.as_deref(), opts, started)
            .await?;
        Ok(Some(ms))
    }

    /// The end of an ingest: the snapshots sealed, or — for a read equal to the current one, or a
    /// failure — every claimed snapshot discarded once no part is still being stored into it.
    async fn settle(
        &self,
        conn: &Connector,
        ids: &[String],
        currents: Vec<Option<Manifest>>,
        landed: Result<Option<Vec<Manifest>>>,
        inflight: &Arc<()>,
    ) -> Result<Vec<Outcome>> {
        match landed {
            Ok(Some(ms)) => Ok(ms.into_iter().map(Outcome::Landed).collect()),
            Ok(None) => {
                for (b, id) in conn.blocks.iter().zip(ids) {
                    self.discard(&b.name, id).await;
                }
                Ok(currents.into_iter().map(|c| Outcome::Unchanged(c.expect("checked"))).collect())
            }
            Err(e) => {
                while Arc::strong_count(inflight) > 1 {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                self.keep_or_discard(conn, ids, Err(e)).await
            }
        }
    }

    /// Reads each split as it comes and converts and stores what it reads, a few reads' rows at
    /// once on blocking threads; results are taken in read order. Each piece of raw rows a
    /// read's rows hold is converted by the connector as soon as it is read, and a Parquet part
    /// is stored whenever [`crate::limits::piece_rows`] rows are converted, so memory holds a few
    /// pieces' rows whatever the source. `inflight` holds one token per read being converted.
    #[allow(clippy::too_many_arguments)]
    async fn land_reads(
        &self,
        conn: &Connector,
        source: &dyn connector::source::Source,
        splits: impl futures::Stream<Item = connector::source::Split>,
        columns: Option<Arc<connector::source::ResultColumns>>,
        ids: &[String],
        inflight: &Arc<()>,
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<Read> {
        use connector::source::Rows;
        let (tx, rx) = tokio::sync::mpsc::channel::<Rows>(1);
        let reading = async move {
            let mut rows = 0u64;
            futures::pin_mut!(splits);
            while let Some(split) = splits.next().await {
                rows += source.read(&split, tx.clone()).await?;
            }
            Ok::<_, Error>(rows)
        };
        let shared_conn = Arc::new(conn.clone());
        let initial = Read { landed: conn.blocks.iter().map(Landed::new).collect(), rows: 0, digest: 0, bytes: 0 };
        let read_rows = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
        let landing = read_rows
            .enumerate()
            .map(|(i, rows)| {
                let (conn, lake, ids, columns) = (shared_conn.clone(), self.clone(), ids.to_vec(), columns.clone());
                let handle = tokio::runtime::Handle::current();
                let dataset = shared_name(&conn);
                let token = inflight.clone();
                async move {
                    tokio::task::spawn_blocking(move || {
                        let _token = token;
                        let (units, digest, bytes) = (rows.units(), rows.digest(), rows.bytes());
                        let shown = match &rows {
                            Rows::Bytes(s, _) => s.file.file.display.clone(),
                            Rows::Text(_) => columns.as_ref().map(|c| c.shown.clone()).unwrap_or_default(),
                        };
                        let mut parts: Vec<Vec<SplitResult>> = Vec::new();
                        let (mut pending, mut pending_rows): (Vec<Landing>, usize) = (Vec::new(), 0);
                        // a failure to store a part stops the reading and is the read's error
                        let mut stored: Option<Error> = None;
                        let store = |landings: Vec<Landing>, parts: &mut Vec<Vec<SplitResult>>| {
                            let file = if parts.is_empty() {
                                format!("part-{i:05}.parquet")
                            } else {
                                format!("part-{i:05}-{}.parquet", parts.len())
                            };
                            let put = |b: &connector::Block, id: &str, rows, buf| {
                                let part = handle.block_on(lake.put_part(&b.name, id, file.clone(), rows, buf))?;
                                crate::fault::point("lake.after_part");
                                Ok(part)
                            };
                            parts.push(land_piece(&conn, landings, put, &ids)?);
                            Ok::<_, Error>(())
                        };
                        let decoded = conn.read_rows(rows, columns.as_deref(), &mut |piece| {
                            // the pieces before are stored once they hold enough rows — and only
                            // when the reader hands on more: the last ones are stored after it
                            // returns, when the text they were read from is freed
                            if pending_rows >= crate::limits::piece_rows() {
                                pending_rows = 0;
                                store(std::mem::take(&mut pending), &mut parts).map_err(|e| {
                                    let message = e.to_string();
                                    stored = Some(e);
                                    connector::Error::Source { file: shown.clone(), message }
                                })?;
                            }
                            pending_rows += piece.len();
                            pending.extend(conn.convert_piece(&piece));
                            Ok(())
                        });
                        if let Some(e) = stored {
                            return Err(e);
                        }
                        decoded?;
                        if !pending.is_empty() {
                            store(pending, &mut parts)?;
                        }
                        Ok::<_, Error>((parts, units, digest, bytes))
                    })
                    .await
                    .map_err(|e| Error::Write { dataset, message: format!("worker failed: {e}") })?
                }
            })
            .buffered(opts.workers.max(1))
            // results are taken in read order as they come, while later reads still convert
            .try_fold(initial, |mut read, (parts, units, digest, bytes)| async move {
                for results in parts {
                    for (l, r) in read.landed.iter_mut().zip(results) {
                        l.add(r);
                    }
                }
                read.digest = read.digest.wrapping_add(digest);
                read.bytes += bytes;
                progress.advance(units);
                Ok(read)
            });
        let (rows, mut read) = futures::try_join!(reading, landing)?;
        read.rows = rows;
        Ok(read)
    }

    async fn claim_all(&self, conn: &Connector) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        for b in &conn.blocks {
            match self.claim(&b.name).await {
                Ok(id) => ids.push(id),
                Err(e) => {
                    for (b, id) in conn.blocks.iter().zip(&ids) {
                        self.discard(&b.name, id).await;
                    }
                    return Err(e);
                }
            }
        }
        Ok(ids)
    }

    async fn keep_or_discard(
        &self,
        conn: &Connector,
        ids: &[String],
        landed: Result<Vec<Manifest>>,
    ) -> Result<Vec<Outcome>> {
        match landed {
            Ok(ms) => Ok(ms.into_iter().map(Outcome::Landed).collect()),
            Err(e) => {
                for (b, id) in conn.blocks.iter().zip(ids) {
                    self.discard(&b.name, id).await;
                }
                Err(e)
            }
        }
    }

    /// Seals every dataset of a connector: all manifests first, then the pointers, so that a
    /// crash before the last pointer leaves every dataset at a complete snapshot.
    #[allow(clippy::too_many_arguments)]
    async fn seal_all(
        &self,
        conn: &Connector,
        fingerprint: &str,
        sources: Vec<SourceEntry>,
        load: Option<manifest::Load>,
        landed: Vec<Landed>,
        ids: &[String],
        appended_to: Option<&[Manifest]>,
        opts: &IngestOptions,
        started: Instant,
    ) -> Result<Vec<Manifest>> {
        let mut manifests = Vec::new();
        for (i, ((b, l), id)) in conn.blocks.iter().zip(landed).zip(ids).enumerate() {
            let origin = Origin {
                connector: conn.path.display().to_string(),
                spec_hash: conn.spec_hash.clone(),
                fingerprint: fingerprint.to_string(),
                sources: sources.clone(),
                derived_from: BTreeMap::new(),
                query: None,
                load: load.clone(),
            };
            let earlier = appended_to.and_then(|ms| ms.get(i));
            manifests.push(self.write_snapshot(b, l, id, origin, earlier, opts, started).await?);
        }
        for m in &manifests {
            too_much_quarantined(conn, m)?;
        }
        crate::fault::point("lake.before_pointer");
        for m in &manifests {
            self.point(m).await?;
        }
        Ok(manifests)
    }

    /// Makes a written snapshot current — never moving the pointer backwards: if a concurrent
    /// ingest made a later snapshot current meanwhile, this one stays in the lake, not current.
    /// The compare and the write are one step: under a file lock on a local lake, a conditional
    /// put (e-tag) on stores that have one.
    async fn point(&self, m: &Manifest) -> Result<()> {
        let path = self.path(&[&m.dataset, CURRENT]);
        let ptr = serde_json::to_vec(&Pointer { snapshot: m.snapshot.clone() }).expect("pointer serialises");
        let _lock = match self.local_file(&path) {
            Some(file) => Some(PointerLock::take(&file.with_file_name(POINTER_LOCK)).map_err(|e| Error::Write {
                dataset: m.dataset.clone(),
                message: format!("locking the current pointer: {e}"),
            })?),
            None => None,
        };
        let (current, version) = match self.store.get(&path).await {
            Ok(r) => {
                let version = UpdateVersion { e_tag: r.meta.e_tag.clone(), version: r.meta.version.clone() };
                let bytes = r.bytes().await.map_err(|e| self.store_err(e))?;
                let p: Pointer = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Corrupt { path: path.to_string(), message: e.to_string() })?;
                (Some(p.snapshot), Some(version))
            }
            Err(object_store::Error::NotFound { .. }) => (None, None),
            Err(e) => return Err(self.store_err(e)),
        };
        if let Some(c) = current.as_ref().filter(|c| c.as_str() > m.snapshot.as_str()) {
            return Err(Error::Superseded {
                dataset: m.dataset.clone(),
                snapshot: m.snapshot.clone(),
                current: c.clone(),
            });
        }
        let mode = match (&_lock, version) {
            (None, Some(v)) => PutMode::Update(v),
            (None, None) => PutMode::Create,
            (Some(_), _) => PutMode::Overwrite,
        };
        match self.put(&path, ptr.clone(), mode).await {
            Ok(()) => Ok(()),
            // stores without conditional writes: the compare above is all there is
            Err(object_store::Error::NotImplemented { .. }) | Err(object_store::Error::NotSupported { .. }) => {
                self.put(&path, ptr, PutMode::Overwrite).await.map_err(|e| self.store_err(e))
            }
            Err(object_store::Error::Precondition { .. }) | Err(object_store::Error::AlreadyExists { .. }) => {
                Err(Error::Superseded {
                    dataset: m.dataset.clone(),
                    snapshot: m.snapshot.clone(),
                    current: "(changed meanwhile)".into(),
                })
            }
            Err(e) => Err(self.store_err(e)),
        }
    }

    /// Stores one encoded part file of a snapshot being written.
    async fn put_part(&self, dataset: &str, id: &str, file: String, rows: u64, buf: Vec<u8>) -> Result<PartEntry> {
        let bytes = buf.len() as u64;
        self.put(&self.path(&[dataset, id, &file]), buf, PutMode::Overwrite).await.map_err(|e| self.store_err(e))?;
        Ok(PartEntry { file, rows, bytes, snapshot: None })
    }

    /// Lands the rows of a derived dataset (already in the block's schema) as a snapshot with
    /// its lineage, unless the same query already landed from the same input snapshots.
    pub async fn land_derived(
        &self,
        conn: &Connector,
        batches: Vec<RecordBatch>,
        provided: Vec<bool>,
        inputs: BTreeMap<String, String>,
        outside: BTreeMap<String, BTreeMap<String, u64>>,
        opts: &IngestOptions,
    ) -> Result<Outcome> {
        let started = Instant::now();
        self.claim_identity().await?;
        let b = &conn.blocks[0];
        let mut fp = blake3::Hasher::new();
        fp.update(b"searchlight-derived-v1\0");
        fp.update(conn.spec_hash.as_bytes());
        for (d, snap) in &inputs {
            fp.update(format!("\0{d}={snap}").as_bytes());
        }
        let fingerprint = fp.finalize().to_hex()[..32].to_string();
        if let Some(current) = self.current(&b.name).await? {
            if current.fingerprint == fingerprint && !opts.force {
                return Ok(Outcome::Unchanged(current));
            }
        }
        let id = self.claim(&b.name).await?;
        let landed = async {
            let mut l = Landed::new(b);
            let rows: u64 = batches.iter().map(|x| x.num_rows() as u64).sum();
            let tally = Tally { rows_read: rows, provided, outside, ..Tally::default() };
            if b.collapse {
                l.add(SplitResult {
                    part: None,
                    tally,
                    key_hashes: Vec::new(),
                    held_lines: batches.iter().map(|x| (1..=x.num_rows() as u64).collect()).collect(),
                    held_files: batches.iter().map(|_| b.name.clone()).collect(),
                    held: batches,
                });
            } else {
                l.tally.add(tally);
                if rows > 0 {
                    let buf = parts::encode(&b.schema(), &batches)
                        .map_err(|e| Error::Write { dataset: b.name.clone(), message: e.to_string() })?;
                    l.parts.push(self.put_part(&b.name, &id, "part-00000.parquet".into(), rows, buf).await?);
                }
            }
            let sql = match &conn.source {
                connector::Source::Derived { sql } => Some(sql.clone()),
                connector::Source::Files { .. } | connector::Source::Database(_) | connector::Source::Http(_) => None,
            };
            let origin = Origin {
                connector: conn.path.display().to_string(),
                spec_hash: conn.spec_hash.clone(),
                fingerprint,
                sources: Vec::new(),
                derived_from: inputs,
                query: sql,
                load: None,
            };
            let m = self.write_snapshot(b, l, &id, origin, None, opts, started).await?;
            crate::fault::point("lake.before_pointer");
            self.point(&m).await?;
            Ok(m)
        };
        match landed.await {
            Ok(m) => Ok(Outcome::Landed(m)),
            Err(e) => {
                self.discard(&b.name, &id).await;
                Err(e)
            }
        }
    }

    /// Writes what the splits left (collapsed datasets, quarantine, flags) and the manifest of
    /// one dataset's snapshot; the pointer is the caller's. A snapshot that `appends` to an
    /// earlier one shares its parts and counts its rows and issues with its own.
    #[allow(clippy::too_many_arguments)]
    async fn write_snapshot(
        &self,
        b: &connector::Block,
        landed: Landed,
        id: &str,
        origin: Origin,
        appends: Option<&Manifest>,
        opts: &IngestOptions,
        started: Instant,
    ) -> Result<Manifest> {
        let dataset = b.name.clone();
        let schema = b.schema();
        let write_err = |m: String| Error::Write { dataset: dataset.clone(), message: m };
        let Landed {
            mut parts,
            tally:
                Tally {
                    rejected,
                    flagged,
                    rows_read,
                    rows_rejected,
                    filtered,
                    outside,
                    provided,
                    unpivot_rows,
                    unpivot_cells,
                },
            held,
            collapsed,
            ..
        } = landed;
        if let Some(e) = appends {
            let shared = e.parts.iter().map(|p| PartEntry { snapshot: Some(e.part_home(p).to_string()), ..p.clone() });
            parts = shared.chain(parts).collect();
        }
        if !held.is_empty() || parts.is_empty() {
            // what was held back (collapsed datasets); an export with no data rows still lands its schema
            let held = if held.is_empty() { vec![RecordBatch::new_empty(schema.clone())] } else { held };
            let rows: u64 = held.iter().map(|x| x.num_rows() as u64).sum();
            let buf = parts::encode(&schema, &held).map_err(|e| write_err(e.to_string()))?;
            parts.push(self.put_part(&dataset, id, "part-00000.parquet".into(), rows, buf).await?);
        }
        let mut flagged = connector::convert::resolve_truncation(flagged);
        flagged.sort_by(|a, b| (&a.file, &a.sheet, a.line).cmp(&(&b.file, &b.sheet, b.line)));
        let mut quarantine = BTreeMap::new();
        for r in &rejected {
            *quarantine.entry(r.code.clone()).or_insert(0u64) += 1;
        }
        let mut flags = BTreeMap::new();
        let mut truncated = BTreeMap::new();
        for f in &flagged {
            *flags.entry(f.code.clone()).or_insert(0u64) += 1;
            if f.code == connector::convert::POSSIBLY_TRUNCATED {
                let column = f.column.split('(').next().unwrap_or(&f.column).to_string();
                *truncated.entry(column).or_insert(0u64) += 1;
            }
        }
        // each row set aside once, however many of its cells failed (rows a wide export's cells
        // became share their line, so rows are counted, not lines)
        let rows_quarantined = rows_rejected;
        for (file, issues) in [(QUARANTINE, rejected), (FLAGS, flagged)] {
            if !issues.is_empty() {
                let buf = parts::encode_issues(issues).map_err(|e| write_err(e.to_string()))?;
                self.put(&self.path(&[&dataset, id, file]), buf, PutMode::Overwrite)
                    .await
                    .map_err(|e| self.store_err(e))?;
            }
        }
        let mut absent: Vec<String> =
            b.columns.keys().zip(&provided).filter(|(_, p)| !**p).map(|(n, _)| n.clone()).collect();
        let (mut rows_read, mut rows_quarantined, mut filtered, mut outside) =
            (rows_read, rows_quarantined, filtered, outside);
        let (mut unpivot_rows, mut unpivot_cells) = (unpivot_rows, unpivot_cells);
        if let Some(e) = appends {
            // absent only where no file of either snapshot provided it
            absent.retain(|c| e.absent.contains(c));
            rows_read += e.rows_read;
            rows_quarantined += e.rows_quarantined;
            filtered += e.rows_filtered;
            for (counts, earlier) in
                [(&mut quarantine, &e.quarantine), (&mut flags, &e.flags), (&mut truncated, &e.possibly_truncated)]
            {
                for (k, n) in earlier {
                    *counts.entry(k.clone()).or_insert(0) += n;
                }
            }
            for (col, words) in &e.values_outside {
                let mine = outside.entry(col.clone()).or_default();
                for (w, n) in words {
                    *mine.entry(w.clone()).or_insert(0) += n;
                }
            }
            if let Some(u) = e.unpivot {
                unpivot_rows += u.rows;
                unpivot_cells += u.cells;
            }
        }
        let manifest = Manifest {
            dataset: dataset.clone(),
            snapshot: id.to_string(),
            title: b.title.clone(),
            domain: b.domain.clone(),
            created_at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            as_of: opts.as_of.to_string(),
            connector: origin.connector,
            spec_hash: origin.spec_hash,
            fingerprint: origin.fingerprint,
            sources: origin.sources,
            rows_read,
            rows: parts.iter().map(|p| p.rows).sum(),
            rows_quarantined,
            rows_filtered: filtered,
            rows_collapsed: collapsed,
            quarantine,
            flags,
            values_outside: outside,
            unpivot: (unpivot_rows > 0 || unpivot_cells > 0)
                .then_some(manifest::UnpivotCount { rows: unpivot_rows, cells: unpivot_cells }),
            possibly_truncated: truncated,
            absent,
            custom: b.custom,
            derived_from: origin.derived_from,
            query: origin.query,
            appends: appends.map(|e| e.snapshot.clone()),
            load: origin.load,
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
            key: b.key.clone(),
            elapsed_ms: started.elapsed().as_millis() as u64,
            writer: format!("searchlight {}", env!("CARGO_PKG_VERSION")),
        };
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        self.put(&self.path(&[&dataset, id, MANIFEST]), json, PutMode::Overwrite)
            .await
            .map_err(|e| self.store_err(e))?;
        Ok(manifest)
    }
}

/// The first dataset of a connector, for messages about all of them.
fn shared_name(conn: &Connector) -> String {
    conn.blocks.first().map(|b| b.name.clone()).unwrap_or_default()
}

/// What the reads of one ingest landed: per dataset, and the rows' count, order-free digest and
/// bytes (live sources).
struct Read {
    landed: Vec<Landed>,
    rows: u64,
    digest: u128,
    bytes: u64,
}

/// What an ingest's survey found and what its snapshot builds on, for sealing it.
struct Sealing<'a> {
    survey: &'a connector::source::Survey,
    /// The watermark an incremental live read started from.
    since: Option<&'a str>,
    /// The snapshots an appended export's new snapshot adds to.
    appended: Option<&'a [Manifest]>,
    currents: &'a [Option<Manifest>],
}

/// A survey's watch that sends each split on to be read as soon as it is found.
struct Announce<'a> {
    tx: futures::channel::mpsc::UnboundedSender<connector::source::Split>,
    announced: std::sync::atomic::AtomicUsize,
    progress: &'a dyn Progress,
}

impl connector::source::Watch for Announce<'_> {
    fn split(&self, split: &connector::source::Split) {
        self.announced.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = self.tx.unbounded_send(split.clone());
    }
    fn advance(&self, units: u64) {
        self.progress.advance(units);
    }
}

/// A survey's watch that only reports progress.
struct Advance<'a>(&'a dyn Progress);

impl connector::source::Watch for Advance<'_> {
    fn advance(&self, units: u64) {
        self.0.advance(units);
    }
}

/// Where a snapshot's rows came from, for its manifest.
struct Origin {
    connector: String,
    spec_hash: String,
    fingerprint: String,
    sources: Vec<SourceEntry>,
    derived_from: BTreeMap<String, String>,
    query: Option<String>,
    load: Option<manifest::Load>,
}

/// Whether the current snapshot was landed by this declaration from files of these names and
/// sizes. If not, the fingerprint will differ too, and that is known before reading a byte.
fn same_sources(m: &Manifest, conn: &Connector, files: &[connector::SourceFile], base: &FsPath) -> bool {
    m.sources.len() == files.len() && landed_from_first(m, conn, files, base)
}

/// Whether the current snapshot was landed by this declaration from the first of these files,
/// at the sizes they have now, and more files follow: an export that grew
/// ([`crate::connector::spec::ConnectorSpec::append`]). The bytes are compared after pass one.
fn extended_by(m: &Manifest, conn: &Connector, files: &[connector::SourceFile], base: &FsPath) -> bool {
    m.sources.len() < files.len() && landed_from_first(m, conn, files, base)
}

/// Whether the snapshot was landed by this declaration, its sources the first of `files` by
/// location and size.
fn landed_from_first(m: &Manifest, conn: &Connector, files: &[connector::SourceFile], base: &FsPath) -> bool {
    m.spec_hash == conn.spec_hash
        && m.sources.len() <= files.len()
        && m.sources.iter().zip(files).all(|(s, f)| same_location(s, &f.display, base) && s.bytes == f.size)
}

/// Whether a manifest's source is the file found at `display` now (a manifest written before
/// locations were kept relative names the file absolutely).
fn same_location(s: &SourceEntry, display: &str, base: &FsPath) -> bool {
    s.location == source_location(display, base) || s.location == display
}

/// A source file's location as a manifest keeps it: relative to the project when the file is
/// inside it (`data/p.csv`), so a project copied or moved elsewhere is still unchanged; as
/// named otherwise (another folder, a bucket).
fn source_location(display: &str, base: &FsPath) -> String {
    match FsPath::new(display).strip_prefix(base) {
        Ok(rel) if FsPath::new(display).is_absolute() => rel.to_string_lossy().into_owned(),
        _ => display.to_string(),
    }
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

/// What the splits of one dataset's snapshot left, taken in split order: parts, issues, and
/// the keys seen so far. In an event dataset a key seen before is a duplicate, flagged at its
/// later line; in an entity dataset (collapse) the later row is the same record seen again and
/// is dropped — counted when it agrees with the first, flagged with the differences when not.
struct Landed {
    parts: Vec<PartEntry>,
    tally: Tally,
    key: Vec<String>,
    // the values are already hashes: hashing them again would only cost time
    seen: HashSet<u64, std::hash::BuildHasherDefault<KeyHash>>,
    collapse: Option<Collapse>,
    /// batches of a collapsed dataset, repeats removed, written at the end
    held: Vec<RecordBatch>,
    collapsed: u64,
}

/// The state of collapsing repeated keys: exact row encodings, so that no two different keys
/// are ever taken for one (a hash alone could collide and lose a record).
struct Collapse {
    key_idx: Vec<usize>,
    keys: datafusion::arrow::row::RowConverter,
    rows: datafusion::arrow::row::RowConverter,
    schema: datafusion::arrow::datatypes::SchemaRef,
    /// key → (the whole first row, its line)
    first: HashMap<datafusion::arrow::row::OwnedRow, (datafusion::arrow::row::OwnedRow, u64)>,
}

impl Landed {
    fn new(b: &connector::Block) -> Self {
        use datafusion::arrow::row::{RowConverter, SortField};
        let schema = b.schema();
        let collapse = (b.collapse && !b.key.is_empty())
            .then(|| {
                let key_idx: Vec<usize> = b.key.iter().filter_map(|k| schema.index_of(k).ok()).collect();
                let fields = |idx: &mut dyn Iterator<Item = usize>| -> Vec<SortField> {
                    idx.map(|i| SortField::new(schema.field(i).data_type().clone())).collect()
                };
                let keys = RowConverter::new(fields(&mut key_idx.iter().copied())).ok()?;
                let rows = RowConverter::new(fields(&mut (0..schema.fields().len()))).ok()?;
                Some(Collapse { key_idx, keys, rows, schema: schema.clone(), first: HashMap::new() })
            })
            .flatten();
        Landed {
            parts: Vec::new(),
            tally: Tally::new(b.columns.len()),
            key: b.key.clone(),
            seen: HashSet::default(),
            collapse,
            held: Vec::new(),
            collapsed: 0,
        }
    }

    fn add(&mut self, r: SplitResult) {
        self.parts.extend(r.part);
        self.tally.add(r.tally);
        for k in r.key_hashes {
            self.seen.reserve(k.hashes.len());
            for (&h, &line) in k.hashes.iter().zip(&k.lines) {
                if self.seen.insert(h) {
                    continue;
                }
                self.tally.flagged.push(RowIssue {
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
        for ((batch, lines), file) in r.held.into_iter().zip(r.held_lines).zip(r.held_files) {
            match self.collapse.as_mut() {
                Some(c) => {
                    let (kept, issues, dropped) = c.collapse(&batch, &lines, &file, &self.key);
                    self.collapsed += dropped.len() as u64;
                    // a repeat's findings are its first row's, already recorded once
                    let dropped: HashSet<u64> = dropped.into_iter().collect();
                    self.tally.flagged.retain(|f| f.file != file || !dropped.contains(&f.line));
                    self.tally.flagged.extend(issues);
                    if kept.num_rows() > 0 {
                        self.held.push(kept);
                    }
                }
                None => self.held.push(batch),
            }
        }
    }
}

impl Collapse {
    /// Keeps the first row of every key; returns the kept rows, the flags of repeats that
    /// disagree with their first row, and the lines of the rows dropped.
    fn collapse(
        &mut self,
        batch: &RecordBatch,
        lines: &[u64],
        file: &str,
        key: &[String],
    ) -> (RecordBatch, Vec<RowIssue>, Vec<u64>) {
        use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
        let n = batch.num_rows();
        let key_cols: Vec<_> = self.key_idx.iter().map(|&i| batch.column(i).clone()).collect();
        let (Ok(keys), Ok(rows)) = (self.keys.convert_columns(&key_cols), self.rows.convert_columns(batch.columns()))
        else {
            return (batch.clone(), Vec::new(), Vec::new());
        };
        let mut keep = vec![true; n];
        let mut issues = Vec::new();
        let mut dropped = Vec::new();
        let fo = FormatOptions::default().with_null("");
        for r in 0..n {
            let k = keys.row(r).owned();
            let line = lines.get(r).copied().unwrap_or(0);
            match self.first.get(&k) {
                None => {
                    self.first.insert(k, (rows.row(r).owned(), line));
                }
                Some((first, first_line)) => {
                    keep[r] = false;
                    dropped.push(line);
                    if first.row() == rows.row(r) {
                        continue;
                    }
                    // only for disagreeing repeats: decode the first row to name the differences
                    let Ok(first_cols) = self.rows.convert_rows([first.row()]) else { continue };
                    let mut diffs = Vec::new();
                    let mut raw = Vec::new();
                    for (c, f) in self.schema.fields().iter().enumerate() {
                        let (Ok(a), Ok(b)) = (
                            ArrayFormatter::try_new(first_cols[c].as_ref(), &fo),
                            ArrayFormatter::try_new(batch.column(c).as_ref(), &fo),
                        ) else {
                            continue;
                        };
                        let (a, b) = (a.value(0).to_string(), b.value(r).to_string());
                        if a != b {
                            diffs.push(format!("{}(首条「{a}」，此行「{b}」)", f.name()));
                            raw.push(b);
                        }
                    }
                    let record = (0..batch.num_columns())
                        .filter_map(|c| {
                            ArrayFormatter::try_new(batch.column(c).as_ref(), &fo).ok().map(|f| f.value(r).to_string())
                        })
                        .collect::<Vec<_>>()
                        .join("\t");
                    issues.push(RowIssue {
                        file: file.to_string(),
                        sheet: None,
                        line,
                        column: diffs.iter().map(|d| d.split('(').next().unwrap_or("")).collect::<Vec<_>>().join("+"),
                        raw: raw.join(" | "),
                        code: "repeat_disagrees".into(),
                        reason: format!(
                            "与第{first_line}行主键({})相同，但 {} ；按一条记录入湖，保留首条",
                            key.join(", "),
                            diffs.join("、")
                        ),
                        record: Some(record),
                    });
                }
            }
        }
        let mask = BooleanArray::from(keep);
        let kept = datafusion::arrow::compute::filter_record_batch(batch, &mask).unwrap_or_else(|_| batch.clone());
        (kept, issues, dropped)
    }
}

/// What landing counted of one dataset's rows, summed from each block of an export to its
/// split and from the splits to the dataset.
#[derive(Default)]
struct Tally {
    rejected: Vec<RowIssue>,
    flagged: Vec<RowIssue>,
    rows_read: u64,
    /// rows set aside (a row with several failing cells once)
    rows_rejected: u64,
    filtered: u64,
    /// a wide export's source rows, and the cells that became rows
    unpivot_rows: u64,
    unpivot_cells: u64,
    /// values outside their column's value set: column → word → rows
    outside: BTreeMap<String, BTreeMap<String, u64>>,
    /// per column of the dataset: whether any block provided it
    provided: Vec<bool>,
}

impl Tally {
    fn new(columns: usize) -> Self {
        Tally { provided: vec![false; columns], ..Tally::default() }
    }

    fn add(&mut self, more: Tally) {
        self.rejected.extend(more.rejected);
        self.flagged.extend(more.flagged);
        self.rows_read += more.rows_read;
        self.rows_rejected += more.rows_rejected;
        self.filtered += more.filtered;
        self.unpivot_rows += more.unpivot_rows;
        self.unpivot_cells += more.unpivot_cells;
        for (p, q) in self.provided.iter_mut().zip(more.provided) {
            *p |= q;
        }
        for (col, words) in more.outside {
            let e = self.outside.entry(col).or_default();
            for (w, n) in words {
                *e.entry(w).or_insert(0) += n;
            }
        }
    }
}

/// Encodes one decoded piece of a split per dataset (the landings hold one landing per dataset
/// for every block of rows), stores its Parquet part through `put`, and tallies it.
fn land_piece(
    conn: &Connector,
    landings: Vec<Landing>,
    put: impl Fn(&connector::Block, &str, u64, Vec<u8>) -> Result<PartEntry>,
    ids: &[String],
) -> Result<Vec<SplitResult>> {
    let nblocks = conn.blocks.len();
    let mut per_block: Vec<Vec<Landing>> = (0..nblocks).map(|_| Vec::new()).collect();
    for (j, l) in landings.into_iter().enumerate() {
        per_block[j % nblocks].push(l);
    }
    let mut results = Vec::new();
    for ((b, id), mut landings) in conn.blocks.iter().zip(ids).zip(per_block) {
        let schema = b.schema();
        let key_idx: Vec<usize> = b.key.iter().filter_map(|k| schema.index_of(k).ok()).collect();
        let batches: Vec<RecordBatch> = landings.iter().map(|l| l.batch.clone()).filter(|x| x.num_rows() > 0).collect();
        // datasets that collapse repeated keys are written once every split is in
        let part = if batches.is_empty() || b.collapse {
            None
        } else {
            let buf = parts::encode(&schema, &batches)
                .map_err(|e| Error::Write { dataset: b.name.clone(), message: e.to_string() })?;
            let rows: u64 = batches.iter().map(|x| x.num_rows() as u64).sum();
            Some(put(b, id, rows, buf)?)
        };
        let key_hashes = if b.collapse { Vec::new() } else { hash_keys(&mut landings, &key_idx) };
        let mut r = SplitResult {
            part,
            tally: Tally::new(b.columns.len()),
            key_hashes,
            held: if b.collapse { batches } else { Vec::new() },
            held_lines: Vec::new(),
            held_files: Vec::new(),
        };
        for l in landings {
            r.tally.add(Tally {
                rejected: l.rejected,
                flagged: l.flagged,
                rows_read: l.rows_read as u64,
                rows_rejected: l.rows_rejected as u64,
                filtered: l.filtered as u64,
                unpivot_rows: l.unpivot_rows,
                unpivot_cells: l.unpivot_cells,
                outside: l.outside,
                provided: l.provided,
            });
            if b.collapse && l.batch.num_rows() > 0 {
                r.held_lines.push(l.lines);
                r.held_files.push(l.file);
            }
        }
        results.push(r);
    }
    Ok(results)
}

struct SplitResult {
    part: Option<PartEntry>,
    tally: Tally,
    key_hashes: Vec<KeyHashes>,
    /// batches not yet written (collapsed datasets), with their lines and files
    held: Vec<RecordBatch>,
    held_lines: Vec<Vec<u64>>,
    held_files: Vec<String>,
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

/// Reads a Parquet file of the lake by byte ranges (local directory or object store alike).
pub struct RangeReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl datafusion::parquet::arrow::async_reader::AsyncFileReader for RangeReader {
    fn get_bytes(
        &mut self,
        range: std::ops::Range<u64>,
    ) -> futures::future::BoxFuture<'_, datafusion::parquet::errors::Result<Bytes>> {
        Box::pin(async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(|e| datafusion::parquet::errors::ParquetError::External(Box::new(e)))
        })
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> futures::future::BoxFuture<'_, datafusion::parquet::errors::Result<Vec<Bytes>>> {
        Box::pin(async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(|e| datafusion::parquet::errors::ParquetError::External(Box::new(e)))
        })
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions>,
    ) -> futures::future::BoxFuture<
        'a,
        datafusion::parquet::errors::Result<Arc<datafusion::parquet::file::metadata::ParquetMetaData>>,
    > {
        Box::pin(async move {
            let size = self.size;
            // with the page index: the pages of the wanted rows are found without reading others
            let metadata = datafusion::parquet::file::metadata::ParquetMetaDataReader::new()
                .with_page_index_policy(datafusion::parquet::file::metadata::PageIndexPolicy::Optional)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_current_pointer_never_moves_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("connectors")).unwrap();
        let toml = "name = \"pay\"\ntitle = \"付\"\ndomain = \"test\"\ncustom = true\nlocation = \"p.csv\"\n[format]\ntype = \"csv\"\n[columns]\nwho = { from = \"收款人\", type = \"text\" }\n";
        std::fs::write(root.join("connectors/pay.toml"), toml).unwrap();
        let conn = connector::load(&root.join("connectors/pay.toml"), crate::schema::Schema::bundled()).unwrap();
        let lake = Lake::open(&Url::from_directory_path(root.join("lake")).unwrap()).unwrap();
        let mut landed = Vec::new();
        for body in ["收款人\n甲\n", "收款人\n乙\n"] {
            std::fs::write(root.join("p.csv"), body).unwrap();
            let out = lake.ingest(&conn, root, &IngestOptions::default(), &Quiet).await.unwrap();
            landed.push(out[0].manifest().clone());
        }
        assert_eq!(lake.current("pay").await.unwrap().unwrap().snapshot, landed[1].snapshot);
        // an ingest that claimed the earlier snapshot and finished last
        let e = lake.point(&landed[0]).await.unwrap_err();
        assert!(matches!(e, Error::Superseded { .. }), "{e}");
        assert_eq!(lake.current("pay").await.unwrap().unwrap().snapshot, landed[1].snapshot);
        // what it publishes is on disk: parts, manifest and pointer are plain files here
        for f in ["_current.json", "_pointer.lock"] {
            assert!(root.join("lake/pay").join(f).exists(), "{f}");
        }
    }
}
