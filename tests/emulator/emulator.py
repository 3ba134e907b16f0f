"""cfinv's emulated AWS: moto in server mode, with the fidelity fixes and test controls cfinv needs.

Run:  python tests/emulator/emulator.py --port 5000 [--parent-pid PID]

On top of stock moto (pinned in tests/emulator/requirements.txt) this adds:
- Step Functions executions actually run (moto's ASL interpreter);
- CloudFront invalidations behave like AWS: status InProgress, then Completed after
  CFINV_EMU_INVALIDATION_SECONDS (default 2); the same CallerReference with the same paths returns the
  same invalidation, with other paths InvalidationBatchAlreadyExists; more than 3000 paths (or 15
  wildcard paths) in progress per distribution is TooManyInvalidationsInProgress;
- CloudFront cache policies: the managed ones, and custom ones made with CreateCachePolicy
  (GetCachePolicy, GetCachePolicyConfig, ListCachePolicies; moto has none);
- fault injection: POST /_cfinv/faults {"service": "cloudfront", "operation": "CreateInvalidation",
  "code": "Throttling", "count": 3, "match": "E123"} makes the next 3 matching calls fail with that
  error, serialised by moto for the service's protocol ("match", optional, must occur in the request
  path or body); for SQS, operation "SendMessageBatchEntry" fails only the first entry of a batch (a
  partial failure), matching on the queue name; DELETE /_cfinv/faults clears them;
- GET /_cfinv/sns lists every message published to SNS (topic, subject, message);
- GET /_cfinv/health answers once the server is up;
- SQS stays fast with ten thousand messages in a queue (moto's clock is swapped for a cheaper one);
- with CFINV_LAMBDA_ENDPOINT (cargo lambda watch), Lambda invocations run the real function binaries;
- S3 notifications to Lambda have the fields and key encoding AWS sends, and arrive asynchronously;
- a bucket with EventBridge delivery on sends its object changes to EventBridge in AWS's shape
  (detail-type, reason, deletion-type, encoded key), and rules with Lambda targets invoke them
  asynchronously (moto's rules have no Lambda targets; other target kinds are not delivered).

With --parent-pid, the server exits when that process does, so a test run never leaves it behind.
"""

import argparse
import json
import os
import sys
import threading
import time

from moto.core import config as moto_config
from moto.core.exceptions import ServiceException
from moto.core.responses import BaseResponse


# ---------------------------------------------------------------------------------------------------
# Fault injection. The exception class lives outside the moto package: moto derives the service from
# an exception's module, and one of its own would be reported as service "core".


class InjectedFault(ServiceException):
    def __init__(self, code, message):
        super().__init__(code, message)


FAULTS = []  # dicts: service, operation, code, message, count, match
FAULTS_LOCK = threading.Lock()


def take_fault(service, operation, request_text):
    with FAULTS_LOCK:
        for fault in FAULTS:
            if fault["count"] <= 0:
                continue
            if fault["service"].lower() != (service or "").lower() or fault["operation"] != operation:
                continue
            if fault.get("match") and fault["match"] not in request_text:
                continue
            fault["count"] -= 1
            return fault
    return None


_original_call_action = BaseResponse.call_action


def call_action_with_faults(self):
    if FAULTS:
        try:
            operation = self._get_action()
        except Exception:  # noqa: BLE001 - an unknown action is moto's business, not ours
            operation = None
        body = self.body.decode("utf-8", "replace") if isinstance(self.body, bytes) else str(self.body or "")
        fault = take_fault(self.service_name, operation, f"{self.path}\n{body}")
        if fault:
            method = camel_to_snake(operation)

            def raise_fault(*_args, **_kwargs):
                raise InjectedFault(fault["code"], fault.get("message") or f"injected {fault['code']}")

            setattr(self, method, raise_fault)
    return _original_call_action(self)


def camel_to_snake(name):
    from moto.core.utils import camelcase_to_underscores

    return camelcase_to_underscores(name)


BaseResponse.call_action = call_action_with_faults


# ---------------------------------------------------------------------------------------------------
# CloudFront invalidations as AWS runs them.

from moto.cloudfront import models as cf_models  # noqa: E402

INVALIDATION_SECONDS = float(os.environ.get("CFINV_EMU_INVALIDATION_SECONDS", "2"))


class InvalidationBatchAlreadyExists(ServiceException):
    def __init__(self):
        super().__init__(
            "InvalidationBatchAlreadyExists",
            "The CallerReference you are using to create an invalidation batch is associated with another batch.",
        )


class TooManyInvalidationsInProgress(ServiceException):
    def __init__(self):
        super().__init__(
            "TooManyInvalidationsInProgress",
            "You have exceeded the maximum number of allowable InProgress invalidation batch requests, or invalidation objects.",
        )


def _invalidation_status(self):
    """InProgress until its time is up, then Completed (moto says COMPLETED, which is no AWS value)."""
    return "Completed" if time.time() >= getattr(self, "completes_at", 0) else "InProgress"


# A property on moto's class (a subclass would confuse moto's backend registry); its setter ignores
# the COMPLETED that moto's constructor assigns.
cf_models.Invalidation.status = property(_invalidation_status, lambda self, value: None)


def create_invalidation(self, dist_id, paths, caller_ref):
    dist, _ = self.get_distribution(dist_id)
    existing = self.invalidations.get(dist_id, [])
    for inv in existing:
        if inv.caller_ref == caller_ref:
            if list(inv.paths) == list(paths):
                return inv
            raise InvalidationBatchAlreadyExists()
    in_progress = [inv for inv in existing if inv.status == "InProgress"]
    paths_in_progress = sum(len(inv.paths) for inv in in_progress)
    wildcards_in_progress = sum(1 for inv in in_progress for p in inv.paths if p.endswith("*"))
    new_wildcards = sum(1 for p in paths if p.endswith("*"))
    if paths_in_progress + len(paths) > 3000 or wildcards_in_progress + new_wildcards > 15:
        raise TooManyInvalidationsInProgress()
    invalidation = cf_models.Invalidation(dist, paths, caller_ref)
    invalidation.completes_at = time.time() + INVALIDATION_SECONDS
    self.invalidations.setdefault(dist_id, []).append(invalidation)
    return invalidation


cf_models.CloudFrontBackend.create_invalidation = create_invalidation


# ---------------------------------------------------------------------------------------------------
# CloudFront cache policies, which moto lacks: the managed ones (ids and TTLs are global constants),
# and custom ones created with CreateCachePolicy. GetCachePolicy, GetCachePolicyConfig and
# ListCachePolicies answer for both, NoSuchCachePolicy otherwise.

import uuid  # noqa: E402

from moto.cloudfront import urls as cf_urls  # noqa: E402
from moto.cloudfront.responses import CloudFrontResponse  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.core.utils import utcnow  # noqa: E402

_PARAMETERS = {
    "EnableAcceptEncodingGzip": True,
    "EnableAcceptEncodingBrotli": True,
    "HeadersConfig": {"HeaderBehavior": "none"},
    "CookiesConfig": {"CookieBehavior": "none"},
    "QueryStringsConfig": {"QueryStringBehavior": "none"},
}
MANAGED_CACHE_POLICIES = [
    ("658327ea-f89d-4fab-a63d-7e88639e58f6", "Managed-CachingOptimized", 1, 86400, 31536000),
    ("b2884449-e4de-46a7-ac36-70bc7f1ddd6d", "Managed-CachingOptimizedForUncompressedObjects", 1, 86400, 31536000),
    ("4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "Managed-CachingDisabled", 0, 0, 0),
    ("08627262-05a9-4f76-9ded-b50ca2e3a84f", "Managed-Elemental-MediaPackage", 0, 86400, 31536000),
    ("2e54312d-136d-493c-8eb9-b001f22f67d2", "Managed-Amplify", 2, 2, 600),
]
CUSTOM_CACHE_POLICIES = {}  # id -> policy


def _policy(policy_id, config):
    return {"Id": policy_id, "LastModifiedTime": utcnow(), "CachePolicyConfig": config}


def _managed():
    return {
        pid: _policy(pid, {"Name": name, "MinTTL": lo, "DefaultTTL": mid, "MaxTTL": hi,
                           "ParametersInCacheKeyAndForwardedToOrigin": _PARAMETERS})
        for pid, name, lo, mid, hi in MANAGED_CACHE_POLICIES
    }


class NoSuchCachePolicy(ServiceException):
    def __init__(self):
        super().__init__("NoSuchCachePolicy", "The cache policy does not exist.")


def _find_policy(policy_id):
    policy = CUSTOM_CACHE_POLICIES.get(policy_id) or _managed().get(policy_id)
    if policy is None:
        raise NoSuchCachePolicy()
    return policy


def create_cache_policy(self):
    config = self._get_param("CachePolicyConfig") or {}
    policy_id = str(uuid.uuid4())
    policy = _policy(policy_id, config)
    CUSTOM_CACHE_POLICIES[policy_id] = policy
    location = f"https://cloudfront.amazonaws.com/2020-05-31/cache-policy/{policy_id}"
    return ActionResult({"CachePolicy": policy, "ETag": policy_id[:13].upper(), "Location": location})


def get_cache_policy(self):
    policy = _find_policy(self._get_param("Id"))
    return ActionResult({"CachePolicy": policy, "ETag": policy["Id"][:13].upper()})


def get_cache_policy_config(self):
    policy = _find_policy(self._get_param("Id"))
    return ActionResult({"CachePolicyConfig": policy["CachePolicyConfig"], "ETag": policy["Id"][:13].upper()})


def list_cache_policies(self):
    wanted = self._get_param("Type")
    items = []
    if wanted in (None, "managed"):
        items += [{"Type": "managed", "CachePolicy": p} for p in _managed().values()]
    if wanted in (None, "custom"):
        items += [{"Type": "custom", "CachePolicy": p} for p in CUSTOM_CACHE_POLICIES.values()]
    return ActionResult({"CachePolicyList": {"MaxItems": 100, "Quantity": len(items), "Items": items}})


for _name, _fn in [("create_cache_policy", create_cache_policy), ("get_cache_policy", get_cache_policy),
                   ("get_cache_policy_config", get_cache_policy_config), ("list_cache_policies", list_cache_policies)]:
    setattr(CloudFrontResponse, _name, _fn)
cf_urls.url_paths["{0}/2020-05-31/cache-policy$"] = CloudFrontResponse.dispatch
cf_urls.url_paths["{0}/2020-05-31/cache-policy/(?P<id>[^/]+)$"] = CloudFrontResponse.dispatch
cf_urls.url_paths["{0}/2020-05-31/cache-policy/(?P<id>[^/]+)/config$"] = CloudFrontResponse.dispatch


# ---------------------------------------------------------------------------------------------------
# SQS at the sizes cfinv tests (10,000 messages in one queue). moto recomputes every message's
# visibility, through a datetime-based clock, several times per returned message, and deletes by
# scanning the queue once per receipt: a receive took a second at 2,000 messages. For standard queues
# these versions keep moto's semantics (visibility, pending set, redrive to the dead-letter queue,
# retention, long polling) with one pass per call. FIFO queues keep moto's own code.

import copy  # noqa: E402

from moto.sqs import models as sqs_models  # noqa: E402
from moto.sqs.exceptions import ReceiptHandleIsInvalid  # noqa: E402

_original_receive = sqs_models.SQSBackend.receive_message
_original_delete_batch = sqs_models.SQSBackend.delete_message_batch


def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
    queue = self.get_queue(queue_name)
    if queue.fifo_queue:
        return _original_receive(
            self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names
        )
    names = message_attribute_names or []
    retention = int(queue.message_retention_period)
    deadline = time.time() + (wait_seconds_timeout or 0)
    while True:
        now_ms = time.time() * 1000.0
        result, to_dlq = [], []
        for message in list(queue._messages):
            if message.visible_at >= now_ms or message.delayed_until > now_ms:
                continue
            queue.pending_messages.discard(message)
            if (
                queue.dead_letter_queue is not None
                and queue.redrive_policy
                and message.approximate_receive_count >= queue.redrive_policy["maxReceiveCount"]
            ):
                to_dlq.append(message)
                continue
            if retention + message.sent_timestamp / 1000 <= now_ms / 1000:
                continue
            queue.pending_messages.add(message)
            message.mark_received(visibility_timeout=visibility_timeout)
            message_copy = copy.deepcopy(message)
            sqs_models._filter_message_attributes(message_copy, names)
            result.append(message_copy)
            if len(result) >= count:
                break
        for message in to_dlq:
            queue._messages.remove(message)
            queue.dead_letter_queue.add_message(message)
        if result or time.time() >= deadline:
            return result
        time.sleep(0.05)


def delete_message_batch(self, queue_name, receipts):
    queue = self.get_queue(queue_name)
    if queue.fifo_queue:
        return _original_delete_batch(self, queue_name, receipts)
    wanted = {r["ReceiptHandle"]: r["Id"] for r in receipts}
    found = set()
    kept = []
    for message in queue._messages:
        handles = message.all_receipt_handles
        hit = next((h for h in handles if h in wanted), None)
        if hit is None:
            kept.append(message)
            continue
        found.add(hit)
        queue.pending_messages.discard(message)
        queue.deleted_messages.update(handles)
    queue._messages = kept
    success, errors = [], []
    for handle, entry_id in wanted.items():
        if handle in found or handle in queue.deleted_messages:
            success.append(entry_id)
        else:
            errors.append(
                {
                    "Id": entry_id,
                    "SenderFault": True,
                    "Code": ReceiptHandleIsInvalid.__name__,
                    "Message": f'The input receipt handle "{handle}" is not a valid receipt handle.',
                }
            )
    return success, errors


_original_send_batch = sqs_models.SQSBackend.send_message_batch


def send_message_batch(self, queue_name, entries):
    """Fault "SendMessageBatchEntry" (service "sqs"): the call succeeds but its first entry fails,
    as SendMessageBatch can partly fail on AWS."""
    fault = take_fault("sqs", "SendMessageBatchEntry", queue_name) if FAULTS and entries else None
    if not fault:
        return _original_send_batch(self, queue_name, entries)
    first_key = next(iter(entries))
    first = entries[first_key]
    rest = {k: v for k, v in entries.items() if k != first_key}
    messages, failed = _original_send_batch(self, queue_name, rest) if rest else ([], [])
    failed = failed + [{"Id": first["Id"], "SenderFault": False, "Code": fault["code"],
                        "Message": fault.get("message") or f"injected {fault['code']}"}]
    return messages, failed


sqs_models.SQSBackend.send_message_batch = send_message_batch
sqs_models.SQSBackend.receive_message = receive_message
sqs_models.SQSBackend.delete_message_batch = delete_message_batch

from moto.core import utils as moto_utils  # noqa: E402


def _fast_unix_time_millis(dt=None):
    """moto's clock, read from time.time(): the same value, a hundred times cheaper."""
    return time.time() * 1000.0 if dt is None else moto_utils.unix_time_millis(dt)


sqs_models.unix_time_millis = _fast_unix_time_millis


# moto computes the three approximate counts over every message each time a queue's attributes are
# read, which SendMessage does once per message: quadratic in the queue's length. AWS calls them
# approximate and updates them lazily; here they are recomputed at most every half second.
COUNTS_TTL = 0.5


def _cached_count(name, predicate):
    def count(self):
        cache = self.__dict__.setdefault("_cfinv_counts", {})
        at, value = cache.get(name, (0.0, 0))
        now = time.time()
        if now - at > COUNTS_TTL:
            now_ms = now * 1000.0
            value = sum(1 for m in self._messages if predicate(m, now_ms))
            cache[name] = (now, value)
        return value

    return property(count)


sqs_models.Queue.approximate_number_of_messages = _cached_count(
    "visible", lambda m, now: m.visible_at < now and m.delayed_until <= now
)
sqs_models.Queue.approximate_number_of_messages_not_visible = _cached_count(
    "in_flight", lambda m, now: m.visible_at >= now
)
sqs_models.Queue.approximate_number_of_messages_delayed = _cached_count(
    "delayed", lambda m, now: m.delayed_until > now
)


# ---------------------------------------------------------------------------------------------------
# Lambda functions that run: moto runs function code only in Docker. With CFINV_LAMBDA_ENDPOINT set
# (cargo lambda watch's address), every invocation (Invoke, state machine tasks, S3 notifications) is
# forwarded to the real binary there: the one named by the function's CFINV_BINARY variable, or the
# function's own name. A function error comes back as the Lambda error it is (its errorType becomes
# the state machine's error name).

import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

from moto.awslambda import models as lambda_models  # noqa: E402

LAMBDA_ENDPOINT = os.environ.get("CFINV_LAMBDA_ENDPOINT")
_original_invoke_lambda = lambda_models.LambdaFunction._invoke_lambda


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
        with urllib.request.urlopen(request, timeout=900) as response:
            return response.read().decode(), False, ""
    except urllib.error.HTTPError as e:
        body = e.read().decode() or json.dumps({"errorType": "Lambda.Unknown", "errorMessage": str(e)})
        return body, True, ""
    except OSError as e:
        return json.dumps({"errorType": "Lambda.ServiceException", "errorMessage": str(e)}), True, ""


lambda_models.LambdaFunction._invoke_lambda = _invoke_lambda


# ---------------------------------------------------------------------------------------------------
# S3 notifications in the shape AWS sends, delivered asynchronously as AWS does (moto delivers inside
# PutObject, and omits fields AWS always sends).

from urllib.parse import quote_plus, unquote_plus  # noqa: E402

from moto.s3 import notifications as s3_notifications  # noqa: E402

_original_invoke_awslambda = s3_notifications._invoke_awslambda


def _aws_shaped(event_body):
    for record in event_body.get("Records", []):
        s3 = record.setdefault("s3", {})
        obj = s3.setdefault("object", {})
        # AWS form-encodes the key but keeps "/" (moto encodes it as %2F).
        obj["key"] = quote_plus(unquote_plus(obj.get("key", "")), safe="/")
        obj["sequencer"] = format(time.time_ns(), "X").rjust(18, "0")
        if record.get("eventName", "").startswith("ObjectRemoved"):
            obj.pop("size", None)
            obj.pop("eTag", None)
        record.setdefault("userIdentity", {"principalId": "AWS:AIDACFINVEMULATOR"})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        record.setdefault(
            "responseElements", {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": uuid.uuid4().hex}
        )
        s3.setdefault("bucket", {}).setdefault("ownerIdentity", {"principalId": "A3CFINVEMULATOR"})
    return event_body


def _invoke_awslambda_async(account_id, event_body, fn_arn, region_name):
    body = _aws_shaped(copy.deepcopy(event_body))
    threading.Thread(
        target=_original_invoke_awslambda, args=(account_id, body, fn_arn, region_name), daemon=True
    ).start()


s3_notifications._invoke_awslambda = _invoke_awslambda_async


# ---------------------------------------------------------------------------------------------------
# S3 -> EventBridge in the shape AWS sends (moto's event has a numeric time, the notification's event
# name as the reason and a raw key), and rules that forward it to Lambda functions, which moto's
# rules cannot do. This is the route the SAM stack deploys.

import datetime  # noqa: E402

from moto.events.models import events_backends  # noqa: E402

_EVENTBRIDGE_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
    "Delete": "DeleteObject",
    "DeleteMarkerCreated": "DeleteObject",
}


# S3 notification event kinds and their EventBridge detail-types. Only creations and deletions matter
# to cfinv's rule; the others exist so that a rule sees the same events AWS would send (moto's
# PutObject also fires an ObjectAcl:Put, which AWS sends as "Object ACL Updated").
_DETAIL_TYPES = {
    "ObjectCreated": "Object Created",
    "ObjectRemoved": "Object Deleted",
    "LifecycleExpiration": "Object Deleted",
    "ObjectAcl": "Object ACL Updated",
    "ObjectTagging": "Object Tags Added",
    "ObjectRestore": "Object Restore Initiated",
}


def _eventbridge_event(account_id, bucket, event_name, key):
    name = getattr(event_name, "value", str(event_name))  # s3:ObjectCreated:Put
    _, kind, verb = name.split(":", 2)
    detail_type = _DETAIL_TYPES.get(kind)
    if detail_type is None:
        return None
    if (kind, verb) == ("ObjectRestore", "Completed"):
        detail_type = "Object Restore Completed"
    if (kind, verb) == ("ObjectTagging", "Delete"):
        detail_type = "Object Tags Deleted"
    obj = {"key": quote_plus(key.name, safe="/"), "sequencer": format(time.time_ns(), "X").rjust(18, "0")}
    detail = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": uuid.uuid4().hex[:16].upper(),
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": _EVENTBRIDGE_REASONS.get(verb, verb),
    }
    if detail_type == "Object Deleted":
        if kind == "LifecycleExpiration":
            detail["reason"] = "Lifecycle Expiration"
        detail["deletion-type"] = "Delete Marker Created" if verb.endswith("DeleteMarkerCreated") else "Permanently Deleted"
    else:
        obj.update(size=key.size, etag=key.etag.strip('"'))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": bucket.region_name,
        "resources": [f"arn:aws:s3:::{bucket.name}"],
        "detail": detail,
    }


def _send_event_bridge_message(account_id, bucket, event_name, key):
    """Delivers to the Lambda targets of matching rules (the only kind cfinv uses). Like AWS's
    delivery it is asynchronous and never fails the S3 request that caused it."""
    try:
        event = _eventbridge_event(account_id, bucket, event_name, key)
        if event is None:
            return
        backend = events_backends[account_id][bucket.region_name]
        for bus in list(backend.event_buses.values()):
            for rule in list(bus.rules.values()):
                if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
                    continue
                for target in rule.targets:
                    if ":lambda:" in target["Arn"]:
                        threading.Thread(
                            target=_original_invoke_awslambda,
                            args=(account_id, event, target["Arn"], bucket.region_name),
                            daemon=True,
                        ).start()
    except Exception as e:  # noqa: BLE001 - logged, as AWS would drop it into the rule's metrics
        print(f"emulator: EventBridge delivery failed: {e!r}", file=sys.stderr, flush=True)


s3_notifications._send_event_bridge_message = _send_event_bridge_message


# ---------------------------------------------------------------------------------------------------
# GetBucketNotificationConfiguration answers with the root element AWS uses, and with the
# EventBridgeConfiguration moto leaves out. moto serialises it as the
# legacy GetBucketNotification operation (root GetBucketNotificationResponse), which strict clients
# such as the Rust SDK refuse.

from moto.s3.responses import S3Response  # noqa: E402

_original_get_bucket_notification = S3Response.get_bucket_notification


def get_bucket_notification(self):
    status, headers, body = _original_get_bucket_notification(self)
    if isinstance(body, bytes):
        body = body.decode()
    if isinstance(body, str) and "GetBucketNotificationResponse" in body:
        body = body.replace("GetBucketNotificationResponse", "NotificationConfiguration")
    # moto stores EventBridgeConfiguration but leaves it out of the answer; a client that reads,
    # merges and writes back would then turn EventBridge delivery off.
    config = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if (
        isinstance(body, str)
        and config is not None
        and config.event_bridge is not None
        and "EventBridgeConfiguration" not in body
        and "</NotificationConfiguration>" in body
    ):
        body = body.replace("</NotificationConfiguration>", "<EventBridgeConfiguration/></NotificationConfiguration>")
    return status, headers, body


S3Response.get_bucket_notification = get_bucket_notification


# ---------------------------------------------------------------------------------------------------
# The server, with the control routes in front of moto's app.


def published_sns_messages():
    from moto.sns.models import sns_backends

    out = []
    for account_id, regions in sns_backends.items():
        for region, backend in regions.items():
            for topic in backend.topics.values():
                for message_id, message, subject, *_rest in topic.sent_notifications:
                    out.append({"topicArn": topic.arn, "messageId": message_id, "subject": subject, "message": message})
    return out


# moto's S3 does not dispatch through BaseResponse.call_action, so S3 faults are injected in front
# of moto, from the HTTP request (path-style addressing, as cfinv's clients use with an emulator).
S3_OPERATIONS = {
    "PutObject": lambda method, query: method == "PUT" and "tagging" not in query,
    "GetObject": lambda method, query: method == "GET" and "tagging" not in query,
    "GetBucketTagging": lambda method, query: method == "GET" and "tagging" in query,
}
S3_STATUS = {"AccessDenied": 403, "NoSuchKey": 404, "NoSuchBucket": 404, "SlowDown": 503, "ServiceUnavailable": 503}


def s3_fault(environ):
    if not FAULTS:
        return None
    path = environ.get("PATH_INFO", "")
    parts = [p for p in path.split("/") if p]
    if not parts or environ.get("HTTP_HOST", "").split(":")[0] not in ("127.0.0.1", "localhost"):
        return None
    method, query = environ.get("REQUEST_METHOD", "GET"), environ.get("QUERY_STRING", "")
    object_level = len(parts) >= 2
    with FAULTS_LOCK:
        for fault in FAULTS:
            if fault["count"] <= 0 or fault["service"].lower() != "s3":
                continue
            check = S3_OPERATIONS.get(fault["operation"])
            if check is None or not check(method, query):
                continue
            if fault["operation"] in ("PutObject", "GetObject") and not object_level:
                continue
            if fault.get("match") and fault["match"] not in path:
                continue
            fault["count"] -= 1
            return fault
    return None


def s3_error_response(fault, start_response):
    code = fault["code"]
    message = fault.get("message") or f"injected {code}"
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'.encode()
    status = S3_STATUS.get(code, 500)
    start_response(f"{status} Injected", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


class ControlMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_cfinv/"):
            fault = s3_fault(environ)
            if fault:
                return s3_error_response(fault, start_response)
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length else b""
        status, payload = self.route(method, path, body)
        data = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def route(self, method, path, body):
        if path == "/_cfinv/health":
            return "200 OK", {"ok": True}
        if path == "/_cfinv/faults" and method == "POST":
            try:
                fault = json.loads(body or b"{}")
                for field in ("service", "operation", "code"):
                    if not isinstance(fault.get(field), str):
                        return "400 Bad Request", {"error": f"fault needs a string {field!r}"}
                fault["count"] = int(fault.get("count", 1))
            except (ValueError, TypeError) as e:
                return "400 Bad Request", {"error": str(e)}
            with FAULTS_LOCK:
                FAULTS.append(fault)
            return "200 OK", {"faults": len(FAULTS)}
        if path == "/_cfinv/faults" and method == "GET":
            with FAULTS_LOCK:
                return "200 OK", {"faults": list(FAULTS)}
        if path == "/_cfinv/faults" and method == "DELETE":
            with FAULTS_LOCK:
                FAULTS.clear()
            return "200 OK", {"faults": 0}
        if path == "/_cfinv/sns" and method == "GET":
            return "200 OK", {"messages": published_sns_messages()}
        return "404 Not Found", {"error": f"no route {method} {path}"}


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args()

    # Step Functions calls Lambda at http://localhost:$MOTO_PORT: it must be this server.
    os.environ["MOTO_PORT"] = str(args.port)
    moto_config.default_user_config["stepfunctions"]["execute_state_machine"] = True

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = ControlMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"cfinv emulator listening on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
