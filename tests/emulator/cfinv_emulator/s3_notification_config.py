"""GetBucketNotificationConfiguration with the root element AWS uses, and with the
EventBridgeConfiguration moto leaves out.

moto serialises it as the legacy GetBucketNotification operation (root
GetBucketNotificationResponse), which strict clients such as the Rust SDK refuse. And moto stores
EventBridgeConfiguration but leaves it out of the answer: a client that reads, merges and writes back
would then turn EventBridge delivery off.
"""

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
        and "</NotificationConfiguration>" in body
    ):
        body = body.replace("</NotificationConfiguration>", "<EventBridgeConfiguration/></NotificationConfiguration>")
    return status, headers, body


def install():
    global _original_get_bucket_notification
    if S3Response.get_bucket_notification is not get_bucket_notification:
        _original_get_bucket_notification = S3Response.get_bucket_notification
        S3Response.get_bucket_notification = get_bucket_notification
