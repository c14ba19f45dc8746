//! An OCDS file of any size for the red flags' benchmark and tests: compiled releases as JSON
//! lines, the same file for the same seed. Processes look like a province's procurement: open,
//! selective, limited and direct methods; one to eight bids, some disqualified, withdrawn or
//! late; awards (some pending or cancelled) with items classified by CPV-like codes; buyers,
//! procuring entities and a few thousand tenderers — with the patterns the flags look for
//! planted at realistic rates (short periods, single bids, identical prices, lowest bid
//! disqualified, heavily discounted winners).

use std::io::Write;

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use super::people::Dice;

/// Who buys and who bids, as (identifier, name): the parties of a generated file.
pub struct Parties {
    /// Buyers (and procuring entities).
    pub buyers: Vec<(String, String)>,
    /// Tenderers (and suppliers).
    pub tenderers: Vec<(String, String)>,
    /// The currency of the file (a few bids are in another).
    pub currency: &'static str,
    /// The publisher's ocid prefix (`ocds-sl0001`).
    pub prefix: String,
}

impl Parties {
    /// A province's worth of anonymous parties: 400 buyers, 6 000 tenderers.
    pub fn generic() -> Parties {
        Parties {
            buyers: (1..400).map(|b| (format!("B{b:04}"), format!("采购人{b}"))).collect(),
            tenderers: (1..6000).map(|t| (format!("T{t:05}"), format!("供应商{t}"))).collect(),
            currency: "CNY",
            prefix: "ocds-sl0001".into(),
        }
    }
}

/// Writes `processes` compiled releases of anonymous parties to `out`; returns the bytes
/// written.
pub fn write(processes: u64, seed: u64, out: &mut impl Write) -> std::io::Result<u64> {
    write_with(processes, seed, &Parties::generic(), out)
}

/// Writes `processes` compiled releases among `parties` to `out`; returns the bytes written.
pub fn write_with(processes: u64, seed: u64, parties: &Parties, out: &mut impl Write) -> std::io::Result<u64> {
    let mut dice = Dice::new(seed);
    let (buyers, tenderers) = (&parties.buyers, &parties.tenderers);
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let mut written = 0u64;
    let mut line = Vec::with_capacity(4096);
    for p in 0..processes {
        let method = *dice.pick(&["open", "open", "open", "selective", "limited", "direct"]);
        let details = *dice.pick(&["公开招标", "公开招标", "邀请招标", "竞争性谈判", "询价", "单一来源"]);
        let opened = start + Duration::days(dice.range(0, 700));
        let days = if dice.chance(0.1) { dice.range(2, 14) } else { dice.range(15, 45) };
        let closed = opened + Duration::days(days);
        let stamp = |d: NaiveDate, h: i64| format!("{}T{:02}:00:00+08:00", d, h);
        let buyer = &buyers[dice.index(buyers.len())];
        let entity = if dice.chance(0.7) { buyer } else { &buyers[dice.index(buyers.len())] };
        let n_bids = if method == "direct" { 1 } else { dice.range(1, 9) as usize };
        let base = dice.float(5e4, 5e6).round();
        let mut bids = Vec::with_capacity(n_bids);
        let mut bidders = Vec::with_capacity(n_bids);
        for b in 0..n_bids {
            let who = &tenderers[dice.index(tenderers.len())];
            bidders.push(who);
            let status = if dice.chance(0.08) {
                "disqualified"
            } else if dice.chance(0.03) {
                "withdrawn"
            } else if dice.chance(0.02) {
                "pending"
            } else {
                "valid"
            };
            let mut amount = (base * dice.float(0.85, 1.25)).round();
            if b > 0 && dice.chance(0.03) {
                amount = bids.last().and_then(|x: &Value| x["value"]["amount"].as_f64()).unwrap_or(amount);
            }
            let late = dice.chance(0.02);
            let date = if late { closed + Duration::days(1) } else { closed - Duration::days(dice.range(0, days)) };
            bids.push(json!({
                "id": format!("{p}-b{b}"),
                "status": status,
                "date": stamp(date, 10),
                "value": {"amount": amount, "currency": if dice.chance(0.002) { "USD" } else { parties.currency }},
                "tenderers": [{"id": who.0, "name": who.1}],
            }));
        }
        // the lowest valid bid usually wins; sometimes a heavily discounted or another bid
        let winner = bids
            .iter()
            .enumerate()
            .filter(|(_, b)| b["status"] == "valid")
            .min_by(|a, b| {
                a.1["value"]["amount"].as_f64().partial_cmp(&b.1["value"]["amount"].as_f64()).expect("amounts")
            })
            .map(|(i, _)| i);
        let mut awards = Vec::new();
        if let Some(w) = winner.filter(|_| !dice.chance(0.05)) {
            if dice.chance(0.01) {
                let a = bids[w]["value"]["amount"].as_f64().unwrap_or(1.0);
                bids[w]["value"]["amount"] = json!((a * 0.3).round());
            }
            let status = if dice.chance(0.04) { "pending" } else { "active" };
            let items: Vec<Value> = (0..dice.range(1, 4))
                .map(|i| {
                    json!({
                        "id": format!("{p}-i{i}"),
                        "classification": {"scheme": "CPV", "id": format!("{:02}{:06}", dice.range(3, 99), dice.range(0, 999_999))},
                        "quantity": dice.range(1, 50),
                    })
                })
                .collect();
            if dice.chance(0.03) {
                awards
                    .push(json!({"id": format!("{p}-a0"), "status": "cancelled", "suppliers": [{"id": bidders[w].0}]}));
            }
            awards.push(json!({
                "id": format!("{p}-a1"),
                "status": status,
                "date": stamp(closed + Duration::days(dice.range(3, 30)), 9),
                "value": bids[w]["value"].clone(),
                "suppliers": [{"id": bidders[w].0, "name": bidders[w].1}],
                "items": items,
            }));
        }
        // a party identified by its unified social credit code says so
        let party = |(id, name): &(String, String), role: &str| {
            let mut p = json!({"id": id, "name": name, "roles": [role]});
            if id.len() == 18 {
                p["identifier"] = json!({"scheme": "CN-USCC", "id": id});
            }
            p
        };
        let mut named = vec![party(buyer, "buyer")];
        for (i, who) in bidders.iter().enumerate() {
            // a tenderer who bid twice is one party
            if !bidders[..i].contains(who) {
                named.push(party(who, "tenderer"));
            }
        }
        let release = json!({
            "ocid": format!("{}-{p:08}", parties.prefix),
            "id": format!("{p}-compiled"),
            "date": stamp(closed, 12),
            "tag": ["compiled"],
            "buyer": {"id": buyer.0, "name": buyer.1},
            "tender": {
                "id": format!("{p}-t"),
                "status": if dice.chance(0.02) { "cancelled" } else { "complete" },
                "procurementMethod": method,
                "procurementMethodDetails": details,
                "procuringEntity": {"id": entity.0, "name": entity.1},
                "tenderPeriod": {"startDate": stamp(opened, 9), "endDate": stamp(closed, 17)},
                "numberOfTenderers": n_bids,
                "value": {"amount": base, "currency": parties.currency},
                "lots": [{"id": format!("{p}-lot1"), "title": "第一包", "status": "complete", "value": {"amount": base, "currency": parties.currency}}],
            },
            "parties": named,
            "bids": {"details": bids},
            "awards": awards,
        });
        line.clear();
        serde_json::to_writer(&mut line, &release).map_err(std::io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
        written += line.len() as u64;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_file_and_every_line_is_a_process() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(50, 7, &mut a).unwrap();
        write(50, 7, &mut b).unwrap();
        assert_eq!(a, b);
        let mut n = 0;
        crate::connector::ocds::read(
            a.as_slice(),
            &mut |_, r| {
                assert!(r.ocid.get().is_some());
                n += 1;
                true
            },
            &mut |s| panic!("{s:?}"),
        )
        .unwrap();
        assert_eq!(n, 50);
    }
}
