"""Step Functions RedriveExecution, which moto lacks, on moto's ASL interpreter.

As AWS documents it: only a FAILED, TIMED_OUT or ABORTED Standard execution can be redriven (else
ExecutionNotRedrivable); the execution, under the same ARN, becomes RUNNING again and resumes at the
top-level state that did not complete, with that state's input, so the states that succeeded are not
run again; an Inline Map resumed this way reruns only its iterations that did not succeed and keeps
the outputs of those that did; the history continues, with an ExecutionRedriven event
(executionRedrivenEventDetails.redriveCount); DescribeExecution and ListExecutions give redriveCount
(0 for an execution never redriven), redriveDate, and DescribeExecution redriveStatus and
redriveStatusReason; ListExecutions honours redriveFilter; the context object has
$$.Execution.RedriveCount (and RedriveTime once redriven). The last 10 client tokens of successful
redrives are idempotent.

How: every top-level state records, as it is entered, its name and input (a hook on
CommonStateField._eval_body for the execution's own environment, not a Map iteration's frame); an
Inline Map that is the current top-level state records the outputs of the iterations that
succeeded. RedriveExecution sets the execution's environment running again at the recorded state,
with the recorded input, and evaluates moto's program from there in a new thread, as moto's
ExecutionWorker does from StartAt. A Map resumed this way starts with the recorded iterations
closed.

Not as AWS (see MOTO_INTERNALS.md): a Parallel state reruns all its branches; a Map nested inside a
Map iteration reruns whole with its iteration; the 14-day and 24,999-event limits are not checked; a
Map's sibling iterations still running when one fails are not aborted by moto, and a success they
report after the failure is not kept (AWS would have aborted them: they rerun either way).
"""

import copy
import datetime
import threading

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    inline_iteration_component as inline_iteration,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import JobClosed, JobPool
from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import (
    DEFAULT_MAX_CONCURRENCY_VALUE,
)
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning
from moto.stepfunctions.parser.utils import TMP_THREADS
from moto.stepfunctions.responses import StepFunctionResponse

REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
CLIENT_TOKENS_KEPT = 10


class ExecutionNotRedrivable(ServiceException):
    def __init__(self, message):
        super().__init__("ExecutionNotRedrivable", message)


class RedriveMemory:
    """What one execution needs to be redriven. Kept on its EventManager, which every frame of the
    execution shares (and which lives exactly as long as the execution)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.state = None  # the top-level state entered last
        self.state_input = None  # its input, as it was entered
        self.map_outputs = {}  # top-level Inline Map name -> {iteration index: output}
        self.resume_map = None  # the Map a redrive resumes at, until it starts its iterations


def memory_of(env):
    manager = env.event_manager
    memory = getattr(manager, "cfinv_redrive", None)
    if memory is None:
        memory = RedriveMemory()
        manager.cfinv_redrive = memory
    return memory


def _utcnow():
    return datetime.datetime.now(tz=datetime.timezone.utc)


# ---------------------------------------------------------------------------------------------------
# Recording, during the execution.

_original_state_eval_body = None
_original_inline_eval_body = None


def state_eval_body(self, env):
    if not env.is_frame():
        memory = memory_of(env)
        execution = env.states.context_object.context_object_data["Execution"]
        execution.setdefault("RedriveCount", 0)
        with memory.lock:
            memory.state = self.name
            memory.state_input = copy.deepcopy(env.states.get_input())
    return _original_state_eval_body(self, env)


def inline_eval_body(self, env):
    """moto's InlineIterationComponent._eval_body, with the iterations a redrive keeps closed before
    the workers start and the successful iterations of a top-level Map recorded."""
    eval_input = env.stack.pop()
    memory = memory_of(env)
    with memory.lock:
        tracked = memory.state == eval_input.state_name  # a top-level Map, not one inside an iteration
        kept = {}
        if tracked:
            if memory.resume_map == eval_input.state_name:
                kept = dict(memory.map_outputs.get(eval_input.state_name, {}))
                memory.resume_map = None
            memory.map_outputs[eval_input.state_name] = dict(kept)

    max_concurrency = eval_input.max_concurrency
    input_items = eval_input.input_items
    job_pool = JobPool(job_program=self._get_iteration_program(), job_inputs=input_items)
    if kept:
        job_pool._open_jobs[:] = [job for job in job_pool._open_jobs if job.job_index not in kept]
        for index, output in kept.items():
            job_pool._closed_jobs.add(JobClosed(job_index=index, job_output=copy.deepcopy(output)))
    number_of_workers = len(input_items) if max_concurrency == DEFAULT_MAX_CONCURRENCY_VALUE else max_concurrency
    for _ in range(number_of_workers):
        self._launch_worker(env=env, eval_input=eval_input, job_pool=job_pool)

    job_pool.await_jobs()

    if tracked:
        closed = job_pool.get_closed_jobs()
        with memory.lock:
            memory.map_outputs[eval_input.state_name] = {c.job_index: c.job_output for c in closed}

    worker_exception = job_pool.get_worker_exception()
    if worker_exception is not None:
        raise worker_exception
    env.stack.append([closed_job.job_output for closed_job in job_pool.get_closed_jobs()])


# ---------------------------------------------------------------------------------------------------
# RedriveExecution.


def not_redrivable_reason(execution):
    """Why RedriveExecution would refuse this execution, or None when it would not."""
    status = execution.status
    if getattr(getattr(execution, "state_machine", None), "type", None) not in (None, "STANDARD"):
        return "Execution is EXPRESS and cannot be redriven."
    if status not in REDRIVABLE:
        return f"Execution is {status} and cannot be redriven."
    worker = getattr(execution, "exec_worker", None)
    if worker is None or worker.env is None:
        return "Execution has no state to resume."
    return None


def redrive(execution, client_token=None):
    """Redrives the execution (a moto.stepfunctions.parser Execution); its new redriveDate."""
    tokens = execution.__dict__.setdefault("cfinv_redrive_tokens", [])
    if client_token and client_token in tokens:
        return execution.cfinv_redrive_date
    reason = not_redrivable_reason(execution)
    if reason:
        raise ExecutionNotRedrivable(reason)
    worker = execution.exec_worker
    env = worker.env
    memory = memory_of(env)
    with memory.lock:
        state = memory.state
        state_input = copy.deepcopy(memory.state_input)
        memory.resume_map = state
    if state is None:  # failed before its first state: from the start
        program_start = worker._get_evaluation_entrypoint()
        state, state_input = program_start.start_at.start_at_name, copy.deepcopy(execution.input_data)

    count = getattr(execution, "cfinv_redrive_count", 0) + 1
    now = _utcnow()
    execution.cfinv_redrive_count = count
    execution.cfinv_redrive_date = now
    if client_token:
        tokens.append(client_token)
        del tokens[:-CLIENT_TOKENS_KEPT]

    context_execution = env.states.context_object.context_object_data["Execution"]
    context_execution["RedriveCount"] = count
    context_execution["RedriveTime"] = now.isoformat()
    with env._state_mutex:
        env._program_state = ProgramRunning()
        env.next_state_name = state
    env.states.reset(input_value=state_input)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionRedriven,
        event_details={"executionRedrivenEventDetails": {"redriveCount": count}},
    )
    execution.exec_status = ExecutionStatus.RUNNING
    execution.stop_date = None
    execution.error = None
    execution.cause = None
    execution.output = None

    def resume():
        program = worker._get_evaluation_entrypoint()
        timeout = program.timeout_seconds.timeout_seconds if program.timeout_seconds else None
        # Program.eval would start again at StartAt: evaluate its body from the state set above.
        body = threading.Thread(target=EvalComponent.eval, args=(program, env), daemon=True)
        TMP_THREADS.append(body)
        body.start()
        body.join(timeout=timeout)
        if body.is_alive():
            env.set_timed_out()
        worker._execution_communication.terminated()

    thread = threading.Thread(target=resume, daemon=True)
    TMP_THREADS.append(thread)
    thread.start()
    return now


# ---------------------------------------------------------------------------------------------------
# The API.

_original_describe_execution = None
_original_list_executions = None


def redrive_execution(self):
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    return ActionResult({"redriveDate": redrive(execution, self._get_param("clientToken"))})


def redrive_fields(execution):
    out = {"redriveCount": getattr(execution, "cfinv_redrive_count", 0)}
    if getattr(execution, "cfinv_redrive_date", None) is not None:
        out["redriveDate"] = execution.cfinv_redrive_date
    return out


def describe_execution(self):
    result = _original_describe_execution(self)
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    body = result.result
    body.update(redrive_fields(execution))
    reason = not_redrivable_reason(execution)
    body["redriveStatus"] = "NOT_REDRIVABLE" if reason else "REDRIVABLE"
    if reason:
        body["redriveStatusReason"] = reason
    if execution.status == "TIMED_OUT" and execution.stop_date is not None:
        body["stopDate"] = execution.stop_date
    return result


def list_executions(self):
    result = _original_list_executions(self)
    body = result.result
    wanted = self._get_param("redriveFilter")
    by_arn = {
        e.execution_arn: e
        for e in self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn")).executions
    }
    items = []
    for item in body.get("executions", []):
        execution = by_arn.get(item["executionArn"])
        fields = redrive_fields(execution) if execution is not None else {"redriveCount": 0}
        if wanted == "REDRIVEN" and not fields["redriveCount"]:
            continue
        if wanted == "NOT_REDRIVEN" and fields["redriveCount"]:
            continue
        item.update(fields)
        items.append(item)
    body["executions"] = items
    return result


def install():
    global _original_state_eval_body, _original_inline_eval_body
    global _original_describe_execution, _original_list_executions
    if CommonStateField._eval_body is not state_eval_body:
        _original_state_eval_body = CommonStateField._eval_body
        CommonStateField._eval_body = state_eval_body
    if inline_iteration.InlineIterationComponent._eval_body is not inline_eval_body:
        _original_inline_eval_body = inline_iteration.InlineIterationComponent._eval_body
        inline_iteration.InlineIterationComponent._eval_body = inline_eval_body
    if StepFunctionResponse.describe_execution is not describe_execution:
        _original_describe_execution = StepFunctionResponse.describe_execution
        StepFunctionResponse.describe_execution = describe_execution
    if StepFunctionResponse.list_executions is not list_executions:
        _original_list_executions = StepFunctionResponse.list_executions
        StepFunctionResponse.list_executions = list_executions
    StepFunctionResponse.redrive_execution = redrive_execution
