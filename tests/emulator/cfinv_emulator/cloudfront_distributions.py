"""CloudFront distribution fields moto drops or leaves out of its summaries.

- LambdaFunctionAssociations and FunctionAssociations on the default and the ordered cache behaviors
  are kept and returned (moto always answers {Quantity: 0}); Quantity is the number of Items.
- Staging is false unless the config says otherwise (AWS returns it; DistributionSummary requires
  it), and DistributionSummary (ListDistributions) carries Staging and, when the config sets it,
  ConnectionMode (moto's summaries have neither).
- ListDistributionsByConnectionMode (moto has no route for it): the distributions whose config has
  that ConnectionMode ("direct" when unset), paged as AWS documents it (NextMarker: the Id of the
  page's last distribution; Marker: list what follows it).
"""

from moto.cloudfront import models as cf_models
from moto.cloudfront import urls as cf_urls
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.responses import ActionResult

SUMMARY_FIELDS = ("Staging", "ConnectionMode")

_original_behaviour_init = None
_original_config_init = None


def _associations(value):
    """An association list as AWS returns it: Quantity counted, Items only when there are some."""
    items = list((value or {}).get("Items") or [])
    out = {"Quantity": len(items)}
    if items:
        out["Items"] = items
    return out


def behaviour_init(self, config):
    _original_behaviour_init(self, config)
    self.lambda_function_associations = _associations(config.get("LambdaFunctionAssociations"))
    self.function_associations = _associations(config.get("FunctionAssociations"))


def config_init(self, config):
    _original_config_init(self, config)
    if getattr(self, "Staging", None) is None:
        self.Staging = False


def page(items, marker, max_items, key=lambda item: item.id):
    """One page of `items` as CloudFront pages: the items after the one whose key is `marker`, at
    most `max_items` (default 100); the next marker is the key of the page's last item, None on the
    last page."""
    max_items = int(max_items or 100)
    start = 0
    if marker:
        keys = [key(item) for item in items]
        start = keys.index(marker) + 1 if marker in keys else len(items)
    chosen = items[start : start + max_items]
    more = start + max_items < len(items)
    return chosen, (key(chosen[-1]) if more and chosen else None)


def list_distributions_by_connection_mode(self):
    wanted = self._get_param("ConnectionMode")
    marker = self._get_param("Marker")
    max_items = self._get_int_param("MaxItems")
    matching = [
        d
        for d in self.backend.distributions.values()
        if (getattr(d.distribution_config, "ConnectionMode", None) or "direct") == wanted
    ]
    distributions, next_marker = page(matching, marker, max_items)
    return ActionResult(
        {
            "DistributionList": {
                "Marker": marker or "",
                "NextMarker": next_marker,
                "MaxItems": max_items or 100,
                "IsTruncated": next_marker is not None,
                "Quantity": len(distributions),
                "Items": distributions or None,
            }
        }
    )


def install():
    global _original_behaviour_init, _original_config_init
    if cf_models.DefaultCacheBehaviour.__init__ is not behaviour_init:
        _original_behaviour_init = cf_models.DefaultCacheBehaviour.__init__
        cf_models.DefaultCacheBehaviour.__init__ = behaviour_init
    if cf_models.DistributionConfig.__init__ is not config_init:
        _original_config_init = cf_models.DistributionConfig.__init__
        cf_models.DistributionConfig.__init__ = config_init
    for field in SUMMARY_FIELDS:
        if field not in cf_models.DISTRIBUTION_CONFIG_FIELDS:
            cf_models.DISTRIBUTION_CONFIG_FIELDS.append(field)
    CloudFrontResponse.list_distributions_by_connection_mode = list_distributions_by_connection_mode
    cf_urls.url_paths["{0}/2020-05-31/distributionsByConnectionMode/(?P<ConnectionMode>[^/]+)$"] = (
        CloudFrontResponse.dispatch
    )
