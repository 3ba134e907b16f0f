//! Configuration, from environment variables set by the deployment.
//!
//! Each function reads only what it needs, validates it at start, and fails with one clear error
//! naming the variable. The seed configured its single Lambda with tags `qUrl`, `topicArn` and
//! `errorBucket`; they are `CFINV_QUEUE_URL`, `CFINV_TOPIC_ARN` and `CFINV_ERROR_BUCKET` here.

use std::str::FromStr;
use std::time::Duration;

use cfinv_core::plan::{CacheTags, Policy, DEFAULT_MAX_ITEMS, MAX_SET_SIZE, MAX_WILDCARDS_IN_PROGRESS};
use cfinv_core::{ExceptionPaths, PlanOptions};

use crate::{ErrorName, ErrorType};

/// A setting that is missing or out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is {value:?}: {expected}")]
    Invalid { name: &'static str, value: String, expected: String },
}

impl ErrorName for ConfigError {
    fn error_type(&self) -> ErrorType {
        ErrorType::Misconfigured
    }
}

/// Reads variables through a lookup function (the environment, or a map in tests).
pub struct Vars<F: Fn(&str) -> Option<String>>(pub F);

/// The process environment.
pub fn env() -> Vars<impl Fn(&str) -> Option<String>> {
    Vars(|name: &str| std::env::var(name).ok())
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn raw(&self, name: &'static str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A required string.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.raw(name).ok_or(ConfigError::Missing(name))
    }

    /// An optional string.
    pub fn optional(&self, name: &'static str) -> Option<String> {
        self.raw(name)
    }

    /// `true` or `false` (default `false`).
    pub fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.raw(name).as_deref() {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ConfigError::Invalid { name, value: v.to_owned(), expected: "true or false".to_owned() }),
        }
    }

    /// A number in `range`, or `default` when unset.
    pub fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(value) = self.raw(name) else {
            return Ok(default);
        };
        match value.parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError::Invalid {
                name,
                value,
                expected: format!("a whole number from {} to {}", range.start(), range.end()),
            }),
        }
    }
}

/// The lengths a batch window may have, in seconds (the template's `WindowSeconds` allows the same).
pub const WINDOW_SECONDS_RANGE: std::ops::RangeInclusive<u32> = 1..=3600;

/// How events are grouped into executions; read by ingest (which starts them) and collect (which
/// starts the next one when it leaves a backlog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSettings {
    /// `CFINV_STATE_MACHINE_ARN`; for collect it may also come from the state machine's context.
    pub state_machine_arn: Option<String>,
    /// `CFINV_WINDOW_SECONDS` (default 10): events are batched per window of this length.
    pub window_seconds: u32,
    /// `CFINV_SETTLE_SECONDS` (default 2): after a window closes, how long to wait for late
    /// SendMessage calls to land before draining.
    pub settle_seconds: u32,
    /// `CFINV_EXECUTION_PREFIX` (default `cfinv`): execution names are `PREFIX-{W}s-yyyyMMddTHHmmssZ`.
    pub execution_prefix: String,
}

impl WindowSettings {
    /// `CFINV_STATE_MACHINE_ARN`, for the functions that cannot run without it (ingest, sweep).
    pub fn required_state_machine_arn(&self) -> Result<String, ConfigError> {
        self.state_machine_arn.clone().ok_or(ConfigError::Missing("CFINV_STATE_MACHINE_ARN"))
    }

    pub fn read<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let execution_prefix = vars.optional("CFINV_EXECUTION_PREFIX").unwrap_or_else(|| "cfinv".to_owned());
        if execution_prefix.len() > 40
            || !execution_prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConfigError::Invalid {
                name: "CFINV_EXECUTION_PREFIX",
                value: execution_prefix,
                expected: "at most 40 letters, digits, - or _".to_owned(),
            });
        }
        Ok(WindowSettings {
            state_machine_arn: vars.optional("CFINV_STATE_MACHINE_ARN"),
            window_seconds: vars.number("CFINV_WINDOW_SECONDS", 10, WINDOW_SECONDS_RANGE)?,
            settle_seconds: vars.number("CFINV_SETTLE_SECONDS", 2, 0..=300)?,
            execution_prefix,
        })
    }
}

/// The ingest function's settings.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// `CFINV_QUEUE_URL` (the seed's `qUrl` tag).
    pub queue_url: String,
    pub state_machine_arn: String,
    pub window: WindowSettings,
    /// `CFINV_TAG_CACHE_SECONDS` (default 60): how long a warm container trusts a bucket's
    /// `exceptionPaths` tag.
    pub tag_cache: Duration,
    /// `CFINV_DEFAULT_EXCEPTION_PATHS`: for buckets without the tag (default: none).
    pub default_exception_paths: ExceptionPaths,
    /// `CFINV_SEND_ATTEMPTS` (default 4): attempts for entries SendMessageBatch refused.
    pub send_attempts: u32,
    /// Pause before the second attempt, doubled after each (100 ms).
    pub retry_base: Duration,
}

impl IngestSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let window = WindowSettings::read(vars)?;
        Ok(IngestSettings {
            queue_url: vars.required("CFINV_QUEUE_URL")?,
            state_machine_arn: window.required_state_machine_arn()?,
            window,
            tag_cache: Duration::from_secs(vars.number("CFINV_TAG_CACHE_SECONDS", 60, 0..=86_400)?),
            default_exception_paths: ExceptionPaths::parse(
                &vars.optional("CFINV_DEFAULT_EXCEPTION_PATHS").unwrap_or_default(),
            ),
            send_attempts: vars.number("CFINV_SEND_ATTEMPTS", 4, 1..=10)?,
            retry_base: Duration::from_millis(100),
        })
    }
}

/// The collect function's settings.
#[derive(Debug, Clone)]
pub struct CollectSettings {
    pub queue_url: String,
    /// `CFINV_DEAD_LETTER_QUEUE_URL`: where unreadable messages are moved (optional; without it
    /// they stay until the queue's redrive policy moves them).
    pub dead_letter_queue_url: Option<String>,
    /// `CFINV_PLAN_BUCKET`: where plans and sets are stored.
    pub plan_bucket: String,
    /// `CFINV_PLAN_PREFIX` (default `plans/`).
    pub plan_prefix: String,
    pub window: WindowSettings,
    /// `CFINV_MAX_SET_SIZE` (default 3000), `CFINV_COST_POLICY` (`exact` or `compact`, default
    /// `compact`), `CFINV_MAX_ITEMS` (default 15), `CFINV_ALLOW_BROAD_WILDCARDS` (default false),
    /// `CFINV_CACHE_TAGS` (`off`, `add` or `instead`, default `off`), and the window's length (for
    /// cached errors).
    pub plan_options: PlanOptions,
    /// `CFINV_MAX_MESSAGES` (default 20000): stop draining after this many; the rest waits for the
    /// next execution, which collect starts.
    pub max_messages: usize,
    /// `CFINV_COLLECT_SECONDS` (default 60): stop draining after this long.
    pub drain_budget: Duration,
    /// `CFINV_RECEIVE_WAIT_SECONDS` (default 1): long-polling wait of each receive.
    pub receive_wait_seconds: u32,
    /// `CFINV_EMPTY_RECEIVES` (default 2): consecutive empty long polls that end the drain (one
    /// empty receive is not proof of an empty queue).
    pub empty_receives: u32,
    /// `CFINV_VISIBILITY_TIMEOUT_SECONDS` (default 300): messages stay hidden this long while a run
    /// plans them; if it dies they come back after it.
    pub visibility_timeout_seconds: u32,
    /// `CFINV_DISTRIBUTION_CACHE_SECONDS` (default 60): how long a warm container reuses the
    /// distributions it listed.
    pub distribution_cache: Duration,
    /// `CFINV_MAP_CONCURRENCY` (default 10, at most 40): units (distributions) worked on at once;
    /// the run carries it to the Map's `MaxConcurrencyPath`.
    pub map_concurrency: u32,
}

impl CollectSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let max_set_size = vars.number("CFINV_MAX_SET_SIZE", MAX_SET_SIZE, 1..=MAX_SET_SIZE)?;
        let window = WindowSettings::read(vars)?;
        let policy = match vars.optional("CFINV_COST_POLICY") {
            None => Policy::Compact,
            Some(v) => v.parse::<Policy>().map_err(|_| ConfigError::Invalid {
                name: "CFINV_COST_POLICY",
                value: v.clone(),
                expected: "exact or compact".to_owned(),
            })?,
        };
        let max_items = vars.number("CFINV_MAX_ITEMS", DEFAULT_MAX_ITEMS, 1..=1_000_000)?;
        let allow_broad = vars.flag("CFINV_ALLOW_BROAD_WILDCARDS")?;
        let cache_tags = match vars.optional("CFINV_CACHE_TAGS") {
            None => CacheTags::Off,
            Some(v) => v.parse::<CacheTags>().map_err(|_| ConfigError::Invalid {
                name: "CFINV_CACHE_TAGS",
                value: v.clone(),
                expected: "off, add or instead".to_owned(),
            })?,
        };
        let plan_options = PlanOptions::new(max_set_size, MAX_WILDCARDS_IN_PROGRESS)
            .and_then(|o| o.with_policy(policy, max_items))
            .map_err(|e| ConfigError::Invalid {
                name: "CFINV_MAX_SET_SIZE",
                value: max_set_size.to_string(),
                expected: e.to_string(),
            })?
            .with_window_seconds(window.window_seconds)
            .allowing_broad_wildcards(allow_broad)
            .with_cache_tags(cache_tags);
        let drain_seconds = vars.number("CFINV_COLLECT_SECONDS", 60, 1..=840)?;
        let visibility_timeout_seconds = vars.number("CFINV_VISIBILITY_TIMEOUT_SECONDS", 300, 1..=43_200)?;
        // Drained messages must stay hidden until they are stored and deleted, or they come back
        // in the middle of the run.
        if u64::from(visibility_timeout_seconds) <= drain_seconds {
            return Err(ConfigError::Invalid {
                name: "CFINV_VISIBILITY_TIMEOUT_SECONDS",
                value: visibility_timeout_seconds.to_string(),
                expected: format!("more than CFINV_COLLECT_SECONDS ({drain_seconds})"),
            });
        }
        Ok(CollectSettings {
            queue_url: vars.required("CFINV_QUEUE_URL")?,
            dead_letter_queue_url: vars.optional("CFINV_DEAD_LETTER_QUEUE_URL"),
            plan_bucket: vars.required("CFINV_PLAN_BUCKET")?,
            plan_prefix: plan_prefix(vars),
            window,
            plan_options,
            max_messages: vars.number("CFINV_MAX_MESSAGES", 20_000, 1..=1_000_000)?,
            drain_budget: Duration::from_secs(drain_seconds),
            receive_wait_seconds: vars.number("CFINV_RECEIVE_WAIT_SECONDS", 1, 0..=20)?,
            empty_receives: vars.number("CFINV_EMPTY_RECEIVES", 2, 1..=20)?,
            visibility_timeout_seconds,
            distribution_cache: Duration::from_secs(vars.number("CFINV_DISTRIBUTION_CACHE_SECONDS", 60, 0..=3600)?),
            map_concurrency: vars.number("CFINV_MAP_CONCURRENCY", 10, 1..=40)?,
        })
    }
}

fn plan_prefix<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> String {
    let p = vars.optional("CFINV_PLAN_PREFIX").unwrap_or_else(|| "plans/".to_owned());
    let p = p.trim_start_matches('/');
    if p.is_empty() || p.ends_with('/') {
        p.to_owned()
    } else {
        format!("{p}/")
    }
}

/// The invalidate function's settings.
#[derive(Debug, Clone)]
pub struct InvalidateSettings {
    /// `CFINV_PLAN_BUCKET`: where collect stored the sets.
    pub plan_bucket: String,
    /// `CFINV_PLAN_PREFIX` (default `plans/`): the sets' keys are derived from it, as collect's.
    pub plan_prefix: String,
    /// `CFINV_STACK` (default `cfinv`; the template sets the stack's name): the first part of
    /// every CallerReference, `stack` in every event, and the metrics' `Stack` dimension.
    pub reference_scope: String,
    /// `CFINV_POLL_SECONDS` (default 5): the wait between GetInvalidation polls while sets are in
    /// progress (CloudFront states 25 s at p95 to complete).
    pub poll_seconds: u32,
    /// `CFINV_CAPACITY_WAIT_SECONDS` (default 10): the wait before asking again whether a set fits
    /// the distribution's in-progress limits.
    pub capacity_wait_seconds: u32,
    /// `CFINV_MAX_WAIT_SECONDS` (default 60): both waits double every six steps without progress,
    /// up to this.
    pub max_wait_seconds: u32,
    /// `CFINV_HISTORY_BUDGET` (default 15000): history events after which the remaining pages go
    /// to a continuation execution (Step Functions' limit is 25,000).
    pub history_budget: u64,
}

impl InvalidateSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let reference_scope = vars.optional("CFINV_STACK").unwrap_or_else(|| "cfinv".to_owned());
        if reference_scope.len() > 128 || reference_scope.contains('/') {
            return Err(ConfigError::Invalid {
                name: "CFINV_STACK",
                value: reference_scope,
                expected: "at most 128 characters, no /".to_owned(),
            });
        }
        Ok(InvalidateSettings {
            plan_bucket: vars.required("CFINV_PLAN_BUCKET")?,
            plan_prefix: plan_prefix(vars),
            reference_scope,
            poll_seconds: vars.number("CFINV_POLL_SECONDS", 5, 1..=600)?,
            capacity_wait_seconds: vars.number("CFINV_CAPACITY_WAIT_SECONDS", 10, 1..=600)?,
            max_wait_seconds: vars.number("CFINV_MAX_WAIT_SECONDS", 60, 1..=3600)?,
            history_budget: vars.number("CFINV_HISTORY_BUDGET", 15_000, 10..=24_000)?,
        })
    }
}

/// The sweeper's settings.
#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub queue_url: String,
    pub state_machine_arn: String,
    pub window: WindowSettings,
    /// `CFINV_COLLECT_SECONDS` (default 60): how long after its window closes an execution may
    /// still be draining; until then the sweeper counts on it.
    pub drain_budget_seconds: u32,
    /// `CFINV_SWEEP_CONFIRM_SECONDS` (default 5): how long the sweeper waits before it believes that
    /// no execution is coming (ingest starts its window's execution just after queueing: a sweep
    /// between the two would otherwise start a second one).
    pub confirm: Duration,
}

impl SweepSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        let window = WindowSettings::read(vars)?;
        Ok(SweepSettings {
            queue_url: vars.required("CFINV_QUEUE_URL")?,
            state_machine_arn: window.required_state_machine_arn()?,
            window,
            drain_budget_seconds: vars.number("CFINV_COLLECT_SECONDS", 60, 1..=840)?,
            confirm: Duration::from_secs(vars.number("CFINV_SWEEP_CONFIRM_SECONDS", 5, 0..=60)?),
        })
    }
}

/// The report function's settings.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// `CFINV_PLAN_BUCKET` and `CFINV_PLAN_PREFIX`: where collect stored the sets.
    pub plan_bucket: String,
    pub plan_prefix: String,
    /// `CFINV_ERROR_BUCKET` (the seed's `errorBucket` tag).
    pub error_bucket: String,
    /// `CFINV_TOPIC_ARN` (the seed's `topicArn` tag).
    pub topic_arn: String,
}

impl ReportSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Self, ConfigError> {
        Ok(ReportSettings {
            plan_bucket: vars.required("CFINV_PLAN_BUCKET")?,
            plan_prefix: plan_prefix(vars),
            error_bucket: vars.required("CFINV_ERROR_BUCKET")?,
            topic_arn: vars.required("CFINV_TOPIC_ARN")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> Vars<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Vars(move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn missing_and_invalid_variables_are_named() {
        let err = IngestSettings::read(&vars(&[("CFINV_STATE_MACHINE_ARN", "arn")])).unwrap_err();
        assert_eq!(err.to_string(), "environment variable CFINV_QUEUE_URL is not set");
        let err = IngestSettings::read(&vars(&[("CFINV_QUEUE_URL", "q")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("CFINV_STATE_MACHINE_ARN"));
        let err = CollectSettings::read(&vars(&[
            ("CFINV_QUEUE_URL", "q"),
            ("CFINV_PLAN_BUCKET", "p"),
            ("CFINV_MAX_SET_SIZE", "5000"),
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable CFINV_MAX_SET_SIZE is \"5000\": a whole number from 1 to 3000"
        );
        assert_eq!(err.error_type(), "Misconfigured");
    }

    #[test]
    fn defaults() {
        let s = CollectSettings::read(&vars(&[
            ("CFINV_QUEUE_URL", "q"),
            ("CFINV_PLAN_BUCKET", "p"),
            ("CFINV_PLAN_PREFIX", "/x"),
        ]))
        .unwrap();
        assert_eq!(s.plan_prefix, "x/");
        assert_eq!(s.window.window_seconds, 10);
        assert_eq!(s.plan_options.max_set_size(), 3000);
        let i = IngestSettings::read(&vars(&[
            ("CFINV_QUEUE_URL", "q"),
            ("CFINV_STATE_MACHINE_ARN", "arn"),
            ("CFINV_DEFAULT_EXCEPTION_PATHS", "up/, tmp"),
        ]))
        .unwrap();
        assert_eq!(i.default_exception_paths.prefixes(), ["up/", "tmp"]);
        assert!(WindowSettings::read(&vars(&[("CFINV_EXECUTION_PREFIX", "a b")])).is_err());
    }
}
