"""Fault injection: the registry the control routes fill, its one matcher, and the three places that
consult it.

A fault is a dict: service, operation, code, count, and optionally message and match ("match" must
occur in the request text). `take_fault` takes one use of the first live fault that matches.

- Generic (install()): every service that dispatches through moto's `BaseResponse.call_action`; the
  fault is raised as that service's error, serialised by moto for the service's protocol.
- SQS partial batch (install()): operation "SendMessageBatchEntry" makes SendMessageBatch succeed
  with its first entry failed, matching on the queue name.
- S3 request level (`S3FaultMiddleware`, in front of moto's app; see control.make_app): moto's S3
  does not dispatch through `call_action`, so PutObject, GetObject and GetBucketTagging faults are
  answered from the HTTP request, with path-style addressing as cfinv's clients use with an emulator.

The exception class lives outside the moto package: moto derives the service from an exception's
module, and one of its own would be reported as service "core".
"""

import threading

from moto.core.exceptions import ServiceException
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.sqs import models as sqs_models

FAULTS = []  # dicts: service, operation, code, message, count, match
FAULTS_LOCK = threading.Lock()


class InjectedFault(ServiceException):
    def __init__(self, code, message):
        super().__init__(code, message)


def fault_message(fault):
    return fault.get("message") or f"injected {fault['code']}"


def take_fault(service, operation, text):
    """The first fault with uses left for this service (any case) and operation whose "match", if it
    has one, occurs in `text`; one use of it is taken. None when there is none."""
    if not FAULTS:
        return None
    with FAULTS_LOCK:
        for fault in FAULTS:
            if fault["count"] <= 0:
                continue
            if fault["service"].lower() != (service or "").lower() or fault["operation"] != operation:
                continue
            if fault.get("match") and fault["match"] not in text:
                continue
            fault["count"] -= 1
            return fault
    return None


def add_fault(fault):
    """Registers a fault; the number of faults registered."""
    with FAULTS_LOCK:
        FAULTS.append(fault)
        return len(FAULTS)


def list_faults():
    with FAULTS_LOCK:
        return list(FAULTS)


def clear_faults():
    with FAULTS_LOCK:
        FAULTS.clear()


# ---------------------------------------------------------------------------------------------------
# Generic: any operation of a service that dispatches through BaseResponse.call_action.

_original_call_action = None


def call_action_with_faults(self):
    if FAULTS:
        try:
            operation = self._get_action()
        except Exception:  # noqa: BLE001 - an unknown action is moto's business, not ours
            operation = None
        body = self.body.decode("utf-8", "replace") if isinstance(self.body, bytes) else str(self.body or "")
        fault = take_fault(self.service_name, operation, f"{self.path}\n{body}")
        if fault:

            def raise_fault(*_args, **_kwargs):
                raise InjectedFault(fault["code"], fault_message(fault))

            # call_action calls the method named after the action: the instance's, this one.
            setattr(self, camelcase_to_underscores(operation), raise_fault)
    return _original_call_action(self)


# ---------------------------------------------------------------------------------------------------
# SQS: SendMessageBatch partly failed, as it can be on AWS.

_original_send_batch = None


def send_message_batch(self, queue_name, entries):
    """Fault "SendMessageBatchEntry" (service "sqs"): the call succeeds but its first entry fails,
    as SendMessageBatch can partly fail on AWS."""
    fault = take_fault("sqs", "SendMessageBatchEntry", queue_name) if entries else None
    if not fault:
        return _original_send_batch(self, queue_name, entries)
    first_key = next(iter(entries))
    first = entries[first_key]
    rest = {k: v for k, v in entries.items() if k != first_key}
    messages, failed = _original_send_batch(self, queue_name, rest) if rest else ([], [])
    failed = failed + [{"Id": first["Id"], "SenderFault": False, "Code": fault["code"], "Message": fault_message(fault)}]
    return messages, failed


def install():
    """Routes moto's generic dispatch and SQS SendMessageBatch through the registry."""
    global _original_call_action, _original_send_batch
    if BaseResponse.call_action is not call_action_with_faults:
        _original_call_action = BaseResponse.call_action
        BaseResponse.call_action = call_action_with_faults
    if sqs_models.SQSBackend.send_message_batch is not send_message_batch:
        _original_send_batch = sqs_models.SQSBackend.send_message_batch
        sqs_models.SQSBackend.send_message_batch = send_message_batch


# ---------------------------------------------------------------------------------------------------
# S3, from the HTTP request, in front of moto.


def s3_operation(method, query, object_level):
    """The operation a fault names for this S3 request, or None: PutObject and GetObject are object
    requests without "tagging" in the query; GetBucketTagging is any GET with it."""
    tagging = "tagging" in query
    if method == "PUT" and not tagging and object_level:
        return "PutObject"
    if method == "GET" and not tagging and object_level:
        return "GetObject"
    if method == "GET" and tagging:
        return "GetBucketTagging"
    return None


S3_STATUS = {"AccessDenied": 403, "NoSuchKey": 404, "NoSuchBucket": 404, "SlowDown": 503, "ServiceUnavailable": 503}


def s3_fault(environ):
    """The S3 fault this request takes (matching on its path), or None."""
    if not FAULTS:
        return None
    path = environ.get("PATH_INFO", "")
    parts = [p for p in path.split("/") if p]
    if not parts or environ.get("HTTP_HOST", "").split(":")[0] not in ("127.0.0.1", "localhost"):
        return None
    operation = s3_operation(environ.get("REQUEST_METHOD", "GET"), environ.get("QUERY_STRING", ""), len(parts) >= 2)
    if operation is None:
        return None
    return take_fault("s3", operation, path)


def s3_error_response(fault, start_response):
    code = fault["code"]
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{fault_message(fault)}</Message></Error>'.encode()
    status = S3_STATUS.get(code, 500)
    start_response(f"{status} Injected", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


class S3FaultMiddleware:
    """Answers a request that takes an S3 fault with that error; passes every other one to `app`."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        fault = s3_fault(environ)
        if fault:
            return s3_error_response(fault, start_response)
        return self.app(environ, start_response)
