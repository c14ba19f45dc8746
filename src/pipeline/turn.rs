//! One pipeline at a time per ledger: a job takes the ledger's `pipeline` lease before it
//! ingests and holds it (renewed in the background) until it has recorded, so a second
//! `pipeline` — or a scheduled job beside a manual one — waits its turn instead of taking the
//! datasets the first made current for its own failures. A holder that died is passed over at
//! once; one elsewhere must let its lease expire.

use std::path::PathBuf;
use std::time::Duration;

use crate::ledger::Ledger;

/// The lease's name.
pub const LEASE: &str = "pipeline";
/// How long the lease lasts unless renewed (renewed at a third of this).
const TTL: Duration = Duration::from_secs(60);
/// How often a waiting job looks again.
const POLL: Duration = Duration::from_millis(250);

/// This job's turn; released when dropped.
pub struct Turn {
    ledger: PathBuf,
    holder: String,
    renew: tokio::task::JoinHandle<()>,
}

impl Turn {
    /// Waits for the turn (until `deadline`, if any) and takes it.
    pub async fn take(
        ledger: &mut Ledger,
        deadline: Option<tokio::time::Instant>,
        notice: Option<&super::job::Notice>,
    ) -> anyhow::Result<Turn> {
        let holder = crate::ledger::lease_holder_id(chrono::Utc::now());
        let ttl = chrono::Duration::from_std(TTL)?;
        let mut told = false;
        loop {
            let taken = tokio::task::block_in_place(|| {
                ledger.take_lease(LEASE, &holder, chrono::Utc::now(), ttl, &crate::ledger::holder_died)
            })?;
            match taken {
                Ok(()) => break,
                Err(other) => {
                    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                        anyhow::bail!(
                            "另一个导入运行仍在进行 another pipeline ({}) still holds this ledger at the job's timeout",
                            other.holder
                        );
                    }
                    if !told && let Some(n) = notice {
                        (n.0)(&format!(
                            "等待另一个导入运行结束 waiting for another pipeline on this ledger to finish ({}, lease until {})",
                            other.holder,
                            other.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ));
                    }
                    told = true;
                    tokio::time::sleep(POLL).await;
                }
            }
        }
        let path = ledger.path().to_path_buf();
        let renew = {
            let (path, holder) = (path.clone(), holder.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(TTL / 3).await;
                    let (path, holder) = (path.clone(), holder.clone());
                    let renewed = tokio::task::spawn_blocking(move || {
                        let mut l = Ledger::open_existing(&path).ok()?;
                        l.take_lease(LEASE, &holder, chrono::Utc::now(), ttl, &|_| false).ok()
                    })
                    .await;
                    if !matches!(renewed, Ok(Some(Ok(())))) {
                        return;
                    }
                }
            })
        };
        Ok(Turn { ledger: path, holder, renew })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.renew.abort();
        if let Ok(mut l) = Ledger::open_existing(&self.ledger) {
            let _ = l.release_lease(LEASE, &self.holder);
        }
    }
}
