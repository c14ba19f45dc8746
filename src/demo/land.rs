//! Land exports: grant contracts with instalment schedules (one workbook, amounts in 万元, some
//! individual grantees' IDs typed as numbers), premium payments, construction permits,
//! satellite change parcels (卫片图斑) and land-use approvals.

use chrono::{Datelike, NaiveDate};

use super::registry::Pop;
use super::write::{Table, Val};
use super::{County, Output, d};

struct Grant {
    no: String,
    parcel: String,
    grantee: String,
    grantee_id: Val,
    method: &'static str,
    use_: &'static str,
    hectares: f64,
    far: f64,
    price_wan: f64,
    signed: NaiveDate,
    due: NaiveDate,
    start: NaiveDate,
    finish: NaiveDate,
    region: String,
    /// (due date, amount 万元)
    schedule: Vec<(NaiveDate, f64)>,
    /// (date, amount 元, kind)
    paid: Vec<(NaiveDate, f64, &'static str)>,
    /// (permit date, actual start)
    permit: Option<(NaiveDate, NaiveDate)>,
}

pub fn build(c: &mut County, pop: &Pop) {
    let mut grants: Vec<Grant> = Vec::new();
    let firms: Vec<usize> = (0..pop.companies.len()).filter(|&i| pop.companies[i].firm.status == "存续").collect();
    for k in 0..c.n(70) {
        let signed = c.dice.date(d(2019, 1, 1), d(2024, 6, 30));
        let price_wan = c.dice.range(200, 5000) as f64;
        let due = signed + chrono::Days::new(c.dice.range(30, 180) as u64);
        let parts = c.dice.range(1, 4) as usize;
        let schedule: Vec<(NaiveDate, f64)> = (0..parts)
            .map(|i| {
                (
                    signed + chrono::Days::new(((due - signed).num_days() * (i as i64 + 1) / parts as i64) as u64),
                    price_wan / parts as f64,
                )
            })
            .collect();
        let paid = schedule
            .iter()
            .enumerate()
            .map(|(i, (date, wan))| {
                (*date - chrono::Days::new(c.dice.range(0, 10) as u64 + i as u64), wan * 10_000.0, "出让价款")
            })
            .collect();
        let start = signed + chrono::Days::new(c.dice.range(180, 360) as u64);
        // a permit within a year of the agreed start, unless that year has not yet passed
        let permit = if start + chrono::Days::new(365) < super::as_of() || c.dice.chance(0.6) {
            let p = start + chrono::Days::new(c.dice.range(0, 200) as u64);
            (p <= super::as_of()).then(|| (p, p + chrono::Days::new(c.dice.range(5, 60) as u64)))
        } else {
            None
        };
        let (grantee, grantee_id) = if k % 10 == 9 {
            let p = c.person(1965, 1985);
            (p.name.clone(), Val::Digits(p.id.clone()))
        } else {
            let f = &pop.companies[firms[(k * 17) % firms.len()]].firm;
            (f.name.clone(), Val::Str(f.uscc.clone()))
        };
        let village = &c.reg.villages[k % c.reg.villages.len()];
        grants.push(Grant {
            no: format!("{}{}CR{:04}", c.reg.place.code, signed.year(), k + 1),
            parcel: format!("{}{}-{:03}", c.reg.place.stem, signed.year(), k + 1),
            grantee,
            grantee_id,
            method: *c.dice.pick(&["挂牌", "挂牌", "拍卖", "招标", "协议"]),
            use_: *c.dice.pick(&["工业用地", "商服用地", "住宅用地", "仓储用地"]),
            hectares: (c.dice.range(30, 800) as f64) / 100.0,
            far: (c.dice.range(10, 30) as f64) / 10.0,
            price_wan,
            signed,
            due,
            start,
            finish: start + chrono::Days::new(730),
            region: village.code[..9].to_string(),
            schedule,
            paid,
            permit,
        });
    }
    // planted land cases
    let planted = |c: &mut County,
                   grants: &mut Vec<Grant>,
                   case: &str,
                   model: &'static str,
                   kind: &'static str,
                   price: f64,
                   signed: NaiveDate,
                   due: NaiveDate,
                   paid: Vec<(NaiveDate, f64, &'static str)>,
                   start: NaiveDate,
                   permit: Option<(NaiveDate, NaiveDate)>,
                   note: &str| {
        let k = grants.len() + 1;
        let f = &pop.companies[firms[(k * 7) % firms.len()]].firm;
        let no = format!("{}{}CR9{:03}", c.reg.place.code, signed.year(), k);
        grants.push(Grant {
            no: no.clone(),
            parcel: format!("{}{}-9{:02}", c.reg.place.stem, signed.year(), k),
            grantee: f.name.clone(),
            grantee_id: Val::Str(f.uscc.clone()),
            method: "挂牌",
            use_: "工业用地",
            hectares: 2.5,
            far: 1.2,
            price_wan: price,
            signed,
            due,
            start,
            finish: start + chrono::Days::new(730),
            region: format!("{}100", super::people::COUNTY),
            schedule: vec![(due, price)],
            paid,
            permit,
        });
        c.plant(case, model, kind, "land_grants, land_payments, construction_permits", no, note);
    };
    let started = |s: NaiveDate| Some((s, s + chrono::Days::new(10)));
    type Paid<'a> = &'a [(NaiveDate, f64, &'static str)];
    // (case, model, kind, price 万元, signed, due, payments, agreed start, permit, note)
    #[rustfmt::skip]
    let cases: [(&str, &'static str, &'static str, f64, NaiveDate, NaiveDate, Paid, NaiveDate, Option<(NaiveDate, NaiveDate)>, &str); 8] = [
        ("M41-A1", "M41", "anomaly", 1200.0, d(2024, 12, 1), d(2025, 6, 30), &[(d(2025, 1, 10), 5_000_000.0, "出让价款"), (d(2025, 3, 10), 3_000_000.0, "出让价款")], d(2025, 6, 1), started(d(2025, 6, 20)), "成交价1200万元，约定2025-06-30缴清，仅缴800万元，欠缴400万元"),
        ("M41-A2", "M41", "anomaly", 600.0, d(2024, 10, 1), d(2025, 1, 31), &[(d(2025, 5, 6), 6_000_000.0, "出让价款")], d(2025, 4, 1), started(d(2025, 4, 15)), "逾期95天缴清，未收违约金"),
        ("M41-L1", "M41", "lookalike", 900.0, d(2024, 9, 1), d(2024, 12, 31), &[(d(2024, 10, 1), 3_000_000.0, "出让价款"), (d(2024, 11, 1), 3_000_000.0, "出让价款"), (d(2024, 12, 30), 3_000_000.0, "出让价款")], d(2025, 3, 1), started(d(2025, 3, 20)), "分三期按期缴清"),
        ("M41-L2", "M41", "lookalike", 800.0, d(2025, 10, 1), d(2026, 3, 31), &[(d(2025, 11, 1), 4_000_000.0, "出让价款")], d(2026, 6, 1), None, "尚欠400万元，但约定缴清日2026-03-31未到"),
        ("M42-A1", "M42", "anomaly", 500.0, d(2023, 9, 1), d(2023, 12, 1), &[(d(2023, 11, 20), 5_000_000.0, "出让价款")], d(2024, 3, 1), None, "约定2024-03-01开工，至2025-12-31无施工许可、未开工，超过一年"),
        ("M42-A2", "M42", "anomaly", 450.0, d(2023, 12, 1), d(2024, 3, 1), &[(d(2024, 2, 20), 4_500_000.0, "出让价款")], d(2024, 6, 30), None, "约定2024-06-30开工，至今未开工"),
        ("M42-L1", "M42", "lookalike", 400.0, d(2024, 11, 1), d(2025, 2, 1), &[(d(2025, 1, 20), 4_000_000.0, "出让价款")], d(2025, 5, 1), None, "约定2025-05-01开工，尚未满一年"),
        ("M42-L2", "M42", "lookalike", 350.0, d(2023, 3, 1), d(2023, 6, 1), &[(d(2023, 5, 20), 3_500_000.0, "出让价款")], d(2023, 9, 1), started(d(2024, 2, 10)), "晚于约定开工，但在一年内开工"),
    ];
    for (case, model, kind, price, signed, due, paid, start, permit, note) in cases {
        planted(c, &mut grants, case, model, kind, price, signed, due, paid.to_vec(), start, permit, note);
    }
    let mut gt = Table::new(&[
        "合同编号",
        "电子监管号",
        "宗地编号",
        "受让人",
        "受让人证件号码",
        "出让方式",
        "土地用途",
        "面积(公顷)",
        "容积率",
        "成交价(万元)",
        "签订日期",
        "约定缴清日期",
        "约定开工日期",
        "约定竣工日期",
        "行政区划",
    ]);
    let mut it = Table::new(&["合同编号", "期次", "约定缴款日期", "约定缴款金额(万元)"]);
    let mut pt = Table::new(&["缴款书编号", "合同编号", "缴款人", "缴款日期", "缴款金额(元)", "款项类型"]);
    let mut permits = Table::new(&["施工许可证号", "宗地编号", "项目名称", "建设单位", "发证日期", "实际开工日期"]);
    let mut pay_no = 0;
    for (k, g) in grants.iter().enumerate() {
        gt.push(vec![
            g.no.clone().into(),
            format!("{}2{}{:06}", c.reg.place.code, g.signed.year(), k + 1).into(),
            g.parcel.clone().into(),
            g.grantee.clone().into(),
            g.grantee_id.clone(),
            g.method.into(),
            g.use_.into(),
            Val::Num(g.hectares, 4),
            Val::Num(g.far, 1),
            Val::Num(g.price_wan, 4),
            g.signed.into(),
            g.due.into(),
            g.start.into(),
            g.finish.into(),
            g.region.clone().into(),
        ]);
        for (i, (date, wan)) in g.schedule.iter().enumerate() {
            it.push(vec![g.no.clone().into(), Val::Int(i as i64 + 1), (*date).into(), Val::Num(*wan, 4)]);
        }
        for (date, amount, kind) in &g.paid {
            pay_no += 1;
            pt.push(vec![
                format!("FS{}{}{:06}", c.reg.place.tag, date.year(), pay_no).into(),
                g.no.clone().into(),
                g.grantee.clone().into(),
                (*date).into(),
                Val::Num(*amount, 2),
                (*kind).into(),
            ]);
        }
        if let Some((issued, begun)) = g.permit {
            permits.push(vec![
                format!("{}{}{:04}0101", c.reg.place.code, issued.year(), k + 1).into(),
                g.parcel.clone().into(),
                format!("{}建设项目", g.grantee).into(),
                g.grantee.clone().into(),
                issued.into(),
                begun.into(),
            ]);
        }
    }
    c.outputs.push((
        "land/土地出让合同.xlsx".into(),
        Output::Xlsx(vec![
            ("出让合同".into(), vec!["清河县国有建设用地使用权出让合同台账".into()], gt),
            ("分期缴款".into(), vec![], it),
        ]),
    ));
    c.csv("land/土地出让金缴款.csv", pt, &[], false);
    c.csv("land/施工许可.csv", permits, &[], false);

    // satellite parcels and approvals
    let mut approvals = Table::new(&["批准文号", "审批类型", "批准日期", "批准面积(亩)", "行政区划代码", "项目名称"]);
    let mut parcels = Table::new(&[
        "图斑编号",
        "行政区划代码",
        "监测批次",
        "监测日期",
        "变化类型",
        "图斑面积(亩)",
        "耕地面积(亩)",
        "永久基本农田面积(亩)",
        "批准文号",
        "现状用途",
    ]);
    let mut ano = 0;
    for k in 0..c.n(220) {
        let village = &c.reg.villages[k % c.reg.villages.len()];
        let monitored = c.dice.date(d(2024, 3, 1), d(2025, 10, 31));
        let area = (c.dice.range(5, 200) as f64) / 10.0;
        let kind = *c.dice.pick(&["新增建设", "推土", "硬化", "其他"]);
        let farmland =
            if kind == "其他" || k % 3 == 0 { 0.0 } else { (area * c.dice.float(0.2, 1.0) * 10.0).round() / 10.0 };
        let approval = if farmland > 0.0 {
            ano += 1;
            let no = format!("皖政地〔{}〕{}{}号", monitored.year() - 1, c.reg.place.tag, 100 + ano);
            approvals.push(vec![
                no.clone().into(),
                (*c.dice.pick(&["农用地转用", "土地征收", "设施农用地备案", "临时用地"])).into(),
                (monitored - chrono::Days::new(c.dice.range(60, 400) as u64)).into(),
                Val::Num(area + 5.0, 2),
                village.code.clone().into(),
                "建设项目用地".into(),
            ]);
            Val::Str(no)
        } else {
            Val::Empty
        };
        parcels.push(vec![
            format!("TB{}{}{:05}", c.reg.place.tag, monitored.year(), k + 1).into(),
            village.code.clone().into(),
            format!("{}年第{}批", monitored.year(), (monitored.month() - 1) / 3 + 1).into(),
            monitored.into(),
            kind.into(),
            Val::Num(area, 2),
            Val::Num(farmland, 2),
            Val::Num(0.0, 2),
            approval,
            (*c.dice.pick(&["建设用地", "农村道路", "设施农用地", "其他"])).into(),
        ]);
    }
    let v = c.reg.villages[5].code.clone();
    approvals.push(vec![
        "皖政地〔2025〕201号".into(),
        "农用地转用".into(),
        d(2025, 9, 1).into(),
        Val::Num(6.0, 2),
        v.clone().into(),
        "物流园项目".into(),
    ]);
    approvals.push(vec![
        "皖政地〔2024〕202号".into(),
        "农用地转用".into(),
        d(2024, 12, 1).into(),
        Val::Num(10.0, 2),
        v.clone().into(),
        "农产品加工项目".into(),
    ]);
    let cases: [(&str, &str, f64, f64, Val, NaiveDate, &str); 5] = [
        ("M43-A1", "anomaly", 5.6, 3.2, Val::Empty, d(2025, 4, 10), "新增建设占用耕地3.2亩，无任何用地批文"),
        ("M43-A2", "anomaly", 4.0, 4.0, "皖政地〔2025〕999号".into(), d(2025, 6, 12), "举证批文号在用地审批库中不存在"),
        (
            "M43-A3",
            "anomaly",
            6.0,
            2.5,
            "皖政地〔2025〕201号".into(),
            d(2025, 5, 20),
            "批文2025-09-01才批准，晚于2025-05-20监测(先建后批)",
        ),
        (
            "M43-L1",
            "lookalike",
            8.0,
            5.0,
            "皖政地〔2024〕202号".into(),
            d(2025, 3, 15),
            "批文2024-12-01批准，早于监测日期",
        ),
        ("M43-L2", "lookalike", 3.0, 0.0, Val::Empty, d(2025, 7, 1), "新增建设但未占用耕地"),
    ];
    for (i, (case, kind, area, farm, approval, date, note)) in cases.into_iter().enumerate() {
        let id = format!("TB{}2025{:05}", c.reg.place.tag, 90_001 + i);
        parcels.push(vec![
            id.clone().into(),
            v.clone().into(),
            "2025年第2批".into(),
            date.into(),
            "新增建设".into(),
            Val::Num(area, 2),
            Val::Num(farm, 2),
            Val::Num(if i == 0 { 1.5 } else { 0.0 }, 2),
            approval,
            "建设用地".into(),
        ]);
        c.plant(case, "M43", kind, "satellite_parcels, land_approvals", id, note);
    }
    c.csv("land/卫片图斑.csv", parcels, &[], false);
    c.csv("land/用地审批.csv", approvals, &[], false);
}
