//! What is due: a pure function of a job's schedule, its time zone, when it last ran and now.
//! Ticks missed while the server was down collapse into one run (the latest of them), never one
//! run per missed tick.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The tick a job should run for now, if any: the latest tick of `schedule` (read in `tz`)
/// after `last` and not after `now`. A job that never ran is not due for ticks before `since`
/// (the server's start): only for ticks from then on.
pub fn due(
    schedule: &cron::Schedule,
    tz: Tz,
    last: Option<DateTime<Utc>>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let from = match last {
        Some(l) => l,
        // a tick exactly at the start counts
        None => since - chrono::Duration::milliseconds(1),
    };
    if from >= now {
        return None;
    }
    // the latest tick not after now, found walking back from now (ticks are whole seconds, and
    // cron's walk back from a time with a fraction starts at that time's second): no walk over
    // every tick missed, which for a per-second schedule after a month down is millions
    use chrono::SubsecRound;
    let start = now.trunc_subsecs(0) + chrono::Duration::nanoseconds(1);
    let latest = schedule.after(&start.with_timezone(&tz)).next_back()?.with_timezone(&Utc);
    (latest > from && latest <= now).then_some(latest)
}

/// The next tick after `now`, for "next run at …" and for sleeping until it.
pub fn next(schedule: &cron::Schedule, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule.after(&now.with_timezone(&tz)).next().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::TimeZone;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_daily_job_in_shanghai_is_due_at_its_local_time() {
        // 02:30 every day, Beijing time = 18:30 UTC the day before (no DST in Asia/Shanghai)
        let s = cron::Schedule::from_str("0 30 2 * * *").unwrap();
        let tz = chrono_tz::Asia::Shanghai;
        let start = at("2026-03-01T00:00:00Z");
        assert_eq!(due(&s, tz, None, start, at("2026-03-01T18:29:59Z")), None);
        assert_eq!(due(&s, tz, None, start, at("2026-03-01T18:30:00Z")), Some(at("2026-03-01T18:30:00Z")));
        // once it ran, not again until the next day's tick
        let ran = at("2026-03-01T18:30:00Z");
        assert_eq!(due(&s, tz, Some(ran), start, at("2026-03-02T18:29:00Z")), None);
        assert_eq!(due(&s, tz, Some(ran), start, at("2026-03-02T18:31:00Z")), Some(at("2026-03-02T18:30:00Z")));
        assert_eq!(next(&s, tz, ran), Some(at("2026-03-02T18:30:00Z")));
        // the same schedule in UTC fires at 02:30 UTC
        assert_eq!(
            due(&s, chrono_tz::UTC, None, start, at("2026-03-01T02:30:00Z")),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 2, 30, 0).unwrap())
        );
    }

    #[test]
    fn ticks_missed_while_down_make_one_run_and_history_before_the_start_none() {
        let s = cron::Schedule::from_str("0 0 * * * *").unwrap(); // hourly
        let tz = chrono_tz::Asia::Shanghai;
        // last ran at 01:00; the server was down until 05:20: one run, for the 05:00 tick
        let last = at("2026-03-01T01:00:00Z");
        let now = at("2026-03-01T05:20:00Z");
        assert_eq!(due(&s, tz, Some(last), now, now), Some(at("2026-03-01T05:00:00Z")));
        // a job that never ran does not make up for ticks before the server started
        assert_eq!(due(&s, tz, None, now, now), None);
        assert_eq!(due(&s, tz, None, now, at("2026-03-01T06:00:00Z")), Some(at("2026-03-01T06:00:00Z")));
        // a clock behind the last run (adjusted backwards) makes nothing due
        assert_eq!(due(&s, tz, Some(now), now, last), None);
    }

    #[test]
    fn a_per_second_schedule_down_for_a_year_is_due_once_for_its_last_tick() {
        let s = cron::Schedule::from_str("* * * * * *").unwrap();
        let tz = chrono_tz::Asia::Shanghai;
        let last = at("2025-03-01T00:00:00Z");
        let now = at("2026-03-01T12:34:56.789Z");
        assert_eq!(due(&s, tz, Some(last), now, now), Some(at("2026-03-01T12:34:56Z")));
        // a tick exactly at now counts; one a moment later does not
        let now = at("2026-03-01T12:34:56Z");
        assert_eq!(due(&s, tz, Some(last), now, now), Some(now));
        assert_eq!(due(&s, tz, Some(now), now, now), None);
        let s = cron::Schedule::from_str("0 0 0 1 1 *").unwrap();
        assert_eq!(due(&s, tz, Some(last), now, now), Some(at("2025-12-31T16:00:00Z")));
        assert_eq!(due(&s, tz, Some(at("2025-12-31T16:00:00Z")), now, now), None);
    }
}
