//! Batch windows: every event is queued, and the execution of the window it was queued in drains
//! it. Time is cut into windows of W seconds (`floor(now / W)`); each window has one execution,
//! named after the window's start, whose input is the same for every caller in that window. So
//! StartExecution is idempotent: the first call starts it, the others find it running.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

use crate::ports::{ErrorKind, Executions, PortError};
use crate::settings::WindowSettings;

/// One batch window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Unix seconds.
    pub start: i64,
    pub seconds: u32,
}

fn rfc3339(unix: i64) -> String {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Window {
    /// The window that contains `now`.
    pub fn containing(now: DateTime<Utc>, seconds: u32) -> Self {
        let w = i64::from(seconds.max(1));
        Window { start: now.timestamp().div_euclid(w) * w, seconds: seconds.max(1) }
    }

    pub fn end(&self) -> i64 {
        self.start + i64::from(self.seconds)
    }

    /// The window after this one.
    pub fn next(&self) -> Self {
        Window { start: self.end(), seconds: self.seconds }
    }

    /// `PREFIX-yyyyMMddTHHmmssZ` (letters, digits and `-`: valid for Step Functions and readable in
    /// the console).
    pub fn execution_name(&self, prefix: &str) -> String {
        let at = Utc.timestamp_opt(self.start, 0).single().unwrap_or_default();
        format!("{prefix}-{}", at.format("%Y%m%dT%H%M%SZ"))
    }

    /// The execution input: the window and the moment to stop waiting (its end plus the settle
    /// margin). Identical for every call in the window, as StartExecution's idempotency requires.
    pub fn execution_input(&self, settle_seconds: u32) -> Value {
        json!({
            "window": {
                "start": rfc3339(self.start),
                "end": rfc3339(self.end()),
                "seconds": self.seconds,
            },
            "waitUntil": rfc3339(self.end() + i64::from(settle_seconds)),
        })
    }
}

/// What starting a window's execution found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// Started now, or found running with the same input.
    Started,
    /// An execution with the window's name exists with another input, or has closed.
    Existed,
}

/// Starts the execution of the window containing `now`, with the name and input every caller in
/// that window computes: ingest after queueing, collect when it leaves a backlog, and
/// `cfinv start-window` after messages were put back in the queue by hand. Returns its name.
pub async fn start_execution<E: Executions>(
    executions: &E,
    state_machine_arn: &str,
    settings: &WindowSettings,
    now: DateTime<Utc>,
) -> Result<(String, Started), (String, PortError)> {
    let window = Window::containing(now, settings.window_seconds);
    let name = window.execution_name(&settings.execution_prefix);
    let input = window.execution_input(settings.settle_seconds).to_string();
    match executions.start(state_machine_arn, &name, &input).await {
        Ok(()) => Ok((name, Started::Started)),
        Err(e) if e.kind == ErrorKind::AlreadyExists => Ok((name, Started::Existed)),
        Err(e) => Err((name, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_names() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 19).unwrap();
        let w = Window::containing(t, 10);
        assert_eq!(w.execution_name("cfinv"), "cfinv-20261126T054010Z");
        assert_eq!(w.next().execution_name("cfinv"), "cfinv-20261126T054020Z");
        assert_eq!(
            w.execution_input(2),
            json!({"window": {"start": "2026-11-26T05:40:10Z", "end": "2026-11-26T05:40:20Z", "seconds": 10},
                   "waitUntil": "2026-11-26T05:40:22Z"})
        );
        let last_second = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 10).unwrap();
        assert_eq!(Window::containing(last_second, 10), w);
    }

    #[tokio::test]
    async fn starting_a_window_is_idempotent_and_reports_what_it_found() {
        use crate::fakes::FakeExecutions;
        let settings = WindowSettings {
            state_machine_arn: None,
            window_seconds: 10,
            settle_seconds: 2,
            execution_prefix: "cfinv".into(),
        };
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 19).unwrap();
        let ex = FakeExecutions::default();
        let started = start_execution(&ex, "arn:sm", &settings, t).await.unwrap();
        assert_eq!(started, ("cfinv-20261126T054010Z".to_owned(), Started::Started));
        let (_, name, input) = ex.starts()[0].clone();
        assert_eq!(name, "cfinv-20261126T054010Z");
        assert_eq!(input, Window::containing(t, 10).execution_input(2).to_string());

        let exists = FakeExecutions::default().failing(ErrorKind::AlreadyExists);
        assert_eq!(start_execution(&exists, "arn:sm", &settings, t).await.unwrap().1, Started::Existed);
        let denied = FakeExecutions::default().failing(ErrorKind::AccessDenied);
        let (name, e) = start_execution(&denied, "arn:sm", &settings, t).await.unwrap_err();
        assert_eq!((name.as_str(), e.kind), ("cfinv-20261126T054010Z", ErrorKind::AccessDenied));
    }
}
