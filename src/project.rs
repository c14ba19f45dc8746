//! A searchlight project on disk: the one place that knows the folder names.
//!
//! ```text
//! <root>/connectors/*.toml   one connector per source
//! <root>/models/             the project's own models (SQL): add to the bundled library, or
//!                            replace a bundled model by using its id
//! <root>/fixtures/           the bundled demo county
//! <root>/lake/               the default lake (a local directory), unless --lake / SEARCHLIGHT_LAKE
//! <root>/ledger.sqlite       the default clue ledger, unless --ledger / SEARCHLIGHT_LEDGER
//! ```

use std::path::{Path, PathBuf};

use url::Url;

use crate::connector::{self, Connector};
use crate::schema::Schema;
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
    /// Whether the ledger path was given (--ledger, SEARCHLIGHT_LEDGER) rather than the default:
    /// a given path that does not exist is a mistake until the user says otherwise.
    pub ledger_given: bool,
    /// `searchlight.toml`, or the defaults when there is none.
    pub config: crate::settings::Config,
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
        let ledger_given_flag = ledger.is_some();
        let ledger = match ledger {
            Some(p) => cwd.join(p),
            None => root.join("ledger.sqlite"),
        };
        let config = crate::settings::Config::load(&root)?;
        Ok(Project { root, lake, ledger, ledger_given: ledger_given_flag, config })
    }

    /// Starts a project in `dir` that uses the bundled library: `connectors/`, `models/`,
    /// `exports/` and a short guide. A folder that already holds exports is fine; one that
    /// already has `connectors/` or `models/` is refused (nothing is overwritten). Returns what
    /// was created.
    pub fn init(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        for taken in ["connectors", "models"] {
            if dir.join(taken).exists() {
                anyhow::bail!(
                    "{}: already has {taken}/ — it is a project already (nothing was changed)",
                    dir.display()
                );
            }
        }
        let mut made = Vec::new();
        let mut mkdir = |p: PathBuf| -> anyhow::Result<()> {
            if !p.exists() {
                std::fs::create_dir_all(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                made.push(p);
            }
            Ok(())
        };
        mkdir(dir.to_path_buf())?;
        mkdir(dir.join("connectors"))?;
        mkdir(dir.join("models"))?;
        mkdir(dir.join("exports"))?;
        let mut write = |name: &str, text: &str| -> anyhow::Result<()> {
            let p = dir.join(name);
            if !p.exists() {
                std::fs::write(&p, text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                made.push(p);
            }
            Ok(())
        };
        write("README.md", GUIDE)?;
        write(".gitignore", "lake/\nledger.sqlite*\n")?;
        write("models/README.md", MODELS_GUIDE)?;
        Ok(made)
    }

    /// A path as a connector's `location`: relative to the project root when inside it.
    pub fn relative(&self, path: &Path) -> String {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        match abs.strip_prefix(&self.root) {
            Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
            Err(_) => abs.display().to_string(),
        }
    }

    /// The connectors folder.
    pub fn connectors_dir(&self) -> PathBuf {
        self.root.join("connectors")
    }

    /// The models folder.
    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    /// Loads every model — the bundled library (unless `searchlight.toml` turns it off), then
    /// the project's own — each on its own.
    pub fn models(&self) -> anyhow::Result<Vec<Result<crate::model::Model, crate::model::Error>>> {
        let dir = self.models_dir();
        let loaded =
            if self.config.library.bundled { crate::model::load_library(&dir) } else { crate::model::load_dir(&dir) };
        loaded.map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
    }

    /// The default output folder of the fixture generator.
    pub fn fixtures_dir(&self) -> PathBuf {
        self.root.join("fixtures").join("demo")
    }

    /// Loads every connector, checked against the canonical schema; each succeeds or fails on
    /// its own.
    pub fn connectors(&self) -> anyhow::Result<Vec<connector::Result<Connector>>> {
        let dir = self.connectors_dir();
        connector::load_dir(&dir, Schema::bundled()).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
    }

    /// Refuses to serve or run a pipeline on settings `check` refuses (a password in the file, a
    /// mail address that is not one, a cron or timeout that does not parse): the service must
    /// not start half-configured.
    pub fn settings_refused(&self) -> anyhow::Result<()> {
        let (config, text) = crate::settings::Config::load_text(&self.root)?;
        let faults = config.serve.check_settings(&self.root.join(crate::settings::CONFIG), &text);
        if let Some(first) = faults.first() {
            anyhow::bail!(
                "{first}{} — searchlight.toml 有错误, 未启动 (settings refused; `searchlight check` lists them)",
                if faults.len() > 1 { format!(" (and {} more)", faults.len() - 1) } else { String::new() }
            );
        }
        Ok(())
    }

    /// The catalogue models run against: the canonical schema plus the datasets of the
    /// project's own that its connectors declare.
    pub fn catalog(connectors: &[Connector]) -> Schema {
        let custom = connectors
            .iter()
            .flat_map(|c| c.blocks.iter().filter(|b| b.custom).map(move |b| b.dataset(Schema::bundled(), &c.path)));
        Schema::bundled().with_custom(custom)
    }
}

/// The guide `init` writes into a new project.
const GUIDE: &str = "# 探照灯项目 · a searchlight project

本项目使用探照灯内置的监督模型库(41 个模型)与规范数据结构; `models/` 里的模型会追加到内置库,
同名 id 则替换内置模型。This project runs the model library bundled with searchlight; models in
`models/` add to it, or replace a bundled model of the same id.

From a folder of exports to first clues:

```sh
# 1. put the departments' exports into exports/ (CSV in any encoding, xlsx, NDJSON, Parquet)
searchlight --project . connector new exports/*          # 2. a connector draft per export
#    3. open connectors/*.toml: confirm each suggested mapping (请确认), map value words, delete the marks
searchlight --project . ingest --dry-run                 # 4. see what would land: rows, flags, quarantine
searchlight --project . coverage                         # 5. what each model can do with these exports
searchlight --project . pipeline --as-of 2025-12-31      # 6. land, run every model, record the clues
searchlight --project . clues                            # 7. the clues, ID numbers masked
```

`searchlight datasets` lists the canonical datasets and columns; `docs/connectors.md` in the
searchlight repository documents every connector key.
";

/// The guide `init` writes into `models/`.
const MODELS_GUIDE: &str = "# 本项目的模型 · this project's models

A model here is one `.sql` file under a TOML header (see searchlight's `docs/models.md`).
A model with a new id adds to the bundled library; one with the id of a bundled model
(`searchlight models` lists them) replaces it for this project.
";
