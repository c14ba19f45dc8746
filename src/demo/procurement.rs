//! Procurement exports: lots (NDJSON from the trading platform), bids with electronic
//! fingerprints (NDJSON), the contract ledger (GBK CSV) and the supplier library (CSV).
//!
//! Background rules keep the clean data clean: every supplier bids in at most four lots and
//! wins at most once per buyer; non-open purchases per (buyer, project, item, year) stay far
//! below the open-tender threshold; contracts are signed before performance starts.

use chrono::{Datelike, NaiveDate};

use super::registry::Pop;
use super::write::{DateStyle, Table, Val};
use super::{County, Output, d};

const ITEMS: &[&str] = &[
    "办公设备",
    "计算机设备",
    "印刷服务",
    "物业管理服务",
    "绿化养护",
    "道路维修工程",
    "教学设备",
    "医疗设备",
    "车辆维修",
    "软件开发服务",
    "监理服务",
    "会议服务",
];

struct Lot {
    project: String,
    lot: String,
    name: String,
    buyer: usize,
    method: &'static str,
    item: &'static str,
    budget: f64,
    open: NaiveDate,
    bidders: Vec<(usize, f64)>,
    winner: usize,
}

pub fn build(c: &mut County, pop: &Pop) {
    let units = c.units.clone();
    let mut lots: Vec<Lot> = Vec::new();
    let mut bids_used = vec![0u32; pop.companies.len()];
    let special: std::collections::BTreeSet<usize> = pop
        .related_bidders
        .iter()
        .flat_map(|(a, b, ..)| [*a, *b])
        .chain(pop.linked_suppliers.iter().map(|(i, ..)| *i))
        .collect();
    let all: Vec<usize> = pop
        .suppliers
        .iter()
        .copied()
        .filter(|i| !special.contains(i) && pop.companies[*i].firm.status == "存续")
        .collect();
    // planted lots draw from a reserve the background never touches
    let (pool, reserve) = all.split_at(all.len() - 80);
    let (pool, reserve) = (pool.to_vec(), reserve.to_vec());
    let mut won_by_buyer: std::collections::BTreeSet<(usize, usize)> = Default::default();
    let mut cursor = 0usize;
    let mut next_free = |bids_used: &mut Vec<u32>, exclude: &[usize]| -> usize {
        loop {
            let i = pool[cursor % pool.len()];
            cursor += 1;
            if bids_used[i] < 4 && !exclude.contains(&i) {
                bids_used[i] += 1;
                return i;
            }
        }
    };
    for k in 0..c.n(110) {
        let buyer = k % units.len();
        let item = ITEMS[(k * 5 + buyer) % ITEMS.len()];
        let big = k % 9 == 0;
        let budget =
            if big { c.dice.range(220, 900) as f64 * 10_000.0 } else { c.dice.range(10, 150) as f64 * 10_000.0 };
        let open = c.dice.date(d(2024, 2, 1), d(2025, 11, 30));
        let n = c.dice.range(3, 6) as usize;
        let mut bidders = Vec::new();
        for _ in 0..n {
            let ex: Vec<usize> = bidders.iter().map(|(b, _)| *b).collect();
            let f = next_free(&mut bids_used, &ex);
            bidders.push((f, (budget * c.dice.float(0.82, 0.99)).round()));
        }
        // the lowest bid wins unless that supplier already won with this buyer
        let mut order: Vec<usize> = (0..bidders.len()).collect();
        order.sort_by(|a, b| bidders[*a].1.total_cmp(&bidders[*b].1));
        let winner = order
            .iter()
            .map(|&i| bidders[i].0)
            .find(|w| !won_by_buyer.contains(&(buyer, *w)))
            .unwrap_or(bidders[order[0]].0);
        won_by_buyer.insert((buyer, winner));
        lots.push(Lot {
            project: format!("{}CG{}-{:04}", c.reg.place.stem, open.year(), k + 1),
            lot: format!("{}CG{}-{:04}-01", c.reg.place.stem, open.year(), k + 1),
            name: format!("{}{}采购项目", units[buyer].name, item),
            buyer,
            method: if big { "公开招标" } else { *c.dice.pick(&["竞争性磋商", "询价", "竞争性谈判"]) },
            item,
            budget,
            open,
            bidders,
            winner,
        });
    }
    let mut reserve_at = 0usize;
    let mut fresh = |_c: &mut County, _pop: &Pop, _bids_used: &mut Vec<u32>, _cursor: &mut usize| -> usize {
        reserve_at += 1;
        *reserve.get(reserve_at - 1).expect("the planted-lot reserve holds enough suppliers")
    };
    let planted_lot = |c: &mut County,
                       lots: &mut Vec<Lot>,
                       buyer: usize,
                       item: &'static str,
                       bidders: Vec<usize>,
                       winner: usize,
                       open: NaiveDate,
                       budget: f64|
     -> String {
        let k = 9000 + lots.len();
        let prices: Vec<(usize, f64)> =
            bidders.iter().enumerate().map(|(j, b)| (*b, (budget * (0.90 + 0.02 * j as f64)).round())).collect();
        let lot = format!("{}CG{}-{k:04}-01", c.reg.place.stem, open.year());
        lots.push(Lot {
            project: format!("{}CG{}-{k:04}", c.reg.place.stem, open.year()),
            lot: lot.clone(),
            name: format!("{}{}采购项目", units[buyer].name, item),
            buyer,
            method: if budget >= 2_000_000.0 { "公开招标" } else { "竞争性磋商" },
            item,
            budget,
            open,
            bidders: prices,
            winner,
        });
        let _ = c;
        lot
    };
    // M34: related bidders in the same lot; the unrelated pair never meets
    for (n, (a, b, person, how, same_lot)) in pop.related_bidders.clone().into_iter().enumerate() {
        let other = fresh(c, pop, &mut bids_used, &mut cursor);
        if same_lot {
            let lot = planted_lot(
                c,
                &mut lots,
                4 + n,
                "道路维修工程",
                vec![a, b, other],
                other,
                d(2025, 4 + n as u32, 8),
                1_500_000.0,
            );
            let names = format!("{}、{}", pop.companies[a].firm.name, pop.companies[b].firm.name);
            c.plant(
                &format!("M34-A{}", n + 1),
                "M34",
                "anomaly",
                "bids, enterprises, shareholders, key_persons",
                format!("{lot}|{person}"),
                format!("{names}同投{lot}，{how}"),
            );
        } else {
            let o2 = fresh(c, pop, &mut bids_used, &mut cursor);
            let l1 = planted_lot(c, &mut lots, 6, "绿化养护", vec![a, other], other, d(2025, 6, 10), 800_000.0);
            let l2 = planted_lot(c, &mut lots, 7, "绿化养护", vec![b, o2], o2, d(2025, 7, 10), 800_000.0);
            c.plant(
                "M34-L1",
                "M34",
                "lookalike",
                "bids, shareholders",
                person,
                format!(
                    "{}与{}股东相同，但分别投{l1}和{l2}，从未同投一个标段",
                    pop.companies[a].firm.name, pop.companies[b].firm.name
                ),
            );
        }
    }
    // M35: the same upload IP and MAC for two bidders of one lot
    let (x, y, z) = (
        fresh(c, pop, &mut bids_used, &mut cursor),
        fresh(c, pop, &mut bids_used, &mut cursor),
        fresh(c, pop, &mut bids_used, &mut cursor),
    );
    let lot35 = planted_lot(c, &mut lots, 9, "教学设备", vec![x, y, z], z, d(2025, 8, 20), 1_200_000.0);
    let pair = |a: usize, b: usize| {
        let mut v = [pop.companies[a].firm.uscc.clone(), pop.companies[b].firm.uscc.clone()];
        v.sort();
        v.join(",")
    };
    c.plant(
        "M35-A1",
        "M35",
        "anomaly",
        "bids",
        format!("{lot35}|{}", pair(x, y)),
        format!("{}与{}在{lot35}的投标文件从同一IP和网卡上传", pop.companies[x].firm.name, pop.companies[y].firm.name),
    );
    let mut shared_ip: Vec<(String, usize, &str, &str)> = vec![
        (lot35.clone(), x, "10.8.1.77", "3C-52-82-1A-7F-09"),
        (lot35.clone(), y, "10.8.1.77", "3C-52-82-1A-7F-09"),
    ];
    let (p1, p2, o1, o2) = (
        fresh(c, pop, &mut bids_used, &mut cursor),
        fresh(c, pop, &mut bids_used, &mut cursor),
        fresh(c, pop, &mut bids_used, &mut cursor),
        fresh(c, pop, &mut bids_used, &mut cursor),
    );
    let la = planted_lot(c, &mut lots, 11, "会议服务", vec![p1, o1], o1, d(2025, 9, 3), 300_000.0);
    let lb = planted_lot(c, &mut lots, 12, "会议服务", vec![p2, o2], o2, d(2025, 10, 3), 300_000.0);
    shared_ip.push((la.clone(), p1, "10.8.2.55", "3C-52-82-1A-80-11"));
    shared_ip.push((lb.clone(), p2, "10.8.2.55", "3C-52-82-1A-80-12"));
    c.plant(
        "M35-L1",
        "M35",
        "lookalike",
        "bids",
        pair(p1, p2),
        format!(
            "{}与{}使用同一IP，但分别投{la}和{lb}，不在同一标段",
            pop.companies[p1].firm.name, pop.companies[p2].firm.name
        ),
    );
    // M37: one supplier wins all six transport lots (标王); six housing lots spread over three
    let king = fresh(c, pop, &mut bids_used, &mut cursor);
    for k in 0..6 {
        let o1 = fresh(c, pop, &mut bids_used, &mut cursor);
        let o2 = fresh(c, pop, &mut bids_used, &mut cursor);
        planted_lot(c, &mut lots, 5, "道路维修工程", vec![king, o1, o2], king, d(2024, 3 + k as u32, 12), 1_800_000.0);
    }
    c.plant(
        "M37-A1",
        "M37",
        "anomaly",
        "procurement_lots, bids",
        format!("{}|{}", units[5].name, pop.companies[king].firm.uscc),
        format!("{}包揽{}全部6个道路维修标段", pop.companies[king].firm.name, units[5].name),
    );
    let spread: Vec<usize> = (0..3).map(|_| fresh(c, pop, &mut bids_used, &mut cursor)).collect();
    for k in 0..6 {
        let o1 = fresh(c, pop, &mut bids_used, &mut cursor);
        planted_lot(
            c,
            &mut lots,
            6,
            "物业管理服务",
            vec![spread[k % 3], o1],
            spread[k % 3],
            d(2025, 1 + k as u32, 15),
            900_000.0,
        );
    }
    c.plant(
        "M37-L1",
        "M37",
        "lookalike",
        "procurement_lots, bids",
        units[6].name.clone(),
        format!("{}的6个标段由3家供应商各中2个，无一家超过60%", units[6].name),
    );
    // M37: a professional loser bids ten times and never wins; a look-alike wins three of ten
    let loser = fresh(c, pop, &mut bids_used, &mut cursor);
    let winner3 = fresh(c, pop, &mut bids_used, &mut cursor);
    for k in 0..10 {
        let o1 = fresh(c, pop, &mut bids_used, &mut cursor);
        let w = if k < 3 { winner3 } else { o1 };
        planted_lot(
            c,
            &mut lots,
            10 + k % 5,
            "计算机设备",
            vec![loser, winner3, o1],
            w,
            d(2024, 1 + k as u32, 22),
            600_000.0,
        );
    }
    c.plant(
        "M37-A2",
        "M37",
        "anomaly",
        "bids",
        pop.companies[loser].firm.uscc.clone(),
        format!("{}投标10次，中标0次(陪标专业户)", pop.companies[loser].firm.name),
    );
    c.plant(
        "M37-L2",
        "M37",
        "lookalike",
        "bids",
        pop.companies[winner3].firm.uscc.clone(),
        format!("{}投标10次，中标3次", pop.companies[winner3].firm.name),
    );

    // bids and lots
    let mut lt = Table::new(&[
        "项目编号",
        "标段编号",
        "项目名称",
        "采购人",
        "采购人统一社会信用代码",
        "代理机构",
        "采购方式",
        "采购品目",
        "预算金额",
        "最高限价",
        "开标时间",
        "中标人统一社会信用代码",
        "中标人",
        "中标金额",
    ]);
    let mut bt = Table::new(&[
        "标段编号",
        "投标人",
        "投标人统一社会信用代码",
        "投标报价",
        "投标时间",
        "上传IP",
        "网卡MAC",
        "硬盘序列号",
        "保证金转出账号",
        "项目经理身份证号",
        "是否中标",
    ]);
    for l in &lots {
        let win_price = l.bidders.iter().find(|(b, _)| *b == l.winner).map(|(_, p)| *p).unwrap_or(l.budget);
        let w = &pop.companies[l.winner].firm;
        lt.push(vec![
            l.project.clone().into(),
            l.lot.clone().into(),
            l.name.clone().into(),
            units[l.buyer].name.clone().into(),
            units[l.buyer].uscc.clone().into(),
            "安徽清源招标代理有限公司".into(),
            l.method.into(),
            l.item.into(),
            Val::Num(l.budget, 2),
            Val::Num(l.budget, 2),
            format!("{} 09:30:00", l.open.format("%Y-%m-%d")).into(),
            w.uscc.clone().into(),
            w.name.clone().into(),
            Val::Num(win_price, 2),
        ]);
        for (j, (b, price)) in l.bidders.iter().enumerate() {
            let f = &pop.companies[*b].firm;
            // an office keeps its IP and network card across lots
            let (ip, mac) = match shared_ip.iter().find(|(lot, f, ..)| *lot == l.lot && f == b) {
                Some((_, _, ip, mac)) => (ip.to_string(), mac.to_string()),
                None => (
                    format!("{}.{}.{}.{}", 36 + c.reg.place.batch % 180, 100 + b % 100, b / 100 % 250, 10 + b % 7),
                    format!(
                        "00-1B-{:02X}-{:02X}-{:02X}-{:02X}",
                        b % 256,
                        b / 256 % 256,
                        b % 7,
                        (0x42 + c.reg.place.batch) % 256
                    ),
                ),
            };
            let pm = &pop.companies[*b]
                .key
                .first()
                .map(|k| k.0.id.clone())
                .unwrap_or_else(|| pop.companies[*b].firm.legal_rep.id.clone());
            bt.push(vec![
                l.lot.clone().into(),
                f.name.clone().into(),
                f.uscc.clone().into(),
                Val::Num(*price, 2),
                format!("{} {:02}:{:02}:00", (l.open - chrono::Days::new(1)).format("%Y-%m-%d"), 9 + j, 10 + j * 7)
                    .into(),
                ip.into(),
                mac.into(),
                format!("WD-WCC{}{:08}", c.reg.place.tag, b * 13 + 1).into(),
                c.reg.place.card(3_000_000 + *b as u64).into(),
                pm.clone().into(),
                (if *b == l.winner { "是" } else { "否" }).into(),
            ]);
        }
    }
    c.outputs.push(("procurement/交易项目标段.ndjson".into(), Output::Ndjson(lt)));
    c.outputs.push(("procurement/投标记录.ndjson".into(), Output::Ndjson(bt)));

    // contract ledger: one contract per lot plus small direct purchases
    let mut ct = Table::new(&[
        "合同编号",
        "合同名称",
        "采购单位",
        "承办部门",
        "预算项目",
        "采购品目",
        "供应商名称",
        "供应商统一社会信用代码",
        "合同金额(元)",
        "签订日期",
        "履行开始日期",
        "首次付款日期",
        "采购方式",
        "经办人",
    ])
    .style("签订日期", DateStyle::Chinese)
    .style("履行开始日期", DateStyle::Chinese)
    .style("首次付款日期", DateStyle::Chinese);
    let mut cno = 0;
    let stem = c.reg.place.stem.clone();
    let mut contract = |ct: &mut Table,
                        buyer: usize,
                        project: &str,
                        item: &str,
                        firm: &super::people::Firm,
                        amount: f64,
                        sign: NaiveDate,
                        start: NaiveDate,
                        method: &str|
     -> String {
        cno += 1;
        let no = format!("{stem}HT{}{:05}", sign.year(), cno);
        ct.push(vec![
            no.clone().into(),
            format!("{item}采购合同").into(),
            units[buyer].name.clone().into(),
            (*["办公室", "财务科", "后勤服务中心", "业务科"].get(cno % 4).unwrap_or(&"办公室")).into(),
            project.into(),
            item.into(),
            firm.name.clone().into(),
            firm.uscc.clone().into(),
            Val::Num(amount, 2),
            sign.into(),
            start.into(),
            (start + chrono::Days::new(30)).into(),
            method.into(),
            format!("经办人{}", cno % 17).into(),
        ]);
        no
    };
    for l in &lots {
        let price = l.bidders.iter().find(|(b, _)| *b == l.winner).map(|(_, p)| *p).unwrap_or(l.budget);
        let sign = l.open + chrono::Days::new(12);
        contract(
            &mut ct,
            l.buyer,
            &format!("{}采购", l.item),
            l.item,
            &pop.companies[l.winner].firm,
            price,
            sign,
            sign + chrono::Days::new(5),
            l.method,
        );
    }
    for k in 0..c.n(250) {
        let buyer = k % units.len();
        let item = ITEMS[k % ITEMS.len()];
        let firm = pop.companies[pool[(k * 13) % pool.len()]].firm.clone();
        let sign = c.dice.date(d(2024, 1, 10), d(2025, 11, 30));
        // a distinct budget project per small purchase keeps every group far below the threshold
        contract(
            &mut ct,
            buyer,
            &format!("{item}零星采购{k}"),
            item,
            &firm,
            c.dice.range(5_000, 300_000) as f64,
            sign,
            sign + chrono::Days::new(c.dice.range(0, 20) as u64),
            "小额直接采购",
        );
    }
    // M32: splitting to stay under the 200万 open-tender threshold
    let split_firms: Vec<usize> = (0..4).map(|k| pool[(k * 31 + 5) % pool.len()]).collect();
    for (k, amount) in [480_000.0, 550_000.0, 520_000.0, 610_000.0].iter().enumerate() {
        let sign = d(2025, 3 + 2 * k as u32, 6);
        contract(
            &mut ct,
            0,
            "校园安全设施采购",
            "视频监控设备",
            &pop.companies[split_firms[k]].firm.clone(),
            *amount,
            sign,
            sign + chrono::Days::new(3),
            "询价",
        );
    }
    c.plant(
        "M32-A1",
        "M32",
        "anomaly",
        "contracts",
        format!("{}|校园安全设施采购|视频监控设备|2025", units[0].name),
        "同一预算项目同一品目2025年分4次询价采购，单笔均低于200万元、合计216万元",
    );
    for k in 0..3 {
        let sign = d(2025, 4 + k as u32, 9);
        contract(
            &mut ct,
            1,
            "办公设备更新",
            "台式计算机",
            &pop.companies[split_firms[k]].firm.clone(),
            500_000.0,
            sign,
            sign + chrono::Days::new(3),
            "询价",
        );
    }
    c.plant(
        "M32-L1",
        "M32",
        "lookalike",
        "contracts",
        format!("{}|办公设备更新|台式计算机|2025", units[1].name),
        "同项目同品目3次询价合计150万元，未达公开招标数额标准",
    );
    contract(
        &mut ct,
        7,
        "防汛物资储备",
        "防汛物资",
        &pop.companies[split_firms[0]].firm.clone(),
        1_200_000.0,
        d(2024, 6, 1),
        d(2024, 6, 3),
        "竞争性谈判",
    );
    contract(
        &mut ct,
        7,
        "防汛物资储备",
        "防汛物资",
        &pop.companies[split_firms[1]].firm.clone(),
        1_300_000.0,
        d(2025, 6, 1),
        d(2025, 6, 3),
        "竞争性谈判",
    );
    c.plant(
        "M32-L2",
        "M32",
        "lookalike",
        "contracts",
        format!("{}|防汛物资储备|防汛物资", units[7].name),
        "两笔分属2024、2025两个预算年度，不构成同一年度拆分",
    );
    // M39: contracts with suppliers linked to the buyer's leader's relative
    for (n, (ci, unit, rel)) in pop.linked_suppliers.clone().into_iter().enumerate() {
        let firm = pop.companies[ci].firm.clone();
        let no = contract(
            &mut ct,
            unit,
            "日常运转经费",
            "印刷服务",
            &firm,
            86_000.0 + 1000.0 * n as f64,
            d(2025, 5, 5 + n as u32),
            d(2025, 5, 10 + n as u32),
            "小额直接采购",
        );
        match rel {
            Some(r) => c.plant(
                &format!("M39-A{}", n + 1),
                "M39",
                "anomaly",
                "contracts, official_relatives, enterprises, shareholders",
                format!("{no}|{}", r.id),
                format!(
                    "{}的供应商{}由该单位局长之子女{}{}",
                    units[unit].name,
                    firm.name,
                    r.name,
                    if n == 0 { "任法定代表人" } else { "持股" }
                ),
            ),
            None => c.plant(
                "M39-L1",
                "M39",
                "lookalike",
                "contracts, official_relatives, shareholders",
                no,
                format!("{}的股东与局长亲属同名但身份证号不同", firm.name),
            ),
        }
    }
    // M40: a contract signed after performance began; a look-alike signed the same day
    let f40 = pop.companies[pool[3]].firm.clone();
    let no =
        contract(&mut ct, 12, "设备维保", "医疗设备", &f40, 180_000.0, d(2025, 4, 20), d(2025, 3, 1), "竞争性磋商");
    c.plant("M40-A1", "M40", "anomaly", "contracts", no, "合同2025-04-20签订，履行自2025-03-01开始(倒签)");
    let no = contract(&mut ct, 12, "设备维保", "医疗设备", &f40, 120_000.0, d(2025, 7, 1), d(2025, 7, 1), "竞争性磋商");
    c.plant("M40-L1", "M40", "lookalike", "contracts", no, "签订当日开始履行");
    c.csv("procurement/合同台账.csv", ct, &[], true);

    // supplier library
    let mut st =
        Table::new(&["统一社会信用代码", "供应商名称", "入库日期", "参保人数", "上年纳税额(元)", "联系电话", "地址"]);
    for (i, co) in pop.companies.iter().enumerate() {
        let f = &co.firm;
        st.push(vec![
            f.uscc.clone().into(),
            f.name.clone().into(),
            (f.founded + chrono::Days::new(200)).max(d(2015, 1, 1)).into(),
            Val::Int(5 + (i as i64 * 7) % 180),
            Val::Num(20_000.0 + (i as f64 * 1_373.0) % 900_000.0, 2),
            f.phone.clone().into(),
            f.address.clone().into(),
        ]);
    }
    c.csv("procurement/供应商库.csv", st, &[], false);

    // the trading platform's open data (OCDS): the county's units buying from its suppliers,
    // with what the Open Contracting red flags look for at its usual rates
    let parties = super::ocds::Parties {
        buyers: units.iter().map(|u| (u.uscc.clone(), u.name.clone())).collect(),
        tenderers: pop
            .suppliers
            .iter()
            .map(|&i| (pop.companies[i].firm.uscc.clone(), pop.companies[i].firm.name.clone()))
            .collect(),
        currency: "CNY",
        // one publisher per county (each batch of a large county is a county of its own)
        prefix: format!("ocds-{}jy-{}", c.reg.place.stem.to_lowercase(), c.reg.place.code),
    };
    let processes = OCDS_PROCESSES * u64::from(c.scale);
    let mut bytes = Vec::new();
    let seed = c.dice.range(0, i64::MAX) as u64;
    super::ocds::write_with(processes, seed, &parties, &mut bytes).expect("written to memory");
    c.outputs.push((OCDS_FILE.into(), Output::Lines { bytes, rows: processes }));
}

/// The trading platform's OCDS publication in layout A.
pub const OCDS_FILE: &str = "procurement/公共资源交易公开数据.jsonl";

/// Contracting processes it publishes per scale.
const OCDS_PROCESSES: u64 = 60;
