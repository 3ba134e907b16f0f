"""SQS at the sizes cfinv tests (10,000 messages in one queue).

moto recomputes every message's visibility, through a datetime-based clock, several times per
returned message, and deletes by scanning the queue once per receipt: a receive took a second at
2,000 messages. For standard queues the versions here keep moto's semantics (visibility, pending set,
redrive to the dead-letter queue, retention, long polling) with one pass per call. FIFO queues keep
moto's own code.

- ReceiveMessage and DeleteMessageBatch: one pass over the queue, under the queue's own lock
  (`Queue._messages_lock`, which moto's SendMessage holds to append): the server is threaded, and a
  batch delete rebuilds the message list, which would otherwise drop a message sent meanwhile or
  bring back one another delete removed.
- moto's clock (`unix_time_millis` as the SQS models see it) is read from time.time(): the same
  value, a hundred times cheaper.
- The three approximate counts, which moto computes over every message each time a queue's
  attributes are read (SendMessage does it once per message: quadratic in the queue's length), are
  recomputed at most every COUNTS_TTL seconds. AWS calls them approximate and updates them lazily.
"""

import copy
import time

from moto.core import utils as moto_utils
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import ReceiptHandleIsInvalid

COUNTS_TTL = 0.5

_original_receive = None
_original_delete_batch = None


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
        with queue._messages_lock:
            result, to_dlq = _receive_once(queue, count, names, retention, visibility_timeout)
        if result or time.time() >= deadline:
            return result
        time.sleep(0.05)


def _receive_once(queue, count, names, retention, visibility_timeout):
    """One pass: the visible messages received (at most `count`), and those moved to the
    dead-letter queue. The caller holds the queue's lock."""
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
    return result, to_dlq


def delete_message_batch(self, queue_name, receipts):
    queue = self.get_queue(queue_name)
    if queue.fifo_queue:
        return _original_delete_batch(self, queue_name, receipts)
    wanted = {r["ReceiptHandle"]: r["Id"] for r in receipts}
    found = set()
    with queue._messages_lock:
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


def _fast_unix_time_millis(dt=None):
    """moto's clock, read from time.time(): the same value, a hundred times cheaper."""
    return time.time() * 1000.0 if dt is None else moto_utils.unix_time_millis(dt)


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


def install():
    global _original_receive, _original_delete_batch
    backend = sqs_models.SQSBackend
    if backend.receive_message is not receive_message:
        _original_receive = backend.receive_message
        backend.receive_message = receive_message
    if backend.delete_message_batch is not delete_message_batch:
        _original_delete_batch = backend.delete_message_batch
        backend.delete_message_batch = delete_message_batch
    sqs_models.unix_time_millis = _fast_unix_time_millis
    sqs_models.Queue.approximate_number_of_messages = _cached_count(
        "visible", lambda m, now: m.visible_at < now and m.delayed_until <= now
    )
    sqs_models.Queue.approximate_number_of_messages_not_visible = _cached_count(
        "in_flight", lambda m, now: m.visible_at >= now
    )
    sqs_models.Queue.approximate_number_of_messages_delayed = _cached_count(
        "delayed", lambda m, now: m.delayed_until > now
    )
