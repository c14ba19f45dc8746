//! Terminal rendering: summary tables (Chinese labels first), dataset details, query results and
//! the progress bar of long loads.

use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use datafusion::arrow::record_batch::RecordBatch;

use crate::connector::Connector;
use crate::lake::{Lake, Manifest, Outcome, Progress};
use crate::project::Project;

fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(headers.iter().map(|h| Cell::new(h)));
    t
}

fn num(n: u64) -> Cell {
    Cell::new(group(n)).set_alignment(CellAlignment::Right)
}

/// 1234567 → 1,234,567
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Progress bar of one dataset's ingest; drawn only on a terminal and only for long loads.
pub struct ProgressBar(indicatif::ProgressBar);

impl ProgressBar {
    /// A bar labelled with the dataset name.
    pub fn new(name: &str) -> Self {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_message(name.to_string());
        ProgressBar(bar)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for ProgressBar {
    fn start(&self, total: u64) {
        // both passes read the sources, so `total` is twice their size
        if total >= 64 << 20 {
            self.0.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            self.0.set_length(total);
            self.0.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>24} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} 剩余 {eta}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
        }
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

/// One line of the ingest summary.
pub struct IngestRow {
    name: String,
    title: String,
    status: &'static str,
    manifest: Option<Manifest>,
    elapsed: Duration,
}

impl IngestRow {
    /// A dataset that landed or was unchanged.
    pub fn new(conn: &Connector, outcome: &Outcome, elapsed: Duration) -> Self {
        let status = match outcome {
            Outcome::Landed(_) => "新快照",
            Outcome::Unchanged(_) => "未变化",
        };
        IngestRow {
            name: conn.name().into(),
            title: conn.spec.title.clone(),
            status,
            manifest: Some(outcome.manifest().clone()),
            elapsed,
        }
    }

    /// A dataset whose ingest failed (its previous snapshot stays current).
    pub fn failed(conn: &Connector, elapsed: Duration) -> Self {
        IngestRow {
            name: conn.name().into(), title: conn.spec.title.clone(), status: "失败", manifest: None, elapsed
        }
    }
}

/// Prints the per-dataset ingest summary.
pub fn ingest_table(rows: &[IngestRow]) {
    let mut t = table(&[
        "数据集 dataset",
        "名称",
        "结果 status",
        "快照",
        "读取行 read",
        "入湖行 landed",
        "隔离行 quarantined",
        "标记 flags",
        "用时 time",
    ]);
    let (mut landed, mut quarantined) = (0, 0);
    for r in rows {
        let m = r.manifest.as_ref();
        let (read, rows_, q, f) =
            m.map(|m| (m.rows_read, m.rows, m.rows_quarantined, m.flag_count())).unwrap_or_default();
        if r.status == "新快照" {
            landed += rows_;
            quarantined += q;
        }
        t.add_row(vec![
            Cell::new(&r.name),
            Cell::new(&r.title),
            Cell::new(r.status),
            Cell::new(m.map(|m| m.snapshot.as_str()).unwrap_or("-")),
            num(read),
            num(rows_),
            num(q),
            num(f),
            Cell::new(format!("{:.2}s", r.elapsed.as_secs_f64())).set_alignment(CellAlignment::Right),
        ]);
    }
    println!("{t}");
    let failed = rows.iter().filter(|r| r.status == "失败").count();
    println!(
        "入湖 {} 个数据集: 新快照 {}, 未变化 {}, 失败 {}; 新入湖 {} 行, 隔离 {} 行",
        rows.len(),
        rows.iter().filter(|r| r.status == "新快照").count(),
        rows.iter().filter(|r| r.status == "未变化").count(),
        failed,
        group(landed),
        group(quarantined)
    );
}

/// Prints every dataset's current snapshot.
pub async fn lake_table(lake: &Lake, project: &Project) -> anyhow::Result<()> {
    let mut t = table(&[
        "数据集 dataset",
        "名称",
        "领域",
        "当前快照",
        "行数 rows",
        "隔离 quarantined",
        "标记 flags",
        "截至 as-of",
        "来源文件",
    ]);
    let names = lake.datasets().await?;
    for n in &names {
        if let Some(m) = lake.current(n).await? {
            let sources = m
                .sources
                .iter()
                .map(|s| s.location.rsplit('/').next().unwrap_or(&s.location).to_string())
                .collect::<Vec<_>>()
                .join(", ");
            t.add_row(vec![
                Cell::new(&m.dataset),
                Cell::new(&m.title),
                Cell::new(&m.domain),
                Cell::new(&m.snapshot),
                num(m.rows),
                num(m.rows_quarantined),
                num(m.flag_count()),
                Cell::new(&m.as_of),
                Cell::new(sources),
            ]);
        }
    }
    println!("湖 lake: {}", display_url(&project.lake));
    println!("{t}");
    println!("{} 个数据集; `searchlight lake <数据集>` 查看快照、结构与隔离记录", names.len());
    Ok(())
}

fn display_url(u: &url::Url) -> String {
    if u.scheme() == "file" {
        u.to_file_path().map(|p| p.display().to_string()).unwrap_or_else(|_| u.to_string())
    } else {
        u.to_string()
    }
}

/// Prints one dataset: snapshots, schema, sources, quarantine records.
pub async fn dataset_detail(lake: &Lake, name: &str, json: bool) -> anyhow::Result<()> {
    let snaps = lake.snapshots(name).await?;
    if snaps.is_empty() {
        anyhow::bail!("no dataset `{name}` in the lake {}", lake.url());
    }
    if json {
        let v: Vec<_> = snaps
            .iter()
            .map(|s| serde_json::json!({"snapshot": s.id, "current": s.current, "complete": s.manifest.is_some(), "manifest": s.manifest}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut t = table(&["快照 snapshot", "状态", "写入时间", "截至 as-of", "行数", "隔离", "标记", "指纹 fingerprint"]);
    for s in &snaps {
        let state = match (&s.manifest, s.current) {
            (Some(_), true) => "当前 current",
            (Some(_), false) => "历史",
            (None, _) => "未完成(忽略) incomplete",
        };
        let m = s.manifest.as_ref();
        t.add_row(vec![
            Cell::new(&s.id),
            Cell::new(state),
            Cell::new(m.map(|m| m.created_at.as_str()).unwrap_or("-")),
            Cell::new(m.map(|m| m.as_of.as_str()).unwrap_or("-")),
            num(m.map(|m| m.rows).unwrap_or(0)),
            num(m.map(|m| m.rows_quarantined).unwrap_or(0)),
            num(m.map(|m| m.flag_count()).unwrap_or(0)),
            Cell::new(m.map(|m| m.fingerprint.as_str()).unwrap_or("-")),
        ]);
    }
    println!("{name}\n{t}");
    let Some(m) = lake.current(name).await? else {
        return Ok(());
    };
    println!("\n{} · {} · 连接器 {}", m.title, m.domain, m.connector);
    let mut s = table(&["列 column", "类型 type", "导出表头 export header", "可空"]);
    for c in &m.schema {
        s.add_row(vec![
            Cell::new(&c.name),
            Cell::new(&c.data_type),
            Cell::new(c.label.as_deref().unwrap_or("")),
            Cell::new(if c.nullable { "是" } else { "否" }),
        ]);
    }
    println!("{s}");
    let mut src = table(&["来源 source", "字节", "编码", "BLAKE3"]);
    for f in &m.sources {
        src.add_row(vec![
            Cell::new(&f.location),
            num(f.bytes),
            Cell::new(f.encoding.as_deref().unwrap_or("-")),
            Cell::new(&f.blake3[..16]),
        ]);
    }
    println!("{src}");
    for (label, counts, file) in [
        ("隔离 quarantine", &m.quarantine, crate::lake::manifest::QUARANTINE),
        ("标记 flags", &m.flags, crate::lake::manifest::FLAGS),
    ] {
        if counts.is_empty() {
            continue;
        }
        let summary = counts.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
        println!("{label}: {summary}");
        let engine = crate::engine::Engine::local();
        let (root, store) = lake.store();
        engine.context().register_object_store(&root, store);
        let url = lake.file_url(&m.dataset, &m.snapshot, file);
        let df = engine
            .context()
            .read_parquet(url.as_str(), datafusion::prelude::ParquetReadOptions::default())
            .await?
            .select_columns(&["file", "sheet", "line", "column", "raw", "reason"])?
            .limit(0, Some(10))?;
        let batches = df.collect().await?;
        println!("{}", datafusion::arrow::util::pretty::pretty_format_batches(&batches)?);
    }
    Ok(())
}

/// Prints the declared datasets.
pub fn datasets(connectors: &[Connector]) {
    let mut t = table(&["数据集 dataset", "名称", "领域", "格式", "列数", "主键 key", "来源 location"]);
    for c in connectors {
        t.add_row(vec![
            Cell::new(c.name()),
            Cell::new(&c.spec.title),
            Cell::new(&c.spec.domain),
            Cell::new(c.spec.format.name()),
            num(c.spec.columns.len() as u64),
            Cell::new(c.spec.key.join(", ")),
            Cell::new(&c.spec.location),
        ]);
    }
    println!("{t}");
}

/// Prints query results as a table or JSON rows.
pub fn batches(batches: &[RecordBatch], json: bool) -> anyhow::Result<()> {
    if json {
        let mut w = datafusion::arrow::json::ArrayWriter::new(Vec::new());
        for b in batches {
            w.write(b)?;
        }
        w.finish()?;
        println!("{}", String::from_utf8(w.into_inner())?);
    } else {
        println!("{}", datafusion::arrow::util::pretty::pretty_format_batches(batches)?);
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        println!("{n} 行");
    }
    Ok(())
}
