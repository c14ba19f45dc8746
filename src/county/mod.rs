//! placeholder
pub struct Settings { pub seed: u64, pub scale: u32, pub only: Vec<String> }
pub struct Report { pub files: Vec<(std::path::PathBuf, u64)> }
pub fn generate(_s: &Settings, _out: &std::path::Path) -> anyhow::Result<Report> { anyhow::bail!("not yet") }
