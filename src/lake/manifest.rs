//! Snapshot manifests and the current pointer: the lake's only metadata, stored as JSON beside
//! the data so any reader of the object store can follow it.
//!
//! Layout under the lake root:
//!
//! ```text
//! <dataset>/_current.json               {"snapshot": "v000002"}   ← replaced atomically, last
//! <dataset>/v000002/_manifest.json      rows, sources, fingerprint, schema, parts
//! <dataset>/v000002/part-00000-0.parquet …
//! <dataset>/v000002/quarantine.parquet  rows not landed, with file, line, column, raw, reason
//! <dataset>/v000002/flags.parquet       landed values with findings (ID checks, repairs)
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// File name of the current pointer.
pub const CURRENT: &str = "_current.json";
/// File name of a snapshot's manifest.
pub const MANIFEST: &str = "_manifest.json";
/// File name of a snapshot's claim marker (written first).
pub const CLAIM: &str = "_claim.json";
/// Quarantine file of a snapshot.
pub const QUARANTINE: &str = "quarantine.parquet";
/// Flags file of a snapshot.
pub const FLAGS: &str = "flags.parquet";

/// The current pointer of a dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pointer {
    /// Snapshot id.
    pub snapshot: String,
}

/// One source file that went into a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceEntry {
    /// Where it was read from.
    pub location: String,
    /// Size in bytes.
    pub bytes: u64,
    /// BLAKE3 of its content.
    pub blake3: String,
    /// Encoding used (text formats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// One Parquet part of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartEntry {
    /// File name inside the snapshot directory.
    pub file: String,
    /// Rows.
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
    /// The snapshot whose directory holds the file, when it is an earlier one: a snapshot
    /// appended to another ([`Manifest::appends`]) shares its parts rather than copying them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// One column of a snapshot's schema.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnEntry {
    /// Canonical name.
    pub name: String,
    /// Arrow type.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Export header it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether it may be null.
    pub nullable: bool,
}

/// Everything recorded about one snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Dataset name.
    pub dataset: String,
    /// Snapshot id (`v000001`, increasing).
    pub snapshot: String,
    /// Chinese title of the dataset.
    pub title: String,
    /// Domain.
    pub domain: String,
    /// When the snapshot was written (RFC 3339).
    pub created_at: String,
    /// The date the export describes (the run's as-of date).
    pub as_of: String,
    /// Connector file.
    pub connector: String,
    /// Hash of the connector file.
    pub spec_hash: String,
    /// Fingerprint of connector + source bytes; equal fingerprints mean equal data.
    pub fingerprint: String,
    /// Source files.
    pub sources: Vec<SourceEntry>,
    /// Rows read from the exports.
    pub rows_read: u64,
    /// Rows landed.
    pub rows: u64,
    /// Rows set aside in quarantine.
    pub rows_quarantined: u64,
    /// Rows the connector's `where` left out (not this dataset's).
    #[serde(default)]
    pub rows_filtered: u64,
    /// Repeats of a record already landed (entity datasets): `rows_read` = `rows` +
    /// `rows_quarantined` + `rows_filtered` + `rows_collapsed`.
    #[serde(default)]
    pub rows_collapsed: u64,
    /// Quarantine records by reason code (a row may fail in several columns).
    pub quarantine: BTreeMap<String, u64>,
    /// Flags on landed values by code.
    pub flags: BTreeMap<String, u64>,
    /// Words outside their column's value set: column → word → rows (landed as exported).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values_outside: BTreeMap<String, BTreeMap<String, u64>>,
    /// A wide export (`[unpivot]`): its source rows, and the cells of its wide columns that
    /// became rows (`rows_read` counts those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpivot: Option<UnpivotCount>,
    /// IDs that may be Excel-truncated (valid, ending in 000, in a file with truncated IDs):
    /// column → rows. Every model that reads the column says so.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub possibly_truncated: BTreeMap<String, u64>,
    /// Declared columns no export file provided (`nullable` without a header): all NULL, and
    /// models that need them do not count them as present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// A dataset of the user's own (not in the canonical schema).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub custom: bool,
    /// For derived datasets: the snapshots of the datasets the query read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub derived_from: BTreeMap<String, String>,
    /// For derived datasets: the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The snapshot this one extends (`append = true`): its parts are this one's first parts,
    /// and its quarantine and flags hold the issues of the files it landed. Counts in this
    /// manifest cover both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appends: Option<String>,
    /// How a live source (a database) was read: whole or past a watermark, and how far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<Load>,
    /// Parquet parts.
    pub parts: Vec<PartEntry>,
    /// Schema.
    pub schema: Vec<ColumnEntry>,
    /// Key columns.
    pub key: Vec<String>,
    /// Time taken, milliseconds.
    pub elapsed_ms: u64,
    /// searchlight version that wrote it.
    pub writer: String,
}

impl Manifest {
    /// The snapshot directory that holds a part's file.
    pub fn part_home<'a>(&'a self, p: &'a PartEntry) -> &'a str {
        p.snapshot.as_deref().unwrap_or(&self.snapshot)
    }

    /// Columns the snapshot really has: its schema less the absent ones.
    pub fn present_columns(&self) -> impl Iterator<Item = &str> {
        self.schema.iter().map(|c| c.name.as_str()).filter(|n| !self.absent.iter().any(|a| a == n))
    }

    /// Total quarantine records.
    pub fn quarantine_records(&self) -> u64 {
        self.quarantine.values().sum()
    }

    /// Total flags.
    pub fn flag_count(&self) -> u64 {
        self.flags.values().sum()
    }
}

/// How one load of a live source went ([`Manifest::load`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Load {
    /// `full` (every row read) or `incremental` (only rows past the watermark; the earlier rows
    /// are the parts of the snapshot this one [`Manifest::appends`] to).
    pub mode: LoadMode,
    /// Rows this load read.
    pub rows: u64,
    /// The watermark column, when the connector has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_column: Option<String>,
    /// The watermark the previous load reached, which this one read past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The largest watermark value landed so far: where the next load starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
}

/// Whether a load read every row or only new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// Every row.
    Full,
    /// Rows past the watermark.
    Incremental,
}

/// How a wide export became rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnpivotCount {
    /// Rows of the export.
    pub rows: u64,
    /// Cells of its wide columns that held a value: the rows landed from it.
    pub cells: u64,
}
