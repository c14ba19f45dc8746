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

/// Writes `processes` compiled releases to `out`; returns the bytes written.
pub fn write(processes: u64, seed: u64, out: &mut impl Write) -> std::io::Result<u64> {
    let mut dice = Dice::new(seed);
    let buyers = 400;
    let tenderers = 6000;
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
        let buyer = dice.range(1, buyers);
        let entity = if dice.chance(0.7) { buyer } else { dice.range(1, buyers) };
        let n_bids = if method == "direct" { 1 } else { dice.range(1, 9) as usize };
        let base = dice.float(5e4, 5e6).round();
        let mut bids = Vec::with_capacity(n_bids);
        let mut bidders = Vec::with_capacity(n_bids);
        for b in 0..n_bids {
            let who = dice.range(1, tenderers);
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
                "value": {"amount": amount, "currency": if dice.chance(0.002) { "USD" } else { "CNY" }},
                "tenderers": [{"id": format!("T{who:05}"), "name": format!("供应商{who}")}],
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
                awards.push(json!({"id": format!("{p}-a0"), "status": "cancelled", "suppliers": [{"id": format!("T{:05}", bidders[w])}]}));
            }
            awards.push(json!({
                "id": format!("{p}-a1"),
                "status": status,
                "date": stamp(closed + Duration::days(dice.range(3, 30)), 9),
                "value": bids[w]["value"].clone(),
                "suppliers": [{"id": format!("T{:05}", bidders[w]), "name": format!("供应商{}", bidders[w])}],
                "items": items,
            }));
        }
        let mut parties =
            vec![json!({"id": format!("B{buyer:04}"), "name": format!("采购人{buyer}"), "roles": ["buyer"],
            "identifier": {"scheme": "CN-USCC", "id": format!("12340500MB{buyer:08}")}})];
        for who in &bidders {
            parties.push(json!({"id": format!("T{who:05}"), "name": format!("供应商{who}"), "roles": ["tenderer"],
                "identifier": {"scheme": "CN-USCC", "id": format!("91340500MA{who:08}")}}));
        }
        let release = json!({
            "ocid": format!("ocds-sl0001-{p:08}"),
            "id": format!("{p}-compiled"),
            "date": stamp(closed, 12),
            "tag": ["compiled"],
            "buyer": {"id": format!("B{buyer:04}"), "name": format!("采购人{buyer}")},
            "tender": {
                "id": format!("{p}-t"),
                "status": if dice.chance(0.02) { "cancelled" } else { "complete" },
                "procurementMethod": method,
                "procurementMethodDetails": details,
                "procuringEntity": {"id": format!("B{entity:04}"), "name": format!("采购人{entity}")},
                "tenderPeriod": {"startDate": stamp(opened, 9), "endDate": stamp(closed, 17)},
                "numberOfTenderers": n_bids,
                "value": {"amount": base, "currency": "CNY"},
                "lots": [{"id": format!("{p}-lot1"), "title": "第一包", "status": "complete", "value": {"amount": base, "currency": "CNY"}}],
            },
            "parties": parties,
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
