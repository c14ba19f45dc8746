//! A searchlight project on disk: the one place that knows the folder names.
//!
//! ```text
//! <root>/connectors/*.toml   one connector per source
//! <root>/models/             supervision models (SQL)
//! <root>/fixtures/           the bundled demo county
//! <root>/lake/               the default lake (a local directory), unless --lake / SEARCHLIGHT_LAKE
//! <root>/ledger.sqlite       the default clue ledger, unless --ledger / SEARCHLIGHT_LEDGER
//! ```

use std::path::{Path, PathBuf};

use url::Url;

use crate::connector::{self, Connector};
use crate::storage;

/// A project root and the lake it uses.
#[derive(Debug, Clone)]
pub struct Project {
    /// Absolute project root.
    pub root: PathBuf,
    /// Lake URL.
    pub lake: Url,
    /// Clue ledger (SQLite file).
    pub ledger: PathBuf,
}

impl Project {
    /// Opens the project at `root`; `lake` overrides the default `<root>/lake`, `ledger` the
    /// default `<root>/ledger.sqlite`.
    pub fn open(root: &Path, lake: Option<&str>, ledger: Option<&Path>) -> anyhow::Result<Project> {
        let root =
            std::fs::canonicalize(root).map_err(|e| anyhow::anyhow!("project directory {}: {e}", root.display()))?;
        let cwd = std::env::current_dir()?;
        let lake = match lake {
            Some(l) => storage::to_url(l, &cwd)?,
            None => storage::to_url("lake", &root)?,
        };
        let ledger = match ledger {
            Some(p) => cwd.join(p),
            None => root.join("ledger.sqlite"),
        };
        Ok(Project { root, lake, ledger })
    }

    /// The connectors folder.
    pub fn connectors_dir(&self) -> PathBuf {
        self.root.join("connectors")
    }

    /// The models folder.
    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    /// Loads every model; each loads or fails on its own.
    pub fn models(&self) -> anyhow::Result<Vec<Result<crate::model::Model, crate::model::Error>>> {
        let dir = self.models_dir();
        crate::model::load_dir(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
    }

    /// The default output folder of the fixture generator.
    pub fn fixtures_dir(&self) -> PathBuf {
        self.root.join("fixtures").join("demo")
    }

    /// Loads every connector; each succeeds or fails on its own.
    pub fn connectors(&self) -> anyhow::Result<Vec<connector::Result<Connector>>> {
        let dir = self.connectors_dir();
        connector::load_dir(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
    }
}
