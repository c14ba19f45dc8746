//! Terminal rendering: summary tables (Chinese labels first), dataset details, query results and
//! the progress bar of long loads.

use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use datafusion::arrow::record_batch::RecordBatch;

use crate::connector::{Block, Connector};
use crate::lake::{Lake, Manifest, Outcome, Progress};
use crate::project::Project;
use crate::schema::Schema;

fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(headers.iter().map(|h| Cell::new(h)));
    t
}

fn num(n: u64) -> Cell {
    Cell::new(group(n)).set_alignment(CellAlignment::Right)
}

pub use crate::codes::text::{group, money};

/// Progress bar of one dataset's ingest; drawn only on a terminal and only for long loads.
pub struct ProgressBar(indicatif::ProgressBar);

impl ProgressBar {
    /// A bar labelled with the dataset name.
    pub fn new(name: &str) -> Self {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_message(name.to_string());
        ProgressBar(bar)
    }
}

impl Drop for ProgressBar {
    fn drop(&mut self) {
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
    /// What the snapshot column says instead of the manifest's id (a dry run: "将为 v000002").
    snapshot: Option<String>,
}

impl IngestRow {
    /// A dataset that landed or was unchanged.
    pub fn new(_conn: &Connector, outcome: &Outcome, elapsed: Duration) -> Self {
        let status = match outcome {
            Outcome::Landed(m) if m.appends.is_some() => "新快照(追加)",
            Outcome::Landed(_) => "新快照",
            Outcome::Unchanged(_) => "未变化",
        };
        let m = outcome.manifest();
        IngestRow {
            name: m.dataset.clone(),
            title: m.title.clone(),
            status,
            manifest: Some(m.clone()),
            elapsed,
            snapshot: None,
        }
    }

    /// A dry run's row, told against the real lake: the snapshot it would be, or that nothing
    /// would change.
    pub async fn against(mut self, lake: &Lake) -> anyhow::Result<Self> {
        let Some(m) = &self.manifest else { return Ok(self) };
        let current = lake.current(&m.dataset).await?;
        if current.as_ref().is_some_and(|c| c.fingerprint == m.fingerprint) {
            self.status = "将不变";
            self.snapshot = current.map(|c| format!("仍为 {}", c.snapshot));
        } else {
            let n = lake
                .snapshots(&m.dataset)
                .await?
                .iter()
                .filter_map(|s| s.id.strip_prefix('v').and_then(|n| n.parse::<u64>().ok()))
                .max()
                .unwrap_or(0);
            self.status = "将入湖";
            self.snapshot = Some(format!("将为 v{:06}", n + 1));
        }
        Ok(self)
    }

    /// A dataset whose ingest failed (its previous snapshot stays current).
    pub fn failed(_conn: &Connector, block: &Block, elapsed: Duration) -> Self {
        IngestRow {
            name: block.name.clone(),
            title: block.title.clone(),
            status: "失败",
            manifest: None,
            elapsed,
            snapshot: None,
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
        "合并/筛除 collapsed/filtered",
        "标记 flags",
        "用时 time",
    ]);
    let (mut landed, mut quarantined) = (0, 0);
    for r in rows {
        let m = r.manifest.as_ref();
        let (read, rows_, q, f) =
            m.map(|m| (m.rows_read, m.rows, m.rows_quarantined, m.flag_count())).unwrap_or_default();
        let merged = m
            .map(|m| {
                if m.rows_collapsed + m.rows_filtered == 0 {
                    "-".to_string()
                } else {
                    format!("{} / {}", group(m.rows_collapsed), group(m.rows_filtered))
                }
            })
            .unwrap_or_else(|| "-".into());
        if r.status == "新快照" || r.status == "将入湖" {
            landed += rows_;
            quarantined += q;
        }
        t.add_row(vec![
            Cell::new(&r.name),
            Cell::new(&r.title),
            Cell::new(r.status),
            Cell::new(r.snapshot.as_deref().or(m.map(|m| m.snapshot.as_str())).unwrap_or("-")),
            num(read),
            num(rows_),
            num(q),
            Cell::new(merged).set_alignment(CellAlignment::Right),
            num(f),
            Cell::new(format!("{:.2}s", r.elapsed.as_secs_f64())).set_alignment(CellAlignment::Right),
        ]);
    }
    say!("{t}");
    for r in rows {
        let Some(m) = &r.manifest else { continue };
        for (col, words) in &m.values_outside {
            let n: u64 = words.values().sum();
            let shown: Vec<String> = words.iter().take(6).map(|(w, c)| format!("「{w}」{c}")).collect();
            say!(
                "提示 {}.{col}: {} 行取值不在规范取值中 ({}) — 在连接器中用 values = {{ … }} 映射 (map them with `values`)",
                m.dataset,
                group(n),
                shown.join(" ")
            );
        }
        if !m.absent.is_empty() {
            say!("提示 {}: 导出中没有 {} (absent: NULL; models that need them say so)", m.dataset, m.absent.join(", "));
        }
    }
    let failed = rows.iter().filter(|r| r.status == "失败").count();
    let dry = rows.iter().any(|r| r.status == "将入湖" || r.status == "将不变");
    say!(
        "{} {} 个数据集: 新快照 {}, 未变化 {}, 失败 {}; 新入湖 {} 行, 隔离 {} 行",
        if dry { "试运行 将入湖" } else { "入湖" },
        rows.len(),
        rows.iter().filter(|r| r.status == "新快照" || r.status == "将入湖").count(),
        rows.iter().filter(|r| r.status == "未变化" || r.status == "将不变").count(),
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
    say!("湖 lake: {}", display_url(&project.lake));
    say!("{t}");
    say!("{} 个数据集; `searchlight lake <数据集>` 查看快照、结构与隔离记录", names.len());
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
        say!("{}", serde_json::to_string_pretty(&v)?);
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
    say!("{name}\n{t}");
    let Some(m) = lake.current(name).await? else {
        return Ok(());
    };
    say!("\n{} · {} · 连接器 {}", m.title, m.domain, m.connector);
    let mut s = table(&["列 column", "类型 type", "导出表头 export header", "可空"]);
    for c in &m.schema {
        s.add_row(vec![
            Cell::new(&c.name),
            Cell::new(&c.data_type),
            Cell::new(c.label.as_deref().unwrap_or("")),
            Cell::new(if c.nullable { "是" } else { "否" }),
        ]);
    }
    say!("{s}");
    let mut src = table(&["来源 source", "字节", "编码", "BLAKE3"]);
    for f in &m.sources {
        src.add_row(vec![
            Cell::new(&f.location),
            num(f.bytes),
            Cell::new(f.encoding.as_deref().unwrap_or("-")),
            Cell::new(&f.blake3[..16]),
        ]);
    }
    say!("{src}");
    issues(lake, &m).await
}

/// The quarantine and flag counts of a snapshot and their first records.
async fn issues(lake: &Lake, m: &Manifest) -> anyhow::Result<()> {
    for (col, words) in &m.values_outside {
        let shown: Vec<String> = words.iter().take(8).map(|(w, c)| format!("「{w}」{c}")).collect();
        say!("规范取值之外 {col}: {}", shown.join(" "));
    }
    for (label, counts, file) in [
        ("隔离 quarantine", &m.quarantine, crate::lake::manifest::QUARANTINE),
        ("标记 flags", &m.flags, crate::lake::manifest::FLAGS),
    ] {
        if counts.is_empty() {
            continue;
        }
        let summary = counts.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
        say!("{label}: {summary}");
        let engine = crate::engine::Engine::local();
        let (root, store) = lake.store();
        engine.context().register_object_store(&root, store);
        // an appended snapshot's issues are in its own file and in those of the ones before
        let urls: Vec<String> = lake.issue_urls(m, file).await?.iter().map(|u| u.to_string()).collect();
        if urls.is_empty() {
            continue;
        }
        let df = engine
            .context()
            .read_parquet(urls, datafusion::prelude::ParquetReadOptions::default())
            .await?
            .select_columns(&["file", "sheet", "line", "column", "raw", "reason"])?
            .limit(0, Some(10))?;
        let batches = df.collect().await?;
        say!("{}", datafusion::arrow::util::pretty::pretty_format_batches(&batches)?);
    }
    Ok(())
}

/// Prints the catalogue: canonical datasets and the project's own, with their connectors.
pub fn datasets(catalog: &Schema, connectors: &[Connector]) {
    let mut t = table(&["数据集 dataset", "名称", "领域", "粒度 grain", "列数", "主键 key", "连接器 connector"]);
    for d in catalog.datasets.values() {
        let by: Vec<&str> =
            connectors.iter().filter(|c| c.datasets().any(|x| x == d.name)).map(|c| c.id.as_str()).collect();
        t.add_row(vec![
            Cell::new(&d.name),
            Cell::new(format!("{}{}", d.title, if d.is_custom() { " (自定义)" } else { "" })),
            Cell::new(&d.domain),
            Cell::new(d.grain.name()),
            num(d.columns.len() as u64),
            Cell::new(d.key.join(", ")),
            Cell::new(if by.is_empty() { "—".to_string() } else { by.join(", ") }),
        ]);
    }
    say!("{t}");
    let landed =
        catalog.datasets.values().filter(|d| connectors.iter().any(|c| c.datasets().any(|x| x == d.name))).count();
    say!(
        "{} 个数据集, 本项目连接器提供 {landed} 个; `searchlight coverage` 查看各模型可否运行",
        catalog.datasets.len()
    );
}

/// What `init` made.
pub fn init_done(dir: &std::path::Path, made: &[std::path::PathBuf]) {
    for p in made {
        say!("  创建 {}", p.display());
    }
    say!("项目已创建 project ready: {}", dir.display());
    say!(
        "下一步 next: 把导出文件放进 {0}/exports/, 然后 `searchlight --project {0} connector new {0}/exports/*`",
        dir.display()
    );
}

/// What `connector new` wrote.
pub fn skeleton_written(
    sample: &crate::connector::skeleton::Sample,
    proposals: &[crate::connector::skeleton::Proposal],
    target: &std::path::Path,
) {
    let mapped: usize = proposals.iter().map(|p| p.columns.len()).max().unwrap_or(0);
    let datasets: Vec<&str> = proposals.iter().map(|p| p.dataset.as_str()).collect();
    if sample.format == "ocds" {
        say!(
            "{} → {}: OCDS 开放合同数据, 落为 {} (删去不需要的表 · delete the tables you do not need)",
            sample.path.display(),
            target.display(),
            datasets.join(" + ")
        );
        return;
    }
    say!(
        "{} → {}: {} 个表头, 建议映射 {} 个, 数据集 {} (请逐项确认 · confirm each suggestion)",
        sample.path.display(),
        target.display(),
        sample.headers.iter().filter(|h| !h.trim().is_empty()).count(),
        mapped,
        if datasets.is_empty() { "无匹配(自定义)".to_string() } else { datasets.join(" + ") }
    );
}

/// Prints query results as a table or JSON rows.
pub fn batches(batches: &[RecordBatch], json: bool) -> anyhow::Result<()> {
    if json {
        let mut w = datafusion::arrow::json::ArrayWriter::new(Vec::new());
        for b in batches {
            w.write(b)?;
        }
        w.finish()?;
        say!("{}", String::from_utf8(w.into_inner())?);
    } else {
        say!("{}", datafusion::arrow::util::pretty::pretty_format_batches(batches)?);
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        say!("{n} 行");
    }
    Ok(())
}

/// One line of `searchlight check`.
pub struct CheckRow<'a> {
    /// The model.
    pub model: &'a crate::model::Model,
    /// What checking found, when the model plans.
    pub checked: Option<crate::runner::Checked>,
    /// Why it does not check out.
    pub error: Option<String>,
}

/// The table of `searchlight check`.
pub fn check_table(rows: &[CheckRow]) {
    let mut t = table(&["模型 model", "名称", "参数 params", "读取 reads", "结果 status"]);
    let mut cannot = 0;
    for r in rows {
        let params: Vec<String> = r.model.defaults.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let reads: Vec<&str> = r.checked.iter().flat_map(|c| c.inputs.reads.keys().map(String::as_str)).collect();
        let status = match (&r.error, &r.checked) {
            (Some(_), _) => "错误 error".to_string(),
            (None, Some(c)) if !c.assessment.missing.is_empty() => {
                cannot += 1;
                format!("通过, 数据不足不能运行: 需映射 {}", c.assessment.missing.join(", "))
            }
            (None, Some(c)) if !c.assessment.without.is_empty() => {
                format!("通过, 缺可选数据 {}", c.assessment.without.join(", "))
            }
            _ => "通过 ok".to_string(),
        };
        t.add_row(vec![
            Cell::new(r.model.id()),
            Cell::new(&r.model.spec.title),
            Cell::new(params.join(" ")),
            Cell::new(reads.join(", ")),
            Cell::new(status),
        ]);
    }
    say!("{t}");
    for r in rows {
        for w in r.checked.iter().flat_map(|c| &c.warnings) {
            say_err!("警告 warning: {}: {w}", r.model.path.display());
        }
    }
    let bad = rows.iter().filter(|r| r.error.is_some()).count();
    say!(
        "检查 {} 个模型: 通过 {}, 错误 {bad}; 其中 {cannot} 个因湖中缺少数据不能运行 (`searchlight coverage` 列出要映射的列)",
        rows.len(),
        rows.len() - bad
    );
}

/// The coverage report.
pub fn coverage(c: &crate::runner::coverage::Coverage) {
    use crate::runner::coverage::Reach;
    for b in &c.broken {
        say!("错误 error: 连接器 {} 无法加载，它要入湖的 {} 按缺失计 — {}", b.file, b.datasets.join("、"), b.error);
    }
    let mut t = table(&["模型 model", "名称", "领域 area", "结果", "缺少 missing"]);
    for m in &c.models {
        let missing = if m.reach == Reach::Broken {
            m.error.clone().unwrap_or_default()
        } else {
            // core and optional apart; a "one of" group as one entry
            let mut parts = Vec::new();
            if !m.missing.is_empty() {
                parts.push(format!("必需 core: {}", m.missing.join("; ")));
            }
            if !m.blind_routes.is_empty() {
                parts.push(format!("部分路线 routes: {}", m.blind_routes.join("; ")));
            }
            if !m.without.is_empty() {
                parts.push(format!("可选 optional: {}", m.without.join(", ")));
            }
            parts.join(" | ")
        };
        t.add_row(vec![
            Cell::new(&m.model),
            Cell::new(&m.title),
            Cell::new(&m.area),
            Cell::new(m.reach.label()),
            Cell::new(missing),
        ]);
    }
    say!("依据 judged on: {}", if c.from == "lake" { "湖中当前快照 the lake" } else { "连接器声明 the connectors" });
    say!("{t}");
    let fixes: Vec<&crate::runner::coverage::ModelCoverage> = c.models.iter().filter(|m| !m.fixes.is_empty()).collect();
    if !fixes.is_empty() {
        say!("\n要做什么 what to map:");
        for m in fixes {
            say!("  {} ({}):", m.model, m.reach.label());
            for f in &m.fixes {
                say!("    - {f}");
            }
        }
    }
    let mut d = table(&["数据集 dataset", "名称", "有数据", "连接器", "使用它的模型 models", "模型要用但缺少的列"]);
    for x in &c.datasets {
        d.add_row(vec![
            Cell::new(&x.dataset),
            Cell::new(&x.title),
            Cell::new(if x.present { "是" } else { "否" }),
            Cell::new(x.connector.as_deref().unwrap_or("—")),
            Cell::new(format!("{} 个: {}", x.models.len(), x.models.join(", "))),
            Cell::new(x.missing_columns.join(", ")),
        ]);
    }
    say!("\n{d}");
    say!(
        "{} 个模型: 可完整运行 {}, 可运行(缺可选数据) {}, 部分路线不能运行 {}, 不能运行 {}, 模型错误 {}",
        c.models.len(),
        c.count(Reach::Full),
        c.count(Reach::Partial),
        c.count(Reach::SomeRoutes),
        c.count(Reach::None),
        c.count(Reach::Broken)
    );
}

/// What a dry run would land for one dataset: the first rows, the findings, the quarantine.
pub async fn dry_run_detail(lake: &Lake, m: &Manifest, catalog: &Schema) -> anyhow::Result<()> {
    say!(
        "\n── {} {} ── 读取 {} 行, 入湖 {} 行, 隔离 {} 行, 合并重复 {} 行, 筛除 {} 行",
        m.dataset,
        m.title,
        group(m.rows_read),
        group(m.rows),
        group(m.rows_quarantined),
        group(m.rows_collapsed),
        group(m.rows_filtered)
    );
    let engine = crate::engine::Engine::local();
    engine.register_snapshot(lake, &m.dataset, m).await?;
    let _ = catalog;
    let batches = engine.sql(&format!("SELECT * FROM \"{}\" LIMIT 5", m.dataset)).await?.collect().await?;
    say!("{}", datafusion::arrow::util::pretty::pretty_format_batches(&batches)?);
    issues(lake, m).await
}

/// The summary of a run.
fn run_status(m: &crate::runner::ModelOutcome) -> String {
    let status = run_status_only(m);
    match (&m.carried_from, &m.increment) {
        (Some(run), _) => format!("{status} (输入未变, 沿用 {run} 的结果)"),
        (None, Some(i)) => format!(
            "{status} (增量: {} 新增 {} 行, 重算 {} 个 {}, 其余沿用 {} 的结果)",
            i.table, i.new_rows, i.keys, i.key, i.from
        ),
        (None, None) => status,
    }
}

fn run_status_only(m: &crate::runner::ModelOutcome) -> String {
    use crate::runner::Status;
    match m.status {
        Status::Ran => "完成 ok".into(),
        Status::RanWithout => format!("完成, 未用 {}", m.without.join(", ")),
        Status::Partial => format!("部分未检查: {}", m.blind_words().join("; ")),
        Status::NotRun if !m.stale.is_empty() => format!("未运行: {} 本次导入失败", m.stale.join(", ")),
        Status::NotRun => format!("未运行: 缺 {}", m.missing.join(", ")),
        Status::Failed => "失败 failed".into(),
    }
}

/// The summary of a run.
pub fn run_table(report: &crate::runner::RunReport) {
    let mut t =
        table(&["模型 model", "名称", "领域 area", "疑点 clues", "涉及金额(元) amount", "用时 time", "结果 status"]);
    for m in &report.models {
        t.add_row(vec![
            Cell::new(&m.model),
            Cell::new(&m.title),
            Cell::new(&m.area),
            num(m.clues.len() as u64),
            Cell::new(m.amount.map(money).unwrap_or_else(|| "-".into())).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.2}s", m.elapsed_ms as f64 / 1000.0)).set_alignment(CellAlignment::Right),
            Cell::new(run_status(m)),
        ]);
    }
    say!("{t}");
    let clues: usize = report.models.iter().map(|m| m.clues.len()).sum();
    let amount: f64 = report.models.iter().filter_map(|m| m.amount).sum();
    let partial = report.models.iter().filter(|m| m.status == crate::runner::Status::Partial).count();
    say!(
        "运行 {}: {} 个模型(已运行 {}{}, 未运行 {}, 失败 {}), 疑点 {} 条, 涉及金额 {} 元; 数据截至 {}",
        report.run,
        report.models.len(),
        report.models.iter().filter(|m| m.status.looked()).count(),
        if partial > 0 { format!(", 其中部分未检查 {partial}") } else { String::new() },
        report.not_run(),
        report.failed(),
        group(clues as u64),
        money(amount),
        report.as_of
    );
    let carried = report.models.iter().filter(|m| m.carried_from.is_some()).count();
    if carried > 0 {
        say!(
            "其中 {carried} 个模型的模型、参数与输入快照与上次记录的运行相同, 沿用其结果而未重新计算 (--full 全部重新计算)"
        );
    }
    let updated = report.models.iter().filter(|m| m.increment.is_some()).count();
    if updated > 0 {
        say!("其中 {updated} 个模型只对追加数据涉及的对象增量计算, 其余沿用上次结果 (--full 全部重新计算)");
    }
    for m in &report.models {
        for w in &m.warnings {
            say!("提示 {}: {w}", m.model);
        }
    }
    if report.not_run() > 0 {
        say!(
            "未运行的模型没有查看数据, 其线索保持原状 (models that did not run looked at nothing; their clues stay as they were) — `searchlight coverage` 列出要映射的数据"
        );
    }
    if partial > 0 {
        say!(
            "部分未检查的模型只查看了部分路线或部分数据: 未发现的不代表没有问题, 未再出现的线索只有在其路线当时也未检查时才标为已消失, 无法判断的对象的线索不标为已消失 (models that looked along some routes or at some of the data only: what they did not find is not \"no problem\")"
        );
    }
}

/// The first clues of a model, with their evidence rows.
pub fn preview(m: &crate::model::Model, o: &crate::runner::ModelOutcome, limit: usize) -> anyhow::Result<()> {
    say!("{} {} — {} 条疑点, {} 行证据 (数据快照: {})", m.id(), m.spec.title, o.clues.len(), o.rows, {
        let s: Vec<String> = o.snapshots.iter().map(|(d, s)| format!("{d}@{s}")).collect();
        s.join(", ")
    });
    let rows: Vec<usize> = o.clues.iter().take(limit).flat_map(|c| c.rows.iter().copied()).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let all = datafusion::arrow::compute::concat_batches(&o.batches[0].schema(), &o.batches)?;
    let idx = datafusion::arrow::array::UInt32Array::from(rows.iter().map(|&r| r as u32).collect::<Vec<_>>());
    let columns = all
        .columns()
        .iter()
        .map(|c| datafusion::arrow::compute::take(c.as_ref(), &idx, None))
        .collect::<Result<Vec<_>, _>>()?;
    let picked = RecordBatch::try_new(all.schema(), columns)?;
    say!("{}", datafusion::arrow::util::pretty::pretty_format_batches(&[picked])?);
    Ok(())
}

/// The library as a table.
pub fn models_table(models: &[crate::model::Model]) {
    let mut t = table(&["模型 model", "名称", "领域 area", "严重度", "目录 ref", "来源 origin"]);
    for m in models {
        t.add_row(vec![
            Cell::new(m.id()),
            Cell::new(&m.spec.title),
            Cell::new(&m.spec.area),
            Cell::new(m.spec.severity.label()),
            Cell::new(m.spec.catalog.as_deref().unwrap_or("")),
            Cell::new(match m.origin {
                crate::model::Origin::Bundled => "内置 bundled".to_string(),
                crate::model::Origin::Project => m.path.display().to_string(),
            }),
        ]);
    }
    say!("{t}");
    say!("{} 个模型", models.len());
}

/// The library as the Markdown table of the README.
pub fn models_markdown(models: &[crate::model::Model]) -> String {
    let mut s = String::from("| id | 模型 | model | 领域 area | 目录 |\n|---|---|---|---|---|\n");
    for m in models {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            m.id(),
            m.spec.title,
            m.spec.title_en,
            m.spec.area,
            m.spec.catalog.as_deref().unwrap_or("")
        ));
    }
    s
}

/// What recording a run did to the ledger, one line.
pub fn ledger_line(diff: &crate::ledger::LedgerDiff) {
    use crate::ledger::Mark;
    say!(
        "线索台账: 新增 {} 条, 持续 {} 条, 已消失 {} 条, 复现 {} 条 (new / ongoing / resolved / reopened)",
        diff.count(Mark::New),
        diff.count(Mark::Ongoing),
        diff.count(Mark::Resolved),
        diff.count(Mark::Reopened)
    );
    if !diff.historical.is_empty() {
        say!("  按历史数据记录, 未改变标记 (data older than their last recorded run): {}", diff.historical.join(", "));
    }
}

fn severity_label(s: &str) -> &'static str {
    match s {
        "high" => "高",
        "medium" => "中",
        _ => "低",
    }
}

/// The workflow state of a clue with its flags, e.g. 「整改中·逾期」.
fn work_label(s: Option<&crate::ledger::WorkState>) -> String {
    let Some(s) = s else { return String::new() };
    let mut out = s.label.to_string();
    if s.rectification_failed {
        out.push_str("·整改不实");
    }
    if s.overdue {
        out.push_str("·逾期");
    }
    if s.excepted {
        out.push_str(&format!("·豁免至{}", s.excepted_until.map(|d| d.to_string()).unwrap_or_default()));
    }
    out
}

/// A clue listing.
pub fn clues_table(rows: &[crate::ledger::ClueRow]) {
    let mut t = table(&[
        "线索 clue",
        "模型 model",
        "领域 area",
        "风险",
        "对象 entity",
        "单位 unit",
        "金额(元)",
        "数据 mark",
        "办理 state",
        "首次发现 first run",
    ]);
    for r in rows {
        t.add_row(vec![
            Cell::new(&r.clue_id),
            Cell::new(&r.title),
            Cell::new(&r.area),
            Cell::new(severity_label(&r.severity)),
            Cell::new(&r.entity),
            Cell::new(r.unit.as_deref().unwrap_or("")),
            Cell::new(r.amount.map(|a| a.to_string()).unwrap_or_default()).set_alignment(CellAlignment::Right),
            Cell::new(r.mark.label()),
            Cell::new(work_label(r.state.as_ref())),
            Cell::new(&r.first_run),
        ]);
    }
    say!("{t}");
    say!("共 {} 条线索", group(rows.len() as u64));
}

/// One clue and its history.
pub fn clue_view(v: &crate::ledger::ClueView) {
    let c = &v.clue;
    say!("线索 {}  {}", c.clue_id, c.title);
    say!("  模型 model     {}", c.model);
    say!("  领域 area      {}   风险 {}", c.area, severity_label(&c.severity));
    say!("  对象 entity    {}", c.entity);
    say!("  单位 unit      {}", c.unit.as_deref().unwrap_or("-"));
    say!("  金额 amount    {}", c.amount.map(|a| a.to_string()).unwrap_or_else(|| "-".into()));
    say!("  数据 mark      {} (运行 {})", c.mark.label(), c.last_run);
    say!("  办理 state     {}", work_label(c.state.as_ref()));
    let mut t = table(&["运行 run", "数据截至 as of", "状态 mark", "金额(元)", "证据 evidence", "模型版本 version"]);
    for s in &v.sightings {
        t.add_row(vec![
            Cell::new(&s.run_id),
            Cell::new(&s.as_of),
            Cell::new(s.mark.label()),
            Cell::new(s.amount.map(|a| a.to_string()).unwrap_or_default()).set_alignment(CellAlignment::Right),
            Cell::new(match &s.evidence {
                Some(f) if !s.rows.is_empty() => format!("_runs/{}/{f} 行 {:?}", s.run_id, s.rows),
                _ => String::new(),
            }),
            Cell::new(&s.model_version),
        ]);
    }
    say!("{t}");
    if !v.events.is_empty() {
        let mut t = table(&["#", "时间 at", "经办 by", "步骤 step", "内容"]);
        for e in &v.events {
            t.add_row(vec![
                Cell::new(e.seq),
                Cell::new(&e.at),
                Cell::new(&e.actor),
                Cell::new(e.step.label()),
                Cell::new(e.describe()),
            ]);
        }
        say!("{t}");
    }
}

/// Each model's record from verification outcomes, then per parameter setting where a model
/// has clues raised under more than one.
pub fn quality_table(
    models: &[crate::model::Model],
    per_model: &std::collections::BTreeMap<String, crate::ledger::ModelQuality>,
    per_setting: &[crate::ledger::ModelQuality],
) {
    use crate::doc::money_fen;
    let row = |q: &crate::ledger::ModelQuality, label: String| {
        let reasons: Vec<String> = q
            .dismiss_reasons
            .iter()
            .take(3)
            .map(|(r, n)| format!("{} ×{n}", if r.is_empty() { "(未写)" } else { r }))
            .collect();
        vec![
            Cell::new(label),
            Cell::new(&q.params),
            Cell::new(q.raised).set_alignment(CellAlignment::Right),
            Cell::new(q.true_).set_alignment(CellAlignment::Right),
            Cell::new(q.partly_true).set_alignment(CellAlignment::Right),
            Cell::new(q.untrue).set_alignment(CellAlignment::Right),
            Cell::new(q.dismissed).set_alignment(CellAlignment::Right),
            Cell::new(q.precision_label()).set_alignment(CellAlignment::Right),
            Cell::new(money_fen(q.confirmed_fen)).set_alignment(CellAlignment::Right),
            Cell::new(money_fen(q.recovered_fen)).set_alignment(CellAlignment::Right),
            Cell::new(reasons.join("；")),
        ]
    };
    let mut t = table(&[
        "模型 model",
        "参数 params",
        "线索 raised",
        "属实",
        "部分属实",
        "不属实",
        "排除 dismissed",
        "属实率 precision",
        "核实金额(元)",
        "追回金额(元)",
        "排除理由 reasons",
    ]);
    let mut judged = 0;
    for (id, q) in per_model {
        let title = models.iter().find(|m| m.id() == id).map(|m| m.spec.title.clone()).unwrap_or_default();
        t.add_row(row(q, format!("{id}\n{title}")));
        judged += q.judged();
        let settings: Vec<&crate::ledger::ModelQuality> = per_setting.iter().filter(|s| &s.model == id).collect();
        if settings.len() > 1 {
            for s in settings {
                t.add_row(row(s, "  └ 按参数".into()));
            }
        }
    }
    say!("{t}");
    say!(
        "{} 个模型有线索, 已研判或核实 {judged} 条; 属实率 = (属实 + 部分属实) / (已核实 + 排除误报)",
        per_model.len()
    );
}

/// The directory check: its faults and the clue unit values that resolve to no unit.
pub fn units_check(
    dir: &crate::units::Directory,
    faults: &[String],
    resolved: usize,
    unresolved: &[crate::brief::Unresolved],
) {
    let mut kinds: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for u in &dir.units {
        *kinds.entry(if u.kind.is_empty() { "(类型未填)" } else { u.kind.as_str() }).or_default() += 1;
    }
    say!(
        "被巡察单位名录: {} 个单位 ({})",
        dir.units.len(),
        kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    );
    for f in faults {
        say!("  名录问题 fault: {f}");
    }
    let n: usize = unresolved.iter().map(|u| u.clues).sum();
    say!("台账线索: {resolved} 条已归属单位, {n} 条未能归属 (resolved / unresolved)");
    if unresolved.is_empty() {
        return;
    }
    let mut t = table(&["单位取值 value", "模型 model", "线索 clues", "说明"]);
    for u in unresolved {
        t.add_row(vec![
            Cell::new(if u.value.is_empty() { "(空)" } else { &u.value }),
            Cell::new(&u.model),
            Cell::new(u.clues).set_alignment(CellAlignment::Right),
            Cell::new(if u.ambiguous.is_empty() {
                "名录中没有 (若是被巡察单位: 在名录中补充它, 或补充它的其他名称 aliases)".to_string()
            } else {
                format!("对应多个单位: {}", u.ambiguous.join("、"))
            }),
        ]);
    }
    say!("{t}");
}

/// An RFC 3339 time to the second.
fn seconds(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S %:z").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// The recorded runs, newest first.
pub fn runs_table(rows: &[crate::ledger::RunRow]) {
    use crate::ledger::Mark;
    let mut t = table(&[
        "运行 run",
        "触发 trigger",
        "数据截至 as-of",
        "开始 started",
        "结束 ended",
        "模型 models",
        "新增/持续/消失/复现",
        "结果 outcome",
    ]);
    for r in rows {
        let n = |m: Mark| r.marks.get(&m).copied().unwrap_or(0);
        let mut models = format!("{}", r.models);
        if r.not_run > 0 {
            models.push_str(&format!(", 未运行 {}", r.not_run));
        }
        if r.failed > 0 {
            models.push_str(&format!(", 失败 {}", r.failed));
        }
        if r.partial > 0 {
            models.push_str(&format!(", 部分未检查 {}", r.partial));
        }
        if r.historical > 0 {
            models.push_str(&format!(", 按历史数据 {}", r.historical));
        }
        if r.carried > 0 {
            models.push_str(&format!(", 输入未变沿用 {}", r.carried));
        }
        if r.incremental > 0 {
            models.push_str(&format!(", 增量计算 {}", r.incremental));
        }
        t.add_row(vec![
            Cell::new(&r.run_id),
            Cell::new(match (&r.job, r.trigger.as_str()) {
                (Some(job), "manual") => format!("{job} (手动 manual)"),
                (Some(job), "catch-up") => format!("{job} (补跑 catch-up)"),
                (Some(job), _) => format!("{job} (定时 schedule)"),
                (None, "manual") => "手动 manual".to_string(),
                (None, t) => t.to_string(),
            }),
            Cell::new(&r.as_of),
            Cell::new(seconds(&r.started_at)),
            Cell::new(seconds(&r.ended_at)),
            Cell::new(models),
            Cell::new(format!("{}/{}/{}/{}", n(Mark::New), n(Mark::Ongoing), n(Mark::Resolved), n(Mark::Reopened))),
            Cell::new(match (r.outcome.as_str(), &r.error) {
                ("ok", _) => "完成 ok".to_string(),
                ("partial", _) => "部分完成 partial".to_string(),
                ("timed_out", _) => "超时 timed out".to_string(),
                ("interrupted", _) => "中断 interrupted (进程停止)".to_string(),
                ("withdrawn", Some(e)) => e.clone(),
                ("running", _) => "运行中或已中断 running / interrupted".to_string(),
                (_, Some(e)) => format!("失败 failed: {}", e.chars().take(80).collect::<String>()),
                _ => "失败 failed".to_string(),
            }),
        ]);
    }
    say!("{t}");
    say!("{} 次运行 runs", rows.len());
}

/// What a job run did (`searchlight pipeline`): the ingest, the run, the ledger and the mail.
/// Returns whether everything went well.
pub fn job_report(r: &crate::pipeline::JobReport) -> bool {
    for e in &r.load_errors {
        say_err!("searchlight: {e}");
    }
    let mut rows = Vec::new();
    for i in &r.ingested {
        let c = &r.connectors[i.connector];
        match &i.result {
            Ok(outcomes) => rows.extend(outcomes.iter().map(|o| IngestRow::new(c, o, i.elapsed))),
            Err(e) => {
                say_err!("searchlight: {}: {e}", c.id);
                rows.extend(c.blocks.iter().map(|b| IngestRow::failed(c, b, i.elapsed)));
            }
        }
    }
    if !r.ingested.is_empty() {
        ingest_table(&rows);
        say!();
    }
    if let Some(path) = r.recorded.as_ref().and_then(|d| d.created.as_ref()) {
        say_err!(
            "searchlight: 新建台账 created a new clue ledger at {} — every clue in it starts as new",
            path.display()
        );
    }
    if let Some(run) = &r.run {
        for m in &run.models {
            if let Some(e) = &m.error {
                say_err!("searchlight: model {}: {e}", m.model);
            }
        }
        run_table(run);
    }
    if let Some(rec) = &r.recorded {
        ledger_line(&rec.diff);
    }
    if !r.mails.is_empty() {
        say!(
            "邮件: 已排队 {} 封 mails queued in the outbox (searchlight serve sends them; searchlight outbox lists them), 生成用时 built in {:.2}s",
            r.mails.len(),
            r.digest_time.as_secs_f64()
        );
    }
    if let Some(e) = &r.error {
        say_err!("searchlight: 任务{} {}: {e}", r.outcome.label(), r.outcome.name());
    }
    let run_ok = r.run.as_ref().is_some_and(|run| run.failed() == 0 && run.not_run() == 0);
    r.load_errors.is_empty() && r.error.is_none() && run_ok && r.ingested.iter().all(|i| i.result.is_ok())
}

/// The outbox.
pub fn outbox_table(mails: &[crate::ledger::Mail]) {
    let mut t = table(&[
        "编号 id",
        "类型 kind",
        "收件人 to",
        "主题 subject",
        "线索 clues",
        "状态 state",
        "尝试 tries",
        "时间 at",
    ]);
    for m in mails {
        let state = match m.state.as_str() {
            "sent" => "已发送 sent".to_string(),
            "failed" => format!(
                "失败 failed: {}",
                m.last_error.clone().unwrap_or_default().chars().take(60).collect::<String>()
            ),
            _ => match &m.last_error {
                Some(e) => format!(
                    "待重试 retry at {}: {}",
                    seconds(&m.next_attempt_at),
                    e.chars().take(40).collect::<String>()
                ),
                None => "排队 queued".to_string(),
            },
        };
        t.add_row(vec![
            Cell::new(m.id),
            Cell::new(if m.kind == "alert" { "告警 alert" } else { "摘要 digest" }),
            Cell::new(format!("{} <{}>", m.recipient, m.address)),
            Cell::new(&m.subject),
            Cell::new(m.clues),
            Cell::new(state),
            Cell::new(m.attempts),
            Cell::new(seconds(m.sent_at.as_deref().unwrap_or(&m.queued_at))),
        ]);
    }
    say!("{t}");
    let n = |s: &str| mails.iter().filter(|m| m.state == s).count();
    say!(
        "{} 封 mails: 排队 {} queued, 已发送 {} sent, 失败 {} failed",
        mails.len(),
        n("queued"),
        n("sent"),
        n("failed")
    );
}

/// Prints what `lake gc` removed (or would) and what it kept, and why.
pub fn collection(done: &crate::lake::gc::Collection, policy: &crate::lake::gc::Retention) {
    use crate::lake::gc::{Keep, Removal};
    let mut t = table(&["数据集 dataset", "快照/运行", "文件", "大小", "处理"]);
    for e in &done.entries {
        let what = match (e.removed, e.kept) {
            (Some(Removal::Staged), _) => "删除: 未完成的入湖暂存 (staged by a killed ingest)",
            (Some(Removal::PastRetention), _) => "删除: 超出保留策略 (past retention)",
            (Some(Removal::UnrecordedRun), _) => "删除: 台账未记录的运行 (unrecorded run)",
            (None, Some(Keep::Current)) => "保留: 当前快照",
            (None, Some(Keep::Newest)) => "保留: 最新快照之一",
            (None, Some(Keep::Pinned)) => "保留: 台账中的运行读过 (pinned by a recorded run)",
            (None, Some(Keep::Shared)) => "保留: 保留的追加快照共用其文件 (shared by an appended snapshot)",
            (None, Some(Keep::Recent)) => "保留: 宽限期内仍有写入 (may still be at work)",
            (None, Some(Keep::NotAsked)) => "保留: 台账未记录的运行 (--unrecorded-runs to remove)",
            (None, None) => "保留",
        };
        t.add_row(vec![
            Cell::new(&e.dataset),
            Cell::new(&e.id),
            num(e.files),
            Cell::new(crate::limits::bytes_text(e.bytes)),
            Cell::new(what),
        ]);
    }
    say!("{t}");
    let (n, bytes) = done.removed();
    let policy_text = format!(
        "每个数据集保留最新 {} 个快照, 宽限 {}",
        policy.keep.max(crate::lake::gc::MIN_KEEP),
        crate::limits::duration_text(policy.grace)
    );
    if done.dry_run {
        say!(
            "试运行 dry run: 将删除 {n} 个目录, 释放 {} ({policy_text}); 未删除任何文件",
            crate::limits::bytes_text(bytes)
        );
    } else {
        say!("已删除 {n} 个目录, 释放 {} ({policy_text})", crate::limits::bytes_text(bytes));
    }
}
