//! STAGE 8 · the workbench: an HTTP server (axum) in `searchlight serve` through which
//! inspection teams, analysts and leaders read and work clues, each seeing only what their role
//! and their team's units allow ([`auth`]), every read of personal data, change and refusal in
//! the access log. One [`router`]; the JSON API under `/api/v1` ([`api`]). Like the command
//! line it only parses and presents: clues, steps and the log are the ledger's. The pages
//! ([`pages`]) are documents of the one document model, with the API's checks.

pub mod api;
pub mod auth;
pub mod documents;
pub mod pages;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, header};
use tokio::sync::{RwLock, watch};

use crate::project::Project;
use crate::units::Directory;

/// Where the workbench listens unless `listen` or `serve --listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// How long the units directory is reused before it is read from the lake again.
const DIRECTORY_TTL: Duration = Duration::from_secs(60);

/// The units directory as read: when, what, and why it is empty if it is.
type DirectoryRead = (Instant, Arc<Directory>, Option<String>);

/// What every request shares.
pub struct Workbench {
    pub project: Project,
    /// The units directory (team scopes are its subtrees), with when it was read and why it
    /// could not be, if it could not.
    directory: RwLock<Option<DirectoryRead>>,
    /// Held by the one request that reads the directory again.
    reading_directory: tokio::sync::Mutex<()>,
    pub limiter: auth::Limiter,
    /// How long a browser session lasts.
    pub session_ttl: chrono::Duration,
    /// Open connections to the ledger, reused across requests.
    pub ledgers: LedgerPool,
}

/// Open ledgers, kept for the next request (opening one checks its schema, which costs more
/// than most requests' queries).
#[derive(Default)]
pub struct LedgerPool(std::sync::Mutex<Vec<crate::ledger::Ledger>>);

impl LedgerPool {
    /// At most this many idle connections are kept.
    const KEEP: usize = 16;

    /// An open ledger: an idle one, or a new one.
    pub fn take(&self, path: &std::path::Path) -> Result<crate::ledger::Ledger, crate::ledger::Error> {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            Some(l) => Ok(l),
            None => crate::ledger::Ledger::open_existing(path),
        }
    }

    /// Returns a ledger for reuse.
    pub fn give(&self, l: crate::ledger::Ledger) {
        let mut idle = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < Self::KEEP {
            idle.push(l);
        }
    }
}

impl Workbench {
    pub fn new(project: Project) -> Workbench {
        Workbench {
            project,
            directory: RwLock::new(None),
            reading_directory: tokio::sync::Mutex::new(()),
            limiter: auth::Limiter::default(),
            session_ttl: chrono::Duration::hours(8),
            ledgers: LedgerPool::default(),
        }
    }

    /// The units directory of the lake's current snapshot (empty when none is landed), read at
    /// most once a minute.
    pub async fn directory(&self) -> Arc<Directory> {
        self.directory_read().await.0
    }

    /// The units directory and, when it is empty or could not be read, what that means for a
    /// team member: their scope is then only the units assigned to them by code, without the
    /// subordinates — said on their pages rather than shown as fewer clues.
    pub async fn directory_read(&self) -> (Arc<Directory>, Option<String>) {
        let cached = self.directory.read().await.clone();
        if let Some((at, d, problem)) = &cached
            && at.elapsed() < DIRECTORY_TTL
        {
            return (d.clone(), problem.clone());
        }
        // one request reads it again; the others meanwhile go on with the one they have
        let _reading = match (self.reading_directory.try_lock(), &cached) {
            (Ok(guard), _) => guard,
            (Err(_), Some((_, d, problem))) => return (d.clone(), problem.clone()),
            (Err(_), None) => {
                let guard = self.reading_directory.lock().await;
                if let Some((_, d, problem)) = self.directory.read().await.as_ref() {
                    return (d.clone(), problem.clone());
                }
                guard
            }
        };
        let (d, problem) = match read_directory(&self.project).await {
            Ok(d) if d.is_empty() => (d, Some("湖中没有被巡察单位名录(units)".to_string())),
            Ok(d) => (d, None),
            Err(e) => (Directory::new(Vec::new()), Some(format!("单位名录读取失败: {e}"))),
        };
        let d = Arc::new(d);
        *self.directory.write().await = Some((Instant::now(), d.clone(), problem.clone()));
        (d, problem)
    }
}

async fn read_directory(project: &Project) -> anyhow::Result<Directory> {
    let connectors: Vec<_> = project.connectors()?.into_iter().filter_map(Result::ok).collect();
    let lake = crate::lake::Lake::open(&project.lake)?;
    let runner = crate::runner::Runner::over_lake(&lake, &Project::catalog(&connectors)).await?;
    runner.directory().await
}

/// The workbench's routes, with the security headers on every response.
pub fn router(state: Arc<Workbench>) -> Router {
    Router::new()
        .nest("/api/v1", api::routes())
        .merge(pages::routes())
        .fallback(api::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(api::MAX_BODY))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// No script from anywhere (pages carry their style inline, as the files the document model
/// writes do), no framing, no sniffing, nothing cached.
async fn security_headers(mut r: axum::response::Response) -> axum::response::Response {
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    r
}

/// What the server tells its operator.
pub type Log = dyn Fn(String) + Send + Sync;

/// Binds the address (an error names it), so a port that is taken fails `serve` at once.
pub async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("工作台无法监听 the workbench cannot listen on {addr}: {e} (set `listen` in searchlight.toml or `serve --listen`)"))
}

/// Serves the workbench on `listener` until `stop` turns true (the scheduler's stop: one
/// shutdown for both), finishing the requests under way.
pub async fn serve(
    project: Project,
    listener: tokio::net::TcpListener,
    mut stop: watch::Receiver<bool>,
    log: Arc<Log>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    log(format!("工作台 workbench: http://{addr}/ (API /api/v1)"));
    let app = router(Arc::new(Workbench::new(project)));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await?;
    log("工作台已停止 workbench stopped".into());
    Ok(())
}
