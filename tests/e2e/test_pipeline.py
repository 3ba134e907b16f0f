"""End-to-end: real uploads through the real notification path, the real ingest function, the real
state machine and the real functions, into emulated CloudFront invalidations."""

import json
import time
import urllib.request


def test_uploads_and_deletes_are_invalidated_through_the_whole_pipeline(stack):
    site = stack.site("site", exception_paths="up/")
    dist = stack.distribution(site)
    stack.s3.put_object(Bucket=site, Key="index.html", Body=b"<html>")
    stack.s3.put_object(Bucket=site, Key="img/red flower.jpg", Body=b"x")
    stack.s3.put_object(Bucket=site, Key="사진/한.png", Body=b"x")
    stack.s3.put_object(Bucket=site, Key="up/1.jpg", Body=b"x")  # exception path: not invalidated
    stack.s3.put_object(Bucket=site, Key="old.css", Body=b"x")
    stack.s3.delete_object(Bucket=site, Key="old.css")
    stack.s3.delete_object(Bucket=site, Key="up/1.jpg")  # a removal under an exception path is invalidated

    got = stack.wait_for_paths(dist, ["/img/red%20flower.jpg", "/index.html", "/old.css", "/up/1.jpg", "/%EC%82%AC%EC%A7%84/%ED%95%9C.png"])
    assert len(got) == len(set(got)), "no path invalidated twice"

    executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert executions, "the window's execution ran"
    for e in executions:
        detail = stack.sfn.describe_execution(executionArn=e["executionArn"])
        assert detail["status"] in ("SUCCEEDED", "RUNNING"), json.dumps(detail, default=str)


def fault(stack, operation, code, count, match):
    body = json.dumps({"service": "cloudfront", "operation": operation, "code": code, "count": count, "match": match})
    req = urllib.request.Request(f"{stack.endpoint}/_cfinv/faults", data=body.encode(), method="POST")
    urllib.request.urlopen(req).read()


def wait_for_execution_end(stack, since, seconds=120):
    """The executions started after `since` (names sort by window), once none is running."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        executions = [
            e for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
            if e["name"] > since
        ]
        if executions and all(e["status"] != "RUNNING" for e in executions):
            return executions
        time.sleep(1)
    raise AssertionError("the executions did not end")


def test_a_permanent_failure_is_reported_and_fails_the_execution_while_the_other_distribution_is_invalidated(stack):
    site = stack.site("two")
    good = stack.distribution(site)
    denied = stack.distribution(site)
    fault(stack, "CreateInvalidation", "AccessDenied", 100, denied)
    since = time.strftime("cfinv-%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))
    stack.s3.put_object(Bucket=site, Key="a.html", Body=b"x")
    stack.s3.put_object(Bucket=site, Key="b.html", Body=b"x")

    assert stack.wait_for_paths(good, ["/a.html", "/b.html"]) == ["/a.html", "/b.html"]
    executions = wait_for_execution_end(stack, since)
    failed = [e for e in executions if e["status"] == "FAILED"]
    assert len(failed) == 1, executions
    detail = stack.sfn.describe_execution(executionArn=failed[0]["executionArn"])
    assert detail.get("error") == "SetNotInvalidated", detail

    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.error_bucket).get("Contents", [])]
    ours = [k for k in keys if k.endswith(f"_{denied}.txt")]
    assert len(ours) == 1, keys
    body = stack.s3.get_object(Bucket=stack.error_bucket, Key=ours[0])["Body"].read().decode()
    assert body == f"CloudFront Id [{denied}]\n(Set 1 Start)\n/a.html\n/b.html\n(Set 1 End)\n"
    with urllib.request.urlopen(f"{stack.endpoint}/_cfinv/sns") as r:
        alerts = [m for m in json.load(r)["messages"] if ours[0] in m["message"]]
    assert len(alerts) == 1
    assert alerts[0]["subject"] == "[Error] CloudFront Invalidation"
    assert alerts[0]["message"] == f"bucket : {stack.error_bucket}\n\n{ours[0]}\n"
