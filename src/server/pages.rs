//! The workbench's pages, in Chinese and without JavaScript: 登录, 线索 (filters, counts by
//! state, paging), 线索详情 (facts, sightings, the trail and a form for each step the user may
//! take now), 问题底稿, 单位 and each unit's brief, 运行记录, 模型库, and for admins 访问日志 and
//! 用户. Each page is a [`Document`] of the one document model, rendered by its HTML renderer and
//! passed through the caller's redactor — the same rules as the API, whose checks (who is
//! asking, scope, role, the log) the pages call.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::api::{self, ApiError, ClueQuery};
use super::auth::{Asker, Caller};
use super::{Workbench, documents};
use crate::doc::{Cell, Document, Field, Form as DocForm, Format, Section, Table};
use crate::ledger::{ClueView, Person, Status, Step};

pub fn routes() -> Router<Arc<Workbench>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/clues") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", get(logout_page).post(logout))
        .route("/clues", get(clues_page))
        .route("/clues/{id}", get(clue_page).post(step_form))
        .route("/papers/{id}", get(paper_page))
        .route("/units", get(units_page))
        .route("/runs", get(runs_page))
        .route("/models", get(models_page))
        .route("/audit", get(audit_page))
        .route("/users", get(users_page).post(users_form))
        .route("/units/{code}", get(unit_brief))
}

/// A page as the caller may see it: their navigation, their redaction, HTML.
fn page(c: Option<&Caller>, mut doc: Document, status: StatusCode) -> Response {
    if let Some(c) = c {
        doc.nav = vec![
            ("线索".into(), "/clues".into()),
            ("单位".into(), "/units".into()),
            ("运行记录".into(), "/runs".into()),
            ("模型库".into(), "/models".into()),
        ];
        if c.user.role == crate::ledger::Role::Admin {
            doc.nav.push(("访问日志".into(), "/audit".into()));
            doc.nav.push(("用户".into(), "/users".into()));
        }
        doc.nav.extend([
            (format!("{}（{}）", c.user.display, c.user.role.label()), String::new()),
            ("退出".into(), "/logout".into()),
        ]);
        let r = c.redactor();
        doc.redact(&|s: &str| r.text(s).into_owned());
    } else {
        let r = crate::redact::Redactor::masking();
        doc.redact(&|s: &str| r.text(s).into_owned());
    }
    match doc.render(Format::Html) {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("页面生成失败: {e}")).into_response(),
    }
}

/// A page that says what went wrong, in Chinese.
fn problem(c: Option<&Caller>, e: &ApiError) -> Response {
    let title = match e.status {
        StatusCode::NOT_FOUND => "没有找到",
        StatusCode::FORBIDDEN => "无权操作",
        StatusCode::CONFLICT => "未能办理",
        StatusCode::TOO_MANY_REQUESTS => "请稍后再试",
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => "填写有误",
        _ => "出错了",
    };
    let mut doc = Document { title: title.into(), notices: vec![e.detail.clone()], ..Default::default() };
    let mut s = Section::new("下一步");
    s.para("返回上一页修改后重试，或回到线索列表。");
    doc.sections.push(s);
    page(c, doc, e.status)
}

/// Who is asking, for a page: someone signed out is sent to 登录 (the refusal logged).
async fn caller(wb: &Arc<Workbench>, asker: &Asker, action: &str) -> Result<Caller, Response> {
    match api::who(wb, asker, action).await {
        Ok(c) => Ok(c),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(Redirect::to("/login").into_response()),
        Err(e) => Err(problem(None, &e)),
    }
}

/// Who is asking for a document, and in which format (`?format=html|xlsx|md`).
async fn caller_and_format(
    wb: &Arc<Workbench>,
    asker: &Asker,
    action: &str,
    query: Option<&str>,
) -> Result<(Caller, Format), Response> {
    let c = caller(wb, asker, action).await?;
    match documents::format_of(query) {
        Ok(f) => Ok((c, f)),
        Err(e) => Err(problem(Some(&c), &e)),
    }
}

fn login_doc(notice: Option<String>, token: &str) -> Document {
    let mut doc =
        Document { title: "探照灯 · 登录".into(), notices: notice.into_iter().collect(), ..Default::default() };
    let mut s = Section::new("登录工作台");
    s.form(DocForm {
        action: "/login".into(),
        method: "post",
        fields: vec![
            Field::hidden("csrf", token),
            Field::new("name", "用户名", "text").required(),
            Field::new("password", "密码", "password").required(),
        ],
        submit: "登录".into(),
        legend: None,
    });
    s.para("账号由管理员开设（searchlight user add）。连续输错五次，需等待十五分钟。");
    doc.sections.push(s);
    doc
}

/// The sign-in page with a fresh form token, set also as a cookie of the sign-in form's own.
fn login_response(notice: Option<String>, status: StatusCode) -> Response {
    let token = crate::ledger::access::secret().unwrap_or_default();
    let mut r = page(None, login_doc(notice, &token), status);
    let cookie = format!("{}={token}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=3600", super::auth::LOGIN_COOKIE);
    if let Ok(v) = cookie.parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn login_page() -> Response {
    login_response(None, StatusCode::OK)
}

/// `POST /login` (a form): a session cookie, then the clue list. The form's token must be the
/// one its page set as a cookie: a sign-in posted from another site is refused.
async fn login(
    State(wb): State<Arc<Workbench>>,
    asker: Asker,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return login_response(Some("请填写用户名和密码".into()), StatusCode::BAD_REQUEST);
    };
    let (name, password) = (f.get("name").cloned().unwrap_or_default(), f.get("password").cloned().unwrap_or_default());
    let sent = f.get("csrf").map(String::as_str).unwrap_or("");
    let drawn = asker.cookie_named(super::auth::LOGIN_COOKIE).unwrap_or_default();
    if drawn.is_empty() || !super::auth::constant_time_eq(sent.as_bytes(), drawn.as_bytes()) {
        let entry = asker.entry(&name, "web", "sign-in", None, "refused: no form token");
        let _ = api::on_ledger(&wb, move |l| Ok(l.log_access(&entry)?)).await;
        return login_response(Some("登录页已失效，请重新登录".into()), StatusCode::FORBIDDEN);
    }
    match api::signed_in(&wb, &asker, name, password).await {
        Ok((_, cookie, _)) => match api::session_cookie(&wb, &asker, &cookie) {
            Ok(v) => {
                let mut r = Redirect::to("/clues").into_response();
                r.headers_mut().insert(header::SET_COOKIE, v);
                r
            }
            Err(e) => problem(None, &e),
        },
        Err(e) => login_response(Some(e.detail), e.status),
    }
}

async fn logout_page(State(wb): State<Arc<Workbench>>, asker: Asker) -> Response {
    let c = match caller(&wb, &asker, "logout page").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let csrf = c.csrf.clone().unwrap_or_default();
    let mut doc = Document { title: "退出登录".into(), ..Default::default() };
    let mut s = Section::new("退出");
    s.form(DocForm {
        action: "/logout".into(),
        method: "post",
        fields: vec![Field::hidden("csrf", csrf)],
        submit: "退出登录".into(),
        legend: None,
    });
    doc.sections.push(s);
    page(Some(&c), doc, StatusCode::OK)
}

async fn logout(
    State(wb): State<Arc<Workbench>>,
    mut asker: Asker,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    asker.form_token = form.ok().and_then(|Form(f)| f.get("csrf").cloned());
    match api::signed_out(&wb, asker).await {
        Ok(clear) => {
            let mut r = Redirect::to("/login").into_response();
            r.headers_mut().insert(header::SET_COOKIE, clear);
            r
        }
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Redirect::to("/login").into_response(),
        // not signed out (no form token, or the ledger failed): said, never pretended
        Err(e) => problem(None, &e),
    }
}

/// A query string without its empty fields (an HTML form sends every field, filled or not).
fn filled(query: Option<&str>) -> String {
    query.unwrap_or("").split('&').filter(|kv| kv.contains('=') && !kv.ends_with('=')).collect::<Vec<_>>().join("&")
}

fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()
}

/// `GET /clues`: the filters, the count of each state, one page of clues.
async fn clues_page(State(wb): State<Arc<Workbench>>, asker: Asker, RawQuery(raw): RawQuery) -> Response {
    let c = match caller(&wb, &asker, "list clues").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let qs = filled(raw.as_deref());
    let uri: axum::http::Uri = match format!("/clues?{qs}").parse() {
        Ok(u) => u,
        Err(_) => return problem(Some(&c), &ApiError::bad_request("查询参数有误")),
    };
    let q = match axum::extract::Query::<ClueQuery>::try_from_uri(&uri) {
        Ok(q) => q.0,
        Err(e) => return problem(Some(&c), &ApiError::from(e)),
    };
    let (filter, limit) = match q.filter() {
        Ok(f) => f,
        Err(e) => return problem(Some(&c), &e),
    };
    let (dir, dir_problem) = wb.directory_read().await;
    let (a, cc, d) = (asker.clone(), c.clone(), dir.clone());
    let list = match api::on_ledger(&wb, move |l| api::list_clues(l, &cc, &a, filter, limit, &d)).await {
        Ok(r) => r,
        Err(e) => return problem(Some(&c), &e),
    };
    let (total, next) = (list.total, list.next.clone());
    let shown = &list.rows;

    let mut notices = Vec::new();
    if let Some(problem) = dir_problem.filter(|_| !c.user.role.all_units()) {
        notices.push(format!("{problem}：只列出直接分配给本组的单位的线索，下属单位的线索暂不能列出（不代表没有）"));
    }
    let mut doc = Document {
        notices,
        title: "线索".into(),
        meta: vec![
            (
                "范围".into(),
                if c.user.role.all_units() {
                    "全部单位".into()
                } else {
                    format!("{}（含下属单位）", c.user.units.join("、"))
                },
            ),
            ("符合条件".into(), format!("{total} 条")),
        ],
        ..Default::default()
    };
    let mut filters = Section::new("筛选");
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut status_options = vec![(String::new(), "全部状态".to_string())];
    status_options.extend(Status::ALL.iter().map(|s| (s.name().to_string(), s.label().to_string())));
    filters.form(DocForm {
        action: "/clues".into(),
        method: "get",
        fields: vec![
            Field::new("status", "状态", "select").value(value(&q.status)).options(status_options),
            Field::new("severity", "风险", "select").value(value(&q.severity)).options(options(&[
                ("", "全部"),
                ("high", "高"),
                ("medium", "中"),
                ("low", "低"),
            ])),
            Field::new("mark", "本次运行", "select").value(value(&q.mark)).options(options(&[
                ("", "全部"),
                ("new", "新增"),
                ("ongoing", "持续"),
                ("reopened", "复现"),
                ("resolved", "已消失"),
            ])),
            Field::new("area", "监督方向", "text").value(value(&q.area)),
            Field::new("unit", "单位", "text").value(value(&q.unit)),
            Field::new("sort", "排序", "select").value(value(&q.sort)).options(options(&[
                ("severity", "风险高、发现新者在前"),
                ("amount", "金额大者在前"),
                ("newest", "最新发现在前"),
                ("unit", "按单位"),
            ])),
        ],
        submit: "筛选".into(),
        legend: None,
    });
    let mut tally = Table::new(&["状态", "条数"]);
    for (status, n) in &list.tally {
        tally.push(vec![
            Cell::Link { text: status.label().into(), href: format!("/clues?status={}", status.name()) },
            Cell::Int(*n as i64),
        ]);
    }
    filters.table(tally);
    doc.sections.push(filters);

    let mut list = Section::new("线索列表");
    let mut t = Table::new(&["问题", "监督方向", "单位", "对象", "金额(元)", "状态", "本次"]);
    for r in shown {
        t.push(vec![
            Cell::Link { text: r.title.clone(), href: format!("/clues/{}", r.clue_id) },
            r.area.clone().into(),
            // the directory's name of the unit it resolved to, else the model's own value
            r.unit_code
                .as_deref()
                .and_then(|u| dir.index(u))
                .map(|i| dir.units[i].name.clone())
                .or_else(|| r.unit.clone())
                .unwrap_or_default()
                .into(),
            r.entity.clone().into(),
            r.amount_fen.map(Cell::Money).unwrap_or(Cell::Empty),
            r.state.as_ref().map(|s| s.label.to_string()).unwrap_or_default().into(),
            r.mark.label().into(),
        ]);
    }
    if shown.is_empty() {
        list.para("没有符合条件的线索。");
    } else {
        list.table(t);
    }
    if let Some(n) = next {
        let keep: String = qs
            .split('&')
            .filter(|kv| !kv.starts_with("cursor=") && !kv.is_empty())
            .map(|kv| format!("{kv}&"))
            .collect();
        let mut more = Table::new(&["翻页"]);
        more.push(vec![Cell::Link { text: "下一页 →".into(), href: format!("/clues?{keep}cursor={n}") }]);
        list.table(more);
    }
    doc.sections.push(list);
    page(Some(&c), doc, StatusCode::OK)
}

/// `GET /clues/{id}`: the clue, its sightings, its trail and the forms of the steps the user may
/// take now.
async fn clue_page(State(wb): State<Arc<Workbench>>, asker: Asker, Path(id): Path<String>) -> Response {
    clue_response(&wb, &asker, &id, None, StatusCode::OK).await
}

async fn clue_response(
    wb: &Arc<Workbench>,
    asker: &Asker,
    id: &str,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let c = match caller(wb, asker, "read clue").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let dir = wb.directory().await;
    let (a, cc, i) = (asker.clone(), c.clone(), id.to_string());
    let view = api::on_ledger(wb, move |l| api::read_clue(l, &cc, &a, &i, "read clue", &dir)).await;
    let view = match view {
        Ok(v) => v,
        Err(e) => return problem(Some(&c), &e),
    };
    let csrf = c.csrf.clone().unwrap_or_default();
    let mut doc = clue_doc(&c, &view, &csrf);
    doc.notices.extend(notice);
    page(Some(&c), doc, status)
}

fn clue_doc(c: &Caller, v: &ClueView, csrf: &str) -> Document {
    let clue = &v.clue;
    let state = clue.state.as_ref();
    let mut doc = Document {
        title: clue.title.clone(),
        meta: vec![
            ("线索编号".into(), clue.clue_id.clone()),
            ("监督方向".into(), clue.area.clone()),
            ("风险".into(), severity(&clue.severity).into()),
            ("单位".into(), clue.unit.clone().unwrap_or_else(|| "—".into())),
            ("对象".into(), clue.entity.clone()),
            (
                "金额".into(),
                clue.amount_fen.map(|f| format!("{} 元", crate::doc::money_fen(f))).unwrap_or_else(|| "—".into()),
            ),
            ("状态".into(), state.map(|s| s.label.to_string()).unwrap_or_default()),
            ("本次运行".into(), clue.mark.label().into()),
            ("模型".into(), clue.model.clone()),
        ],
        ..Default::default()
    };
    let mut paper = Section::new("问题底稿");
    let mut links = Table::new(&["底稿", "下载"]);
    links.push(vec![
        Cell::Link { text: "在线查看".into(), href: format!("/papers/{}", clue.clue_id) },
        Cell::Link { text: "Excel".into(), href: format!("/papers/{}?format=xlsx", clue.clue_id) },
    ]);
    paper.table(links);
    doc.sections.push(paper);

    let mut seen = Section::new("发现记录");
    let mut t = Table::new(&["运行", "数据截至", "标记", "单位", "金额(元)", "证据行"]);
    for s in &v.sightings {
        t.push(vec![
            s.run_id.clone().into(),
            s.as_of.clone().into(),
            s.mark.label().into(),
            s.unit.clone().unwrap_or_default().into(),
            s.amount.map(|a| Cell::Money(a.0)).unwrap_or(Cell::Empty),
            Cell::Int(s.rows.len() as i64),
        ]);
    }
    seen.table(t);
    doc.sections.push(seen);

    let mut trail = Section::new("处置记录");
    if v.events.is_empty() {
        trail.para("尚未处理。");
    } else {
        trail.list(
            v.events.iter().map(|e| format!("{} {}：{}——{}", e.at, e.actor, e.step.label(), e.describe())).collect(),
        );
    }
    doc.sections.push(trail);

    let last_event = v.events.iter().map(|e| e.seq).max().unwrap_or(0);
    let mut next = Section::new("下一步");
    let mut any = false;
    if let Some(state) = state {
        for (step, form) in step_forms(&clue.clue_id, csrf, last_event) {
            if api::role_may_take(c.user.role, &step) && state.allows(&step).is_ok() {
                next.form(form);
                any = true;
            }
        }
    }
    if !any {
        next.para(if c.user.role.may_change() {
            "当前状态下没有可办理的步骤。"
        } else {
            "只读：领导角色可查看，不办理。"
        });
    }
    doc.sections.push(next);
    doc
}

fn severity(s: &str) -> &'static str {
    match s {
        "high" => "高",
        "medium" => "中",
        _ => "低",
    }
}

/// One form per kind of step, each with a representative step (for the role and state checks).
fn step_forms(id: &str, csrf: &str, last_event: i64) -> Vec<(Step, DocForm)> {
    let form = |kind: &str, legend: &str, submit: &str, mut fields: Vec<Field>| {
        let mut all = vec![
            Field::hidden("csrf", csrf),
            Field::hidden("last_event", last_event.to_string()),
            Field::hidden("kind", kind),
        ];
        all.append(&mut fields);
        DocForm {
            action: format!("/clues/{id}"),
            method: "post",
            fields: all,
            submit: submit.into(),
            legend: Some(legend.into()),
        }
    };
    let reason = |label: &str, required: bool| {
        let f = Field::new("reason", label, "textarea");
        if required { f.required() } else { f }
    };
    let date = chrono::NaiveDate::MIN;
    vec![
        (
            Step::Triage { dismiss: false, route_to: None, persons: vec![] },
            form(
                "triage",
                "研判",
                "提交研判",
                vec![
                    Field::new("route_to", "分流至（部门或单位；空则留存直接核查）", "text"),
                    Field::new("persons", "责任人（姓名:职务，多人用分号隔开）", "text"),
                    Field::new("dismiss", "排除误报", "checkbox"),
                    reason("理由（排除误报时必填）", false),
                ],
            ),
        ),
        (
            Step::Assign { to: String::new(), due: None },
            form(
                "assign",
                "交办核查",
                "交办",
                vec![
                    Field::new("to", "核查人或部门", "text").required(),
                    Field::new("due", "办结期限", "date"),
                    reason("说明", false),
                ],
            ),
        ),
        (
            Step::Verify { result: String::new(), amount_involved: None, amount_recovered: None },
            form(
                "verify",
                "核实",
                "提交核实结论",
                vec![
                    Field::new("result", "核实结论", "select").options(
                        crate::ledger::workflow::RESULTS.iter().map(|r| (r.to_string(), r.to_string())).collect(),
                    ),
                    Field::new("amount_involved", "涉及金额(元)", "number"),
                    Field::new("amount_recovered", "已追回(元)", "number"),
                    reason("说明", false),
                ],
            ),
        ),
        (
            Step::Dispose { action: String::new() },
            form(
                "dispose",
                "处置",
                "提交处置",
                vec![
                    Field::new("action", "处置方式（追缴、清退、谈话函询、立案审查……）", "text").required(),
                    reason("说明", false),
                ],
            ),
        ),
        (
            Step::Rectify { due: date },
            form(
                "rectify",
                "整改",
                "下达整改",
                vec![Field::new("due", "整改期限", "date").required(), reason("整改要求", false)],
            ),
        ),
        (Step::Close, form("close", "销号", "销号", vec![reason("销号说明", true)])),
        (
            Step::Except { until: date },
            form(
                "except",
                "例外",
                "登记例外",
                vec![Field::new("until", "至（日期）前不再提示", "date").required(), reason("依据", true)],
            ),
        ),
        (Step::Note, form("note", "备注", "添加备注", vec![reason("备注", true)])),
    ]
}

/// A step from a form's fields; the message says what is wrong, in Chinese.
fn step_of(f: &HashMap<String, String>) -> Result<Step, String> {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let date = |k: &str, what: &str| -> Result<Option<chrono::NaiveDate>, String> {
        get(k)
            .map(|s| {
                chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| format!("{what}「{s}」不是日期（如 2026-03-31）"))
            })
            .transpose()
    };
    let amount = |k: &str, what: &str| -> Result<Option<f64>, String> {
        get(k).map(|s| crate::codes::text::entered_yuan(&s).map_err(|e| format!("{what}「{s}」：{e}"))).transpose()
    };
    let required = |v: Option<chrono::NaiveDate>, what: &str| v.ok_or_else(|| format!("请填写{what}"));
    Ok(match get("kind").as_deref() {
        Some("triage") => Step::Triage {
            dismiss: get("dismiss").is_some(),
            route_to: get("route_to"),
            persons: get("persons")
                .map(|p| {
                    p.split([';', '；'])
                        .filter(|x| !x.trim().is_empty())
                        .map(|x| {
                            let (name, role) = x.split_once([':', '：']).unwrap_or((x, ""));
                            Person { name: name.trim().into(), role: role.trim().into() }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        },
        Some("assign") => {
            Step::Assign { to: get("to").ok_or("请填写核查人或部门")?, due: date("due", "办结期限")? }
        }
        Some("verify") => Step::Verify {
            result: get("result").ok_or("请选择核实结论")?,
            amount_involved: amount("amount_involved", "涉及金额")?,
            amount_recovered: amount("amount_recovered", "已追回金额")?,
        },
        Some("dispose") => Step::Dispose { action: get("action").ok_or("请填写处置方式")? },
        Some("rectify") => Step::Rectify { due: required(date("due", "整改期限")?, "整改期限")? },
        Some("close") => Step::Close,
        Some("note") => Step::Note,
        Some("except") => Step::Except { until: required(date("until", "例外期限")?, "例外期限")? },
        _ => return Err("未知的步骤".into()),
    })
}

/// `POST /clues/{id}` (a step's form): taken, then back to the clue; refused, the clue again
/// with why.
async fn step_form(
    State(wb): State<Arc<Workbench>>,
    mut asker: Asker,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = match form {
        Ok(Form(f)) => f,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let e = ApiError {
                status: r.status(),
                error: "payload_too_large",
                detail: "填写的内容过长（不超过 64 KiB）".into(),
                retry_after: None,
            };
            return problem(None, &e);
        }
        Err(_) => HashMap::new(),
    };
    asker.form_token = f.get("csrf").cloned();
    let kind = f.get("kind").filter(|k| k.len() <= 16 && k.bytes().all(|b| b.is_ascii_lowercase())).cloned();
    let action = kind.map_or("step".to_string(), |k| format!("step {k}"));
    let c = match caller(&wb, &asker, &action).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let step = match step_of(&f) {
        Ok(s) => s,
        Err(m) => return clue_response(&wb, &asker, &id, Some(m), StatusCode::BAD_REQUEST).await,
    };
    let reason = f.get("reason").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let last_event = f.get("last_event").and_then(|s| s.parse::<i64>().ok());
    let dir = wb.directory().await;
    let (a, cc, i) = (asker.clone(), c.clone(), id.clone());
    let taken = api::on_ledger(&wb, move |l| {
        api::take_step(l, &cc, &a, &i, step, reason.as_deref(), last_event, &dir).map(|_| ())
    })
    .await;
    match taken {
        Ok(()) => Redirect::to(&format!("/clues/{id}")).into_response(),
        Err(e) if matches!(e.status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT) => {
            clue_response(&wb, &asker, &id, Some(e.detail), e.status).await
        }
        Err(e) => problem(Some(&c), &e),
    }
}

/// `GET /papers/{id}[?format=xlsx|md]`: the clue's working paper (问题底稿), as the caller may
/// see it.
async fn paper_page(
    State(wb): State<Arc<Workbench>>,
    asker: Asker,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (c, format) = match caller_and_format(&wb, &asker, "read paper", q.as_deref()).await {
        Ok(cf) => cf,
        Err(r) => return r,
    };
    let dir = wb.directory().await;
    let (a, cc, i) = (asker.clone(), c.clone(), id.clone());
    let clue_id = match api::on_ledger(&wb, move |l| {
        Ok(api::read_clue(l, &cc, &a, &i, "read paper", &dir)?.clue.clue_id)
    })
    .await
    {
        Ok(id) => id,
        Err(e) => return problem(Some(&c), &e),
    };
    let doc = match documents::paper(&wb.project, &clue_id, c.redactor()).await {
        Ok(d) => d,
        Err(e) => return problem(Some(&c), &e),
    };
    deliver(&c, doc, format, &format!("paper-{clue_id}"))
}

/// `GET /runs`: the recorded runs, newest first (what they did to the clues, county-wide counts).
async fn runs_page(State(wb): State<Arc<Workbench>>, asker: Asker) -> Response {
    let c = match caller(&wb, &asker, "list runs").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let rows = match api::on_ledger(&wb, |l| Ok(l.run_rows(100)?)).await {
        Ok(r) => r,
        Err(e) => return problem(Some(&c), &e),
    };
    let mut doc = Document { title: "运行记录".into(), ..Default::default() };
    let mut s = Section::new("最近 100 次运行");
    let mut t = Table::new(&[
        "运行",
        "触发",
        "数据截至",
        "开始",
        "结束",
        "模型",
        "未运行",
        "失败",
        "部分未检查",
        "结果",
        "新增",
        "已消失",
        "说明",
    ]);
    let outcome = |o: &str| match o {
        "ok" => "完成",
        "partial" => "部分完成",
        "failed" => "失败",
        "timed_out" => "超时",
        "interrupted" => "被中断",
        "running" => "运行中",
        _ => "其他",
    };
    for r in &rows {
        let mark = |m: crate::ledger::Mark| Cell::Int(r.marks.get(&m).copied().unwrap_or(0) as i64);
        t.push(vec![
            r.run_id.clone().into(),
            if r.trigger == "manual" { "命令行".to_string() } else { r.trigger.clone() }.into(),
            r.as_of.clone().into(),
            r.started_at.clone().into(),
            r.ended_at.clone().into(),
            Cell::Int(r.models as i64),
            Cell::Int(r.not_run as i64),
            Cell::Int(r.failed as i64),
            Cell::Int(r.partial as i64),
            outcome(&r.outcome).into(),
            mark(crate::ledger::Mark::New),
            mark(crate::ledger::Mark::Resolved),
            r.error.clone().unwrap_or_default().into(),
        ]);
    }
    if rows.is_empty() {
        s.para("尚无运行记录。");
    } else {
        s.table(t);
    }
    doc.sections.push(s);
    page(Some(&c), doc, StatusCode::OK)
}

/// `GET /models`: the model library by area, with each model's 属实率 from verification.
async fn models_page(State(wb): State<Arc<Workbench>>, asker: Asker) -> Response {
    let c = match caller(&wb, &asker, "list models").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let quality = match api::on_ledger(&wb, |l| Ok(l.quality_by_model()?)).await {
        Ok(q) => q,
        Err(e) => return problem(Some(&c), &e),
    };
    let models: Vec<_> = match wb.project.models() {
        Ok(m) => m.into_iter().filter_map(Result::ok).collect(),
        Err(e) => return problem(Some(&c), &ApiError::bad_request(e.to_string())),
    };
    let mut doc = Document { title: "模型库".into(), ..Default::default() };
    let mut by_area: BTreeMap<String, Vec<&crate::model::Model>> = BTreeMap::new();
    for m in &models {
        by_area.entry(m.spec.area.clone()).or_default().push(m);
    }
    let mut s = Section::new(format!("{} 个监督模型", models.len()));
    s.para("属实率 = 核实为属实或部分属实的线索 ÷ 已核实或已排除的线索。");
    let mut t = Table::new(&["监督方向", "模型名称", "风险", "已发现", "属实率", "确认金额(元)", "模型编号"]);
    for (area, list) in &by_area {
        for m in list {
            let q = quality.get(m.id());
            t.push(vec![
                area.clone().into(),
                m.spec.title.clone().into(),
                m.spec.severity.label().into(),
                Cell::Int(q.map(|q| q.raised as i64).unwrap_or(0)),
                q.map(|q| q.precision_label()).unwrap_or_else(|| "暂无核实".into()).into(),
                q.filter(|q| q.confirmed_fen > 0).map(|q| Cell::Money(q.confirmed_fen)).unwrap_or(Cell::Empty),
                m.id().to_string().into(),
            ]);
        }
    }
    s.table(t);
    doc.sections.push(s);
    page(Some(&c), doc, StatusCode::OK)
}

/// `GET /audit` (admins): the access log, newest first, by user and date.
async fn audit_page(State(wb): State<Arc<Workbench>>, asker: Asker, RawQuery(raw): RawQuery) -> Response {
    let c = match caller(&wb, &asker, "read access log").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let q: HashMap<String, String> = axum::extract::Query::<HashMap<String, String>>::try_from_uri(
        &format!("/audit?{}", filled(raw.as_deref())).parse().unwrap_or_else(|_| "/audit".parse().expect("a path")),
    )
    .map(|q| q.0)
    .unwrap_or_default();
    let filter =
        crate::ledger::AccessFilter { who: q.get("user").cloned(), since: q.get("since").cloned(), limit: Some(500) };
    let (a, cc) = (asker.clone(), c.clone());
    let rows = api::on_ledger(&wb, move |l| {
        crate::server::auth::require(l, &cc, &[crate::ledger::Role::Admin], "read access log", None)?;
        l.log_access(&a.entry(&cc.user.name, cc.via, "read access log", None, "ok"))?;
        Ok(l.access_log(&filter)?)
    })
    .await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return problem(Some(&c), &e),
    };
    let mut doc = Document { title: "访问日志".into(), ..Default::default() };
    let mut s = Section::new("查询");
    s.form(DocForm {
        action: "/audit".into(),
        method: "get",
        fields: vec![
            Field::new("user", "用户", "text").value(q.get("user").cloned().unwrap_or_default()),
            Field::new("since", "自（日期）", "date").value(q.get("since").cloned().unwrap_or_default()),
        ],
        submit: "查询".into(),
        legend: None,
    });
    let mut t = Table::new(&["时间", "用户", "途径", "地址", "操作", "对象", "结果", "说明"]);
    for e in &rows {
        t.push(vec![
            e.at.clone().into(),
            e.who.clone().into(),
            e.via.clone().into(),
            e.address.clone().unwrap_or_default().into(),
            e.action.clone().into(),
            e.object.clone().unwrap_or_default().into(),
            e.outcome.clone().into(),
            e.detail.clone().unwrap_or_default().into(),
        ]);
    }
    s.para(format!("最近 {} 条（至多 500 条；更多请用 searchlight audit）。", rows.len()));
    s.table(t);
    doc.sections.push(s);
    page(Some(&c), doc, StatusCode::OK)
}

/// `GET /users` (admins): the users, and forms to add one, grant or withdraw the sight of full
/// numbers, assign a team's units, and disable or enable a user.
async fn users_page(State(wb): State<Arc<Workbench>>, asker: Asker) -> Response {
    users_response(&wb, &asker, None, StatusCode::OK).await
}

async fn users_response(wb: &Arc<Workbench>, asker: &Asker, notice: Option<String>, status: StatusCode) -> Response {
    let c = match caller(wb, asker, "list users").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (a, cc) = (asker.clone(), c.clone());
    let users = api::on_ledger(wb, move |l| {
        crate::server::auth::require(l, &cc, &[crate::ledger::Role::Admin], "list users", None)?;
        l.log_access(&a.entry(&cc.user.name, cc.via, "list users", None, "ok"))?;
        Ok(l.users()?)
    })
    .await;
    let users = match users {
        Ok(u) => u,
        Err(e) => return problem(Some(&c), &e),
    };
    let csrf = c.csrf.clone().unwrap_or_default();
    let mut doc = Document { title: "用户".into(), notices: notice.into_iter().collect(), ..Default::default() };
    let mut s = Section::new("用户");
    let mut t = Table::new(&["用户名", "姓名", "角色", "巡察组", "单位", "完整证件号", "状态"]);
    for u in &users {
        t.push(vec![
            u.name.clone().into(),
            u.display.clone().into(),
            u.role.label().into(),
            u.team.clone().unwrap_or_default().into(),
            if u.role.all_units() { "全部".to_string() } else { u.units.join("、") }.into(),
            if u.show_ids { "可见" } else { "脱敏" }.into(),
            if u.disabled { "已停用" } else { "正常" }.into(),
        ]);
    }
    s.table(t);
    doc.sections.push(s);
    let names: Vec<(String, String)> =
        users.iter().map(|u| (u.name.clone(), format!("{}（{}）", u.display, u.name))).collect();
    let roles: Vec<(String, String)> =
        crate::ledger::Role::ALL.iter().map(|r| (r.name().to_string(), r.label().to_string())).collect();
    let hidden = |action: &str| vec![Field::hidden("csrf", csrf.clone()), Field::hidden("action", action)];
    let with = |mut h: Vec<Field>, mut f: Vec<Field>| {
        h.append(&mut f);
        h
    };
    let mut manage = Section::new("管理");
    manage.form(DocForm {
        action: "/users".into(),
        method: "post",
        fields: with(
            hidden("add"),
            vec![
                Field::new("name", "用户名", "text").required(),
                Field::new("display", "姓名", "text"),
                Field::new("role", "角色", "select").options(roles),
                Field::new("team", "巡察组（巡察组成员必填）", "text"),
                Field::new("password", "初始密码（至少 10 位）", "password").required(),
            ],
        ),
        submit: "添加用户".into(),
        legend: Some("添加用户".into()),
    });
    manage.form(DocForm {
        action: "/users".into(),
        method: "post",
        fields: with(
            hidden("units"),
            vec![
                Field::new("name", "用户", "select").options(names.clone()),
                Field::new("unit", "单位编码（含下属单位）", "text").required(),
                Field::new("revoke", "收回该单位", "checkbox"),
            ],
        ),
        submit: "分配单位给其巡察组".into(),
        legend: Some("巡察组的单位".into()),
    });
    manage.form(DocForm {
        action: "/users".into(),
        method: "post",
        fields: with(
            hidden("ids"),
            vec![
                Field::new("name", "用户", "select").options(names.clone()),
                Field::new("show", "可查看完整身份证号、账号", "checkbox"),
            ],
        ),
        submit: "保存".into(),
        legend: Some("完整证件号".into()),
    });
    manage.form(DocForm {
        action: "/users".into(),
        method: "post",
        fields: with(
            hidden("passwd"),
            vec![
                Field::new("name", "用户", "select").options(names.clone()),
                Field::new("password", "新密码（至少 10 位；其登录会话随即失效）", "password").required(),
            ],
        ),
        submit: "重置密码".into(),
        legend: Some("重置密码".into()),
    });
    manage.form(DocForm {
        action: "/users".into(),
        method: "post",
        fields: with(
            hidden("disable"),
            vec![
                Field::new("name", "用户", "select").options(names),
                Field::new("enable", "重新启用（不勾选为停用）", "checkbox"),
            ],
        ),
        submit: "保存".into(),
        legend: Some("停用或启用".into()),
    });
    doc.sections.push(manage);
    page(Some(&c), doc, status)
}

/// `POST /users` (admins): one of the user forms; each change is logged.
async fn users_form(
    State(wb): State<Arc<Workbench>>,
    mut asker: Asker,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let f = form.map(|Form(f)| f).unwrap_or_default();
    asker.form_token = f.get("csrf").cloned();
    let c = match caller(&wb, &asker, "manage users").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (a, cc) = (asker.clone(), c.clone());
    let done = api::on_ledger(&wb, move |l| {
        let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let action = format!("user {}", get("action").unwrap_or_default());
        crate::server::auth::require(l, &cc, &[crate::ledger::Role::Admin], &action, get("name").as_deref())?;
        let name = get("name").ok_or_else(|| ApiError::bad_request("请填写用户名"))?;
        let bad = |e: crate::ledger::Error| ApiError::bad_request(e.message);
        let said = match get("action").as_deref() {
            Some("add") => {
                let role = get("role")
                    .and_then(|r| crate::ledger::Role::parse(&r))
                    .ok_or_else(|| ApiError::bad_request("请选择角色"))?;
                let (display, team, password) =
                    (get("display").unwrap_or_default(), get("team"), get("password").unwrap_or_default());
                let new = crate::ledger::NewUser {
                    name: &name,
                    display: &display,
                    role,
                    team: team.as_deref(),
                    email: None,
                    password: &password,
                };
                l.add_user(&new).map_err(bad)?;
                format!("已添加用户 {name}")
            }
            Some("units") => {
                let u = l.user(&name)?.ok_or_else(|| ApiError::not_found(&format!("用户 {name}")))?;
                let team = u.team.ok_or_else(|| ApiError::bad_request(format!("{name} 不属于任何巡察组")))?;
                let unit = get("unit").ok_or_else(|| ApiError::bad_request("请填写单位编码"))?;
                l.assign_units(&team, std::slice::from_ref(&unit), get("revoke").is_none()).map_err(bad)?;
                format!("{team} 的单位已更新")
            }
            Some("ids") => {
                l.grant_ids(&name, get("show").is_some()).map_err(bad)?;
                format!("{name} 的证件号查看权限已更新")
            }
            Some("passwd") => {
                l.set_password(&name, &get("password").unwrap_or_default()).map_err(bad)?;
                format!("{name} 的密码已重置")
            }
            Some("disable") => {
                l.set_disabled(&name, get("enable").is_none()).map_err(bad)?;
                format!("{name} 的状态已更新")
            }
            _ => return Err(ApiError::bad_request("未知的操作")),
        };
        l.log_access(&a.entry(&cc.user.name, cc.via, &action, Some(&name), "ok"))?;
        Ok(said)
    })
    .await;
    match done {
        Ok(said) => users_response(&wb, &asker, Some(said), StatusCode::OK).await,
        Err(e) if e.status == StatusCode::BAD_REQUEST => users_response(&wb, &asker, Some(e.detail), e.status).await,
        Err(e) => problem(Some(&c), &e),
    }
}

/// `GET /units`: the units of the directory the caller may see, each with its brief.
async fn units_page(State(wb): State<Arc<Workbench>>, asker: Asker) -> Response {
    let c = match caller(&wb, &asker, "list units").await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let dir = wb.directory().await;
    let scope = c.user.scope(&dir);
    let mut doc = Document { title: "单位".into(), ..Default::default() };
    let mut s = Section::new("被巡察单位");
    if dir.is_empty() {
        s.para("湖中没有被巡察单位名录（数据集 units），请先导入名录。");
    } else {
        s.para("点击单位名称查看其巡前情况通报（含下属单位），可下载 Excel。");
        let mut t = Table::new(&["单位", "类型", "上级单位", "单位编码", "下载"]);
        for u in dir.units.iter().filter(|u| crate::ledger::User::sees(&scope, Some(&u.code))) {
            let parent =
                u.parent.as_deref().and_then(|p| dir.index(p)).map(|i| dir.units[i].name.clone()).unwrap_or_default();
            t.push(vec![
                Cell::Link { text: u.name.clone(), href: format!("/units/{}", u.code) },
                u.kind.clone().into(),
                parent.into(),
                u.code.clone().into(),
                Cell::Link { text: "Excel".into(), href: format!("/units/{}?format=xlsx", u.code) },
            ]);
        }
        s.table(t);
    }
    doc.sections.push(s);
    page(Some(&c), doc, StatusCode::OK)
}

/// `GET /units/{code}[?format=xlsx|md]`: the unit's brief — a unit outside the caller's units is
/// not found, as one that does not exist.
async fn unit_brief(
    State(wb): State<Arc<Workbench>>,
    asker: Asker,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let (c, format) = match caller_and_format(&wb, &asker, "read brief", q.as_deref()).await {
        Ok(cf) => cf,
        Err(r) => return r,
    };
    let dir = wb.directory().await;
    let (a, cc, u) = (asker.clone(), c.clone(), code.clone());
    if let Err(e) = api::on_ledger(&wb, move |l| api::read_unit(l, &cc, &a, &u, &dir)).await {
        return problem(Some(&c), &e);
    }
    match documents::brief(&wb.project, &code, c.redactor()).await {
        Ok(doc) => deliver(&c, doc, format, &format!("brief-{code}")),
        Err(e) => problem(Some(&c), &e),
    }
}

/// A document as the page (HTML, with the navigation) or a download in its format.
fn deliver(c: &Caller, doc: Document, format: Format, name: &str) -> Response {
    if format == Format::Html {
        return page(Some(c), doc, StatusCode::OK);
    }
    match documents::download_for(c, doc, format, name) {
        Ok(resp) => resp,
        Err(e) => problem(Some(c), &e),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::ledger::Step;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_steps_form_reads_as_the_step_or_says_what_is_wrong_in_chinese() {
        let triage =
            super::step_of(&form(&[("kind", "triage"), ("route_to", "甲镇纪委"), ("persons", "张三:村主任；李四")]))
                .unwrap();
        match triage {
            Step::Triage { dismiss: false, route_to: Some(to), persons, .. } => {
                assert_eq!(to, "甲镇纪委");
                assert_eq!(
                    (persons[0].name.as_str(), persons[0].role.as_str(), persons[1].name.as_str()),
                    ("张三", "村主任", "李四")
                );
            }
            other => panic!("{other:?}"),
        }
        let verify =
            super::step_of(&form(&[("kind", "verify"), ("result", "属实"), ("amount_involved", "1,200.50")])).unwrap();
        assert!(matches!(verify, Step::Verify { amount_involved: Some(a), .. } if (a - 1200.5).abs() < 1e-9));
        for (pairs, says) in [
            (&[("kind", "rectify")][..], "整改期限"),
            (&[("kind", "rectify"), ("due", "2026-02-30")][..], "不是日期"),
            (&[("kind", "verify"), ("result", "属实"), ("amount_involved", "NaN")][..], "涉及金额"),
            (&[("kind", "fly")][..], "未知的步骤"),
        ] {
            let e = super::step_of(&form(pairs)).unwrap_err();
            assert!(e.contains(says), "{pairs:?}: {e}");
        }
    }

    #[test]
    fn empty_fields_of_a_get_form_are_left_out_of_the_query() {
        assert_eq!(super::filled(Some("status=&severity=high&area=&sort=amount")), "severity=high&sort=amount");
        assert_eq!(super::filled(None), "");
    }
}
