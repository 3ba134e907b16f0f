"""EventBridge delivery as AWS does it, and a record of every event put on a bus.

moto's rules deliver to SQS queues, log groups, archives, other buses and API destinations only; a
matching rule with any other target (a Lambda function, an SNS topic, a state machine) raises, and
the whole PutEvents call fails (a 500 on the server). It also delivers to disabled rules, and its SQS
message lacks the event's "account". Here, for every event that reaches a bus (PutEvents, and the S3
changes s3_eventbridge sends):

- only enabled rules whose pattern matches deliver;
- each target gets the event in AWS's shape ({version, id, detail-type, source, account, time (ISO
  8601), region, resources, detail}), or what its Input, InputPath or InputTransformer makes of it;
- Lambda targets are invoked asynchronously (moto's own invocation, so through the Lambda bridge
  when CFINV_LAMBDA_ENDPOINT is set), queued per function, in order, a few at a time
  (lambda_bridge.invoke_async); SNS targets get the event published to the topic, SQS targets
  get it as the message body (moto's send, FIFO rules kept); the other kinds moto delivers are
  delivered by moto; a target that cannot be delivered to (a kind moto lacks, a missing queue) is
  logged to stderr and skipped, and never fails the call that put the event;
- GET /_cfinv/events lists every event put on any bus, oldest first, in AWS's shape plus
  "eventBusName".
"""

import copy
import datetime
import json
import sys
import threading

from moto.events import models as events_models
from moto.events.utils import EventTemplateParser

from . import lambda_bridge, s3_notifications

EVENTS = []  # every event put on a bus, in AWS's shape, with "eventBusName"
EVENTS_LOCK = threading.Lock()


def put_events_seen():
    with EVENTS_LOCK:
        return copy.deepcopy(EVENTS)


def iso_time(value):
    """An event time as AWS writes it (2026-01-02T03:04:05Z), from moto's epoch seconds, a datetime or
    a string."""
    if isinstance(value, (int, float)):
        value = datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def epoch_time(value):
    """The same time as epoch seconds, as moto's SQS delivery wants it."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    try:
        parsed = datetime.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ")
        return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return datetime.datetime.now(datetime.timezone.utc).timestamp()


def aws_event(event, account_id, region_name):
    """The event as AWS delivers it to a target."""
    out = {
        "version": event.get("version", "0"),
        "id": event.get("id"),
        "detail-type": event.get("detail-type"),
        "source": event.get("source"),
        "account": event.get("account") or account_id,
        "time": iso_time(event.get("time")),
        "region": event.get("region") or region_name,
        "resources": event.get("resources", []),
        "detail": event.get("detail", {}),
    }
    return out


def json_path(value, path):
    """A simple JSONPath ($, $.a.b, $.a[0]) applied to value; None when it does not resolve."""
    from jsonpath_ng.ext import parse

    matches = parse(path).find(value)
    return matches[0].value if matches else None


def target_input(target, event, moto_event):
    """What the target receives: Input (constant JSON text), InputPath, InputTransformer, or the event."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        return json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event={**event, "ingestion-time": moto_event["ingestion-time"]},  # <time>: ISO 8601, as AWS
        )
    return event


def _log(message):
    print(f"emulator: EventBridge: {message}", file=sys.stderr, flush=True)


_original_send_to_targets = None


def send_to_targets(self, original_event, transform_input=True):
    """moto's Rule.send_to_targets, target by target, each failure logged and skipped."""
    if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
        return
    event = aws_event(original_event, self.account_id, self.region_name)
    moto_event = {**original_event, "ingestion-time": original_event.get("ingestion-time", epoch_time(event["time"]))}
    for target in list(self.targets):
        arn = target.get("Arn", "")
        try:
            service = arn.split(":")[2]
            payload = target_input(target, event, moto_event) if transform_input else event
            if service == "lambda":
                lambda_bridge.invoke_async(
                    arn, s3_notifications.moto_invoke_awslambda(), self.account_id, payload, arn, self.region_name
                )
            elif service == "sqs":
                group_id = target.get("SqsParameters", {}).get("MessageGroupId")
                if isinstance(payload, dict):
                    body = dict(payload)
                    if "time" in body:
                        body["time"] = epoch_time(body["time"])  # moto's send writes it back as ISO 8601
                    self._send_to_sqs_queue(arn.split(":")[-1], body, group_id)
                else:
                    from moto.sqs import sqs_backends

                    sqs_backends[self.account_id][self.region_name].send_message(
                        queue_name=arn.split(":")[-1], message_body=json.dumps(payload), group_id=group_id
                    )
            elif service == "sns":
                from moto.sns.models import sns_backends

                region = arn.split(":")[3] or self.region_name
                account = arn.split(":")[4] or self.account_id
                message = payload if isinstance(payload, str) else json.dumps(payload)
                sns_backends[account][region].publish(message=message, arn=arn)
            else:
                clone = copy.copy(self)
                clone.targets = [target]
                _original_send_to_targets(clone, copy.deepcopy(original_event), transform_input)
        except NotImplementedError:
            _log(f"rule {self.name}: target {arn} is of a kind the emulator does not deliver to; skipped")
        except Exception as e:  # noqa: BLE001 - a target that cannot be delivered to fails nothing else
            _log(f"rule {self.name}: delivery to {arn} failed: {e!r}")


_original_put_events = None


def put_events(self, events):
    """moto's PutEvents, with every accepted entry recorded for GET /_cfinv/events."""
    entries = _original_put_events(self, events)
    now = datetime.datetime.now(datetime.timezone.utc)
    recorded = []
    for event, entry in zip(events, entries):
        if "EventId" not in entry:
            continue
        try:
            detail = json.loads(event.get("Detail") or "{}")
        except ValueError:
            detail = event.get("Detail")
        recorded.append({
            "version": "0",
            "id": entry["EventId"],
            "detail-type": event.get("DetailType"),
            "source": event.get("Source"),
            "account": self.account_id,
            "time": iso_time(event.get("Time") or now),
            "region": self.region_name,
            "resources": event.get("Resources", []),
            "detail": detail,
            "eventBusName": self._normalize_event_bus_arn(event.get("EventBusName")),
        })
    if recorded:
        with EVENTS_LOCK:
            EVENTS.extend(recorded)
    return entries


def deliver(account_id, region_name, event, bus_name="default"):
    """Puts an event that AWS sends itself (an S3 change) on a bus: recorded, and delivered to the
    bus's rules as PutEvents delivers. Never raises."""
    try:
        with EVENTS_LOCK:
            EVENTS.append({**copy.deepcopy(event), "eventBusName": bus_name})
        backend = events_models.events_backends[account_id][region_name]
        bus = backend.event_buses.get(bus_name)
        if bus is None:
            return
        for rule in list(bus.rules.values()):
            rule.send_to_targets(copy.deepcopy(event))
    except Exception as e:  # noqa: BLE001 - as AWS, a delivery problem is not the sender's
        _log(f"delivery of {event.get('detail-type')!r} failed: {e!r}")


def install():
    global _original_send_to_targets, _original_put_events
    if events_models.Rule.send_to_targets is not send_to_targets:
        _original_send_to_targets = events_models.Rule.send_to_targets
        events_models.Rule.send_to_targets = send_to_targets
    if events_models.EventsBackend.put_events is not put_events:
        _original_put_events = events_models.EventsBackend.put_events
        events_models.EventsBackend.put_events = put_events
