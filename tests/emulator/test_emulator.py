"""Unit tests of the emulator's patches (tests/emulator/cfinv_emulator), without the Rust binaries.

The emulator runs in this process on a free port (every patch installed, as the server installs
them), with a fake `cargo lambda watch` that records what the Lambda bridge forwards to it.
Run: .venv/bin/python -m pytest -q tests/emulator
"""

import json
import re
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import cfinv_emulator
import stack
from cfinv_emulator import cloudfront_cache_policies, control, lambda_bridge, s3_notification_config, stepfunctions

HERE = Path(__file__).resolve().parent
ACCOUNT = "123456789012"
REGION = "us-east-1"
INVALIDATION_SECONDS = 1.0
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

# moto warns when an error code is not in the service's model (Throttling and
# InvalidationBatchAlreadyExists are not in CloudFront's); it still serialises the code, as asserted.
pytestmark = pytest.mark.filterwarnings("ignore:.*does not match an error shape:UserWarning")


class FakeLambda:
    """`cargo lambda watch`'s Invoke API: records each payload by binary name, and the most invocations
    of each binary it answered at once (`peak`). Binary "failing" answers HTTP 500 with a Lambda
    error; invocations of "gated" wait until `gate` is set; those of a binary named "slow..." take
    SLOW_SECONDS."""

    SLOW_SECONDS = 0.2

    def __init__(self):
        self.calls = {}  # binary -> [payload]
        self.in_flight = {}  # binary -> invocations being answered
        self.peak = {}  # binary -> most invocations answered at once
        self.lock = threading.Lock()
        self.gate = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                binary = re.fullmatch(r"/2015-03-31/functions/([^/]+)/invocations", self.path).group(1)
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.in_flight[binary] = fake.in_flight.get(binary, 0) + 1
                    fake.peak[binary] = max(fake.peak.get(binary, 0), fake.in_flight[binary])
                if binary == "gated":
                    fake.gate.wait(10)
                if binary.startswith("slow"):
                    time.sleep(fake.SLOW_SECONDS)
                with fake.lock:
                    fake.calls.setdefault(binary, []).append(payload)
                    fake.in_flight[binary] -= 1  # before answering: the caller may send the next at once
                status, body = (500, {"errorType": "Boom", "errorMessage": "it failed"}) if binary == "failing" else (200, {"echo": payload})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, binary, count, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            with self.lock:
                got = list(self.calls.get(binary, []))
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{binary}: {count} invocation(s) expected, got {self.calls.get(binary)}")


@pytest.fixture(scope="module")
def fake_lambda():
    fake = FakeLambda()
    yield fake
    fake.gate.set()
    fake.server.shutdown()


@pytest.fixture(scope="module")
def endpoint(fake_lambda):
    cfinv_emulator.install(lambda_endpoint=fake_lambda.url, invalidation_seconds=INVALIDATION_SECONDS)
    server = control.make_server("127.0.0.1", 0)
    stepfunctions.install(server.server_port)  # executions run, as in the server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def no_faults_left(request):
    yield
    if "endpoint" in request.fixturenames:
        control_request(request.getfixturevalue("endpoint"), "DELETE", "/_cfinv/faults")


def client(endpoint, service):
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="cfinv", aws_secret_access_key="cfinv",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def control_request(endpoint, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def add_fault(endpoint, service, operation, code, count, match=None):
    fault = {"service": service, "operation": operation, "code": code, "count": count}
    if match is not None:
        fault["match"] = match
    status, body = control_request(endpoint, "POST", "/_cfinv/faults", fault)
    assert status == 200, body


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def distribution(endpoint):
    bucket = unique("origin")
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{bucket}.s3.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": CACHING_DISABLED},
        "Comment": "cfinv emulator tests",
        "Enabled": True,
    }
    return client(endpoint, "cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def invalidate(endpoint, dist, paths, ref=None):
    batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": ref or uuid.uuid4().hex}
    return client(endpoint, "cloudfront").create_invalidation(DistributionId=dist, InvalidationBatch=batch)["Invalidation"]


def function(endpoint, binary):
    """A Lambda function whose invocations go to the fake's `binary`. Returns its ARN."""
    iam, lam = client(endpoint, "iam"), client(endpoint, "lambda")
    role = unique("role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    return lam.create_function(
        FunctionName=unique("fn"), Runtime="provided.al2023", Role=f"arn:aws:iam::{ACCOUNT}:role/{role}",
        Handler="bootstrap", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Environment={"Variables": {"CFINV_BINARY": binary}},
    )["FunctionArn"]


# ---------------------------------------------------------------------------------------------------
# The package


def test_importing_the_package_patches_nothing():
    script = """
import moto.awslambda.models as lam, moto.cloudfront.models as cf, moto.cloudfront.urls as cfu
import moto.s3.notifications as s3n, moto.s3.responses as s3r, moto.sqs.models as sqs, moto.events.models as ev
from moto.core.responses import BaseResponse
from moto.stepfunctions.responses import StepFunctionResponse as sfn
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component import InlineIterationComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import StateTaskServiceAwsSdk
import moto.cloudwatch.models as cw
import moto.s3.models as s3m
watched = lambda: [BaseResponse.call_action, s3n.send_event, s3n._get_s3_event, s3m.S3Backend.delete_object, cw.CloudWatchBackend.set_alarm_state, cw.CloudWatchBackend.put_metric_alarm, cf.DefaultCacheBehaviour.__init__, cf.DistributionConfig.__init__,
    cf.CloudFrontBackend.list_invalidations, sfn.describe_execution, sfn.list_executions, CommonStateField._eval_body,
    InlineIterationComponent._eval_body, StateTaskServiceAwsSdk._eval_service_task, cf.CloudFrontBackend.create_invalidation, cf.Invalidation.__dict__.get("status"),
    sqs.SQSBackend.receive_message, sqs.SQSBackend.delete_message_batch, sqs.SQSBackend.send_message_batch,
    sqs.unix_time_millis, sqs.Queue.approximate_number_of_messages, lam.LambdaFunction._invoke_lambda,
    s3n._invoke_awslambda, s3n._send_event_bridge_message, ev.Rule.send_to_targets, ev.EventsBackend.put_events, s3r.S3Response.get_bucket_notification, dict(cfu.url_paths)]
before = watched()
import cfinv_emulator, cfinv_emulator.__main__, cfinv_emulator.control, cfinv_emulator.stepfunctions
assert watched() == before
cfinv_emulator.install()
assert all(a is not b for a, b in zip(watched()[:-1], before[:-1])) and len(watched()[-1]) == len(before[-1]) + 9
"""
    subprocess.run([sys.executable, "-c", script], cwd=HERE, check=True)


def test_install_twice_wraps_once(endpoint):
    cfinv_emulator.install(lambda_endpoint=cfinv_emulator.lambda_bridge.LAMBDA_ENDPOINT,
                           invalidation_seconds=INVALIDATION_SECONDS)
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=unique("twice"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])] == ["one"]


def test_the_control_routes(endpoint):
    assert control_request(endpoint, "GET", "/_cfinv/health") == (200, {"ok": True})
    assert control_request(endpoint, "POST", "/_cfinv/faults", {"service": "s3", "operation": "PutObject"})[0] == 400
    assert control_request(endpoint, "POST", "/_cfinv/faults", {"service": "s3", "operation": "PutObject", "code": "X", "count": "x"})[0] == 400
    assert control_request(endpoint, "GET", "/_cfinv/nothing")[0] == 404

    sns = client(endpoint, "sns")
    topic = sns.create_topic(Name=unique("alerts"))["TopicArn"]
    sns.publish(TopicArn=topic, Subject="[Error] test", Message="body")
    _, listed = control_request(endpoint, "GET", "/_cfinv/sns")
    ours = [m for m in listed["messages"] if m["topicArn"] == topic]
    assert [(m["subject"], m["message"]) for m in ours] == [("[Error] test", "body")]


# ---------------------------------------------------------------------------------------------------
# Faults


def test_a_fault_fails_count_matching_calls_then_is_spent(endpoint):
    target, other = distribution(endpoint), distribution(endpoint)
    add_fault(endpoint, "cloudfront", "CreateInvalidation", "Throttling", 2, match=target)
    invalidate(endpoint, other, ["/a"])  # no match: not failed, no use taken
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            invalidate(endpoint, target, ["/a"])
        assert error_code(e) == "Throttling"
    invalidate(endpoint, target, ["/a"])
    _, listed = control_request(endpoint, "GET", "/_cfinv/faults")
    assert [(f["operation"], f["count"]) for f in listed["faults"]] == [("CreateInvalidation", 0)]


def test_a_fault_matches_service_and_operation(endpoint):
    dist = distribution(endpoint)
    add_fault(endpoint, "CloudFront", "CreateInvalidation", "AccessDenied", 1)  # service in any case
    add_fault(endpoint, "cloudfront", "GetInvalidation", "NoSuchInvalidation", 1)
    add_fault(endpoint, "sqs", "CreateInvalidation", "Throttling", 1)
    with pytest.raises(ClientError) as e:
        invalidate(endpoint, dist, ["/a"])
    assert error_code(e) == "AccessDenied"
    invalidation = invalidate(endpoint, dist, ["/b"])
    with pytest.raises(ClientError) as e:
        client(endpoint, "cloudfront").get_invalidation(DistributionId=dist, Id=invalidation["Id"])
    assert error_code(e) == "NoSuchInvalidation"
    _, listed = control_request(endpoint, "GET", "/_cfinv/faults")
    assert [f["count"] for f in listed["faults"]] == [0, 0, 1]


def test_clearing_the_faults(endpoint):
    dist = distribution(endpoint)
    add_fault(endpoint, "cloudfront", "CreateInvalidation", "Throttling", 100)
    with pytest.raises(ClientError):
        invalidate(endpoint, dist, ["/a"])
    assert control_request(endpoint, "DELETE", "/_cfinv/faults") == (200, {"faults": 0})
    invalidate(endpoint, dist, ["/a"])
    assert control_request(endpoint, "GET", "/_cfinv/faults") == (200, {"faults": []})


def test_a_send_message_batch_entry_fault_fails_the_first_entry_only(endpoint):
    sqs = client(endpoint, "sqs")
    name = unique("partial")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    other = sqs.create_queue(QueueName=unique("whole"))["QueueUrl"]
    add_fault(endpoint, "sqs", "SendMessageBatchEntry", "InternalError", 1, match=name)
    entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]

    out = sqs.send_message_batch(QueueUrl=other, Entries=entries)
    assert len(out["Successful"]) == 3 and not out.get("Failed")
    out = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in out["Failed"]] == [("0", "InternalError", False)]
    assert sorted(s["Id"] for s in out["Successful"]) == ["1", "2"]
    out = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(out["Successful"]) == 3 and not out.get("Failed")


def test_s3_faults_are_answered_before_moto(endpoint):
    s3 = client(endpoint, "s3")
    bucket, other = unique("faulty"), unique("fine")
    for b in (bucket, other):
        s3.create_bucket(Bucket=b)
        s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "exceptionPaths", "Value": "up/"}]})
    add_fault(endpoint, "s3", "PutObject", "ServiceUnavailable", 1, match=bucket)
    add_fault(endpoint, "s3", "GetObject", "NoSuchKey", 1, match=bucket)
    add_fault(endpoint, "s3", "GetBucketTagging", "AccessDenied", 1, match=bucket)

    s3.put_object(Bucket=other, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert (error_code(e), e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("ServiceUnavailable", 503)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_code(e) == "NoSuchKey"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    s3.get_bucket_tagging(Bucket=other)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert (error_code(e), e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "exceptionPaths", "Value": "up/"}]


# ---------------------------------------------------------------------------------------------------
# CloudFront invalidations


def test_an_invalidation_is_in_progress_then_completed(endpoint):
    cf = client(endpoint, "cloudfront")
    dist = distribution(endpoint)
    created = invalidate(endpoint, dist, ["/index.html"])
    assert created["Status"] == "InProgress"
    assert cf.get_invalidation(DistributionId=dist, Id=created["Id"])["Invalidation"]["Status"] == "InProgress"
    time.sleep(INVALIDATION_SECONDS + 0.1)
    assert cf.get_invalidation(DistributionId=dist, Id=created["Id"])["Invalidation"]["Status"] == "Completed"
    assert [i["Status"] for i in cf.list_invalidations(DistributionId=dist)["InvalidationList"]["Items"]] == ["Completed"]


def test_a_caller_reference_is_idempotent_for_the_same_batch_only(endpoint):
    cf = client(endpoint, "cloudfront")
    dist = distribution(endpoint)
    first = invalidate(endpoint, dist, ["/a", "/b"], ref="set-1")
    assert invalidate(endpoint, dist, ["/a", "/b"], ref="set-1")["Id"] == first["Id"]
    with pytest.raises(ClientError) as e:
        invalidate(endpoint, dist, ["/a", "/c"], ref="set-1")
    assert error_code(e) == "InvalidationBatchAlreadyExists"
    assert len(cf.list_invalidations(DistributionId=dist)["InvalidationList"]["Items"]) == 1
    assert invalidate(endpoint, distribution(endpoint), ["/a", "/c"], ref="set-1")["Id"] != first["Id"]  # per distribution


def test_paths_and_wildcards_in_progress_are_limited(endpoint):
    paths, wildcards = distribution(endpoint), distribution(endpoint)
    invalidate(endpoint, paths, [f"/p/{i}" for i in range(2999)])
    invalidate(endpoint, paths, ["/p/last"])  # 3000 in progress
    invalidate(endpoint, wildcards, [f"/w/{i}/*" for i in range(10)])
    invalidate(endpoint, wildcards, [f"/v/{i}/*" for i in range(5)] + ["/plain"])  # 15 wildcards in progress
    invalidate(endpoint, wildcards, ["/not/a/wildcard"])
    for dist, more in [(paths, ["/one/more"]), (wildcards, ["/x/*"])]:
        with pytest.raises(ClientError) as e:
            invalidate(endpoint, dist, more)
        assert error_code(e) == "TooManyInvalidationsInProgress"
    time.sleep(INVALIDATION_SECONDS + 0.1)  # completed invalidations count no more
    invalidate(endpoint, paths, ["/one/more"])
    invalidate(endpoint, wildcards, ["/x/*"])


# ---------------------------------------------------------------------------------------------------
# CloudFront cache policies


def without_times(items):
    for item in items:
        assert item["CachePolicy"].pop("LastModifiedTime").year >= 2024
    return items


def test_the_managed_cache_policies_are_the_file_s(endpoint):
    cf = client(endpoint, "cloudfront")
    with open(cloudfront_cache_policies.MANAGED_POLICIES_FILE) as f:
        expected = json.load(f)["CachePolicyList"]["Items"]
    assert len(expected) >= 5
    listed = cf.list_cache_policies(Type="managed")["CachePolicyList"]
    assert listed["Quantity"] == len(expected)
    assert without_times(listed["Items"]) == expected
    for item in expected:
        policy = item["CachePolicy"]
        got = cf.get_cache_policy(Id=policy["Id"])
        assert without_times([got])[0]["CachePolicy"] == policy
        assert got["ETag"]
        assert cf.get_cache_policy_config(Id=policy["Id"])["CachePolicyConfig"] == policy["CachePolicyConfig"]


def test_custom_cache_policies(endpoint):
    cf = client(endpoint, "cloudfront")
    config = {
        "Name": unique("short"), "Comment": "one minute", "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 120,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }
    created = cf.create_cache_policy(CachePolicyConfig=config)["CachePolicy"]
    policy_id = created["Id"]
    got = cf.get_cache_policy(Id=policy_id)["CachePolicy"]["CachePolicyConfig"]
    assert (got["Name"], got["MinTTL"], got["DefaultTTL"], got["MaxTTL"]) == (config["Name"], 0, 60, 120)
    assert cf.get_cache_policy_config(Id=policy_id)["CachePolicyConfig"]["Name"] == config["Name"]
    custom = cf.list_cache_policies(Type="custom")["CachePolicyList"]["Items"]
    assert policy_id in [i["CachePolicy"]["Id"] for i in custom]
    assert {i["Type"] for i in custom} == {"custom"}
    every = cf.list_cache_policies()["CachePolicyList"]["Items"]
    assert {CACHING_DISABLED, policy_id} <= {i["CachePolicy"]["Id"] for i in every}
    with pytest.raises(ClientError) as e:
        cf.get_cache_policy(Id="00000000-0000-0000-0000-000000000000")
    assert error_code(e) == "NoSuchCachePolicy"


# ---------------------------------------------------------------------------------------------------
# S3 notification configuration and events


def test_get_bucket_notification_configuration_keeps_eventbridge(endpoint):
    s3, sqs = client(endpoint, "s3"), client(endpoint, "sqs")
    bucket = unique("notified")
    s3.create_bucket(Bucket=bucket)
    queue = sqs.create_queue(QueueName=unique("indexer"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"Id": "indexer", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}],
            "EventBridgeConfiguration": {},
        },
    )
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [q["Id"] for q in config["QueueConfigurations"]] == ["indexer"]
    assert "EventBridgeConfiguration" in config
    with urllib.request.urlopen(f"{endpoint}/{bucket}?notification") as r:
        body = r.read().decode()
    assert re.search(r"<NotificationConfiguration[ >]", body) and "GetBucketNotificationResponse" not in body, body

    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": []})
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_an_eventbridge_only_configuration_reads_back_and_survives_a_read_merge_write(endpoint):
    # moto answers an empty root (<NotificationConfiguration xmlns="..."/>) when EventBridge is the
    # only notification: a second `cfinv connect-bucket` said "turned on" again, and connecting with
    # --via notification afterwards wrote the configuration back without EventBridge.
    s3, sqs, events = client(endpoint, "s3"), client(endpoint, "sqs"), client(endpoint, "events")
    bucket = unique("bridge-only")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    with urllib.request.urlopen(f"{endpoint}/{bucket}?notification") as r:
        root = ET.fromstring(r.read())
    assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}NotificationConfiguration"
    assert [child.tag for child in root] == ["{http://s3.amazonaws.com/doc/2006-03-01/}EventBridgeConfiguration"]
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata")
    assert config == {"EventBridgeConfiguration": {}}

    # Read, add a notification, write everything back (as connect-bucket does): EventBridge stays on,
    # and the bucket's changes still reach the bus.
    _, queue_arn = queue_with_arn(endpoint, "indexer")
    config["QueueConfigurations"] = [{"Id": "indexer", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert "EventBridgeConfiguration" in config and [q["Id"] for q in config["QueueConfigurations"]] == ["indexer"]
    s3.put_object(Bucket=bucket, Key="still-bridged.html", Body=b"x")
    _, listed = control_request(endpoint, "GET", "/_cfinv/events")
    assert [e["detail"]["object"]["key"] for e in listed["events"]
            if e["source"] == "aws.s3" and e["detail"]["bucket"]["name"] == bucket
            and e["detail-type"] == "Object Created"] == ["still-bridged.html"]


NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


@pytest.mark.parametrize("root", [
    "<NotificationConfiguration/>",
    "<NotificationConfiguration />",
    f"<NotificationConfiguration {NS}/>",
    f"<NotificationConfiguration {NS} />",
    f"<NotificationConfiguration\n  {NS}\n/>",
    "<NotificationConfiguration></NotificationConfiguration>",
    f"<NotificationConfiguration {NS}></NotificationConfiguration>",
    f"<NotificationConfiguration {NS}><QueueConfiguration><Id>q</Id></QueueConfiguration></NotificationConfiguration>",
])
def test_eventbridge_is_added_to_every_form_of_the_configuration_root(root):
    out = s3_notification_config.with_event_bridge(f'<?xml version="1.0" encoding="utf-8"?>\n{root}')
    parsed = ET.fromstring(out.encode())
    assert parsed.tag.endswith("NotificationConfiguration")
    assert parsed.tag.startswith("{") == (NS in root), "the namespace is kept"
    children = [child.tag.rsplit("}", 1)[-1] for child in parsed]
    assert children[-1] == "EventBridgeConfiguration" and children.count("EventBridgeConfiguration") == 1
    assert children[:-1] == (["QueueConfiguration"] if "QueueConfiguration" in root else [])


def test_s3_notifications_to_lambda_have_aws_s_shape_and_arrive_asynchronously(endpoint, fake_lambda):
    s3 = client(endpoint, "s3")
    bucket = unique("shaped")
    s3.create_bucket(Bucket=bucket)
    fn = function(endpoint, "gated")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"Id": "cfinv", "LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
        ]},
    )
    fake_lambda.gate.clear()
    started = time.time()
    s3.put_object(Bucket=bucket, Key="img/red flower+1.jpg", Body=b"xyz")
    s3.delete_object(Bucket=bucket, Key="img/red flower+1.jpg")
    assert time.time() - started < 5, "PutObject does not wait for the function"
    assert fake_lambda.calls.get("gated", []) == []
    fake_lambda.gate.set()
    events = fake_lambda.wait_for("gated", 2)
    records = sorted((r for e in events for r in e["Records"]), key=lambda r: r["eventName"])
    assert [r["eventName"] for r in records] == ["ObjectCreated:Put", "ObjectRemoved:Delete"]
    for record in records:
        obj = record["s3"]["object"]
        assert obj["key"] == "img/red+flower%2B1.jpg"
        assert re.fullmatch(r"[0-9A-F]{18}", obj["sequencer"])
        assert record["userIdentity"]["principalId"] and record["requestParameters"]["sourceIPAddress"]
        assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
        assert record["s3"]["bucket"]["name"] == bucket and record["s3"]["bucket"]["ownerIdentity"]["principalId"]
    assert records[0]["s3"]["object"]["size"] == 3 and records[0]["s3"]["object"]["eTag"]
    assert "size" not in records[1]["s3"]["object"] and "eTag" not in records[1]["s3"]["object"]


def test_eventbridge_delivers_s3_changes_to_lambda_rules_in_aws_s_shape(endpoint, fake_lambda):
    s3, events = client(endpoint, "s3"), client(endpoint, "events")
    bucket = unique("bridged")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    rule = unique("rule")
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created", "Object Deleted"], "detail": {"bucket": {"name": [bucket]}}}
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "ingest", "Arn": function(endpoint, "bridged")}])
    s3.put_object(Bucket=bucket, Key="a b/c.html", Body=b"hello")
    s3.delete_object(Bucket=bucket, Key="a b/c.html")

    got = sorted(fake_lambda.wait_for("bridged", 2), key=lambda e: e["detail-type"])
    time.sleep(0.3)
    assert len(fake_lambda.calls["bridged"]) == 2, "only the rule's detail-types (no Object ACL Updated)"
    created, deleted = got
    for event in got:
        assert (event["source"], event["account"], event["region"]) == ("aws.s3", ACCOUNT, REGION)
        assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
        assert event["detail"]["bucket"] == {"name": bucket}
        assert event["detail"]["object"]["key"] == "a+b/c.html"
    assert (created["detail-type"], created["detail"]["reason"]) == ("Object Created", "PutObject")
    assert created["detail"]["object"]["size"] == 5 and created["detail"]["object"]["etag"]
    assert (deleted["detail-type"], deleted["detail"]["reason"]) == ("Object Deleted", "DeleteObject")
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    assert "size" not in deleted["detail"]["object"]
    _, listed = control_request(endpoint, "GET", "/_cfinv/events")
    ours = [e for e in listed["events"] if e["source"] == "aws.s3" and e["detail"]["bucket"]["name"] == bucket]
    assert {e["detail-type"] for e in ours} >= {"Object Created", "Object Deleted"}


# ---------------------------------------------------------------------------------------------------
# Lambda bridge and SQS


def test_invocations_run_the_binary_named_by_cfinv_binary(endpoint, fake_lambda):
    lam = client(endpoint, "lambda")
    out = lam.invoke(FunctionName=function(endpoint, "echo"), Payload=b'{"hello": 1}')
    assert "FunctionError" not in out
    assert json.loads(out["Payload"].read()) == {"echo": {"hello": 1}}
    out = lam.invoke(FunctionName=function(endpoint, "failing"), Payload=b"{}")
    assert out["FunctionError"]
    assert json.loads(out["Payload"].read())["errorType"] == "Boom"


def test_invocations_are_bounded_per_function_and_every_one_arrives(endpoint, fake_lambda):
    # `cargo lambda watch` queues at most 100 invocations of a function and deadlocks when that queue
    # is full; the emulator invoked every S3 change at once, from a thread each, so a burst of a few
    # hundred uploads hung the whole stack for good. Now at most lambda_bridge.CONCURRENCY
    # invocations of a function are in flight, the rest wait in the emulator, and none is lost.
    s3, events, lam = client(endpoint, "s3"), client(endpoint, "events"), client(endpoint, "lambda")
    bucket = unique("burst")
    s3.create_bucket(Bucket=bucket)
    notified_arn, bridged_arn = function(endpoint, "slow-notified"), function(endpoint, "slow-bridged")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            {"Id": "direct", "LambdaFunctionArn": notified_arn, "Events": ["s3:ObjectCreated:*"]}],
        "EventBridgeConfiguration": {},
    })
    rule = unique("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                                                        "detail": {"bucket": {"name": [bucket]}}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "ingest", "Arn": bridged_arn}])
    invoked = function(endpoint, "slow-invoked")
    keys = [f"burst/{i:03d}.html" for i in range(40)]
    started = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))
        answers = list(pool.map(lambda i: lam.invoke(FunctionName=invoked, Payload=json.dumps({"i": i})), range(12)))
    assert time.time() - started < 10, "the uploads wait for no function"
    quick = time.time()
    assert "FunctionError" not in lam.invoke(FunctionName=function(endpoint, "echo"), Payload=b"{}")
    assert time.time() - quick < 2, "another function's backlog holds no one else up"

    bridged = fake_lambda.wait_for("slow-bridged", len(keys), seconds=40)
    notified = fake_lambda.wait_for("slow-notified", len(keys), seconds=40)
    assert sorted(e["detail"]["object"]["key"] for e in bridged) == keys
    assert sorted(r["s3"]["object"]["key"] for e in notified for r in e["Records"]) == keys
    assert sorted(json.loads(a["Payload"].read())["echo"]["i"] for a in answers) == list(range(12))
    time.sleep(3 * FakeLambda.SLOW_SECONDS)
    assert len(fake_lambda.calls["slow-bridged"]) == len(keys), "each change once"
    limit = lambda_bridge.CONCURRENCY
    assert limit == lambda_bridge.DEFAULT_CONCURRENCY == stack.LAMBDA_CONCURRENCY
    peaks = {b: fake_lambda.peak[b] for b in ("slow-bridged", "slow-notified", "slow-invoked")}
    assert all(1 <= peak <= limit for peak in peaks.values()), peaks
    left = lambda_bridge.in_flight()
    assert notified_arn not in left and bridged_arn not in left, "the delivery threads end when their queue is empty"


def test_sqs_receive_and_delete_keep_moto_s_semantics(endpoint):
    sqs = client(endpoint, "sqs")
    dead = sqs.create_queue(QueueName=unique("dead"))["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=unique("work"), Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 1}),
    })["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=30)["Messages"]
    assert [m["Body"] for m in received] == ["m0", "m1", "m2"]
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received[:2])]
    out = sqs.delete_message_batch(QueueUrl=url, Entries=entries + [{"Id": "bad", "ReceiptHandle": "nope"}])
    assert sorted(s["Id"] for s in out["Successful"]) == ["0", "1"]
    assert [(f["Id"], f["Code"]) for f in out["Failed"]] == [("bad", "ReceiptHandleIsInvalid")]
    # m2 is in flight; m3 and m4 are received once with no visibility, then go to the dead-letter queue.
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in again] == ["m3", "m4"]
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []) == []
    moved = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in moved) == ["m3", "m4"]
    time.sleep(0.6)  # the approximate counts are recomputed every half second
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")


def test_a_message_sent_while_a_batch_delete_runs_is_kept(endpoint):
    # The server is threaded. A batch delete that rebuilt the queue's message list without the
    # queue's lock dropped a message sent while it ran (and could bring back one another delete
    # removed). Here a send is made to land exactly inside the delete's pass.
    from moto.sqs.models import sqs_backends

    sqs = client(endpoint, "sqs")
    name = unique("race")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="first")
    (got,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)["Messages"]
    backend = sqs_backends[ACCOUNT]["us-east-1"]
    queue = backend.get_queue(name)
    in_pass, sent = threading.Event(), threading.Event()

    class Pausing(list):
        """The message list, pausing at the end of the delete's pass, before the rebuilt list
        replaces it, until the send landed (or half a second: a send held off by the queue's lock
        cannot land before the pass ends)."""

        def __iter__(self):
            yield from list.__iter__(self)
            in_pass.set()
            sent.wait(0.5)

    queue._messages = Pausing(queue._messages)

    def send():
        in_pass.wait(5)
        backend.send_message(name, "second")
        sent.set()

    sender = threading.Thread(target=send)
    sender.start()
    out = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": got["ReceiptHandle"]}])
    sender.join()
    assert [s["Id"] for s in out["Successful"]] == ["0"]
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in left] == ["second"], "the message sent during the delete is still there"


# ---------------------------------------------------------------------------------------------------
# Step Functions: RedriveExecution

ROLE = f"arn:aws:iam::{ACCOUNT}:role/cfinv"

# Items: one iteration per key, which reads the key's flag (aws-sdk:s3:getObject) and fails unless it
# is "ok". Gate (after a Choice): every iteration fails until the execution has been redriven twice,
# as cfinv's RedriveGate fails until it has been redriven.
REDRIVE_DEFINITION = {
    "StartAt": "Before",
    "States": {
        "Before": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "ResultPath": "$.before", "Next": "Items"},
        "Items": {
            "Type": "Map", "ItemsPath": "$.keys", "MaxConcurrency": 1, "ResultPath": "$.results", "Next": "Gate?",
            "ItemSelector": {"key.$": "$$.Map.Item.Value", "bucket.$": "$.bucket"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Read",
                "States": {
                    "Read": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                             "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"},
                             "ResultSelector": {"flag.$": "$.Body"}, "ResultPath": "$.read", "Next": "Ok?"},
                    "Ok?": {"Type": "Choice", "Choices": [{"Variable": "$.read.flag", "StringEquals": "ok", "Next": "Good"}],
                            "Default": "Bad"},
                    "Good": {"Type": "Pass", "Parameters": {"key.$": "$.key", "at.$": "$$.State.EnteredTime"}, "End": True},
                    "Bad": {"Type": "Fail", "Error": "FlagNotOk", "Cause": "the flag is not ok"},
                },
            },
        },
        "Gate?": {"Type": "Choice", "Choices": [{"Variable": "$.gate", "BooleanEquals": True, "Next": "Gate"}], "Default": "Done"},
        "Gate": {
            "Type": "Map", "ItemsPath": "$.results", "ResultPath": "$.gated", "Next": "Done",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Redriven?",
                "States": {
                    "Redriven?": {"Type": "Choice", "Choices": [
                        {"Variable": "$$.Execution.RedriveCount", "NumericGreaterThanEquals": 2, "Next": "Through"}],
                        "Default": "NotYet"},
                    "Through": {"Type": "Pass", "End": True},
                    "NotYet": {"Type": "Fail", "Error": "NotRedriven", "Cause": "the gate"},
                },
            },
        },
        "Done": {"Type": "Succeed"},
    },
}


def state_machine(endpoint, definition, kind="STANDARD"):
    return client(endpoint, "stepfunctions").create_state_machine(
        name=unique("sm"), definition=json.dumps(definition), roleArn=ROLE, type=kind)["stateMachineArn"]


def finished(sfn, arn, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running")


def history(sfn, arn):
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def entered(events, name):
    return [e for e in events if e.get("stateEnteredEventDetails", {}).get("name") == name]


def test_redrive_resumes_at_the_failed_state_and_keeps_what_succeeded(endpoint):
    s3, sfn = client(endpoint, "s3"), client(endpoint, "stepfunctions")
    bucket = unique("flags")
    s3.create_bucket(Bucket=bucket)

    def flags(**values):
        for key, value in values.items():
            s3.put_object(Bucket=bucket, Key=key, Body=value.encode())

    flags(a="ok", b="bad", c="ok")
    machine = state_machine(endpoint, REDRIVE_DEFINITION)
    run_input = {"bucket": bucket, "keys": ["a", "b", "c"], "gate": True}
    arn = sfn.start_execution(stateMachineArn=machine, name=unique("run"), input=json.dumps(run_input))["executionArn"]
    first = finished(sfn, arn)
    assert (first["status"], first["error"]) == ("FAILED", "FlagNotOk")
    assert (first["redriveCount"], first["redriveStatus"]) == (0, "REDRIVABLE")
    assert "redriveDate" not in first
    events = history(sfn, arn)
    a_first = json.loads([e for e in events if e["type"] == "PassStateExited"
                          and e["stateExitedEventDetails"]["name"] == "Good"][0]["stateExitedEventDetails"]["output"])

    # "a" succeeded: it is not run again (it would fail now); "b" failed and "c" never ran: both rerun.
    flags(a="bad", b="ok")
    redriven = sfn.redrive_execution(executionArn=arn)["redriveDate"]
    second = finished(sfn, arn)
    assert (second["status"], second["error"]) == ("FAILED", "NotRedriven")  # now at the gate, after the Choice
    assert (second["redriveCount"], second["redriveDate"]) == (1, redriven)
    assert second["startDate"] == first["startDate"]

    sfn.redrive_execution(executionArn=arn)
    third = finished(sfn, arn)
    assert third["status"] == "SUCCEEDED", third
    assert (third["redriveCount"], third["redriveStatus"]) == (2, "NOT_REDRIVABLE")
    assert third["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven."
    output = json.loads(third["output"])
    assert [r["key"] for r in output["results"]] == ["a", "b", "c"]
    assert output["results"][0] == a_first  # the first run's result, kept
    assert len(output["gated"]) == 3

    events = history(sfn, arn)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))  # one history, continued
    assert [e["executionRedrivenEventDetails"]["redriveCount"] for e in events if e["type"] == "ExecutionRedriven"] == [1, 2]
    assert [e["type"] for e in events].count("ExecutionFailed") == 2
    assert len(entered(events, "Before")) == 1
    assert len(entered(events, "Items")) == 2 and len(entered(events, "Gate?")) == 1 and len(entered(events, "Gate")) == 2
    reads = [json.loads(e["stateEnteredEventDetails"]["input"])["key"] for e in entered(events, "Read")]
    assert reads == ["a", "b", "b", "c"]
    # The resumed Map had its first run's input.
    assert [e["stateEnteredEventDetails"]["input"] for e in entered(events, "Items")][0] == \
        [e["stateEnteredEventDetails"]["input"] for e in entered(events, "Items")][1]

    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [(e["executionArn"], e["redriveCount"]) for e in listed] == [(arn, 2)]
    assert sfn.list_executions(stateMachineArn=machine, redriveFilter="NOT_REDRIVEN")["executions"] == []
    assert len(sfn.list_executions(stateMachineArn=machine, redriveFilter="REDRIVEN")["executions"]) == 1


def test_only_failed_timed_out_or_aborted_standard_executions_are_redrivable(endpoint):
    sfn = client(endpoint, "stepfunctions")
    waiting = {"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Done"}, "Done": {"Type": "Succeed"}}}
    machine = state_machine(endpoint, waiting)
    arn = sfn.start_execution(stateMachineArn=machine, name=unique("run"), input='{"seconds": 30}')["executionArn"]
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["redriveCount"], described["redriveStatus"]) == ("RUNNING", 0, "NOT_REDRIVABLE")
    assert described["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven."
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=arn)
    assert error_code(e) == "ExecutionNotRedrivable"

    # Aborted during the Wait: a redrive resumes at the Wait, with the input it had.
    sfn.stop_execution(executionArn=arn)
    assert finished(sfn, arn)["status"] == "ABORTED"
    sfn.redrive_execution(executionArn=arn)
    events = history(sfn, arn)
    assert [e["type"] for e in events][-2:] == ["ExecutionRedriven", "WaitStateEntered"]
    assert json.loads(events[-1]["stateEnteredEventDetails"]["input"]) == {"seconds": 30}
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=arn)

    done = sfn.start_execution(stateMachineArn=machine, name=unique("run"), input='{"seconds": 0}')["executionArn"]
    assert finished(sfn, done)["status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=done)
    assert error_code(e) == "ExecutionNotRedrivable"
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=done + "-nope")
    assert error_code(e) == "ExecutionDoesNotExist"

    express = state_machine(endpoint, {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "E"}}}, kind="EXPRESS")
    failed = sfn.start_execution(stateMachineArn=express, name=unique("run"))["executionArn"]
    assert finished(sfn, failed)["status"] == "FAILED"
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=failed)
    assert error_code(e) == "ExecutionNotRedrivable"


def test_a_redrive_at_a_fail_state_fails_again_and_client_tokens_are_idempotent(endpoint):
    sfn = client(endpoint, "stepfunctions")
    machine = state_machine(endpoint, {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}], "Default": "Stop"},
        "Stop": {"Type": "Fail", "Error": "NotOk", "Cause": "not ok"},
        "Done": {"Type": "Succeed"}}})
    arn = sfn.start_execution(stateMachineArn=machine, name=unique("run"), input='{"ok": false}')["executionArn"]
    assert finished(sfn, arn)["error"] == "NotOk"
    first = sfn.redrive_execution(executionArn=arn, clientToken="token-1")["redriveDate"]
    again = finished(sfn, arn)
    assert (again["status"], again["error"], again["redriveCount"]) == ("FAILED", "NotOk", 1)
    assert sfn.redrive_execution(executionArn=arn, clientToken="token-1")["redriveDate"] == first
    assert finished(sfn, arn)["redriveCount"] == 1
    events = history(sfn, arn)
    assert len(entered(events, "Check")) == 1 and len(entered(events, "Stop")) == 2


# ---------------------------------------------------------------------------------------------------
# EventBridge PutEvents delivery


def queue_with_arn(endpoint, prefix):
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=unique(prefix))["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_put_events_delivers_to_lambda_and_sqs_targets_and_never_fails_for_a_target(endpoint, fake_lambda):
    events, sqs = client(endpoint, "events"), client(endpoint, "sqs")
    source = unique("cfinv.test")
    url, queue_arn = queue_with_arn(endpoint, "published")
    rule = unique("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source], "detail-type": ["Invalidation Completed"]}))
    events.put_targets(Rule=rule, Targets=[
        {"Id": "fn", "Arn": function(endpoint, "published")},
        {"Id": "constant", "Arn": function(endpoint, "constant"), "Input": '{"fixed": true}'},
        {"Id": "detail", "Arn": function(endpoint, "detail-only"), "InputPath": "$.detail"},
        {"Id": "shaped", "Arn": function(endpoint, "transformed"), "InputTransformer": {
            "InputPathsMap": {"when": "$.time", "dist": "$.detail.distribution"},
            "InputTemplate": '{"at": "<when>", "distribution": "<dist>"}'}},
        {"Id": "machine", "Arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:nothing-here"},
        {"Id": "gone", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue"},
        {"Id": "queue", "Arn": queue_arn},
    ])
    disabled = unique("off")
    events.put_rule(Name=disabled, EventPattern=json.dumps({"source": [source]}), State="DISABLED")
    events.put_targets(Rule=disabled, Targets=[{"Id": "fn", "Arn": function(endpoint, "disabled-rule")}])

    fake_lambda.gate.clear()
    gated = unique("gated-rule")
    events.put_rule(Name=gated, EventPattern=json.dumps({"source": [source], "detail-type": ["Slow"]}))
    events.put_targets(Rule=gated, Targets=[{"Id": "fn", "Arn": function(endpoint, "gated")}])
    started = time.time()
    out = events.put_events(Entries=[
        {"Source": source, "DetailType": "Invalidation Completed", "Detail": json.dumps({"distribution": "E1", "paths": 2})},
        {"Source": source, "DetailType": "Slow", "Detail": "{}"},
        {"Source": source, "DetailType": "Other", "Detail": "{}"},
    ])
    assert time.time() - started < 5, "PutEvents does not wait for the function"
    assert out["FailedEntryCount"] == 0 and len(out["Entries"]) == 3
    fake_lambda.gate.set()

    [event] = fake_lambda.wait_for("published", 1)
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["source"], event["detail-type"], event["account"], event["region"]) == (
        source, "Invalidation Completed", ACCOUNT, REGION)
    assert event["id"] == out["Entries"][0]["EventId"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["detail"] == {"distribution": "E1", "paths": 2}
    assert fake_lambda.wait_for("constant", 1) == [{"fixed": True}]
    assert fake_lambda.wait_for("detail-only", 1) == [{"distribution": "E1", "paths": 2}]
    assert fake_lambda.wait_for("transformed", 1) == [{"at": event["time"], "distribution": "E1"}]
    fake_lambda.wait_for("gated", 1)
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    body = json.loads(message["Body"])
    assert {k: body[k] for k in ("id", "account", "time", "detail")} == {k: event[k] for k in ("id", "account", "time", "detail")}
    time.sleep(0.3)
    assert "disabled-rule" not in fake_lambda.calls, "a disabled rule delivers nothing"

    _, listed = control_request(endpoint, "GET", "/_cfinv/events")
    ours = [e for e in listed["events"] if e["source"] == source]
    assert [e["detail-type"] for e in ours] == ["Invalidation Completed", "Slow", "Other"]
    assert ours[0]["detail"] == {"distribution": "E1", "paths": 2} and ours[0]["eventBusName"] == "default"
    assert ours[0]["id"] == event["id"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ours[0]["time"])


# ---------------------------------------------------------------------------------------------------
# CloudFront distributions, invalidation order and timing, cache tags, tenants

EDGE_FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rewrite:3"
VIEWER_FUNCTION = f"arn:aws:cloudfront::{ACCOUNT}:function/index-html"


def distribution_config(**extra):
    bucket = unique("origin")
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{bucket}.s3.amazonaws.com",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": CACHING_DISABLED},
        "Comment": "cfinv emulator tests",
        "Enabled": True,
    }
    config.update(extra)
    return config


def test_distributions_keep_function_associations_staging_and_connection_mode(endpoint):
    cf = client(endpoint, "cloudfront")
    edge = {"Quantity": 1, "Items": [{"LambdaFunctionARN": EDGE_FUNCTION, "EventType": "origin-request", "IncludeBody": False}]}
    viewer = {"Quantity": 1, "Items": [{"FunctionARN": VIEWER_FUNCTION, "EventType": "viewer-request"}]}
    config = distribution_config(
        DefaultCacheBehavior={"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": CACHING_DISABLED,
                              "LambdaFunctionAssociations": edge, "FunctionAssociations": viewer},
        CacheBehaviors={"Quantity": 2, "Items": [
            {"PathPattern": "/docs/*", "TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
             "CachePolicyId": CACHING_DISABLED, "FunctionAssociations": viewer},
            {"PathPattern": "/img/*", "TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
             "CachePolicyId": CACHING_DISABLED}]},
        CacheTagConfig={"HeaderName": "Edge-Cache-Tag"},
    )
    plain = cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    staging = cf.create_distribution(DistributionConfig=distribution_config(Staging=True))["Distribution"]["Id"]
    tenants = cf.create_distribution(DistributionConfig=distribution_config(ConnectionMode="tenant-only"))["Distribution"]["Id"]

    got = cf.get_distribution_config(Id=plain)["DistributionConfig"]
    assert got["DefaultCacheBehavior"]["LambdaFunctionAssociations"] == edge
    assert got["DefaultCacheBehavior"]["FunctionAssociations"] == viewer
    docs, img = got["CacheBehaviors"]["Items"]
    assert (docs["FunctionAssociations"], docs["LambdaFunctionAssociations"]) == (viewer, {"Quantity": 0})
    assert (img["FunctionAssociations"], img["LambdaFunctionAssociations"]) == ({"Quantity": 0}, {"Quantity": 0})
    assert got["CacheTagConfig"] == {"HeaderName": "Edge-Cache-Tag"}
    assert got["Staging"] is False

    summaries = {s["Id"]: s for s in cf.list_distributions()["DistributionList"]["Items"]}
    assert summaries[plain]["DefaultCacheBehavior"]["FunctionAssociations"] == viewer
    assert summaries[plain]["CacheBehaviors"]["Items"][0]["FunctionAssociations"] == viewer
    assert [summaries[d]["Staging"] for d in (plain, staging, tenants)] == [False, True, False]
    assert "ConnectionMode" not in summaries[plain] and summaries[tenants]["ConnectionMode"] == "tenant-only"
    by_mode = cf.list_distributions_by_connection_mode(ConnectionMode="tenant-only")["DistributionList"]["Items"]
    assert tenants in [d["Id"] for d in by_mode] and plain not in [d["Id"] for d in by_mode]


def test_invalidations_are_listed_newest_first_with_their_status(endpoint):
    cf = client(endpoint, "cloudfront")
    dist = distribution(endpoint)
    first = invalidate(endpoint, dist, ["/first"])
    time.sleep(INVALIDATION_SECONDS + 0.1)
    second = invalidate(endpoint, dist, ["/second"])
    listed = cf.list_invalidations(DistributionId=dist)["InvalidationList"]["Items"]
    assert [(i["Id"], i["Status"]) for i in listed] == [(second["Id"], "InProgress"), (first["Id"], "Completed")]
    page = cf.list_invalidations(DistributionId=dist, MaxItems="1")["InvalidationList"]
    assert [i["Id"] for i in page["Items"]] == [second["Id"]] and page["IsTruncated"]
    rest = cf.list_invalidations(DistributionId=dist, Marker=page["NextMarker"])["InvalidationList"]
    assert [i["Id"] for i in rest["Items"]] == [first["Id"]]


def test_completion_time_is_set_per_distribution_at_run_time(endpoint):
    cf = client(endpoint, "cloudfront")
    slow, fast = distribution(endpoint), distribution(endpoint)
    status, settings = control_request(endpoint, "POST", "/_cfinv/cloudfront/completion", {"distributionId": slow, "seconds": 3})
    assert status == 200 and settings["distributions"][slow] == 3 and settings["defaultSeconds"] == INVALIDATION_SECONDS
    slow_one = invalidate(endpoint, slow, [f"/s/{i}" for i in range(3000)])
    fast_one = invalidate(endpoint, fast, ["/f"])
    time.sleep(INVALIDATION_SECONDS + 0.2)
    assert cf.get_invalidation(DistributionId=fast, Id=fast_one["Id"])["Invalidation"]["Status"] == "Completed"
    assert cf.get_invalidation(DistributionId=slow, Id=slow_one["Id"])["Invalidation"]["Status"] == "InProgress"
    with pytest.raises(ClientError) as e:  # still counts toward the limit
        invalidate(endpoint, slow, ["/one/more"])
    assert error_code(e) == "TooManyInvalidationsInProgress"
    time.sleep(3 - INVALIDATION_SECONDS)
    assert cf.get_invalidation(DistributionId=slow, Id=slow_one["Id"])["Invalidation"]["Status"] == "Completed"
    invalidate(endpoint, slow, ["/one/more"])

    assert control_request(endpoint, "POST", "/_cfinv/cloudfront/completion", {"distributionId": slow, "seconds": None})[0] == 200
    assert slow not in control_request(endpoint, "GET", "/_cfinv/cloudfront/completion")[1]["distributions"]
    for bad in ({"seconds": None}, {"distributionId": slow, "seconds": -1}, {"distributionId": 3, "seconds": 1}, {"distributionId": slow, "seconds": "x"}):
        assert control_request(endpoint, "POST", "/_cfinv/cloudfront/completion", bad)[0] == 400, bad


def test_cache_tags_count_as_paths_never_as_wildcards(endpoint):
    cf = client(endpoint, "cloudfront")
    dist = cf.create_distribution(DistributionConfig=distribution_config(CacheTagConfig={"HeaderName": "Cache-Tag"}))["Distribution"]["Id"]
    invalidate(endpoint, dist, [f"/w/{i}/*" for i in range(15)])  # 15 wildcards in progress
    tags = [f"#product-{i}" for i in range(20)] + ["#odd*"]
    created = invalidate(endpoint, dist, tags)
    assert created["InvalidationBatch"]["Paths"]["Items"] == tags
    with pytest.raises(ClientError) as e:
        invalidate(endpoint, dist, ["/x/*"])
    assert error_code(e) == "TooManyInvalidationsInProgress"
    invalidate(endpoint, dist, [f"#t{i}" for i in range(3000 - 15 - 21)])  # 3000 items in progress
    with pytest.raises(ClientError) as e:
        invalidate(endpoint, dist, ["#one-more"])
    assert error_code(e) == "TooManyInvalidationsInProgress"
    with pytest.raises(ClientError) as e:
        invalidate(endpoint, distribution(endpoint), ["no-leading-slash"])
    assert error_code(e) == "InvalidArgument"


def test_distribution_tenants(endpoint):
    cf = client(endpoint, "cloudfront")
    parent = cf.create_distribution(DistributionConfig=distribution_config(ConnectionMode="tenant-only"))["Distribution"]["Id"]
    other = cf.create_distribution(DistributionConfig=distribution_config(ConnectionMode="tenant-only"))["Distribution"]["Id"]
    plain = distribution(endpoint)
    name = unique("shop")
    created = cf.create_distribution_tenant(
        DistributionId=parent, Name=name, Domains=[{"Domain": f"{name}.example.com"}],
        Parameters=[{"Name": "tenantName", "Value": name}], Tags={"Items": [{"Key": "team", "Value": "web"}]},
    )
    tenant = created["DistributionTenant"]
    assert re.fullmatch(r"dt_[A-Za-z0-9]{24}", tenant["Id"]) and created["ETag"]
    assert tenant["Arn"] == f"arn:aws:cloudfront::{ACCOUNT}:distribution-tenant/{tenant['Id']}"
    assert (tenant["DistributionId"], tenant["Name"], tenant["Enabled"]) == (parent, name, True)
    assert tenant["Domains"] == [{"Domain": f"{name}.example.com", "Status": "active"}]

    got = cf.get_distribution_tenant(Identifier=tenant["Id"])
    assert got["DistributionTenant"]["Parameters"] == [{"Name": "tenantName", "Value": name}]
    assert got["ETag"] == created["ETag"]
    assert cf.get_distribution_tenant(Identifier=tenant["Arn"])["DistributionTenant"]["Id"] == tenant["Id"]
    assert cf.get_distribution_tenant(Identifier=name)["DistributionTenant"]["Id"] == tenant["Id"]
    assert cf.list_tags_for_resource(Resource=tenant["Arn"])["Tags"]["Items"] == [{"Key": "team", "Value": "web"}]

    more = [cf.create_distribution_tenant(DistributionId=parent, Name=unique("t"), Domains=[{"Domain": f"{i}.{name}.example.com"}])
            ["DistributionTenant"]["Id"] for i in range(3)]
    cf.create_distribution_tenant(DistributionId=other, Name=unique("t"), Domains=[{"Domain": f"other.{name}.example.com"}])
    ours = [tenant["Id"], *more]
    first = cf.list_distribution_tenants(AssociationFilter={"DistributionId": parent}, MaxItems=3)
    assert [t["Id"] for t in first["DistributionTenantList"]] == ours[:3]
    assert first["NextMarker"] == ours[2]
    summary = first["DistributionTenantList"][0]
    assert "Parameters" not in summary and "Tags" not in summary and summary["ETag"] == created["ETag"]
    assert {"Id", "DistributionId", "Name", "Arn", "Domains", "Enabled", "CreatedTime", "LastModifiedTime"} <= set(summary)
    last = cf.list_distribution_tenants(AssociationFilter={"DistributionId": parent}, MaxItems=3, Marker=first["NextMarker"])
    assert [t["Id"] for t in last["DistributionTenantList"]] == ours[3:] and "NextMarker" not in last

    for call, code in [
        (lambda: cf.get_distribution_tenant(Identifier="dt_nope"), "EntityNotFound"),
        (lambda: cf.create_distribution_tenant(DistributionId=plain, Name=unique("t"), Domains=[{"Domain": "x.example.com"}]), "InvalidArgument"),
        (lambda: cf.create_distribution_tenant(DistributionId="ENOPE", Name=unique("t"), Domains=[{"Domain": "x.example.com"}]), "EntityNotFound"),
        (lambda: cf.create_distribution_tenant(DistributionId=parent, Name=name, Domains=[{"Domain": "x.example.com"}]), "EntityAlreadyExists"),
    ]:
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == code

    updated = cf.update_distribution_tenant(Id=more[0], IfMatch=cf.get_distribution_tenant(Identifier=more[0])["ETag"],
                                            Parameters=[{"Name": "tenantName", "Value": "renamed"}], Enabled=False)
    assert updated["DistributionTenant"]["Parameters"] == [{"Name": "tenantName", "Value": "renamed"}]
    with pytest.raises(ClientError) as e:
        cf.delete_distribution_tenant(Id=more[0], IfMatch="stale")
    assert error_code(e) == "PreconditionFailed"
    cf.delete_distribution_tenant(Id=more[0], IfMatch=updated["ETag"])
    with pytest.raises(ClientError) as e:
        cf.delete_distribution_tenant(Id=tenant["Id"], IfMatch=created["ETag"])
    assert error_code(e) == "ResourceNotDisabled"


def test_invalidations_for_distribution_tenants(endpoint):
    cf = client(endpoint, "cloudfront")
    parent = cf.create_distribution(DistributionConfig=distribution_config(ConnectionMode="tenant-only"))["Distribution"]["Id"]

    def tenant():
        name = unique("tenant")
        return cf.create_distribution_tenant(DistributionId=parent, Name=name, Domains=[{"Domain": f"{name}.example.com"}])["DistributionTenant"]["Id"]

    one, two = tenant(), tenant()

    def invalidate_tenant(tenant_id, paths, ref):
        return cf.create_invalidation_for_distribution_tenant(
            Id=tenant_id, InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": ref})

    created = invalidate_tenant(one, ["/index.html", "#home"], "ref-1")
    inv = created["Invalidation"]
    assert inv["Status"] == "InProgress"
    assert created["Location"].endswith(f"/distribution-tenant/{one}/invalidation/{inv['Id']}")
    assert invalidate_tenant(one, ["/index.html", "#home"], "ref-1")["Invalidation"]["Id"] == inv["Id"]
    with pytest.raises(ClientError) as e:
        invalidate_tenant(one, ["/other"], "ref-1")
    assert error_code(e) == "InvalidationBatchAlreadyExists"
    assert invalidate_tenant(two, ["/other"], "ref-1")["Invalidation"]["Id"] != inv["Id"]  # per tenant

    got = cf.get_invalidation_for_distribution_tenant(DistributionTenantId=one, Id=inv["Id"])["Invalidation"]
    assert got["InvalidationBatch"] == {"Paths": {"Quantity": 2, "Items": ["/index.html", "#home"]}, "CallerReference": "ref-1"}
    with pytest.raises(ClientError) as e:
        cf.get_invalidation_for_distribution_tenant(DistributionTenantId=two, Id=inv["Id"])
    assert error_code(e) == "NoSuchInvalidation"
    later = invalidate_tenant(one, [f"/w/{i}/*" for i in range(15)], "ref-2")["Invalidation"]
    with pytest.raises(ClientError) as e:
        invalidate_tenant(one, ["/x/*"], "ref-3")
    assert error_code(e) == "TooManyInvalidationsInProgress"
    invalidate_tenant(two, ["/x/*"], "ref-3")  # the other tenant's limit is its own
    listed = cf.list_invalidations_for_distribution_tenant(Id=one)["InvalidationList"]
    assert [i["Id"] for i in listed["Items"]] == [later["Id"], inv["Id"]] and listed["Quantity"] == 2
    assert cf.list_invalidations(DistributionId=parent)["InvalidationList"]["Quantity"] == 0
    time.sleep(INVALIDATION_SECONDS + 0.1)
    assert cf.get_invalidation_for_distribution_tenant(DistributionTenantId=one, Id=inv["Id"])["Invalidation"]["Status"] == "Completed"
    invalidate_tenant(one, ["/x/*"], "ref-3")
    with pytest.raises(ClientError) as e:
        cf.list_invalidations_for_distribution_tenant(Id="dt_nope")
    assert error_code(e) == "EntityNotFound"


# ---------------------------------------------------------------------------------------------------
# CloudWatch alarms


def test_set_alarm_state_runs_the_new_state_s_sns_actions(endpoint):
    cw, sns = client(endpoint, "cloudwatch"), client(endpoint, "sns")
    alarm_topic = sns.create_topic(Name=unique("alarm"))["TopicArn"]
    ok_topic = sns.create_topic(Name=unique("ok"))["TopicArn"]
    name = unique("queue-age")
    cw.put_metric_alarm(
        AlarmName=name, AlarmDescription="events wait too long", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": "cfinv-events"}], Statistic="Maximum", Period=60, EvaluationPeriods=1,
        Threshold=900, ComparisonOperator="GreaterThanThreshold", AlarmActions=[alarm_topic], OKActions=[ok_topic],
    )
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"

    def published(topic):
        return [m for m in control_request(endpoint, "GET", "/_cfinv/sns")[1]["messages"] if m["topicArn"] == topic]

    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: too old")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: still too old")  # no change: no action
    [message] = published(alarm_topic)
    assert message["subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    body = json.loads(message["message"])
    assert (body["AlarmName"], body["NewStateValue"], body["OldStateValue"], body["NewStateReason"]) == (
        name, "ALARM", "INSUFFICIENT_DATA", "test: too old")
    assert body["AWSAccountId"] == ACCOUNT and body["Trigger"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert cw.describe_alarms(StateValue="ALARM", AlarmNamePrefix=name)["MetricAlarms"][0]["AlarmName"] == name
    assert published(ok_topic) == []
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test: fine")
    assert [json.loads(m["message"])["OldStateValue"] for m in published(ok_topic)] == ["ALARM"]


# ---------------------------------------------------------------------------------------------------
# S3 versions: versionId in notifications, delete markers, lifecycle expirations, user metadata


def notified_bucket(endpoint, fake_lambda_binary, versioned):
    s3, events = client(endpoint, "s3"), client(endpoint, "events")
    bucket = unique("versions")
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"Id": "cfinv", "LambdaFunctionArn": function(endpoint, fake_lambda_binary),
                                          "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"]}],
        "EventBridgeConfiguration": {},
    })
    rule = unique("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created", "Object Deleted"],
                                                         "detail": {"bucket": {"name": [bucket]}}}))
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": function(endpoint, fake_lambda_binary + "-bridged")}])
    return bucket


def records(fake_lambda, binary, count):
    got = fake_lambda.wait_for(binary, count)
    time.sleep(0.3)
    assert len(fake_lambda.calls[binary]) == count, fake_lambda.calls[binary]
    return [r for e in got for r in e["Records"]]


def test_versioned_notifications_carry_the_version_and_lifecycle_expirations_send_theirs(endpoint, fake_lambda):
    s3 = client(endpoint, "s3")
    binary = unique("versioned")
    bucket = notified_bucket(endpoint, binary, versioned=True)
    v1 = s3.put_object(Bucket=bucket, Key="page.html", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="page.html", Body=b"two")["VersionId"]
    created = sorted(records(fake_lambda, binary, 2), key=lambda r: r["s3"]["object"]["versionId"] == v2)
    assert [(r["eventName"], r["s3"]["object"]["versionId"]) for r in created] == [("ObjectCreated:Put", v1), ("ObjectCreated:Put", v2)]

    marker = s3.delete_object(Bucket=bucket, Key="page.html")["VersionId"]
    [record] = records(fake_lambda, binary, 3)[2:]
    assert (record["eventName"], record["s3"]["object"]["versionId"]) == ("ObjectRemoved:DeleteMarkerCreated", marker)
    assert "size" not in record["s3"]["object"] and "eTag" not in record["s3"]["object"]

    s3.delete_object(Bucket=bucket, Key="page.html", VersionId=v1)  # a noncurrent version, not the key's last
    [record] = records(fake_lambda, binary, 4)[3:]
    assert (record["eventName"], record["s3"]["object"]["versionId"]) == ("ObjectRemoved:Delete", v1)

    status, body = control_request(endpoint, "POST", "/_cfinv/s3/lifecycle-expiration", {"bucket": bucket, "key": "page.html", "versionId": v2})
    assert (status, body) == (200, {"expired": True})
    [record] = records(fake_lambda, binary, 5)[4:]
    assert (record["eventName"], record["s3"]["object"]["versionId"]) == ("LifecycleExpiration:Delete", v2)
    assert record["userIdentity"]["principalId"] == "s3.amazonaws.com"
    assert record["requestParameters"]["sourceIPAddress"] == "s3.amazonaws.com"
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket).get("Versions", [])] == []

    bridged = fake_lambda.wait_for(binary + "-bridged", 5)
    by_version = {e["detail"]["object"]["version-id"]: e for e in bridged}
    assert set(by_version) == {v1, v2, marker}
    assert by_version[marker]["detail"]["deletion-type"] == "Delete Marker Created"
    lifecycle = [e for e in bridged if e["detail"]["reason"] == "Lifecycle Expiration"]
    assert [(e["detail"]["object"]["version-id"], e["detail"]["deletion-type"], e["detail"]["requester"]) for e in lifecycle] == [
        (v2, "Permanently Deleted", "s3.amazonaws.com")]
    assert "source-ip-address" not in lifecycle[0]["detail"]


def test_unversioned_notifications_have_no_version_and_lifecycle_deletes(endpoint, fake_lambda):
    s3 = client(endpoint, "s3")
    binary = unique("unversioned")
    bucket = notified_bucket(endpoint, binary, versioned=False)
    s3.put_object(Bucket=bucket, Key="a.css", Body=b"a")
    s3.put_object(Bucket=bucket, Key="b.css", Body=b"b")
    s3.delete_object(Bucket=bucket, Key="a.css")
    assert control_request(endpoint, "POST", "/_cfinv/s3/lifecycle-expiration", {"bucket": bucket, "key": "b.css"}) == (200, {"expired": True})
    got = records(fake_lambda, binary, 4)
    assert sorted((r["eventName"], r["s3"]["object"]["key"]) for r in got) == [
        ("LifecycleExpiration:Delete", "b.css"), ("ObjectCreated:Put", "a.css"), ("ObjectCreated:Put", "b.css"),
        ("ObjectRemoved:Delete", "a.css")]
    assert all("versionId" not in r["s3"]["object"] for r in got)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert control_request(endpoint, "POST", "/_cfinv/s3/lifecycle-expiration", {"bucket": bucket})[0] == 400
    assert control_request(endpoint, "POST", "/_cfinv/s3/lifecycle-expiration", {"bucket": unique("none"), "key": "k"})[0] == 404


def test_head_object_returns_user_metadata(endpoint):
    s3 = client(endpoint, "s3")
    bucket = unique("meta")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"cfinv-hash": "abc", "Mixed-Case": "V"}, CacheControl="max-age=60")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["Metadata"] == {"cfinv-hash": "abc", "mixed-case": "V"}
    assert head["CacheControl"] == "max-age=60"
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-cfinv-hash"] == "abc"


def test_tenant_config_and_parameters_come_back_as_the_cli_prints_them(endpoint):
    # What collect reads for a multi-tenant distribution: TenantConfig's parameter defaults
    # (GetDistributionConfig), and each tenant's Parameters (GetDistributionTenant; the summaries of
    # ListDistributionTenants leave them out).
    cf = client(endpoint, "cloudfront")
    definitions = [{"Name": "site", "Definition": {"StringSchema": {"Required": False, "DefaultValue": "shared"}}}]
    config = distribution_config(
        ConnectionMode="tenant-only",
        TenantConfig={"ParameterDefinitions": definitions},
        CacheTagConfig={"HeaderName": "x-amz-meta-cache-tag"},
    )
    dist = cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    got = cf.get_distribution_config(Id=dist)["DistributionConfig"]
    assert got["TenantConfig"] == {"ParameterDefinitions": definitions}
    assert got["CacheTagConfig"] == {"HeaderName": "x-amz-meta-cache-tag"}
    name = f"t{uuid.uuid4().hex[:8]}"
    tenant = cf.create_distribution_tenant(
        DistributionId=dist, Name=name, Domains=[{"Domain": f"{name}.example.com"}],
        Parameters=[{"Name": "site", "Value": name}],
    )["DistributionTenant"]
    raw = []
    cf.meta.events.register("after-call.cloudfront.ListDistributionTenants",
                            lambda http_response, **_: raw.append(http_response.content.decode()))
    listed = cf.list_distribution_tenants(AssociationFilter={"DistributionId": dist})["DistributionTenantList"]
    # No payload member: the document's root is the output shape's name, as the SDKs expect.
    assert "<ListDistributionTenantsResult" in raw[0], raw[0][:200]
    assert [t["Id"] for t in listed] == [tenant["Id"]] and "Parameters" not in listed[0]
    full = cf.get_distribution_tenant(Identifier=tenant["Id"])["DistributionTenant"]
    assert full["Parameters"] == [{"Name": "site", "Value": name}]


# ---------------------------------------------------------------------------------------------------
# stack.py: starting and stopping the whole stack (make local, make local-up, the end-to-end tests)


def fake_processes(monkeypatch, tmp_path):
    """stack.py's subprocess with a Popen that starts nothing and records what was started and
    terminated; the emulator and the functions answer at once. Returns the started processes."""
    started = []

    class FakeProcess:
        def __init__(self, args, **_kwargs):
            self.args, self.returncode = args, None
            started.append(self)

        def poll(self):
            return self.returncode

        def terminate(self):
            self.returncode = -15

        def kill(self):
            self.returncode = -9

        def wait(self, timeout=None):
            return self.returncode

    monkeypatch.setattr(stack, "subprocess", types.SimpleNamespace(
        Popen=FakeProcess, STDOUT=subprocess.STDOUT, TimeoutExpired=subprocess.TimeoutExpired))
    monkeypatch.setattr(stack, "wait_for", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(stack, "wait_for_port", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(stack, "ROOT", tmp_path)
    return started


def role_exists(_stack):
    raise ClientError({"Error": {"Code": "EntityAlreadyExists", "Message": "Role with name cfinv already exists."}},
                      "CreateRole")


def test_a_failed_deploy_shows_its_own_error_and_stops_what_was_started(monkeypatch, tmp_path):
    # The finally of running_stack read a schedule never set (UnboundLocalError hid the real error)
    # and so never terminated cargo lambda watch, which lived on orphaned.
    started = fake_processes(monkeypatch, tmp_path)
    monkeypatch.setattr(stack.Stack, "deploy", role_exists)
    with pytest.raises(ClientError, match="EntityAlreadyExists"):
        with stack.running_stack(logs="logs"):
            pytest.fail("a stack that did not deploy is not yielded")
    watch, emulator = started
    assert watch.args[1:3] == ["lambda", "watch"] and emulator.args[1].endswith("emulator.py")
    assert [p.returncode for p in started] == [-15, -15], "every process started is terminated"


def test_a_busy_port_fails_at_once_in_one_line(monkeypatch, tmp_path):
    # A second `make local-up` met the first one's emulator on port 5000 and failed in its deploy
    # (EntityAlreadyExists: Role cfinv), leaking a cargo lambda watch.
    started = fake_processes(monkeypatch, tmp_path)
    monkeypatch.setattr(stack.Stack, "deploy", role_exists)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as failed:
            with stack.running_stack(moto_port=port, logs="logs"):
                pytest.fail("a stack on a busy port is not yielded")
    assert str(failed.value) == f"port {port} is in use: is another `make local-up` running? stop it or choose another (make local-up PORT=5001)"
    assert started == [], "nothing is started"
    # A SystemExit with a message: Python prints that line alone (no traceback) and exits with status 1.
    script = f"import sys; sys.path.insert(0, {str(HERE)!r}); import stack; stack.check_port_free({port})"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"{failed.value}\n")
    stack.check_port_free(port)  # free again
