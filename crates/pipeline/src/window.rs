//! Batch windows: every event is queued, and the execution of the window it was queued in drains
//! it. Time is cut into windows of W seconds (`floor(now / W)`); each window has one execution,
//! named after the window's length and start (`cfinv-10s-20261126T054010Z`), whose input is the
//! same for every caller in that window. So StartExecution is idempotent: the first call starts it,
//! the others find it running.
//!
//! A name can be taken by an execution that has *closed*: Step Functions keeps names for 90 days,
//! and a window's execution may be started again after its own finished (the sweeper, or
//! `cfinv start-window`, finding messages a failed run gave back). StartExecution then answers
//! `ExecutionAlreadyExists`, which must not count as started: the window's successor names
//! (`...Z-2`, `...Z-3`) are tried, the same for every caller, so the callers of one window still
//! meet in one execution. The window's length is in the name so that changing `WindowSeconds`
//! never makes new windows collide with finished ones of the old length.

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

    /// `PREFIX-{W}s-yyyyMMddTHHmmssZ` (letters, digits and `-`: valid for Step Functions and
    /// readable in the console).
    pub fn execution_name(&self, prefix: &str) -> String {
        let at = Utc.timestamp_opt(self.start, 0).single().unwrap_or_default();
        format!("{prefix}-{}s-{}", self.seconds, at.format("%Y%m%dT%H%M%SZ"))
    }

    /// The window an execution name was made from (successor suffixes allowed), if it is one.
    pub fn of_execution_name(prefix: &str, name: &str) -> Option<Window> {
        let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
        let (seconds, rest) = rest.split_once("s-")?;
        let seconds: u32 = seconds.parse().ok()?;
        let stamp = rest.get(..16)?;
        let at = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
        Some(Window { start: at.and_utc().timestamp(), seconds })
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
    /// An execution of the window is running already (it drains the queue when the window closes).
    Existed,
}

/// How many successor names a window may use (`...Z-2` to `...Z-20`).
pub const MAX_SUCCESSORS: u32 = 20;

/// The ARN of an execution of a state machine, by name.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!("{}:{name}", state_machine_arn.replacen(":stateMachine:", ":execution:", 1))
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
    let base = window.execution_name(&settings.execution_prefix);
    let input = window.execution_input(settings.settle_seconds).to_string();
    for n in 1..=MAX_SUCCESSORS {
        let name = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        match executions.start(state_machine_arn, &name, &input).await {
            Ok(()) => return Ok((name, Started::Started)),
            Err(e) if e.kind == ErrorKind::AlreadyExists => {
                // Running: it drains this window. Closed: the name is spent, try the next one.
                match executions.is_running(&execution_arn(state_machine_arn, &name)).await {
                    Ok(true) => return Ok((name, Started::Existed)),
                    Ok(false) => continue,
                    Err(e) => return Err((name, e)),
                }
            }
            Err(e) => return Err((name, e)),
        }
    }
    let e = PortError::new(
        ErrorKind::AlreadyExists,
        format!("{base} and its {} successors have all closed", MAX_SUCCESSORS - 1),
    );
    Err((base, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_names() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 19).unwrap();
        let w = Window::containing(t, 10);
        assert_eq!(w.execution_name("cfinv"), "cfinv-10s-20261126T054010Z");
        assert_eq!(w.next().execution_name("cfinv"), "cfinv-10s-20261126T054020Z");
        assert_eq!(Window::of_execution_name("cfinv", "cfinv-10s-20261126T054010Z"), Some(w));
        assert_eq!(Window::of_execution_name("cfinv", "cfinv-10s-20261126T054010Z-3"), Some(w));
        assert_eq!(Window::of_execution_name("cfinv", "other-10s-20261126T054010Z"), None);
        assert_eq!(
            Window::containing(t, 60).execution_name("cfinv"),
            "cfinv-60s-20261126T054000Z",
            "the length is in the name"
        );
        assert_eq!(
            w.execution_input(2),
            json!({"window": {"start": "2026-11-26T05:40:10Z", "end": "2026-11-26T05:40:20Z", "seconds": 10},
                   "waitUntil": "2026-11-26T05:40:22Z"})
        );
        let last_second = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 10).unwrap();
        assert_eq!(Window::containing(last_second, 10), w);
    }

    fn ten_second_windows() -> WindowSettings {
        WindowSettings {
            state_machine_arn: None,
            window_seconds: 10,
            settle_seconds: 2,
            execution_prefix: "cfinv".into(),
        }
    }

    #[tokio::test]
    async fn starting_a_window_is_idempotent_and_reports_what_it_found() {
        use crate::fakes::FakeExecutions;
        let settings = ten_second_windows();
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 19).unwrap();
        let ex = FakeExecutions::default();
        let started = start_execution(&ex, "arn:sm", &settings, t).await.unwrap();
        assert_eq!(started, ("cfinv-10s-20261126T054010Z".to_owned(), Started::Started));
        let (_, name, input) = ex.starts()[0].clone();
        assert_eq!(name, "cfinv-10s-20261126T054010Z");
        assert_eq!(input, Window::containing(t, 10).execution_input(2).to_string());

        let exists = FakeExecutions::default().failing(ErrorKind::AlreadyExists);
        assert_eq!(start_execution(&exists, "arn:sm", &settings, t).await.unwrap().1, Started::Existed);
        let denied = FakeExecutions::default().failing(ErrorKind::AccessDenied);
        let (name, e) = start_execution(&denied, "arn:sm", &settings, t).await.unwrap_err();
        assert_eq!((name.as_str(), e.kind), ("cfinv-10s-20261126T054010Z", ErrorKind::AccessDenied));
    }

    #[tokio::test]
    async fn a_name_taken_by_a_closed_execution_moves_to_the_windows_successor() {
        use crate::fakes::FakeExecutions;
        let settings = ten_second_windows();
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 5, 40, 19).unwrap();
        let ex = FakeExecutions::default();
        ex.closed
            .lock()
            .unwrap()
            .extend(["cfinv-10s-20261126T054010Z".to_owned(), "cfinv-10s-20261126T054010Z-2".to_owned()]);
        let sm = "arn:aws:states:us-east-1:1:stateMachine:cfinv";
        assert_eq!(
            start_execution(&ex, sm, &settings, t).await.unwrap(),
            ("cfinv-10s-20261126T054010Z-3".to_owned(), Started::Started)
        );
        // Every caller of the window meets there.
        assert_eq!(start_execution(&ex, sm, &settings, t).await.unwrap().0, "cfinv-10s-20261126T054010Z-3");
        assert_eq!(execution_arn(sm, "x"), "arn:aws:states:us-east-1:1:execution:cfinv:x");
    }
}
