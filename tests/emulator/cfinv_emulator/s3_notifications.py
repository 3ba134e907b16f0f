"""S3 notifications to Lambda in the shape AWS sends, delivered asynchronously as AWS does.

moto delivers inside PutObject (which deadlocks a function that writes to a bucket that notifies it),
omits fields AWS always sends (userIdentity, requestParameters, responseElements, sequencer,
ownerIdentity), encodes "/" in keys as %2F, and gives removal events a size and an eTag. Here the
function is invoked in the background, in order, a few at a time (lambda_bridge.invoke_async).
"""

import copy
import time
import uuid
from urllib.parse import quote_plus, unquote_plus

from moto.s3 import notifications as moto_s3_notifications

from . import lambda_bridge

_original_invoke_awslambda = None


def moto_invoke_awslambda():
    """moto's own delivery to a function (synchronous, the event as given), installed or not."""
    return _original_invoke_awslambda or moto_s3_notifications._invoke_awslambda


def sequencer():
    return format(time.time_ns(), "X").rjust(18, "0")


def aws_shaped(event_body):
    """The notification as AWS sends it (changed in place, and returned)."""
    for record in event_body.get("Records", []):
        s3 = record.setdefault("s3", {})
        obj = s3.setdefault("object", {})
        # AWS form-encodes the key but keeps "/" (moto encodes it as %2F).
        obj["key"] = quote_plus(unquote_plus(obj.get("key", "")), safe="/")
        obj["sequencer"] = sequencer()
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
    body = aws_shaped(copy.deepcopy(event_body))
    lambda_bridge.invoke_async(fn_arn, moto_invoke_awslambda(), account_id, body, fn_arn, region_name)


def install():
    global _original_invoke_awslambda
    if moto_s3_notifications._invoke_awslambda is not _invoke_awslambda_async:
        _original_invoke_awslambda = moto_s3_notifications._invoke_awslambda
        moto_s3_notifications._invoke_awslambda = _invoke_awslambda_async
