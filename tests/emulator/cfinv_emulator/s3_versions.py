"""S3 notifications of a versioned bucket as AWS sends them, and lifecycle expirations on demand.

moto's notification record has no versionId; a DeleteObject without a version id on a versioned
bucket (a delete marker) sends nothing; deleting one version sends ObjectRemoved:Delete only when it
was the key's last, about the key's current version; and moto never runs a lifecycle rule. Here:

- the record of a versioning-enabled bucket has s3.object.versionId (and s3_eventbridge's detail
  object.version-id): the new version, the delete marker, or the version deleted;
- a removal record has no size or eTag (AWS sends none; moto sends the current version's);
- DeleteObject without a version id on a versioned bucket sends ObjectRemoved:DeleteMarkerCreated
  with the marker's version id; with a version id, every version permanently deleted sends
  ObjectRemoved:Delete with that version's id (DeleteObjects, which calls DeleteObject, too);
- `expire(bucket, key, version_id)` (POST /_cfinv/s3/lifecycle-expiration, see control.py) does
  what an S3 Lifecycle expiration does, and sends its event: on an unversioned bucket it deletes the
  object (LifecycleExpiration:Delete); on a versioned bucket, without a version id it puts a delete
  marker on the current version (LifecycleExpiration:DeleteMarkerCreated), with one it permanently
  deletes that noncurrent version (LifecycleExpiration:Delete, with its versionId). Its records say
  "s3.amazonaws.com" for the principal and source address, as AWS's lifecycle records do.

HeadObject returns user metadata (x-amz-meta-*) already in moto; a test pins it.
"""

import threading

from moto.s3 import models as s3_models
from moto.s3 import notifications as moto_s3_notifications
from moto.s3.models import s3_backends

LIFECYCLE_PRINCIPAL = "s3.amazonaws.com"

_local = threading.local()  # .suppress: inside a delete whose events this module sends itself

_original_send_event = None
_original_get_s3_event = None
_original_delete_object = None


class EventKey:
    """What a notification needs of an object version, for a version or marker no longer stored."""

    def __init__(self, name, version_id, size=0, etag=""):
        self.name = name
        self.version_id = version_id
        self.size = size
        self.etag = etag


def version_id_of(bucket, key):
    """The version id AWS reports for this object in this bucket, or None (bucket not versioned)."""
    if not getattr(bucket, "is_versioned", False):
        return None
    version = getattr(key, "version_id", None)
    return None if version in (None, "", "null") else str(version)


def send_event(account_id, event_name, bucket, key):
    if getattr(_local, "suppress", False):
        return
    return _original_send_event(account_id, event_name, bucket, key)


def get_s3_event(event_name, bucket, key, notification_id):
    body = _original_get_s3_event(event_name, bucket, key, notification_id)
    name = getattr(event_name, "value", str(event_name))
    for record in body.get("Records", []):
        obj = record.setdefault("s3", {}).setdefault("object", {})
        version = version_id_of(bucket, key)
        if version is not None:
            obj["versionId"] = version
        if name.startswith(("s3:ObjectRemoved", "s3:LifecycleExpiration")):
            obj.pop("size", None)
            obj.pop("eTag", None)
        if name.startswith("s3:LifecycleExpiration"):
            record["userIdentity"] = {"principalId": LIFECYCLE_PRINCIPAL}
            record["requestParameters"] = {"sourceIPAddress": LIFECYCLE_PRINCIPAL}
    return body


def _emit(backend, event, bucket, key):
    _original_send_event(backend.account_id, event, bucket, key)


def _version(bucket, key_name, version_id):
    for key in bucket.keys.getlist(key_name, []) or []:
        if str(key.version_id) == str(version_id):
            return key
    return None


def _event_key(key):
    if isinstance(key, s3_models.FakeDeleteMarker):
        return EventKey(key.name, key.version_id)
    return EventKey(key.name, key.version_id, key.size, key.etag)


def _delete(backend, bucket_name, key_name, version_id, bypass, removed_event, marker_event):
    """moto's delete_object with its own events held back; then the events AWS sends."""
    bucket = backend.get_bucket(bucket_name)
    if not getattr(bucket, "is_versioned", False):
        current = bucket.keys.get(key_name)
        _local.suppress = True
        try:
            result = _original_delete_object(backend, bucket_name, key_name, version_id=version_id, bypass=bypass)
        finally:
            _local.suppress = False
        if result[0] and current is not None:
            _emit(backend, removed_event, bucket, current)
        return result
    target = _version(bucket, key_name, version_id) if version_id is not None else None
    _local.suppress = True
    try:
        result = _original_delete_object(backend, bucket_name, key_name, version_id=version_id, bypass=bypass)
    finally:
        _local.suppress = False
    deleted, meta = result
    if deleted and version_id is None and meta.get("version-id"):
        _emit(backend, marker_event, bucket, EventKey(key_name, meta["version-id"]))
    elif deleted and target is not None:
        _emit(backend, removed_event, bucket, _event_key(target))
    return result


def delete_object(self, bucket_name, key_name, version_id=None, bypass=False):
    events = moto_s3_notifications.S3NotificationEvent
    return _delete(
        self, bucket_name, key_name, version_id, bypass,
        events.OBJECT_REMOVED_DELETE_EVENT, events.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT,
    )


def expire(bucket_name, key_name, version_id=None, account_id="123456789012"):
    """An S3 Lifecycle expiration of the key's current version (version_id None) or of one noncurrent
    version, with the event AWS sends for it. True when something was expired."""
    backend = s3_backends[account_id]["aws"]
    events = moto_s3_notifications.S3NotificationEvent
    deleted, _meta = _delete(
        backend, bucket_name, key_name, version_id, False,
        events.LIFECYCLEEXPIRATION_DELETE_EVENT, events.LIFECYCLE_EXPIRATION_DELETE_MARKER_CREATED_EVENT,
    )
    return bool(deleted)


def install():
    global _original_send_event, _original_get_s3_event, _original_delete_object
    if moto_s3_notifications.send_event is not send_event:
        _original_send_event = moto_s3_notifications.send_event
        moto_s3_notifications.send_event = send_event
    if moto_s3_notifications._get_s3_event is not get_s3_event:
        _original_get_s3_event = moto_s3_notifications._get_s3_event
        moto_s3_notifications._get_s3_event = get_s3_event
    if s3_models.S3Backend.delete_object is not delete_object:
        _original_delete_object = s3_models.S3Backend.delete_object
        s3_models.S3Backend.delete_object = delete_object
