"""End-to-end: content is live, and the world is told (issue 12). A deploy pipeline's own EventBridge
rule receives cfinv's `Invalidation Completed`, as the README shows; the metrics say how long it took;
sets of one distribution wait their turn under CloudFront's in-progress limits, and none fails."""

import json
import time


def queue_for_cfinv_events(stack, dist, name):
    """What the README tells a deploy pipeline to do: a rule on cfinv's events for its distribution,
    to a queue it polls."""
    url = stack.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["cfinv"], "detail-type": ["Invalidation Completed", "Invalidation Failed"],
               "detail": {"distributionId": [dist]}}
    stack.events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    stack.events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    return url


def receive(stack, url, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if got:
            return [json.loads(m["Body"]) for m in got]
    raise AssertionError("no event reached the pipeline's queue")


def test_a_deploy_pipeline_waits_for_invalidation_completed_on_its_own_rule(stack):
    site = stack.site("live")
    dist = stack.distribution(site)
    url = queue_for_cfinv_events(stack, dist, f"deploy-live-{dist}")
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    for key in ["index.html", "app.js"]:
        stack.s3.put_object(Bucket=site, Key=key, Body=b"x")

    (event,) = receive(stack, url)
    assert (event["source"], event["detail-type"]) == ("cfinv", "Invalidation Completed")
    d = event["detail"]
    assert d["distributionId"] == dist and d["stack"] == "cfinv-local"
    assert (d["items"], d["paths"], d["events"], d["sets"]) == (2, 2, 2, 1)
    ids = sorted(i["Id"] for i in stack.invalidations(dist))
    assert sorted(d["invalidationIds"]) == ids
    for i in ids:
        assert stack.cf.get_invalidation(DistributionId=dist, Id=i)["Invalidation"]["Status"] == "Completed"
    # The first change, accepted, completed, in that order; the latencies are their differences.
    assert started <= d["firstEventTime"][:19] <= d["acceptedAt"][:19] <= d["completedAt"][:19], d
    assert 0 <= d["secondsToAccepted"] <= d["secondsToCompleted"] < 90, d

    # The same latency, as a metric, in the function's log (CloudWatch Embedded Metric Format).
    log = (stack.logs / "cargo-lambda.log").read_text(errors="replace")
    ours = [json.loads(l[l.index('{"_aws"'):]) for l in log.splitlines() if '{"_aws"' in l and f'"DistributionId":"{dist}"' in l]
    latency = [m for m in ours if "EventToCompletedSeconds" in m]
    assert latency and abs(latency[0]["EventToCompletedSeconds"][0] - d["secondsToCompleted"]) < 0.01, latency
    planned = [m for m in ours if "Items" in m]
    assert planned and planned[0]["Items"] == 2 and planned[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "cfinv"


def test_sets_of_one_distribution_wait_their_turn_and_the_failure_is_told(stack):
    # Invalidations take 4 s here: the second set of 3,000 paths cannot be in progress beside the
    # first (CloudFront's limit), so it waits, in Step Functions, and nothing fails for it.
    site = stack.site("turns")
    dist = stack.distribution(site, tags={"cfinv:policy": "exact"})
    stack.completion_seconds(dist, 4)
    url = queue_for_cfinv_events(stack, dist, f"deploy-turns-{dist}")
    records = [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-26T00:00:00.000Z",
         "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": site}, "object": {"key": f"deploy/{i:05}.js"}}}
        for i in range(4500)
    ]
    with stack.no_sweeps():
        out = stack.lam.invoke(FunctionName=stack.function_arn("ingest"), Payload=json.dumps({"Records": records}).encode())
    assert "FunctionError" not in out, out["Payload"].read()
    (event,) = receive(stack, url, seconds=180)
    assert event["detail-type"] == "Invalidation Completed", event
    assert (event["detail"]["sets"], event["detail"]["items"]) == (2, 4500)
    invalidations = [stack.cf.get_invalidation(DistributionId=dist, Id=i["Id"])["Invalidation"] for i in stack.invalidations(dist)]
    assert len(invalidations) == 2, "one CreateInvalidation per set, none refused and retried into another"
    first, second = sorted(invalidations, key=lambda i: i["CreateTime"])
    assert len(first["InvalidationBatch"]["Paths"]["Items"]) == 3000
    assert (second["CreateTime"] - first["CreateTime"]).total_seconds() >= 3.5, "the second waited for the first to complete"
    log = (stack.logs / "cargo-lambda.log").read_text(errors="replace")
    assert any(f'"DistributionId":"{dist}"' in l and "CapacityWaits" in l for l in log.splitlines()), "the waits are counted"
