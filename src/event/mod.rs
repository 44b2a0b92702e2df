//! The domain event stream: what happens to learners' sessions (started, terminal attached
//! or detached, a check run with its result, a step passed, ended), as typed events that
//! the classroom views subscribe to. Events come from the domain calls themselves, so every
//! path that changes a session (HTTP, lifecycle limits, start-up recovery) reports it.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::check::CheckResult;

/// Events kept for subscribers that fall behind; one that falls further skips ahead (and is
/// told how many it missed by `broadcast`'s `Lagged`).
const BACKLOG: usize = 1024;

/// Something that happened to a learner's session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A sandbox is ready for its learner (`lesson` is `None` for free practice).
    SessionStarted {
        session: String,
        owner: String,
        lesson: Option<String>,
    },
    /// A browser opened the session's terminal; `attached` counts them now.
    TerminalAttached { session: String, attached: usize },
    /// A browser left the session's terminal; `attached` counts those still there.
    TerminalDetached { session: String, attached: usize },
    /// A step's checks ran (the Check button, a watch step, or an API client).
    CheckRun {
        session: String,
        owner: String,
        lesson: String,
        step: usize,
        step_key: String,
        passed: bool,
        checks: Vec<CheckResult>,
    },
    /// A step passed for the first time or again (progress is recorded once).
    StepPassed {
        session: String,
        owner: String,
        lesson: String,
        step: usize,
        step_key: String,
    },
    /// The learner pressed "I'm stuck" on a step of their lesson.
    HelpRequested {
        session: String,
        owner: String,
        lesson: String,
        step: usize,
        step_key: String,
    },
    /// An instructor dismissed a student's flags (help, stuck) on their current step.
    FlagsDismissed { student: String, by: String },
    /// The session is gone, and why (deleted, idle timeout, lifetime, the sandbox died).
    SessionEnded {
        session: String,
        owner: String,
        reason: String,
    },
}

/// An event with the time it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamped {
    /// Unix seconds.
    pub at: i64,
    #[serde(flatten)]
    pub event: Event,
}

/// The stream: cheap to clone; sending never waits for subscribers.
#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<Arc<Stamped>>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            sender: broadcast::Sender::new(BACKLOG),
        }
    }
}

impl Events {
    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Stamped>> {
        self.sender.subscribe()
    }

    /// Publishes `event`; with nobody listening it is simply dropped.
    pub fn emit(&self, event: Event) {
        let at = crate::session::terminal::unix_now();
        // An error only means no subscriber right now.
        let _ = self.sender.send(Arc::new(Stamped { at, event }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_events_in_order_with_a_time() {
        let events = Events::default();
        let mut rx = events.subscribe();
        events.emit(Event::TerminalAttached {
            session: "s".into(),
            attached: 1,
        });
        events.emit(Event::TerminalDetached {
            session: "s".into(),
            attached: 0,
        });
        let first = rx.recv().await.unwrap();
        assert!(first.at > 0);
        assert_eq!(
            serde_json::to_value(&*first).unwrap(),
            serde_json::json!({"at": first.at, "type": "terminal_attached", "session": "s", "attached": 1})
        );
        assert!(matches!(
            rx.recv().await.unwrap().event,
            Event::TerminalDetached { attached: 0, .. }
        ));
    }
}
