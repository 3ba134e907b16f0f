"""The whole pipeline on one machine: the emulated AWS, the real function binaries behind
`cargo lambda watch`, and the stack deployed into the emulator as the deployment wires it.

Used by the end-to-end tests (tests/e2e) and by `make local` (tests/local/demo.py). Needs the debug
binaries (`cargo build --workspace`) and the venv (`make venv`).
"""

import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import contextlib

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTIONS = ["ingest", "collect", "invalidate", "report", "sweep"]
# Instances of each function `cargo lambda watch` runs, and invocations of each function the emulator
# has in flight at most (the rest wait in the emulator, in order; see cfinv_emulator.lambda_bridge).
LAMBDA_CONCURRENCY = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortInUse(SystemExit):
    """A port the stack needs is taken: one line, no traceback, exit status 1."""


def check_port_free(port):
    """Fails with PortInUse when something listens on 127.0.0.1:`port` (a stopped server's connections
    in TIME_WAIT do not count, as for the server itself)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(f"port {port} is in use: is another `make local-up` running? stop it or choose another (make local-up PORT=5001)") from None


def stop(processes):
    """Terminates each process started (None: not started), then kills any not gone within 10 s."""
    for p in processes:
        if p is not None and p.poll() is None:
            p.terminate()
    for p in processes:
        if p is None:
            continue
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_for(url, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def wait_for_port(port, seconds=120):
    """A TCP connect only: any HTTP request to cargo lambda watch would start a function."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"port {port} did not open within {seconds} s")


class Stack:
    """Names and clients of the deployed stack."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="cfinv", aws_secret_access_key="cfinv")
        self.s3 = boto3.client("s3", **kw)
        self.sqs = boto3.client("sqs", **kw)
        self.sns = boto3.client("sns", **kw)
        self.sfn = boto3.client("stepfunctions", **kw)
        self.cf = boto3.client("cloudfront", **kw)
        self.lam = boto3.client("lambda", **kw)
        self.iam = boto3.client("iam", **kw)
        self.events = boto3.client("events", **kw)
        self.cfn = boto3.client("cloudformation", **kw)
        self.cloudwatch = boto3.client("cloudwatch", **kw)
        self.routed = set()
        self.logs = ROOT / "target/e2e-logs"
        self.sweeps_paused = threading.Event()
        self.queue_name = "cfinv-events"
        self.queue_url = f"{endpoint}/{ACCOUNT}/{self.queue_name}"
        self.dead_letter_url = f"{endpoint}/{ACCOUNT}/cfinv-dead-letters"
        self.ingest_failures_url = f"{endpoint}/{ACCOUNT}/cfinv-ingest-failures"
        self.plan_bucket = "cfinv-plans"
        self.error_bucket = "cfinv-errors"
        self.topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:cfinv-alerts"
        self.state_machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:cfinv"
        # The CloudFormation stack the operator commands find by name (`cfinv status --stack cfinv`).
        self.stack_name = "cfinv"
        self.alarm_names = [f"cfinv-{a}" for a in ("FailedExecutionsAlarm", "TimedOutExecutionsAlarm", "DeadLetterAlarm", "IngestFailureAlarm", "OldestChangeAlarm", "LiveLatencyAlarm")]

    def function_arn(self, name):
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:cfinv-{name}"

    def function_env(self):
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "cfinv",
            "AWS_SECRET_ACCESS_KEY": "cfinv",
            "CFINV_QUEUE_URL": self.queue_url,
            "CFINV_DEAD_LETTER_QUEUE_URL": self.dead_letter_url,
            "CFINV_STATE_MACHINE_ARN": self.state_machine_arn,
            "CFINV_PLAN_BUCKET": self.plan_bucket,
            "CFINV_ERROR_BUCKET": self.error_bucket,
            "CFINV_TOPIC_ARN": self.topic_arn,
            "CFINV_WINDOW_SECONDS": "2",
            "CFINV_SETTLE_SECONDS": "1",
            "CFINV_RECEIVE_WAIT_SECONDS": "1",
            "CFINV_EMPTY_RECEIVES": "2",
            "CFINV_COLLECT_SECONDS": "10",
            "CFINV_VISIBILITY_TIMEOUT_SECONDS": "60",
            "CFINV_TAG_CACHE_SECONDS": "0",
            "CFINV_STACK": "cfinv-local",
            "CFINV_MAP_CONCURRENCY": "4",
            "CFINV_POLL_SECONDS": "1",
            "CFINV_CAPACITY_WAIT_SECONDS": "1",
            "CFINV_MAX_WAIT_SECONDS": "4",
            # Small enough that a run of more than one page continues in a second execution, as a
            # deployed run past 15,000 history events does.
            "CFINV_HISTORY_BUDGET": "30",
            "CFINV_SWEEP_CONFIRM_SECONDS": "2",
        }

    def deploy(self):
        self.iam.create_role(RoleName="cfinv", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        role = f"arn:aws:iam::{ACCOUNT}:role/cfinv"
        self.sqs.create_queue(QueueName=self.queue_name)
        self.sqs.create_queue(QueueName="cfinv-dead-letters")
        self.sqs.create_queue(QueueName="cfinv-ingest-failures")
        self.sns.create_topic(Name="cfinv-alerts")
        for bucket in (self.plan_bucket, self.error_bucket):
            self.s3.create_bucket(Bucket=bucket)
        for name in FUNCTIONS:
            self.lam.create_function(
                FunctionName=f"cfinv-{name}",
                Runtime="provided.al2023",
                Role=role,
                Handler="bootstrap",
                Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
                Environment={"Variables": {"CFINV_BINARY": name}},
                Timeout=900,
            )
        settings = {
            "CollectFunctionArn": self.function_arn("collect"),
            "InvalidateFunctionArn": self.function_arn("invalidate"),
            "ReportFunctionArn": self.function_arn("report"),
        }
        args = [str(ROOT / "target/debug/cfinv"), "statemachine"]
        for k, v in settings.items():
            args += ["--set", f"{k}={v}"]
        definition = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        self.sfn.create_state_machine(name="cfinv", definition=definition, roleArn=role, type="STANDARD")
        self.register()

    def register(self):
        """The stack as CloudFormation describes a deployed one: the outputs and parameters of
        infra/template.yaml, naming the resources deploy() made (the emulator's CloudFormation cannot
        create them itself), and the six alarms (on the metrics the template's alarm)."""
        for name, namespace, metric in zip(
            self.alarm_names,
            ["AWS/States", "AWS/States", "AWS/SQS", "AWS/SQS", "AWS/SQS", "cfinv"],
            ["ExecutionsFailed", "ExecutionsTimedOut", "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesVisible",
             "ApproximateAgeOfOldestMessage", "EventToCompletedSeconds"],
        ):
            self.cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace=namespace, MetricName=metric, Statistic="Sum", Period=300,
                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                AlarmActions=[self.topic_arn],
            )
        parameters = {"WindowSeconds": "2", "DefaultExceptionPaths": "", "CostPolicy": "compact", "MaxItems": "15",
                      "MaxSetSize": "3000", "AllowBroadWildcards": "false"}
        outputs = {
            "IngestFunctionArn": self.function_arn("ingest"),
            "StateMachineArn": self.state_machine_arn,
            "ErrorBucketName": self.error_bucket,
            "PlanBucketName": self.plan_bucket,
            "AlertTopicArn": self.topic_arn,
            "EventQueueUrl": self.queue_url,
            "DeadLetterQueueUrl": self.dead_letter_url,
            "IngestFailureQueueUrl": self.ingest_failures_url,
            "AlarmNames": ",".join(self.alarm_names),
        }
        template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {k: {"Type": "String"} for k in parameters},
            "Resources": {},
            "Outputs": {k: {"Value": v} for k, v in outputs.items()},
        }
        self.cfn.create_stack(StackName=self.stack_name, TemplateBody=json.dumps(template),
                              Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])

    def start_schedule(self, seconds):
        """The stack's SweepSchedule rule (every minute on AWS): the emulator runs no schedules, so a
        thread invokes the sweeper, through the emulated Lambda API, every `seconds`."""
        stop = threading.Event()
        self.sweeps_paused = threading.Event()

        def sweep():
            while not stop.wait(seconds):
                if self.sweeps_paused.is_set():
                    continue
                try:
                    self.lam.invoke(FunctionName=self.function_arn("sweep"), Payload=b"{}")
                except Exception:  # the emulator is stopping
                    pass

        threading.Thread(target=sweep, daemon=True).start()
        return stop

    @contextlib.contextmanager
    def no_sweeps(self):
        """Holds the schedule while one ingest call queues thousands of events (a deployed ingest
        gets one event per call): otherwise a sweep in the middle finds queued events, no execution
        yet, and starts one, splitting the batch."""
        self.sweeps_paused.set()
        try:
            yield
        finally:
            self.sweeps_paused.clear()

    def sweeps(self):
        """What the sweeper did, from its log lines in the functions' log."""
        log = (self.logs / "cargo-lambda.log").read_text(errors="replace")
        return [l for l in log.splitlines() if "no execution coming for them" in l]

    def route(self, buckets=None):
        """The stack's EventBridge rule, as infra/template.yaml's ObjectChangeRule: the object changes
        of `buckets` (its Buckets parameter; None: every bucket, for local-up) go to ingest."""
        pattern = {"source": ["aws.s3"], "detail-type": ["Object Created", "Object Deleted"]}
        if buckets is not None:
            pattern["detail"] = {"bucket": {"name": sorted(buckets)}}
        self.events.put_rule(Name="cfinv-object-changes", EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule="cfinv-object-changes", Targets=[{"Id": "ingest", "Arn": self.function_arn("ingest")}])

    def cfinv(self, *args, env=None, check=True):
        """Runs the cfinv CLI against the emulator, as an operator would against AWS: its stdout, or
        with check=False the CompletedProcess (exit code, stdout, stderr)."""
        env = {**os.environ, "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": REGION,
               "AWS_ACCESS_KEY_ID": "cfinv", "AWS_SECRET_ACCESS_KEY": "cfinv", **(env or {})}
        done = subprocess.run([str(ROOT / "target/debug/cfinv"), *args], env=env, check=check, capture_output=True, text=True)
        return done.stdout if check else done

    def site(self, name, exception_paths=None):
        """A bucket connected as the deployment connects one: named in the rule (the stack's Buckets
        parameter), then `cfinv connect-bucket` (EventBridge, optionally with exceptionPaths)."""
        bucket = f"{name}-{uuid.uuid4().hex[:8]}"
        self.s3.create_bucket(Bucket=bucket)
        self.routed.add(bucket)
        self.route(self.routed)
        args = ["connect-bucket", "--bucket", bucket]
        if exception_paths is not None:
            args += ["--exception-paths", exception_paths]
        self.cfinv(*args)
        return bucket

    def distribution(self, bucket, origin_path="", behaviors=(), tags=None, api_paths=()):
        """A distribution with one S3 origin for the bucket; behaviors are (pattern, cache policy id)
        on it; `api_paths` patterns go to a custom API origin; `tags` are its resource tags."""
        items = [
            {"PathPattern": p, "TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": c}
            for p, c in behaviors
        ]
        items += [
            {"PathPattern": p, "TargetOriginId": "api", "ViewerProtocolPolicy": "allow-all",
             "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}
            for p in api_paths
        ]
        origins = [{"Id": "s3", "DomainName": f"{bucket}.s3.amazonaws.com", "OriginPath": origin_path,
                    "S3OriginConfig": {"OriginAccessIdentity": ""}}]
        if api_paths:
            origins.append({"Id": "api", "DomainName": "api.example.com",
                            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}})
        config = {
            "CallerReference": uuid.uuid4().hex,
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
            "CacheBehaviors": {"Quantity": len(items), "Items": items},
            "Comment": "cfinv e2e",
            "Enabled": True,
        }
        if tags:
            tagged = {"DistributionConfig": config,
                      "Tags": {"Items": [{"Key": k, "Value": v} for k, v in tags.items()]}}
            return self.cf.create_distribution_with_tags(DistributionConfigWithTags=tagged)["Distribution"]["Id"]
        return self.cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]

    def fault(self, service, operation, code, count, match, message=None):
        fault = {"service": service, "operation": operation, "code": code, "count": count, "match": match}
        if message:
            fault["message"] = message
        body = json.dumps(fault)
        req = urllib.request.Request(f"{self.endpoint}/_cfinv/faults", data=body.encode(), method="POST")
        urllib.request.urlopen(req).read()

    def clear_faults(self):
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/_cfinv/faults", method="DELETE")).read()

    def bus_events(self, detail_type=None):
        """cfinv's events put on the bus (source `cfinv`), optionally of one detail-type."""
        with urllib.request.urlopen(f"{self.endpoint}/_cfinv/events") as r:
            events = json.load(r)["events"]
        return [e for e in events if e.get("source") == "cfinv" and detail_type in (None, e.get("detail-type"))]

    def completion_seconds(self, distribution_id, seconds):
        """How long the distribution's next invalidations stay InProgress in the emulator."""
        body = json.dumps({"distributionId": distribution_id, "seconds": seconds}).encode()
        req = urllib.request.Request(f"{self.endpoint}/_cfinv/cloudfront/completion", data=body, method="POST")
        urllib.request.urlopen(req).read()

    def sns_messages(self):
        with urllib.request.urlopen(f"{self.endpoint}/_cfinv/sns") as r:
            return json.load(r)["messages"]

    def invalidations(self, distribution_id):
        listed = self.cf.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
        return listed.get("Items", [])

    def invalidated_paths(self, distribution_id):
        out = []
        listed = self.cf.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
        for item in listed.get("Items", []):
            inv = self.cf.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"]
            out += inv["InvalidationBatch"]["Paths"].get("Items", [])
        return sorted(out)

    def wait_for_paths(self, distribution_id, expected, seconds=90):
        deadline = time.time() + seconds
        while time.time() < deadline:
            got = self.invalidated_paths(distribution_id)
            if sorted(set(got)) == sorted(expected):
                return got
            time.sleep(1)
        raise AssertionError(f"{distribution_id}: expected {sorted(expected)}, got {self.invalidated_paths(distribution_id)}")


@contextlib.contextmanager
def running_stack(moto_port=None, lambda_port=None, invalidation_seconds="2", sweep_seconds=5, logs="target/e2e-logs"):
    """Starts the emulator and the functions, deploys the stack, yields it, and stops everything it
    started, whatever fails. A port given that is in use fails at once (PortInUse): otherwise this
    stack's deploy would meet another's emulator answering there."""
    python = os.environ.get("CFINV_PYTHON", str(ROOT / ".venv/bin/python"))
    cargo_lambda = str(Path(python).parent / "cargo-lambda")
    for port in (moto_port, lambda_port):
        if port:
            check_port_free(port)
    moto_port, lambda_port = moto_port or free_port(), lambda_port or free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    logs = ROOT / logs
    logs.mkdir(parents=True, exist_ok=True)
    s = Stack(endpoint)
    s.logs = logs
    env_args = []
    for k, v in s.function_env().items():
        env_args += ["--env-var", f"{k}={v}"]
    watch = emulator = schedule = None
    try:
        watch = subprocess.Popen(
            [cargo_lambda, "lambda", "watch", "--ignore-changes", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
             "--invoke-port", str(lambda_port), "--concurrency", str(LAMBDA_CONCURRENCY), *env_args],
            cwd=ROOT, stdout=open(logs / "cargo-lambda.log", "w"), stderr=subprocess.STDOUT,
            env={**os.environ, "CARGO_TARGET_DIR": str(ROOT / "target")},
        )
        emulator = subprocess.Popen(
            [python, str(ROOT / "tests/emulator/emulator.py"), "--port", str(moto_port), "--parent-pid", str(os.getpid())],
            stdout=open(logs / "emulator.log", "w"), stderr=subprocess.STDOUT,
            env={**os.environ, "CFINV_LAMBDA_ENDPOINT": f"http://127.0.0.1:{lambda_port}",
                 "CFINV_LAMBDA_CONCURRENCY": str(LAMBDA_CONCURRENCY),
                 "CFINV_EMU_INVALIDATION_SECONDS": invalidation_seconds},
        )
        wait_for(f"{endpoint}/_cfinv/health")
        wait_for_port(lambda_port)
        s.deploy()
        schedule = s.start_schedule(sweep_seconds) if sweep_seconds else None
        yield s
    finally:
        if schedule is not None:
            schedule.set()
        stop([emulator, watch])
