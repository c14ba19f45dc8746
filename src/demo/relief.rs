//! Poverty relief exports: 低保 households and members (one workbook, two sheets), monthly
//! relief payments (one sheet per township; one township's clerk typed IDs as numbers), and
//! 惠民惠农一卡通 subsidy payments (GBK CSV), with a few defective rows for the quarantine.

use chrono::{Datelike, NaiveDate};

use super::registry::Pop;
use super::write::{DateStyle, Table, Val};
use super::{County, Output, d};

/// The township whose clerk stored ID numbers as numbers in the payments workbook.
const NUMERIC_ID_TOWN: usize = 2;

fn months(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = d(from.year(), from.month(), 1);
    while m <= to {
        out.push(m);
        m = if m.month() == 12 { d(m.year() + 1, 1, 1) } else { d(m.year(), m.month() + 1, 1) };
    }
    out
}

/// The 15-digit legacy form of an 18-digit ID born in the 1900s.
fn legacy15(id: &str) -> String {
    format!("{}{}", &id[..6], &id[8..17])
}

pub fn build(c: &mut County, pop: &Pop) {
    // households and members
    let mut h = Table::new(&[
        "家庭编号",
        "行政区划代码",
        "户主姓名",
        "户主身份证号",
        "低保证号",
        "保障类别",
        "保障人口数",
        "审批日期",
        "状态",
    ]);
    let mut m = Table::new(&["家庭编号", "成员姓名", "成员身份证号", "与户主关系"]);
    for (i, hh) in pop.households.iter().enumerate() {
        let v = &c.reg.villages[hh.village];
        h.push(vec![
            hh.id.clone().into(),
            v.code.clone().into(),
            hh.head.name.clone().into(),
            hh.head.id.clone().into(),
            hh.cert.clone().into(),
            hh.category.into(),
            Val::Int(hh.members.len() as i64 + 1),
            hh.approved.into(),
            "正常".into(),
        ]);
        m.push(vec![hh.id.clone().into(), hh.head.name.clone().into(), hh.head.id.clone().into(), "本人".into()]);
        for (k, (p, rel)) in hh.members.iter().enumerate() {
            // old civil-affairs ledgers still carry some 15-digit IDs
            let id = if i % 23 == 0 && k == 0 && p.born.year() < 2000 { legacy15(&p.id) } else { p.id.clone() };
            m.push(vec![hh.id.clone().into(), p.name.clone().into(), id.into(), (*rel).into()]);
        }
    }
    c.outputs.push((
        "relief/低保家庭.xlsx".into(),
        Output::Xlsx(vec![("低保家庭".into(), vec![], h), ("家庭成员".into(), vec![], m)]),
    ));

    // monthly payments, one sheet per township
    let headers = [
        "家庭编号",
        "户主姓名",
        "户主身份证号",
        "发放月份",
        "发放日期",
        "低保金(元)",
        "其他补贴(元)",
        "银行账号",
        "账户户名",
        "行政区划代码",
    ];
    let mut sheets: Vec<Table> = (0..c.reg.towns.len()).map(|_| Table::new(&headers)).collect();
    let start = d(2024, 1, 1);
    for hh in &pop.households {
        let town = c.reg.villages[hh.village].town;
        let from = hh.approved.max(start);
        for month in months(from, hh.paid_until) {
            let id =
                if town == NUMERIC_ID_TOWN { Val::Digits(hh.head.id.clone()) } else { Val::Str(hh.head.id.clone()) };
            let extra = if hh.category == "特困供养" { 300.0 } else { 0.0 };
            sheets[town].push(vec![
                hh.id.clone().into(),
                hh.head.name.clone().into(),
                id,
                Val::Int((month.year() * 100 + month.month() as i32) as i64),
                d(month.year(), month.month(), 10).into(),
                Val::Num(hh.monthly, 2),
                Val::Num(extra, 2),
                Val::Digits(hh.account.clone()).text_in_xlsx(),
                hh.account_name.clone().into(),
                c.reg.villages[hh.village].code.clone().into(),
            ]);
        }
    }
    let mut wb = Vec::new();
    for (t, mut table) in sheets.into_iter().enumerate() {
        let total: f64 = table.rows.iter().map(|r| if let Val::Num(x, _) = r[5] { x } else { 0.0 }).sum();
        table.push(vec![
            "合计".into(),
            Val::Empty,
            Val::Empty,
            Val::Empty,
            Val::Empty,
            Val::Num(total, 2),
            Val::Empty,
            Val::Empty,
            Val::Empty,
            Val::Empty,
        ]);
        // another batch's townships are sheets of their own, named with their county
        let name = if c.reg.place.batch == 0 {
            c.reg.towns[t].name.clone()
        } else {
            format!("{}{}", c.reg.place.name, c.reg.towns[t].name)
        };
        wb.push((
            name.clone(),
            vec![c.reg.place.local(&format!("清河县{name}城乡低保资金发放明细(2024—2025年)"))],
            table,
        ));
    }
    c.outputs.push(("relief/低保发放明细.xlsx".into(), Output::Xlsx(wb)));

    // 惠民惠农一卡通: yearly arable-land subsidy for residents, monthly disability and
    // old-age allowances; payments of the deceased stop before death unless planted
    let mut t = c
        .large_table(&[
            "流水号",
            "补贴项目",
            "身份证号",
            "姓名",
            "发放金额(元)",
            "发放日期",
            "社保卡账号",
            "账户户名",
            "村组",
        ])
        .style("发放日期", DateStyle::Slash);
    let mut seq = 0u64;
    let mut push = |t: &mut Table, c: &County, item: &str, p: &super::people::Person, amount: f64, date: NaiveDate| {
        seq += 1;
        let v = &c.reg.villages[p.village];
        t.push(vec![
            format!("YKT{}{}{:07}", c.reg.place.tag, date.format("%Y%m"), seq).into(),
            item.into(),
            p.id.clone().into(),
            p.name.clone().into(),
            Val::Num(amount, 2),
            date.into(),
            c.reg.place.card(1_000_000 + seq).into(),
            p.name.clone().into(),
            format!("{}{}", c.reg.towns[v.town].name, v.name).into(),
        ]);
    };
    let residents = pop.residents.clone();
    for (i, p) in residents.iter().enumerate() {
        let until = pop.subsidy_until.get(&p.id).copied().unwrap_or(d(2099, 1, 1));
        for year in [2024, 2025] {
            let date = d(year, 5, 20);
            if date <= until {
                let mu = c.dice.range(2, 12) as f64;
                push(&mut t, c, "耕地地力保护补贴", p, mu * 102.5, date);
            }
        }
        let monthly = if pop.subsidy_until.contains_key(&p.id) {
            Some(("残疾人生活补贴", 90.0))
        } else if p.born < d(1945, 1, 1) {
            Some(("高龄津贴", 100.0))
        } else if i % 40 == 0 {
            Some(("残疾人护理补贴", 80.0))
        } else {
            None
        };
        if let Some((item, amount)) = monthly {
            // the old-age allowance starts the month after the 80th birthday
            let eighty = d(p.born.year() + 80, p.born.month(), 1);
            let from = if item == "高龄津贴" { eighty + chrono::Months::new(1) } else { d(2024, 1, 1) };
            for month in months(d(2024, 1, 1), d(2025, 12, 1)) {
                let date = d(month.year(), month.month(), 5);
                if date <= until && date >= from {
                    push(&mut t, c, item, p, amount, date);
                }
            }
        }
    }
    // defective rows a real export carries: they must land in quarantine, not vanish
    let p = residents[3].clone();
    let v = &c.reg.villages[p.village];
    let village = format!("{}{}", c.reg.towns[v.town].name, v.name);
    for (k, (amount, date)) in
        [(Val::from("待核"), Val::Date(d(2025, 5, 20))), (Val::Num(307.5, 2), Val::from("2025-02-30"))]
            .into_iter()
            .enumerate()
    {
        t.push(vec![
            format!("YKT{}202505{:07}", c.reg.place.tag, 9_000_000 + k).into(),
            "耕地地力保护补贴".into(),
            p.id.clone().into(),
            p.name.clone().into(),
            amount,
            date,
            c.reg.place.card(9_000_000 + k as u64).into(),
            p.name.clone().into(),
            village.clone().into(),
        ]);
    }
    c.csv("relief/惠民惠农一卡通发放.csv", t, &[], true);
}

impl Val {
    /// Account numbers are typed as text in the payments workbook (the numeric-ID mistake
    /// there is the ID column's).
    fn text_in_xlsx(self) -> Val {
        match self {
            Val::Digits(s) => Val::Str(s),
            v => v,
        }
    }
}
