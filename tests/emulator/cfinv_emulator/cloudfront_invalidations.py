"""CloudFront invalidations as AWS runs them (moto's are COMPLETED at once and ignore CallerReference).

- Status InProgress, then Completed after CFINV_EMU_INVALIDATION_SECONDS (default 2), or after the
  time set for the distribution at run time (POST /_cfinv/cloudfront/completion {"distributionId",
  "seconds"}; see control.py), fixed when the invalidation is created.
- The same CallerReference with the same paths returns the same invalidation; with other paths it is
  InvalidationBatchAlreadyExists.
- More than 3000 items, or 15 wildcard paths, in progress per distribution is
  TooManyInvalidationsInProgress. An item that starts with "#" is a cache tag: it counts as one item,
  never as a wildcard. Any other item must start with "/" (else InvalidArgument).
- ListInvalidations lists newest first, as CloudFront does.

cloudfront_tenants uses new_invalidation for a distribution tenant's invalidations, with the same rules
per tenant.
"""

import os
import threading
import time

from moto.cloudfront import models as cf_models
from moto.core.exceptions import ServiceException
from moto.utilities.paginator import paginate

INVALIDATION_SECONDS = 2.0  # set by install(), or by POST /_cfinv/cloudfront/completion without an id
COMPLETION_SECONDS = {}  # distribution or tenant id -> seconds, set by POST /_cfinv/cloudfront/completion
_LOCK = threading.RLock()  # one CreateInvalidation at a time: the limits are checked and counted together
MAX_PATHS_IN_PROGRESS = 3000
MAX_WILDCARDS_IN_PROGRESS = 15


class InvalidationBatchAlreadyExists(ServiceException):
    def __init__(self):
        super().__init__(
            "InvalidationBatchAlreadyExists",
            "The CallerReference you are using to create an invalidation batch is associated with another batch.",
        )


class InvalidArgument(ServiceException):
    def __init__(self, message):
        super().__init__("InvalidArgument", message)


class TooManyInvalidationsInProgress(ServiceException):
    def __init__(self):
        super().__init__(
            "TooManyInvalidationsInProgress",
            "You have exceeded the maximum number of allowable InProgress invalidation batch requests, or invalidation objects.",
        )


def _invalidation_status(self):
    """InProgress until its time is up, then Completed (moto says COMPLETED, which is no AWS value)."""
    return "Completed" if time.time() >= getattr(self, "completes_at", 0) else "InProgress"


def completion_seconds(owner_id):
    """How long a new invalidation of this distribution (or distribution tenant) stays InProgress."""
    with _LOCK:
        return COMPLETION_SECONDS.get(owner_id, INVALIDATION_SECONDS)


def set_completion_seconds(owner_id, seconds):
    """Sets how long the next invalidations of `owner_id` (a distribution or tenant id; None: every
    one without its own setting) stay InProgress; seconds None removes the owner's setting. Those
    already created keep their time."""
    global INVALIDATION_SECONDS
    with _LOCK:
        if owner_id is None:
            INVALIDATION_SECONDS = float(seconds)
        elif seconds is None:
            COMPLETION_SECONDS.pop(owner_id, None)
        else:
            COMPLETION_SECONDS[owner_id] = float(seconds)


def completion_settings():
    with _LOCK:
        return {"defaultSeconds": INVALIDATION_SECONDS, "distributions": dict(COMPLETION_SECONDS)}


def is_tag(item):
    return item.startswith("#")


def is_wildcard(item):
    """A wildcard path: "*" last. A cache tag (#...) is never one."""
    return not is_tag(item) and item.endswith("*")


def new_invalidation(existing, owner_id, distribution, paths, caller_ref):
    """An invalidation of `paths` appended to `existing` (the owner's invalidations, a distribution's
    or a tenant's), with AWS's CallerReference, path and in-progress rules; or the one the same batch
    made before."""
    paths = list(paths or [])
    for item in paths:
        if not isinstance(item, str) or not (item.startswith("/") or is_tag(item)):
            raise InvalidArgument(f"Your request contains one or more invalid invalidation paths: {item!r}.")
    with _LOCK:
        for inv in existing:
            if inv.caller_ref == caller_ref:
                if list(inv.paths) == paths:
                    return inv
                raise InvalidationBatchAlreadyExists()
        in_progress = [inv for inv in existing if inv.status == "InProgress"]
        paths_in_progress = sum(len(inv.paths) for inv in in_progress)
        wildcards_in_progress = sum(1 for inv in in_progress for p in inv.paths if is_wildcard(p))
        new_wildcards = sum(1 for p in paths if is_wildcard(p))
        if (
            paths_in_progress + len(paths) > MAX_PATHS_IN_PROGRESS
            or wildcards_in_progress + new_wildcards > MAX_WILDCARDS_IN_PROGRESS
        ):
            raise TooManyInvalidationsInProgress()
        invalidation = cf_models.Invalidation(distribution, paths, caller_ref)
        invalidation.completes_at = time.time() + COMPLETION_SECONDS.get(owner_id, INVALIDATION_SECONDS)
        existing.append(invalidation)
        return invalidation


def create_invalidation(self, dist_id, paths, caller_ref):
    dist, _ = self.get_distribution(dist_id)
    return new_invalidation(self.invalidations.setdefault(dist_id, []), dist_id, dist, paths, caller_ref)


@paginate(pagination_model=cf_models.CloudFrontBackend.PAGINATION_MODEL)
def list_invalidations(self, dist_id):
    """Newest first, as CloudFront lists them (moto: oldest first)."""
    return list(reversed(self.invalidations.get(dist_id) or []))


def install(seconds=None):
    """`seconds`: how long an invalidation stays InProgress (default: CFINV_EMU_INVALIDATION_SECONDS, else 2)."""
    global INVALIDATION_SECONDS
    INVALIDATION_SECONDS = float(os.environ.get("CFINV_EMU_INVALIDATION_SECONDS", "2") if seconds is None else seconds)
    COMPLETION_SECONDS.clear()
    # A property on moto's class (a subclass would confuse moto's backend registry); its setter
    # ignores the COMPLETED that moto's constructor assigns.
    cf_models.Invalidation.status = property(_invalidation_status, lambda self, value: None)
    cf_models.CloudFrontBackend.create_invalidation = create_invalidation
    cf_models.CloudFrontBackend.list_invalidations = list_invalidations
