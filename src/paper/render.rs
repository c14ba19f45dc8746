//! A working paper as a [`Document`], in the order of the 问题底稿: 问题概述, 事实依据,
//! 政策依据, 责任依据, 发现过程, 核查处置记录, then the three-level sign-off. The document
//! renders to Markdown, HTML and xlsx; a brief embeds the same sections.

use super::Paper;
use crate::doc::{Block, Cell, Document, Section, Table};

fn para(text: String) -> Block {
    Block::Para { text }
}

fn list(items: Vec<String>) -> Block {
    Block::List { items }
}

fn table(head: Vec<String>, rows: Vec<Vec<String>>) -> Block {
    Block::Table(Table {
        caption: None,
        head,
        rows: rows.into_iter().map(|r| r.into_iter().map(Cell::Text).collect()).collect(),
        sheet: None,
        page_rows: None,
    })
}

fn sections(p: &Paper) -> Vec<(&'static str, Vec<Block>)> {
    let c = &p.view.clue;
    let state = c.state.as_ref();
    // a clue whose unit column is empty is said so, never opened with a bare `：`
    let mut overview = match c.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(unit) => format!("{unit}：{}。对象 {}", c.title, c.entity),
        None => format!("{}(被查单位未识别)。对象 {}", c.title, c.entity),
    };
    if let Some(a) = c.amount {
        overview.push_str(&format!("，涉及金额 {a} 元"));
    }
    overview.push('。');
    if let Some(d) = &p.model_description {
        overview.push_str(&format!("模型口径：{d}"));
    }
    let mut status = format!("办理状态：{}", state.map(|s| s.label).unwrap_or("待研判"));
    if let Some(s) = state {
        if let Some(r) = &s.result {
            status.push_str(&format!("；核实结论：{r}"));
        }
        if s.rectification_failed {
            status.push_str("；回头看：销号后再次出现，整改不实");
        }
        if s.overdue {
            status.push_str("；整改已逾期");
        }
    }
    let facts = vec![
        para(format!(
            "运行 {} (数据截至 {}) 返回的证据行，见 _runs/{}/{}：",
            p.sighting.run_id,
            p.sighting.as_of,
            p.sighting.run_id,
            p.sighting.evidence.clone().unwrap_or_default()
        )),
        table(p.columns.clone(), p.rows.clone()),
        para("数据来源 (快照及原始文件)：".into()),
        table(
            vec!["数据集".into(), "名称".into(), "快照".into(), "数据截至".into(), "原始文件 (大小, BLAKE3)".into()],
            p.sources
                .iter()
                .map(|s| {
                    let files: Vec<String> =
                        s.files.iter().map(|(f, n, h)| format!("{f} ({n} 字节, {})", &h[..h.len().min(16)])).collect();
                    vec![s.dataset.clone(), s.title.clone(), s.snapshot.clone(), s.as_of.clone(), files.join("；")]
                })
                .collect(),
        ),
    ];
    let basis = if p.basis.is_empty() {
        vec![para("(模型文件已不在模型库中，无法列出政策依据)".into())]
    } else {
        vec![list(p.basis.clone())]
    };
    let unit = c.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()).unwrap_or("(未识别)");
    let mut duty = vec![format!("被巡视巡察单位(对象单位)：{unit}")];
    if let Some(s) = state {
        if let Some(t) = &s.routed_to {
            duty.push(format!("承办部门：{t}"));
        }
        if let Some(a) = &s.assignee {
            duty.push(format!("核查人员：{a}"));
        }
        for person in &s.persons {
            duty.push(if person.role.is_empty() {
                format!("责任人：{}", person.name)
            } else {
                format!("责任人：{}({})", person.name, person.role)
            });
        }
        if s.persons.is_empty() {
            duty.push("责任人：研判时尚未认定".into());
        }
    }
    let params: Vec<String> = p
        .sighting
        .params
        .as_array()
        .map(|a| a.iter().filter_map(|kv| Some(format!("{}={}", kv.get(0)?.as_str()?, kv.get(1)?.as_str()?))).collect())
        .unwrap_or_default();
    let mut process = vec![
        format!("模型：{} {}", c.model, c.title),
        format!("模型版本：{}{}", p.sighting.model_version, if p.model_changed { "(模型文件此后已修改)" } else { "" }),
        format!("参数：{}", if params.is_empty() { "无".into() } else { params.join("，") }),
        format!(
            "运行：{}，开始于 {}，数据截至 {}",
            p.sighting.run_id,
            p.run_started_at.clone().unwrap_or_default(),
            p.sighting.as_of
        ),
        format!("首次发现：{}", c.first_run),
    ];
    process.push(format!(
        "历次运行：{}",
        p.view.sightings.iter().map(|s| format!("{} {}", s.run_id, s.mark.label())).collect::<Vec<_>>().join("；")
    ));
    let trail = if p.view.events.is_empty() {
        vec![para("尚无研判、核查、处置记录。".into())]
    } else {
        vec![table(
            vec!["时间".into(), "经办人".into(), "步骤".into(), "内容".into()],
            p.view
                .events
                .iter()
                .map(|e| vec![e.at.clone(), e.actor.clone(), e.step.label().to_string(), e.describe()])
                .collect(),
        )]
    };
    let closing =
        state.and_then(|s| s.closure_note.clone()).map(|n| vec![para(format!("销号说明：{n}"))]).unwrap_or_default();
    vec![
        ("一、问题概述", vec![para(overview), para(status)]),
        ("二、事实依据", facts),
        ("三、政策依据", basis),
        ("四、责任依据", vec![list(duty)]),
        ("五、发现过程", vec![list(process)]),
        ("六、核查处置记录", trail.into_iter().chain(closing).collect()),
        (
            "七、审签",
            vec![list(vec![
                "承办人(编制)：__________  日期：__________".into(),
                "副组长(审核)：__________  日期：__________".into(),
                "组长(审签)：__________  日期：__________".into(),
            ])],
        ),
    ]
}

fn header(p: &Paper) -> Vec<(String, String)> {
    let c = &p.view.clue;
    vec![
        ("名称".into(), format!("{}问题底稿", c.title)),
        ("编号".into(), c.clue_id.clone()),
        ("编制日期".into(), p.prepared_on.clone()),
        ("被巡视巡察单位".into(), c.unit.clone().unwrap_or_default()),
        ("问题来源".into(), format!("大数据监督模型 {}", c.model)),
        ("领域".into(), c.area.clone()),
    ]
}

fn sections_of(p: &Paper) -> Vec<Section> {
    sections(p).into_iter().map(|(title, blocks)| Section { blocks, ..Section::new(title) }).collect()
}

/// The paper as a document of its own.
pub fn document(p: &Paper) -> Document {
    Document {
        nav: Vec::new(),
        title: format!("{}问题底稿", p.view.clue.title),
        meta: header(p),
        notices: if p.masked { vec!["身份证号已脱敏。".into()] } else { vec![] },
        sections: sections_of(p),
    }
}

/// The paper as one section of another document (a brief's appendix), anchored `paper-<id>`.
pub fn section(p: &Paper) -> Section {
    let mut s = Section::new(format!("{} {}问题底稿", p.view.clue.clue_id, p.view.clue.title))
        .with_id(format!("paper-{}", p.view.clue.clue_id));
    s.list(header(p).into_iter().map(|(k, v)| format!("{k}：{v}")).collect());
    s.sections = sections_of(p);
    s
}
