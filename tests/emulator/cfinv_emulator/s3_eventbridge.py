"""S3 -> EventBridge in the shape AWS sends, and rules that forward it to Lambda functions.

This is the route the SAM stack deploys. moto's event has a numeric time, the notification's event
name as the reason and a raw key; and moto's rules cannot have Lambda targets. Here a bucket with
EventBridge delivery on sends its object changes in AWS's shape (detail-type, reason, deletion-type,
encoded key), put on the default bus, whose enabled rules that match deliver it as PutEvents does
(events_delivery: Lambda targets invoked asynchronously, SQS and SNS targets too).
"""

import datetime
import sys
import uuid
from urllib.parse import quote_plus

from moto.s3 import notifications as moto_s3_notifications

from . import events_delivery, s3_notifications, s3_versions

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


def eventbridge_event(account_id, bucket, event_name, key):
    """The EventBridge event AWS sends for this notification event, or None for a kind it has none for."""
    name = getattr(event_name, "value", str(event_name))  # s3:ObjectCreated:Put
    _, kind, verb = name.split(":", 2)
    detail_type = _DETAIL_TYPES.get(kind)
    if detail_type is None:
        return None
    if (kind, verb) == ("ObjectRestore", "Completed"):
        detail_type = "Object Restore Completed"
    if (kind, verb) == ("ObjectTagging", "Delete"):
        detail_type = "Object Tags Deleted"
    obj = {"key": quote_plus(key.name, safe="/"), "sequencer": s3_notifications.sequencer()}
    detail = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": uuid.uuid4().hex[:16].upper(),
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": _EVENTBRIDGE_REASONS.get(verb, verb),
    }
    version = s3_versions.version_id_of(bucket, key)
    if version is not None:
        obj["version-id"] = version
    if detail_type == "Object Deleted":
        if kind == "LifecycleExpiration":
            detail["reason"] = "Lifecycle Expiration"
            detail["requester"] = s3_versions.LIFECYCLE_PRINCIPAL
            del detail["source-ip-address"]  # only for events caused by a request
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
    """Puts the change on the default bus, whose matching rules deliver it (events_delivery: Lambda
    targets asynchronously, SQS and SNS targets too). Like AWS's delivery it never fails the S3
    request that caused it."""
    try:
        event = eventbridge_event(account_id, bucket, event_name, key)
    except Exception as e:  # noqa: BLE001 - logged, as AWS would drop it into the rule's metrics
        print(f"emulator: EventBridge event for {key.name!r} failed: {e!r}", file=sys.stderr, flush=True)
        return
    if event is not None:
        events_delivery.deliver(account_id, bucket.region_name, event)


def install():
    moto_s3_notifications._send_event_bridge_message = _send_event_bridge_message
