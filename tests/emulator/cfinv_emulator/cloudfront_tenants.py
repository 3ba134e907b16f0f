"""CloudFront distribution tenants (multi-tenant distributions), which moto lacks, and their
invalidations.

- CreateDistributionTenant on a distribution whose ConnectionMode is tenant-only (else
  InvalidArgument; an unknown distribution is EntityNotFound; a name already used,
  EntityAlreadyExists). The tenant keeps its Domains (each answered with Status "active"), Parameters,
  Customizations, ConnectionGroupId, Enabled (default true) and Tags (also on its ARN, for
  ListTagsForResource); its Id is "dt_" and 24 characters, its ARN
  arn:aws:cloudfront::ACCOUNT:distribution-tenant/ID, its Status "Deployed".
- GetDistributionTenant by Id, ARN or name (EntityNotFound otherwise), with ETag.
- ListDistributionTenants: DistributionTenantList of summaries (no Parameters or Tags, with ETag), in
  creation order, filtered by AssociationFilter.DistributionId / ConnectionGroupId, paged as
  CloudFront pages (at most MaxItems, default 100; NextMarker the Id of the page's last tenant, only
  when more follow; Marker lists what follows that tenant). Its output has no payload member, so
  CloudFront's document root is `ListDistributionTenantsResult` (moto's serializer would write
  `...Response`, which the AWS SDK for Rust refuses); the document is written here.
- DeleteDistributionTenant (IfMatch: the tenant's ETag, else PreconditionFailed; an enabled tenant is
  ResourceNotDisabled), UpdateDistributionTenant (IfMatch; the fields given replace the tenant's).
- CreateInvalidationForDistributionTenant, GetInvalidationForDistributionTenant,
  ListInvalidationsForDistributionTenant: the same rules as a distribution's invalidations
  (cloudfront_invalidations: InProgress then Completed, CallerReference, the in-progress limits,
  cache tags), per tenant; completion time settable per tenant id like a distribution's.
"""

import copy
import datetime
import random
import string
from xml.sax.saxutils import escape

from moto.cloudfront import urls as cf_urls
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random

from . import cloudfront_invalidations
from .cloudfront_distributions import page


class EntityNotFound(ServiceException):
    def __init__(self, what="distribution tenant"):
        super().__init__("EntityNotFound", f"The {what} does not exist.")


class EntityAlreadyExists(ServiceException):
    def __init__(self, name):
        super().__init__("EntityAlreadyExists", f"A distribution tenant named {name} already exists.")


class InvalidArgument(ServiceException):
    def __init__(self, message):
        super().__init__("InvalidArgument", message)


class PreconditionFailed(ServiceException):
    def __init__(self):
        super().__init__("PreconditionFailed", "The If-Match version is missing or not valid for the resource.")


class ResourceNotDisabled(ServiceException):
    def __init__(self):
        super().__init__("ResourceNotDisabled", "The distribution tenant must be disabled before it is deleted.")


class NoSuchInvalidation(ServiceException):
    def __init__(self):
        super().__init__("NoSuchInvalidation", "The specified invalidation does not exist.")


def _tenant_id():
    alphabet = string.ascii_letters + string.digits
    return "dt_" + "".join(random.choice(alphabet) for _ in range(24))


def tenants_of(backend):
    """The backend's tenants (id -> dict), kept on moto's CloudFront backend so that a reset clears them."""
    if not hasattr(backend, "cfinv_tenants"):
        backend.cfinv_tenants = {}
        backend.cfinv_tenant_invalidations = {}
    return backend.cfinv_tenants


def find_tenant(backend, identifier):
    tenants = tenants_of(backend)
    if identifier in tenants:
        return tenants[identifier]
    for tenant in tenants.values():
        if identifier in (tenant["Arn"], tenant["Name"]):
            return tenant
    raise EntityNotFound()


def _domains(items):
    return [{"Domain": d["Domain"], "Status": "active"} for d in (items or [])]


def _distribution(backend, distribution_id):
    if distribution_id not in backend.distributions:
        raise EntityNotFound("distribution")
    return backend.distributions[distribution_id]


def tenant_view(tenant):
    """GetDistributionTenant's DistributionTenant."""
    out = {k: copy.deepcopy(v) for k, v in tenant.items() if k != "ETag" and v is not None}
    out["Tags"] = {"Items": copy.deepcopy(tenant.get("Tags") or [])}
    return out


def tenant_summary(tenant):
    """ListDistributionTenants' DistributionTenantSummary: no Parameters or Tags, with ETag."""
    return {k: copy.deepcopy(v) for k, v in tenant.items() if k not in ("Parameters", "Tags") and v is not None}


def create_distribution_tenant(self):
    backend = self.backend
    tenants = tenants_of(backend)
    distribution_id = self._get_param("DistributionId")
    distribution = _distribution(backend, distribution_id)
    if getattr(distribution.distribution_config, "ConnectionMode", None) != "tenant-only":
        raise InvalidArgument("Distribution tenants can be created only for a multi-tenant distribution.")
    name = self._get_param("Name")
    if any(t["Name"] == name for t in tenants.values()):
        raise EntityAlreadyExists(name)
    domains = self._get_param("Domains") or []
    if not domains:
        raise InvalidArgument("A distribution tenant needs at least one domain.")
    tenant_id = _tenant_id()
    now = utcnow()
    enabled = self._get_param("Enabled")
    tenant = {
        "Id": tenant_id,
        "DistributionId": distribution_id,
        "Name": name,
        "Arn": f"arn:aws:cloudfront::{self.current_account}:distribution-tenant/{tenant_id}",
        "Domains": _domains(domains),
        "Tags": (self._get_param("Tags") or {}).get("Items") or [],
        "Customizations": self._get_param("Customizations"),
        "Parameters": self._get_param("Parameters") or [],
        "ConnectionGroupId": self._get_param("ConnectionGroupId"),
        "CreatedTime": now,
        "LastModifiedTime": now,
        "Enabled": True if enabled is None else bool(enabled),
        "Status": "Deployed",
        "ETag": mock_random.get_random_hex(13).upper(),
    }
    tenants[tenant_id] = tenant
    if tenant["Tags"]:
        backend.tagger.tag_resource(tenant["Arn"], tenant["Tags"])
    return ActionResult({"DistributionTenant": tenant_view(tenant), "ETag": tenant["ETag"]})


def get_distribution_tenant(self):
    tenant = find_tenant(self.backend, self._get_param("Identifier"))
    return ActionResult({"DistributionTenant": tenant_view(tenant), "ETag": tenant["ETag"]})


def list_distribution_tenants(self):
    wanted = self._get_param("AssociationFilter") or {}
    tenants = [
        t
        for t in tenants_of(self.backend).values()
        if (not wanted.get("DistributionId") or t["DistributionId"] == wanted["DistributionId"])
        and (not wanted.get("ConnectionGroupId") or t.get("ConnectionGroupId") == wanted["ConnectionGroupId"])
    ]
    chosen, next_marker = page(tenants, self._get_param("Marker"), self._get_int_param("MaxItems"), key=lambda t: t["Id"])
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<ListDistributionTenantsResult xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">']
    if next_marker is not None:
        body.append(f"<NextMarker>{escape(next_marker)}</NextMarker>")
    body.append("<DistributionTenantList>")
    body += [_summary_xml(tenant_summary(t)) for t in chosen]
    body.append("</DistributionTenantList></ListDistributionTenantsResult>")
    return 200, {"Content-Type": "text/xml"}, "".join(body)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return escape(str(value))


def _summary_xml(summary):
    """One DistributionTenantSummary, its members in the model's order."""
    out = ["<DistributionTenantSummary>"]
    for field in ("Id", "DistributionId", "Name", "Arn"):
        out.append(f"<{field}>{_text(summary[field])}</{field}>")
    out.append("<Domains>")
    for d in summary.get("Domains") or []:
        out.append(f"<member><Domain>{_text(d['Domain'])}</Domain><Status>{_text(d.get('Status', 'active'))}</Status></member>")
    out.append("</Domains>")
    if summary.get("ConnectionGroupId"):
        out.append(f"<ConnectionGroupId>{_text(summary['ConnectionGroupId'])}</ConnectionGroupId>")
    for field in ("CreatedTime", "LastModifiedTime", "ETag", "Enabled", "Status"):
        if summary.get(field) is not None:
            out.append(f"<{field}>{_text(summary[field])}</{field}>")
    out.append("</DistributionTenantSummary>")
    return "".join(out)


def _check_if_match(self, tenant):
    if self._get_param("IfMatch") != tenant["ETag"]:
        raise PreconditionFailed()


def update_distribution_tenant(self):
    backend = self.backend
    tenant = find_tenant(backend, self._get_param("Id"))
    _check_if_match(self, tenant)
    if self._get_param("DistributionId") is not None:
        _distribution(backend, self._get_param("DistributionId"))
        tenant["DistributionId"] = self._get_param("DistributionId")
    if self._get_param("Domains") is not None:
        tenant["Domains"] = _domains(self._get_param("Domains"))
    for field in ("Customizations", "Parameters", "ConnectionGroupId"):
        if self._get_param(field) is not None:
            tenant[field] = self._get_param(field)
    if self._get_param("Enabled") is not None:
        tenant["Enabled"] = bool(self._get_param("Enabled"))
    tenant["LastModifiedTime"] = utcnow()
    tenant["ETag"] = mock_random.get_random_hex(13).upper()
    return ActionResult({"DistributionTenant": tenant_view(tenant), "ETag": tenant["ETag"]})


def delete_distribution_tenant(self):
    backend = self.backend
    tenant = find_tenant(backend, self._get_param("Id"))
    _check_if_match(self, tenant)
    if tenant["Enabled"]:
        raise ResourceNotDisabled()
    del tenants_of(backend)[tenant["Id"]]
    return EmptyResult()


def _tenant_invalidations(backend, tenant_id):
    tenants_of(backend)
    return backend.cfinv_tenant_invalidations.setdefault(tenant_id, [])


def _location(tenant, invalidation):
    return f"https://cloudfront.amazonaws.com/2020-05-31/distribution-tenant/{tenant['Id']}/invalidation/{invalidation.id}"


def create_invalidation_for_distribution_tenant(self):
    backend = self.backend
    tenant = find_tenant(backend, self._get_param("Id"))
    distribution = _distribution(backend, tenant["DistributionId"])
    invalidation = cloudfront_invalidations.new_invalidation(
        _tenant_invalidations(backend, tenant["Id"]),
        tenant["Id"],
        distribution,
        self._get_param("InvalidationBatch.Paths.Items", []),
        self._get_param("InvalidationBatch.CallerReference"),
    )
    return ActionResult({"Invalidation": invalidation, "Location": _location(tenant, invalidation)})


def get_invalidation_for_distribution_tenant(self):
    backend = self.backend
    tenant = find_tenant(backend, self._get_param("DistributionTenantId"))
    wanted = self._get_param("Id")
    for invalidation in _tenant_invalidations(backend, tenant["Id"]):
        if invalidation.id == wanted:
            return ActionResult({"Invalidation": invalidation})
    raise NoSuchInvalidation()


def list_invalidations_for_distribution_tenant(self):
    backend = self.backend
    tenant = find_tenant(backend, self._get_param("Id"))
    newest_first = list(reversed(_tenant_invalidations(backend, tenant["Id"])))
    marker = self._get_param("Marker")
    max_items = self._get_int_param("MaxItems")
    chosen, next_marker = page(newest_first, marker, max_items)
    return ActionResult(
        {
            "InvalidationList": {
                "Marker": marker or "",
                "NextMarker": next_marker,
                "MaxItems": max_items or 100,
                "IsTruncated": next_marker is not None,
                "Quantity": len(chosen),
                "Items": chosen or None,
            }
        }
    )


OPERATIONS = [
    create_distribution_tenant,
    get_distribution_tenant,
    list_distribution_tenants,
    update_distribution_tenant,
    delete_distribution_tenant,
    create_invalidation_for_distribution_tenant,
    get_invalidation_for_distribution_tenant,
    list_invalidations_for_distribution_tenant,
]

URL_PATHS = [
    "{0}/2020-05-31/distribution-tenant$",
    # Identifier: an id or a name, or an ARN (whose encoded "/" the server decodes)
    "{0}/2020-05-31/distribution-tenant/(?P<Identifier>arn:[^?]*:distribution-tenant/[^/]+|[^/]+)$",
    "{0}/2020-05-31/distribution-tenants$",
    "{0}/2020-05-31/distribution-tenant/(?P<Id>[^/]+)/invalidation$",
    "{0}/2020-05-31/distribution-tenant/(?P<DistributionTenantId>[^/]+)/invalidation/(?P<Id>[^/]+)$",
]


def install():
    """Adds the operations to moto's CloudFront responses and routes their URLs to it (before the
    first CloudFront request, as cloudfront_cache_policies)."""
    for fn in OPERATIONS:
        setattr(CloudFrontResponse, fn.__name__, fn)
    for path in URL_PATHS:
        cf_urls.url_paths[path] = CloudFrontResponse.dispatch
