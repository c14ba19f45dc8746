//! Finance exports: budget allocations (xlsx, 万元), treasury centralised payments (GBK CSV —
//! the largest file and the ingest benchmark's subject), accounting vouchers (GBK CSV) and
//! reimbursements with invoice numbers (NDJSON from the e-reimbursement platform).

use chrono::{Datelike, NaiveDate};

use super::registry::Pop;
use super::write::{DateStyle, Table, Val};
use super::{County, Output, d};

const PURPOSES: &[(&str, &str, &str)] = &[
    ("30201", "办公费", "办公用品采购"),
    ("30202", "印刷费", "资料印刷"),
    ("30205", "水费", "水费"),
    ("30206", "电费", "电费"),
    ("30209", "物业管理费", "物业服务费"),
    ("30211", "差旅费", "差旅费结算"),
    ("30213", "维修(护)费", "设备维修"),
    ("30215", "会议费", "业务会议费用"),
    ("30216", "培训费", "业务培训费"),
    ("30226", "劳务费", "劳务报酬"),
    ("30227", "委托业务费", "委托服务费"),
    ("31002", "办公设备购置", "办公设备购置"),
    ("31005", "基础设施建设", "工程进度款"),
    ("30299", "其他商品和服务支出", "专项业务经费"),
];
const PROJECTS: &[&str] = &[
    "日常运转经费",
    "信息化建设",
    "专项业务经费",
    "基础设施维护",
    "民生保障项目",
    "人才培养经费",
    "设备更新",
    "安全生产专项",
    "宣传经费",
    "课题研究",
    "农村公路养护",
    "人居环境整治",
];

pub fn build(c: &mut County, pop: &Pop) {
    let mut budget = Table::new(&["预算年度", "单位名称", "项目编码", "项目名称", "经济科目", "指标金额(万元)"]);
    let mut pay = c
        .large_table(&[
            "支付凭证号",
            "预算年度",
            "部门编码",
            "部门名称",
            "基层单位名称",
            "项目编码",
            "项目名称",
            "功能科目",
            "经济科目编码",
            "经济科目名称",
            "支付日期",
            "收款人名称",
            "收款人账号",
            "收款人开户行",
            "用途",
            "金额(元)",
            "支付方式",
        ])
        .style("支付日期", DateStyle::Slash);
    let units = c.units.clone();
    let mut seq = 0u64;
    let tag = c.reg.place.tag.clone();
    let place = c.reg.place.clone();
    let mut pay_row = |pay: &mut Table,
                       year: i32,
                       u: &super::Unit,
                       code: &str,
                       project: &str,
                       (ecode, ename, purpose): (&str, &str, &str),
                       date: NaiveDate,
                       payee: &str,
                       account: &str,
                       amount: f64,
                       method: &str|
     -> String {
        seq += 1;
        let id = format!("ZF{tag}{year}{:08}", seq);
        pay.push(vec![
            id.clone().into(),
            Val::Int(year as i64),
            u.dept_code.clone().into(),
            u.dept.clone().into(),
            u.name.clone().into(),
            code.into(),
            project.into(),
            "2010301 行政运行".into(),
            ecode.into(),
            ename.into(),
            date.into(),
            payee.into(),
            account.into(),
            "清河农商银行".into(),
            purpose.into(),
            Val::Num(amount, 2),
            method.into(),
        ]);
        id
    };
    let projects_per_unit = 6 * c.scale as usize;
    let supplier_count = pop.suppliers.len();
    for year in [2024, 2025] {
        for (ui, u) in units.iter().enumerate() {
            for k in 0..projects_per_unit {
                let code = c.reg.place.project(&format!("{}{}{:04}", u.dept_code, year, k + 1));
                let project = format!(
                    "{}{}",
                    PROJECTS[(ui + k) % PROJECTS.len()],
                    if k >= PROJECTS.len() { format!("({})", k / PROJECTS.len() + 1) } else { String::new() }
                );
                let p = PURPOSES[(ui * 3 + k) % PURPOSES.len()];
                let alloc_wan = c.dice.range(20, 400) as f64;
                budget.push(vec![
                    Val::Int(year as i64),
                    u.name.clone().into(),
                    code.clone().into(),
                    project.clone().into(),
                    format!("{} {}", p.0, p.1).into(),
                    Val::Num(alloc_wan, 4),
                ]);
                // background execution 70–98%, spread evenly across the year
                let total = alloc_wan * 10_000.0 * c.dice.float(0.70, 0.98);
                let n = 24usize;
                for i in 0..n {
                    let month = (i % 12) as u32 + 1;
                    let date = d(year, month, c.dice.range(1, 28) as u32);
                    let co = &pop.companies[pop.suppliers[c.dice.index(supplier_count)]];
                    let amount = ((total / n as f64) * c.dice.float(0.8, 1.2) * 100.0).round() / 100.0;
                    let (payee, account) =
                        (co.firm.name.clone(), c.reg.place.card(2_000_000 + (i as u64 * 31 + k as u64)));
                    pay_row(
                        &mut pay,
                        year,
                        u,
                        &code,
                        &project,
                        p,
                        date,
                        &payee,
                        &account,
                        amount,
                        if amount > 50_000.0 { "直接支付" } else { "授权支付" },
                    );
                }
            }
        }
    }
    // planted finance cases (2025): one payment each
    let edu = units[0].clone();
    let culture = units[15].clone();
    #[rustfmt::skip]
    let planted: [(&str, &str, &super::Unit, &str, (&str, &str, &str), NaiveDate, &str, &str, f64, &str); 6] = [
        ("M19-A1", "anomaly", &culture, "11620250001", ("30299", "其他商品和服务支出", "职工活动费"), d(2025, 9, 12), "清河县金足浴足疗会所", "6217001234567890123", 6_800.0, "县文旅体局以职工活动费名义向足疗会所支付6,800元"),
        ("M19-L1", "lookalike", &culture, "11620250001", ("30215", "会议费", "会议住宿费(酒店)"), d(2025, 9, 20), "清河县国际酒店", "6217001234567890456", 12_600.0, "酒店会议住宿费，用途含\"酒店\"，按方法排除"),
        ("M20-A1", "anomaly", &edu, "10120250001", ("30201", "办公费", "慰问品采购"), d(2025, 1, 20), "清河县百佳超市", "6217001234567891111", 5_000.0, "在超市整数消费5,000元(疑似购物卡)"),
        ("M20-L1", "lookalike", &edu, "10120250001", ("30201", "办公费", "办公用品采购"), d(2025, 3, 3), "清河县百佳超市", "6217001234567891111", 3_476.5, "超市非整数采购3,476.50元"),
        ("M25-A1", "anomaly", &edu, "10120250001", ("30299", "其他商品和服务支出", "拨付工会经费"), d(2025, 12, 18), "清河县教育局工会委员会", "6217001234567892222", 50_000.0, "向本单位工会转款5万元"),
        ("M25-L1", "lookalike", &culture, "11620250001", ("30299", "其他商品和服务支出", "工会会员活动"), d(2025, 6, 18), "清河县文化旅游体育局工会委员会", "6217001234567893333", 8_000.0, "向工会转款8,000元，低于1万元阈值"),
    ];
    for (case, kind, unit, code, subject, date, payee, account, amount, note) in planted {
        // another batch's county has payees of its own
        let (payee, account) = (place.local(payee), place.account(account));
        let (payee, account) = (payee.as_str(), account.as_str());
        let code = place.project(code);
        let code = code.as_str();
        let id = pay_row(&mut pay, 2025, unit, code, "日常运转经费", subject, date, payee, account, amount, "授权支付");
        // one payee, two payments: the round-sum model flags a payment, so its entity is the pair
        let entity = if case.starts_with("M20") { format!("{payee}|{id}") } else { payee.to_string() };
        c.plant(case, &case[..3], kind, "treasury_payments", entity, note);
    }
    // year-end rush (M24) and idle funds (M27): two 2025 projects of the water bureau
    let water = units[7].clone();
    for (case, kind, code, name, alloc, shares) in [
        (
            "M24-A1",
            "anomaly",
            "10820259001",
            "防汛能力提升工程",
            300.0,
            vec![(3, 0.2), (6, 0.13), (11, 0.27), (12, 0.4)],
        ),
        ("M24-L1", "lookalike", "10820259002", "河道清淤工程", 300.0, vec![(3, 0.3), (6, 0.3), (9, 0.2), (12, 0.15)]),
        ("M27-A1", "anomaly", "10820259003", "农村饮水安全巩固提升", 500.0, vec![(8, 0.08)]),
        ("M27-L1", "lookalike", "10820259004", "小型水库维修养护", 500.0, vec![(5, 0.2), (9, 0.15)]),
    ] {
        let code = place.project(code);
        let code = code.as_str();
        budget.push(vec![
            Val::Int(2025),
            water.name.clone().into(),
            code.into(),
            name.into(),
            "31005 基础设施建设".into(),
            Val::Num(alloc, 4),
        ]);
        let mut paid = 0.0;
        for (month, share) in &shares {
            let amount = alloc * 10_000.0 * share;
            paid += share;
            pay_row(
                &mut pay,
                2025,
                &water,
                code,
                name,
                ("31005", "基础设施建设", "工程进度款"),
                d(2025, *month, 15),
                "安徽水建工程有限公司",
                &place.account("6217001234567894444"),
                amount,
                "直接支付",
            );
        }
        let model = if case.starts_with("M24") { "M24" } else { "M27" };
        let note = if model == "M24" {
            let late: f64 = shares.iter().filter(|(m, _)| *m >= 11).map(|(_, s)| s).sum();
            format!("{name}: 11—12月支付占全年指标{:.0}%", late * 100.0)
        } else {
            format!("{name}: 全年支付进度{:.0}%", paid * 100.0)
        };
        c.plant(case, model, kind, "budget_allocations, treasury_payments", code, note);
    }
    c.outputs.push((
        "finance/预算指标.xlsx".into(),
        Output::Xlsx(vec![(
            "预算指标".into(),
            vec!["清河县2024—2025年部门预算指标明细表".into(), "单位：万元".into()],
            budget,
        )]),
    ));
    c.csv("finance/国库集中支付明细.csv", pay, &[], true);

    // accounting vouchers: expense entries against the bank account, and two cash entries
    let mut v = c
        .large_table(&[
            "单位名称",
            "会计年度",
            "凭证日期",
            "凭证类型",
            "凭证号",
            "分录序号",
            "科目编码",
            "科目名称",
            "摘要",
            "借方金额",
            "贷方金额",
            "辅助核算",
        ])
        .style("凭证日期", DateStyle::Compact);
    let mut vno = 0;
    for (ui, u) in units.iter().enumerate().take(8) {
        for k in 0..c.n(120) {
            vno += 1;
            let date = d(2025, (k % 12) as u32 + 1, c.dice.range(1, 28) as u32);
            let (code, name, summary) = PURPOSES[(ui + k) % PURPOSES.len()];
            let amount = c.dice.range(200, 30_000) as f64 + 0.5 * c.dice.range(0, 2) as f64;
            let no = format!("记-{vno:05}");
            voucher(
                &mut v,
                &u.name,
                date,
                &no,
                (&format!("5201{}", &code[3..]), name),
                ("1002", "银行存款"),
                summary,
                amount,
            );
        }
    }
    for (case, kind, amount, summary) in
        [("M29-A1", "anomaly", 50_000.0, "支付接待费"), ("M29-L1", "lookalike", 800.0, "零星办公用品")]
    {
        vno += 1;
        let u = &units[3];
        let no = format!("记-{vno:05}");
        voucher(&mut v, &u.name, d(2025, 11, 6), &no, ("5201202", "办公费"), ("1001", "库存现金"), summary, amount);
        c.plant(
            case,
            "M29",
            kind,
            "vouchers",
            format!("{}|{no}", u.name),
            format!("{summary}以库存现金支付{amount:.0}元"),
        );
    }
    c.csv("finance/会计凭证.csv", v, &[], true);

    // reimbursements with invoice numbers (NDJSON from the e-reimbursement platform)
    let mut r = Table::new(&[
        "报销单号",
        "单位名称",
        "报销人",
        "报销人身份证号",
        "报销日期",
        "发票代码",
        "发票号码",
        "开票日期",
        "销方名称",
        "金额",
        "事由",
    ]);
    let staff = pop.staff.clone();
    let mut inv = 0u64;
    for k in 0..c.n(1500) {
        let s = &staff[k % staff.len()];
        inv += 1;
        let issued = c.dice.date(d(2024, 1, 5), d(2025, 12, 10));
        let claimed = issued + chrono::Days::new(c.dice.range(1, 20) as u64);
        let seller = &pop.companies[pop.suppliers[c.dice.index(supplier_count)]].firm.name;
        r.push(vec![
            format!("BX{}{}{:06}", c.reg.place.tag, claimed.year(), k + 1).into(),
            units[s.unit].name.clone().into(),
            s.p.name.clone().into(),
            s.p.id.clone().into(),
            claimed.min(d(2025, 12, 31)).into(),
            format!("0340{}{:08}", c.reg.place.tag, 24_000_000 + inv % 7).into(),
            format!("{:08}", 10_000_000 + inv * 3).into(),
            issued.into(),
            seller.clone().into(),
            Val::Num(c.dice.range(50, 5000) as f64, 2),
            (*c.dice.pick(&["差旅住宿", "办公用品", "资料费", "交通费", "邮寄费"])).into(),
        ]);
    }
    // duplicates: the same invoice (code + number) reimbursed twice
    for (case, src, kind) in [("M28-A1", 10usize, "anomaly"), ("M28-A2", 20usize, "anomaly")] {
        let mut row = r.rows[src].clone();
        row[0] = format!("BX{}2025{:06}", c.reg.place.tag, 900_000 + src).into();
        if case == "M28-A2" {
            let other = &staff[(src * 7 + 3) % staff.len()];
            row[1] = units[other.unit].name.clone().into();
            row[2] = other.p.name.clone().into();
            row[3] = other.p.id.clone().into();
        }
        let entity = match (&row[5], &row[6]) {
            (Val::Str(a), Val::Str(b)) => format!("{a}|{b}"),
            _ => String::new(),
        };
        r.push(row);
        c.plant(
            case,
            "M28",
            kind,
            "reimbursements",
            entity,
            if case == "M28-A1" {
                "同一发票在本单位两张报销单中重复报销"
            } else {
                "同一发票在两个单位重复报销"
            },
        );
    }
    let mut row = r.rows[30].clone();
    row[0] = format!("BX{}2025999030", c.reg.place.tag).into();
    let (code, number) = match (&row[5], &row[6]) {
        (Val::Str(a), Val::Str(b)) => (a.clone(), b.clone()),
        _ => unreachable!("generated as text"),
    };
    let other_code = format!("0340{}{:08}", c.reg.place.tag, 24_000_000 + 99);
    row[5] = other_code.clone().into();
    r.push(row);
    c.plant(
        "M28-L1",
        "M28",
        "lookalike",
        "reimbursements",
        format!("{other_code}|{number}"),
        format!("发票号码与{code}|{number}相同但发票代码不同，是两张发票"),
    );
    c.outputs.push(("finance/报销单据.ndjson".into(), Output::Ndjson(r)));
}

/// Pushes a balanced two-line voucher: debit `debit` account, credit `credit` account.
fn voucher(
    v: &mut Table,
    unit: &str,
    date: NaiveDate,
    no: &str,
    debit: (&str, &str),
    credit: (&str, &str),
    summary: &str,
    amount: f64,
) {
    for (line, (code, name), dr, cr) in [(1, debit, amount, 0.0), (2, credit, 0.0, amount)] {
        v.push(vec![
            unit.into(),
            Val::Int(2025),
            date.into(),
            "记账凭证".into(),
            no.into(),
            Val::Int(line),
            code.into(),
            name.into(),
            summary.into(),
            Val::Num(dr, 2),
            Val::Num(cr, 2),
            "".into(),
        ]);
    }
}
