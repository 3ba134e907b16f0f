"""GetBucketNotificationConfiguration with the root element AWS uses, and with the
EventBridgeConfiguration moto leaves out.

moto serialises it as the legacy GetBucketNotification operation (root
GetBucketNotificationResponse), which strict clients such as the Rust SDK refuse. And moto stores
EventBridgeConfiguration but leaves it out of the answer: a client that reads, merges and writes back
would then turn EventBridge delivery off. When EventBridge is the only notification, moto's answer is
an empty root (<NotificationConfiguration xmlns="..."/>), which gets it too.
"""

import re

from moto.s3.responses import S3Response

_original_get_bucket_notification = None


def get_bucket_notification(self):
    status, headers, body = _original_get_bucket_notification(self)
    if isinstance(body, bytes):
        body = body.decode()
    if isinstance(body, str) and "GetBucketNotificationResponse" in body:
        body = body.replace("GetBucketNotificationResponse", "NotificationConfiguration")
    config = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if (
        isinstance(body, str)
        and config is not None
        and config.event_bridge is not None
        and "EventBridgeConfiguration" not in body
    ):
        body = with_event_bridge(body)
    return status, headers, body


# The root as an empty element: <NotificationConfiguration/>, with attributes (moto's xmlns) or a space.
_EMPTY_ROOT = re.compile(r"<NotificationConfiguration(\s[^>]*)?/>")


def with_event_bridge(body):
    """The configuration document with <EventBridgeConfiguration/> last in its root, whether the root
    has content (a closing tag) or is empty (self-closing, as moto writes it when EventBridge is the
    only notification)."""
    if "</NotificationConfiguration>" in body:
        head, _, tail = body.rpartition("</NotificationConfiguration>")
        return f"{head}<EventBridgeConfiguration/></NotificationConfiguration>{tail}"
    return _EMPTY_ROOT.sub(
        lambda m: f"<NotificationConfiguration{m.group(1) or ''}><EventBridgeConfiguration/></NotificationConfiguration>",
        body,
        count=1,
    )


def install():
    global _original_get_bucket_notification
    if S3Response.get_bucket_notification is not get_bucket_notification:
        _original_get_bucket_notification = S3Response.get_bucket_notification
        S3Response.get_bucket_notification = get_bucket_notification
