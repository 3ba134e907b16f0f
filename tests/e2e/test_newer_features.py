"""End-to-end: CloudFront's newer features through the whole pipeline (issue 14). A tagged object's
upload invalidates its `#tags` on an opted-in distribution; a distribution tenant's change is
invalidated with CreateInvalidationForDistributionTenant; a staging distribution is invalidated as a
distribution of its own."""

import json
import time
import uuid

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def create(stack, bucket, origin_path="", tags=None, **extra):
    """A distribution with one S3 origin for the bucket, CachingOptimized, and `extra` config fields
    (CacheTagConfig, ConnectionMode, Staging...)."""
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{bucket}.s3.amazonaws.com",
                                              "OriginPath": origin_path,
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                                 "CachePolicyId": CACHING_OPTIMIZED},
        "Comment": "cfinv e2e newer features",
        "Enabled": True,
        **extra,
    }
    if tags:
        tagged = {"DistributionConfig": config, "Tags": {"Items": [{"Key": k, "Value": v} for k, v in tags.items()]}}
        return stack.cf.create_distribution_with_tags(DistributionConfigWithTags=tagged)["Distribution"]["Id"]
    return stack.cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def tenant_items(stack, tenant_id):
    out = []
    listed = stack.cf.list_invalidations_for_distribution_tenant(Id=tenant_id)["InvalidationList"]
    for item in listed.get("Items", []):
        inv = stack.cf.get_invalidation_for_distribution_tenant(DistributionTenantId=tenant_id, Id=item["Id"])
        batch = inv["Invalidation"]["InvalidationBatch"]
        out.append((batch["CallerReference"], sorted(batch["Paths"].get("Items", []))))
    return out


def test_a_tagged_objects_upload_invalidates_its_tags_on_an_opted_in_distribution(stack):
    shop = stack.site("shop")
    tagged = create(stack, shop, tags={"cfinv:cache-tags": "add"},
                    CacheTagConfig={"HeaderName": "x-amz-meta-cache-tag"})
    plain = create(stack, shop)  # no CacheTagConfig, not opted in: paths only
    stack.s3.put_object(Bucket=shop, Key="products/123.json", Body=b"{}",
                        Metadata={"cache-tag": "product:123, Catalog"})
    stack.s3.put_object(Bucket=shop, Key="about.html", Body=b"<html>")  # no tags

    got = stack.wait_for_paths(tagged, ["#catalog", "#product:123", "/about.html", "/products/123.json"])
    assert len(got) == len(set(got)), "each item once"
    assert stack.wait_for_paths(plain, ["/about.html", "/products/123.json"])


def test_a_tenants_change_is_invalidated_with_the_tenant_api(stack):
    saas = stack.site("saas")
    parent = create(stack, saas, origin_path="/{{site}}", ConnectionMode="tenant-only",
                    TenantConfig={"ParameterDefinitions": [
                        {"Name": "site", "Definition": {"StringSchema": {"Required": True}}}]})
    name = f"acme{uuid.uuid4().hex[:6]}"
    tenant = stack.cf.create_distribution_tenant(
        DistributionId=parent, Name=name, Domains=[{"Domain": f"{name}.example.com"}],
        Parameters=[{"Name": "site", "Value": "acme"}],
    )["DistributionTenant"]["Id"]
    stack.s3.put_object(Bucket=saas, Key="acme/index.html", Body=b"<html>")
    stack.s3.put_object(Bucket=saas, Key="globex/index.html", Body=b"<html>")  # no tenant serves it

    deadline = time.time() + 90
    while time.time() < deadline and not tenant_items(stack, tenant):
        time.sleep(1)
    items = tenant_items(stack, tenant)
    assert [paths for _, paths in items] == [["/index.html"]], items
    # The tenant's CallerReference carries its target key: {stack}/{execution}/{dist}_{tenant}/1.
    reference = items[0][0]
    assert reference.startswith("cfinv-local/") and reference.endswith(f"/{parent}_{tenant}/1"), reference
    # The multi-tenant distribution itself has no viewers: nothing is sent to it.
    assert stack.invalidations(parent) == []

    # explain names the tenant that receives the items, and says why it gets none for globex/.
    def explain(key):
        return json.loads(stack.cfinv("explain", "--stack", stack.stack_name, "--format", "json", saas, key))

    named = {"distributionId": parent, "distributionTenantId": tenant, "distributionTenantName": name}
    assert explain("acme/index.html")["distributions"] == [{**named, "items": ["/index.html"]}]
    assert explain("globex/index.html")["distributions"] == [{**named, "items": [], "reason": "no-origin"}]

    # status lists the tenant's own invalidations in progress (ListInvalidationsForDistributionTenant).
    stack.completion_seconds(tenant, 300)
    pending = stack.cf.create_invalidation_for_distribution_tenant(
        Id=tenant, InvalidationBatch={"CallerReference": uuid.uuid4().hex,
                                      "Paths": {"Quantity": 2, "Items": ["/a.html", "/b.html"]}},
    )["Invalidation"]["Id"]
    status = json.loads(stack.cfinv("status", "--stack", stack.stack_name, "--format", "json"))
    [row] = [r for r in status["invalidationsInProgress"] if r["distributionId"] == parent]
    assert {k: row[k] for k in named} == named, row
    assert [pending, 2] in row["invalidations"], row  # (the run's own may still be in progress too)


def test_resubmit_sends_a_tenants_error_file_to_its_tenant_and_refuses_another_distributions(stack, tmp_path):
    saas = stack.site("saasfile")
    parent = create(stack, saas, origin_path="/{{site}}", ConnectionMode="tenant-only",
                    TenantConfig={"ParameterDefinitions": [
                        {"Name": "site", "Definition": {"StringSchema": {"Required": True}}}]})
    other = create(stack, saas)
    name = f"initech{uuid.uuid4().hex[:6]}"
    tenant = stack.cf.create_distribution_tenant(
        DistributionId=parent, Name=name, Domains=[{"Domain": f"{name}.example.com"}],
        Parameters=[{"Name": "site", "Value": "initech"}],
    )["DistributionTenant"]["Id"]

    # An edited file naming the tenant under another distribution: refused before anything is sent.
    wrong = tmp_path / f"20261130110000000abcdefghi_{other}_{tenant}.txt"
    wrong.write_text(f"CloudFront Id [{other}]\nDistribution Tenant Id [{tenant}]\n(Set 1 Start)\n/x.html\n(Set 1 End)\n")
    done = stack.cfinv("resubmit", "--poll-seconds", "1", str(wrong), check=False)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"belongs to distribution {parent}, not to {other}" in done.stderr, done.stderr
    assert tenant_items(stack, tenant) == [] and stack.invalidations(other) == []

    right = tmp_path / f"20261130110000000abcdefghi_{parent}_{tenant}.txt"
    right.write_text(f"CloudFront Id [{parent}]\nDistribution Tenant Id [{tenant}]\n(Set 1 Start)\n/x.html\n(Set 1 End)\n")
    done = stack.cfinv("resubmit", "--poll-seconds", "1", str(right), check=False)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert [paths for _, paths in tenant_items(stack, tenant)] == [["/x.html"]]


def test_a_staging_distribution_is_invalidated_as_its_own(stack):
    www = stack.site("www")
    primary = create(stack, www)
    staging = create(stack, www, Staging=True)
    summaries = {d["Id"]: d for d in stack.cf.list_distributions()["DistributionList"]["Items"]}
    assert summaries[staging]["Staging"] is True and summaries[primary]["Staging"] is False

    stack.s3.put_object(Bucket=www, Key="index.html", Body=b"<html>")
    assert stack.wait_for_paths(staging, ["/index.html"]) == ["/index.html"]
    assert stack.wait_for_paths(primary, ["/index.html"]) == ["/index.html"]
