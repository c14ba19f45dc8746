//! Retention (`searchlight lake gc`): what may be removed from the lake and what never is.
//!
//! Removed: snapshot directories without a manifest that a killed ingest left behind (once
//! nothing has been written into them for the grace period, so an ingest still writing is left
//! alone), and complete snapshots older than the newest `keep` of their dataset. With
//! `unrecorded_runs`, also run folders (`_runs/<run>`) that no recorded run names, past the
//! same grace (a run killed before it was recorded, or a dry run).
//!
//! Never removed: a dataset's current snapshot, its newest `keep` snapshots, a snapshot whose
//! parts one of those shares (an appended snapshot points back at them), and everything the
//! caller pins — the snapshots every run recorded in the ledger read and the folders of those
//! runs, which hold their clues' evidence. The lake knows nothing of the ledger: the pins come
//! from the caller (the pipeline seam reads them from the ledger).

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};
use serde::Serialize;

use super::{CURRENT, Lake, MANIFEST, Pointer, RUNS, Result};

/// How much the lake keeps.
#[derive(Debug, Clone)]
pub struct Retention {
    /// Newest complete snapshots kept per dataset, the current one among them (at least 2: a
    /// run that started before the latest ingest may still be reading the one before).
    pub keep: usize,
    /// A staged directory or unrecorded run folder with a write this recent is left alone.
    pub grace: Duration,
    /// Also remove run folders that no recorded run names.
    pub unrecorded_runs: bool,
}

/// The least `keep` accepted.
pub const MIN_KEEP: usize = 2;

impl Default for Retention {
    fn default() -> Self {
        Retention { keep: 3, grace: Duration::from_secs(3600), unrecorded_runs: false }
    }
}

/// What must stay whatever the policy says.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    /// (dataset, snapshot) pairs a recorded run read.
    pub snapshots: BTreeSet<(String, String)>,
    /// Recorded runs (their folders hold the clues' evidence).
    pub runs: BTreeSet<String>,
}

/// Why a directory goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    /// A snapshot directory without a manifest (an ingest that did not finish).
    Staged,
    /// A complete snapshot past the retention policy, read by no recorded run.
    PastRetention,
    /// A run folder that no recorded run names.
    UnrecordedRun,
}

/// Why a directory stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// The dataset's current snapshot.
    Current,
    /// Among the newest `keep`.
    Newest,
    /// A recorded run read it (or it is a recorded run's folder).
    Pinned,
    /// A snapshot that stays shares its parts (it was appended to this one).
    Shared,
    /// Written to within the grace period: an ingest or run may still be at work.
    Recent,
    /// An unrecorded run folder, left because `unrecorded_runs` was not asked for.
    NotAsked,
}

/// One directory gc looked at.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Dataset (or `_runs`).
    pub dataset: String,
    /// Snapshot id (or run id).
    pub id: String,
    /// Files in it.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Removed (or, in a dry run, would be), and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removal>,
    /// Kept, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<Keep>,
}

/// What one gc did (or would do).
#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    /// Nothing was deleted.
    pub dry_run: bool,
    /// Every snapshot directory and run folder looked at.
    pub entries: Vec<Entry>,
}

impl Collection {
    /// Directories removed (or to be removed) and their bytes.
    pub fn removed(&self) -> (usize, u64) {
        let r = self.entries.iter().filter(|e| e.removed.is_some());
        (r.clone().count(), r.map(|e| e.bytes).sum())
    }
}

/// A directory's files, bytes and last write.
fn tally(files: &[ObjectMeta]) -> (u64, u64, Option<DateTime<Utc>>) {
    (files.len() as u64, files.iter().map(|f| f.size).sum(), files.iter().map(|f| f.last_modified).max())
}

impl Lake {
    /// Applies a retention policy (see the module docs). `now` dates the grace period; a dry
    /// run lists what would go and deletes nothing.
    pub async fn collect_garbage(
        &self,
        policy: &Retention,
        pins: &Pins,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<Collection> {
        let keep = policy.keep.max(MIN_KEEP);
        let grace = chrono::Duration::from_std(policy.grace).unwrap_or(chrono::Duration::MAX);
        let recent = |last: Option<DateTime<Utc>>| last.is_some_and(|t| now - t < grace);
        let mut entries = Vec::new();
        for dataset in self.folders(&self.root).await? {
            if dataset.starts_with('_') {
                continue;
            }
            let current = self.read_json::<Pointer>(&self.path(&[&dataset, CURRENT])).await?.map(|p| p.snapshot);
            let mut ids: Vec<String> =
                self.folders(&self.path(&[&dataset])).await?.into_iter().filter(|n| n.starts_with('v')).collect();
            ids.sort();
            let mut complete_seen = 0usize;
            // snapshots whose parts a snapshot that stays shares (an appended one points back)
            let mut shared: BTreeSet<String> = BTreeSet::new();
            // newest first, so the newest `keep` complete snapshots are counted first
            for id in ids.into_iter().rev() {
                let files = self.files(&self.path(&[&dataset, &id])).await?;
                let (n, bytes, last) = tally(&files);
                let complete = files.iter().any(|f| f.location.filename() == Some(MANIFEST));
                let (removed, kept) = if current.as_deref() == Some(id.as_str()) {
                    complete_seen += 1;
                    (None, Some(Keep::Current))
                } else if !complete {
                    if recent(last) { (None, Some(Keep::Recent)) } else { (Some(Removal::Staged), None) }
                } else {
                    complete_seen += 1;
                    if complete_seen <= keep {
                        (None, Some(Keep::Newest))
                    } else if pins.snapshots.contains(&(dataset.clone(), id.clone())) {
                        (None, Some(Keep::Pinned))
                    } else if shared.contains(&id) {
                        (None, Some(Keep::Shared))
                    } else {
                        (Some(Removal::PastRetention), None)
                    }
                };
                if kept.is_some()
                    && complete
                    && let Some(m) = self.read_json::<super::Manifest>(&self.path(&[&dataset, &id, MANIFEST])).await?
                {
                    shared.extend(m.parts.iter().filter_map(|p| p.snapshot.clone()));
                    shared.extend(m.appends);
                }
                entries.push(Entry { dataset: dataset.clone(), id, files: n, bytes, removed, kept });
            }
        }
        for run in self.folders(&self.path(&[RUNS])).await? {
            if pins.runs.contains(&run) {
                continue;
            }
            let files = self.files(&self.path(&[RUNS, &run])).await?;
            let (n, bytes, last) = tally(&files);
            let (removed, kept) = if recent(last) {
                (None, Some(Keep::Recent))
            } else if policy.unrecorded_runs {
                (Some(Removal::UnrecordedRun), None)
            } else {
                (None, Some(Keep::NotAsked))
            };
            entries.push(Entry { dataset: RUNS.into(), id: run, files: n, bytes, removed, kept });
        }
        if !dry_run {
            for e in entries.iter().filter(|e| e.removed.is_some()) {
                let dir = self.path(&[&e.dataset, &e.id]);
                let files = self.files(&dir).await?;
                // a snapshot's manifest first, so a half-removed one never looks complete
                for f in files
                    .iter()
                    .filter(|f| f.location.filename() == Some(MANIFEST))
                    .chain(files.iter().filter(|f| f.location.filename() != Some(MANIFEST)))
                {
                    match self.store.delete(&f.location).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(err) => return Err(self.store_err(err)),
                    }
                }
            }
        }
        entries.sort_by(|a, b| (&a.dataset, &a.id).cmp(&(&b.dataset, &b.id)));
        Ok(Collection { dry_run, entries })
    }

    /// Names of the folders directly under `prefix`.
    async fn folders(&self, prefix: &object_store::path::Path) -> Result<Vec<String>> {
        match self.store.list_with_delimiter(Some(prefix)).await {
            Ok(l) => Ok(l.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect()),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(self.store_err(e)),
        }
    }

    /// Every file under `prefix`.
    async fn files(&self, prefix: &object_store::path::Path) -> Result<Vec<ObjectMeta>> {
        match self.store.list(Some(prefix)).try_collect().await {
            Ok(v) => Ok(v),
            Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(self.store_err(e)),
        }
    }
}
