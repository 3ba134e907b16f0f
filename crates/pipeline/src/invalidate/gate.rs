//! The redrive gate: after the report, an execution with unfinished sets ends failed, and a redrive
//! re-attempts every one of them.
//!
//! `gate` fails with `SetNotInvalidated` while the execution's `redriveCount` is not above the
//! rounds already answered. A console (or `aws stepfunctions redrive-execution`) redrive resumes
//! the execution at the failed state, this one: now the count is higher, and the answer is a new
//! pass over the pages the report wrote (`g1`, `g2`...), one unit per distribution range with
//! unfinished sets. Steps skip what has completed since, so each redrive re-attempts exactly what
//! is unfinished, and the execution ends failed again only if something still is.

use serde::{Deserialize, Serialize};
use tracing::info;

use crate::ports::{CloudFront, Events, Executions, Objects};
use crate::run::{PageCursor, Run};

use super::{Invalidate, InvalidateError};

/// What the gate reads of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateReport {
    /// Sets not invalidated (failed, or never submitted).
    pub failed_count: usize,
    /// Pages of units the report wrote for the next pass.
    pub gate_pages: usize,
}

/// `gate`'s input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateInput {
    pub run: Run,
    pub report: GateReport,
    /// `$$.Execution.Id`.
    pub execution_arn: String,
}

/// The pass that re-attempts the unfinished sets: the state machine's next `$.run` and `$.page`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GateOutput {
    pub run: Run,
    pub page: PageCursor,
}

impl<O: Objects, C: CloudFront, E: Executions, V: Events> Invalidate<O, C, E, V> {
    #[tracing::instrument(name = "gate", skip_all, fields(execution = %input.run.execution, round = input.run.round))]
    pub(super) async fn gate(&self, input: GateInput) -> Result<GateOutput, InvalidateError> {
        let redrives =
            self.executions.redrive_count(&input.execution_arn).await.map_err(InvalidateError::StatesUnavailable)?;
        if redrives <= input.run.round {
            return Err(InvalidateError::SetNotInvalidated { count: input.report.failed_count });
        }
        let pass = Run::redrive_pass(input.run.round + 1);
        info!(redrives, pass = %pass, sets = input.report.failed_count, "redriven: re-attempting the unfinished sets");
        Ok(GateOutput {
            run: Run { pass, pages: input.report.gate_pages, first_page: 0, round: redrives, ..input.run },
            page: PageCursor::default(),
        })
    }
}
