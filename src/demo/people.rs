//! The demo county's places, people, units and enterprises: valid ID numbers and credit codes,
//! plausible Chinese names, and a deterministic random source.

use chrono::NaiveDate;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::codes::{id_card, uscc};

/// County region code (GB/T 2260).
pub const COUNTY: &str = "340524";
/// County name.
pub const COUNTY_NAME: &str = "清河县";

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "红", "玉", "兰", "建", "国", "文", "辉", "力", "斌", "波", "宇", "浩", "凯", "健",
    "俊", "帆", "鹏", "晨", "欣", "怡", "佳", "琳", "雪", "梅", "莉", "亮", "成", "志", "海", "春", "忠", "德",
];
const TOWNS: &[&str] = &["城关镇", "河口镇", "白石镇", "新集乡", "柳林乡", "东岗镇", "桥头乡", "石门镇"];
const VILLAGE_SUFFIX: &[&str] = &["村", "村", "村", "社区", "村", "村"];
const VILLAGE_STEM: &[&str] = &[
    "前进", "和平", "红旗", "新华", "长岭", "东风", "杨庄", "李湾", "陈圩", "张岗", "刘楼", "王集", "高庙", "赵桥",
    "孙湖", "周湾",
];
const FIRM_STEM: &[&str] = &[
    "恒通", "鑫源", "华宇", "金泰", "宏达", "瑞丰", "中诚", "广信", "天成", "永盛", "博远", "昌隆", "德润", "嘉禾",
    "康达", "力拓", "明阳", "诺信", "荣盛", "顺发", "泰和", "万利", "祥云", "兴业", "佳禾", "远航", "正邦", "卓越",
    "汇通", "锦程",
];
const FIRM_TRADE: &[&str] = &[
    "建筑工程",
    "商贸",
    "信息技术",
    "农业开发",
    "物业管理",
    "建材",
    "环保科技",
    "劳务",
    "电子科技",
    "园林绿化",
    "印务",
    "餐饮管理",
    "汽车服务",
    "医疗器械",
    "文化传媒",
];

/// Deterministic randomness for the generator.
pub struct Dice(ChaCha8Rng);

impl Dice {
    /// Seeded source; the same seed gives the same county.
    pub fn new(seed: u64) -> Dice {
        Dice(ChaCha8Rng::seed_from_u64(seed))
    }
    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.random_range(lo..hi)
    }
    /// Uniform in `0..n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p)
    }
    /// One element.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.index(xs.len())]
    }
    /// A float in `lo..hi`.
    pub fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.random::<f64>()
    }
    /// A date uniformly between `from` and `to` (inclusive).
    pub fn date(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0);
        from + chrono::Days::new(self.range(0, span + 1) as u64)
    }
    /// Raw access for callers that need it.
    pub fn rng(&mut self) -> &mut impl Rng {
        &mut self.0
    }
}

/// A township.
#[derive(Debug, Clone)]
pub struct Town {
    /// 9-digit statistical code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A village or community.
#[derive(Debug, Clone)]
pub struct Village {
    /// 12-digit statistical code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Index of its township.
    pub town: usize,
}

/// A person.
#[derive(Debug, Clone)]
pub struct Person {
    /// 18-character ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Birth date.
    pub born: NaiveDate,
    /// Home village index.
    pub village: usize,
}

/// An enterprise.
#[derive(Debug, Clone)]
pub struct Firm {
    /// Credit code.
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Established.
    pub founded: NaiveDate,
    /// Legal representative.
    pub legal_rep: Person,
    /// Registered capital, 万元.
    pub capital: f64,
    /// 存续 / 注销 / 吊销
    pub status: &'static str,
    /// Cancellation date.
    pub cancelled: Option<NaiveDate>,
    /// Address.
    pub address: String,
    /// Phone.
    pub phone: String,
}

/// The county a batch of the generation describes. A county at benchmark scale is made in
/// batches of bounded size ([`super::BATCH_SCALE`]); each batch is a county of its own — its
/// own region code, name and number spaces — so no key of one batch meets a key of another, and
/// batch 0 is the demo county itself.
#[derive(Debug, Clone)]
pub struct Place {
    /// Batch number (0: 清河县).
    pub batch: u32,
    /// Region code (GB/T 2260).
    pub code: String,
    /// Name (清河县).
    pub name: String,
    /// Short name as numbers print it (清河 → QH).
    pub stem: String,
    /// Inserted into every generated number of this batch: empty for batch 0, so the demo
    /// county's numbers stay as they were.
    pub tag: String,
}

const OTHER_COUNTIES: &[&str] = &[
    "东溪", "南岭", "西坪", "北川", "青山", "白水", "金河", "石桥", "云台", "松岗", "柳湾", "桃源", "梅岭", "杏林",
    "竹溪", "兰亭", "荷塘", "枫桥", "槐里", "榆关",
];

impl Place {
    /// The county of batch `b`.
    pub fn of_batch(b: u32) -> Place {
        if b == 0 {
            return Place {
                batch: 0,
                code: COUNTY.into(),
                name: COUNTY_NAME.into(),
                stem: "QH".into(),
                tag: String::new(),
            };
        }
        let n = (b - 1) as usize;
        let stem = OTHER_COUNTIES[n % OTHER_COUNTIES.len()];
        let round = n / OTHER_COUNTIES.len();
        Place {
            batch: b,
            // 3416xx…: clear of 3405xx (清河县 and its neighbours) and 340102
            code: format!("{}", 341_600 + b),
            name: if round == 0 { format!("{stem}县") } else { format!("{stem}{}县", round + 1) },
            stem: format!("B{b}"),
            tag: format!("{b:03}"),
        }
    }

    /// A name of this county in place of 清河县 / 清河 in a fixed text.
    pub fn local(&self, text: &str) -> String {
        if self.batch == 0 {
            return text.to_string();
        }
        let short = self.name.trim_end_matches('县');
        text.replace(COUNTY_NAME, &self.name).replace("清河", short).replace(COUNTY, &self.code)
    }

    /// A fixed account number made this county's (batch 0 keeps it; another batch puts its
    /// number in digits 7–9).
    pub fn account(&self, fixed: &str) -> String {
        if self.batch == 0 || fixed.len() < 10 {
            return fixed.to_string();
        }
        format!("{}{}{}", &fixed[..6], self.tag, &fixed[9..])
    }

    /// A budget project code of this county: a unit's code, then (in another batch) the
    /// batch, then the year and number.
    pub fn project(&self, code: &str) -> String {
        if self.batch == 0 || code.len() < 3 {
            return code.to_string();
        }
        format!("{}{}{}", &code[..3], self.tag, &code[3..])
    }

    /// A bank card number of this county (19 digits; batch 0's are [`card_no`]'s).
    pub fn card(&self, n: u64) -> String {
        if self.batch == 0 {
            card_no(n)
        } else {
            format!("62{:04}{:013}", 3000 + self.batch, 1_000_000_000 + n * 7_919)
        }
    }
}

/// Places and the allocators of unique IDs, names and codes.
pub struct Registry {
    /// The county.
    pub place: Place,
    /// Townships.
    pub towns: Vec<Town>,
    /// Villages.
    pub villages: Vec<Village>,
    seq: u32,
    issued: std::collections::HashSet<String>,
    firm_seq: u32,
    phone_seq: u32,
}

impl Registry {
    /// Builds the demo county's places.
    pub fn new() -> Registry {
        Registry::of(Place::of_batch(0))
    }

    /// Builds a county's places.
    pub fn of(place: Place) -> Registry {
        let mut towns = Vec::new();
        let mut villages = Vec::new();
        for (t, name) in TOWNS.iter().enumerate() {
            let code = format!("{}{:03}", place.code, 100 + t);
            for v in 0..6 {
                let stem = VILLAGE_STEM[(t * 6 + v) % VILLAGE_STEM.len()];
                villages.push(Village {
                    code: format!("{code}{:03}", 201 + v),
                    name: format!("{stem}{}", VILLAGE_SUFFIX[v]),
                    town: t,
                });
            }
            towns.push(Town { code, name: name.to_string() });
        }
        Registry { place, towns, villages, seq: 0, issued: Default::default(), firm_seq: 0, phone_seq: 0 }
    }

    /// A new person with a unique, valid ID, born between the given years.
    pub fn person(&mut self, dice: &mut Dice, born_from: i32, born_to: i32) -> Person {
        let village = dice.index(self.villages.len());
        let born = dice
            .date(NaiveDate::from_ymd_opt(born_from, 1, 1).unwrap(), NaiveDate::from_ymd_opt(born_to, 12, 28).unwrap());
        self.person_at(dice, village, born)
    }

    /// A new person of a given village and birth date.
    pub fn person_at(&mut self, dice: &mut Dice, village: usize, born: NaiveDate) -> Person {
        let region =
            if dice.chance(0.9) { COUNTY } else { *dice.pick(&["340521", "340522", "340523", "340525", "340102"]) };
        // another batch's people are all of their own county: the neighbours' codes above are
        // shared, and two batches' sequences would meet there
        let region = if self.place.batch == 0 { region } else { self.place.code.as_str() };
        let id = loop {
            self.seq += 1;
            let first17 = format!("{region}{}{:03}", born.format("%Y%m%d"), self.seq % 1000);
            let c = id_card::check_char(first17.as_bytes()).expect("digits") as char;
            let id = format!("{first17}{c}");
            if self.issued.insert(id.clone()) {
                break id;
            }
        };
        let name = format!(
            "{}{}{}",
            dice.pick(SURNAMES),
            dice.pick(GIVEN),
            if dice.chance(0.6) { *dice.pick(GIVEN) } else { "" }
        );
        Person { id, name, born, village }
    }

    /// A new enterprise with a valid credit code.
    pub fn firm(&mut self, dice: &mut Dice, legal_rep: Person, founded: NaiveDate) -> Firm {
        self.firm_seq += 1;
        let org8 = format!("{:08}", 30_000_000 + self.firm_seq * 7919 % 60_000_000);
        let county = &self.place.code;
        let org_check = uscc::org_code_check(&format!("91{county}{org8}0")).map(|c| c as char).unwrap_or('0');
        let first17 = format!("91{county}{org8}{org_check}");
        let c = uscc::check_char(first17.as_bytes()).expect("charset") as char;
        // unique by construction: stem × trade, then township, then a number
        let k = (self.firm_seq - 1) as usize;
        let combos = FIRM_STEM.len() * FIRM_TRADE.len();
        let stem = FIRM_STEM[k % FIRM_STEM.len()];
        let trade = FIRM_TRADE[(k / FIRM_STEM.len()) % FIRM_TRADE.len()];
        let county_name = self.place.name.clone();
        let place = match k / combos {
            0 => county_name.to_string(),
            n if n <= TOWNS.len() => format!("{county_name}{}", TOWNS[n - 1].trim_end_matches(['镇', '乡'])),
            n => format!("{county_name}{n}"),
        };
        let name = format!("{place}{stem}{trade}{}", if k % 7 == 3 { "有限责任公司" } else { "有限公司" });
        Firm {
            uscc: format!("{first17}{c}"),
            name,
            founded,
            legal_rep,
            capital: (dice.range(1, 200) * 10) as f64,
            status: "存续",
            cancelled: None,
            address: format!("{county_name}{}{}号", dice.pick(TOWNS), dice.range(1, 400)),
            phone: self.phone(),
        }
    }

    /// A unique phone number.
    pub fn phone(&mut self) -> String {
        self.phone_seq += 1;
        if self.place.batch > 0 {
            // 1 + 2 + 3 + 5 digits: the batch in the middle keeps batches apart
            return format!(
                "1{}{:03}{:05}",
                30 + self.phone_seq % 60,
                self.place.batch % 1000,
                self.phone_seq % 100_000
            );
        }
        format!("1{}{:08}", 30 + self.phone_seq % 60, 10_000_000 + self.phone_seq * 37)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

/// A unique bank card number (19 digits, UnionPay-like).
pub fn card_no(n: u64) -> String {
    format!("622848{:013}", 1_000_000_000 + n * 7_919)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_valid_and_unique() {
        let mut dice = Dice::new(7);
        let mut reg = Registry::new();
        let mut ids = std::collections::HashSet::new();
        for _ in 0..3000 {
            let p = reg.person(&mut dice, 1940, 2005);
            assert!(id_card::is_valid(&p.id), "{}", p.id);
            assert!(ids.insert(p.id));
        }
        let mut codes = std::collections::HashSet::new();
        for _ in 0..500 {
            let rep = reg.person(&mut dice, 1960, 1990);
            let f = reg.firm(&mut dice, rep, NaiveDate::from_ymd_opt(2015, 1, 1).unwrap());
            assert!(uscc::is_valid(&f.uscc), "{}", f.uscc);
            assert!(codes.insert(f.uscc));
        }
    }
}
