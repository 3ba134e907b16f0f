"""CloudFront cache policies, which moto lacks.

- The managed ones: ids and TTLs are global constants.
- Custom ones are made with CreateCachePolicy.

GetCachePolicy, GetCachePolicyConfig and ListCachePolicies answer for both, NoSuchCachePolicy
otherwise.
"""

import uuid

from moto.cloudfront import urls as cf_urls
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

_PARAMETERS = {
    "EnableAcceptEncodingGzip": True,
    "EnableAcceptEncodingBrotli": True,
    "HeadersConfig": {"HeaderBehavior": "none"},
    "CookiesConfig": {"CookieBehavior": "none"},
    "QueryStringsConfig": {"QueryStringBehavior": "none"},
}
MANAGED_CACHE_POLICIES = [
    ("658327ea-f89d-4fab-a63d-7e88639e58f6", "Managed-CachingOptimized", 1, 86400, 31536000),
    ("b2884449-e4de-46a7-ac36-70bc7f1ddd6d", "Managed-CachingOptimizedForUncompressedObjects", 1, 86400, 31536000),
    ("4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "Managed-CachingDisabled", 0, 0, 0),
    ("08627262-05a9-4f76-9ded-b50ca2e3a84f", "Managed-Elemental-MediaPackage", 0, 86400, 31536000),
    ("2e54312d-136d-493c-8eb9-b001f22f67d2", "Managed-Amplify", 2, 2, 600),
]
CUSTOM_CACHE_POLICIES = {}  # id -> policy


class NoSuchCachePolicy(ServiceException):
    def __init__(self):
        super().__init__("NoSuchCachePolicy", "The cache policy does not exist.")


def _policy(policy_id, config):
    return {"Id": policy_id, "LastModifiedTime": utcnow(), "CachePolicyConfig": config}


def _managed():
    return {
        pid: _policy(pid, {"Name": name, "MinTTL": lo, "DefaultTTL": mid, "MaxTTL": hi,
                           "ParametersInCacheKeyAndForwardedToOrigin": _PARAMETERS})
        for pid, name, lo, mid, hi in MANAGED_CACHE_POLICIES
    }


def _find_policy(policy_id):
    policy = CUSTOM_CACHE_POLICIES.get(policy_id) or _managed().get(policy_id)
    if policy is None:
        raise NoSuchCachePolicy()
    return policy


def _etag(policy):
    return policy["Id"][:13].upper()


def create_cache_policy(self):
    config = self._get_param("CachePolicyConfig") or {}
    policy_id = str(uuid.uuid4())
    policy = _policy(policy_id, config)
    CUSTOM_CACHE_POLICIES[policy_id] = policy
    location = f"https://cloudfront.amazonaws.com/2020-05-31/cache-policy/{policy_id}"
    return ActionResult({"CachePolicy": policy, "ETag": _etag(policy), "Location": location})


def get_cache_policy(self):
    policy = _find_policy(self._get_param("Id"))
    return ActionResult({"CachePolicy": policy, "ETag": _etag(policy)})


def get_cache_policy_config(self):
    policy = _find_policy(self._get_param("Id"))
    return ActionResult({"CachePolicyConfig": policy["CachePolicyConfig"], "ETag": _etag(policy)})


def list_cache_policies(self):
    wanted = self._get_param("Type")
    items = []
    if wanted in (None, "managed"):
        items += [{"Type": "managed", "CachePolicy": p} for p in _managed().values()]
    if wanted in (None, "custom"):
        items += [{"Type": "custom", "CachePolicy": p} for p in CUSTOM_CACHE_POLICIES.values()]
    return ActionResult({"CachePolicyList": {"MaxItems": 100, "Quantity": len(items), "Items": items}})


def install():
    """Adds the four operations to moto's CloudFront responses and routes their URLs to it."""
    for name, fn in [
        ("create_cache_policy", create_cache_policy),
        ("get_cache_policy", get_cache_policy),
        ("get_cache_policy_config", get_cache_policy_config),
        ("list_cache_policies", list_cache_policies),
    ]:
        setattr(CloudFrontResponse, name, fn)
    cf_urls.url_paths["{0}/2020-05-31/cache-policy$"] = CloudFrontResponse.dispatch
    cf_urls.url_paths["{0}/2020-05-31/cache-policy/(?P<id>[^/]+)$"] = CloudFrontResponse.dispatch
    cf_urls.url_paths["{0}/2020-05-31/cache-policy/(?P<id>[^/]+)/config$"] = CloudFrontResponse.dispatch
