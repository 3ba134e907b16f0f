"""End-to-end: the operator commands against the deployed stack, found by its name as an operator
finds a deployed one (`--stack cfinv`: the CloudFormation stack stack.py registers, whose outputs
name the queues, buckets and state machine): status during and after a run, an error file of a
failed run resubmitted (and resubmitted again, creating nothing), explain and plan --live on the
live account, and the recovery commands without a pasted ARN or URL."""

import json
import os
import subprocess
import time

import stack as stack_module

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def since():
    """An execution name before any execution started from now on (names sort by window)."""
    return time.strftime("cfinv-2s-%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 5))


def status(stack, *args):
    return json.loads(stack.cfinv("status", "--stack", stack.stack_name, "--format", "json", *args))


def executions_after(stack, after):
    return [e for e in stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"] if e["name"] > after]


def wait_for_end(stack, after, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        ours = executions_after(stack, after)
        if ours and all(e["status"] != "RUNNING" for e in ours):
            return ours
        time.sleep(1)
    raise AssertionError("the executions did not end")


def test_status_during_and_after_a_run(stack):
    site = stack.site("status")
    dist = stack.distribution(site)
    after = since()
    stack.s3.put_object(Bucket=site, Key="a.html", Body=b"x")

    # During: the window's execution is listed as running, before its plan exists.
    deadline, running = time.time() + 30, []
    while time.time() < deadline and not running:
        running = [e for e in status(stack)["executions"] if e["name"] > after and e["status"] == "RUNNING"]
    assert running, "status showed the run while it ran"
    assert running[0]["console"].startswith("https://us-east-1.console.aws.amazon.com/states/home")

    stack.wait_for_paths(dist, ["/a.html"])
    # The run that planned this distribution: an execution of the test before may still be ending.
    ended = wait_for_end(stack, after)
    [done] = [e for e in ended if dist in {s["distributionId"] for s in status(stack, "--execution", e["name"])["sets"]}]
    assert done["status"] == "SUCCEEDED", done
    overview = status(stack)
    [row] = [e for e in overview["executions"] if e["name"] == done["name"]]
    assert (row["status"], row["events"], row["items"], row["sets"], row["failedSets"]) == ("SUCCEEDED", 1, 1, 1, 0), row
    queues = {q["queue"]: q for q in overview["queues"]}
    assert set(queues) == {"events", "dead letters", "ingest failures"}
    assert queues["events"]["visible"] == 0 and queues["events"]["inFlight"] == 0, queues
    assert queues["events"]["oldestMessageAgeSeconds"] is None, "the emulator has no CloudWatch metric data"
    assert overview["alarmsInAlarm"] == []

    run = status(stack, "--execution", done["name"])
    assert run["status"] == "SUCCEEDED"
    assert run["plan"]["output"]["collected"]["messages"] == 1
    assert [(s["distributionId"], s["set"], s["items"]) for s in run["sets"]] == [(dist, 1, 1)]
    assert run["sets"][0]["state"] == "completed", run["sets"]
    assert run["sets"][0]["invalidationIds"] == [i["Id"] for i in stack.invalidations(dist)]
    assert run["errorFiles"] == []

    # An alarm of the stack in alarm is shown; the text view reads for a person.
    stack.cloudwatch.set_alarm_state(AlarmName=stack.alarm_names[2], StateValue="ALARM", StateReason="test: 1 message")
    try:
        assert [a["name"] for a in status(stack)["alarmsInAlarm"]] == [stack.alarm_names[2]]
        text = stack.cfinv("status", "--stack", stack.stack_name, "--format", "text")
        assert f"{stack.alarm_names[2]} (since" in text and "test: 1 message" in text, text
        assert "oldest message: unknown" in text, text
    finally:
        stack.cloudwatch.set_alarm_state(AlarmName=stack.alarm_names[2], StateValue="OK", StateReason="test over")


def test_an_error_file_of_a_failed_run_is_resubmitted_once(stack):
    site = stack.site("resubmit")
    good = stack.distribution(site)
    denied = stack.distribution(site)
    stack.fault("cloudfront", "CreateInvalidation", "AccessDenied", 100, denied)
    after = since()
    stack.s3.put_object(Bucket=site, Key="a.html", Body=b"x")
    stack.s3.put_object(Bucket=site, Key="b c.html", Body=b"x")
    stack.wait_for_paths(good, ["/a.html", "/b%20c.html"])
    [failed] = [e for e in wait_for_end(stack, after) if e["status"] == "FAILED"]
    stack.clear_faults()
    errors = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.error_bucket).get("Contents", [])]
    [key] = [k for k in errors if k.endswith(f"_{denied}.txt")]

    # status names the failed set and the run's error file.
    run = status(stack, "--execution", failed["name"])
    assert run["status"] == "FAILED", run
    states = {s["distributionId"]: s["state"] for s in run["sets"]}
    assert states[denied] == "failed" and states[good] != "failed", states
    assert run["errorFiles"] == [f"s3://{stack.error_bucket}/{key}"]
    [row] = [e for e in status(stack)["executions"] if e["name"] == failed["name"]]
    assert row["failedSets"] == 1, row

    # A dry run sends nothing.
    out = stack.cfinv("resubmit", "--dry-run", f"s3://{stack.error_bucket}/{key}")
    assert f"{denied} set 1 (2 path(s), cfinv-resubmit/{key[len('invalidation_error/'):-len('.txt')]}/1)" in out, out
    assert "/b%20c.html" in out, out
    assert stack.invalidations(denied) == []

    # The key as the alert mail lists it, in the stack's error bucket.
    out = stack.cfinv("resubmit", "--stack", stack.stack_name, "--poll-seconds", "1", key)
    assert "1 of 1 set(s) with CloudFront" in out, out
    [inv] = stack.invalidations(denied)
    paths = stack.cf.get_invalidation(DistributionId=denied, Id=inv["Id"])["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert sorted(paths) == ["/a.html", "/b%20c.html"]

    # Again, by URL: CloudFront answers with the same invalidation; nothing new is created.
    out = stack.cfinv("resubmit", "--poll-seconds", "1", f"s3://{stack.error_bucket}/{key}")
    assert inv["Id"] in out, out
    assert len(stack.invalidations(denied)) == 1
    # Once it has completed, a rerun says so rather than "submitted".
    deadline = time.time() + 30
    while stack.cf.get_invalidation(DistributionId=denied, Id=inv["Id"])["Invalidation"]["Status"] != "Completed":
        assert time.time() < deadline, "the invalidation completed"
        time.sleep(0.5)
    out = stack.cfinv("resubmit", "--poll-seconds", "1", f"s3://{stack.error_bucket}/{key}")
    assert f"completed  {denied} set 1" in out and f"invalidation {inv['Id']}, submitted by an earlier run" in out, out
    assert len(stack.invalidations(denied)) == 1


def test_resubmit_names_a_refused_set_and_exits_1(stack, tmp_path):
    site = stack.site("refused")
    dist = stack.distribution(site)
    ok = tmp_path / f"20261126054012123abcdefghi_{dist}.txt"
    ok.write_text(f"CloudFront Id [{dist}]\n(Set 1 Start)\n/ok.html\n(Set 1 End)\n")
    gone = tmp_path / "20261126054012123abcdefghi_ENOSUCHDIST12.txt"
    gone.write_text("CloudFront Id [ENOSUCHDIST12]\n(Set 1 Start)\n/x.html\n(Set 1 End)\n")
    done = stack.cfinv("resubmit", "--poll-seconds", "1", str(gone), str(ok), check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "refused    ENOSUCHDIST12 set 1" in done.stdout and "NoSuchDistribution" in done.stdout, done.stdout
    assert "NoSuchDistribution: NoSuchDistribution" not in done.stdout, "the error named once"
    assert done.stderr.strip() == (
        "cfinv: 1 set(s) not submitted: ENOSUCHDIST12 set 1 of 20261126054012123abcdefghi_ENOSUCHDIST12 (NoSuchDistribution)"
    ), done.stderr
    assert len(stack.invalidations(dist)) == 1, "the refused set did not stop the other"

    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    done = stack.cfinv("resubmit", str(bad), check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "bad.txt: not an error file: line 1" in done.stderr, done.stderr

    # With a stack, a name that is no local file is looked for in the error bucket: both are said.
    missing = str(tmp_path / "nope.txt")
    done = stack.cfinv("resubmit", "--stack", stack.stack_name, "--dry-run", missing, check=False)
    assert done.returncode == 2, done
    assert done.stderr.startswith(f"cfinv: {missing}: no such local file, nor key or prefix s3://{stack.error_bucket}/"), done.stderr


def test_resubmit_cut_short_by_its_reader_still_submits_every_set(stack, tmp_path):
    """`cfinv resubmit FILE | head -1`: the reader goes after the first line, but every set must
    still reach CloudFront (a command that changes things does not stop half way)."""
    site = stack.site("piped")
    dist = stack.distribution(site)
    sets = "".join(f"(Set {n} Start)\n/piped/{n}.html\n(Set {n} End)\n" for n in (1, 2, 3))
    file = tmp_path / f"20261126054012123pipedpipe_{dist}.txt"
    file.write_text(f"CloudFront Id [{dist}]\n{sets}")
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.endpoint, "AWS_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "cfinv", "AWS_SECRET_ACCESS_KEY": "cfinv"}
    cfinv = subprocess.Popen([str(stack_module.ROOT / "target/debug/cfinv"), "resubmit", "--poll-seconds", "1", str(file)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cfinv.stdout.readline()
    cfinv.stdout.close()
    cfinv.wait(timeout=120)
    assert cfinv.returncode == 0, (cfinv.returncode, cfinv.stderr.read())
    assert stack.invalidated_paths(dist) == ["/piped/1.html", "/piped/2.html", "/piped/3.html"]


def explain(stack, bucket, key, *flags):
    return json.loads(stack.cfinv("explain", "--stack", stack.stack_name, "--format", "json", bucket, key, *flags))


def test_explain_a_served_a_not_served_and_an_exception_path_key(stack):
    site = stack.site("explain", exception_paths="up/")
    dist = stack.distribution(site, behaviors=[("/live/*", CACHING_DISABLED)], api_paths=["/api/*"])

    served = explain(stack, site, "img/red flower.jpg")
    assert served["exceptionPaths"] == ["up/"]
    [d] = served["distributions"]
    assert d == {"distributionId": dist, "items": ["/img/red%20flower.jpg"]}, d
    [route] = served["routes"]
    assert route["originId"] == "s3"
    assert route["served"] == {"path": "/img/red%20flower.jpg", "behavior": "*", "defaultBehavior": True,
                               "target": "s3", "outcome": "item", "item": "/img/red%20flower.jpg"}

    api = explain(stack, site, "api/spec.json")
    assert api["distributions"] == [{"distributionId": dist, "items": [], "reason": "not-served"}]
    assert api["routes"][0]["served"]["behavior"] == "/api/*" and api["routes"][0]["served"]["target"] == "api"

    live = explain(stack, site, "live/feed.m3u8")
    assert live["distributions"][0]["reason"] == "not-cached"

    upload = explain(stack, site, "up/photo.jpg")
    assert upload["skipped"] == "exception-path"
    assert upload["distributions"] == [{"distributionId": dist, "items": [], "reason": "exception-path"}]
    removed = explain(stack, site, "up/photo.jpg", "--removed")
    assert removed["distributions"] == [{"distributionId": dist, "items": ["/up/photo.jpg"]}]

    text = stack.cfinv("explain", "--stack", stack.stack_name, "--format", "text", site, "api/spec.json")
    assert f"{dist}: nothing to invalidate: not-served" in text, text
    assert "behavior /api/* sends this path to origin api, not through origin s3" in text, text
    text = stack.cfinv("explain", "--format", "text", "no-such-bucket-here", "a.html")
    assert "no distribution reaches bucket no-such-bucket-here" in text, text


def test_plan_live_reads_the_account(stack, tmp_path):
    site = stack.site("planlive", exception_paths="up/")
    dist = stack.distribution(site)
    records = [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-26T00:00:00.000Z",
         "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": site}, "object": {"key": key}}}
        for key in ["index.html", "up/u.jpg"]
    ]
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"Records": records}))
    plan = json.loads(stack.cfinv("plan", "--live", "--stack", stack.stack_name, "--events", str(events), "--format", "json"))
    [inv] = [i for i in plan["invalidations"] if i["distributionId"] == dist]
    assert inv["items"] == ["/index.html"]
    assert {"bucket": site, "key": "up/u.jpg", "event": "ObjectCreated:Put", "reason": "exception-path"} in plan["skipped"]


def test_the_recovery_commands_find_the_stack(stack):
    site = stack.site("found")
    dist = stack.distribution(site)
    body = {"bucket": site, "key": "by hand.html", "change": "created", "eventName": "ObjectCreated:Put"}
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(body))
    out = stack.cfinv("start-window", "--stack", stack.stack_name, env={"CFINV_SETTLE_SECONDS": "1"})
    assert out.startswith("started cfinv-"), out
    stack.wait_for_paths(dist, ["/by%20hand.html"])

    event = {"version": "0", "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
             "time": "2026-11-26T05:40:00Z", "region": "us-east-1", "resources": [f"arn:aws:s3:::{site}"],
             "detail": {"version": "0", "bucket": {"name": site}, "object": {"key": "parked.html", "size": 1},
                        "reason": "PutObject"}}
    stack.sqs.send_message(QueueUrl=stack.ingest_failures_url, MessageBody=json.dumps(event))
    out = stack.cfinv("replay-ingest-failures", "--stack", stack.stack_name, env={"CFINV_SETTLE_SECONDS": "1"})
    assert "replayed 1 event message(s): 1 event(s) queued\n" in out, out  # nothing skipped: not said
    stack.wait_for_paths(dist, ["/by%20hand.html", "/parked.html"])

    # Without the stack or the flags, the one line says what is missing.
    done = stack.cfinv("start-window", check=False)
    assert done.returncode == 2, done
    assert done.stderr.strip() == (
        "cfinv: --state-machine-arn is required, or --stack NAME (CFINV_STACK) whose StateMachineArn output gives it"
    ), done.stderr


def test_every_page_of_distributions_is_read(stack):
    # ListDistributions answers at most 100 a page: a bucket behind 101 distributions is planned
    # for all of them (cfinv reads every page, as collect does), then they are removed again so
    # the tests after this one list as few as before.
    site = stack.site("pages")
    dists = [stack.distribution(site) for _ in range(101)]
    try:
        answer = explain(stack, site, "a.html")
        got = sorted(d["distributionId"] for d in answer["distributions"])
        assert got == sorted(dists), (len(got), len(dists))
        assert all(d["items"] == ["/a.html"] for d in answer["distributions"])
    finally:
        for d in dists:
            config = stack.cf.get_distribution_config(Id=d)
            config["DistributionConfig"]["Enabled"] = False
            etag = stack.cf.update_distribution(Id=d, IfMatch=config["ETag"],
                                                DistributionConfig=config["DistributionConfig"])["ETag"]
            stack.cf.delete_distribution(Id=d, IfMatch=etag)
