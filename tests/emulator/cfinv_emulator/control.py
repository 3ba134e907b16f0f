"""The server: cfinv's control routes and the S3 request-level faults in front of moto's app.

- POST /_cfinv/faults registers a fault (see faults.py); GET lists them with their uses left; DELETE
  clears them.
- GET /_cfinv/sns lists every message published to SNS (topic, message id, subject, message).
- GET /_cfinv/events lists every event put on an EventBridge bus (see events_delivery.py).
- POST /_cfinv/cloudfront/completion {"distributionId": "E..", "seconds": 8} sets how long that
  distribution's (or distribution tenant's) next invalidations stay InProgress; "seconds": null
  removes the setting; without "distributionId" it sets the default (CFINV_EMU_INVALIDATION_SECONDS).
  GET answers the settings.
- POST /_cfinv/s3/lifecycle-expiration {"bucket", "key", "versionId" (optional)} expires an object
  (or one noncurrent version) as an S3 Lifecycle rule would, with its LifecycleExpiration event (see
  s3_versions.py); moto never runs lifecycle rules.
- GET /_cfinv/health answers once the server is up.
"""

import json
import os
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sns.models import sns_backends
from werkzeug.serving import make_server as werkzeug_make_server

from . import cloudfront_invalidations, events_delivery, faults, s3_versions


DEFAULT_ACCOUNT = "123456789012"  # moto's, for the emulator's credentials


def published_sns_messages():
    out = []
    for account_id, regions in sns_backends.items():
        for region, backend in regions.items():
            for topic in backend.topics.values():
                for message_id, message, subject, *_rest in topic.sent_notifications:
                    out.append({"topicArn": topic.arn, "messageId": message_id, "subject": subject, "message": message})
    return out


class ControlMiddleware:
    """Answers /_cfinv/ itself, with JSON; passes every other request to `app`."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_cfinv/"):
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
            return "200 OK", {"faults": faults.add_fault(fault)}
        if path == "/_cfinv/faults" and method == "GET":
            return "200 OK", {"faults": faults.list_faults()}
        if path == "/_cfinv/faults" and method == "DELETE":
            faults.clear_faults()
            return "200 OK", {"faults": 0}
        if path == "/_cfinv/cloudfront/completion" and method == "POST":
            try:
                setting = json.loads(body or b"{}")
                owner = setting.get("distributionId")
                seconds = setting.get("seconds")
                if owner is not None and not isinstance(owner, str):
                    return "400 Bad Request", {"error": "distributionId must be a string"}
                if seconds is not None:
                    seconds = float(seconds)
                    if seconds < 0:
                        return "400 Bad Request", {"error": "seconds must not be negative"}
                elif owner is None:
                    return "400 Bad Request", {"error": "the default needs seconds"}
            except (ValueError, TypeError, AttributeError) as e:
                return "400 Bad Request", {"error": str(e)}
            cloudfront_invalidations.set_completion_seconds(owner, seconds)
            return "200 OK", cloudfront_invalidations.completion_settings()
        if path == "/_cfinv/cloudfront/completion" and method == "GET":
            return "200 OK", cloudfront_invalidations.completion_settings()
        if path == "/_cfinv/s3/lifecycle-expiration" and method == "POST":
            try:
                request = json.loads(body or b"{}")
                bucket, key, version = request.get("bucket"), request.get("key"), request.get("versionId")
                if not isinstance(bucket, str) or not isinstance(key, str):
                    return "400 Bad Request", {"error": "an expiration needs a string bucket and key"}
                expired = s3_versions.expire(bucket, key, version, request.get("account", DEFAULT_ACCOUNT))
            except (ValueError, TypeError, AttributeError) as e:
                return "400 Bad Request", {"error": str(e)}
            except Exception as e:  # noqa: BLE001 - moto's NoSuchBucket and the like
                return "404 Not Found", {"error": repr(e)}
            return "200 OK", {"expired": expired}
        if path == "/_cfinv/events" and method == "GET":
            return "200 OK", {"events": events_delivery.put_events_seen()}
        if path == "/_cfinv/sns" and method == "GET":
            return "200 OK", {"messages": published_sns_messages()}
        return "404 Not Found", {"error": f"no route {method} {path}"}


def make_app():
    """moto's server app behind the S3 faults, behind the control routes."""
    return ControlMiddleware(faults.S3FaultMiddleware(DomainDispatcherApplication(create_backend_app)))


def make_server(host, port):
    """A threaded HTTP server of make_app() (port 0: a free one, see server_port), not yet serving."""
    return werkzeug_make_server(host, port, make_app(), threaded=True)


def watch_parent(pid):
    """Exits this process once process `pid` is gone."""
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(1)


def serve(host, port, parent_pid=None):
    server = make_server(host, port)
    if parent_pid:
        threading.Thread(target=watch_parent, args=(parent_pid,), daemon=True).start()
    print(f"cfinv emulator listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
