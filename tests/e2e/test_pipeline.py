"""End-to-end: real uploads through the real notification path, the real ingest function, the real
state machine and the real functions, into emulated CloudFront invalidations."""

import json
import time
import urllib.request


def test_uploads_and_deletes_are_invalidated_through_the_whole_pipeline(stack):
    since = time.strftime("cfinv-2s-%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))
    site = stack.site("site", exception_paths="up/")
    dist = stack.distribution(site)
    stack.s3.put_object(Bucket=site, Key="index.html", Body=b"<html>")
    stack.s3.put_object(Bucket=site, Key="img/red flower.jpg", Body=b"x")
    stack.s3.put_object(Bucket=site, Key="사진/한.png", Body=b"x")
    stack.s3.put_object(Bucket=site, Key="up/1.jpg", Body=b"x")  # exception path: not invalidated...
    stack.s3.put_object(Bucket=site, Key="up/2.jpg", Body=b"x")  # (and never, while it is not deleted)
    stack.s3.put_object(Bucket=site, Key="old.css", Body=b"x")
    stack.s3.delete_object(Bucket=site, Key="old.css")
    stack.s3.delete_object(Bucket=site, Key="up/1.jpg")  # a removal under an exception path is invalidated

    got = stack.wait_for_paths(dist, ["/img/red%20flower.jpg", "/index.html", "/old.css", "/up/1.jpg", "/%EC%82%AC%EC%A7%84/%ED%95%9C.png"])
    assert len(got) == len(set(got)), "no path invalidated twice"

    # This test's executions: others may have failed on purpose before it.
    executions = [e for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] if e["name"] > since]
    assert executions, "the window's execution ran"
    for e in executions:
        detail = stack.sfn.describe_execution(executionArn=e["executionArn"])
        assert detail["status"] in ("SUCCEEDED", "RUNNING"), json.dumps(detail, default=str)


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
    stack.fault("cloudfront", "CreateInvalidation", "AccessDenied", 100, denied)
    since = time.strftime("cfinv-2s-%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))
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
    alerts = [m for m in stack.sns_messages() if ours[0] in m["message"]]
    assert len(alerts) == 1
    assert alerts[0]["subject"] == "[Error] CloudFront Invalidation"
    # The seed's body, then why.
    assert alerts[0]["message"] == (
        f"bucket : {stack.error_bucket}\n\n{ours[0]}\n\nReasons:\n{denied} set 1: AccessDenied: injected AccessDenied\n"
    )

    # The cause fixed, a redrive resumes at the gate and invalidates the failed set, only that one.
    stack.clear_faults()
    arn = failed[0]["executionArn"]
    stack.sfn.redrive_execution(executionArn=arn)
    deadline = time.time() + 60
    while (detail := stack.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING" and time.time() < deadline:
        time.sleep(0.5)
    assert (detail["status"], detail["redriveCount"]) == ("SUCCEEDED", 1), detail
    assert stack.invalidated_paths(denied) == ["/a.html", "/b.html"]
    assert len(stack.invalidations(good)) == 1
    events = stack.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    resumed = [e["stateEnteredEventDetails"]["name"] for e in events[[e["type"] for e in events].index("ExecutionRedriven"):]
               if "stateEnteredEventDetails" in e]
    # Resumed at the gate, which opened the pass over the unfinished set; nothing was collected again.
    assert resumed[0] == "RedriveGate" and "Collect" not in resumed and "Step" in resumed, resumed
    # The error file stays, but status no longer tells the operator to resubmit it (that would
    # invalidate, and bill, the same paths again).
    text = stack.cfinv("status", "--stack", stack.stack_name, "--execution", failed[0]["name"], "--format", "text")
    assert ours[0] in text and "nothing to resubmit" in text and "resubmit them with" not in text, text


def test_exception_paths_ttl_zero_and_origin_path(stack):
    site = stack.site("rules", exception_paths="uploads/")
    whole = stack.distribution(site, behaviors=[("/live/*", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad")])
    public = stack.distribution(site, origin_path="/public")
    for key in ["uploads/u.jpg", "live/a.m3u8", "public/app.js", "x.html"]:
        stack.s3.put_object(Bucket=site, Key=key, Body=b"x")
    stack.s3.delete_object(Bucket=site, Key="live/a.m3u8")
    stack.s3.delete_object(Bucket=site, Key="uploads/u.jpg")
    # Creations: uploads/ (exception) and live/ (caches nothing) are skipped; their deletions are not.
    stack.wait_for_paths(whole, ["/live/a.m3u8", "/public/app.js", "/uploads/u.jpg", "/x.html"])
    stack.wait_for_paths(public, ["/app.js"])


def test_throttling_and_busy_distributions_are_retried_into_one_invalidation_per_set(stack):
    site = stack.site("retry")
    throttled = stack.distribution(site)
    busy = stack.distribution(site)
    # More failures than the SDK's own three attempts: the state machine's Retry has to act.
    stack.fault("cloudfront", "CreateInvalidation", "Throttling", 5, throttled)
    stack.fault("cloudfront", "CreateInvalidation", "TooManyInvalidationsInProgress", 4, busy)
    stack.s3.put_object(Bucket=site, Key="page.html", Body=b"x")
    stack.wait_for_paths(throttled, ["/page.html"])
    stack.wait_for_paths(busy, ["/page.html"])
    assert len(stack.invalidations(throttled)) == 1
    assert len(stack.invalidations(busy)) == 1


def test_an_event_in_the_last_second_of_a_window_is_invalidated(stack):
    site = stack.site("edge")
    dist = stack.distribution(site)
    window = 2  # CFINV_WINDOW_SECONDS in the stack
    while time.time() % window < window - 0.4:
        time.sleep(0.02)
    stack.s3.put_object(Bucket=site, Key="late.html", Body=b"x")
    stack.wait_for_paths(dist, ["/late.html"])


def test_a_repeated_set_creates_no_new_invalidation(stack):
    site = stack.site("repeat")
    dist = stack.distribution(site)
    since = time.strftime("cfinv-2s-%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))
    stack.s3.put_object(Bucket=site, Key="r.html", Body=b"x")
    stack.wait_for_paths(dist, ["/r.html"])
    executions = wait_for_execution_end(stack, since)
    # Invoke invalidate again with exactly the input the Map gave it: same CallerReference, same batch.
    for e in executions:
        history = stack.sfn.get_execution_history(executionArn=e["executionArn"])["events"]
        for h in history:
            details = h.get("taskScheduledEventDetails")
            if not details or "invalidate" not in details["parameters"]:
                continue
            payload = json.loads(details["parameters"])["Payload"]
            if payload.get("action") != "step" or payload["unit"]["distributionId"] != dist:
                continue
            out = stack.lam.invoke(FunctionName=stack.function_arn("invalidate"), Payload=json.dumps(payload).encode())
            assert "FunctionError" not in out, out["Payload"].read()
    assert len(stack.invalidations(dist)) == 1


def test_a_partly_failed_send_message_batch_is_retried(stack):
    site = stack.site("partial")
    dist = stack.distribution(site)
    # The first entry of ingest's next two SendMessageBatch calls fails; the others are queued.
    stack.fault("sqs", "SendMessageBatchEntry", "InternalError", 2, stack.queue_name)
    stack.s3.put_object(Bucket=site, Key="p.html", Body=b"x")
    stack.wait_for_paths(dist, ["/p.html"])
    with urllib.request.urlopen(f"{stack.endpoint}/_cfinv/faults") as r:
        ours = [f for f in json.load(r)["faults"] if f["operation"] == "SendMessageBatchEntry"]
    assert ours and all(f["count"] == 0 for f in ours), "ingest met the partial failures and retried"


def test_a_malformed_message_does_not_block_the_queue(stack):
    site = stack.site("junk")
    dist = stack.distribution(site)
    since = time.strftime("cfinv-2s-%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{not an event")
    stack.s3.put_object(Bucket=site, Key="ok.html", Body=b"x")
    stack.wait_for_paths(dist, ["/ok.html"])
    deadline = time.time() + 30
    moved = []
    while time.time() < deadline and not moved:
        r = stack.sqs.receive_message(QueueUrl=stack.dead_letter_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        moved = [m["Body"] for m in r.get("Messages", [])]
    assert "{not an event" in moved
    # The run that drained it says so in status, not only in plan.json.
    texts = [stack.cfinv("status", "--stack", stack.stack_name, "--execution", e["name"], "--format", "text")
             for e in wait_for_execution_end(stack, since)]
    assert any("\n  unreadable: 1 message (set aside in the dead-letter queue" in t for t in texts), texts


def test_a_burst_of_7000_events_in_one_window_gives_three_sets(stack):
    site = stack.site("burst")
    # Every path, in sets of 3000: the distribution's cfinv:policy tag asks for the exact policy.
    dist = stack.distribution(site, tags={"cfinv:policy": "exact"})
    records = [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-26T00:00:00.000Z",
         "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": site}, "object": {"key": f"assets/{i:05}.js"}}}
        for i in range(7000)
    ]
    # One notification with every record: the whole burst is queued by one ingest call, in one window.
    with stack.no_sweeps():
        out = stack.lam.invoke(FunctionName=stack.function_arn("ingest"), Payload=json.dumps({"Records": records}).encode())
    assert "FunctionError" not in out, out["Payload"].read()
    expected = [f"/assets/{i:05}.js" for i in range(7000)]
    got = stack.wait_for_paths(dist, expected, seconds=240)
    assert len(got) == 7000, "no path invalidated twice"
    sizes = sorted(len(stack.cf.get_invalidation(DistributionId=dist, Id=i["Id"])["Invalidation"]["InvalidationBatch"]["Paths"]["Items"])
                   for i in stack.invalidations(dist))
    assert sizes == [1000, 3000, 3000]


def test_a_burst_under_one_folder_is_compacted_without_reaching_the_api(stack):
    site = stack.site("compact")
    dist = stack.distribution(site, api_paths=["/api/*"])
    records = [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-26T00:00:00.000Z",
         "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": site}, "object": {"key": key}}}
        for key in [f"assets/v3/{i:03}.js" for i in range(300)] + ["index.html"]
    ]
    with stack.no_sweeps():
        out = stack.lam.invoke(FunctionName=stack.function_arn("ingest"), Payload=json.dumps({"Records": records}).encode())
    assert "FunctionError" not in out, out["Payload"].read()
    # The stack's default policy, compact with 15 items at most. Deepest prefixes first: the 30
    # prefixes /assets/v3/00../29 (10 keys each) leave 31 items; then /assets/v3/0 and /1, in byte
    # order, each replacing ten, leave 13: at most 15, one invalidation.
    expected = ["/assets/v3/0*", "/assets/v3/1*", *[f"/assets/v3/2{d}*" for d in range(10)], "/index.html"]
    got = stack.wait_for_paths(dist, expected, seconds=120)
    assert len(got) == 13
    assert len(stack.invalidations(dist)) == 1
    assert not any(p.startswith("/api") or p == "/*" for p in got)


def test_connect_bucket_keeps_the_notifications_a_bucket_already_has(stack):
    bucket = f"shared-{int(time.time() * 1000)}"
    stack.s3.create_bucket(Bucket=bucket)
    queue_url = stack.sqs.create_queue(QueueName=f"indexer-{bucket}")["QueueUrl"]
    queue_arn = stack.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"Id": "indexer", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    # As the deployment connects a bucket: named in the stack's rule, then connect-bucket (EventBridge).
    stack.routed.add(bucket)
    stack.route(stack.routed)
    out = stack.cfinv("connect-bucket", "--bucket", bucket, "--exception-paths", "tmp/")
    assert "turned on; 1 notification(s) kept" in out, out
    config = stack.s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [q["Id"] for q in config["QueueConfigurations"]] == ["indexer"]
    assert "EventBridgeConfiguration" in config
    assert not config.get("LambdaFunctionConfigurations")
    tags = stack.s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert {"Key": "exceptionPaths", "Value": "tmp/"} in tags

    dist = stack.distribution(bucket)
    stack.s3.put_object(Bucket=bucket, Key="shared page.html", Body=b"x")
    stack.s3.put_object(Bucket=bucket, Key="tmp/skipped.html", Body=b"x")
    stack.s3.put_object(Bucket=bucket, Key="tmp/gone.html", Body=b"x")
    stack.s3.delete_object(Bucket=bucket, Key="tmp/gone.html")
    stack.wait_for_paths(dist, ["/shared%20page.html", "/tmp/gone.html"])
    received = stack.sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])
    assert received, "the bucket's own queue still receives its events"

    # The other route: a direct notification. The earlier entry is replaced, never duplicated.
    for _ in range(2):
        stack.cfinv("connect-bucket", "--bucket", bucket, "--via", "notification", "--function-arn", stack.function_arn("ingest"))
    config = stack.s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [f["Id"] for f in config["LambdaFunctionConfigurations"]] == ["cfinv-ingest"]
    assert [q["Id"] for q in config["QueueConfigurations"]] == ["indexer"]

    out = stack.cfinv("disconnect-bucket", "--bucket", bucket)
    assert "EventBridge delivery left on" in out, out
    config = stack.s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [q["Id"] for q in config["QueueConfigurations"]] == ["indexer"]
    assert "EventBridgeConfiguration" in config
    assert not config.get("LambdaFunctionConfigurations")


def test_events_parked_in_the_ingest_failure_queue_are_replayed(stack):
    site = stack.site("parked")
    dist = stack.distribution(site)
    # What EventBridge (or Lambda's async retries) leave there: the original S3 event, whole.
    event = {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-11-26T05:40:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{site}"],
        "detail": {"version": "0", "bucket": {"name": site},
                   "object": {"key": "parked+page.html", "size": 1, "etag": "d41d8", "sequencer": "0062E99A88DC407460"},
                   "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject"},
    }
    stack.sqs.send_message(QueueUrl=stack.ingest_failures_url, MessageBody=json.dumps(event))
    stack.sqs.send_message(QueueUrl=stack.ingest_failures_url, MessageBody="not an event")
    env = {"CFINV_QUEUE_URL": stack.queue_url, "CFINV_STATE_MACHINE_ARN": stack.state_machine_arn, "CFINV_SETTLE_SECONDS": "1"}
    args = ("replay-ingest-failures", "--from", stack.ingest_failures_url, "--window-seconds", "2")
    done = stack.cfinv(*args, env=env, check=False)
    # A message left (not an S3 event) is named, and the command could not do all of it: exit 1.
    assert done.returncode == 1, done
    assert "replayed 1 event message(s): 1 event(s) queued" in done.stdout, done
    assert "left in the failure queue" in done.stdout, done
    assert "1 message(s) left in the ingest failure queue" in done.stderr, done
    stack.wait_for_paths(dist, ["/parked%20page.html"])
    # It was made visible again at once, not left in flight: a second replay lists it again.
    again = stack.cfinv(*args, env=env, check=False)
    assert again.returncode == 1 and "left in the failure queue" in again.stdout, again
    assert "replayed 0 event message(s)" in again.stdout, again
    # Cleared, for the tests after this one.
    for m in stack.sqs.receive_message(QueueUrl=stack.ingest_failures_url, MaxNumberOfMessages=10).get("Messages", []):
        stack.sqs.delete_message(QueueUrl=stack.ingest_failures_url, ReceiptHandle=m["ReceiptHandle"])


def test_messages_put_back_in_the_queue_by_hand_are_drained_after_start_window(stack):
    site = stack.site("redriven")
    dist = stack.distribution(site)
    # A message as ingest queues it, back from the dead-letter queue (the console's DLQ redrive):
    # in the queue, with no execution coming for it.
    body = {"bucket": site, "key": "back again.html", "change": "created", "eventName": "ObjectCreated:Put"}
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(body))
    env = {"CFINV_STATE_MACHINE_ARN": stack.state_machine_arn, "CFINV_SETTLE_SECONDS": "1"}
    out = stack.cfinv("start-window", "--window-seconds", "2", env=env)
    assert out.startswith("started cfinv-"), out
    stack.wait_for_paths(dist, ["/back%20again.html"])


def test_local_up_reports_ready_and_serves_the_stack():
    import subprocess
    import sys

    from stack import ROOT, free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/local/demo.py"), "--up", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.time() + 120
        lines = []
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("local-up ready: "):
                break
        assert lines and lines[-1] == f"local-up ready: http://127.0.0.1:{port}", lines
        assert any("make connect-bucket BUCKET=" in l for l in lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_cfinv/health") as r:
            assert json.load(r) == {"ok": True}
        # What the printed instructions say: any bucket, connected with connect-bucket, is ingested.
        from stack import Stack

        local = Stack(f"http://127.0.0.1:{port}")
        local.s3.create_bucket(Bucket="my-site")
        local.cfinv("connect-bucket", "--bucket", "my-site")
        dist = local.distribution("my-site")
        local.s3.put_object(Bucket="my-site", Key="hello.html", Body=b"x")
        local.wait_for_paths(dist, ["/hello.html"])
    finally:
        proc.terminate()
        proc.wait(timeout=20)
