//! Reference registries of the demo county — public payroll, deaths, vehicles, enterprises with
//! shareholders and key persons, officials with their close relatives, kin filings — and the
//! planted crossings between pools that the cross-check models must find.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::people::{Firm, Person};
use super::write::{DateStyle, Table, Val};
use super::{County, Output, d};

/// A public-payroll record.
#[derive(Debug, Clone)]
pub struct Staff {
    pub p: Person,
    pub unit: usize,
    pub category: &'static str,
    pub staffing: &'static str,
    pub title: &'static str,
    pub wage: f64,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// A relief household.
#[derive(Debug, Clone)]
pub struct Household {
    pub id: String,
    pub village: usize,
    pub head: Person,
    pub members: Vec<(Person, &'static str)>,
    pub category: &'static str,
    pub cert: String,
    pub approved: NaiveDate,
    pub account: String,
    pub account_name: String,
    pub monthly: f64,
    /// last month paid (inclusive)
    pub paid_until: NaiveDate,
}

/// An enterprise with its owners.
#[derive(Debug, Clone)]
pub struct Company {
    pub firm: Firm,
    pub holders: Vec<(Person, f64)>,
    pub corporate_holders: Vec<(String, String, f64)>,
    pub key: Vec<(Person, &'static str)>,
    pub kind: &'static str,
}

/// An official (village cadre or unit leader).
#[derive(Debug, Clone)]
pub struct Official {
    pub p: Person,
    pub org: String,
    pub org_code: String,
    pub position: &'static str,
    pub level: &'static str,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    /// village index for village cadres, unit index for unit leaders
    pub place: usize,
}

/// The people pools and the planted crossings other domains use.
pub struct Pop {
    pub residents: Vec<Person>,
    pub staff: Vec<Staff>,
    pub households: Vec<Household>,
    pub deaths: Vec<(Person, NaiveDate, &'static str)>,
    pub companies: Vec<Company>,
    pub officials: Vec<Official>,
    pub relatives: Vec<(usize, Person, &'static str)>,
    pub filings: Vec<(Person, &'static str, NaiveDate)>,
    pub vehicles: Vec<(Person, String, &'static str, &'static str, NaiveDate, &'static str)>,
    /// residents whose 一卡通 subsidies are paid until this date (planted payments after death)
    pub subsidy_until: BTreeMap<String, NaiveDate>,
    /// companies (indexes) that form planted bidder relations: (a, b, shared person, how)
    pub related_bidders: Vec<(usize, usize, String, &'static str, bool)>,
    /// (company index, unit index, relative) suppliers linked to a unit cadre's relative
    pub linked_suppliers: Vec<(usize, usize, Option<Person>)>,
    /// companies available as ordinary suppliers
    pub suppliers: Vec<usize>,
    /// the village bookkeeper whose account collects other households' relief (M09)
    pub bookkeeper: usize,
}

const POSITIONS_VILLAGE: &[&str] = &["党支部书记", "村委会主任", "村委会委员", "报账员"];
const POSITIONS_UNIT: &[&str] = &["局长", "副局长", "办公室主任"];
const RELATIONS: &[&str] = &["配偶", "子女", "父母", "兄弟姐妹"];

pub fn build(c: &mut County) -> Pop {
    let mut pop = Pop {
        residents: Vec::new(),
        staff: Vec::new(),
        households: Vec::new(),
        deaths: Vec::new(),
        companies: Vec::new(),
        officials: Vec::new(),
        relatives: Vec::new(),
        filings: Vec::new(),
        vehicles: Vec::new(),
        subsidy_until: BTreeMap::new(),
        related_bidders: Vec::new(),
        linked_suppliers: Vec::new(),
        suppliers: Vec::new(),
        bookkeeper: 0,
    };
    // ---- general residents (subsidy recipients, vehicle owners) ----
    for _ in 0..c.n(2000) {
        let p = c.person(1940, 2000);
        pop.residents.push(p);
    }
    // ---- public payroll ----
    for i in 0..c.n(600) {
        let p = c.person(1962, 2000);
        let unit = i % c.units.len();
        let retired = c.dice.chance(0.08);
        let staffing = *c.dice.pick(&["行政编制", "事业编制", "事业编制", "工勤编制"]);
        let start = c.dice.date(d(1985, 1, 1), d(2023, 6, 30)).max(p.born + chrono::Days::new(365 * 20));
        pop.staff.push(Staff {
            p,
            unit,
            category: if retired { "离退休" } else { "在职" },
            staffing,
            title: *c.dice.pick(&["科员", "主任科员", "专业技术人员", "工勤人员", "副科长", "科长"]),
            wage: c.dice.range(4200, 9800) as f64,
            start,
            end: None,
        });
    }
    // ---- relief households ----
    for i in 0..c.n(300) {
        let village = c.dice.index(c.reg.villages.len());
        let born = c.dice.date(d(1938, 1, 1), d(1985, 12, 31));
        let head = c.reg.person_at(&mut c.dice, village, born);
        let mut members = Vec::new();
        for _ in 0..c.dice.range(0, 4) {
            let mb = c.dice.date(d(1950, 1, 1), d(2015, 12, 31));
            let m = c.reg.person_at(&mut c.dice, village, mb);
            members.push((m, *c.dice.pick(&["配偶", "子女", "子女", "孙子女", "父母"])));
        }
        let category = *c.dice.pick(&["农村低保", "农村低保", "农村低保", "城市低保", "特困供养"]);
        let size = members.len() + 1;
        pop.households.push(Household {
            id: format!("DB{}{}{:05}", c.reg.place.tag, &c.reg.villages[village].code[6..9], i + 1),
            village,
            account_name: head.name.clone(),
            head,
            members,
            category,
            cert: format!("皖低保{}{:06}", c.reg.place.tag, 100_000 + i),
            approved: c.dice.date(d(2016, 1, 1), d(2023, 12, 31)),
            account: c.reg.place.card(500_000 + i as u64),
            monthly: (size as f64) * c.dice.range(380, 520) as f64,
            paid_until: d(2025, 12, 1),
        });
    }
    // ---- enterprises (owners drawn from a business pool of their own) ----
    for _ in 0..c.n(420) {
        let rep = c.person(1960, 1995);
        let founded = c.dice.date(d(2005, 1, 1), d(2021, 12, 31));
        let firm = c.reg.firm(&mut c.dice, rep.clone(), founded);
        let mut holders = vec![(rep, c.dice.range(30, 80) as f64)];
        for _ in 0..c.dice.range(0, 3) {
            let h = c.person(1955, 1995);
            holders.push((h, c.dice.range(5, 40) as f64));
        }
        let mut key = vec![];
        let sup = c.person(1960, 1995);
        key.push((sup, "监事"));
        if c.dice.chance(0.5) {
            let m = c.person(1965, 1995);
            key.push((m, "经理"));
        }
        pop.companies.push(Company {
            firm,
            holders,
            corporate_holders: vec![],
            key,
            kind: "有限责任公司(自然人投资或控股)",
        });
    }
    pop.suppliers = (0..pop.companies.len()).collect();
    // ---- officials: four cadres per village, three leaders per unit ----
    for v in 0..c.reg.villages.len() {
        for pos in POSITIONS_VILLAGE {
            let p = c.person_in(v, d(1960, 1, 1), d(1990, 12, 31));
            let (org, code) = (c.reg.villages[v].name.clone(), c.reg.villages[v].code.clone());
            let town = &c.reg.towns[c.reg.villages[v].town].name;
            pop.officials.push(Official {
                p,
                org: format!("{town}{org}"),
                org_code: code,
                position: pos,
                level: "村级",
                start: d(2021, 1, 1),
                end: None,
                place: v,
            });
        }
    }
    for (u, unit) in c.units.clone().iter().enumerate() {
        for pos in POSITIONS_UNIT {
            let p = c.person(1965, 1985);
            pop.officials.push(Official {
                p,
                org: unit.name.clone(),
                org_code: unit.code.clone(),
                position: pos,
                level: "县直单位",
                start: d(2020, 6, 1),
                end: None,
                place: u,
            });
        }
    }
    for o in 0..pop.officials.len() {
        let n = c.dice.range(1, 4) as usize;
        for k in 0..n {
            let village = pop.officials[o].p.village;
            let r = c.person_in(village, d(1950, 1, 1), d(2003, 12, 31));
            pop.relatives.push((o, r, RELATIONS[k % RELATIONS.len()]));
        }
    }
    // ---- deaths: residents who die in 2024–2025 (their subsidies stop before death) ----
    for k in 0..c.n(120) {
        let i = (k * 13 + 5) % pop.residents.len();
        let p = pop.residents[i].clone();
        if pop.deaths.iter().any(|(q, _, _)| q.id == p.id) {
            continue;
        }
        let died = c.dice.date(d(2024, 2, 1), d(2025, 11, 30));
        let src = *c.dice.pick(&["公安户籍注销", "卫健死亡医学证明", "民政殡葬火化"]);
        pop.subsidy_until.insert(p.id.clone(), died - chrono::Days::new(40));
        pop.deaths.push((p, died, src));
    }
    // ---- vehicles: residents and business owners ----
    for i in 0..c.n(900) {
        let owner = if i % 3 == 0 {
            let co = &pop.companies[i % pop.companies.len()];
            co.firm.legal_rep.clone()
        } else {
            pop.residents[(i * 7) % pop.residents.len()].clone()
        };
        let series = ["A", "B", "C", "D", "F"][i % 5];
        // unique: the demo county's first ten thousand as they always were, then longer ones
        let plate = if c.reg.place.batch == 0 && i < 10_000 {
            format!("皖N{series}{:04}", i % 10_000)
        } else {
            format!("皖N{series}{}{i:05}", c.reg.place.tag)
        };
        let model = *c.dice.pick(&["大众朗逸", "丰田卡罗拉", "五菱宏光", "比亚迪秦", "本田雅阁", "长安CS75", "哈弗H6"]);
        let reg = c.dice.date(d(2010, 1, 1), d(2025, 6, 30));
        pop.vehicles.push((owner, plate, "小型普通客车", model, reg, "正常"));
    }
    plant_crossings(c, &mut pop);
    pop
}

/// Planted crossings between pools (see `planted.csv`).
fn plant_crossings(c: &mut County, pop: &mut Pop) {
    let active: Vec<usize> = (0..pop.staff.len())
        .filter(|&i| pop.staff[i].category == "在职" && pop.staff[i].staffing != "工勤编制")
        .collect();
    let hh_count = pop.households.len();
    // M01: payroll staff as members of relief households
    for (k, case) in ["M01-A1", "M01-A2", "M01-A3"].iter().enumerate() {
        let s = pop.staff[active[k]].clone();
        let h = (k * 17 + 3) % hh_count;
        pop.households[h].members.push((s.p.clone(), if k == 0 { "配偶" } else { "子女" }));
        c.plant(
            case,
            "M01",
            "anomaly",
            "payroll, relief_members, relief_payments",
            &s.p.id,
            format!(
                "{}({})在编在岗，同时是低保家庭{}成员并领取低保",
                s.p.name, c.units[s.unit].name, pop.households[h].id
            ),
        );
    }
    {
        let i = active[3];
        pop.staff[i].end = Some(d(2023, 6, 30));
        let s = pop.staff[i].clone();
        let h = 40 % hh_count;
        pop.households[h].members.push((s.p.clone(), "子女"));
        c.plant(
            "M01-L1",
            "M01",
            "lookalike",
            "payroll, relief_members",
            &s.p.id,
            format!("{}已于2023-06-30退出财政供养，2024年起才在低保家庭中", s.p.name),
        );
        let i = active[4];
        pop.staff[i].staffing = "公益性岗位";
        let s = pop.staff[i].clone();
        let h = 41 % hh_count;
        pop.households[h].members.push((s.p.clone(), "配偶"));
        c.plant(
            "M01-L2",
            "M01",
            "lookalike",
            "payroll, relief_members",
            &s.p.id,
            format!("{}为公益性岗位人员(非在编)，列入财政供养名单但不属于比对范围", s.p.name),
        );
    }
    // M02: subsidies paid after death (planted in 一卡通 payments via subsidy_until)
    let mut death_cases = Vec::new();
    for (k, case) in ["M02-A1", "M02-A2", "M02-A3", "M02-L1"].iter().enumerate() {
        let mut i = (k * 29 + 11) % pop.residents.len();
        while pop.deaths.iter().any(|(q, _, _)| q.id == pop.residents[i].id) {
            i = (i + 1) % pop.residents.len();
        }
        let p = pop.residents[i].clone();
        let died = [d(2024, 8, 10), d(2024, 11, 3), d(2025, 2, 17), d(2025, 3, 20)][k];
        let until = [d(2025, 6, 30), d(2025, 12, 31), d(2025, 9, 30), d(2025, 4, 5)][k];
        pop.deaths.push((p.clone(), died, "公安户籍注销"));
        pop.subsidy_until.insert(p.id.clone(), until);
        death_cases.push(p.id.clone());
        let (kind, note) = if k < 3 {
            ("anomaly", format!("{}于{died}死亡，一卡通补贴发放至{until}", p.name))
        } else {
            ("lookalike", format!("{}于{died}死亡，最后一笔补贴{until}在31天宽限期内(补发当月)", p.name))
        };
        c.plant(case, "M02", kind, "deaths, subsidy_payments", &p.id, note);
    }
    // M02 through relief: a one-person household whose head died but 低保 kept coming
    {
        let h = 55 % hh_count;
        pop.households[h].members.clear();
        let head = pop.households[h].head.clone();
        pop.deaths.push((head.clone(), d(2024, 10, 12), "民政殡葬火化"));
        c.plant(
            "M02-A4",
            "M02",
            "anomaly",
            "deaths, relief_payments",
            &head.id,
            format!("低保户主{}于2024-10-12火化，低保金继续发放至2025-12", head.name),
        );
        let h2 = 56 % hh_count;
        pop.households[h2].members.clear();
        let head2 = pop.households[h2].head.clone();
        pop.deaths.push((head2.clone(), d(2025, 5, 8), "卫健死亡医学证明"));
        pop.households[h2].paid_until = d(2025, 5, 1);
        c.plant(
            "M02-L2",
            "M02",
            "lookalike",
            "deaths, relief_payments",
            &head2.id,
            format!("低保户主{}于2025-05-08死亡，低保当月停发", head2.name),
        );
    }
    // M30: ghost payroll — a deceased staff member still on payroll
    {
        let i = active[5];
        let s = pop.staff[i].clone();
        pop.deaths.push((s.p.clone(), d(2024, 9, 14), "卫健死亡医学证明"));
        c.plant(
            "M30-A1",
            "M30",
            "anomaly",
            "payroll, deaths",
            &s.p.id,
            format!("{}于2024-09-14死亡，财政供养名单仍在职、无退出日期", s.p.name),
        );
        let i = active[6];
        pop.staff[i].end = Some(d(2025, 1, 31));
        let s = pop.staff[i].clone();
        pop.deaths.push((s.p.clone(), d(2025, 1, 20), "公安户籍注销"));
        c.plant(
            "M30-L1",
            "M30",
            "lookalike",
            "payroll, deaths",
            &s.p.id,
            format!("{}于2025-01-20死亡，当月退出财政供养", s.p.name),
        );
    }
    fn new_firm_rep(c: &mut County, from: i32, to: i32, founded: NaiveDate) -> Company {
        let rep = c.person(from, to);
        let f = c.reg.firm(&mut c.dice, rep.clone(), founded);
        Company {
            firm: f,
            holders: vec![(rep, 100.0)],
            corporate_holders: vec![],
            key: vec![],
            kind: "有限责任公司(自然人独资)",
        }
    }
    // M31: public servants running businesses
    let new_firm = |c: &mut County, rep: Person, founded: NaiveDate| {
        let f = c.reg.firm(&mut c.dice, rep.clone(), founded);
        Company {
            firm: f,
            holders: vec![(rep, 100.0)],
            corporate_holders: vec![],
            key: vec![],
            kind: "有限责任公司(自然人独资)",
        }
    };
    {
        let s = pop.staff[active[7]].clone();
        let co = new_firm(c, s.p.clone(), d(2022, 4, 6));
        c.plant(
            "M31-A1",
            "M31",
            "anomaly",
            "payroll, enterprises",
            &s.p.id,
            format!("在职人员{}任{}法定代表人(存续)", s.p.name, co.firm.name),
        );
        pop.companies.push(co);
        let s = pop.staff[active[8]].clone();
        let rep = c.person(1970, 1990);
        let mut co = new_firm(c, rep, d(2019, 8, 1));
        co.holders.push((s.p.clone(), 40.0));
        c.plant(
            "M31-A2",
            "M31",
            "anomaly",
            "payroll, shareholders",
            &s.p.id,
            format!("在职人员{}持有{}股份(存续)", s.p.name, co.firm.name),
        );
        pop.companies.push(co);
        let s = pop.staff[active[9]].clone();
        let rep = c.person(1970, 1990);
        let mut co = new_firm(c, rep, d(2020, 3, 15));
        co.key.push((s.p.clone(), "监事"));
        c.plant(
            "M31-A3",
            "M31",
            "anomaly",
            "payroll, key_persons",
            &s.p.id,
            format!("在职人员{}任{}监事(存续)", s.p.name, co.firm.name),
        );
        pop.companies.push(co);
        let s = pop.staff[active[10]].clone();
        let rep = c.person(1970, 1990);
        let mut co = new_firm(c, rep, d(2012, 5, 1));
        co.holders.push((s.p.clone(), 20.0));
        co.firm.status = "注销";
        co.firm.cancelled = Some(d(2021, 3, 1));
        c.plant(
            "M31-L1",
            "M31",
            "lookalike",
            "payroll, shareholders",
            &s.p.id,
            format!("{}曾持股的{}已于2021-03-01注销", s.p.name, co.firm.name),
        );
        pop.companies.push(co);
        let i = active[11];
        pop.staff[i].end = Some(d(2019, 12, 31));
        let s = pop.staff[i].clone();
        let co = new_firm(c, s.p.clone(), d(2021, 7, 1));
        c.plant(
            "M31-L2",
            "M31",
            "lookalike",
            "payroll, enterprises",
            &s.p.id,
            format!("{}于2019年底退出财政供养后，2021年设立{}", s.p.name, co.firm.name),
        );
        pop.companies.push(co);
    }
    // M05: relief members running businesses
    {
        let h = 60 % hh_count;
        let m = pop.households[h].head.clone();
        let co = new_firm(c, m.clone(), d(2020, 10, 9));
        c.plant(
            "M05-A1",
            "M05",
            "anomaly",
            "relief_households, enterprises",
            &m.id,
            format!("低保户主{}任{}法定代表人(存续)", m.name, co.firm.name),
        );
        pop.companies.push(co);
        let h = 61 % hh_count;
        let born = d(1975, 4, 2);
        let m = c.reg.person_at(&mut c.dice, pop.households[h].village, born);
        pop.households[h].members.push((m.clone(), "配偶"));
        let rep = c.person(1970, 1990);
        let mut co = new_firm(c, rep, d(2018, 2, 2));
        co.holders.push((m.clone(), 35.0));
        c.plant(
            "M05-A2",
            "M05",
            "anomaly",
            "relief_members, shareholders",
            &m.id,
            format!("低保家庭成员{}持有{}股份(存续)", m.name, co.firm.name),
        );
        pop.companies.push(co);
        let h = 62 % hh_count;
        let m = pop.households[h].head.clone();
        let mut co = new_firm(c, m.clone(), d(2010, 6, 1));
        co.firm.status = "注销";
        co.firm.cancelled = Some(d(2015, 9, 1));
        c.plant(
            "M05-L1",
            "M05",
            "lookalike",
            "relief_households, enterprises",
            &m.id,
            format!("低保户主{}名下{}已于2015年注销", m.name, co.firm.name),
        );
        pop.companies.push(co);
    }
    // M07: relatives of village officials on relief without a filing: in the official's own
    // village (high), in another village (a clue all the same: every cadre relative's application
    // must be filed), and one filed (not a clue)
    let village_officials: Vec<usize> =
        (0..pop.officials.len()).filter(|&o| pop.officials[o].level == "村级").collect();
    for (k, case) in ["M07-A1", "M07-A2", "M07-A3", "M07-L1", "M07-A4"].iter().enumerate() {
        let o = village_officials[k * 9 + 2];
        let v = pop.officials[o].place;
        let village = if k == 4 { (v + 7) % c.reg.villages.len() } else { v };
        let rel = c.person_in(village, d(1950, 1, 1), d(1975, 12, 31));
        let relation = RELATIONS[k % 3];
        pop.relatives.push((o, rel.clone(), relation));
        let idx = pop.households.len();
        pop.households.push(Household {
            id: format!("DB{}{}{:05}", c.reg.place.tag, &c.reg.villages[village].code[6..9], 90_000 + k),
            village,
            account_name: rel.name.clone(),
            head: rel.clone(),
            members: vec![],
            category: "农村低保",
            cert: format!("皖低保{}{:06}", c.reg.place.tag, 900_000 + k),
            approved: d(2022, 3, 1),
            account: c.reg.place.card(900_000 + k as u64),
            monthly: 520.0,
            paid_until: d(2025, 12, 1),
        });
        let off = &pop.officials[o];
        let (kind, note) = match k {
            0..=2 => (
                "anomaly",
                format!(
                    "{}{}{}的{}{}在本村享受低保(家庭{})，未备案",
                    off.org, off.position, off.p.name, relation, rel.name, pop.households[idx].id
                ),
            ),
            3 => {
                pop.filings.push((rel.clone(), "农村低保", d(2022, 2, 20)));
                ("lookalike", format!("{}的{}{}享受低保，已按规定备案", off.p.name, relation, rel.name))
            }
            _ => (
                "anomaly",
                format!("{}的{}{}在其他村享受低保(不在该干部任职村)，未备案", off.p.name, relation, rel.name),
            ),
        };
        c.plant(case, "M07", kind, "officials, official_relatives, relief_households, kin_filings", &rel.id, note);
    }
    // M03: relief household with a car
    {
        let h = 70 % hh_count;
        let m = pop.households[h].head.clone();
        pop.vehicles.push((m.clone(), "皖NZ8866".into(), "小型轿车", "宝马X3", d(2023, 5, 18), "正常"));
        c.plant(
            "M03-A1",
            "M03",
            "anomaly",
            "relief_households, vehicles",
            &m.id,
            format!("低保户主{}名下有2023年登记的宝马X3(正常)", m.name),
        );
        let h = 71 % hh_count;
        let m = pop.households[h].head.clone();
        pop.vehicles.push((
            m.clone(),
            "皖NZ1234".into(),
            "残疾人专用小型自动挡载客汽车",
            "奥拓",
            d(2019, 3, 2),
            "正常",
        ));
        c.plant(
            "M03-L1",
            "M03",
            "lookalike",
            "relief_households, vehicles",
            &m.id,
            format!("低保户主{}名下为残疾人专用车", m.name),
        );
        let h = 72 % hh_count;
        let m = pop.households[h].head.clone();
        pop.vehicles.push((m.clone(), "皖NZ0001".into(), "小型普通客车", "捷达", d(2008, 3, 2), "注销"));
        c.plant(
            "M03-L2",
            "M03",
            "lookalike",
            "relief_households, vehicles",
            &m.id,
            format!("低保户主{}名下车辆已报废注销", m.name),
        );
    }
    // M09: a village bookkeeper's account collects four households' relief
    {
        let o = village_officials.iter().copied().find(|&o| pop.officials[o].position == "报账员").expect("bookkeeper");
        pop.bookkeeper = o;
        let v = pop.officials[o].place;
        let account = c.reg.place.card(777_777);
        let name = pop.officials[o].p.name.clone();
        for k in 0..4 {
            let head = c.person_in(v, d(1940, 1, 1), d(1970, 12, 31));
            pop.households.push(Household {
                id: format!("DB{}{}{:05}", c.reg.place.tag, &c.reg.villages[v].code[6..9], 95_000 + k),
                village: v,
                account_name: name.clone(),
                head,
                members: vec![],
                category: "农村低保",
                cert: format!("皖低保{}{:06}", c.reg.place.tag, 950_000 + k),
                approved: d(2021, 5, 1),
                account: account.clone(),
                monthly: 480.0,
                paid_until: d(2025, 12, 1),
            });
        }
        c.plant(
            "M09-A1",
            "M09",
            "anomaly",
            "relief_payments, officials",
            &account,
            format!("村报账员{}的银行账户代领4户低保金", name),
        );
        let h = 80 % hh_count;
        if pop.households[h].members.is_empty() {
            let m = c.reg.person_at(&mut c.dice, pop.households[h].village, d(1960, 8, 8));
            pop.households[h].members.push((m, "配偶"));
        }
        let spouse = pop.households[h].members[0].0.clone();
        pop.households[h].account_name = spouse.name.clone();
        pop.households[h].account = c.reg.place.card(888_888);
        c.plant(
            "M09-L1",
            "M09",
            "lookalike",
            "relief_payments, relief_members",
            &pop.households[h].account,
            format!("户主账户户名为家庭成员{}(配偶)，属同户代领", spouse.name),
        );
    }
    // M34: related bidders (companies that procurement puts into the same lots)
    {
        let shared = c.person(1968, 1980);
        let rep_b = shared.clone();
        let a = new_firm_rep(c, 1970, 1985, d(2012, 3, 3));
        let mut a = a;
        a.holders.push((shared.clone(), 30.0));
        let b = new_firm(c, rep_b, d(2014, 6, 6));
        let ia = pop.companies.len();
        pop.companies.push(a);
        pop.companies.push(b);
        pop.related_bidders.push((ia, ia + 1, shared.id.clone(), "股东/法定代表人为同一人", true));
        let q = c.person(1970, 1985);
        let mut e = new_firm_rep(c, 1970, 1985, d(2013, 1, 9));
        e.key.push((q.clone(), "监事"));
        let mut f = new_firm_rep(c, 1970, 1985, d(2016, 2, 9));
        f.key.push((q.clone(), "经理"));
        let ie = pop.companies.len();
        pop.companies.push(e);
        pop.companies.push(f);
        pop.related_bidders.push((ie, ie + 1, q.id.clone(), "主要人员为同一人", true));
        let r = c.person(1970, 1985);
        let mut g = new_firm_rep(c, 1970, 1985, d(2011, 1, 9));
        g.holders.push((r.clone(), 10.0));
        let mut h = new_firm_rep(c, 1970, 1985, d(2015, 2, 9));
        h.holders.push((r.clone(), 15.0));
        let ig = pop.companies.len();
        pop.companies.push(g);
        pop.companies.push(h);
        pop.related_bidders.push((ig, ig + 1, r.id.clone(), "股东为同一人，但从未投同一标段", false));
    }
    // M39: suppliers linked to a unit leader's relative
    {
        let leaders: Vec<usize> = (0..pop.officials.len())
            .filter(|&o| pop.officials[o].level == "县直单位" && pop.officials[o].position == "局长")
            .collect();
        for (k, &o) in leaders.iter().take(2).enumerate() {
            let unit = pop.officials[o].place;
            let rel = c.person(1980, 1995);
            pop.relatives.push((o, rel.clone(), "子女"));
            let co = if k == 0 {
                new_firm(c, rel.clone(), d(2019, 9, 9))
            } else {
                let mut co = new_firm_rep(c, 1970, 1985, d(2017, 9, 9));
                co.holders.push((rel.clone(), 60.0));
                co
            };
            let i = pop.companies.len();
            pop.companies.push(co);
            pop.linked_suppliers.push((i, unit, Some(rel)));
        }
        // a supplier whose shareholder shares only a NAME with a leader's relative
        let o = leaders[2];
        let unit = pop.officials[o].place;
        let rel = c.person(1980, 1995);
        pop.relatives.push((o, rel.clone(), "子女"));
        let mut namesake = c.person(1980, 1995);
        namesake.name = rel.name.clone();
        let mut co = new_firm_rep(c, 1970, 1985, d(2016, 4, 4));
        co.holders.push((namesake, 50.0));
        let i = pop.companies.len();
        pop.companies.push(co);
        pop.linked_suppliers.push((i, unit, None));
    }
}

/// Writes the registry exports.
pub fn write(c: &mut County, pop: &Pop) {
    // 财政供养人员 — GBK CSV from the finance bureau's payroll system
    let mut t = Table::new(&[
        "身份证号",
        "姓名",
        "单位名称",
        "单位编码",
        "人员类别",
        "编制类型",
        "职务",
        "月工资(元)",
        "进入日期",
        "退出日期",
    ])
    .style("进入日期", DateStyle::Slash)
    .style("退出日期", DateStyle::Slash);
    for s in &pop.staff {
        let u = &c.units[s.unit];
        t.push(vec![
            s.p.id.clone().into(),
            s.p.name.clone().into(),
            u.name.clone().into(),
            u.code.clone().into(),
            s.category.into(),
            s.staffing.into(),
            s.title.into(),
            Val::Num(s.wage, 2),
            s.start.into(),
            s.end.into(),
        ]);
    }
    c.csv("registry/财政供养人员.csv", t, &[], true);
    // 死亡人口 — Parquet from the data-sharing platform
    let mut t = Table::new(&["身份证号", "姓名", "死亡日期", "注销日期", "数据来源"]);
    for (p, died, src) in &pop.deaths {
        let cancel = *died + chrono::Days::new(20);
        t.push(vec![p.id.clone().into(), p.name.clone().into(), (*died).into(), cancel.into(), (*src).into()]);
    }
    c.outputs.push(("registry/死亡人口.parquet".into(), Output::Parquet(t)));
    // 机动车登记 — GBK CSV
    let mut t =
        Table::new(&["所有人证件号码", "所有人", "号牌号码", "车辆类型", "品牌型号", "初次登记日期", "机动车状态"])
            .style("初次登记日期", DateStyle::Compact);
    for (p, plate, kind, model, reg, status) in &pop.vehicles {
        t.push(vec![
            p.id.clone().into(),
            p.name.clone().into(),
            plate.clone().into(),
            (*kind).into(),
            (*model).into(),
            (*reg).into(),
            (*status).into(),
        ]);
    }
    c.csv("registry/机动车登记.csv", t, &[], true);
    // 市场主体 / 股东 / 主要人员 — Parquet bulk share from market regulation
    let mut e = Table::new(&[
        "统一社会信用代码",
        "企业名称",
        "企业类型",
        "法定代表人",
        "法定代表人证件号",
        "成立日期",
        "注册资本(万元)",
        "登记状态",
        "注销日期",
        "住所",
        "联系电话",
    ]);
    let mut h = Table::new(&["统一社会信用代码", "股东名称", "股东证件号", "股东类型", "认缴出资额(万元)"]);
    let mut k = Table::new(&["统一社会信用代码", "姓名", "证件号", "职务"]);
    for co in &pop.companies {
        let f = &co.firm;
        e.push(vec![
            f.uscc.clone().into(),
            f.name.clone().into(),
            co.kind.into(),
            f.legal_rep.name.clone().into(),
            f.legal_rep.id.clone().into(),
            f.founded.into(),
            Val::Num(f.capital, 2),
            f.status.into(),
            f.cancelled.into(),
            f.address.clone().into(),
            f.phone.clone().into(),
        ]);
        for (p, amt) in &co.holders {
            h.push(vec![
                f.uscc.clone().into(),
                p.name.clone().into(),
                p.id.clone().into(),
                "自然人股东".into(),
                Val::Num(*amt, 2),
            ]);
        }
        for (code, name, amt) in &co.corporate_holders {
            h.push(vec![
                f.uscc.clone().into(),
                name.clone().into(),
                code.clone().into(),
                "企业法人".into(),
                Val::Num(*amt, 2),
            ]);
        }
        for (p, title) in &co.key {
            k.push(vec![f.uscc.clone().into(), p.name.clone().into(), p.id.clone().into(), (*title).into()]);
        }
    }
    c.outputs.push(("registry/市场主体.parquet".into(), Output::Parquet(e)));
    c.outputs.push(("registry/股东出资.parquet".into(), Output::Parquet(h)));
    c.outputs.push(("registry/主要人员.parquet".into(), Output::Parquet(k)));
    // 干部及近亲属 — one workbook, two sheets, from the organisation department
    let mut o = Table::new(&["身份证号", "姓名", "单位或村", "单位或村代码", "职务", "层级", "任职开始", "任职结束"]);
    for off in &pop.officials {
        o.push(vec![
            off.p.id.clone().into(),
            off.p.name.clone().into(),
            off.org.clone().into(),
            off.org_code.clone().into(),
            off.position.into(),
            off.level.into(),
            off.start.into(),
            off.end.into(),
        ]);
    }
    let mut r = Table::new(&["干部身份证号", "干部姓名", "亲属姓名", "亲属身份证号", "关系"]);
    for (oi, p, rel) in &pop.relatives {
        let off = &pop.officials[*oi];
        r.push(vec![
            off.p.id.clone().into(),
            off.p.name.clone().into(),
            p.name.clone().into(),
            p.id.clone().into(),
            (*rel).into(),
        ]);
    }
    c.outputs.push((
        "registry/干部及近亲属.xlsx".into(),
        Output::Xlsx(vec![
            ("干部".into(), vec!["清河县村(社区)干部及县直单位领导干部信息".into()], o),
            ("近亲属".into(), vec![], r),
        ]),
    ));
    // 近亲属享受救助备案 — UTF-8 CSV
    let mut f =
        Table::new(&["身份证号", "姓名", "备案项目", "备案日期", "备案单位"]).style("备案日期", DateStyle::Chinese);
    for (p, item, date) in &pop.filings {
        f.push(vec![p.id.clone().into(), p.name.clone().into(), (*item).into(), (*date).into(), "县民政局".into()]);
    }
    c.csv("registry/近亲属享受救助备案.csv", f, &[], false);
    write_units(c, pop);
}

/// 被巡察单位名录 — the directory of inspected units from the county's inspection office:
/// departments, townships and villages with parents, region codes and head counts.
fn write_units(c: &mut County, pop: &Pop) {
    let mut t = Table::new(&[
        "单位编码",
        "单位名称",
        "单位类型",
        "上级单位编码",
        "行政区划代码",
        "统一社会信用代码",
        "人数",
        "主要负责人",
        "负责人职务",
    ]);
    for (u, unit) in c.units.clone().iter().enumerate() {
        let staff = pop.staff.iter().filter(|s| s.unit == u).count();
        t.push(vec![
            unit.code.clone().into(),
            unit.name.clone().into(),
            "部门/单位".into(),
            "".into(),
            super::people::COUNTY.into(),
            unit.uscc.clone().into(),
            Val::Int(staff as i64),
            "".into(),
            "".into(),
        ]);
    }
    let residents = |v: usize| pop.residents.iter().filter(|p| p.village == v).count();
    let towns = c.reg.towns.clone();
    for (ti, town) in towns.iter().enumerate() {
        let secretary = c.person(1968, 1982);
        let people: usize = (0..c.reg.villages.len()).filter(|&v| c.reg.villages[v].town == ti).map(residents).sum();
        t.push(vec![
            format!("{}000", town.code).into(),
            town.name.clone().into(),
            "乡镇(街道)".into(),
            "".into(),
            format!("{}000", town.code).into(),
            "".into(),
            Val::Int(people as i64),
            secretary.name.into(),
            "党委书记".into(),
        ]);
    }
    for (v, village) in c.reg.villages.iter().enumerate() {
        let town = &c.reg.towns[village.town];
        t.push(vec![
            village.code.clone().into(),
            village.name.clone().into(),
            "村(社区)".into(),
            format!("{}000", town.code).into(),
            village.code.clone().into(),
            "".into(),
            Val::Int(residents(v) as i64),
            "".into(),
            "".into(),
        ]);
    }
    c.csv("registry/被巡察单位名录.csv", t, &["清河县被巡察单位名录"], true);
}
