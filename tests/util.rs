//! Helpers: throwaway projects with connectors and data, ingest, and SQL over the lake.

use std::path::{Path, PathBuf};

use datafusion::arrow::record_batch::RecordBatch;
use searchlight::connector::{self, Connector};
use searchlight::engine::Engine;
use searchlight::lake::{IngestOptions, Lake, Outcome, Quiet};
use searchlight::schema::Schema;

/// Runs the searchlight binary on a project: (exit status, stdout, stderr).
pub fn searchlight(p: &TestProject, args: &[&str]) -> (Option<i32>, String, String) {
    searchlight_env(p, args, &[])
}

/// [`searchlight`] with environment variables set.
pub fn searchlight_env(p: &TestProject, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_searchlight"))
        .arg("--project")
        .arg(p.root())
        .args(args)
        // a `serve` of a test listens on a port of its own, never the default 8080
        .env("SEARCHLIGHT_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`searchlight`] that must succeed; its stdout.
pub fn ok(p: &TestProject, args: &[&str]) -> String {
    let (code, out, err) = searchlight(p, args);
    assert_eq!(code, Some(0), "{args:?}: {out}\n{err}");
    out
}

/// A temporary project: `connectors/`, `data/` and a local lake.
pub struct TestProject {
    pub dir: tempfile::TempDir,
}

impl TestProject {
    /// A project that runs only its own models (the bundled library is off).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("connectors")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("searchlight.toml"), "[library]\nbundled = false\n").unwrap();
        TestProject { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    pub fn gbk(&self, rel: &str, text: &str) {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        self.write(rel, bytes);
    }

    pub fn connector(&self, name: &str, toml: &str) -> Connector {
        let path = self.path(&format!("connectors/{name}.toml"));
        std::fs::write(&path, toml).unwrap();
        connector::load(&path, Schema::bundled()).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn lake(&self) -> Lake {
        Lake::open(&url::Url::from_directory_path(self.path("lake")).unwrap()).unwrap()
    }

    /// Ingests a connector that lands one dataset.
    pub async fn ingest(&self, c: &Connector) -> Result<Outcome, searchlight::lake::Error> {
        self.ingest_with(c, &opts()).await
    }

    pub async fn ingest_with(&self, c: &Connector, o: &IngestOptions) -> Result<Outcome, searchlight::lake::Error> {
        Ok(self.ingest_all(c, o).await?.remove(0))
    }

    /// Ingests a connector: one outcome per dataset it lands.
    pub async fn ingest_all(&self, c: &Connector, o: &IngestOptions) -> Result<Vec<Outcome>, searchlight::lake::Error> {
        self.lake().ingest(c, self.root(), o, &Quiet).await
    }

    pub async fn sql(&self, sql: &str) -> Vec<RecordBatch> {
        let engine = Engine::local();
        engine.register_lake(&self.lake(), Schema::bundled()).await.unwrap();
        engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")).collect().await.unwrap()
    }

    /// Query results as lines of `|`-separated values (NULL as empty).
    pub async fn rows(&self, sql: &str) -> Vec<String> {
        lines(&self.sql(sql).await)
    }
}

pub fn opts() -> IngestOptions {
    IngestOptions { as_of: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(), ..IngestOptions::default() }
}

/// Batches as lines of `|`-separated values.
pub fn lines(batches: &[RecordBatch]) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut out = Vec::new();
    let fo = FormatOptions::default();
    for b in batches {
        let fmts: Vec<_> = b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &fo).unwrap()).collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect::<Vec<_>>().join("|"));
        }
    }
    out
}

/// Reads a snapshot file (quarantine, flags) of the current snapshot as lines.
pub async fn issue_rows(p: &TestProject, dataset: &str, file: &str, cols: &str) -> Vec<String> {
    let lake = p.lake();
    let m = lake.current(dataset).await.unwrap().unwrap();
    let engine = Engine::local();
    let url = lake.file_url(dataset, &m.snapshot, file);
    engine.context().register_parquet("issues", url.as_str(), Default::default()).await.unwrap();
    lines(
        &engine
            .sql(&format!("select {cols} from issues order by line, \"column\""))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap(),
    )
}

/// The repository root (for the bundled fixtures and connectors).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small deterministic generator (xorshift): generated test inputs that a failure can replay
/// from the seed.
pub struct Gen(pub u64);

impl Gen {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
