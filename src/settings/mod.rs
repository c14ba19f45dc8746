//! The settings of a project (`searchlight.toml`): data at the bottom that every stage reads —
//! the model library's choice, the engine's memory and time ([`crate::limits`]), and the
//! service's time zone, schedules, SMTP, subscribers and admin ([`serve`]). Strict keys; every
//! error names the file, line and column.

use std::path::Path;

pub mod serve;

pub use serve::{AsOf, Job, Names, Security, Serve, Smtp, Subscriber, listen_address, parse_duration};

/// File name of the project settings.
pub const CONFIG: &str = "searchlight.toml";

/// The project settings (`searchlight.toml`, optional; strict keys).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(from = "RawConfig")]
pub struct Config {
    /// The model library.
    pub library: LibraryConfig,
    /// Time zone, schedules, SMTP, subscribers, admin ([`serve`]).
    pub serve: Serve,
    /// `[engine]`: the memory and time queries may take ([`crate::limits`]).
    pub engine: crate::limits::EngineSettings,
}

/// The file's keys, all at the top level (serde's `flatten` cannot be strict).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    library: LibraryConfig,
    #[serde(default)]
    engine: crate::limits::EngineSettings,
    #[serde(default)]
    time_zone: Option<toml::Spanned<String>>,
    #[serde(default)]
    admin: Option<toml::Spanned<String>>,
    #[serde(default)]
    smtp: Option<serve::Smtp>,
    #[serde(default)]
    schedule: Vec<Job>,
    #[serde(default)]
    subscriber: Vec<serve::Subscriber>,
    #[serde(default)]
    listen: Option<toml::Spanned<String>>,
}

impl From<RawConfig> for Config {
    fn from(r: RawConfig) -> Config {
        Config {
            library: r.library,
            serve: Serve {
                time_zone: r.time_zone,
                admin: r.admin,
                smtp: r.smtp,
                schedule: r.schedule,
                subscriber: r.subscriber,
                listen: r.listen,
            },
            engine: r.engine,
        }
    }
}

/// `[library]` of `searchlight.toml`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryConfig {
    /// Run the model library bundled with searchlight (default true); false: only the
    /// project's own `models/`.
    #[serde(default = "yes")]
    pub bundled: bool,
}

impl Default for LibraryConfig {
    fn default() -> Self {
        LibraryConfig { bundled: true }
    }
}

fn yes() -> bool {
    true
}

impl Config {
    /// Reads `searchlight.toml` in `root`, if there is one; errors name file, line and column.
    pub fn load(root: &Path) -> anyhow::Result<Config> {
        Ok(Config::load_text(root)?.0)
    }

    /// The settings and the file's text (for positions in later checks; empty without a file).
    pub fn load_text(root: &Path) -> anyhow::Result<(Config, String)> {
        let path = root.join(CONFIG);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Config::default(), String::new())),
            Err(e) => anyhow::bail!("{}: {e}", path.display()),
        };
        let config: Config = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| crate::position::line_col(&text, s.start)).unwrap_or((1, 1));
            anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message().trim())
        })?;
        if let Some((span, message)) = config.engine.problems().into_iter().next() {
            let (line, col) = crate::position::line_col(&text, span.start);
            anyhow::bail!("{}:{line}:{col}: {message}", path.display());
        }
        Ok((config, text))
    }
}
