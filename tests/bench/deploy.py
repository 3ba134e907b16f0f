#!/usr/bin/env python3
"""A 10,000-file static-site deploy, planned with the exact and the compact policy.

Usage: deploy.py [--cfinv PATH] [--max-items N] [--keep DIR]

Writes the workload (fixed seed): one bucket, `acme-site`, behind two distributions:
- E1SITE: the site. Default behavior on the bucket (CachingOptimized), `/api/*` on an API origin
  (a custom origin, CachingDisabled), `/img/*` forwarding query strings (legacy ForwardedValues);
- E2ASSETS: a CDN for the same bucket's `static/` through OriginPath `/static`.
and 10,000 S3 creations as one deploy writes them: hashed JS/CSS chunks and media (static/...),
product images (img/products/...), HTML pages (docs/.../index.html, blog/.../index.html) and a few
top-level files. Then runs `cfinv plan --format json` with `--policy exact` and `--policy compact`
and prints, per distribution: items, sets (= CreateInvalidation calls), the estimated cost, and
whether any compacted wildcard reaches /api/. `make bench-deploy` runs it with the release build.
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "acme-site"


def s3_origin(oid, path=""):
    return {"Id": oid, "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com", "OriginPath": path,
            "CustomHeaders": {"Quantity": 0}, "S3OriginConfig": {"OriginAccessIdentity": ""},
            "ConnectionAttempts": 3, "ConnectionTimeout": 10, "OriginAccessControlId": "E2QWRUHEXAMPLE"}


def behavior(target, policy=None, pattern=None, query_string=False):
    b = {"TargetOriginId": target, "ViewerProtocolPolicy": "redirect-to-https",
         "LambdaFunctionAssociations": {"Quantity": 0}, "FunctionAssociations": {"Quantity": 0}}
    if policy:
        b["CachePolicyId"] = policy
    else:
        b.update({"ForwardedValues": {"QueryString": query_string, "Cookies": {"Forward": "none"},
                                      "Headers": {"Quantity": 0}, "QueryStringCacheKeys": {"Quantity": 0}},
                  "MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000})
    if pattern:
        b = {"PathPattern": pattern, **b}
    return b


OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def distributions():
    site = {
        "Id": "E1SITE0000001", "ARN": "arn:aws:cloudfront::123456789012:distribution/E1SITE0000001",
        "Status": "Deployed", "DomainName": "d1site.cloudfront.net",
        "Origins": {"Quantity": 2, "Items": [s3_origin("site"), {
            "Id": "api", "DomainName": "api.acme.example", "OriginPath": "", "CustomHeaders": {"Quantity": 0},
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                   "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                                   "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5}}]},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": behavior("site", OPTIMIZED),
        "CacheBehaviors": {"Quantity": 2, "Items": [behavior("api", DISABLED, "/api/*"),
                                                    behavior("site", None, "/img/*", query_string=True)]},
        "CustomErrorResponses": {"Quantity": 0}, "Enabled": True,
    }
    assets = {
        "Id": "E2ASSETS00001", "ARN": "arn:aws:cloudfront::123456789012:distribution/E2ASSETS00001",
        "Status": "Deployed", "DomainName": "d2assets.cloudfront.net",
        "Origins": {"Quantity": 1, "Items": [s3_origin("static", "/static")]},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": behavior("static", OPTIMIZED),
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0}, "Enabled": True,
    }
    return {"DistributionList": {"Items": [site, assets], "IsTruncated": False, "Quantity": 2}}


def keys(rng):
    h = lambda: "%08x" % rng.getrandbits(32)
    out = ["index.html", "robots.txt", "sitemap.xml", "manifest.json", "favicon.ico", "404.html"]
    out += [f"static/js/{n}.{h()}.chunk.js" for n in range(1800)]
    out += [f"static/js/main.{h()}.js", f"static/js/runtime-main.{h()}.js"]
    out += [f"static/css/{n}.{h()}.chunk.css" for n in range(200)]
    media = ["logo", "hero", "banner", "icon", "team", "office", "chart", "diagram"]
    out += [f"static/media/{rng.choice(media)}-{n}.{h()}.{rng.choice(['png', 'svg', 'woff2'])}" for n in range(2400)]
    out += [f"img/products/{p:04}/{size}.jpg" for p in range(750) for size in ("thumb", "small", "large", "zoom")]
    sections = ["guide", "reference", "tutorials", "faq", "release-notes"]
    out += [f"docs/{rng.choice(sections)}/page-{n:04}/index.html" for n in range(1500)]
    out += [f"blog/{2019 + n % 7}/post-{n:04}/index.html" for n in range(10_000 - len(out))]
    return out


def events(rng):
    return {"Records": [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
         "eventTime": "2026-11-30T06:00:00.000Z", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": BUCKET}, "object": {"key": k, "sequencer": "%018X" % i}}}
        for i, k in enumerate(keys(rng))
    ]}


def plan(cfinv, d, e, *extra):
    out = subprocess.run([cfinv, "plan", "--distributions", d, "--events", e, "--format", "json", *extra],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfinv", default=str(ROOT / "target/release/cfinv"))
    ap.add_argument("--max-items", type=int, default=15)
    ap.add_argument("--keep", help="write the workload into this directory and keep it")
    args = ap.parse_args()
    rng = random.Random(20261130)
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.keep or tmp)
        where.mkdir(parents=True, exist_ok=True)
        d, e = where / "distributions.json", where / "events.json"
        d.write_text(json.dumps(distributions()))
        e.write_text(json.dumps(events(rng)))
        results = {p: plan(args.cfinv, str(d), str(e), "--policy", p, "--max-items", str(args.max_items))
                   for p in ("exact", "compact")}
    print(f"10,000 creations on {BUCKET}; compact with --max-items {args.max_items}")
    print(f"{'policy':8} {'distribution':14} {'items':>6} {'wildcards':>9} {'sets':>5} {'calls':>5} {'cost (at most)':>15}  reaches /api/")
    for policy, doc in results.items():
        for inv in doc["invalidations"]:
            wild = sum(1 for i in inv["items"] if i.endswith("*"))
            api = any(i.startswith("/api") for i in inv["items"])
            print(f"{policy:8} {inv['distributionId']:14} {inv['billedItems']:>6} {wild:>9} {inv['setCount']:>5} "
                  f"{inv['setCount']:>5} {'$%.3f' % inv['estimatedCostUsd']:>15}  {'yes' if api else 'no'}")
        c = doc["cost"]
        print(f"{policy:8} {'total':14} {c['billedItems']:>6} {'':>9} {c['setCount']:>5} {c['setCount']:>5} "
              f"{'$%.3f' % c['estimatedCostUsd']:>15}")
    for w in results["compact"]["warnings"]:
        print("warning:", w)


if __name__ == "__main__":
    sys.exit(main())
