"""CloudFront invalidations as AWS runs them (moto's are COMPLETED at once and ignore CallerReference).

- Status InProgress, then Completed after CFINV_EMU_INVALIDATION_SECONDS (default 2).
- The same CallerReference with the same paths returns the same invalidation; with other paths it is
  InvalidationBatchAlreadyExists.
- More than 3000 paths, or 15 wildcard paths, in progress per distribution is
  TooManyInvalidationsInProgress.
"""

import os
import time

from moto.cloudfront import models as cf_models
from moto.core.exceptions import ServiceException

INVALIDATION_SECONDS = 2.0  # set by install()
MAX_PATHS_IN_PROGRESS = 3000
MAX_WILDCARDS_IN_PROGRESS = 15


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
    if (
        paths_in_progress + len(paths) > MAX_PATHS_IN_PROGRESS
        or wildcards_in_progress + new_wildcards > MAX_WILDCARDS_IN_PROGRESS
    ):
        raise TooManyInvalidationsInProgress()
    invalidation = cf_models.Invalidation(dist, paths, caller_ref)
    invalidation.completes_at = time.time() + INVALIDATION_SECONDS
    self.invalidations.setdefault(dist_id, []).append(invalidation)
    return invalidation


def install(seconds=None):
    """`seconds`: how long an invalidation stays InProgress (default: CFINV_EMU_INVALIDATION_SECONDS, else 2)."""
    global INVALIDATION_SECONDS
    INVALIDATION_SECONDS = float(os.environ.get("CFINV_EMU_INVALIDATION_SECONDS", "2") if seconds is None else seconds)
    # A property on moto's class (a subclass would confuse moto's backend registry); its setter
    # ignores the COMPLETED that moto's constructor assigns.
    cf_models.Invalidation.status = property(_invalidation_status, lambda self, value: None)
    cf_models.CloudFrontBackend.create_invalidation = create_invalidation
