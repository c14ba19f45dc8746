//! Leases in the ledger: one holder at a time for a named duty, taken and renewed in a write
//! transaction, so two processes on one project cannot both hold it — the scheduler's guard
//! against a second `searchlight serve` (a lease, not a PID file: it works across machines that
//! share the ledger's file system, and a holder that died loses it when it expires). The clock
//! is the caller's.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Error, Ledger};

/// Who holds a lease, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub holder: String,
    pub until: DateTime<Utc>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Ledger {
    /// Who holds the lease `name` (or last held it), and until when.
    pub fn lease_holder(&self, name: &str) -> Result<Option<Holder>, Error> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT holder, expires_at FROM leases WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(holder, until)| {
            let until = DateTime::parse_from_rfc3339(&until).ok()?.with_timezone(&Utc);
            Some(Holder { holder, until })
        }))
    }

    /// Takes (or renews, for the same holder) the lease `name` until `now + ttl`. Another
    /// holder's lease that has not expired is refused with who holds it and until when, unless
    /// `dead` says that holder is known to have died (a process of this machine that is gone):
    /// then it is taken over at once instead of after it expires.
    pub fn take_lease(
        &mut self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        dead: &dyn Fn(&str) -> bool,
    ) -> Result<Result<(), Holder>, Error> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| Error::at(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let current: Option<(String, String)> = tx
            .query_row("SELECT holder, expires_at FROM leases WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(err)?;
        if let Some((other, until)) = current {
            let until = DateTime::parse_from_rfc3339(&until).map(|t| t.with_timezone(&Utc)).unwrap_or(now);
            if other != holder && until > now && !dead(&other) {
                return Ok(Err(Holder { holder: other, until }));
            }
        }
        tx.execute(
            "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET
               acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
               holder = excluded.holder, expires_at = excluded.expires_at",
            params![name, holder, stamp(now), stamp(now + ttl)],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Ok(()))
    }

    /// Gives the lease up, if `holder` holds it.
    pub fn release_lease(&mut self, name: &str, holder: &str) -> Result<(), Error> {
        self.conn
            .execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", params![name, holder])
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

/// Where this process's PIDs mean something, as a lease holder names it: the host name and the
/// PID namespace (two containers may share a host name, never a PID namespace).
pub fn machine() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    match std::fs::read_link("/proc/self/ns/pid") {
        Ok(ns) => format!("{host}/{}", ns.to_string_lossy().trim_start_matches("pid:")),
        Err(_) => host,
    }
}

/// Whether a lease holder (`host/pid-namespace:pid:started`) is known to be dead: a server of
/// this machine and PID namespace whose process is gone (killed, crashed). Its lease is taken
/// over at once rather than after it expires. A holder elsewhere, or one whose process still
/// runs, is never judged dead here; its lease must expire.
pub fn holder_died(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (Some(_), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    if host != machine() || pid == std::process::id() {
        return false;
    }
    process_gone(pid)
}

#[cfg(target_os = "linux")]
fn process_gone(pid: u32) -> bool {
    // a zombie still has its /proc entry and counts as alive until it is reaped
    std::fs::metadata("/proc/self").is_ok() && std::fs::metadata(format!("/proc/{pid}")).is_err()
}

#[cfg(not(target_os = "linux"))]
fn process_gone(_pid: u32) -> bool {
    false
}

/// This process as a lease holder: `host/pid-namespace:pid:millis`.
pub fn holder_id(now: DateTime<Utc>) -> String {
    format!("{}:{}:{}", machine(), std::process::id(), now.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_until_the_lease_expires() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let mut a = Ledger::open(&path).unwrap();
        let mut b = Ledger::open(&path).unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let ttl = Duration::seconds(30);
        let alive = |_: &str| false;
        assert_eq!(a.take_lease("serve", "host-a:1", t0, ttl, &alive).unwrap(), Ok(()));
        // a second server is refused while the first renews
        let refused = b.take_lease("serve", "host-b:2", t0 + Duration::seconds(10), ttl, &alive).unwrap();
        assert_eq!(refused, Err(Holder { holder: "host-a:1".into(), until: t0 + ttl }));
        assert_eq!(a.take_lease("serve", "host-a:1", t0 + Duration::seconds(20), ttl, &alive).unwrap(), Ok(()));
        assert!(b.take_lease("serve", "host-b:2", t0 + Duration::seconds(45), ttl, &alive).unwrap().is_err());
        // the first died: its lease expires and the second takes it over
        assert_eq!(b.take_lease("serve", "host-b:2", t0 + Duration::seconds(51), ttl, &alive).unwrap(), Ok(()));
        assert!(a.take_lease("serve", "host-a:1", t0 + Duration::seconds(52), ttl, &alive).unwrap().is_err());
        // released, it is free at once
        b.release_lease("serve", "host-b:2").unwrap();
        assert_eq!(a.take_lease("serve", "host-a:1", t0 + Duration::seconds(53), ttl, &alive).unwrap(), Ok(()));
        // a holder known to be dead (killed on this machine) is taken over before it expires
        let t1 = t0 + Duration::seconds(54);
        assert!(b.take_lease("serve", "host-b:2", t1, ttl, &alive).unwrap().is_err());
        let a_died = |h: &str| h == "host-a:1";
        assert_eq!(b.take_lease("serve", "host-b:2", t1, ttl, &a_died).unwrap(), Ok(()));
    }

    #[test]
    fn only_a_gone_process_of_this_machine_is_a_dead_holder() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let host = machine();
        if cfg!(target_os = "linux") {
            assert!(holder_died(&format!("{host}:{pid}:1")), "an exited process of this machine");
        }
        assert!(!holder_died(&format!("{host}:{}:1", std::process::id())), "this process");
        assert!(!holder_died(&format!("another-machine-{host}:{pid}:1")), "another machine: wait for expiry");
        assert!(!holder_died("garbage"));
        assert!(!holder_died(&format!("{host}:notapid:1")));
    }
}
