//! A brief laid out as a document, in the order an inspection team reads it: 单位概况, 问题清单,
//! 对比分析, 历次整改, 趋势, 数据说明, then the appendices (unresolved clue units, every clue
//! by area — one xlsx sheet each — and the working papers of the top clues).

use std::collections::BTreeMap;

use super::{Brief, BriefClue, Checked};
use crate::doc::{Cell, Document, Section, Series, Table, bars, money_fen};
use crate::ledger::{Mark, Status};
pub use crate::model::labels::domain_label;

fn severity_label(s: &str) -> &str {
    match s {
        "high" => "高",
        "medium" => "中",
        "low" => "低",
        other => other,
    }
}

fn mark_label(m: Mark) -> &'static str {
    match m {
        Mark::Resolved => "已消失",
        Mark::New => "新增",
        Mark::Ongoing => "持续",
        Mark::Reopened => "复现",
    }
}

fn amount(fen: Option<i64>) -> Cell {
    fen.map(Cell::Money).unwrap_or(Cell::Empty)
}

fn state_label(c: &BriefClue) -> String {
    let mut s = c.state.label.to_string();
    if let Some(r) = &c.state.result {
        s.push_str(&format!("({r})"));
    }
    if c.state.rectification_failed {
        s.push_str("·整改不实");
    }
    if c.state.overdue {
        s.push_str("·整改逾期");
    }
    s
}

fn clue_link(c: &BriefClue) -> Cell {
    if c.has_paper {
        Cell::Link { text: c.clue.clue_id.clone(), href: format!("#paper-{}", c.clue.clue_id) }
    } else {
        Cell::Text(c.clue.clue_id.clone())
    }
}

/// The cells every clue table starts with: 线索编号 (linked to its paper), 问题, 单位, 对象, 金额.
fn clue_cells(c: &BriefClue) -> Vec<Cell> {
    vec![
        clue_link(c),
        c.clue.title.clone().into(),
        c.unit_name.clone().unwrap_or_default().into(),
        c.clue.entity.clone().into(),
        amount(c.clue.amount_fen),
    ]
}

fn overview(b: &Brief) -> Section {
    let u = &b.unit;
    let mut s = Section::new("一、单位概况").with_id("overview");
    let parent = b.parent.as_ref().map(|p| format!("，隶属{}", p.name)).unwrap_or_default();
    let people = u.people.map(|n| format!("，人数 {n}")).unwrap_or_default();
    let subs = if b.subordinates.is_empty() {
        "名录中无下属单位".to_string()
    } else {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for (x, _, _) in &b.subordinates {
            *kinds.entry(x.kind.as_str()).or_default() += 1;
        }
        format!(
            "下属单位 {} 个({})",
            b.subordinates.len(),
            kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join("、")
        )
    };
    s.para(format!(
        "{}(单位编码 {}，{}{parent}{people})；{subs}。本通报汇总该单位及其下属单位的大数据比对线索，截至数据日期 {}。",
        u.name,
        u.code,
        if u.kind.is_empty() { "类型未填" } else { &u.kind },
        b.as_of
    ));
    if !b.subordinates.is_empty() {
        let mut t = Table::new(&["单位编码", "单位名称", "类型", "人数", "线索数"]).caption("下属单位");
        for (x, depth, n) in &b.subordinates {
            t.push(vec![
                x.code.clone().into(),
                format!("{}{}", "　".repeat(depth.saturating_sub(1)), x.name).into(),
                x.kind.clone().into(),
                x.people.map(Cell::Int).unwrap_or(Cell::Empty),
                Cell::Int(*n as i64),
            ]);
        }
        s.table(t);
    }
    if b.leaders.is_empty() {
        s.para("领导班子：干部信息及名录中未列出本单位及下属单位的班子成员。");
    } else {
        let mut t = Table::new(&[
            "单位",
            "姓名",
            "身份证号",
            "职务",
            "经商办企业情况(市场主体登记)",
            "近亲属(在册/享受救助已备案)",
        ])
        .caption("领导班子及村(社区)干部");
        for l in &b.leaders {
            let rel = match l.relatives {
                Some((n, f)) => format!("{n} 人 / {f} 人"),
                None if l.id_no.is_none() => "无身份证号，未比对".into(),
                None => "未提供近亲属信息".into(),
            };
            let roles = if l.id_no.is_none() {
                "无身份证号，未比对".to_string()
            } else if l.roles.is_empty() {
                "未见登记".to_string()
            } else {
                l.roles.join("；")
            };
            t.push(vec![
                l.unit.clone().into(),
                l.name.clone().into(),
                l.id_no.clone().unwrap_or_default().into(),
                l.post.clone().into(),
                roles.into(),
                rel.into(),
            ]);
        }
        s.table(t);
    }
    if !b.registries_missing.is_empty() {
        s.para(format!("以下登记数据湖中没有，相关情况未能核对：{}。", b.registries_missing.join("、")));
    }
    s
}

fn problems(b: &Brief) -> Section {
    let mut s = Section::new("二、问题清单").with_id("problems");
    let counted: Vec<&BriefClue> = b.clues.iter().filter(|c| c.counts()).collect();
    let dismissed = b.clues.len() - counted.len();
    let total = crate::codes::text::sum_fen(counted.iter().filter_map(|c| c.clue.amount_fen));
    let high = counted.iter().filter(|c| c.clue.severity == "high").count();
    let open = counted.iter().filter(|c| c.clue.mark != Mark::Resolved).count();
    let could_not: Vec<&str> =
        b.models.iter().filter(|m| !m.checked.looked_everywhere()).map(|m| m.model.as_str()).collect();
    s.para(format!(
        "共 {} 条线索(高风险 {high} 条)，涉及金额 {} 元；其中模型最近一次运行仍返回的 {open} 条。{}{}",
        counted.len(),
        money_fen(total),
        if dismissed > 0 {
            format!("另有 {dismissed} 条经研判排除误报，未计入(见附录二)。")
        } else {
            String::new()
        },
        if could_not.is_empty() {
            "模型库全部模型均已检查。".to_string()
        } else {
            format!(
                "另有 {} 个模型未能检查或部分未检查(见下表「检查情况」及第六部分)，其结果不能视为“无问题”。",
                could_not.len()
            )
        }
    ));
    // models that found something, or could not look everywhere, each on a row of its own (the
    // title first, the id last); those that looked everywhere and found nothing, one line per area
    let mut t =
        Table::new(&["领域", "模型名称", "风险", "线索数", "仍存在", "金额(元)", "模型属实率", "检查情况", "模型编号"])
            .caption("按领域、模型统计");
    let mut quiet: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for m in &b.models {
        let area = format!("{}·{}", domain_label(&m.domain), m.area);
        if m.clues == 0 && m.checked.looked_everywhere() {
            quiet.entry(area).or_default().push(&m.title);
            continue;
        }
        let (n, open) = if m.checked.looked() || m.clues > 0 {
            (Cell::Int(m.clues as i64), Cell::Int(m.open as i64))
        } else {
            // a model that could not look found nothing only because it did not look
            (Cell::Text("未检查".into()), Cell::Text("-".into()))
        };
        t.push(vec![
            area.into(),
            m.title.clone().into(),
            severity_label(&m.severity).into(),
            n,
            open,
            if m.clues > 0 && m.has_amount { Cell::Money(m.amount_fen) } else { Cell::Empty },
            m.quality.precision_label().into(),
            m.checked.label().into(),
            m.model.clone().into(),
        ]);
    }
    for (area, titles) in quiet {
        t.push(vec![
            area.into(),
            format!("未发现线索（{} 个模型）：{}", titles.len(), titles.join("、")).into(),
            Cell::Empty,
            Cell::Int(0),
            Cell::Int(0),
            Cell::Empty,
            Cell::Empty,
            "已检查".into(),
            Cell::Empty,
        ]);
    }
    s.table(t);
    // per area: counts and the top clues with their key evidence
    let mut areas: BTreeMap<(&str, &str), Vec<&BriefClue>> = BTreeMap::new();
    for c in &counted {
        areas.entry((c.clue.domain.as_str(), c.clue.area.as_str())).or_default().push(c);
    }
    let quality: BTreeMap<&str, String> =
        b.models.iter().map(|m| (m.model.as_str(), m.quality.precision_label())).collect();
    for (k, ((domain, area), list)) in areas.iter().enumerate() {
        let fen: Option<i64> = list.iter().filter_map(|c| c.clue.amount_fen).reduce(|a, b| a + b);
        let money = fen.map(|f| format!("，{} 元", money_fen(f))).unwrap_or_default();
        let mut sub = Section::new(format!(
            "({}) {}·{}：{} 条{money}",
            chinese_number(k + 1),
            domain_label(domain),
            area,
            list.len()
        ));
        let top: Vec<&&BriefClue> = list.iter().filter(|c| c.has_paper || c.evidence.is_some()).collect();
        let mut t =
            Table::new(&["线索编号", "问题", "单位", "对象", "金额(元)", "风险", "办理状态", "模型属实率", "关键证据"]);
        for c in &top {
            let mut row = clue_cells(c);
            row.extend([
                severity_label(&c.clue.severity).into(),
                state_label(c).into(),
                quality.get(c.clue.model.as_str()).cloned().unwrap_or_default().into(),
                c.evidence.clone().unwrap_or_default().into(),
            ]);
            t.push(row);
        }
        if list.len() > top.len() {
            sub.para(format!("列出风险最高、金额最大的 {} 条；全部 {} 条见附录二。", top.len(), list.len()));
        }
        sub.table(t);
        s.sections.push(sub);
    }
    if counted.is_empty() {
        s.para("期间内本单位及下属单位没有已检查模型发现的线索。");
    }
    s
}

fn chinese_number(n: usize) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n].to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", D[n - 10]),
        20..=99 => format!("{}十{}", D[n / 10], D[n % 10]),
        _ => n.to_string(),
    }
}

fn comparison(b: &Brief) -> Section {
    let mut s = Section::new("三、对比分析").with_id("comparison");
    if b.peers.len() < 2 {
        s.para("名录中没有与本单位同类型、同上级的其他单位，无法对比。");
        return s;
    }
    let me = b.peers.iter().find(|p| p.is_self);
    s.para(format!(
        "同类单位：与本单位类型相同({})、上级相同的 {} 个单位(含本单位)，按{}排名(1 为最多)。{}",
        if b.unit.kind.is_empty() { "未填" } else { &b.unit.kind },
        b.peers.len(),
        b.peer_basis,
        match me {
            Some(p) if p.stands_out =>
                format!("本单位排第 {} 位，明显高于同类单位(不低于中位数的两倍)，建议重点关注。", p.rank),
            Some(p) => format!("本单位排第 {} 位。", p.rank),
            None => String::new(),
        }
    ));
    let areas: Vec<String> = {
        let mut a: Vec<String> = b.peers.iter().flat_map(|p| p.by_area.keys().cloned()).collect();
        a.sort();
        a.dedup();
        a
    };
    let per_head = b.peers.iter().all(|p| p.rate.is_some());
    // this unit against the peers' median, per area
    let value = |p: &super::Peer, area: &str| -> f64 {
        let n = p.by_area.get(area).copied().unwrap_or(0) as f64;
        match (per_head, p.people) {
            (true, Some(people)) => n * 100.0 / people as f64,
            _ => n,
        }
    };
    if let Some(me) = me
        && !areas.is_empty()
    {
        let mine: Vec<f64> = areas.iter().map(|a| round1(value(me, a))).collect();
        let med: Vec<f64> =
            areas.iter().map(|a| round1(super::median(b.peers.iter().map(|p| value(p, a)).collect()))).collect();
        s.figure(bars(
            &format!("图1 各问题领域{}：本单位与同类单位中位数", if per_head { "每百人线索数" } else { "线索数" }),
            &areas,
            &[
                Series { name: b.unit.name.clone(), values: mine.clone() },
                Series { name: "同类单位中位数".into(), values: med.clone() },
            ],
        ));
        // the unit's rank in each area among its peers
        let basis = if per_head { "每百人线索数" } else { "线索数" };
        let mut t = Table::new(&["问题领域", "本单位线索数", basis, "同类单位中位数", "排名", "标记"])
            .caption("本单位各问题领域在同类单位中的排名");
        for (k, a) in areas.iter().enumerate() {
            let own = value(me, a);
            let rank = 1 + b.peers.iter().filter(|p| value(p, a) > own).count();
            let count = me.by_area.get(a).copied().unwrap_or(0);
            let median = super::median(b.peers.iter().map(|p| value(p, a)).collect());
            let high = super::stands_out(b.peers.len(), count, own, median);
            t.push(vec![
                a.clone().into(),
                Cell::Int(count as i64),
                if per_head { Cell::Rate(mine[k]) } else { Cell::Int(count as i64) },
                Cell::Rate(med[k]),
                format!("{rank}/{}", b.peers.len()).into(),
                if high { "明显偏高" } else { "" }.into(),
            ]);
        }
        s.table(t);
    }
    let mut head: Vec<&str> = vec!["排名", "单位编码", "单位", "人数", "线索数"];
    if per_head {
        head.push("每百人线索数");
    }
    let area_heads: Vec<String> = areas.clone();
    let mut t = Table::new(&head).caption("同类单位对比");
    t.head.extend(area_heads);
    t.head.push("标记".into());
    for p in &b.peers {
        let mut row = vec![
            Cell::Int(p.rank as i64),
            p.code.clone().into(),
            if p.is_self { format!("{}(本单位)", p.name) } else { p.name.clone() }.into(),
            p.people.map(Cell::Int).unwrap_or(Cell::Empty),
            Cell::Int(p.total as i64),
        ];
        if per_head {
            row.push(p.rate.map(Cell::Rate).unwrap_or(Cell::Empty));
        }
        for a in &areas {
            row.push(Cell::Int(p.by_area.get(a).copied().unwrap_or(0) as i64));
        }
        row.push(if p.stands_out { "明显偏高" } else { "" }.into());
        t.push(row);
    }
    s.table(t);
    s
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn rectification(b: &Brief) -> Section {
    let mut s = Section::new("四、历次整改").with_id("rectification");
    let rect: Vec<&BriefClue> = b.clues.iter().filter(|c| c.state.status == Status::Rectifying).collect();
    let failed: Vec<&BriefClue> = b.clues.iter().filter(|c| c.state.rectification_failed).collect();
    let since = b.from.map(|d| d.to_string());
    let closed: Vec<&BriefClue> = b
        .clues
        .iter()
        .filter(|c| c.state.status == Status::Closed)
        .filter(|c| since.as_deref().is_none_or(|f| c.state.closed_at.as_deref().is_some_and(|at| at >= f)))
        .collect();
    let overdue = rect.iter().filter(|c| c.state.overdue).count();
    s.para(format!(
        "整改中 {} 条(其中逾期 {overdue} 条)；整改不实(销号后模型再次发现) {} 条；{}已销号 {} 条。",
        rect.len(),
        failed.len(),
        since.as_deref().map(|f| format!("{f} 以来")).unwrap_or_default(),
        closed.len()
    ));
    let table = |caption: &str, list: &[&BriefClue]| {
        let mut t = Table::new(&["线索编号", "问题", "单位", "对象", "金额(元)", "办理状态", "整改期限", "销号时间"])
            .caption(caption);
        for c in list {
            let mut row = clue_cells(c);
            row.extend([
                state_label(c).into(),
                c.state.rectify_due.map(|d| d.to_string()).unwrap_or_default().into(),
                c.state.closed_at.clone().map(|a| a.chars().take(10).collect::<String>()).unwrap_or_default().into(),
            ]);
            t.push(row);
        }
        t
    };
    if !rect.is_empty() {
        s.table(table("整改中", &rect));
    }
    if !failed.is_empty() {
        s.table(table("整改不实(回头看)", &failed));
    }
    if !closed.is_empty() {
        s.table(table("已销号", &closed));
    }
    s
}

fn trend(b: &Brief) -> Section {
    let mut s = Section::new("五、趋势").with_id("trend");
    if b.trend.is_empty() {
        s.para("台账中没有本期的运行记录。");
        return s;
    }
    let cats: Vec<String> = b.trend.iter().map(|t| t.as_of.clone()).collect();
    s.figure(bars(
        "图2 历次运行：新增、消失、仍存在的线索",
        &cats,
        &[
            Series { name: "新增(含复现)".into(), values: b.trend.iter().map(|t| t.new as f64).collect() },
            Series { name: "消失".into(), values: b.trend.iter().map(|t| t.resolved as f64).collect() },
            Series { name: "仍存在".into(), values: b.trend.iter().map(|t| t.open as f64).collect() },
        ],
    ));
    let mut t = Table::new(&["运行", "数据截至", "新增(含复现)", "消失", "仍存在"]).caption("历次运行");
    for p in &b.trend {
        t.push(vec![
            p.run_id.clone().into(),
            p.as_of.clone().into(),
            Cell::Int(p.new as i64),
            Cell::Int(p.resolved as i64),
            Cell::Int(p.open as i64),
        ]);
    }
    s.table(t);
    s
}

fn data_notes(b: &Brief) -> Section {
    let mut s = Section::new("六、数据说明").with_id("data");
    s.para(format!(
        "线索按模型返回的单位(单位名称、单位编码或行政区划代码)归属到被巡察单位名录中的单位(名录共 {} 个单位)，乡镇含其所辖村(社区)。统计期间：{}。",
        b.directory_size,
        match b.from {
            Some(f) => format!("{f} 至 {}", b.as_of),
            None => format!("截至 {} 的全部运行", b.as_of),
        }
    ));
    let mut t = Table::new(&["数据集", "名称", "快照", "数据截至", "行数"]).caption("本通报所依据的数据");
    for d in &b.data {
        t.push(vec![
            d.dataset.clone().into(),
            d.title.clone().into(),
            d.snapshot.clone().into(),
            d.as_of.clone().into(),
            Cell::Int(d.rows as i64),
        ]);
    }
    s.table(t);
    let not: Vec<_> = b.models.iter().filter(|m| !m.checked.looked_everywhere()).collect();
    if !not.is_empty() {
        let mut t =
            Table::new(&["模型", "模型名称", "问题领域", "原因"]).caption("未能检查或部分未检查的模型(不代表没有问题)");
        for m in not {
            t.push(vec![
                m.model.clone().into(),
                m.title.clone().into(),
                m.area.clone().into(),
                m.checked.label().into(),
            ]);
        }
        s.table(t);
    } else {
        s.para("模型库的全部模型在最近一次运行中均已检查。");
    }
    let without: Vec<_> = b.models.iter().filter(|m| matches!(m.checked, Checked::RanWithout { .. })).collect();
    if !without.is_empty() {
        s.list(without.iter().map(|m| format!("{} {}：{}", m.model, m.title, m.checked.label())).collect());
    }
    s
}

fn appendix_unresolved(b: &Brief) -> Section {
    let mut s = Section::new("附录一 未能归属单位的线索").with_id("unresolved");
    if b.unresolved.is_empty() {
        s.para("全部线索均已归属到名录中的单位。");
        return s;
    }
    let n: usize = b.unresolved.iter().map(|u| u.clues).sum();
    s.para(format!(
        "以下 {n} 条线索(全县范围)的单位取值在名录中找不到或对应多个单位，未计入任何单位；请补充名录(其他名称)或核对取值。"
    ));
    let mut t = Table::new(&["单位取值", "模型", "线索数", "说明"]);
    for u in &b.unresolved {
        t.push(vec![
            if u.value.is_empty() { "(空)".to_string() } else { u.value.clone() }.into(),
            u.model.clone().into(),
            Cell::Int(u.clues as i64),
            if u.ambiguous.is_empty() {
                "名录中没有".to_string()
            } else {
                format!("对应多个单位：{}", u.ambiguous.join("、"))
            }
            .into(),
        ]);
    }
    s.table(t);
    s
}

/// Every clue of the unit, one table (and one xlsx sheet) per area.
/// How many clues of an area the appendix lists on a page (HTML, Markdown); the workbook
/// lists every one.
pub const APPENDIX_PAGE_ROWS: usize = 500;

fn appendix_clues(b: &Brief) -> Section {
    let mut s = Section::new("附录二 线索明细").with_id("clues");
    let mut areas: BTreeMap<&str, Vec<&BriefClue>> = BTreeMap::new();
    for c in &b.clues {
        areas.entry(c.clue.area.as_str()).or_default().push(c);
    }
    if areas.is_empty() {
        s.para("无。");
    }
    for (area, list) in areas {
        let mut t = Table::new(&[
            "线索编号",
            "模型",
            "问题",
            "风险",
            "单位",
            "单位编码",
            "对象",
            "金额(元)",
            "最近标记",
            "办理状态",
            "首次发现",
            "最近运行",
        ])
        .caption(format!("{area}({} 条)", list.len()))
        .sheet(area)
        // a township can have a hundred thousand: the page lists the first, the workbook all
        .page_rows(APPENDIX_PAGE_ROWS);
        for c in list {
            t.push(vec![
                clue_link(c),
                c.clue.model.clone().into(),
                c.clue.title.clone().into(),
                severity_label(&c.clue.severity).into(),
                c.unit_name.clone().unwrap_or_default().into(),
                c.clue.unit_code.clone().unwrap_or_default().into(),
                c.clue.entity.clone().into(),
                amount(c.clue.amount_fen),
                mark_label(c.clue.mark).into(),
                state_label(c).into(),
                c.clue.first_run.clone().into(),
                c.clue.last_run.clone().into(),
            ]);
        }
        s.table(t);
    }
    s
}

/// The brief as a document.
pub fn document(b: &Brief) -> Document {
    let mut notices =
        vec!["「未检查」表示模型因缺少数据、导入失败或运行失败而没有比对，不代表该方面没有问题。".to_string()];
    if b.masked {
        notices.push("身份证号、银行账号已脱敏。".into());
    }
    notices.push("本通报为大数据比对线索，须经核查方可认定。".into());
    let mut sections = vec![
        overview(b),
        problems(b),
        comparison(b),
        rectification(b),
        trend(b),
        data_notes(b),
        appendix_unresolved(b),
        appendix_clues(b),
    ];
    if !b.papers.is_empty() {
        let mut papers = Section::new("附录三 重点线索问题底稿").with_id("papers");
        papers.not_in_workbook = true;
        papers.sections = b.papers.iter().map(crate::paper::section).collect();
        sections.push(papers);
    }
    Document {
        nav: Vec::new(),
        title: format!("{}巡前情况通报(大数据比对)", b.unit.name),
        meta: vec![
            ("被巡察单位".into(), b.unit.name.clone()),
            ("单位编码".into(), b.unit.code.clone()),
            ("单位类型".into(), b.unit.kind.clone()),
            ("上级单位".into(), b.parent.as_ref().map(|p| p.name.clone()).unwrap_or_else(|| "-".into())),
            ("数据截至".into(), b.as_of.to_string()),
            (
                "统计期间".into(),
                b.from.map(|f| format!("{f} 至 {}", b.as_of)).unwrap_or_else(|| format!("截至 {}", b.as_of)),
            ),
            ("编制日期".into(), b.prepared_on.to_string()),
        ],
        notices,
        sections,
    }
}
