//! Models on an Apache DataFusion Ballista cluster (feature `cluster`): the session a run submits
//! its plans with, and the scheduler and executor that `searchlight cluster …` embeds.
//!
//! A plan travels as protobuf: the client plans and optimises it, the scheduler turns it into
//! stages, executors run them. What is searchlight's own travels with it here and nowhere else:
//! the SQL functions (registered on all three by name), the canonical shape of a snapshot and
//! the empty tables of datasets a lake lacks ([`Codec`]), and the way to the lake's store
//! ([`Stores`]: any `s3://` or `file://` URL a plan names is opened with this process's own
//! environment, so executors read the lake by the URL the client registered).

use std::sync::Arc;

use ballista::extension::{SessionConfigExt, SessionContextExt};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::BallistaLogicalExtensionCodec;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::listing::{ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::TaskContext;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use object_store::ObjectStore;
use url::Url;

use super::canonical::CanonicalTable;

/// The scheduler's port when a `df://` URL names none.
pub const DEFAULT_PORT: u16 = 50050;

/// Object stores found by URL: a store registered for the URL's bucket, else one opened by
/// [`crate::storage::locate`] from this process's environment (`AWS_*`) and kept.
#[derive(Debug, Default)]
pub struct Stores {
    known: DefaultObjectStoreRegistry,
}

impl ObjectStoreRegistry for Stores {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(s) = self.known.get_store(url) {
            return Ok(s);
        }
        let located = crate::storage::locate(url).map_err(|e| DataFusionError::External(Box::new(e)))?;
        self.known.register_store(&located.root, located.store.clone());
        Ok(located.store)
    }
}

/// A runtime whose stores are [`Stores`], spilling to `temp` when given.
fn runtime(temp: Option<&str>) -> Result<Arc<RuntimeEnv>> {
    let mut b = RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(Stores::default()));
    if let Some(t) = temp {
        b = b.with_temp_file_path(t);
    }
    b.build_arc()
}

/// The session settings searchlight plans with, on a Ballista config (Ballista's 16 partitions
/// per shuffle unless the caller's URL says otherwise).
fn config() -> SessionConfig {
    let mut config = SessionConfig::new_with_ballista()
        .with_information_schema(true)
        .with_ballista_logical_extension_codec(Arc::new(Codec::default()));
    config.options_mut().sql_parser.collect_spans = true;
    config.options_mut().sql_parser.enable_ident_normalization = false;
    // Ballista 55's adaptive planner re-plans some plans without end (a job of thousands of
    // stages over the demo county's land models); the static distributed planner runs them
    config
        .options_mut()
        .set("ballista.planner.adaptive.enabled", "false")
        .expect("a Ballista config has the adaptive planner switch");
    config
}

/// DataFusion's and Ballista's functions and searchlight's.
fn functions() -> (Vec<Arc<ScalarUDF>>, Vec<Arc<AggregateUDF>>, Vec<Arc<WindowUDF>>) {
    let mut scalar = ballista_core::extension::ballista_scalar_functions();
    scalar.extend(super::udf::functions());
    let mut aggregate = ballista_core::extension::ballista_aggregate_functions();
    aggregate.extend(super::udf::aggregates());
    (scalar, aggregate, ballista_core::extension::ballista_window_functions())
}

/// The scheduler's session: searchlight's functions (to decode plans that call them), the
/// stores (to list a snapshot's parts when planning), the codec.
fn scheduler_session(config: SessionConfig) -> Result<SessionState> {
    let (scalar, aggregate, window) = functions();
    Ok(SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime(None)?)
        .with_optimizer_rules(ballista_core::optimizer::ballista_default_optimizer_rules())
        .with_scalar_functions(scalar)
        .with_aggregate_functions(aggregate)
        .with_window_functions(window)
        .build())
}

/// A session whose queries run on the cluster at `url` (`df://host:port`): planned and
/// optimised here, executed there, results streamed back within this process's memory pool.
pub async fn connect(url: &str, local: &RuntimeEnv) -> Result<SessionContext> {
    let (address, partitions) = split_url(url).map_err(DataFusionError::Plan)?;
    let mut config = config();
    if let Some(n) = partitions {
        config.options_mut().execution.target_partitions = n;
    }
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(local.memory_pool.clone())
        .with_object_store_registry(Arc::new(Stores::default()))
        .build_arc()?;
    let state =
        SessionStateBuilder::new().with_default_features().with_config(config).with_runtime_env(runtime).build();
    let ctx = SessionContext::remote_with_state(&address, state).await?;
    // Ballista's upgrade of the state replaces the function lists with its own, so ours are
    // registered after it
    for f in super::udf::functions() {
        ctx.register_udf((*f).clone());
    }
    for f in super::udf::aggregates() {
        ctx.register_udaf((*f).clone());
    }
    Ok(ctx)
}

/// The scheduler's address from a `df://host:port` URL, checked.
pub fn scheduler_address(url: &str) -> Result<(String, u16), String> {
    crate::limits::check_cluster(url)?;
    let parsed = Url::parse(url).map_err(|e| e.to_string())?;
    Ok((parsed.host_str().unwrap_or_default().to_string(), parsed.port().unwrap_or(DEFAULT_PORT)))
}

/// `df://host:port?partitions=N` as the scheduler's `df://host:port` and the partitions of each
/// shuffle (best: the task slots of all executors together).
fn split_url(url: &str) -> Result<(String, Option<usize>), String> {
    let (host, port) = scheduler_address(url)?;
    let parsed = Url::parse(url).map_err(|e| e.to_string())?;
    let partitions = parsed.query_pairs().find(|(k, _)| k == "partitions").and_then(|(_, v)| v.parse().ok());
    Ok((format!("df://{host}:{port}"), partitions))
}

/// Settings of an embedded scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// Address to listen on.
    pub bind_host: String,
    /// Port to listen on.
    pub port: u16,
    /// Host executors and clients reach it by.
    pub external_host: String,
}

/// Runs Ballista's scheduler with searchlight's functions and codec until the process ends.
pub async fn run_scheduler(s: &SchedulerSettings) -> anyhow::Result<()> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let config = SchedulerConfig {
        bind_host: s.bind_host.clone(),
        bind_port: s.port,
        external_host: s.external_host.clone(),
        ..Default::default()
    }
    .with_override_config_producer(Arc::new(config))
    .with_override_session_builder(Arc::new(scheduler_session));
    let config = SchedulerConfig { override_logical_codec: Some(Arc::new(Codec::default())), ..config };
    let addr = format!("{}:{}", s.bind_host, s.port).parse().map_err(|e| anyhow::anyhow!("{}: {e}", s.bind_host))?;
    let cluster = BallistaCluster::new_from_config(&config).await?;
    ballista_scheduler::scheduler_process::start_server(cluster, addr, Arc::new(config)).await?;
    Ok(())
}

/// Settings of an embedded executor.
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    /// The scheduler, `df://host:port`.
    pub scheduler: String,
    /// Address to listen on.
    pub bind_host: String,
    /// Host the scheduler and other executors reach it by.
    pub external_host: String,
    /// Arrow Flight port (results and shuffles).
    pub port: u16,
    /// gRPC port (tasks).
    pub grpc_port: u16,
    /// Tasks at once.
    pub concurrency: usize,
    /// Where shuffles and spills go (default: a temporary directory).
    pub work_dir: Option<String>,
    /// The executor process's memory limit (default: as a searchlight process, half the
    /// machine's); its tasks' query pool is the same share of it as in any searchlight process.
    pub memory_limit: Option<u64>,
}

/// Runs Ballista's executor with searchlight's functions, codec and stores until the process
/// ends.
pub async fn run_executor(s: &ExecutorSettings) -> anyhow::Result<()> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let (host, port) = scheduler_address(&s.scheduler).map_err(anyhow::Error::msg)?;
    let (scalar, aggregate, window) = functions();
    let mut registry = BallistaFunctionRegistry::default();
    registry.scalar_functions.extend(scalar.into_iter().map(|f| (f.name().to_string(), f)));
    registry.aggregate_functions.extend(aggregate.into_iter().map(|f| (f.name().to_string(), f)));
    registry.window_functions.extend(window.into_iter().map(|f| (f.name().to_string(), f)));
    let temp = s.work_dir.clone();
    let config = ExecutorProcessConfig {
        bind_host: s.bind_host.clone(),
        external_host: Some(s.external_host.clone()),
        port: s.port,
        grpc_port: s.grpc_port,
        scheduler_host: host,
        scheduler_port: port,
        scheduler_connect_timeout_seconds: 30,
        vcores: s.concurrency.max(1),
        work_dir: s.work_dir.clone(),
        memory_pool_size: Some(s.memory_limit.map_or_else(crate::limits::query_memory, crate::limits::pool_of)),
        executor_heartbeat_interval_seconds: 5,
        override_function_registry: Some(Arc::new(registry)),
        override_config_producer: Some(Arc::new(config)),
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| runtime(temp.as_deref()))),
        override_logical_codec: Some(Arc::new(Codec::default())),
        ..Default::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}

/// How searchlight's tables travel in a plan.
#[derive(serde::Serialize, serde::Deserialize)]
enum Table {
    /// A snapshot under its canonical shape: the parts and their schema (Arrow IPC), and where
    /// each canonical column comes from.
    Canonical { parts: Vec<String>, file_schema: Vec<u8>, sources: Vec<Option<(usize, bool)>> },
    /// A small table held in memory (an empty dataset): its batches as an Arrow IPC stream.
    Memory { stream: Vec<u8> },
}

/// Ballista's logical codec, which also carries searchlight's tables.
#[derive(Debug, Default)]
pub struct Codec {
    ballista: BallistaLogicalExtensionCodec,
}

fn ipc(schema: &SchemaRef, batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, schema)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()?;
    drop(w);
    Ok(out)
}

impl LogicalExtensionCodec for Codec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        let table: Table =
            serde_json::from_slice(buf).map_err(|e| DataFusionError::Internal(format!("a table: {e}")))?;
        match table {
            Table::Canonical { parts, file_schema, sources } => {
                let file_schema = StreamReader::try_new(std::io::Cursor::new(file_schema), None)?.schema();
                let urls = parts.iter().map(|p| ListingTableUrl::parse(p)).collect::<Result<Vec<_>>>()?;
                let config = ListingTableConfig::new_with_multi_paths(urls)
                    .with_listing_options(super::listing_options())
                    .with_schema(file_schema);
                let inner = Arc::new(ListingTable::try_new(config)?);
                Ok(Arc::new(CanonicalTable::from_parts(inner, schema, sources)?))
            }
            Table::Memory { stream } => {
                let reader = StreamReader::try_new(std::io::Cursor::new(stream), None)?;
                let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
            }
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let table = if let Some(c) = node.downcast_ref::<CanonicalTable>() {
            let Some(listing) = c.inner().downcast_ref::<ListingTable>() else {
                return Err(DataFusionError::NotImplemented(format!(
                    "table `{table_ref}`: only snapshots in the lake can go to a cluster"
                )));
            };
            Table::Canonical {
                parts: listing.table_paths().iter().map(|u| u.as_str().to_string()).collect(),
                file_schema: ipc(&listing.schema(), &[])?,
                sources: c.sources(),
            }
        } else if let Some(m) = node.downcast_ref::<MemTable>() {
            let mut batches = Vec::new();
            for p in &m.batches {
                let held = p.try_read().map_err(|_| {
                    DataFusionError::Internal(format!("table `{table_ref}` is being written while planned"))
                })?;
                batches.extend(held.iter().cloned());
            }
            Table::Memory { stream: ipc(&m.schema(), &batches)? }
        } else {
            return Err(DataFusionError::NotImplemented(format!("table `{table_ref}` cannot go to a cluster")));
        };
        buf.extend(serde_json::to_vec(&table).map_err(|e| DataFusionError::Internal(e.to_string()))?);
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    use super::*;

    /// Every row of `table`, as text lines in a stable order.
    async fn rows(ctx: &SessionContext, table: Arc<dyn TableProvider>) -> Vec<String> {
        ctx.deregister_table("t").unwrap();
        ctx.register_table("t", table).unwrap();
        let batches = ctx.sql("SELECT * FROM t").await.unwrap().collect().await.unwrap();
        let mut out: Vec<String> = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
            .lines()
            .map(str::to_string)
            .collect();
        out.sort();
        out
    }

    #[tokio::test]
    async fn a_snapshot_in_its_canonical_shape_and_an_empty_table_travel_whole() {
        // a snapshot of `payroll` with two of its columns, one typed as an older landing did
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("part-00000.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id_no", DataType::Utf8, true),
            Field::new("unit_code", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("34052419800101001X"), None])),
                Arc::new(Int64Array::from(vec![Some(340524), Some(7)])),
            ],
        )
        .unwrap();
        let mut w =
            datafusion::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&file).unwrap(), schema, None)
                .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let ctx = SessionContext::new();
        let url = ListingTableUrl::parse(Url::from_file_path(&file).unwrap().as_str()).unwrap();
        let config = ListingTableConfig::new_with_multi_paths(vec![url])
            .with_listing_options(super::super::listing_options())
            .infer_schema(&ctx.state())
            .await
            .unwrap();
        let inner = Arc::new(ListingTable::try_new(config).unwrap());
        let def = crate::schema::Schema::bundled().dataset("payroll").unwrap();
        let canonical: Arc<dyn TableProvider> = Arc::new(CanonicalTable::new(inner, def));
        let empty: Arc<dyn TableProvider> = Arc::new(MemTable::try_new(def.arrow_schema(), vec![vec![]]).unwrap());

        let codec = Codec::default();
        let task = TaskContext::default();
        for table in [canonical, empty] {
            let mut buf = Vec::new();
            codec.try_encode_table_provider(&TableReference::bare("payroll"), table.clone(), &mut buf).unwrap();
            let back =
                codec.try_decode_table_provider(&buf, &TableReference::bare("payroll"), table.schema(), &task).unwrap();
            assert_eq!(back.schema(), table.schema());
            assert_eq!(rows(&ctx, back).await, rows(&ctx, table).await);
        }
        // what is not a lake's table is refused with its name, not sent half-described
        let view: Arc<dyn TableProvider> = Arc::new(datafusion::catalog::view::ViewTable::new(
            datafusion::logical_expr::LogicalPlanBuilder::empty(false).build().unwrap(),
            None,
        ));
        let err = codec.try_encode_table_provider(&TableReference::bare("v"), view, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("`v`"), "{err}");
    }

    #[tokio::test]
    async fn a_cluster_session_plans_with_searchlight_functions() {
        let ctx = connect("df://127.0.0.1:1", &RuntimeEnvBuilder::new().build().unwrap()).await.unwrap();
        for sql in [
            "SELECT org_name_key('某某有限公司') AS k",
            "SELECT id_card_age('110101199001011234', DATE '2025-01-01') AS a",
        ] {
            let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            df.into_optimized_plan().unwrap();
        }
    }
}
