//! Lifecycle rules: re-adoption and the start-up sweep, idle timeout, maximum lifetime.

use std::collections::HashMap;
use std::time::Duration;

use super::terminal::unix_now;
use super::{SessionError, SessionId, Sessions, TerminalState};
use crate::config::SandboxConfig;
use crate::store::StoredSession;

/// The reaper never waits longer than this between rounds.
const MAX_REAP_INTERVAL: Duration = Duration::from_secs(15);
/// ... nor less than this.
const MIN_REAP_INTERVAL: Duration = Duration::from_millis(250);

/// How often the reaper looks: a quarter of the idle timeout, within bounds.
fn reap_interval(limits: &SandboxConfig) -> Duration {
    (limits.idle_timeout() / 4).clamp(MIN_REAP_INTERVAL, MAX_REAP_INTERVAL)
}

/// When a session created at `created_at`, given `extra_secs` more by an instructor,
/// reaches its maximum lifetime.
pub(super) fn lifetime_end(limits: &SandboxConfig, created_at: i64, extra_secs: i64) -> i64 {
    created_at + limits.max_lifetime_secs as i64 + extra_secs
}

/// Why a session must end now, if it must.
fn expiry(
    limits: &SandboxConfig,
    now: i64,
    expires_at: i64,
    last_active: i64,
    attached: usize,
) -> Option<&'static str> {
    if now >= expires_at {
        Some("maximum lifetime reached")
    } else if attached == 0 && now - last_active >= limits.idle_timeout_secs as i64 {
        Some("idle timeout")
    } else {
        None
    }
}

/// At start-up: re-adopt stored sessions whose container still runs and whose limits have
/// not passed; remove every other container labelled with this instance and forget every
/// other stored session. Learners keep their sandbox (files, processes) across a restart.
pub async fn recover(sessions: &Sessions) -> Result<(), SessionError> {
    let sandboxes = &sessions.inner.sandboxes;
    let mut stored: HashMap<String, StoredSession> = sessions
        .store(|s| s.sessions())
        .await?
        .into_iter()
        .map(|s| (s.container_id.clone(), s))
        .collect();
    let now = unix_now();
    let mut foreign = 0;
    for found in sandboxes.list().await? {
        // Another server (another database) on this engine with the same instance name:
        // its sandboxes are live, not leftovers.
        if found.server_id.is_some() && found.server_id.as_deref() != sandboxes.server_id() {
            foreign += 1;
            continue;
        }
        let keep = stored.remove(&found.container_id).filter(|s| {
            found.running
                && found.session_id.as_deref() == Some(s.id.as_str())
                && expiry(
                    sandboxes.limits(),
                    now,
                    lifetime_end(sandboxes.limits(), s.created_at, s.extra_secs),
                    s.last_active,
                    0,
                )
                .is_none()
        });
        match keep {
            Some(session) => {
                tracing::info!(session = %session.id, "re-adopted sandbox");
                sessions.adopt(session);
            }
            None => {
                tracing::info!(container = %found.container_id, "removing leftover sandbox");
                sandboxes.remove(&found.container_id).await?;
                if let Some(id) = found.session_id {
                    sessions.store(move |s| s.delete_session(&id)).await?;
                }
            }
        }
    }
    if foreign > 0 {
        tracing::warn!(
            "{foreign} sandbox(es) with this instance name belong to another Pathshala server \
             on this Docker engine; left alone. Give each server its own `instance`."
        );
    }
    // Stored sessions whose container has disappeared.
    for session in stored.into_values() {
        sessions
            .store(move |s| s.delete_session(&session.id))
            .await?;
    }
    Ok(())
}

/// Runs [`reap_once`] forever, logging failures (a Docker hiccup must not stop the reaper).
pub async fn reap_forever(sessions: Sessions) {
    let interval = reap_interval(sessions.limits());
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = reap_once(&sessions).await {
            tracing::warn!("reaper: {e}");
        }
    }
}

/// Ends sessions past their idle timeout or lifetime, and sessions whose sandbox has died.
pub async fn reap_once(sessions: &Sessions) -> Result<(), SessionError> {
    let now = unix_now();
    let mut doomed: Vec<(SessionId, String)> = Vec::new();
    for session in sessions.snapshot() {
        let terminal = &session.terminal;
        let reason = match &*terminal.state().borrow() {
            TerminalState::Ended(reason) => Some(reason.clone()),
            TerminalState::Running => expiry(
                sessions.limits(),
                now,
                session.expires_at(sessions.limits()),
                terminal.last_active(),
                terminal.attached(),
            )
            .map(str::to_string),
        };
        if let Some(reason) = reason {
            doomed.push((session.id.clone(), reason));
        }
    }
    for (id, reason) in doomed {
        tracing::info!(session = %id, "ending session: {reason}");
        // One sandbox the engine will not remove must not keep the others alive; the
        // next round tries it again.
        if let Err(e) = sessions.remove(&id, &reason).await {
            tracing::warn!(session = %id, "could not end session: {e}");
        }
    }
    sessions.persist_activity().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SandboxConfig {
        SandboxConfig {
            idle_timeout_secs: 60,
            max_lifetime_secs: 600,
            ..SandboxConfig::default()
        }
    }

    #[test]
    fn an_attached_terminal_is_never_idle() {
        let ends = lifetime_end(&limits(), 900, 0);
        assert_eq!(expiry(&limits(), 1000, ends, 0, 1), None);
        assert_eq!(expiry(&limits(), 1000, ends, 0, 0), Some("idle timeout"));
    }

    #[test]
    fn lifetime_ends_even_a_busy_session() {
        let ends = lifetime_end(&limits(), 400, 0);
        assert_eq!(
            expiry(&limits(), 1000, ends, 1000, 3),
            Some("maximum lifetime reached")
        );
        // An instructor's extension gives it longer.
        let extended = lifetime_end(&limits(), 400, 120);
        assert_eq!(expiry(&limits(), 1000, extended, 1000, 3), None);
    }

    #[test]
    fn the_reaper_looks_often_enough_for_short_timeouts() {
        let short = SandboxConfig {
            idle_timeout_secs: 2,
            ..SandboxConfig::default()
        };
        assert_eq!(reap_interval(&short), Duration::from_millis(500));
        assert_eq!(reap_interval(&SandboxConfig::default()), MAX_REAP_INTERVAL);
    }
}
