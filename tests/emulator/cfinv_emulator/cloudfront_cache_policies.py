"""CloudFront cache policies, which moto lacks.

- The managed ones come from crates/core/data/managed-cache-policies.json: the answer of
  `aws cloudfront list-cache-policies --type managed`, which the Rust core reads too. They are served
  as they are there, with a LastModifiedTime (the time of the request).
- Custom ones are made with CreateCachePolicy.

GetCachePolicy, GetCachePolicyConfig and ListCachePolicies answer for both, NoSuchCachePolicy
otherwise.
"""

import json
import uuid
from pathlib import Path

from moto.cloudfront import urls as cf_urls
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

MANAGED_POLICIES_FILE = Path(__file__).resolve().parents[3] / "crates/core/data/managed-cache-policies.json"

MANAGED_CACHE_POLICIES = []  # the file's CachePolicyList.Items, read by install()
CUSTOM_CACHE_POLICIES = {}  # id -> policy


def load_managed(path=MANAGED_POLICIES_FILE):
    """The list items ({"Type": "managed", "CachePolicy": {"Id", "CachePolicyConfig"}}) of a
    list-cache-policies answer."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)["CachePolicyList"]["Items"]


class NoSuchCachePolicy(ServiceException):
    def __init__(self):
        super().__init__("NoSuchCachePolicy", "The cache policy does not exist.")


def _policy(policy_id, config):
    return {"Id": policy_id, "LastModifiedTime": utcnow(), "CachePolicyConfig": config}


def _managed():
    return {
        item["CachePolicy"]["Id"]: _policy(item["CachePolicy"]["Id"], item["CachePolicy"]["CachePolicyConfig"])
        for item in MANAGED_CACHE_POLICIES
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


def install(path=MANAGED_POLICIES_FILE):
    """Reads the managed policies from `path`, adds the four operations to moto's CloudFront responses
    and routes their URLs to it."""
    MANAGED_CACHE_POLICIES[:] = load_managed(path)
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
