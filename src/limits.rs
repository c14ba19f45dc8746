//! What one process may spend and where its model runs execute: the memory all its queries
//! share, the time one query (a model, a `sql`) may take, and the Ballista cluster model runs
//! go to, if any. Set once at start-up — from `--memory-limit` / `--query-timeout` /
//! `--cluster`, else `[engine]` of `searchlight.toml`, else the defaults — and read by the
//! engine and the runner.

use std::sync::OnceLock;
use std::time::Duration;

/// Default time one query may take: county-scale models take seconds; this bounds a runaway
/// (an endless recursive query) without cutting a slow honest one.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30 * 60);

static MEMORY: OnceLock<u64> = OnceLock::new();
static QUERY_TIMEOUT: OnceLock<Duration> = OnceLock::new();
static CLUSTER: OnceLock<Option<String>> = OnceLock::new();

/// The smallest memory limit accepted (DataFusion needs some room for any query).
const MIN_MEMORY: u64 = 16 << 20;

/// Sets the memory limit (bytes); the first call wins, and only before the first engine.
pub fn set_memory(bytes: u64) {
    let _ = MEMORY.set(bytes.max(MIN_MEMORY));
}

/// Sets the query timeout; the first call wins.
pub fn set_query_timeout(t: Duration) {
    let _ = QUERY_TIMEOUT.set(t);
}

/// Sets the cluster model runs execute on (`df://host:port`); the first call wins.
pub fn set_cluster(url: String) {
    let _ = CLUSTER.set(Some(url));
}

/// The cluster model runs execute on, if any (none: in this process).
pub fn cluster() -> Option<String> {
    CLUSTER.get_or_init(|| None).clone()
}

/// Whether `url` has the shape of a cluster URL (`df://host[:port][?partitions=N]`).
pub fn check_cluster(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a cluster URL (df://host:port): {e}"))?;
    if parsed.scheme() != "df" || parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{url}`: a cluster URL is df://host:port (the Ballista scheduler, port 50050 by default)"
        ));
    }
    for (k, v) in parsed.query_pairs() {
        if k != "partitions" || v.parse::<usize>().ok().filter(|n| (1..=4096).contains(n)).is_none() {
            return Err(format!(
                "`{url}`: the one setting a cluster URL takes is partitions=N, 1 to 4096 (df://host:50050?partitions=32)"
            ));
        }
    }
    Ok(())
}

/// The memory limit in force (bytes), the process's budget: by default half the memory the
/// process may have — the machine's, or its container's (cgroup) when that is less — leaving
/// the rest to the page cache and the machine's other work; 4 GiB where neither says. Its
/// queries share [`query_memory`] of it.
pub fn memory() -> u64 {
    *MEMORY.get_or_init(|| {
        let machine = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb.saturating_mul(1024))
        });
        // cgroup v2, then v1 ("max" and v1's huge sentinel mean no limit)
        let container = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
            .iter()
            .find_map(|f| std::fs::read_to_string(f).ok()?.trim().parse::<u64>().ok())
            .filter(|&b| b < 1 << 60);
        let total = match (machine, container) {
            (Some(m), Some(c)) => Some(m.min(c)),
            (m, c) => m.or(c),
        };
        total.map(|t| t / 2).unwrap_or(4 << 30).max(MIN_MEMORY)
    })
}

/// The part of the memory limit queries' operators may reserve together — DataFusion's memory
/// pool, within which hash tables, join build sides, sort and aggregation buffers spill or fail
/// alone: [`POOL_SHARE_PERCENT`] of the limit. The rest is for what the pool does not account:
/// Parquet pages being decoded, batches in flight between operators, results being turned into
/// clues, the ledger, and the allocator's slack — so the process stays near the limit, not at
/// several times it (docs/scale.md).
pub fn query_memory() -> u64 {
    pool_of(memory())
}

/// The query pool a process under memory limit `limit` gives its queries.
pub fn pool_of(limit: u64) -> u64 {
    limit / 100 * POOL_SHARE_PERCENT
}

/// The share of the memory limit given to the query pool ([`query_memory`]), in percent.
pub const POOL_SHARE_PERCENT: u64 = 40;

/// The query timeout in force.
pub fn query_timeout() -> Duration {
    *QUERY_TIMEOUT.get_or_init(|| DEFAULT_QUERY_TIMEOUT)
}

/// The longest line a text export may have (bytes): 16 MiB unless `SEARCHLIGHT_MAX_LINE`
/// (`64MiB`) says otherwise. Real exports' lines are a few hundred bytes; one line of a
/// gigabyte is a damaged or hostile file, and would be decoded whole.
pub fn max_line() -> u64 {
    static MAX_LINE: OnceLock<u64> = OnceLock::new();
    *MAX_LINE.get_or_init(|| env_size("SEARCHLIGHT_MAX_LINE", 16 << 20))
}

/// The most a workbook's sheets may hold once decompressed (bytes): 1 GiB unless
/// `SEARCHLIGHT_MAX_SHEET` says otherwise — a few megabytes of xlsx can inflate to gigabytes.
pub fn max_sheet() -> u64 {
    static MAX_SHEET: OnceLock<u64> = OnceLock::new();
    *MAX_SHEET.get_or_init(|| env_size("SEARCHLIGHT_MAX_SHEET", 1 << 30))
}

/// Rows converted before they are stored as one Parquet part, when a read hands on its rows in
/// several pieces (a workbook's sheets, OCDS processes in groups): 262 144 unless
/// `SEARCHLIGHT_PIECE_ROWS` says otherwise. A workbook of many sheets is landed part by part, so
/// memory holds a part's rows, not the workbook's.
pub fn piece_rows() -> usize {
    static PIECE_ROWS: OnceLock<usize> = OnceLock::new();
    *PIECE_ROWS.get_or_init(|| {
        std::env::var("SEARCHLIGHT_PIECE_ROWS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(256 * 1024)
    })
}

/// A size from an environment variable, or the default when it is unset or not a size.
fn env_size(var: &str, default: u64) -> u64 {
    std::env::var(var).ok().and_then(|v| parse_size(&v).ok()).unwrap_or(default)
}

/// `4GiB`, `512MiB`, `2G`, `800M` or bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a size (4GiB, 512MiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("`{other}` is not a size unit (KiB, MiB, GiB)")),
    };
    let bytes = n * factor as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{s}` is not a size (4GiB, 512MiB)"));
    }
    Ok(bytes as u64)
}

/// A memory limit (`--memory-limit`, `[engine] memory_limit`): a size of at least 16 MiB. A
/// smaller one is refused, not silently raised: the user would believe the process held to it.
pub fn parse_memory_limit(s: &str) -> Result<u64, String> {
    let bytes = parse_size(s)?;
    if bytes < MIN_MEMORY {
        return Err(format!("`{s}` is below the smallest memory limit, {}", bytes_text(MIN_MEMORY)));
    }
    Ok(bytes)
}

/// `90s`, `30m`, `2h` (a whole positive number and a unit).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok().filter(|&n| n > 0)?;
    let secs = match unit.trim() {
        "s" => n,
        "m" | "min" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// "8.0 GiB", "16 MiB".
pub fn bytes_text(b: u64) -> String {
    if b >= 1 << 30 { format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64) } else { format!("{} MiB", b >> 20) }
}

/// "30 分钟", "90 秒".
pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s % 3600 == 0 {
        format!("{} 小时", s / 3600)
    } else if s >= 60 && s % 60 == 0 {
        format!("{} 分钟", s / 60)
    } else {
        format!("{s} 秒")
    }
}

/// `[engine]` of `searchlight.toml`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// What all queries of the process may use together (`8GiB`).
    #[serde(default)]
    pub memory_limit: Option<toml::Spanned<String>>,
    /// How long one model or `sql` query may run (`30m`).
    #[serde(default)]
    pub query_timeout: Option<toml::Spanned<String>>,
    /// The Ballista cluster model runs execute on (`df://host:50050`).
    #[serde(default)]
    pub cluster: Option<toml::Spanned<String>>,
}

impl EngineSettings {
    /// The settings' problems, each with its byte span in the file.
    pub fn problems(&self) -> Vec<(std::ops::Range<usize>, String)> {
        let mut out = Vec::new();
        if let Some(m) = &self.memory_limit
            && let Err(e) = parse_memory_limit(m.get_ref())
        {
            out.push((m.span(), format!("[engine] memory_limit: {e}")));
        }
        if let Some(t) = &self.query_timeout
            && parse_duration(t.get_ref()).is_none()
        {
            out.push((
                t.span(),
                format!("[engine] query_timeout `{}`: write a number and s, m or h (90s, 30m, 2h)", t.get_ref()),
            ));
        }
        if let Some(c) = &self.cluster
            && let Err(e) = check_cluster(c.get_ref())
        {
            out.push((c.span(), format!("[engine] cluster {e}")));
        }
        out
    }

    /// Puts the settings in force where no command-line option did first.
    pub fn apply(&self) {
        if let Some(b) = self.memory_limit.as_ref().and_then(|m| parse_memory_limit(m.get_ref()).ok()) {
            set_memory(b);
        }
        if let Some(t) = self.query_timeout.as_ref().and_then(|t| parse_duration(t.get_ref())) {
            set_query_timeout(t);
        }
        if let Some(c) = self.cluster.as_ref().filter(|c| check_cluster(c.get_ref()).is_ok()) {
            set_cluster(c.get_ref().clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert!(parse_size("lots").is_err() && parse_size("0").is_err() && parse_size("1e400").is_err());
        assert!(parse_size("99999999999TiB").is_err());
        assert_eq!(parse_memory_limit("16MiB"), Ok(16 << 20));
        let small = parse_memory_limit("1KiB").unwrap_err();
        assert!(small.contains("1KiB") && small.contains("16 MiB"), "{small}");
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("half an hour"), None);
        assert_eq!(bytes_text(16 << 20), "16 MiB");
        assert_eq!(duration_text(Duration::from_secs(1800)), "30 分钟");
    }
}
