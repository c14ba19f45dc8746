//! STAGE 6 · digests: what each subscriber hears after a run — the clues that are new or
//! reopened, turned 整改不实, or newly 整改逾期, through the subscriber's filters (domain, area,
//! inspected unit with its subordinates, severity, model), less what that subscriber was already
//! told for the same reason (the ledger's `digest_items`). A digest is one [`crate::doc`]
//! document — rendered to the mail's HTML and plain-text bodies and its xlsx attachment — and a
//! high-severity clue's working paper is attached as HTML. [`mails`] builds them inside the
//! transaction that records the run ([`crate::ledger::Ledger::record_with`]); [`message`] makes
//! the MIME message.

pub mod message;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::doc::{Cell, Document, Format, Section, Table};
use crate::ledger::{ClueSummary, Ledger, LedgerDiff, Mark, NewMail};
use crate::redact::{Grant, Redactor};
use crate::settings::{Serve, Subscriber};
use crate::units::Directory;

/// Rows of an area's table in a mail's body at most; the attached workbook has every row (a
/// body of thousands of rows is unreadable in a mail client, and mail servers refuse large
/// messages).
pub const BODY_ROWS: usize = 200;

/// Working papers attached to one digest at most (the rest are named in the mail; each is one
/// `searchlight paper` away).
pub const MAX_PAPERS: usize = 20;

/// Why a clue is in a digest. Its key is what the ledger remembers per subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    New,
    /// Found again after its model had stopped finding it (in this run).
    Reopened(String),
    /// Closed as rectified (at this time), then returned on newer data.
    RectificationFailed(String),
    /// Rectifying past this due date.
    Overdue(NaiveDate),
}

impl Reason {
    /// The reason a [`Reason::key`] names.
    pub fn parse(key: &str) -> Option<Reason> {
        match key.split_once(':') {
            None if key == "new" => Some(Reason::New),
            Some(("reopened", run)) => Some(Reason::Reopened(run.to_string())),
            Some(("rectification_failed", closed)) => Some(Reason::RectificationFailed(closed.to_string())),
            Some(("overdue", due)) => due.parse().ok().map(Reason::Overdue),
            _ => None,
        }
    }

    pub fn key(&self) -> String {
        match self {
            Reason::New => "new".into(),
            Reason::Reopened(run) => format!("reopened:{run}"),
            Reason::RectificationFailed(closed) => format!("rectification_failed:{closed}"),
            Reason::Overdue(due) => format!("overdue:{due}"),
        }
    }

    /// The 标记 column.
    pub fn label(&self) -> String {
        match self {
            Reason::New => "新增".into(),
            Reason::Reopened(_) => "复现".into(),
            Reason::RectificationFailed(_) => "整改不实".into(),
            Reason::Overdue(due) => format!("整改逾期(应于 {due} 前)"),
        }
    }

    fn is_new(&self) -> bool {
        matches!(self, Reason::New | Reason::Reopened(_))
    }
}

/// One line of a digest.
#[derive(Debug, Clone)]
pub struct Item {
    pub clue: ClueSummary,
    pub reason: Reason,
}

/// A model that could not look in the run, for the digest's 数据说明.
#[derive(Debug, Clone)]
pub struct Blind {
    pub model: String,
    pub title: String,
    pub domain: String,
    pub area: String,
    pub why: String,
}

/// What a run hands to the digests besides the ledger.
pub struct Context<'a> {
    pub settings: &'a Serve,
    pub directory: &'a Directory,
    pub run: &'a str,
    pub as_of: NaiveDate,
    pub job: &'a str,
    /// Key evidence of the run's clues, by clue id.
    pub evidence: &'a HashMap<String, String>,
    /// Models that could not look, failed or timed out.
    pub blind: &'a [Blind],
    /// The working paper of a clue as this grant may see it (the caller reads the lake).
    pub paper: &'a dyn Fn(&Ledger, &str, Grant) -> Result<Document, String>,
    pub now: DateTime<Utc>,
}

/// Everything this run could tell anyone: the clues it marked new or reopened, and the clues
/// 整改不实 or 整改逾期 as of its date.
pub fn candidates(ledger: &Ledger, run: &str, as_of: NaiveDate) -> anyhow::Result<Vec<Item>> {
    let mut reasons: Vec<(String, Reason)> = Vec::new();
    for (clue, mark) in ledger.run_marks(run)? {
        match mark {
            Mark::New => reasons.push((clue, Reason::New)),
            Mark::Reopened => reasons.push((clue, Reason::Reopened(run.to_string()))),
            _ => {}
        }
    }
    let flagged = ledger.flagged_states(as_of)?;
    for (clue, s) in &flagged {
        if s.rectification_failed {
            reasons.push((clue.clone(), Reason::RectificationFailed(s.closed_at.clone().unwrap_or_default())));
        }
        if let (true, Some(due)) = (s.overdue, s.rectify_due) {
            reasons.push((clue.clone(), Reason::Overdue(due)));
        }
    }
    // a new clue under an exception (豁免) is not news
    let ids: Vec<&str> = reasons.iter().filter(|(_, r)| r.is_new()).map(|(c, _)| c.as_str()).collect();
    let states = ledger.work_states(&ids, as_of)?;
    let summaries: HashMap<String, ClueSummary> =
        ledger.clue_summaries(None, None)?.into_iter().map(|c| (c.clue_id.clone(), c)).collect();
    Ok(reasons
        .into_iter()
        .filter(|(c, r)| !(r.is_new() && states.get(c).is_some_and(|s| s.excepted)))
        .filter_map(|(c, reason)| summaries.get(&c).map(|s| Item { clue: s.clone(), reason }))
        .collect())
}

/// Which clues a subscriber receives.
pub struct Audience<'a> {
    pub sub: &'a Subscriber,
    /// Unit codes: each named unit and its subordinates.
    units: HashSet<String>,
    /// Named units the directory does not know: matched by the clue's unit text instead.
    pub unresolved: Vec<String>,
    /// Whether the mail shows full ID and account numbers: the named user's grant, else the
    /// subscriber's `show_ids`.
    pub show_ids: bool,
    /// The named user's scope ([`crate::ledger::User::scope`]; `None`: every unit).
    scope: Option<HashSet<String>>,
    /// The subscriber names a user who is unknown or disabled: nothing is admitted.
    closed: bool,
}

impl<'a> Audience<'a> {
    /// The audience of a subscriber; `user` is the workbench user it names, looked up (`None`
    /// when it names none, `Some(None)` when it names one that is unknown or disabled).
    pub fn new(sub: &'a Subscriber, dir: &Directory, user: Option<Option<&crate::ledger::User>>) -> Audience<'a> {
        let mut units = HashSet::new();
        let mut unresolved = Vec::new();
        for u in &sub.units {
            match dir.find(u.get_ref()) {
                Ok(i) => units.extend(dir.subtree(i).into_iter().map(|j| dir.units[j].code.clone())),
                Err(_) => unresolved.push(u.get_ref().clone()),
            }
        }
        let (show_ids, scope, closed) = match user {
            None => (sub.show_ids, None, false),
            Some(None) => (false, None, true),
            Some(Some(u)) => (u.show_ids, u.scope(dir), u.disabled),
        };
        Audience { sub, units, unresolved, show_ids, scope, closed }
    }

    pub fn admits(&self, c: &ClueSummary) -> bool {
        if self.closed || !crate::ledger::User::sees(&self.scope, c.unit_code.as_deref()) {
            return false;
        }
        let any = |list: &[toml::Spanned<String>], v: &str| list.is_empty() || list.iter().any(|x| x.get_ref() == v);
        let unit = self.sub.units.is_empty()
            || c.unit_code.as_deref().is_some_and(|u| self.units.contains(u))
            || self.unresolved.iter().any(|n| c.unit.as_deref().is_some_and(|u| u.contains(n.as_str())));
        unit && any(&self.sub.domains, &c.domain)
            && any(&self.sub.areas, &c.area)
            && any(&self.sub.severities, &c.severity)
            && any(&self.sub.models, &c.model)
    }

    /// The filters in words.
    pub fn describe(&self) -> String {
        let s = self.sub;
        let mut parts = Vec::new();
        let join = |l: &[toml::Spanned<String>]| l.iter().map(|x| x.get_ref().as_str()).collect::<Vec<_>>().join("、");
        if !s.domains.is_empty() {
            parts.push(format!("领域 {}", join(&s.domains)));
        }
        if !s.areas.is_empty() {
            parts.push(format!("方向 {}", join(&s.areas)));
        }
        if !s.units.is_empty() {
            parts.push(format!("单位 {}(含下属)", join(&s.units)));
        }
        if !s.severities.is_empty() {
            parts.push(format!("风险 {}", join(&s.severities)));
        }
        if !s.models.is_empty() {
            parts.push(format!("模型 {}", join(&s.models)));
        }
        if parts.is_empty() { "全部线索".into() } else { parts.join("；") }
    }
}

/// One subscriber's digest of a run.
pub struct Digest<'a> {
    pub audience: Audience<'a>,
    pub items: Vec<Item>,
}

/// The digests of a run: one per subscriber with something new for them — what this run raised,
/// and what an earlier mail to them could not carry (its clue still open).
pub fn digests<'a>(ledger: &Ledger, ctx: &Context<'a>, all: &[Item]) -> anyhow::Result<Vec<Digest<'a>>> {
    let mut out = Vec::new();
    let mut summaries: Option<HashMap<String, ClueSummary>> = None;
    for sub in &ctx.settings.subscriber {
        let user = match &sub.user {
            None => None,
            Some(name) => Some(ledger.user(name.get_ref())?.filter(|u| !u.disabled)),
        };
        let audience = Audience::new(sub, ctx.directory, user.as_ref().map(Option::as_ref));
        let told = ledger.told_all(sub.name.get_ref())?;
        let mut items: Vec<Item> = all
            .iter()
            .filter(|i| audience.admits(&i.clue))
            .filter(|i| !told.contains(&(i.clue.clue_id.clone(), i.reason.key())))
            .cloned()
            .collect();
        let pending = ledger.pending_items(sub.name.get_ref())?;
        if !pending.is_empty() {
            let known = summaries.get_or_insert_with(|| {
                ledger
                    .clue_summaries(None, None)
                    .map(|v| v.into_iter().map(|c| (c.clue_id.clone(), c)).collect())
                    .unwrap_or_default()
            });
            for (clue, key) in pending {
                let (Some(summary), Some(reason)) = (known.get(&clue), Reason::parse(&key)) else { continue };
                let open = summary.mark != crate::ledger::Mark::Resolved;
                if open
                    && audience.admits(summary)
                    && !items.iter().any(|i| i.clue.clue_id == clue && i.reason.key() == key)
                {
                    items.push(Item { clue: summary.clone(), reason });
                }
            }
        }
        if !items.is_empty() {
            out.push(Digest { audience, items });
        }
    }
    Ok(out)
}

/// `【探照灯】2025-06-30 新增线索 12 条（低保 5 · 政府采购 3 · …）`, then the other reasons.
pub fn subject(as_of: NaiveDate, items: &[Item]) -> String {
    let new: Vec<&Item> = items.iter().filter(|i| i.reason.is_new()).collect();
    let mut parts = Vec::new();
    if !new.is_empty() {
        let mut by_area: BTreeMap<&str, usize> = BTreeMap::new();
        for i in &new {
            *by_area.entry(i.clue.area.as_str()).or_default() += 1;
        }
        let mut areas: Vec<(&str, usize)> = by_area.into_iter().collect();
        areas.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut shown: Vec<String> = areas.iter().take(4).map(|(a, n)| format!("{a} {n}")).collect();
        if areas.len() > 4 {
            shown.push("…".into());
        }
        parts.push(format!("新增线索 {} 条（{}）", new.len(), shown.join(" · ")));
    }
    let failed = items.iter().filter(|i| matches!(i.reason, Reason::RectificationFailed(_))).count();
    if failed > 0 {
        parts.push(format!("整改不实 {failed} 条"));
    }
    let overdue = items.iter().filter(|i| matches!(i.reason, Reason::Overdue(_))).count();
    if overdue > 0 {
        parts.push(format!("新逾期 {overdue} 条"));
    }
    format!("【探照灯】{as_of} {}", parts.join(" · "))
}

/// The digest as a document: a summary, one table per area (its own sheet in the workbook), and
/// what the run could not check. With `rows`, each area's table keeps that many rows and says
/// where the rest are (the mail's body); without, every row (the workbook).
pub fn document(d: &Digest<'_>, ctx: &Context<'_>, papers: &[String], rows: Option<usize>) -> Document {
    let sub = d.audience.sub;
    let mut doc = Document {
        nav: Vec::new(),
        title: subject(ctx.as_of, &d.items).trim_start_matches("【探照灯】").to_string(),
        meta: vec![
            ("收件人".into(), sub.name.get_ref().clone()),
            ("数据截至".into(), ctx.as_of.to_string()),
            ("运行".into(), format!("{} (任务 {})", ctx.run, ctx.job)),
            ("订阅范围".into(), d.audience.describe()),
        ],
        notices: Vec::new(),
        sections: Vec::new(),
    };
    if !d.audience.show_ids {
        doc.notices.push("身份证号、账号已脱敏".into());
    }
    for u in &d.audience.unresolved {
        doc.notices.push(format!("单位名录中未找到「{u}」，按线索的单位名称文字匹配"));
    }
    let mut by_area: BTreeMap<(&str, &str), Vec<&Item>> = BTreeMap::new();
    for i in &d.items {
        by_area.entry((i.clue.domain.as_str(), i.clue.area.as_str())).or_default().push(i);
    }
    let mut summary = Section::new("概况");
    let mut t = Table::new(&["领域", "方向", "新增", "复现", "整改不实", "新逾期", "金额"]);
    for ((domain, area), items) in &by_area {
        let n = |f: fn(&Reason) -> bool| Cell::Int(items.iter().filter(|i| f(&i.reason)).count() as i64);
        t.push(vec![
            Cell::Text(crate::model::labels::domain_label(domain).to_string()),
            Cell::Text(area.to_string()),
            n(|r| *r == Reason::New),
            n(|r| matches!(r, Reason::Reopened(_))),
            n(|r| matches!(r, Reason::RectificationFailed(_))),
            n(|r| matches!(r, Reason::Overdue(_))),
            Cell::Money(crate::codes::text::sum_fen(items.iter().filter_map(|i| i.clue.amount_fen))),
        ]);
    }
    summary.table(t);
    doc.sections.push(summary);
    for ((_, area), items) in &by_area {
        let mut s = Section::new(format!("{area}（{} 条）", items.len()));
        let mut t = Table::new(&["线索编号", "模型", "被巡察单位", "关键证据", "金额", "标记"]).sheet(*area);
        let shown = rows.unwrap_or(usize::MAX).min(items.len());
        for i in &items[..shown] {
            let c = &i.clue;
            let unit = match (&c.unit, &c.unit_code) {
                (Some(u), Some(code)) => ctx
                    .directory
                    .index(code)
                    .map(|j| ctx.directory.units[j].name.clone())
                    .filter(|n| n != u)
                    .map(|n| format!("{u}({n})"))
                    .unwrap_or_else(|| u.clone()),
                (Some(u), None) => u.clone(),
                _ => String::new(),
            };
            t.push(vec![
                Cell::Text(c.clue_id.clone()),
                Cell::Text(c.title.clone()),
                Cell::Text(unit),
                Cell::Text(ctx.evidence.get(&c.clue_id).cloned().unwrap_or_else(|| c.entity.clone())),
                c.amount_fen.map(Cell::Money).unwrap_or(Cell::Empty),
                Cell::Text(i.reason.label()),
            ]);
        }
        s.table(t);
        if shown < items.len() {
            s.para(format!(
                "以上为前 {shown} 条，其余 {} 条见附件 线索明细-{}.xlsx 的「{area}」工作表。",
                items.len() - shown,
                ctx.as_of
            ));
        }
        doc.sections.push(s);
    }
    let blind: Vec<&Blind> = ctx
        .blind
        .iter()
        .filter(|b| {
            let any = |l: &[toml::Spanned<String>], v: &str| l.is_empty() || l.iter().any(|x| x.get_ref() == v);
            any(&sub.domains, &b.domain) && any(&sub.areas, &b.area) && any(&sub.models, &b.model)
        })
        .collect();
    if !blind.is_empty() {
        let mut s = Section::new("数据说明：本次未能检查或部分未检查的模型");
        s.para("以下模型本次未能检查或只检查了部分路线，未发现的不代表没有问题：");
        s.list(blind.iter().map(|b| format!("{}（{}）：{}", b.title, b.model, b.why)).collect());
        doc.sections.push(s);
    }
    if !papers.is_empty() {
        let mut s = Section::new("附件");
        let mut items = vec!["线索明细.xlsx：全部线索，每个方向一个工作表".to_string()];
        items.extend(papers.iter().map(|p| format!("问题底稿 {p}.html")));
        let high = d.items.iter().filter(|i| i.clue.severity == "high").count();
        if high > papers.len() {
            items.push(format!(
                "另有 {} 条高风险线索的底稿未附，可用 searchlight paper 线索编号 生成",
                high - papers.len()
            ));
        }
        s.list(items);
        doc.sections.push(s);
    }
    doc
}

/// The mails a run sends: a digest to each subscriber with something new (bodies, workbook,
/// high-severity papers), as queued rows for the outbox. Nothing without `[smtp]`.
///
/// What reads the ledger (candidates, what each subscriber was told, the papers) runs first, in
/// order; rendering — the distinct workbooks, then each mail's bodies and MIME — is pure and
/// runs on every core.
pub fn mails(ledger: &Ledger, ctx: &Context<'_>, _diff: &LedgerDiff) -> anyhow::Result<Vec<NewMail>> {
    let Some(smtp) = &ctx.settings.smtp else { return Ok(Vec::new()) };
    if ctx.settings.subscriber.is_empty() {
        return Ok(Vec::new());
    }
    let all = candidates(ledger, ctx.run, ctx.as_of)?;
    let digests = digests(ledger, ctx, &all)?;
    // one paper per clue and grant, shared by every digest that attaches it
    let papers: RefCell<HashMap<(String, bool), Option<Vec<u8>>>> = RefCell::new(HashMap::new());
    // one workbook per distinct content: subscribers who get the same rows under the same grant
    // share it (the workbook names no recipient)
    let mut books: HashMap<blake3::Hash, Document> = HashMap::new();
    let mut prepared = Vec::new();
    for d in &digests {
        let sub = d.audience.sub;
        let grant = if d.audience.show_ids { Grant::Full } else { Grant::Masked };
        let redactor = Redactor::new(grant);
        let mut attached: Vec<(String, Vec<u8>)> = Vec::new();
        for i in d.items.iter().filter(|i| i.clue.severity == "high") {
            if attached.len() >= MAX_PAPERS {
                break;
            }
            let key = (i.clue.clue_id.clone(), d.audience.show_ids);
            let html = papers
                .borrow_mut()
                .entry(key)
                .or_insert_with(|| {
                    (ctx.paper)(ledger, &i.clue.clue_id, grant).ok().and_then(|mut doc| {
                        doc.redact(&|s: &str| redactor.text(s).into_owned());
                        doc.render(Format::Html).ok()
                    })
                })
                .clone();
            if let Some(html) = html
                && !attached.iter().any(|(c, _)| c == &i.clue.clue_id)
            {
                attached.push((i.clue.clue_id.clone(), html));
            }
        }
        let names: Vec<String> = attached.iter().map(|(c, _)| c.clone()).collect();
        let redact = |s: &str| redactor.text(s).into_owned();
        let mut body = document(d, ctx, &names, Some(BODY_ROWS));
        body.redact(&redact);
        let book_key = workbook_key(d, &names);
        if !books.contains_key(&book_key) {
            let mut book = if d.items.len() > BODY_ROWS { document(d, ctx, &names, None) } else { body.clone() };
            book.meta.retain(|(k, _)| k != "收件人" && k != "订阅范围");
            book.redact(&redact);
            books.insert(book_key, book);
        }
        prepared.push(Prepared {
            sub,
            body,
            book: book_key,
            attached,
            subject: subject(ctx.as_of, &d.items),
            items: d.items.iter().map(|i| (i.clue.clue_id.clone(), i.reason.key())).collect(),
        });
    }
    // a workbook that cannot be made fails the mails that attach it, no other
    let books: HashMap<blake3::Hash, Result<Vec<u8>, String>> =
        on_every_core(books.into_iter().collect(), |(key, book)| {
            (key, book.render(Format::Xlsx).map_err(|e| format!("the workbook could not be made: {e:#}")))
        })
        .into_iter()
        .collect();
    let (run, as_of, now) = (ctx.run, ctx.as_of, ctx.now);
    // each subscriber's mail on its own: one that cannot be built (an address the settings should
    // have refused, a workbook) is queued as failed with the reason, and the others go
    let built = on_every_core(prepared, |p| {
        let fail = |p: &Prepared, why: String| NewMail {
            kind: "digest",
            recipient: p.sub.name.get_ref().clone(),
            address: p.sub.email.get_ref().clone(),
            subject: p.subject.clone(),
            message_id: message::message_id("digest", run, p.sub.name.get_ref(), smtp.from.get_ref()),
            message: Vec::new(),
            items: p.items.clone(),
            failed: Some(why),
        };
        let book = match &books[&p.book] {
            Ok(b) => b.clone(),
            Err(why) => return fail(&p, why.clone()),
        };
        let unbuilt = fail(&p, String::new());
        build_one(p, book, smtp, run, as_of, now).unwrap_or_else(|e| NewMail {
            failed: Some(format!("the mail to `{}` could not be built: {e:#}", unbuilt.address.escape_debug())),
            ..unbuilt
        })
    });
    Ok(built)
}

/// One subscriber's mail: bodies, the workbook, the papers, as MIME.
fn build_one(
    p: Prepared<'_>,
    book: Vec<u8>,
    smtp: &crate::settings::Smtp,
    run: &str,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<NewMail> {
    {
        let html = p.body.render(Format::Html)?;
        let text = p.body.render(Format::Md)?;
        let message_id = message::message_id("digest", run, p.sub.name.get_ref(), smtp.from.get_ref());
        let mut files = vec![message::Attachment {
            name: format!("线索明细-{as_of}.xlsx"),
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body: book,
        }];
        files.extend(p.attached.into_iter().map(|(c, html)| message::Attachment {
            name: format!("问题底稿-{c}.html"),
            content_type: "text/html; charset=utf-8",
            body: html,
        }));
        let bytes = message::build(&message::Parts {
            from: smtp.from.get_ref(),
            to: p.sub.email.get_ref(),
            subject: &p.subject,
            message_id: &message_id,
            date: now,
            text: String::from_utf8_lossy(&text).into_owned(),
            html: Some(String::from_utf8_lossy(&html).into_owned()),
            attachments: files,
        })?;
        Ok(NewMail {
            kind: "digest",
            recipient: p.sub.name.get_ref().clone(),
            address: p.sub.email.get_ref().clone(),
            subject: p.subject,
            message_id,
            message: bytes,
            items: p.items,
            failed: None,
        })
    }
}

/// What a digest's workbook is made of, as a key: the grant, the rows and why each is there,
/// the papers named, the unit names matched as text, and the filters that pick the models that
/// could not look. Two digests with the same key have the same workbook.
fn workbook_key(d: &Digest<'_>, papers: &[String]) -> blake3::Hash {
    let sub = d.audience.sub;
    let mut h = blake3::Hasher::new();
    h.update(&[d.audience.show_ids as u8]);
    let mut field = |s: &str| {
        h.update(s.as_bytes());
        h.update(&[0]);
    };
    for i in &d.items {
        field(&i.clue.clue_id);
        field(&i.reason.key());
    }
    for list in [papers, &d.audience.unresolved] {
        field("\n");
        list.iter().for_each(|x| field(x));
    }
    for list in [&sub.domains, &sub.areas, &sub.models] {
        field("\n");
        list.iter().for_each(|x| field(x.get_ref()));
    }
    h.finalize()
}

/// A digest with everything read from the ledger, ready to render.
struct Prepared<'a> {
    sub: &'a Subscriber,
    body: Document,
    /// Its workbook, by content.
    book: blake3::Hash,
    attached: Vec<(String, Vec<u8>)>,
    subject: String,
    items: Vec<(String, String)>,
}

/// `f` over `items` on every core, results in the items' order.
fn on_every_core<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let len = items.len();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(len);
    if workers <= 1 {
        return items.into_iter().map(f).collect();
    }
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let done = std::sync::Mutex::new(Vec::with_capacity(len));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some((i, item)) = next else { break };
                    let r = f(item);
                    done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// A mail to the admin (a failed or timed-out run, a mail given up on), if an admin and SMTP
/// are configured.
pub fn alert(settings: &Serve, key: &str, subject: &str, body: &str, now: DateTime<Utc>) -> Option<NewMail> {
    let (smtp, admin) = (settings.smtp.as_ref()?, settings.admin.as_ref()?);
    let message_id = message::message_id("alert", key, "admin", smtp.from.get_ref());
    let subject = format!("【探照灯】{subject}");
    let bytes = message::build(&message::Parts {
        from: smtp.from.get_ref(),
        to: admin.get_ref(),
        subject: &subject,
        message_id: &message_id,
        date: now,
        text: body.to_string(),
        html: None,
        attachments: Vec::new(),
    })
    .ok()?;
    Some(NewMail {
        kind: "alert",
        recipient: "admin".into(),
        address: admin.get_ref().clone(),
        subject,
        message_id,
        message: bytes,
        items: Vec::new(),
        failed: None,
    })
}
