//! The JSON API under `/api/v1`: sign in and out, who am I, clues (the command line's filters,
//! sorting, cursor paging), one clue with its sightings and trail, workflow steps, users and the
//! access log. Every answer passes the caller's redactor; every read of a clue, change and
//! refusal is logged; a clue outside the caller's units is "not found", like one that does not
//! exist. Errors are `{error, detail}` with a 4xx status, and change nothing.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::Workbench;
use super::auth::{self, Asker, Caller};
use crate::ledger::{
    AccessFilter, ClueFilter, ClueOrder, CluePage, Flag, Ledger, Mark, Role, Status, Step, StepRefused, User,
};

/// The largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// The most clues one page holds.
const MAX_PAGE: usize = 500;

pub fn routes() -> Router<Arc<Workbench>> {
    Router::new()
        .route("/session", post(sign_in).delete(sign_out))
        .route("/me", get(me))
        .route("/clues", get(clues))
        .route("/clues/{id}", get(clue))
        .route("/clues/{id}/steps", post(step))
        .route("/clues/{id}/paper", get(paper))
        .route("/clues/{id}/evidence", get(evidence))
        .route("/units", get(units))
        .route("/runs", get(runs))
        .route("/models", get(models))
        .route("/units/{code}/brief", get(brief))
        .route("/users", get(users))
        .route("/audit", get(audit))
        .route("/openapi.json", get(openapi))
}

/// The OpenAPI document of these routes (tests hold the two together).
pub const OPENAPI: &str = include_str!("openapi.json");

/// `GET /openapi.json`: the API described, for anyone (it holds no data).
async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], OPENAPI).into_response()
}

/// An error answer: a status, a short code and what went wrong.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub detail: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, error, detail: detail.into(), retry_after: None }
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "请先登录 (sign in first)")
    }
    pub fn forbidden(detail: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("没有{what} (not found)"))
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }
}

impl From<crate::ledger::Error> for ApiError {
    fn from(e: crate::ledger::Error) -> ApiError {
        // the ledger's path and SQL are the operator's, not the caller's
        eprintln!("searchlight serve: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "服务器内部错误, 已记录 (internal error, logged)")
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        // a body too large is 413; anything else wrong with it (syntax, shape, type) is 400
        let (status, error) = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            _ => (StatusCode::BAD_REQUEST, "bad_request"),
        };
        ApiError::new(status, error, format!("请求内容有误 (the body is not what this takes): {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_request(format!("查询参数有误 (bad query): {}", r.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.error, "detail": self.detail });
        let mut r = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

type Answer = Result<Response, ApiError>;

/// JSON as the caller may see it: ID and account numbers masked unless they are granted.
fn shown(c: &Caller, value: &impl serde::Serialize) -> Answer {
    let text = serde_json::to_string(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = c.redactor();
    // never unmasked: were the text somehow not one JSON document, it is masked as text
    let text = r.json(&text).unwrap_or_else(|| r.text(&text).into_owned());
    Ok(([(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response())
}

/// Runs `f` on the ledger off the async threads.
pub(super) async fn on_ledger<T: Send + 'static>(
    wb: &Arc<Workbench>,
    f: impl FnOnce(&mut Ledger) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let wb = wb.clone();
    tokio::task::spawn_blocking(move || {
        let mut l = wb.ledgers.take(&wb.project.ledger)?;
        let out = f(&mut l);
        wb.ledgers.give(l);
        out
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
}

/// Who is asking — first, before anything of the request is judged: someone signed out learns
/// nothing, not even whether their query was well formed.
pub(super) async fn who(wb: &Arc<Workbench>, asker: &Asker, action: &str) -> Result<Caller, ApiError> {
    let (asker, action) = (asker.clone(), action.to_string());
    on_ledger(wb, move |l| auth::authenticate(l, &asker, &action)).await
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("此地址 this address")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    name: String,
    password: String,
}

/// `POST /session {name, password}`: a session cookie (HttpOnly, SameSite=Strict, Secure behind
/// TLS) and the form token the session's changes must carry. Five failures in 15 minutes, per
/// account or per address, and sign-in waits.
async fn sign_in(State(wb): State<Arc<Workbench>>, asker: Asker, body: Result<Json<SignIn>, JsonRejection>) -> Answer {
    let Json(s) = body?;
    let (user, cookie, csrf) = signed_in(&wb, &asker, s.name, s.password).await?;
    let caller = Caller { user: user.clone(), via: "web", address: asker.address.clone(), csrf: Some(csrf.clone()) };
    let mut r = shown(&caller, &serde_json::json!({ "user": user, "csrf": csrf }))?;
    r.headers_mut().insert(header::SET_COOKIE, session_cookie(&wb, &asker, &cookie)?);
    Ok(r)
}

/// Checks a sign-in against the limit and the ledger: the user, a new session's cookie value
/// and its form token. Every attempt is logged; a failure counts against the account and the
/// address.
pub(super) async fn signed_in(
    wb: &Arc<Workbench>,
    asker: &Asker,
    name: String,
    password: String,
) -> Result<(User, String, String), ApiError> {
    // no such name can exist: the limiter keeps no key of its size, and the log no copy of it
    let name = if crate::ledger::access::valid_name(&name).is_ok() { name } else { "(invalid name)".to_string() };
    let keys = vec![format!("user:{name}"), format!("addr:{}", asker.address.clone().unwrap_or_default())];
    let ttl = wb.session_ttl;
    if let Some(wait) = wb.limiter.blocked(&keys) {
        let entry = asker.entry(&name, "web", "sign-in", None, "refused: too many failures");
        on_ledger(wb, move |l| Ok(l.log_access(&entry)?)).await?;
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("登录失败次数过多, 请 {} 分钟后再试 (too many failed sign-ins)", wait.as_secs().div_ceil(60)),
        );
        e.retry_after = Some(wait.as_secs().max(1));
        return Err(e);
    }
    let a = asker.clone();
    let signed = on_ledger(wb, move |l| {
        let Some(user) = l.check_password(&name, &password)? else {
            l.log_access(&a.entry(&name, "web", "sign-in", None, "refused: wrong name or password"))?;
            return Ok(None);
        };
        let (cookie, csrf) = l.new_session(&user.name, ttl)?;
        l.log_access(&a.entry(&user.name, "web", "sign-in", None, "ok"))?;
        Ok(Some((user, cookie, csrf)))
    })
    .await?;
    let Some(signed) = signed else {
        wb.limiter.failed(&keys);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "用户名或密码不正确 (wrong name or password)",
        ));
    };
    wb.limiter.forget(&keys[0]);
    Ok(signed)
}

/// The session cookie: HttpOnly, SameSite=Strict, Secure behind TLS, for the session's life.
pub(super) fn session_cookie(wb: &Workbench, asker: &Asker, cookie: &str) -> Result<HeaderValue, ApiError> {
    let secure = if asker.behind_tls() { "; Secure" } else { "" };
    let set = format!(
        "{}={cookie}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        auth::COOKIE,
        wb.session_ttl.num_seconds()
    );
    HeaderValue::from_str(&set).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `DELETE /session`: signs out (the form token is required, as for any change).
async fn sign_out(State(wb): State<Arc<Workbench>>, asker: Asker) -> Answer {
    let clear = signed_out(&wb, asker).await?;
    Ok(([(header::SET_COOKIE, clear)], StatusCode::NO_CONTENT).into_response())
}

/// Ends the asker's session (its form token required, as for any change) and logs it: the
/// header that clears the browser's cookie.
pub(super) async fn signed_out(wb: &Arc<Workbench>, asker: Asker) -> Result<HeaderValue, ApiError> {
    on_ledger(wb, move |l| {
        let c = auth::authenticate(l, &asker, "sign-out")?;
        if let Some(cookie) = asker.cookie() {
            l.end_session(&cookie)?;
        }
        l.log_access(&asker.entry(&c.user.name, c.via, "sign-out", None, "ok"))?;
        Ok(())
    })
    .await?;
    HeaderValue::from_str(&format!("{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", auth::COOKIE))
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `GET /me`: who the caller is, their role, team, units and grant.
async fn me(State(wb): State<Arc<Workbench>>, asker: Asker) -> Answer {
    let c = on_ledger(&wb, move |l| auth::authenticate(l, &asker, "me")).await?;
    shown(&c, &c.user)
}

/// The clue list's query: the command line's filters, a sort and a page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClueQuery {
    pub(super) status: Option<String>,
    pub(super) flag: Option<String>,
    pub(super) mark: Option<String>,
    pub(super) area: Option<String>,
    pub(super) unit: Option<String>,
    pub(super) model: Option<String>,
    pub(super) severity: Option<String>,
    pub(super) new_since: Option<String>,
    /// Include clues under an exception.
    pub(super) all: Option<bool>,
    /// The date 逾期 and 豁免 are judged at (default today).
    pub(super) as_of: Option<chrono::NaiveDate>,
    /// `severity` (default: most severe, newest first), `amount`, `newest`, `unit`.
    pub(super) sort: Option<String>,
    pub(super) limit: Option<usize>,
    /// The last clue of the previous page (its `next` value).
    pub(super) cursor: Option<String>,
}

pub(super) fn parse<T>(what: &str, v: Option<&str>, p: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    v.map(|s| p(s).ok_or_else(|| ApiError::bad_request(format!("{what}: `{s}` is not one of the known values"))))
        .transpose()
}

/// `GET /clues`: the clues of the caller's units that match, one page, with the total.
async fn clues(State(wb): State<Arc<Workbench>>, asker: Asker, q: Result<Query<ClueQuery>, QueryRejection>) -> Answer {
    let c = who(&wb, &asker, "list clues").await?;
    let Query(q) = q?;
    let (filter, limit) = q.filter()?;
    let (dir, problem) = wb.directory_read().await;
    // a team member whose scope could not be drawn from the directory is told so
    let notice = problem.filter(|_| !c.user.role.all_units());
    let (c, list) = on_ledger(&wb, move |l| Ok((c.clone(), list_clues(l, &c, &asker, filter, limit, &dir)?))).await?;
    shown(&c, &serde_json::json!({ "total": list.total, "items": list.rows, "next": list.next, "notice": notice }))
}

impl ClueQuery {
    /// The ledger's filter (with its order and cursor) and the page size; a value that is not
    /// one is a 400.
    pub(super) fn filter(&self) -> Result<(ClueFilter, usize), ApiError> {
        let q = self;
        let filter = ClueFilter {
            as_of: q.as_of,
            status: parse("status", q.status.as_deref(), Status::parse)?,
            flag: parse("flag", q.flag.as_deref(), Flag::parse)?,
            all: q.all.unwrap_or(false),
            mark: parse("mark", q.mark.as_deref(), Mark::parse)?,
            area: q.area.clone(),
            unit: q.unit.clone(),
            model: q.model.clone(),
            severity: q.severity.clone(),
            new_since: q.new_since.clone(),
            scope: None,
            order: match q.sort.as_deref() {
                None => ClueOrder::Severity,
                Some(s) => ClueOrder::parse(s)
                    .ok_or_else(|| ApiError::bad_request(format!("sort: `{s}` — severity, amount, newest or unit")))?,
            },
            after: q.cursor.clone().filter(|c| !c.is_empty()),
            limit: None,
        };
        let limit = q.limit.unwrap_or(50);
        if limit == 0 || limit > MAX_PAGE {
            return Err(ApiError::bad_request(format!("limit: 1 to {MAX_PAGE}")));
        }
        Ok((filter, limit))
    }
}

/// One page of the clues of the caller's units that match the filter, in its order, after its
/// cursor (a clue id from an earlier page); the read is logged with how many match.
pub(super) fn list_clues(
    l: &Ledger,
    c: &Caller,
    asker: &Asker,
    mut filter: ClueFilter,
    limit: usize,
    dir: &crate::units::Directory,
) -> Result<CluePage, ApiError> {
    filter.scope = c.user.scope(dir);
    if let Some(after) = &filter.after
        && !l.clue_listed(after)?
    {
        return Err(ApiError::bad_request(
            "cursor: 这一页的起点不是已知的线索, 请从第一页重新开始 (the cursor is not a clue in the ledger)",
        ));
    }
    let page = l.clue_page(&filter, limit)?;
    let mut e = asker.entry(&c.user.name, c.via, "list clues", None, "ok");
    e.detail = Some(format!("{} 条", page.total));
    l.log_access(&e)?;
    Ok(page)
}

/// A clue the caller may see, or "not found" — the same answer whether it does not exist or
/// lies outside their units, so a URL tells nothing; the refusal is logged as what it was.
pub(super) fn visible_clue(
    l: &Ledger,
    c: &Caller,
    asker: &Asker,
    id: &str,
    action: &str,
    dir: &crate::units::Directory,
) -> Result<crate::ledger::ClueView, ApiError> {
    let today = chrono::Local::now().date_naive();
    let view = l.clue(id, today)?;
    let outcome = match &view {
        None => "not found",
        Some(v) if !User::sees(&c.user.scope(dir), v.clue.unit_code.as_deref()) => "refused: outside the user's units",
        Some(_) => "ok",
    };
    if outcome != "ok" {
        l.log_access(&asker.entry(&c.user.name, c.via, action, Some(id), outcome))?;
        return Err(ApiError::not_found(&format!("线索 {id}")));
    }
    view.ok_or_else(|| ApiError::not_found("线索"))
}

/// A clue read by the caller: [`visible_clue`], and the read logged.
pub(super) fn read_clue(
    l: &Ledger,
    c: &Caller,
    asker: &Asker,
    id: &str,
    action: &str,
    dir: &crate::units::Directory,
) -> Result<crate::ledger::ClueView, ApiError> {
    let view = visible_clue(l, c, asker, id, action, dir)?;
    l.log_access(&asker.entry(&c.user.name, c.via, action, Some(&view.clue.clue_id), "ok"))?;
    Ok(view)
}

/// A unit of the directory the caller may read (its brief): "not found" — the same for a unit
/// outside their units as for one that does not exist — else nothing; the read or the refusal
/// logged as what it was.
pub(super) fn read_unit(
    l: &Ledger,
    c: &Caller,
    asker: &Asker,
    code: &str,
    dir: &crate::units::Directory,
) -> Result<(), ApiError> {
    let outcome = match dir.index(code) {
        None => "not found",
        Some(_) if !User::sees(&c.user.scope(dir), Some(code)) => "refused: outside the user's units",
        Some(_) => "ok",
    };
    l.log_access(&asker.entry(&c.user.name, c.via, "read brief", Some(code), outcome))?;
    if outcome != "ok" {
        return Err(ApiError::not_found(&format!("单位 {code}")));
    }
    Ok(())
}

/// `GET /clues/{id}`: the clue with its sightings (runs, data versions, evidence rows) and its
/// trail, and the steps the caller may take now.
async fn clue(State(wb): State<Arc<Workbench>>, asker: Asker, Path(id): Path<String>) -> Answer {
    let dir = wb.directory().await;
    let (c, view) = on_ledger(&wb, move |l| {
        let c = auth::authenticate(l, &asker, "read clue")?;
        let view = read_clue(l, &c, &asker, &id, "read clue", &dir)?;
        Ok((c, view))
    })
    .await?;
    let last_event = view.events.iter().map(|e| e.seq).max().unwrap_or(0);
    shown(&c, &serde_json::json!({ "clue": view, "last_event": last_event, "may_act": c.user.role.may_change() }))
}

/// The steps a team member may not take: triage and exceptions are the analysts'.
pub(super) fn role_may_take(role: Role, step: &Step) -> bool {
    match role {
        Role::Admin | Role::Analyst => true,
        Role::Team => !matches!(step, Step::Triage { .. } | Step::Except { .. }),
        Role::Leader => false,
    }
}

/// `POST /clues/{id}/steps {kind, …, reason, last_event}`: one workflow step. `last_event` is
/// the clue's latest event when the caller drew their form: if someone acted since, 409.
async fn step(
    State(wb): State<Arc<Workbench>>,
    asker: Asker,
    Path(id): Path<String>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Answer {
    // the log names the step asked for, even when the asker is refused
    let kind = body.as_ref().ok().and_then(|j| j.0.get("kind")?.as_str().map(str::to_string));
    let kind = kind.filter(|k| k.len() <= 16 && k.bytes().all(|b| b.is_ascii_lowercase()));
    let c = who(&wb, &asker, &kind.map_or("step".into(), |k| format!("step {k}"))).await?;
    let Json(mut body) = body?;
    let obj = body
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("a step is a JSON object: {\"kind\": \"verify\", …}"))?;
    let reason = match obj.remove("reason") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => return Err(ApiError::bad_request("reason: a string")),
    };
    let last_event = match obj.remove("last_event") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| ApiError::bad_request("last_event: an integer"))?),
    };
    let step: Step = serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("step: {e}")))?;
    let dir = wb.directory().await;
    let (c, event, state) = on_ledger(&wb, move |l| {
        let (event, clue_id) = take_step(l, &c, &asker, &id, step, reason.as_deref(), last_event, &dir)?;
        let state = l.work_state(&clue_id, chrono::Local::now().date_naive())?;
        Ok((c, event, state))
    })
    .await?;
    let mut r = shown(&c, &serde_json::json!({ "event": event, "state": state }))?;
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// One step on a clue the caller may see and work, for the API and the pages alike: their role
/// may change things and take this kind of step (403), the clue is in their scope (404), and
/// the ledger takes it (400 for the step's own values, 409 for a state that does not allow it
/// or a stale form) — every outcome logged. The step taken and the clue's id.
#[allow(clippy::too_many_arguments)]
pub(super) fn take_step(
    l: &mut Ledger,
    c: &Caller,
    asker: &Asker,
    id: &str,
    step: Step,
    reason: Option<&str>,
    last_event: Option<i64>,
    dir: &crate::units::Directory,
) -> Result<(crate::ledger::Event, String), ApiError> {
    let action = format!("step {}", step.kind());
    auth::require(l, c, &[Role::Admin, Role::Analyst, Role::Team], &action, Some(id))?;
    let clue_id = visible_clue(l, c, asker, id, &action, dir)?.clue.clue_id;
    let log =
        |l: &Ledger, outcome: &str| l.log_access(&asker.entry(&c.user.name, c.via, &action, Some(&clue_id), outcome));
    if !role_may_take(c.user.role, &step) {
        log(l, "refused: role")?;
        return Err(ApiError::forbidden(&format!(
            "{}不能进行「{}」(analysts triage and grant exceptions)",
            c.user.role.label(),
            step.label()
        )));
    }
    match l.take_step(&clue_id, &c.actor(), step, reason, last_event) {
        Ok(event) => {
            log(l, "ok")?;
            Ok((event, clue_id))
        }
        Err(StepRefused::Ledger(e)) => Err(e.into()),
        Err(StepRefused::NoClue) => Err(ApiError::not_found("线索")),
        Err(StepRefused::Invalid(m)) => {
            log(l, "refused: invalid step")?;
            Err(ApiError::bad_request(m))
        }
        Err(e @ (StepRefused::NotNow(_) | StepRefused::Stale { .. })) => {
            log(l, "refused: conflict")?;
            Err(ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()))
        }
    }
}

/// `GET /clues/{id}/paper[?format=html|xlsx|md]`: the clue's working paper, for the caller.
async fn paper(
    State(wb): State<Arc<Workbench>>,
    asker: Asker,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let c = who(&wb, &asker, "read paper").await?;
    let format = super::documents::format_of(q.as_deref())?;
    let dir = wb.directory().await;
    let (a, cc) = (asker.clone(), c.clone());
    let clue_id = on_ledger(&wb, move |l| Ok(read_clue(l, &cc, &a, &id, "read paper", &dir)?.clue.clue_id)).await?;
    let doc = super::documents::paper(&wb.project, &clue_id, c.redactor()).await?;
    super::documents::download_for(&c, doc, format, &format!("paper-{clue_id}"))
}

/// `GET /runs`: the recorded runs, newest first.
async fn runs(State(wb): State<Arc<Workbench>>, asker: Asker) -> Answer {
    let c = who(&wb, &asker, "list runs").await?;
    let rows = on_ledger(&wb, |l| Ok(l.run_rows(500)?)).await?;
    shown(&c, &rows)
}

/// `GET /models`: the model library with each model's record from verification (属实率).
async fn models(State(wb): State<Arc<Workbench>>, asker: Asker) -> Answer {
    let c = who(&wb, &asker, "list models").await?;
    let quality = on_ledger(&wb, |l| Ok(l.quality_by_model()?)).await?;
    let models: Vec<_> = wb
        .project
        .models()
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    let list: Vec<serde_json::Value> = models
        .iter()
        .map(|m| {
            let q = quality.get(m.id());
            serde_json::json!({
                "id": m.id(),
                "title": m.spec.title,
                "domain": m.spec.domain,
                "area": m.spec.area,
                "severity": m.spec.severity.label(),
                "raised": q.map(|q| q.raised).unwrap_or(0),
                "judged": q.map(|q| q.judged()).unwrap_or(0),
                "precision": q.and_then(|q| q.precision()),
                "precision_label": q.map(|q| q.precision_label()).unwrap_or_else(|| "暂无核实".into()),
            })
        })
        .collect();
    shown(&c, &list)
}

/// `GET /clues/{id}/evidence`: the evidence rows of the latest run that found the clue, with
/// their column labels and the data versions and source files they came from.
async fn evidence(State(wb): State<Arc<Workbench>>, asker: Asker, Path(id): Path<String>) -> Answer {
    let c = who(&wb, &asker, "read evidence").await?;
    let dir = wb.directory().await;
    let (a, cc) = (asker.clone(), c.clone());
    let clue_id = on_ledger(&wb, move |l| Ok(read_clue(l, &cc, &a, &id, "read evidence", &dir)?.clue.clue_id)).await?;
    let p = super::documents::paper_of(&wb.project, &clue_id, c.redactor()).await?;
    shown(
        &c,
        &serde_json::json!({
            "clue_id": clue_id,
            "run_id": p.sighting.run_id,
            "as_of": p.sighting.as_of,
            "columns": p.columns,
            "rows": p.rows,
            "sources": p.sources,
        }),
    )
}

/// `GET /units`: the units of the directory the caller may see.
async fn units(State(wb): State<Arc<Workbench>>, asker: Asker) -> Answer {
    let c = who(&wb, &asker, "list units").await?;
    let dir = wb.directory().await;
    let scope = c.user.scope(&dir);
    let list: Vec<&crate::units::Unit> = dir.units.iter().filter(|u| User::sees(&scope, Some(&u.code))).collect();
    shown(&c, &list)
}

/// `GET /units/{code}/brief[?format=html|xlsx|md]`: the unit's pre-inspection brief; a unit
/// outside the caller's units is not found, as one that does not exist.
async fn brief(
    State(wb): State<Arc<Workbench>>,
    asker: Asker,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let c = who(&wb, &asker, "read brief").await?;
    let format = super::documents::format_of(q.as_deref())?;
    let dir = wb.directory().await;
    let (a, cc, u) = (asker.clone(), c.clone(), code.clone());
    on_ledger(&wb, move |l| read_unit(l, &cc, &a, &u, &dir)).await?;
    let doc = super::documents::brief(&wb.project, &code, c.redactor()).await?;
    super::documents::download_for(&c, doc, format, &format!("brief-{code}"))
}

/// `GET /users` (admins): every user.
async fn users(State(wb): State<Arc<Workbench>>, asker: Asker) -> Answer {
    let (c, users) = on_ledger(&wb, move |l| {
        let c = auth::authenticate(l, &asker, "list users")?;
        auth::require(l, &c, &[Role::Admin], "list users", None)?;
        l.log_access(&asker.entry(&c.user.name, c.via, "list users", None, "ok"))?;
        Ok((c, l.users()?))
    })
    .await?;
    shown(&c, &users)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    user: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
}

/// `GET /audit` (admins): the access log, newest first.
async fn audit(State(wb): State<Arc<Workbench>>, asker: Asker, q: Result<Query<AuditQuery>, QueryRejection>) -> Answer {
    let c = who(&wb, &asker, "read access log").await?;
    let Query(q) = q?;
    let filter = AccessFilter { who: q.user, since: q.since, limit: Some(q.limit.unwrap_or(200).min(10_000)) };
    let (c, rows) = on_ledger(&wb, move |l| {
        auth::require(l, &c, &[Role::Admin], "read access log", None)?;
        l.log_access(&asker.entry(&c.user.name, c.via, "read access log", None, "ok"))?;
        Ok((c, l.access_log(&filter)?))
    })
    .await?;
    shown(&c, &rows)
}

#[cfg(test)]
mod tests {
    use crate::ledger::{Mark, Status};

    fn enum_of(doc: &serde_json::Value, pointer: &str) -> Vec<String> {
        let v = doc.pointer(pointer).unwrap_or_else(|| panic!("{pointer}"));
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn the_openapi_document_parses_and_its_value_lists_are_the_ledgers() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let params = doc.pointer("/paths/~1clues/get/parameters").unwrap().as_array().unwrap();
        let list = |name: &str| -> Vec<String> {
            let p = params.iter().find(|p| p["name"] == name).unwrap();
            p["schema"]["enum"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
        };
        let mut statuses = list("status");
        statuses.sort();
        let mut want: Vec<String> = Status::ALL.iter().map(|s| s.name().to_string()).collect();
        want.sort();
        assert_eq!(statuses, want);
        for m in list("mark") {
            assert!(Mark::parse(&m).is_some(), "{m}");
        }
        for f in list("flag") {
            assert!(crate::ledger::Flag::parse(&f).is_some(), "{f}");
        }
        assert_eq!(enum_of(&doc, "/components/schemas/Step/properties/result/enum"), crate::ledger::workflow::RESULTS);
        let roles = enum_of(&doc, "/components/schemas/User/properties/role/enum");
        assert_eq!(roles, crate::ledger::Role::ALL.map(|r| r.name()));
    }
}
