//! The same county in a second layout: how another county's departments would hand it over.
//!
//! Layout B is made from layout A's tables row for row, so both describe exactly the same
//! people, payments and planted cases; only the shape changes, in the ways real exports
//! differ: fewer and combined exports (the 低保 payment roster carries each household; the
//! officials' roster carries relatives and whether each was filed; the bid-opening record
//! repeats the lot on every bid; the land-grant ledger carries the actual start date), other
//! header words and value words (在编在岗 / 离退, 公开 / 磋商, 存续(在营、开业、在册), GA status
//! letters), other units (bids in 万元, parcels in 平方米, budgets in 元), optional columns left
//! out (upload IP, disk serial, bid time, first payment date, invoice date, data source), other
//! key shapes (lot numbers without their prefix, household numbers with a dash, voucher
//! numbers as 记字第…号) and two death registers instead of one.

use chrono::NaiveDate;

use super::write::{DateStyle, Table, Val};
use super::{Output, Planted};

/// Layout A's outputs by file.
struct Src<'a>(&'a [(String, Output)]);

impl<'a> Src<'a> {
    fn output(&self, file: &str) -> &'a Output {
        &self.0.iter().find(|(f, _)| f == file).unwrap_or_else(|| panic!("layout A has no {file}")).1
    }

    fn table(&self, file: &str) -> &'a Table {
        match self.output(file) {
            Output::Csv { table, .. } | Output::Ndjson(table) | Output::Parquet(table) => table,
            Output::Xlsx(_) | Output::Raw { .. } | Output::Lines { .. } => {
                panic!("{file} is a workbook or a written file")
            }
        }
    }

    fn sheets(&self, file: &str) -> &'a [(String, Vec<String>, Table)] {
        match self.output(file) {
            Output::Xlsx(s) => s,
            _ => panic!("{file} is not a workbook"),
        }
    }

    fn sheet(&self, file: &str, name: &str) -> &'a Table {
        &self.sheets(file).iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("{file} has no sheet {name}")).2
    }
}

/// One row of a layout-A table, read by header.
#[derive(Clone, Copy)]
struct Row<'a> {
    t: &'a Table,
    r: &'a [Val],
}

impl<'a> Row<'a> {
    fn v(&self, h: &str) -> Val {
        let i = self.t.headers.iter().position(|x| x == h).unwrap_or_else(|| panic!("no header {h}"));
        self.r[i].clone()
    }

    fn s(&self, h: &str) -> String {
        match self.v(h) {
            Val::Str(s) | Val::Digits(s) => s,
            Val::Int(i) => i.to_string(),
            Val::Num(x, d) => format!("{x:.d$}"),
            Val::Date(d) => d.to_string(),
            Val::Empty => String::new(),
        }
    }

    fn num(&self, h: &str) -> Option<f64> {
        match self.v(h) {
            Val::Num(x, _) => Some(x),
            Val::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    fn date(&self, h: &str) -> Option<NaiveDate> {
        match self.v(h) {
            Val::Date(d) => Some(d),
            _ => None,
        }
    }
}

fn rows(t: &Table) -> impl Iterator<Item = Row<'_>> {
    t.rows.iter().map(move |r| Row { t, r })
}

/// A number in another unit (×factor), with `decimals` places; text (a defective value)
/// stays as it is.
fn scaled(v: Val, factor: f64, decimals: usize) -> Val {
    let round = |x: f64| {
        let p = 10f64.powi(decimals as i32);
        (x * factor * p).round() / p
    };
    match v {
        Val::Num(x, _) => Val::Num(round(x), decimals),
        Val::Int(i) => Val::Num(round(i as f64), decimals),
        other => other,
    }
}

/// A value word of layout A in layout B's words.
fn word(v: Val, map: &[(&str, &str)]) -> Val {
    match v {
        Val::Str(s) => Val::Str(map.iter().find(|(a, _)| *a == s).map(|(_, b)| b.to_string()).unwrap_or(s)),
        other => other,
    }
}

/// Lot numbers without the platform prefix: `QHCG2025-9114-01` → `2025-9114-01`.
pub fn lot(s: &str) -> String {
    s.strip_prefix("QHCG").unwrap_or(s).to_string()
}

/// Household numbers with a dash: `DB10400004` → `104-00004`.
fn household(s: &str) -> String {
    match s.strip_prefix("DB") {
        Some(rest) if rest.len() == 8 => format!("{}-{}", &rest[..3], &rest[3..]),
        _ => s.to_string(),
    }
}

/// Voucher numbers as the bookkeeping software prints them: `记-00961` → `记字第00961号`.
pub fn voucher(s: &str) -> String {
    match s.strip_prefix("记-") {
        Some(n) => format!("记字第{n}号"),
        None => s.to_string(),
    }
}

/// IDs as another clerk typed them: a lower-case check letter, every so often full-width digits.
fn typed_id(id: &str, k: usize) -> Val {
    if id.is_empty() {
        return Val::Empty;
    }
    let id = id.replace('X', "x");
    if k % 17 == 5 {
        return Val::Str(
            id.chars()
                .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 + 0xFEE0).unwrap_or(c) } else { c })
                .collect(),
        );
    }
    Val::Str(id)
}

/// A planted case's entity in layout B's key shapes.
pub fn entity(e: &str) -> String {
    e.split('|')
        .map(|p| {
            if p.starts_with("QHCG") {
                lot(p)
            } else if p.starts_with("记-") {
                voucher(p)
            } else if p.starts_with("DB") && p.len() == 10 && p[2..].bytes().all(|b| b.is_ascii_digit()) {
                household(p)
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The planted cases, entities in layout B's shapes.
pub(super) fn planted(cases: &[Planted]) -> Vec<Planted> {
    cases.iter().map(|p| Planted { entity: entity(&p.entity), ..p.clone() }).collect()
}

fn csv(file: &str, table: Table, titles: &[&str], gbk: bool) -> (String, Output) {
    (file.into(), Output::Csv { table, titles: titles.iter().map(|s| s.to_string()).collect(), gbk })
}

/// Layout B's files, from layout A's outputs.
pub(super) fn reshape(outputs: &[(String, Output)]) -> Vec<(String, Output)> {
    let a = Src(outputs);
    let mut out = Vec::new();
    relief(&a, &mut out);
    registry(&a, &mut out);
    units(&a, &mut out);
    procurement(&a, &mut out);
    land(&a, &mut out);
    finance(&a, &mut out);
    programmes(&a, &mut out);
    out
}

fn relief(a: &Src, out: &mut Vec<(String, Output)>) {
    // one payment roster per township, each row carrying its household
    let households = a.sheet("relief/低保家庭.xlsx", "低保家庭");
    let by_id: std::collections::HashMap<String, Row> = rows(households).map(|h| (h.s("家庭编号"), h)).collect();
    let headers = [
        "序号",
        "户编号",
        "户主",
        "户主公民身份号码",
        "保障类型",
        "保障人数",
        "批准时间",
        "保障状态",
        "发放年月",
        "发放时间",
        "发放金额",
        "分类施保金",
        "开户银行",
        "银行卡号",
        "持卡人",
        "区划代码",
    ];
    let mut book = Vec::new();
    for (town, _, sheet) in a.sheets("relief/低保发放明细.xlsx") {
        let mut t = Table::new(&headers);
        let mut total = 0.0;
        for (k, p) in rows(sheet).filter(|p| p.s("家庭编号") != "合计").enumerate() {
            let h = by_id[&p.s("家庭编号")];
            let month = p.s("发放月份");
            total += p.num("低保金(元)").unwrap_or(0.0);
            t.push(vec![
                Val::Int(k as i64 + 1),
                household(&p.s("家庭编号")).into(),
                p.v("户主姓名"),
                // this county's clerks keep IDs as text, some with a lower-case check letter
                typed_id(&h.s("户主身份证号"), k + 1),
                word(h.v("保障类别"), &[("城市低保", "城市"), ("农村低保", "农村"), ("特困供养", "特困")]),
                h.v("保障人口数"),
                h.v("审批日期"),
                word(h.v("状态"), &[("正常", "在保")]),
                format!("{}年{}月", &month[..4], &month[4..]).into(),
                p.v("发放日期"),
                p.v("低保金(元)"),
                p.v("其他补贴(元)"),
                "清河县农村商业银行".into(),
                p.v("银行账号"),
                p.v("账户户名"),
                p.v("行政区划代码"),
            ]);
        }
        let mut totals = vec![Val::Empty; headers.len()];
        totals[0] = "合计".into();
        totals[10] = Val::Num(total, 2);
        t.push(totals);
        book.push((town.clone(), vec![format!("清河县{town}城乡低保资金发放花名册"), "单位：元".to_string()], t));
    }
    out.push(("exports/民政/低保金发放花名册.xlsx".into(), Output::Xlsx(book)));

    let members = a.sheet("relief/低保家庭.xlsx", "家庭成员");
    let mut m = Table::new(&["户编号", "姓名", "公民身份号码", "与户主关系"]);
    for (k, r) in rows(members).enumerate() {
        m.push(vec![
            household(&r.s("家庭编号")).into(),
            r.v("成员姓名"),
            typed_id(&r.s("成员身份证号"), k),
            word(
                r.v("与户主关系"),
                &[("本人", "户主"), ("配偶", "妻"), ("子女", "子"), ("父母", "父亲"), ("孙子女", "孙子")],
            ),
        ]);
    }
    out.push(csv_bom("exports/民政/低保家庭成员.csv", m));

    let subsidies = a.table("relief/惠民惠农一卡通发放.csv");
    let mut s = Table::new(&["补贴项目名称", "证件号码", "姓名", "补贴金额", "发放日期", "账号", "户名", "所在村"]);
    for r in rows(subsidies) {
        s.push(vec![
            word(
                r.v("补贴项目"),
                &[
                    ("高龄津贴", "高龄老人津贴"),
                    ("耕地地力保护补贴", "耕地地力补贴"),
                    ("残疾人生活补贴", "困难残疾人生活补贴"),
                    ("残疾人护理补贴", "重度残疾人护理补贴"),
                ],
            ),
            r.v("身份证号"),
            r.v("姓名"),
            r.v("发放金额(元)"),
            r.v("发放日期"),
            r.v("社保卡账号"),
            r.v("账户户名"),
            r.v("村组"),
        ]);
    }
    out.push(("exports/民政/惠民惠农补贴发放明细.xlsx".into(), Output::Xlsx(vec![("发放明细".into(), vec![], s)])));
}

/// UTF-8 CSV with a byte-order mark, as Excel's 另存为 "CSV UTF-8" writes it.
fn csv_bom(file: &str, mut table: Table) -> (String, Output) {
    if let Some(h) = table.headers.first_mut() {
        *h = format!("\u{FEFF}{h}");
    }
    csv(file, table, &[], false)
}

fn registry(a: &Src, out: &mut Vec<(String, Output)>) {
    let payroll = a.table("registry/财政供养人员.csv");
    let mut p = Table::new(&[
        "公民身份号码",
        "姓名",
        "工作单位",
        "单位代码",
        "人员状态",
        "编制性质",
        "职务",
        "应发工资",
        "入职日期",
        "离职日期",
    ])
    .style("入职日期", DateStyle::Chinese)
    .style("离职日期", DateStyle::Chinese);
    for (k, r) in rows(payroll).enumerate() {
        p.push(vec![
            typed_id(&r.s("身份证号"), k),
            r.v("姓名"),
            r.v("单位名称"),
            r.v("单位编码"),
            // 离退 is this county's own word: its connector maps it
            word(r.v("人员类别"), &[("在职", "在编在岗"), ("离退休", "离退")]),
            word(
                r.v("编制类型"),
                &[("行政编制", "行政"), ("事业编制", "事业"), ("工勤编制", "工勤"), ("公益性岗位", "公益岗")],
            ),
            r.v("职务"),
            r.v("月工资(元)"),
            r.v("进入日期"),
            r.v("退出日期"),
        ]);
    }
    out.push(csv("exports/财政/财政供养人员花名册.csv", p, &["清河县财政供养人员花名册"], true));

    // two death registers: the police household register (公安, 卫健 certificates filed with it)
    // and the funeral homes' cremations (民政)
    let deaths = a.table("registry/死亡人口.parquet");
    let mut police = Table::new(&["身份证号码", "姓名", "死亡日期", "注销户口日期"]);
    let mut cremated = Table::new(&["逝者身份证号", "逝者姓名", "火化日期", "殡仪馆"]);
    for r in rows(deaths) {
        if r.s("数据来源") == "民政殡葬火化" {
            cremated.push(vec![r.v("身份证号"), r.v("姓名"), r.v("死亡日期"), "清河县殡仪馆".into()]);
        } else {
            police.push(vec![r.v("身份证号"), r.v("姓名"), r.v("死亡日期"), r.v("注销日期")]);
        }
    }
    out.push(csv("exports/公安/死亡人员信息.csv", police, &[], false));
    out.push(("exports/民政/火化信息.xlsx".into(), Output::Xlsx(vec![("火化登记".into(), vec![], cremated)])));

    let vehicles = a.table("registry/机动车登记.csv");
    let mut v =
        Table::new(&["身份证明号码", "机动车所有人", "号牌号码", "车辆类型", "中文品牌", "初次登记日期", "状态"]);
    for r in rows(vehicles) {
        v.push(vec![
            r.v("所有人证件号码"),
            r.v("所有人"),
            r.v("号牌号码"),
            r.v("车辆类型"),
            r.v("品牌型号"),
            r.v("初次登记日期"),
            // GA 24 status letters
            word(r.v("机动车状态"), &[("正常", "A"), ("注销", "E")]),
        ]);
    }
    out.push(("exports/公安/机动车信息.xlsx".into(), Output::Xlsx(vec![("机动车".into(), vec![], v)])));

    // one workbook from market supervision: firms, shareholders, key persons
    let firms = a.table("registry/市场主体.parquet");
    let mut e = Table::new(&[
        "统一社会信用代码",
        "名称",
        "类型",
        "法定代表人姓名",
        "法定代表人身份证号",
        "成立日期",
        "注册资本(万元)",
        "经营状态",
        "注吊销日期",
        "住所",
    ]);
    for r in rows(firms) {
        e.push(vec![
            r.v("统一社会信用代码"),
            r.v("企业名称"),
            r.v("企业类型"),
            r.v("法定代表人"),
            r.v("法定代表人证件号"),
            r.v("成立日期"),
            r.v("注册资本(万元)"),
            word(r.v("登记状态"), &[("存续", "存续(在营、开业、在册)"), ("注销", "注销")]),
            r.v("注销日期"),
            r.v("住所"),
        ]);
    }
    let holders = a.table("registry/股东出资.parquet");
    let mut h = Table::new(&["统一社会信用代码", "投资人", "证件号码", "投资人类型", "认缴出资额(万元)"]);
    for r in rows(holders) {
        h.push(vec![
            r.v("统一社会信用代码"),
            r.v("股东名称"),
            r.v("股东证件号"),
            word(r.v("股东类型"), &[("自然人股东", "自然人")]),
            r.v("认缴出资额(万元)"),
        ]);
    }
    let key = a.table("registry/主要人员.parquet");
    let mut k = Table::new(&["统一社会信用代码", "人员姓名", "身份证号码", "职位"]);
    for r in rows(key) {
        k.push(vec![r.v("统一社会信用代码"), r.v("姓名"), r.v("证件号"), r.v("职务")]);
    }
    out.push((
        "exports/市场监管/市场主体登记信息.xlsx".into(),
        Output::Xlsx(vec![("基本信息".into(), vec![], e), ("股东".into(), vec![], h), ("主要人员".into(), vec![], k)]),
    ));

    // the officials' roster: a row per official and relative, with whether the relative's
    // assistance was filed
    let officials = a.sheet("registry/干部及近亲属.xlsx", "干部");
    let relatives = a.sheet("registry/干部及近亲属.xlsx", "近亲属");
    let filings = a.table("registry/近亲属享受救助备案.csv");
    let mut roster = Table::new(&[
        "干部类别",
        "所在村(社区)或单位",
        "单位代码",
        "干部姓名",
        "干部身份证号",
        "现任职务",
        "任职时间",
        "离任时间",
        "亲属姓名",
        "亲属身份证号",
        "称谓",
        "是否备案",
        "备案项目",
        "备案时间",
    ]);
    let mut kin: std::collections::HashMap<String, Vec<Row>> = std::collections::HashMap::new();
    for r in rows(relatives) {
        kin.entry(r.s("干部身份证号")).or_default().push(r);
    }
    let filed_by_id: std::collections::HashMap<String, Row> = rows(filings).map(|f| (f.s("身份证号"), f)).collect();
    for o in rows(officials) {
        let id = o.s("身份证号");
        let head = |roster: &mut Table, rel: [Val; 6]| {
            let mut row = vec![
                word(o.v("层级"), &[("村级", "村干部"), ("县直单位", "部门领导")]),
                o.v("单位或村"),
                o.v("单位或村代码"),
                o.v("姓名"),
                o.v("身份证号"),
                o.v("职务"),
                o.v("任职开始"),
                o.v("任职结束"),
            ];
            row.extend(rel);
            roster.push(row);
        };
        let mut any = false;
        for r in kin.get(&id).into_iter().flatten() {
            any = true;
            let filed = filed_by_id.get(&r.s("亲属身份证号"));
            head(
                &mut roster,
                [
                    r.v("亲属姓名"),
                    r.v("亲属身份证号"),
                    word(r.v("关系"), &[("配偶", "配偶"), ("子女", "子女"), ("父母", "父母")]),
                    if filed.is_some() { "已备案" } else { "未备案" }.into(),
                    filed.map(|f| f.v("备案项目")).unwrap_or(Val::Empty),
                    filed.map(|f| f.v("备案日期")).unwrap_or(Val::Empty),
                ],
            );
        }
        if !any {
            head(&mut roster, [Val::Empty, Val::Empty, Val::Empty, Val::Empty, Val::Empty, Val::Empty]);
        }
    }
    out.push((
        "exports/组织部/干部及近亲属信息表.xlsx".into(),
        Output::Xlsx(vec![("干部及近亲属".into(), vec!["清河县干部及近亲属信息表".into()], roster)]),
    ));
}

/// The trading platform's open data in layout B: one OCDS release package document.
pub(super) const OCDS_PACKAGE: &str = "exports/公共资源交易中心/ocds_release_package.json";

fn procurement(a: &Src, out: &mut Vec<(String, Output)>) {
    // the platform's open data as one release package document over many lines
    if let Output::Lines { bytes, rows } = a.output(super::procurement::OCDS_FILE) {
        let releases: Vec<&str> = std::str::from_utf8(bytes).expect("generated UTF-8").lines().collect();
        let doc = format!(
            "{{\n  \"uri\": \"https://ggzy.example.gov.cn/ocds/release-package.json\",\n  \"version\": \"1.1\",\n  \"publishedDate\": \"2025-12-31T18:00:00+08:00\",\n  \"releases\": [\n    {}\n  ]\n}}\n",
            releases.join(",\n    ")
        );
        out.push((OCDS_PACKAGE.into(), Output::Raw { bytes: doc.into_bytes(), rows: *rows }));
    }
    // the bid-opening record: one row per bid, the lot repeated on each
    let lots = a.table("procurement/交易项目标段.ndjson");
    let bids = a.table("procurement/投标记录.ndjson");
    let lot_of: std::collections::HashMap<String, Row> = rows(lots).map(|l| (l.s("标段编号"), l)).collect();
    let mut t = Table::new(&[
        "项目编号",
        "标段(包)编号",
        "项目名称",
        "招标人",
        "招标代理机构",
        "采购方式",
        "采购品目",
        "预算金额(万元)",
        "开标时间",
        "投标单位",
        "统一社会信用代码",
        "投标报价(万元)",
        "MAC地址",
        "投标文件机器码",
        "保证金账号",
        "项目经理身份证号",
        "中标结果",
        "中标单位",
        "中标单位统一社会信用代码",
        "中标价(万元)",
    ]);
    for b in rows(bids) {
        let l = lot_of[&b.s("标段编号")];
        let mac = b.s("网卡MAC");
        t.push(vec![
            lot(&l.s("项目编号")).into(),
            lot(&b.s("标段编号")).into(),
            l.v("项目名称"),
            l.v("采购人"),
            l.v("代理机构"),
            word(
                l.v("采购方式"),
                &[
                    ("公开招标", "公开"),
                    ("竞争性磋商", "磋商"),
                    ("竞争性谈判", "谈判"),
                    ("询价", "询价采购"),
                    ("单一来源", "单一来源采购"),
                ],
            ),
            l.v("采购品目"),
            scaled(l.v("预算金额"), 1e-4, 6),
            l.v("开标时间"),
            b.v("投标人"),
            b.v("投标人统一社会信用代码"),
            scaled(b.v("投标报价"), 1e-4, 6),
            // this platform writes MACs in lower case with colons
            if mac.is_empty() { Val::Empty } else { mac.to_lowercase().replace('-', ":").into() },
            // and the authoring tool's machine code, read off the same machine as the disk serial
            match b.s("硬盘序列号") {
                s if s.is_empty() => Val::Empty,
                s => format!("MC-{}", blake3::hash(s.as_bytes()).to_hex()[..10].to_uppercase()).into(),
            },
            b.v("保证金转出账号"),
            b.v("项目经理身份证号"),
            match b.v("是否中标") {
                Val::Str(s) if s == "是" => "中标".into(),
                Val::Str(s) if s == "否" => "未中标".into(),
                other => other,
            },
            l.v("中标人"),
            l.v("中标人统一社会信用代码"),
            scaled(l.v("中标金额"), 1e-4, 6),
        ]);
    }
    out.push(("exports/交易中心/开标评标记录.xlsx".into(), Output::Xlsx(vec![("开标记录".into(), vec![], t)])));

    let contracts = a.table("procurement/合同台账.csv");
    let mut c = Table::new(&[
        "合同编号",
        "合同名称",
        "采购人",
        "使用部门",
        "资金来源项目",
        "品目名称",
        "乙方",
        "乙方统一社会信用代码",
        "合同价款",
        "签订时间",
        "开工日期",
        "采购形式",
        "经办人",
    ]);
    for r in rows(contracts) {
        c.push(vec![
            r.v("合同编号"),
            r.v("合同名称"),
            r.v("采购单位"),
            r.v("承办部门"),
            r.v("预算项目"),
            r.v("采购品目"),
            r.v("供应商名称"),
            r.v("供应商统一社会信用代码"),
            r.v("合同金额(元)"),
            r.v("签订日期"),
            r.v("履行开始日期"),
            word(
                r.v("采购方式"),
                &[
                    ("公开招标", "公开"),
                    ("竞争性磋商", "磋商"),
                    ("竞争性谈判", "谈判"),
                    ("询价", "询价采购"),
                    ("小额直接采购", "网上商城"),
                ],
            ),
            r.v("经办人"),
        ]);
    }
    out.push(csv("exports/财政/合同备案台账.csv", c, &[], true));

    let suppliers = a.table("procurement/供应商库.csv");
    let mut s = Table::new(&["信用代码", "企业名称", "入库时间", "社保缴纳人数", "上年度纳税额"]);
    for r in rows(suppliers) {
        s.push(vec![
            r.v("统一社会信用代码"),
            r.v("供应商名称"),
            r.v("入库日期"),
            r.v("参保人数"),
            r.v("上年纳税额(元)"),
        ]);
    }
    out.push(csv("exports/交易中心/供应商库.csv", s, &[], false));
}

fn land(a: &Src, out: &mut Vec<(String, Output)>) {
    // the grant ledger carries the actual start of construction
    let grants = a.sheet("land/土地出让合同.xlsx", "出让合同");
    let permits = a.table("land/施工许可.csv");
    let mut begun: std::collections::HashMap<String, NaiveDate> = std::collections::HashMap::new();
    for p in rows(permits) {
        if let Some(d) = p.date("实际开工日期").or_else(|| p.date("发证日期")) {
            let e = begun.entry(p.s("宗地编号")).or_insert(d);
            *e = (*e).min(d);
        }
    }
    let started = |parcel: &str| begun.get(parcel).copied();
    let mut g = Table::new(&[
        "合同编号",
        "电子监管号",
        "宗地编号",
        "竞得人",
        "受让人证件号",
        "供地方式",
        "规划用途",
        "出让面积(亩)",
        "容积率",
        "成交价款(万元)",
        "签订日期",
        "约定付清日期",
        "约定动工日期",
        "约定竣工日期",
        "实际开工日期",
        "区划代码",
    ]);
    for r in rows(grants) {
        g.push(vec![
            r.v("合同编号"),
            r.v("电子监管号"),
            r.v("宗地编号"),
            r.v("受让人"),
            r.v("受让人证件号码"),
            word(
                r.v("出让方式"),
                &[("挂牌", "挂牌出让"), ("招标", "招标出让"), ("拍卖", "拍卖出让"), ("协议", "协议出让")],
            ),
            r.v("土地用途"),
            scaled(r.v("面积(公顷)"), 15.0, 4),
            r.v("容积率"),
            r.v("成交价(万元)"),
            r.v("签订日期"),
            r.v("约定缴清日期"),
            r.v("约定开工日期"),
            r.v("约定竣工日期"),
            started(&r.s("宗地编号")).into(),
            r.v("行政区划"),
        ]);
    }
    out.push((
        "exports/自然资源/国有建设用地出让合同台账.xlsx".into(),
        Output::Xlsx(vec![("出让合同".into(), vec![], g)]),
    ));

    let instalments = a.sheet("land/土地出让合同.xlsx", "分期缴款");
    let mut i = Table::new(&["出让合同编号", "第几期", "应缴日期", "本期金额(元)"]);
    for r in rows(instalments) {
        i.push(vec![r.v("合同编号"), r.v("期次"), r.v("约定缴款日期"), scaled(r.v("约定缴款金额(万元)"), 1e4, 2)]);
    }
    out.push(csv("exports/自然资源/分期缴款计划.csv", i, &[], false));

    let payments = a.table("land/土地出让金缴款.csv");
    let mut p = Table::new(&["票据号", "出让合同编号", "缴款单位", "入库日期", "实缴金额", "收入项目"]);
    for r in rows(payments) {
        p.push(vec![
            r.v("缴款书编号"),
            r.v("合同编号"),
            r.v("缴款人"),
            r.v("缴款日期"),
            r.v("缴款金额(元)"),
            word(r.v("款项类型"), &[("出让价款", "土地出让价款"), ("违约金", "违约金及滞纳金")]),
        ]);
    }
    out.push(csv("exports/财政/土地出让收入缴款明细.csv", p, &[], true));

    // satellite parcels and approvals in one workbook, areas in square metres
    let parcels = a.table("land/卫片图斑.csv");
    let sqm = 10_000.0 / 15.0;
    let mut s = Table::new(&[
        "图斑号",
        "区划代码",
        "批次",
        "监测时间",
        "图斑类型",
        "监测面积(平方米)",
        "占用耕地面积(平方米)",
        "其中永久基本农田(平方米)",
        "举证批文号",
        "实际用途",
    ]);
    for r in rows(parcels) {
        s.push(vec![
            r.v("图斑编号"),
            r.v("行政区划代码"),
            r.v("监测批次"),
            r.v("监测日期"),
            word(r.v("变化类型"), &[("新增建设", "新增建设用地"), ("推土", "推填土"), ("硬化", "地面硬化")]),
            scaled(r.v("图斑面积(亩)"), sqm, 2),
            scaled(r.v("耕地面积(亩)"), sqm, 2),
            scaled(r.v("永久基本农田面积(亩)"), sqm, 2),
            r.v("批准文号"),
            r.v("现状用途"),
        ]);
    }
    let approvals = a.table("land/用地审批.csv");
    let mut ap = Table::new(&["批复文号", "批文类型", "批复日期", "批复面积(亩)", "区划代码", "用地项目"]);
    for r in rows(approvals) {
        ap.push(vec![
            r.v("批准文号"),
            word(
                r.v("审批类型"),
                &[
                    ("农用地转用", "农转用"),
                    ("土地征收", "征收"),
                    ("设施农用地备案", "设施农用地"),
                    ("临时用地", "临时用地审批"),
                ],
            ),
            r.v("批准日期"),
            r.v("批准面积(亩)"),
            r.v("行政区划代码"),
            r.v("项目名称"),
        ]);
    }
    out.push((
        "exports/自然资源/卫片图斑与用地审批.xlsx".into(),
        Output::Xlsx(vec![("图斑".into(), vec![], s), ("用地审批".into(), vec![], ap)]),
    ));
}

fn finance(a: &Src, out: &mut Vec<(String, Output)>) {
    let pay = a.table("finance/国库集中支付明细.csv");
    let mut t = Table::new(&[
        "支付令号",
        "年度",
        "一级单位编码",
        "主管部门",
        "预算单位",
        "项目代码",
        "项目",
        "支出功能分类",
        "经济分类编码",
        "经济分类名称",
        "付款日期",
        "收款单位",
        "收款账号",
        "收款银行",
        "资金用途",
        "支付金额",
        "支付类型",
    ])
    .style("付款日期", DateStyle::Compact);
    for r in rows(pay) {
        t.push(vec![
            r.v("支付凭证号"),
            r.v("预算年度"),
            r.v("部门编码"),
            r.v("部门名称"),
            r.v("基层单位名称"),
            r.v("项目编码"),
            r.v("项目名称"),
            r.v("功能科目"),
            r.v("经济科目编码"),
            r.v("经济科目名称"),
            r.v("支付日期"),
            r.v("收款人名称"),
            r.v("收款人账号"),
            r.v("收款人开户行"),
            r.v("用途"),
            r.v("金额(元)"),
            word(r.v("支付方式"), &[("直接支付", "财政直接支付"), ("授权支付", "财政授权支付")]),
        ]);
    }
    out.push(csv("exports/财政/国库集中支付数据.csv", t, &[], false));

    let budget = a.sheet("finance/预算指标.xlsx", "预算指标");
    let mut b = Table::new(&["指标年度", "预算单位", "项目代码", "项目", "经济分类", "批复金额(元)"]);
    for r in rows(budget) {
        b.push(vec![
            r.v("预算年度"),
            r.v("单位名称"),
            r.v("项目编码"),
            r.v("项目名称"),
            r.v("经济科目"),
            scaled(r.v("指标金额(万元)"), 1e4, 2),
        ]);
    }
    out.push(csv("exports/财政/部门预算指标.csv", b, &[], true));

    let vouchers = a.table("finance/会计凭证.csv");
    let mut v = Table::new(&[
        "核算单位",
        "会计期间",
        "制单日期",
        "凭证字号",
        "分录号",
        "科目代码",
        "科目名称",
        "摘要",
        "借方",
        "贷方",
    ]);
    for r in rows(vouchers) {
        v.push(vec![
            r.v("单位名称"),
            r.v("会计年度"),
            r.v("凭证日期"),
            voucher(&r.s("凭证号")).into(),
            r.v("分录序号"),
            r.v("科目编码"),
            r.v("科目名称"),
            r.v("摘要"),
            r.v("借方金额"),
            r.v("贷方金额"),
        ]);
    }
    out.push(csv("exports/财政/序时账.csv", v, &[], true));

    // the claims platform exports no invoice date and no claimant ID
    let claims = a.table("finance/报销单据.ndjson");
    let mut c =
        Table::new(&["单据编号", "报销单位", "经办人", "报账日期", "发票代码", "发票号码", "报销金额", "报销事由"]);
    for r in rows(claims) {
        c.push(vec![
            r.v("报销单号"),
            r.v("单位名称"),
            r.v("报销人"),
            r.v("报销日期"),
            r.v("发票代码"),
            r.v("发票号码"),
            r.v("金额"),
            r.v("事由"),
        ]);
    }
    out.push(csv("exports/财政/报销单据.csv", c, &[], false));
}

fn programmes(a: &Src, out: &mut Vec<(String, Output)>) {
    // agreements and their payouts in one ledger: the agreement repeated on every payout
    let agreements = a.sheet("programmes/招商协议.xlsx", "招商协议");
    let payouts = a.table("programmes/奖补兑现.csv");
    let deal: std::collections::HashMap<String, Row> = rows(agreements).map(|r| (r.s("协议编号"), r)).collect();
    let mut t = Table::new(&[
        "项目协议编号",
        "签约企业",
        "统一社会信用代码",
        "签约日期",
        "协议投资额(万元)",
        "承诺税收(万元)",
        "考核日期",
        "最高奖补(万元)",
        "拨付编号",
        "拨付金额(元)",
        "拨付日期",
    ]);
    for p in rows(payouts) {
        let g = deal[&p.s("协议编号")];
        t.push(vec![
            g.v("协议编号"),
            g.v("企业名称"),
            g.v("统一社会信用代码"),
            g.v("签订日期"),
            g.v("承诺投资额(万元)"),
            g.v("承诺年税收(万元)"),
            g.v("约定考核日期"),
            g.v("奖补上限(万元)"),
            p.v("兑现编号"),
            scaled(p.v("兑现金额(万元)"), 1e4, 2),
            p.v("兑现日期"),
        ]);
    }
    out.push(("exports/商务/招商项目奖补台账.xlsx".into(), Output::Xlsx(vec![("奖补台账".into(), vec![], t)])));

    let tax = a.table("programmes/企业纳税.csv");
    let mut x = Table::new(&["纳税人识别号", "纳税人名称", "所属年度", "实缴税额"]);
    for r in rows(tax) {
        x.push(vec![r.v("统一社会信用代码"), r.v("纳税人名称"), r.v("年度"), r.v("入库税额(元)")]);
    }
    out.push(csv("exports/税务/企业税收入库.csv", x, &[], true));

    // research funds: one workbook, a sheet each for projects, members and spending
    let projects = a.table("programmes/科研项目.csv");
    let members = a.table("programmes/项目组成员.csv");
    let spending = a.sheet("programmes/科研经费支出.xlsx", "经费支出");
    let mut pr = Table::new(&[
        "课题编号",
        "课题名称",
        "课题负责人",
        "负责人身份证号",
        "依托单位",
        "资助金额(万元)",
        "开始日期",
        "结束日期",
    ]);
    for r in rows(projects) {
        pr.push(vec![
            r.v("项目编号"),
            r.v("项目名称"),
            r.v("负责人"),
            r.v("负责人身份证号"),
            r.v("承担单位"),
            r.v("总经费(万元)"),
            r.v("立项日期"),
            r.v("结题日期"),
        ]);
    }
    let mut me = Table::new(&["课题编号", "成员姓名", "身份证号码", "项目分工"]);
    for r in rows(members) {
        me.push(vec![
            r.v("项目编号"),
            r.v("姓名"),
            r.v("身份证号"),
            word(r.v("角色"), &[("负责人", "项目负责人"), ("成员", "骨干")]),
        ]);
    }
    let mut sp = Table::new(&[
        "凭证编号",
        "课题编号",
        "开支科目",
        "收款单位",
        "收款人身份证号/统一社会信用代码",
        "支出金额",
        "支付日期",
    ]);
    for r in rows(spending) {
        sp.push(vec![
            r.v("凭证号"),
            r.v("项目编号"),
            word(
                r.v("支出科目"),
                &[
                    ("劳务费", "人员劳务费"),
                    ("专家咨询费", "专家咨询"),
                    ("协作费", "外协费"),
                    ("测试化验加工费", "测试费"),
                ],
            ),
            r.v("收款人"),
            r.v("收款人证件号"),
            r.v("金额(元)"),
            r.v("支付日期"),
        ]);
    }
    out.push((
        "exports/科技/科研项目经费.xlsx".into(),
        Output::Xlsx(vec![("课题".into(), vec![], pr), ("成员".into(), vec![], me), ("经费支出".into(), vec![], sp)]),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shapes_of_layout_b() {
        assert_eq!(lot("QHCG2025-9114-01"), "2025-9114-01");
        assert_eq!(household("DB10400004"), "104-00004");
        assert_eq!(voucher("记-00961"), "记字第00961号");
        assert_eq!(entity("QHCG2025-9114-01|9134|x"), "2025-9114-01|9134|x");
        assert_eq!(entity("清河县农业农村局|记-00961"), "清河县农业农村局|记字第00961号");
        assert_eq!(entity("DB10400004|2025-03-01"), "104-00004|2025-03-01");
    }
}

/// The directory of inspected units as the organisation department keeps it: other headers,
/// its own kind words (县直部门, 镇/乡, 村委会), townships by their 9-digit region code, no
/// credit codes or principals.
fn units(a: &Src, out: &mut Vec<(String, Output)>) {
    let units = a.table("registry/被巡察单位名录.csv");
    let mut t = Table::new(&["机构代码", "机构名称", "单位性质", "隶属单位编码", "区划代码", "人数"]);
    for r in rows(units) {
        let (kind, region) = match r.s("单位类型").as_str() {
            "部门/单位" => ("县直部门".to_string(), r.s("行政区划代码")),
            "乡镇(街道)" => {
                let name = r.s("单位名称");
                let word = if name.ends_with('乡') { "乡" } else { "镇" };
                (word.to_string(), r.s("行政区划代码").trim_end_matches("000").to_string())
            }
            "村(社区)" => ("村委会".to_string(), r.s("行政区划代码")),
            other => (other.to_string(), r.s("行政区划代码")),
        };
        t.push(vec![r.v("单位编码"), r.v("单位名称"), kind.into(), r.v("上级单位编码"), region.into(), r.v("人数")]);
    }
    out.push(("exports/组织部/巡察对象名录.xlsx".into(), Output::Xlsx(vec![("名录".into(), vec![], t)])));
}
