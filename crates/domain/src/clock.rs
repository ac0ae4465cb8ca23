use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Source of the current time, injected so that expiry and retry schedules are testable.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, truncated to milliseconds so stored and returned timestamps agree.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}

/// A clock that stands still until it is set or advanced, so that a test crosses an expiry or a
/// retry back-off by moving the clock instead of waiting for real time to pass.
///
/// Shared between threads (`Arc<ManualClock>`): the test keeps one handle, the service another.
/// Like [`SystemClock`] it has millisecond resolution, so what is stored reads back equal.
#[derive(Debug)]
pub struct ManualClock {
    /// Milliseconds since the Unix epoch.
    millis: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `start` (truncated to milliseconds).
    pub fn at(start: DateTime<Utc>) -> Self {
        Self { millis: AtomicI64::new(start.timestamp_millis()) }
    }

    /// A clock standing at the current wall-clock time: timestamps still look recent to anything
    /// outside the test (e.g. a webhook receiver checking `webhook-timestamp`).
    pub fn starting_now() -> Self {
        Self::at(Utc::now())
    }

    /// Moves the clock to `t` (truncated to milliseconds); backwards is allowed.
    pub fn set(&self, t: DateTime<Utc>) {
        self.millis.store(t.timestamp_millis(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `d` (backward when negative); sub-millisecond parts are dropped.
    pub fn advance(&self, d: Duration) {
        self.millis.fetch_add(d.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.millis.load(Ordering::SeqCst))
            .expect("the manual clock stays within chrono's range")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2030-01-02T03:04:05.678901Z").unwrap().to_utc();
        let clock = ManualClock::at(start);
        assert_eq!(clock.now(), start.trunc_subsecs(3));
        assert_eq!(clock.now(), clock.now());
        clock.advance(Duration::hours(2));
        assert_eq!(clock.now(), start.trunc_subsecs(3) + Duration::hours(2));
        clock.advance(Duration::microseconds(1500));
        assert_eq!(
            clock.now(),
            start.trunc_subsecs(3) + Duration::hours(2) + Duration::milliseconds(1)
        );
        clock.set(start - Duration::days(1));
        assert_eq!(clock.now(), (start - Duration::days(1)).trunc_subsecs(3));
    }

    #[test]
    fn manual_clock_is_shared_across_threads() {
        let clock = std::sync::Arc::new(ManualClock::at(DateTime::UNIX_EPOCH));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let clock = clock.clone();
                std::thread::spawn(move || {
                    (0..1000).for_each(|_| clock.advance(Duration::milliseconds(1)))
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(clock.now(), DateTime::UNIX_EPOCH + Duration::seconds(4));
    }
}
