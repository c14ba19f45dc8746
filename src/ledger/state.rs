//! The `clue_state` projection: each clue's current state — its latest sighting, unit and
//! amount, and its workflow folded with what later runs say — kept in the transaction that
//! appends the sightings or events it follows from, so listings filter, count and page in SQL.
//! The append-only facts stay the truth: [`rebuild`] draws the whole projection from them again,
//! and [`differences`] says where a kept projection and a rebuilt one disagree.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::workflow::{WorkState, events_of, settled};

/// The sighting part of the projection, for the clues `{WHERE}` selects (on `clues c`).
const FROM_SIGHTINGS: &str = "
INSERT INTO clue_state (clue_id, model, area, severity, sev_rank, first_order, last_seq, last_run, mark,
                        unit, unit_code, unit_order, amount_fen, amount_order, last_event)
SELECT c.clue_id, c.model, c.area, c.severity,
       CASE c.severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
       -coalesce((SELECT r.rowid FROM runs r WHERE r.run_id = c.first_run), 0),
       l.seq, l.run_id, l.mark, u.unit, u.unit_code, coalesce(u.unit, ''),
       coalesce(f.amount_fen, CAST(round(f.amount * 100) AS INTEGER)),
       -coalesce(f.amount_fen, CAST(round(f.amount * 100) AS INTEGER), 0),
       (SELECT coalesce(max(e.seq), 0) FROM events e WHERE e.clue_id = c.clue_id)
FROM clues c
JOIN live_sightings l ON l.seq = (SELECT max(x.seq) FROM live_sightings x WHERE x.clue_id = c.clue_id)
LEFT JOIN live_sightings u
  ON u.seq = (SELECT max(x.seq) FROM live_sightings x WHERE x.clue_id = c.clue_id AND x.unit IS NOT NULL)
LEFT JOIN live_sightings f
  ON f.seq = (SELECT max(x.seq) FROM live_sightings x WHERE x.clue_id = c.clue_id AND x.mark <> 'resolved')
{WHERE}
ON CONFLICT (clue_id) DO UPDATE SET
    sev_rank = excluded.sev_rank, first_order = excluded.first_order, last_seq = excluded.last_seq,
    last_run = excluded.last_run, mark = excluded.mark, unit = excluded.unit, unit_code = excluded.unit_code,
    unit_order = excluded.unit_order, amount_fen = excluded.amount_fen, amount_order = excluded.amount_order,
    last_event = excluded.last_event, status = 'pending', rectification_failed = 0, rectify_due = NULL,
    excepted_until = NULL, work = NULL";

/// Draws one clue's row again from its live sightings and its events (a workflow step, a
/// withdrawn run, a clue found for the first time). A clue keeps its place (`clue_no`) among
/// clues that tie in an ordering; one that no live sighting counts for any more has no row.
pub(super) fn refresh(conn: &Connection, clue: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(&FROM_SIGHTINGS.replace("{WHERE}", "WHERE c.clue_id = ?1"))?.execute([clue])?;
    conn.prepare_cached(
        "DELETE FROM clue_state WHERE clue_id = ?1 AND NOT EXISTS (SELECT 1 FROM live_sightings WHERE clue_id = ?1)",
    )?
    .execute([clue])?;
    let acted: Option<i64> =
        conn.query_row("SELECT last_event FROM clue_state WHERE clue_id = ?1", [clue], |r| r.get(0)).optional()?;
    if acted.is_some_and(|e| e > 0) {
        fold(conn, clue)?;
    }
    Ok(())
}

/// A run's sighting of a clue, just appended with sequence number `seq`: the clue's row follows
/// it (the latest sighting; its unit if it has one; its amount unless it resolves the clue),
/// and a clue with workflow steps has them folded again, since a later run can change its
/// state (复现, 整改不实). A clue with no row has no other live sighting (a row is kept while
/// one counts): its row is this sighting's.
#[allow(clippy::too_many_arguments)]
pub(super) fn sighted(
    conn: &Connection,
    clue: &str,
    seq: i64,
    run: &str,
    mark: &str,
    unit: Option<&str>,
    unit_code: Option<&str>,
    amount: Option<f64>,
    amount_fen: Option<i64>,
) -> rusqlite::Result<()> {
    let args = params![clue, seq, run, mark, unit, unit_code, amount, amount_fen];
    let acted: Option<i64> = conn
        .prepare_cached(
            "UPDATE clue_state SET last_seq = ?2, last_run = ?3, mark = ?4,
                 unit = coalesce(?5, unit),
                 unit_code = CASE WHEN ?5 IS NULL THEN unit_code ELSE ?6 END,
                 unit_order = coalesce(?5, unit_order),
                 amount_fen = CASE WHEN ?4 = 'resolved' THEN amount_fen
                                   ELSE coalesce(?8, CAST(round(?7 * 100) AS INTEGER)) END,
                 amount_order = CASE WHEN ?4 = 'resolved' THEN amount_order
                                     ELSE -coalesce(?8, CAST(round(?7 * 100) AS INTEGER), 0) END
             WHERE clue_id = ?1 RETURNING last_event",
        )?
        .query_row(args, |r| r.get(0))
        .optional()?;
    let acted = match acted {
        Some(e) => e,
        None => conn
            .prepare_cached(
                "INSERT INTO clue_state (clue_id, model, area, severity, sev_rank, first_order, last_seq, last_run,
                                         mark, unit, unit_code, unit_order, amount_fen, amount_order, last_event)
                 SELECT c.clue_id, c.model, c.area, c.severity,
                        CASE c.severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
                        -coalesce((SELECT r.rowid FROM runs r WHERE r.run_id = c.first_run), 0), ?2, ?3, ?4, ?5,
                        CASE WHEN ?5 IS NULL THEN NULL ELSE ?6 END, coalesce(?5, ''),
                        CASE WHEN ?4 = 'resolved' THEN NULL ELSE coalesce(?8, CAST(round(?7 * 100) AS INTEGER)) END,
                        CASE WHEN ?4 = 'resolved' THEN 0 ELSE -coalesce(?8, CAST(round(?7 * 100) AS INTEGER), 0) END,
                        (SELECT coalesce(max(e.seq), 0) FROM events e WHERE e.clue_id = c.clue_id)
                 FROM clues c WHERE c.clue_id = ?1
                 RETURNING last_event",
            )?
            .query_row(args, |r| r.get(0))?,
    };
    if acted > 0 { fold(conn, clue) } else { Ok(()) }
}

/// Folds a clue's events with what its runs say into its row's workflow columns.
fn fold(conn: &Connection, clue: &str) -> rusqlite::Result<()> {
    let events = events_of(conn, clue)?;
    let s = settled(conn, clue, &events)?;
    conn.prepare_cached(
        "UPDATE clue_state SET status = ?2, rectification_failed = ?3, rectify_due = ?4, excepted_until = ?5,
             last_event = ?6, work = ?7
         WHERE clue_id = ?1",
    )?
    .execute(params![
        clue,
        s.status.name(),
        s.rectification_failed,
        s.rectify_due.map(|d| d.to_string()),
        s.excepted_until.map(|d| d.to_string()),
        events.last().map(|e| e.seq).unwrap_or(0),
        serde_json::to_string(&s).unwrap_or_default()
    ])?;
    Ok(())
}

/// Draws the whole projection again from the sightings and events (and the counts with it).
pub(super) fn rebuild(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM clue_state", [])?;
    conn.execute("DELETE FROM clue_counts", [])?;
    // (`WHERE true`: an upsert's SELECT needs a WHERE; in the order the clues were recorded)
    conn.execute(&FROM_SIGHTINGS.replace("{WHERE}", "WHERE true ORDER BY c.rowid"), [])?;
    let acted: Vec<String> = conn
        .prepare("SELECT clue_id FROM clue_state WHERE last_event > 0")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for clue in &acted {
        fold(conn, clue)?;
    }
    Ok(())
}

/// Where the kept projection differs from one drawn again from the facts (nothing changes:
/// the rebuild is rolled back): one line per clue or count that differs, at most `limit`.
pub(super) fn differences(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<String>> {
    let read = |conn: &Connection| -> rusqlite::Result<(Rows, Rows)> {
        Ok((
            // (`clue_no` aside: a clue withdrawn and found again comes back behind its ties)
            rows(
                conn,
                "SELECT clue_id, model, area, severity, sev_rank, first_order, last_seq, last_run, mark, unit,
                        unit_code, unit_order, amount_fen, amount_order, status, rectification_failed,
                        rectify_due, excepted_until, last_event, work
                 FROM clue_state ORDER BY clue_id",
            )?,
            rows(conn, "SELECT * FROM clue_counts WHERE n > 0 ORDER BY 1, 2, 3, 4, 5, 6")?,
        ))
    };
    let (kept, kept_counts) = read(conn)?;
    conn.execute_batch("SAVEPOINT clue_state_check")?;
    let drawn = rebuild(conn).and_then(|_| read(conn));
    conn.execute_batch("ROLLBACK TO clue_state_check; RELEASE clue_state_check")?;
    let (drawn, drawn_counts) = drawn?;
    let mut out = Vec::new();
    compare("clue", &kept, &drawn, &mut out);
    compare("count", &kept_counts, &drawn_counts, &mut out);
    out.truncate(limit);
    Ok(out)
}

/// Rows keyed by their first column (or all their key columns, for counts), as text.
type Rows = std::collections::BTreeMap<String, Vec<String>>;

fn rows(conn: &Connection, sql: &str) -> rusqlite::Result<Rows> {
    let mut stmt = conn.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().into_iter().map(str::to_string).collect();
    let key_columns = if names.iter().any(|n| n == "n") { names.len() - 1 } else { 1 };
    let mut out = Rows::new();
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let mut values = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            use rusqlite::types::Value;
            let v = match r.get::<_, Value>(i)? {
                Value::Null => "NULL".to_string(),
                Value::Integer(n) => n.to_string(),
                Value::Real(x) => x.to_string(),
                Value::Text(t) => format!("'{t}'"),
                Value::Blob(b) => format!("<{} bytes>", b.len()),
            };
            values.push(format!("{name}={v}"));
        }
        let key = values[..key_columns].join(" ");
        out.insert(key, values[key_columns..].to_vec());
    }
    Ok(out)
}

fn compare(what: &str, kept: &Rows, drawn: &Rows, out: &mut Vec<String>) {
    for (k, d) in drawn {
        match kept.get(k) {
            None => out.push(format!("{what} {k}: missing (expected {})", d.join(" "))),
            Some(v) if v != d => {
                let diff: Vec<String> =
                    v.iter().zip(d).filter(|(a, b)| a != b).map(|(a, b)| format!("{a} (expected {b})")).collect();
                out.push(format!("{what} {k}: {}", diff.join(", ")));
            }
            Some(_) => {}
        }
    }
    for k in kept.keys().filter(|k| !drawn.contains_key(*k)) {
        out.push(format!("{what} {k}: kept but should not exist"));
    }
}

/// The settled workflow state of every clue with a step, from the projection (`and` narrows
/// it: an SQL condition on `clue_state` beginning with AND).
pub(super) fn acted_on(conn: &Connection, and: &str) -> rusqlite::Result<HashMap<String, WorkState>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT clue_id, work FROM clue_state WHERE work IS NOT NULL {and}"))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (clue, work) = row?;
        out.insert(clue, parse(&work)?);
    }
    Ok(out)
}

/// A projected workflow state (one that cannot be read is an error, never shown as 待研判).
pub(super) fn parse(work: &str) -> rusqlite::Result<WorkState> {
    serde_json::from_str(work).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("clue_state.work: {e}").into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::query::Path;
    use super::super::tests::report;
    use super::super::{ClueFilter, ClueOrder, Ledger, Mark, Person, Status, Step};

    /// A small deterministic generator (xorshift), so a failure names the seed that shows it.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
        fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
            &xs[self.below(xs.len() as u64) as usize]
        }
    }

    fn day(d: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(d)
    }

    fn random_step(rng: &mut Rng) -> (Step, Option<&'static str>) {
        let step = match rng.below(9) {
            0 => Step::Triage { dismiss: true, route_to: None, persons: vec![] },
            1 => Step::Triage {
                dismiss: false,
                route_to: Some("县民政局".into()),
                persons: vec![Person { name: "张三".into(), role: String::new() }],
            },
            2 => Step::Assign { to: "核查组".into(), due: Some(day(30)) },
            3 => Step::Verify {
                result: rng.pick(&["属实", "部分属实", "不属实"]).to_string(),
                amount_involved: Some(1234.5),
                amount_recovered: None,
            },
            4 => Step::Dispose { action: "追缴".into() },
            5 => Step::Rectify { due: day(rng.below(60) as i64 - 30) },
            6 => Step::Close,
            7 => Step::Except { until: day(rng.below(60) as i64 - 30) },
            _ => Step::Note,
        };
        (step, Some("理由"))
    }

    #[test]
    fn the_projection_agrees_with_the_facts_after_random_runs_steps_and_withdrawals() {
        let entities = ["a", "b", "c", "d", "e", "f", "g", "h"];
        // how many clues showed each flag, over all seeds: the sequences must reach them
        let mut reached = [0usize; 4];
        for seed in 1..=10u64 {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
            let dir = tempfile::tempdir().unwrap();
            let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
            let mut runs: Vec<String> = Vec::new();
            let mut snapshot = 1;
            let (mut recorded, mut steps, mut refused, mut withdrawn) = (0, 0, 0, 0);
            for op in 0..120 {
                match rng.below(10) {
                    0..=3 => {
                        let model = *rng.pick(&["m1", "m2"]);
                        let found: Vec<&str> = entities.iter().copied().filter(|_| rng.below(10) < 6).collect();
                        let failed = rng.below(10) == 0;
                        let id = format!("R{:03}", runs.len() + 1);
                        let mut r = report(&id, model, &found, failed.then_some("boom"));
                        if rng.below(10) < 6 {
                            snapshot += 1;
                        }
                        r.models[0].snapshots.insert("payments".into(), format!("S{snapshot:04}"));
                        for c in &mut r.models[0].clues {
                            c.unit = rng.pick(&["", "甲局", "乙局"]).to_string();
                            c.unit_code = rng.pick(&[None, Some("U1"), Some("U2")]).map(str::to_string);
                            let fen = rng.below(5) as i64 * 10_050;
                            (c.amount, c.amount_fen) =
                                if rng.below(4) == 0 { (None, None) } else { (Some(fen as f64 / 100.0), Some(fen)) };
                            c.evidence_key = rng.pick(&["k1", "k2", "k3"]).to_string();
                            c.severity = (rng.below(3) == 0).then(|| "medium".to_string());
                        }
                        l.record(&r, "file:///lake/").unwrap();
                        runs.push(id);
                        recorded += 1;
                    }
                    4..=8 => {
                        // steps fall on a few clues, and half of them move the clue on, so the
                        // sequences reach rectification, closure and what comes after
                        let model = ["m1", "m2"][rng.below(2) as usize];
                        let clue = crate::runner::clue_id(model, [*rng.pick(&entities[..3])]);
                        let (mut step, reason) = random_step(&mut rng);
                        if rng.below(2) == 0
                            && let Ok(now) = l.work_state(&clue, day(0))
                        {
                            step = match now.status {
                                Status::Pending => Step::Triage { dismiss: false, route_to: None, persons: vec![] },
                                Status::Routed | Status::Verifying => Step::Verify {
                                    result: "属实".into(),
                                    amount_involved: None,
                                    amount_recovered: None,
                                },
                                Status::Verified | Status::Disposed => {
                                    Step::Rectify { due: day(rng.below(60) as i64 - 30) }
                                }
                                _ => Step::Close,
                            };
                        }
                        match l.act(&clue, "甲", step, reason) {
                            Ok(_) => steps += 1,
                            Err(_) => refused += 1,
                        }
                    }
                    _ => {
                        if let Some(run) = runs.get(rng.below(runs.len().max(1) as u64) as usize)
                            && l.withdraw_run(run, "甲", "误操作", chrono::Utc::now()).is_ok()
                        {
                            withdrawn += 1;
                        }
                    }
                }
                let differ = l.check_clue_state(5).unwrap();
                assert!(differ.is_empty(), "seed {seed}, after operation {op}: {differ:#?}");
            }
            assert!(recorded > 5 && steps > 5 && refused > 0, "seed {seed}: {recorded} runs, {steps} steps");
            let _ = withdrawn;

            // what a listing reads is what the fold of the events says, at any date
            for as_of in [day(-40), day(0), day(40)] {
                let all = ClueFilter { as_of: Some(as_of), all: true, ..Default::default() };
                let listed = l.clues(&all).unwrap();
                for r in &listed {
                    let folded = l.work_state(&r.clue_id, as_of).unwrap();
                    assert_eq!(
                        serde_json::to_value(r.state.as_ref().unwrap()).unwrap(),
                        serde_json::to_value(&folded).unwrap(),
                        "seed {seed}, {} as of {as_of}",
                        r.clue_id
                    );
                }
                // each flag lists exactly the clues whose folded state has it
                let folded: Vec<(String, crate::ledger::WorkState)> =
                    listed.iter().map(|r| (r.clue_id.clone(), l.work_state(&r.clue_id, as_of).unwrap())).collect();
                type Has = fn(&crate::ledger::WorkState) -> bool;
                let flags: [(Option<super::super::Flag>, Has); 4] = [
                    (None, |s| !s.excepted),
                    (Some(super::super::Flag::Excepted), |s| s.excepted),
                    (Some(super::super::Flag::Overdue), |s| s.overdue),
                    (Some(super::super::Flag::RectificationFailed), |s| s.rectification_failed),
                ];
                for (k, (flag, has)) in flags.into_iter().enumerate() {
                    let f = ClueFilter { as_of: Some(as_of), flag, ..Default::default() };
                    let mut got: Vec<String> = l.clues(&f).unwrap().into_iter().map(|r| r.clue_id).collect();
                    let mut want: Vec<String> = folded.iter().filter(|(_, s)| has(s)).map(|(c, _)| c.clone()).collect();
                    got.sort();
                    want.sort();
                    reached[k] += want.len();
                    assert_eq!(got, want, "seed {seed}, {flag:?} as of {as_of}");
                }
                // the counts agree with the listing they count, kept or counted
                let filters = [
                    ClueFilter { as_of: Some(as_of), ..Default::default() },
                    all.clone(),
                    ClueFilter { as_of: Some(as_of), mark: Some(Mark::Resolved), ..Default::default() },
                    ClueFilter {
                        as_of: Some(as_of),
                        scope: Some(["U1".to_string()].into()),
                        severity: Some("medium".into()),
                        ..Default::default()
                    },
                    ClueFilter { as_of: Some(as_of), unit: Some("甲局".into()), ..Default::default() },
                    ClueFilter { as_of: Some(as_of), unit: Some("U2".into()), ..Default::default() },
                    ClueFilter {
                        as_of: Some(as_of),
                        unit: Some("U2".into()),
                        scope: Some(["U1".to_string()].into()),
                        ..Default::default()
                    },
                    ClueFilter {
                        as_of: Some(as_of),
                        model: Some("m2".into()),
                        order: ClueOrder::Amount,
                        ..Default::default()
                    },
                    ClueFilter {
                        as_of: Some(as_of),
                        scope: Some(["U1".to_string()].into()),
                        status: Some(Status::Pending),
                        ..Default::default()
                    },
                    ClueFilter { as_of: Some(as_of), flag: Some(super::super::Flag::Excepted), ..Default::default() },
                    ClueFilter { as_of: Some(as_of), flag: Some(super::super::Flag::Overdue), ..Default::default() },
                    ClueFilter {
                        as_of: Some(as_of),
                        flag: Some(super::super::Flag::RectificationFailed),
                        ..Default::default()
                    },
                    ClueFilter { as_of: Some(as_of), new_since: Some("R002".into()), ..Default::default() },
                ];
                for f in &filters {
                    let listed = l.clues(f).unwrap();
                    // along the ordering's index or through a filter's: the same clues in the same order
                    let ids =
                        |rows: Vec<crate::ledger::ClueRow>| rows.into_iter().map(|r| r.clue_id).collect::<Vec<_>>();
                    for path in
                        [Path::Walk, Path::Through("model"), Path::Through("status"), Path::Through("unit_code")]
                    {
                        assert_eq!(
                            ids(l.select(f, path).unwrap()),
                            ids(listed.clone()),
                            "seed {seed}, {path:?}, {f:?}"
                        );
                    }
                    // a page as the workbench asks for it (which may narrow a unit to its code)
                    let page = l.clue_page(f, 10_000).unwrap();
                    assert_eq!(ids(page.rows), ids(listed.clone()), "seed {seed}, page of {f:?}");
                    assert_eq!(page.total, listed.len(), "seed {seed}, total of {f:?}");
                    // (the counts by status are of the filter without its status)
                    let tally = l.clue_tally(f).unwrap();
                    let any_status = l.clues(&ClueFilter { status: None, ..f.clone() }).unwrap();
                    for s in Status::ALL {
                        let n = any_status.iter().filter(|r| r.state.as_ref().unwrap().status == s).count();
                        let counted = tally.iter().find(|(t, _)| *t == s).map(|(_, n)| *n).unwrap_or(0);
                        assert_eq!(counted, n, "seed {seed}, {s:?} as of {as_of} under {f:?}");
                    }
                }
            }
            // paging with a cursor walks exactly the whole listing, in every order
            for order in [ClueOrder::Severity, ClueOrder::Amount, ClueOrder::Newest, ClueOrder::Unit] {
                let f = ClueFilter { all: true, order, ..Default::default() };
                let whole: Vec<String> = l.clues(&f).unwrap().into_iter().map(|r| r.clue_id).collect();
                let mut paged: Vec<String> = Vec::new();
                let mut after = None;
                loop {
                    let page = l.clue_page(&ClueFilter { after, ..f.clone() }, 3).unwrap();
                    assert_eq!(page.total, whole.len(), "seed {seed}: the total is of the whole listing");
                    paged.extend(page.rows.into_iter().map(|r| r.clue_id));
                    match page.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                assert_eq!(paged, whole, "seed {seed}, {order:?}");
            }
        }
        assert!(reached.iter().all(|n| *n > 0), "not excepted, excepted, overdue, rectification failed: {reached:?}");
    }

    #[test]
    fn a_projection_edited_by_hand_is_found_and_drawn_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        l.record(&report("R1", "m", &["a", "b"], None), "file:///lake/").unwrap();
        let clue = crate::runner::clue_id("m", ["a"]);
        l.act(&clue, "甲", Step::Triage { dismiss: false, route_to: None, persons: vec![] }, None).unwrap();
        assert!(l.check_clue_state(10).unwrap().is_empty());
        l.conn.execute("UPDATE clue_state SET status = 'closed' WHERE clue_id = ?1", [&clue]).unwrap();
        l.conn.execute("DELETE FROM clue_state WHERE clue_id <> ?1", [&clue]).unwrap();
        let differ = l.check_clue_state(10).unwrap();
        assert!(differ.iter().any(|d| d.contains(&clue) && d.contains("status='closed'")), "{differ:#?}");
        assert!(differ.iter().any(|d| d.contains("missing")), "{differ:#?}");
        assert_eq!(l.rebuild_clue_state().unwrap(), 2);
        assert!(l.check_clue_state(10).unwrap().is_empty());
        let routed = ClueFilter { status: Some(Status::Routed), ..Default::default() };
        assert_eq!(l.clues(&routed).unwrap().len(), 1);
    }
}

#[cfg(test)]
mod upgrade {
    use super::super::tests::report;
    use super::super::{ClueFilter, Ledger, Mark, Status, Step};

    /// A ledger written before the projection (schema 10) is upgraded with its clues' states
    /// drawn from the facts, and its runs' marks counted.
    #[test]
    fn a_ledger_from_before_the_projection_is_drawn_when_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let clue = crate::runner::clue_id("m", ["a"]);
        {
            let mut l = Ledger::open(&path).unwrap();
            l.record(&report("R1", "m", &["a", "b"], None), "file:///lake/").unwrap();
            l.record(&report("R2", "m", &["a"], None), "file:///lake/").unwrap();
            l.act(&clue, "甲", Step::Triage { dismiss: false, route_to: None, persons: vec![] }, None).unwrap();
            // back to schema 10: what migrations 11 to 14 add is not there
            l.conn
                .execute_batch(
                    "DROP TABLE clue_state; DROP TABLE clue_counts; DROP INDEX clues_model_first;
                     ALTER TABLE runs DROP COLUMN marks; ALTER TABLE runs DROP COLUMN engine;
                     ALTER TABLE run_models DROP COLUMN carried_from; ALTER TABLE run_models DROP COLUMN increment;
                     ALTER TABLE run_models DROP COLUMN full_from; ALTER TABLE run_models DROP COLUMN updates;
                     ALTER TABLE run_models DROP COLUMN unassessed;
                     PRAGMA user_version = 10;",
                )
                .unwrap();
        }
        let mut l = Ledger::open(&path).unwrap();
        assert!(l.check_clue_state(10).unwrap().is_empty());
        let routed = l.clues(&ClueFilter { status: Some(Status::Routed), ..Default::default() }).unwrap();
        assert_eq!(routed.iter().map(|r| r.clue_id.clone()).collect::<Vec<_>>(), vec![clue]);
        let resolved = l.clues(&ClueFilter { mark: Some(Mark::Resolved), ..Default::default() }).unwrap();
        assert_eq!(resolved.len(), 1);
        let runs = l.run_rows(10).unwrap();
        assert_eq!(runs[0].marks.get(&Mark::Resolved), Some(&1), "{:?}", runs[0].marks);
        assert_eq!(runs[1].marks.get(&Mark::New), Some(&2), "{:?}", runs[1].marks);
    }
}
