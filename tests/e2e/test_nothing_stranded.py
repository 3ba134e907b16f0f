"""End-to-end: every queued change reaches an execution, and one bad path or set sinks nothing else
(issue 11). Each scenario failed before its fix; the comment says how."""

import json
import threading
import time
import urllib.request

from test_pipeline import wait_for_execution_end


def since_now():
    return time.strftime("cfinv-2s-%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))


def wait_for_status(stack, arn, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        detail = stack.sfn.describe_execution(executionArn=arn)
        if detail["status"] != "RUNNING":
            return detail
        time.sleep(0.5)
    raise AssertionError(f"{arn} still running")


def test_a_brief_collect_failure_with_one_upload_and_no_other_activity_is_invalidated(stack):
    # Before: the retry ran while the drained message was hidden (visibility timeout), drained
    # nothing, stored an empty plan and succeeded; the message waited for an upload that never came.
    site = stack.site("brief")
    dist = stack.distribution(site)
    # One collect attempt fails (the SDK's three tries); the state machine's retry succeeds.
    stack.fault("s3", "PutObject", "ServiceUnavailable", 3, stack.plan_bucket)
    stack.s3.put_object(Bucket=site, Key="only.html", Body=b"x")
    stack.wait_for_paths(dist, ["/only.html"], seconds=90)


def test_a_collect_that_gives_up_is_recovered_by_the_sweeper_with_no_other_upload(stack):
    # Before: the execution failed, the message came back after the visibility timeout, and no
    # execution came for it on a quiet bucket.
    site = stack.site("gaveup")
    dist = stack.distribution(site)
    since = since_now()
    stack.fault("s3", "PutObject", "ServiceUnavailable", 100_000, stack.plan_bucket)
    stack.s3.put_object(Bucket=site, Key="lonely.html", Body=b"x")
    # Collect gives up: the execution fails (and, while the plan bucket refuses, the sweeper's
    # executions fail the same way, each giving the message back).
    deadline = time.time() + 180
    while time.time() < deadline:
        ours = [e for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] if e["name"] > since]
        if any(e["status"] == "FAILED" for e in ours):
            break
        time.sleep(1)
    else:
        raise AssertionError("no execution failed")
    stack.clear_faults()
    assert stack.invalidated_paths(dist) == []
    stack.wait_for_paths(dist, ["/lonely.html"], seconds=120)
    assert stack.sweeps(), "the sweeper started the execution that drained it"


def run_report_only(stack, name):
    """Starts an execution that only reports an empty run, and waits for it to succeed: a closed
    execution holding `name`."""
    run = {"execution": name, "attempt": "x", "pass": "p", "pages": 0, "firstPage": 0, "round": 0, "mapConcurrency": 1}
    arn = stack.sfn.start_execution(
        stateMachineArn=stack.state_machine_arn, name=name,
        input=json.dumps({"continuation": {"run": run, "page": {"next": 0}}}),
    )["executionArn"]
    assert wait_for_status(stack, arn)["status"] == "SUCCEEDED"


def window_name(seconds, start):
    return time.strftime(f"cfinv-{seconds}s-%Y%m%dT%H%M%SZ", time.gmtime(start))


def test_a_window_whose_name_a_closed_execution_holds_gets_the_successor_name(stack):
    # Before: ExecutionAlreadyExists counted as started, and the upload waited for no execution.
    site = stack.site("taken")
    dist = stack.distribution(site)
    start = (int(time.time()) // 2 + 6) * 2  # a window some seconds ahead
    # Closed executions hold the names of that window and the next two (ingest may run a little
    # late on a busy machine).
    taken = [window_name(2, start + 2 * i) for i in range(3)]
    for name in taken:
        run_report_only(stack, name)
    while time.time() < start + 0.2:
        time.sleep(0.05)
    record = {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-26T00:00:00.000Z",
              "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": site}, "object": {"key": "in-taken-window.html"}}}
    with stack.no_sweeps():
        out = stack.lam.invoke(FunctionName=stack.function_arn("ingest"), Payload=json.dumps({"Records": [record]}).encode())
        body = json.loads(out["Payload"].read())
    assert body["execution"] in [f"{t}-2" for t in taken], body
    stack.wait_for_paths(dist, ["/in-taken-window.html"])


def test_a_window_size_change_never_meets_the_old_sizes_names(stack):
    # Before: names were the window's start only; a larger window's start had been a finished
    # window's name of the old size, and its events got no execution.
    site = stack.site("resized")
    dist = stack.distribution(site)
    start = (int(time.time()) // 6 + 2) * 6  # a 6 s window ahead, also a 2 s window's start
    run_report_only(stack, window_name(2, start))
    body = {"bucket": site, "key": "resized.html", "change": "created", "eventName": "ObjectCreated:Put"}
    while time.time() < start + 0.2:
        time.sleep(0.05)
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(body))
    env = {"CFINV_STATE_MACHINE_ARN": stack.state_machine_arn, "CFINV_SETTLE_SECONDS": "1"}
    out = stack.cfinv("start-window", "--window-seconds", "6", env=env)
    assert out.startswith(f"started {window_name(6, start)}"), out
    stack.wait_for_paths(dist, ["/resized.html"])


def test_two_collects_of_one_execution_store_one_run_and_lose_nothing(stack):
    # Before: both wrote the same set files and plan.json unconditionally; the execution could
    # invalidate one attempt's sets while the other's messages were deleted.
    site = stack.site("twice")
    dist = stack.distribution(site, tags={"cfinv:policy": "exact"})
    keys = [f"twice/{i:02}.html" for i in range(40)]
    for k in keys:
        body = {"bucket": site, "key": k, "change": "created", "eventName": "ObjectCreated:Put"}
        stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(body))
    # The window's execution, a few seconds ahead; meanwhile two collects of it run at once (a
    # Lambda service error retried while the first still runs).
    start = time.time() + 6
    name = time.strftime("cfinv-2s-%Y%m%dT%H%M%SZ", time.gmtime(start)) + "-twice"
    payload = json.dumps({"execution": name, "stateMachine": stack.state_machine_arn}).encode()
    answers = []

    def collect():
        out = stack.lam.invoke(FunctionName=stack.function_arn("collect"), Payload=payload)
        answers.append(json.loads(out["Payload"].read()))

    threads = [threading.Thread(target=collect) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 2 and answers[0] == answers[1], answers
    attempts = {o["Key"].split("/")[2] for o in stack.s3.list_objects_v2(Bucket=stack.plan_bucket, Prefix=f"plans/{name}/")["Contents"]
                if o["Key"].count("/") > 2}
    assert len(attempts) == 2, f"each collect stored under its own attempt: {attempts}"
    # The execution itself: its Collect finds plan.json and works through the winner's run; the
    # loser's messages, given back, are drained by the sweeper's execution.
    wait_until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    stack.sfn.start_execution(stateMachineArn=stack.state_machine_arn, name=name,
                              input=json.dumps({"waitUntil": wait_until}))
    got = stack.wait_for_paths(dist, [f"/{k}" for k in keys], seconds=120)
    assert len(got) == 40, "no path invalidated twice"


def test_a_set_with_one_refused_path_invalidates_the_others_and_reports_that_path_alone(stack):
    # Before: InvalidArgument failed the whole set; every good path was reported instead.
    site = stack.site("refused")
    dist = stack.distribution(site, tags={"cfinv:policy": "exact"})
    message = "Your request contains one or more invalid invalidation paths."
    stack.fault("cloudfront", "CreateInvalidation", "InvalidArgument", 1000, "/bad.html", message=message)
    since = since_now()
    for k in ["a.html", "b.html", "bad.html", "c.html", "d.html"]:
        stack.s3.put_object(Bucket=site, Key=k, Body=b"x")
    stack.wait_for_paths(dist, ["/a.html", "/b.html", "/c.html", "/d.html"])
    executions = wait_for_execution_end(stack, since)
    assert all(e["status"] == "SUCCEEDED" for e in executions), "a refused path does not fail the run"
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.error_bucket).get("Contents", []) if o["Key"].endswith(f"_{dist}.txt")]
    assert len(keys) == 1, keys
    body = stack.s3.get_object(Bucket=stack.error_bucket, Key=keys[0])["Body"].read().decode()
    assert body == f"CloudFront Id [{dist}]\n(Set 1 Start)\n/bad.html\n(Set 1 End)\n"
    alert = [m for m in stack.sns_messages() if keys[0] in m["message"]][0]["message"]
    assert f"{dist} set 1: refused /bad.html: InvalidArgument: {message}" in alert, alert
    failed = [e for e in stack.bus_events("Invalidation Failed") if e["detail"]["distributionId"] == dist]
    assert len(failed) == 1 and failed[0]["detail"]["refusedCount"] == 1, failed
    # status names the refused path as what is left, and does not send the operator to resubmit.
    def sets_of(name):
        out = stack.cfinv("status", "--stack", stack.stack_name, "--execution", name, "--format", "json")
        return {s["distributionId"] for s in json.loads(out)["sets"]}

    [run] = [e["name"] for e in executions if dist in sets_of(e["name"])]
    text = stack.cfinv("status", "--stack", stack.stack_name, "--execution", run, "--format", "text")
    assert "but for 1 path it refused (InvalidArgument)" in text, text
    assert "resubmit them with" not in text and "nothing to resubmit" not in text, text


def test_the_state_of_400_failed_sets_stays_small_and_a_long_run_continues_in_another_execution(stack):
    # Before: every Map result and Report's list of failed sets travelled in the state; past a few
    # hundred sets it outgrew Step Functions' 256 KiB. And nothing bounded the history.
    site = stack.site("manysets")
    dist = stack.distribution(site, tags={"cfinv:policy": "exact"})
    stack.fault("cloudfront", "CreateInvalidation", "AccessDenied", 1_000_000, dist)
    since = since_now()
    # 6,000 keys with a `*`: each is a wildcard item, 15 to a set: 400 sets, two pages of 200.
    records = [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-26T00:00:00.000Z",
         "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": site}, "object": {"key": f"assets/f{i:05}%2Av.js"}}}
        for i in range(6000)
    ]
    with stack.no_sweeps():
        out = stack.lam.invoke(FunctionName=stack.function_arn("ingest"), Payload=json.dumps({"Records": records}).encode())
    assert "FunctionError" not in out, out["Payload"].read()
    executions = wait_for_execution_end(stack, since, seconds=400)
    # The stack's history budget (CFINV_HISTORY_BUDGET=30 here) is spent after the first page: the
    # second page is worked through by a continuation, and each execution reports its own page.
    failed = sorted((e for e in executions if e["status"] == "FAILED"), key=lambda e: e["name"])
    assert len(failed) == 2, executions
    root, continuation = failed
    assert continuation["name"] == f"{root['name']}-p-2", [e["name"] for e in failed]
    sizes, reported = [], []
    for e in failed:
        events = stack.sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"]
        for ev in events:
            for details in ev.values():
                if isinstance(details, dict):
                    for field in ("input", "output"):
                        if isinstance(details.get(field), str):
                            sizes.append(len(details[field].encode()))
        reports = [json.loads(ev["taskSucceededEventDetails"]["output"]) for ev in events
                   if "taskSucceededEventDetails" in ev and "failedCount" in ev["taskSucceededEventDetails"]["output"]]
        reported.append(reports[-1]["Payload"]["failedCount"])
    assert reported == [200, 200], reported
    assert max(sizes) < 262_144, max(sizes)
    assert max(sizes) < 16_384, f"the largest state is {max(sizes)} bytes"


def test_a_key_named_star_is_reported_for_a_person_not_sent_as_a_purge(stack):
    # Before: a key `*` became the item `/*`: every object of the distribution, every window.
    site = stack.site("star")
    dist = stack.distribution(site)
    since = since_now()
    stack.s3.put_object(Bucket=site, Key="*", Body=b"x")
    stack.s3.put_object(Bucket=site, Key="fine.html", Body=b"x")
    stack.wait_for_paths(dist, ["/fine.html"])
    wait_for_execution_end(stack, since)
    assert "/*" not in stack.invalidated_paths(dist)
    alerts = [m["message"] for m in stack.sns_messages() if f"s3://{site}/*" in m["message"]]
    assert len(alerts) == 1, alerts
    assert "too broad to send" in alerts[0] and "AllowBroadWildcards" in alerts[0]


def test_a_lifecycle_expiration_reaches_ingest_after_connect_bucket_upgrades_an_old_connection(stack):
    # Before: the direct notification subscribed to ObjectCreated and ObjectRemoved only; S3 reports
    # lifecycle deletions as LifecycleExpiration events, which never arrived.
    bucket = f"lifecycle-{int(time.time() * 1000)}"
    stack.s3.create_bucket(Bucket=bucket)
    ingest = stack.function_arn("ingest")
    stack.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [
        {"Id": "cfinv-ingest", "LambdaFunctionArn": ingest, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    stack.cfinv("connect-bucket", "--bucket", bucket, "--via", "notification", "--function-arn", ingest)
    (ours,) = stack.s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert sorted(ours["Events"]) == ["s3:LifecycleExpiration:*", "s3:ObjectCreated:*", "s3:ObjectRemoved:*"]

    dist = stack.distribution(bucket)
    stack.s3.put_object(Bucket=bucket, Key="expiring.html", Body=b"x")
    stack.wait_for_paths(dist, ["/expiring.html"])
    before = len(stack.invalidations(dist))
    body = json.dumps({"bucket": bucket, "key": "expiring.html"}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{stack.endpoint}/_cfinv/s3/lifecycle-expiration", data=body, method="POST")).read()
    deadline = time.time() + 60
    while len(stack.invalidations(dist)) == before and time.time() < deadline:
        time.sleep(1)
    assert len(stack.invalidations(dist)) == before + 1, "the expiration was invalidated"
