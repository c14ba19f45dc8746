//! Programme exports: investment-promotion agreements, incentive payouts and enterprise tax
//! (招商引资), and research projects, members and expenditure (科研经费).

use chrono::NaiveDate;

use super::registry::Pop;
use super::write::{Table, Val};
use super::{County, Output, d};

pub fn build(c: &mut County, pop: &Pop) {
    let firms: Vec<usize> = (0..pop.companies.len()).filter(|&i| pop.companies[i].firm.status == "存续").collect();
    // ---- investment promotion ----
    let mut ag = Table::new(&[
        "协议编号",
        "企业名称",
        "统一社会信用代码",
        "签订日期",
        "承诺投资额(万元)",
        "承诺年税收(万元)",
        "约定考核日期",
        "奖补上限(万元)",
    ]);
    let mut inc = Table::new(&["兑现编号", "协议编号", "统一社会信用代码", "兑现金额(万元)", "兑现日期"]);
    let mut tax = Table::new(&["统一社会信用代码", "纳税人名称", "年度", "入库税额(元)"]);
    let mut promised: Vec<(usize, f64)> = Vec::new();
    let mut pay_no = 0;
    let mut agreement = |c: &mut County,
                         ag: &mut Table,
                         inc: &mut Table,
                         f: usize,
                         signed: NaiveDate,
                         promise_wan: f64,
                         assess: NaiveDate,
                         paid: &[(NaiveDate, f64)]|
     -> String {
        let firm = &pop.companies[f].firm;
        let no = format!("{}ZS{}{:03}", c.reg.place.stem, signed.format("%Y"), ag.rows.len() + 1);
        ag.push(vec![
            no.clone().into(),
            firm.name.clone().into(),
            firm.uscc.clone().into(),
            signed.into(),
            Val::Num(promise_wan * 20.0, 2),
            Val::Num(promise_wan, 2),
            assess.into(),
            Val::Num(promise_wan * 0.5, 2),
        ]);
        for (date, wan) in paid {
            pay_no += 1;
            inc.push(vec![
                format!("JB{}{}{:04}", c.reg.place.tag, date.format("%Y"), pay_no).into(),
                no.clone().into(),
                firm.uscc.clone().into(),
                Val::Num(*wan, 2),
                (*date).into(),
            ]);
        }
        let _ = c;
        no
    };
    for k in 0..c.n(30) {
        let f = firms[(k * 37 + 11) % firms.len()];
        let signed = c.dice.date(d(2021, 1, 1), d(2023, 6, 30));
        let promise = c.dice.range(50, 400) as f64;
        let assess = d(2024, 6, 30);
        agreement(c, &mut ag, &mut inc, f, signed, promise, assess, &[(d(2024, 9, 10), promise * 0.3)]);
        promised.push((f, promise));
    }
    let picks: Vec<usize> =
        firms.iter().rev().copied().filter(|f| !promised.iter().any(|(p, _)| p == f)).take(3).collect();
    let no =
        agreement(c, &mut ag, &mut inc, picks[0], d(2022, 3, 1), 500.0, d(2024, 6, 30), &[(d(2025, 3, 18), 200.0)]);
    promised.push((picks[0], 120.0 / 1.0)); // actual tax 120万 against a 500万 promise
    c.plant(
        "M46-A1",
        "M46",
        "anomaly",
        "investment_agreements, incentive_payments, tax_payments",
        no,
        "承诺年税收500万元，2024年实际入库120万元，仍兑现奖补200万元",
    );
    let no =
        agreement(c, &mut ag, &mut inc, picks[1], d(2023, 5, 1), 300.0, d(2025, 6, 30), &[(d(2024, 11, 20), 100.0)]);
    promised.push((picks[1], 320.0));
    c.plant(
        "M46-A2",
        "M46",
        "anomaly",
        "investment_agreements, incentive_payments",
        no,
        "约定2025-06-30考核，2024-11-20提前兑现奖补100万元",
    );
    let no =
        agreement(c, &mut ag, &mut inc, picks[2], d(2022, 8, 1), 300.0, d(2024, 6, 30), &[(d(2024, 10, 8), 120.0)]);
    promised.push((picks[2], 350.0));
    c.plant(
        "M46-L1",
        "M46",
        "lookalike",
        "investment_agreements, incentive_payments, tax_payments",
        no,
        "承诺300万元，实际入库350万元，考核后兑现",
    );
    // tax: every company, three years; agreement firms pay what they promised (or the planted amount)
    for (i, co) in pop.companies.iter().enumerate() {
        if co.firm.status != "存续" {
            continue;
        }
        for year in [2023, 2024, 2025] {
            let amount = match promised.iter().rev().find(|(f, _)| *f == i) {
                Some((_, wan)) => wan * 10_000.0 * if year == 2024 { 1.0 } else { 1.05 },
                None => c.dice.range(5_000, 800_000) as f64,
            };
            tax.push(vec![
                co.firm.uscc.clone().into(),
                co.firm.name.clone().into(),
                Val::Int(year),
                Val::Num(amount, 2),
            ]);
        }
    }
    c.outputs.push(("programmes/招商协议.xlsx".into(), Output::Xlsx(vec![("招商协议".into(), vec![], ag)])));
    c.csv("programmes/奖补兑现.csv", inc, &[], false);
    c.csv("programmes/企业纳税.csv", tax, &[], false);

    // ---- research funds (hospital and school projects) ----
    let mut pr = Table::new(&[
        "项目编号",
        "项目名称",
        "负责人",
        "负责人身份证号",
        "承担单位",
        "总经费(万元)",
        "立项日期",
        "结题日期",
    ]);
    let mut mem = Table::new(&["项目编号", "姓名", "身份证号", "角色"]);
    let mut exp = Table::new(&["凭证号", "项目编号", "支出科目", "收款人", "收款人证件号", "金额(元)", "支付日期"]);
    let researchers: Vec<usize> =
        (0..pop.staff.len()).filter(|&i| pop.staff[i].unit == 12 || pop.staff[i].unit == 13).collect();
    let others: Vec<usize> = (0..pop.staff.len())
        .filter(|&i| {
            pop.staff[i].unit != 12
                && pop.staff[i].unit != 13
                && pop.staff[i].category == "在职"
                && pop.staff[i].end.is_none()
        })
        .collect();
    let mut vno = 0;
    let tag = c.reg.place.tag.clone();
    let mut expense = |exp: &mut Table,
                       project: &str,
                       subject: &str,
                       payee: &str,
                       payee_id: &str,
                       amount: f64,
                       date: NaiveDate|
     -> String {
        vno += 1;
        let no = format!("KY{tag}{}{:05}", date.format("%Y"), vno);
        exp.push(vec![
            no.clone().into(),
            project.into(),
            subject.into(),
            payee.into(),
            payee_id.into(),
            Val::Num(amount, 2),
            date.into(),
        ]);
        no
    };
    let n_projects = c.n(20);
    let mut firsts: Vec<(String, usize, Vec<usize>)> = Vec::new();
    for k in 0..n_projects {
        let pi = researchers[k % researchers.len()];
        let s = &pop.staff[pi];
        let code = format!("{}KY2024{:03}", c.reg.place.stem, k + 1);
        pr.push(vec![
            code.clone().into(),
            format!("{}临床与教学研究课题{}", c.units[s.unit].name, k + 1).into(),
            s.p.name.clone().into(),
            s.p.id.clone().into(),
            c.units[s.unit].name.clone().into(),
            Val::Num(30.0, 2),
            d(2024, 3, 1).into(),
            d(2026, 2, 28).into(),
        ]);
        let mut members = vec![pi];
        mem.push(vec![code.clone().into(), s.p.name.clone().into(), s.p.id.clone().into(), "负责人".into()]);
        for j in 1..=2 {
            let m = researchers[(k + j * 5) % researchers.len()];
            if members.contains(&m) {
                continue;
            }
            members.push(m);
            mem.push(vec![
                code.clone().into(),
                pop.staff[m].p.name.clone().into(),
                pop.staff[m].p.id.clone().into(),
                "成员".into(),
            ]);
        }
        // background spending: students' labour, outside experts, unrelated collaborators
        for j in 0..3 {
            let student = c.person(1998, 2003);
            expense(
                &mut exp,
                &code,
                "劳务费",
                &student.name,
                &student.id,
                1_500.0 + 100.0 * j as f64,
                d(2024, 6 + j as u32, 10),
            );
        }
        let expert = c.person(1960, 1975);
        expense(&mut exp, &code, "专家咨询费", &expert.name, &expert.id, 1_800.0, d(2024, 9, 12));
        let f = &pop.companies[firms[(k * 41 + 3) % firms.len()]].firm;
        expense(&mut exp, &code, "测试化验加工费", &f.name, &f.uscc, 26_000.0, d(2024, 10, 15));
        firsts.push((code, pi, members));
    }
    let (code, pi, members) = firsts[0].clone();
    let outsider = &pop.staff[others[0]];
    let no = expense(&mut exp, &code, "劳务费", &outsider.p.name, &outsider.p.id, 6_000.0, d(2025, 1, 15));
    c.plant(
        "M48-A1",
        "M48",
        "anomaly",
        "research_expenses, payroll",
        no,
        format!("劳务费6,000元支付给在职财政供养人员{}", outsider.p.name),
    );
    let member = &pop.staff[members[1]];
    let no = expense(&mut exp, &code, "专家咨询费", &member.p.name, &member.p.id, 3_000.0, d(2025, 2, 15));
    c.plant(
        "M48-A2",
        "M48",
        "anomaly",
        "research_expenses, research_members",
        no,
        format!("专家咨询费支付给项目组成员{}", member.p.name),
    );
    let pi_person = pop.staff[pi].p.clone();
    let pi_firm = pop.companies.iter().find(|co| co.firm.legal_rep.id == pi_person.id).map(|co| co.firm.clone());
    let collaborator = match pi_firm {
        Some(f) => f,
        None => {
            let f = c.reg.firm(&mut c.dice, pi_person.clone(), d(2023, 8, 8));
            c.extra_firms.push(super::registry::Company {
                firm: f.clone(),
                holders: vec![(pi_person.clone(), 100.0)],
                corporate_holders: vec![],
                key: vec![],
                kind: "有限责任公司(自然人独资)",
            });
            // the same person is a public servant running a business
            c.plant(
                "M31-A4",
                "M31",
                "anomaly",
                "payroll, enterprises",
                &pi_person.id,
                format!("在职人员{}任{}法定代表人(存续)，并承接其本人科研项目协作费", pi_person.name, f.name),
            );
            f
        }
    };
    let no = expense(&mut exp, &code, "协作费", &collaborator.name, &collaborator.uscc, 120_000.0, d(2025, 3, 5));
    c.plant(
        "M48-A3",
        "M48",
        "anomaly",
        "research_expenses, enterprises, research_projects",
        no,
        format!("协作费12万元支付给项目负责人{}任法定代表人的{}", pi_person.name, collaborator.name),
    );
    let student = c.person(1999, 2002);
    let no = expense(&mut exp, &code, "劳务费", &student.name, &student.id, 2_000.0, d(2025, 4, 10));
    c.plant("M48-L1", "M48", "lookalike", "research_expenses", no, "劳务费支付给在读研究生(非财政供养)");
    let expert = c.person(1962, 1970);
    let no = expense(&mut exp, &code, "专家咨询费", &expert.name, &expert.id, 2_400.0, d(2025, 4, 20));
    c.plant("M48-L2", "M48", "lookalike", "research_expenses", no, "专家咨询费支付给项目组外专家");
    c.csv("programmes/科研项目.csv", pr, &[], false);
    c.csv("programmes/项目组成员.csv", mem, &[], false);
    c.outputs.push(("programmes/科研经费支出.xlsx".into(), Output::Xlsx(vec![("经费支出".into(), vec![], exp)])));
}
