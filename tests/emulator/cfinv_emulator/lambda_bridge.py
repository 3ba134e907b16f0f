"""Lambda functions that run: moto runs function code only in Docker.

With CFINV_LAMBDA_ENDPOINT set (`cargo lambda watch`'s address), every invocation (Invoke, state
machine tasks, S3 notifications, EventBridge rules) is forwarded to the real binary there: the one
named by the function's CFINV_BINARY variable, or the function's own name. A function error comes
back as the Lambda error it is (its errorType becomes the state machine's error name). Without it,
moto's own invocation runs.

Deliveries are bounded. At most CONCURRENCY invocations of one binary are in flight at once (the
others wait their turn, in order), and asynchronous invocations (S3 notifications, EventBridge
targets: invoke_async) wait in a queue per function, served in order by at most CONCURRENCY threads,
never dropped. `cargo lambda watch` (1.9.2) queues at most 100 invocations per function and
deadlocks when that queue is full: the scheduler waits for room while holding the lock that a
function needs to take its next invocation, and every function's invocations hang for good. One
thread per S3 change, each holding a request open, filled it with a burst of a few hundred uploads.
"""

import collections
import json
import os
import sys
import threading
import urllib.error
import urllib.request

from moto.awslambda import models as lambda_models

LAMBDA_ENDPOINT = None  # set by install()
DEFAULT_CONCURRENCY = 4  # cargo lambda watch's --concurrency in stack.py
CONCURRENCY = DEFAULT_CONCURRENCY  # set by install(): invocations of one binary in flight at most

_original_invoke_lambda = None


class _Slots:
    """A counting semaphore that serves its waiters in the order they came."""

    def __init__(self, count):
        self.free = count
        self.waiting = collections.deque()
        self.changed = threading.Condition()

    def __enter__(self):
        with self.changed:
            ticket = object()
            self.waiting.append(ticket)
            while self.waiting[0] is not ticket or self.free == 0:
                self.changed.wait()
            self.waiting.popleft()
            self.free -= 1
            self.changed.notify_all()  # the next in line may have a slot too
        return self

    def __exit__(self, *_exc):
        with self.changed:
            self.free += 1
            self.changed.notify_all()


_SLOTS = {}  # binary -> _Slots
_QUEUES = {}  # function ARN -> _Deliveries
_LOCK = threading.Lock()


def _slots(binary):
    with _LOCK:
        if binary not in _SLOTS:
            _SLOTS[binary] = _Slots(CONCURRENCY)
        return _SLOTS[binary]


class _Deliveries:
    """One function's asynchronous invocations: run in the order they came by at most CONCURRENCY
    threads, which end when there is nothing left to run."""

    def __init__(self, name):
        self.name = name
        self.pending = collections.deque()
        self.workers = 0
        self.lock = threading.Lock()

    def add(self, call, args):
        with self.lock:
            self.pending.append((call, args))
            if self.workers >= CONCURRENCY:
                return
            self.workers += 1
        threading.Thread(target=self.work, name=f"lambda-async {self.name}", daemon=True).start()

    def work(self):
        while True:
            with self.lock:
                if not self.pending:
                    self.workers -= 1
                    return
                call, args = self.pending.popleft()
            try:
                call(*args)
            except Exception as e:  # noqa: BLE001 - an asynchronous invocation fails no caller
                print(f"emulator: asynchronous invocation of {self.name} failed: {e!r}", file=sys.stderr, flush=True)


def invoke_async(function_arn, call, *args):
    """Runs call(*args) (a delivery to the function `function_arn`) in the background: after the
    function's earlier asynchronous invocations, with at most CONCURRENCY of them running."""
    with _LOCK:
        if function_arn not in _QUEUES:
            _QUEUES[function_arn] = _Deliveries(function_arn)
        queue = _QUEUES[function_arn]
    queue.add(call, args)


def in_flight():
    """Asynchronous invocations waiting or running, per function ARN (for tests)."""
    with _LOCK:
        queues = list(_QUEUES.values())
    out = {}
    for queue in queues:
        with queue.lock:
            if queue.pending or queue.workers:
                out[queue.name] = {"waiting": len(queue.pending), "workers": queue.workers}
    return out


def _invoke_lambda(self, event=None):
    if not LAMBDA_ENDPOINT:
        return _original_invoke_lambda(self, event)
    binary = (self.environment_vars or {}).get("CFINV_BINARY", self.function_name)
    payload = event if isinstance(event, (str, bytes)) else json.dumps(event if event is not None else {})
    if isinstance(payload, str):
        payload = payload.encode()
    url = f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{binary}/invocations"
    request = urllib.request.Request(url, data=payload, method="POST", headers={"Content-Type": "application/json"})
    try:
        with _slots(binary), urllib.request.urlopen(request, timeout=900) as response:
            return response.read().decode(), False, ""
    except urllib.error.HTTPError as e:
        body = e.read().decode() or json.dumps({"errorType": "Lambda.Unknown", "errorMessage": str(e)})
        return body, True, ""
    except OSError as e:
        return json.dumps({"errorType": "Lambda.ServiceException", "errorMessage": str(e)}), True, ""


def install(endpoint=None, concurrency=None):
    """`endpoint`: where invocations go (default: CFINV_LAMBDA_ENDPOINT; none: moto's own).
    `concurrency`: invocations of one function in flight at most (default: CFINV_LAMBDA_CONCURRENCY,
    else 4)."""
    global LAMBDA_ENDPOINT, CONCURRENCY, _original_invoke_lambda
    LAMBDA_ENDPOINT = os.environ.get("CFINV_LAMBDA_ENDPOINT") if endpoint is None else endpoint
    if concurrency is None:
        concurrency = int(os.environ.get("CFINV_LAMBDA_CONCURRENCY") or DEFAULT_CONCURRENCY)
    if concurrency < 1:
        raise ValueError(f"Lambda concurrency must be at least 1, not {concurrency}")
    with _LOCK:
        if concurrency != CONCURRENCY:
            CONCURRENCY = concurrency
            _SLOTS.clear()  # slots already handed out are given back to their old semaphore
    if lambda_models.LambdaFunction._invoke_lambda is not _invoke_lambda:
        _original_invoke_lambda = lambda_models.LambdaFunction._invoke_lambda
        lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda
