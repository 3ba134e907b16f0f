//! Loading the next page of units, or handing the rest of the run to a continuation execution.
//!
//! Step Functions fails an execution whose history reaches 25,000 events, and inline Map
//! iterations write into it. A step of a unit costs 9 events (Task 5, Choice 2, Wait 2), so an
//! execution can take a few thousand steps. Before each page after its first, the execution's
//! history is measured; past `CFINV_HISTORY_BUDGET` events (default 15,000, which leaves a page's
//! worst case and the report room), the remaining pages go to a continuation execution named after
//! the run, the pass and the page (`{execution}-p-4`), started with `{"continuation": ...}`, and
//! this execution reports what it did. So a run of any size completes, in as many executions as it
//! takes.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::info;

use crate::ports::{CloudFront, ErrorKind, Events, Executions, Objects};
use crate::run::{Page, PageCursor, Run, RunKeys};
use crate::sets::read_json;

use super::{Invalidate, InvalidateError};

/// `page`'s input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInput {
    pub run: Run,
    pub page: PageCursor,
    /// `$$.Execution.Id`: whose history is measured.
    pub execution_arn: String,
    /// `$$.StateMachine.Id`: where a continuation is started.
    pub state_machine: String,
}

/// The name of the execution that continues `run` at page `page` (0-based).
pub fn continuation_name(run: &Run, page: usize) -> String {
    format!("{}-{}-{}", run.execution, run.pass, page + 1)
}

impl<O: Objects, C: CloudFront, E: Executions, V: Events> Invalidate<O, C, E, V> {
    #[tracing::instrument(name = "page", skip_all, fields(execution = %input.run.execution, pass = %input.run.pass, page = input.page.next))]
    pub(super) async fn page(&self, input: PageInput) -> Result<PageCursor, InvalidateError> {
        let s = &self.settings;
        let run = &input.run;
        let next = input.page.next;
        if next > run.first_page {
            let events = self
                .executions
                .history_events(&input.execution_arn)
                .await
                .map_err(InvalidateError::StatesUnavailable)?;
            if events >= s.history_budget {
                let name = continuation_name(run, next);
                let continued = Run { first_page: next, ..run.clone() };
                let body =
                    json!({"continuation": {"run": continued, "page": PageCursor { next, ..PageCursor::default() }}});
                match self.executions.start(&input.state_machine, &name, &body.to_string()).await {
                    Ok(()) => {}
                    // Started by an earlier attempt of this step.
                    Err(e) if e.kind == ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(InvalidateError::StatesUnavailable(e)),
                }
                info!(events, continuation = %name, "history budget spent; the remaining pages continue in another execution");
                return Ok(PageCursor { next, units: Vec::new(), handed_off: true });
            }
        }
        let keys = RunKeys::of(&s.plan_prefix, run);
        let page: Page = read_json(&self.objects, &s.plan_bucket, &keys.page(&run.pass, next)).await?;
        info!(units = page.units.len(), "page loaded");
        Ok(PageCursor { next: next + 1, units: page.units, handed_off: false })
    }
}
