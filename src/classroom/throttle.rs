//! Failed logins, counted per client address: after a few, each attempt is slowed; after
//! more, logins from that address are refused for a while. In memory: a restart forgives.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::ClassroomConfig;

/// The longest an attempt is slowed.
const MAX_DELAY: Duration = Duration::from_secs(5);
/// Addresses remembered at most; past this, the oldest records are forgotten.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// What to do with a login attempt from an address.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead, after this pause.
    Proceed(Duration),
    /// Refused; ask again after this long.
    Refused(Duration),
}

pub struct Throttle {
    limits: ClassroomConfig,
    failures: HashMap<IpAddr, Failures>,
}

impl Throttle {
    pub fn new(limits: ClassroomConfig) -> Self {
        Self {
            limits,
            failures: HashMap::new(),
        }
    }

    fn lockout(&self) -> Duration {
        Duration::from_secs(self.limits.login_lockout_secs)
    }

    /// Whether an attempt from `client` may go ahead now.
    pub fn check(&mut self, client: IpAddr, now: Instant) -> Verdict {
        let lockout = self.lockout();
        let Some(seen) = self.failures.get(&client).copied() else {
            return Verdict::Proceed(Duration::ZERO);
        };
        if now.duration_since(seen.last) >= lockout {
            // Long enough ago: start afresh.
            self.failures.remove(&client);
            return Verdict::Proceed(Duration::ZERO);
        }
        if seen.count >= self.limits.login_lockout_after_failures {
            return Verdict::Refused(lockout - now.duration_since(seen.last));
        }
        let over = seen
            .count
            .saturating_sub(self.limits.login_slow_after_failures);
        Verdict::Proceed(Duration::from_secs(u64::from(over)).min(MAX_DELAY))
    }

    pub fn failed(&mut self, client: IpAddr, now: Instant) {
        if self.failures.len() >= MAX_TRACKED {
            let lockout = self.lockout();
            self.failures
                .retain(|_, f| now.duration_since(f.last) < lockout);
        }
        let entry = self.failures.entry(client).or_insert(Failures {
            count: 0,
            last: now,
        });
        entry.count += 1;
        entry.last = now;
    }

    pub fn succeeded(&mut self, client: IpAddr) {
        self.failures.remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_slow_then_refuse_then_are_forgiven() {
        let mut throttle = Throttle::new(ClassroomConfig::default());
        let client: IpAddr = "10.1.2.3".parse().unwrap();
        let other: IpAddr = "10.1.2.4".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                throttle.check(client, start),
                Verdict::Proceed(Duration::ZERO)
            );
            throttle.failed(client, start);
        }
        throttle.failed(client, start);
        assert_eq!(
            throttle.check(client, start),
            Verdict::Proceed(Duration::from_secs(1))
        );
        for _ in 0..6 {
            throttle.failed(client, start);
        }
        assert_eq!(
            throttle.check(client, start),
            Verdict::Refused(Duration::from_secs(900))
        );
        assert_eq!(
            throttle.check(other, start),
            Verdict::Proceed(Duration::ZERO)
        );
        let later = start + Duration::from_secs(901);
        assert_eq!(
            throttle.check(client, later),
            Verdict::Proceed(Duration::ZERO)
        );
    }
}
