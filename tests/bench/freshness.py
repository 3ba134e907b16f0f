"""Freshness of a big deploy on one distribution against CloudFront's in-progress limits (issue 12).

    python tests/bench/freshness.py --worktree PATH --seconds 25 --paths 20000 [--waits deployed|local] [--json]

Starts the emulated AWS and the real function binaries of the cfinv checkout at PATH (its own
tests/emulator/stack.py, its target/debug binaries: run `cargo build --workspace` there first),
creates one distribution tagged cfinv:policy=exact whose invalidations stay InProgress for
`--seconds`, and sends `--paths` changed objects to ingest in ONE invoke (one S3 notification with
every record, as tests/e2e does for its 7000-event burst). Then it watches CloudFront every 0.5 s
(ListInvalidations, GetInvalidation for what is new) until every path is in a Completed
invalidation and every execution has ended, and prints one Markdown row (or JSON with --json):

- sets: invalidations CloudFront accepted (201), and sets the run reported failed (the Report
  state's failedCount summed over the run's executions; the old design also counts its SetFailed
  states, the larger is shown);
- CreateInvalidation calls, and of those answered TooManyInvalidationsInProgress: the emulator's
  access log (`POST /2020-05-31/distribution/<id>/invalidation` lines: 201 accepted, 400 the
  emulator's TooManyInvalidationsInProgress, the only 400 these plain paths can get);
- state transitions: `*StateEntered` events over every execution of the run (GetExecutionHistory),
  and Task retries (TaskScheduled minus TaskStateEntered), which AWS bills as transitions too;
- the time from the end of the ingest invoke (the last upload) to the poll that first saw every
  path of the deploy in a Completed invalidation (all live), and from the first invalidation seen
  to that moment (the part CloudFront's
  limits govern; before it, the window and collect's drain of the queue).

The design is told by the checkout: the old one (statemachine placeholders such as
${BusyRetrySeconds}) has its retries in the definition, the new one its waits in the functions'
environment. `--waits deployed` (the default) runs either with what its infra/template.yaml deploys
on AWS: the old definition rendered with MapConcurrency 2, ThrottleRetrySeconds 2,
ThrottleMaxAttempts 8, BusyRetrySeconds 30, BusyMaxAttempts 10, MaxRetryDelaySeconds 300,
CollectCrashRetrySeconds 330; the new functions with CFINV_POLL_SECONDS 5,
CFINV_CAPACITY_WAIT_SECONDS 10, CFINV_MAX_WAIT_SECONDS 60, CFINV_MAP_CONCURRENCY 10; and both
designs' collect with CFINV_COLLECT_SECONDS 60 and CFINV_VISIBILITY_TIMEOUT_SECONDS 300 (the
harness drains for 10 s only, which splits a burst of 20,000 messages over two executions).
`--waits local` keeps the checkout's own fast local values (its stack.py). Either way the batch
window is the harness's (2 s plus 1 s settle) and the sweeper runs every 60 s, as deployed.
"""

import argparse
import contextlib
import importlib.util
import inspect
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

OLD_DEPLOYED = {
    "MapConcurrency": "2",
    "ThrottleRetrySeconds": "2",
    "ThrottleMaxAttempts": "8",
    "BusyRetrySeconds": "30",
    "BusyMaxAttempts": "10",
    "MaxRetryDelaySeconds": "300",
    "CollectCrashRetrySeconds": "330",
}
# Both designs' collect, as deployed: drain for up to 60 s (the harness's 10 s splits a 20,000-message
# burst over two executions), messages hidden 300 s.
DEPLOYED_DRAIN_ENV = {
    "CFINV_COLLECT_SECONDS": "60",
    "CFINV_VISIBILITY_TIMEOUT_SECONDS": "300",
}
NEW_DEPLOYED_ENV = {
    **DEPLOYED_DRAIN_ENV,
    "CFINV_POLL_SECONDS": "5",
    "CFINV_CAPACITY_WAIT_SECONDS": "10",
    "CFINV_MAX_WAIT_SECONDS": "60",
    "CFINV_MAP_CONCURRENCY": "10",
}
MAX_SET_SIZE = 3000
ESC = r"(?:\x1b\[[0-9;]*m)*"
CREATE_LINE = re.compile(
    r'"' + ESC + r"POST /2020-05-31/distribution/([A-Z0-9]+)/invalidation HTTP/1\.[01]" + ESC + r'" (\d{3})'
)
READ_LINE = re.compile(r'"' + ESC + r"GET /2020-05-31/distribution/([A-Z0-9]+)/invalidation[/ ?]")


def load_stack_module(worktree):
    path = worktree / "tests/emulator/stack.py"
    spec = importlib.util.spec_from_file_location(f"cfinv_stack_{abs(hash(str(worktree)))}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def is_old_design(worktree):
    return "${BusyRetrySeconds}" in (worktree / "statemachine/cfinv.asl.json").read_text()


def render_old_definition(worktree, stack, values):
    args = [str(worktree / "target/debug/cfinv"), "statemachine"]
    settings = {
        "CollectFunctionArn": stack.function_arn("collect"),
        "InvalidateFunctionArn": stack.function_arn("invalidate"),
        "ReportFunctionArn": stack.function_arn("report"),
        **values,
    }
    for k, v in settings.items():
        args += ["--set", f"{k}={v}"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def create_distribution(stack, bucket):
    """One S3 origin for the bucket, tagged cfinv:policy=exact (every path, sets of 3000; the old
    design has no policies and always plans every path)."""
    import uuid

    config = {
        "CallerReference": uuid.uuid4().hex,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{bucket}.s3.amazonaws.com", "OriginPath": "",
                                               "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
        "Comment": "cfinv freshness bench",
        "Enabled": True,
    }
    tagged = {"DistributionConfig": config, "Tags": {"Items": [{"Key": "cfinv:policy", "Value": "exact"}]}}
    return stack.cf.create_distribution_with_tags(DistributionConfigWithTags=tagged)["Distribution"]["Id"]


def list_all_invalidations(cf, dist):
    items, marker = [], None
    while True:
        kw = {"DistributionId": dist, "MaxItems": "100"}
        if marker:
            kw["Marker"] = marker
        page = cf.list_invalidations(**kw)["InvalidationList"]
        items += page.get("Items", [])
        if not page.get("IsTruncated"):
            return items
        marker = page["NextMarker"]


def executions(sfn, arn):
    out, token = [], None
    while True:
        kw = {"stateMachineArn": arn, "maxResults": 1000}
        if token:
            kw["nextToken"] = token
        page = sfn.list_executions(**kw)
        out += page["executions"]
        token = page.get("nextToken")
        if not token:
            return out


def history(sfn, execution_arn):
    events, token = [], None
    while True:
        kw = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            kw["nextToken"] = token
        page = sfn.get_execution_history(**kw)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def count_history(sfn, arns):
    c = {"state_entered": 0, "task_entered": 0, "task_scheduled": 0, "too_many_task_failures": 0,
         "set_failed_states": 0, "reported_failed": 0, "by_state": {}}
    for arn in arns:
        for e in history(sfn, arn):
            t = e["type"]
            if t.endswith("StateEntered"):
                c["state_entered"] += 1
                name = e["stateEnteredEventDetails"]["name"]
                c["by_state"][name] = c["by_state"].get(name, 0) + 1
                if t == "TaskStateEntered":
                    c["task_entered"] += 1
                if name == "SetFailed":
                    c["set_failed_states"] += 1
            elif t == "TaskScheduled":
                c["task_scheduled"] += 1
            elif t in ("TaskFailed", "LambdaFunctionFailed"):
                details = e.get("taskFailedEventDetails") or e.get("lambdaFunctionFailedEventDetails") or {}
                if "TooManyInvalidationsInProgress" in (details.get("error", "") + details.get("cause", "")):
                    c["too_many_task_failures"] += 1
            elif t.endswith("StateExited") and e["stateExitedEventDetails"]["name"] == "Report":
                try:
                    out = json.loads(e["stateExitedEventDetails"].get("output") or "{}")
                    c["reported_failed"] += int(out.get("report", {}).get("failedCount", 0))
                except (ValueError, TypeError, AttributeError):
                    pass
    return c


def count_log(log, dist):
    created = too_many = other = reads = 0
    for line in log.read_text(errors="replace").splitlines():
        m = CREATE_LINE.search(line)
        if m and m.group(1) == dist:
            status = m.group(2)
            if status == "201":
                created += 1
            elif status == "400":
                too_many += 1
            else:
                other += 1
            continue
        m = READ_LINE.search(line)
        if m and m.group(1) == dist:
            reads += 1
    return created, too_many, other, reads


def records(bucket, n):
    """S3 notification records of `n` uploads, stamped now (cfinv's EventTo*Seconds metrics read it)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": now,
         "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": f"assets/{i:05}.js"}}}
        for i in range(n)
    ]


def run(args):
    import boto3
    from botocore.config import Config

    worktree = Path(args.worktree).resolve()
    old = is_old_design(worktree)
    os.environ.setdefault("CFINV_PYTHON", sys.executable)
    mod = load_stack_module(worktree)
    if args.waits == "deployed":
        local_env = mod.Stack.function_env
        deployed_env = DEPLOYED_DRAIN_ENV if old else NEW_DEPLOYED_ENV
        mod.Stack.function_env = lambda self: {**local_env(self), **deployed_env}
    params = inspect.signature(mod.running_stack).parameters
    kw = {"invalidation_seconds": str(args.seconds)}
    if "sweep_seconds" in params:
        kw["sweep_seconds"] = 60
    if "logs" in params:
        kw["logs"] = "target/bench-logs"
    commit = subprocess.run(["git", "-C", str(worktree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {"design": "old" if old else "new", "commit": commit, "waits": args.waits, "seconds": args.seconds,
              "paths": args.paths, "expected_sets": math.ceil(args.paths / MAX_SET_SIZE)}

    with mod.running_stack(**kw) as s:
        logs = Path(getattr(s, "logs", worktree / "target/e2e-logs"))
        if old and args.waits == "deployed":
            definition = render_old_definition(worktree, s, OLD_DEPLOYED)
            s.sfn.update_state_machine(stateMachineArn=s.state_machine_arn, definition=definition)
            deployed = s.sfn.describe_state_machine(stateMachineArn=s.state_machine_arn)["definition"]
            assert '"IntervalSeconds": 30' in deployed and '"MaxConcurrency": 2' in deployed, "deployed values not in place"
        bucket = s.site("fresh")
        dist = create_distribution(s, bucket)
        if hasattr(s, "completion_seconds"):
            s.completion_seconds(dist, args.seconds)
        lam = boto3.client("lambda", endpoint_url=s.endpoint, region_name="us-east-1", aws_access_key_id="cfinv",
                           aws_secret_access_key="cfinv",
                           config=Config(read_timeout=900, connect_timeout=10, retries={"max_attempts": 0}))
        every = records(bucket, args.paths)
        per_invoke = args.records_per_invoke or len(every)
        payloads = [json.dumps({"Records": every[i:i + per_invoke]}).encode() for i in range(0, len(every), per_invoke)]
        t0 = time.time()
        for payload in payloads:
            out = lam.invoke(FunctionName=s.function_arn("ingest"), Payload=payload)
            if "FunctionError" in out:
                raise SystemExit(f"ingest failed: {out['Payload'].read()[:2000]}")
        t_upload = time.time()
        result["ingest_invokes"] = len(payloads)
        result["ingest_seconds"] = round(t_upload - t0, 1)
        print(f"[bench] ingest of {args.paths} records took {t_upload - t0:.1f} s; watching {dist}", file=sys.stderr)

        seen = {}  # invalidation id -> {"paths": n, "items": its paths, "seen": t first seen, "completed": t seen}
        expected = {f"/assets/{i:05}.js" for i in range(args.paths)}
        live_paths = set()  # expected paths in a Completed invalidation
        my_reads = 0
        deadline = t_upload + args.timeout
        t_live = None
        last_exec_check = 0.0
        ended_since = None
        while time.time() < deadline:
            tick = time.time()
            items = list_all_invalidations(s.cf, dist)
            my_reads += 1
            for it in items:
                rec = seen.get(it["Id"])
                if rec is None:
                    inv = s.cf.get_invalidation(DistributionId=dist, Id=it["Id"])["Invalidation"]
                    my_reads += 1
                    batch = inv["InvalidationBatch"]["Paths"]
                    rec = seen[it["Id"]] = {"paths": batch["Quantity"], "items": batch.get("Items", []), "seen": tick,
                                            "completed": None}
                if rec["completed"] is None and it["Status"] == "Completed":
                    rec["completed"] = tick
                    live_paths.update(p for p in rec["items"] if p in expected)
            # Live: every path of the deploy in a Completed invalidation (an invalidation of paths
            # already live, a duplicate, does not count).
            if t_live is None and len(live_paths) == len(expected):
                t_live = tick
                print(f"[bench] live after {t_live - t_upload:.1f} s", file=sys.stderr)
            if tick - last_exec_check >= 3:
                last_exec_check = tick
                execs = executions(s.sfn, s.state_machine_arn)
                running = [e for e in execs if e["status"] == "RUNNING"]
                if execs and not running:
                    ended_since = ended_since or tick
                else:
                    ended_since = None
                if t_live is not None and ended_since:
                    break
                # Not every path will go live (sets failed): stop once all has ended for a while.
                if t_live is None and ended_since and tick - ended_since > 90:
                    break
            time.sleep(max(0.0, 0.5 - (time.time() - tick)))
        t_end = time.time()

        execs = executions(s.sfn, s.state_machine_arn)
        h = count_history(s.sfn, [e["executionArn"] for e in execs])
        all_paths = [p for r in seen.values() for p in r["items"]]
        time.sleep(1)  # the access log is written after the response
        created, too_many, other, reads = count_log(logs / "emulator.log", dist)
        result.update({
            "distribution": dist,
            "invalidations": len(seen),
            "create_invalidation_calls": created + too_many + other,
            "create_accepted": created,
            "too_many_in_progress": too_many,
            "create_other_errors": other,
            "too_many_task_failures": h["too_many_task_failures"],
            "cfinv_invalidation_reads": reads - my_reads - len(seen),
            "failed_sets": max(h["reported_failed"], h["set_failed_states"]),
            "reported_failed": h["reported_failed"],
            "set_failed_states": h["set_failed_states"],
            "executions": len(execs),
            "execution_status": sorted(e["status"] for e in execs),
            "state_entered": h["state_entered"],
            "task_retries": h["task_scheduled"] - h["task_entered"],
            "states": h["by_state"],
            "paths_invalidated": len(set(all_paths) & expected),
            "paths_invalidated_twice": len(all_paths) - len(set(all_paths)),
            "upload_to_live_seconds": round(t_live - t_upload, 1) if t_live else None,
            "upload_to_all_ended_seconds": round(t_end - t_upload, 1),
            "upload_to_first_accepted_seconds": round(min(r["seen"] for r in seen.values()) - t_upload, 1) if seen else None,
            "first_accepted_to_live_seconds": round(t_live - min(r["seen"] for r in seen.values()), 1) if t_live else None,
            "accepted_times": sorted(round(r["seen"] - t_upload, 1) for r in seen.values()),
            "completion_times": sorted(round(r["completed"] - t_upload, 1) for r in seen.values() if r["completed"]),
        })
    return result


def markdown(r):
    live = f"{r['upload_to_live_seconds']:.1f}" if r["upload_to_live_seconds"] is not None else "never"
    phase = f"{r['first_accepted_to_live_seconds']:.1f}" if r["first_accepted_to_live_seconds"] is not None else "-"
    return (f"| {r['design']} (`{r['commit']}`, {r['waits']} waits) | {r['seconds']} | {r['paths']:,} | "
            f"{r['invalidations']} | {r['failed_sets']} | {r['create_invalidation_calls']} | {r['too_many_in_progress']} | "
            f"{r['executions']} | {r['state_entered']} (+{r['task_retries']} retries) | {r['ingest_seconds']:.1f} | {live} | {phase} |")


HEADER = ("| design | N (s) | objects | invalidations | failed sets | CreateInvalidation calls | TooManyInvalidationsInProgress | "
          "executions | StateEntered | ingest (s) | last upload → all live (s) | first accepted → all live (s) |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worktree", default=str(Path(__file__).resolve().parents[2]), help="the cfinv checkout to run (default: this one)")
    p.add_argument("--seconds", type=float, default=25, help="how long each invalidation stays InProgress (default 25)")
    p.add_argument("--paths", type=int, default=20000, help="changed objects in the deploy (default 20000)")
    p.add_argument("--records-per-invoke", type=int, default=0,
                   help="split the upload into ingest invokes of this many records (default: all in one)")
    p.add_argument("--waits", choices=["deployed", "local"], default="deployed")
    p.add_argument("--timeout", type=float, default=2700, help="give up this long after the upload (default 2700 s)")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.add_argument("--header", action="store_true", help="print the Markdown table header first")
    args = p.parse_args(argv)
    if args.seconds == int(args.seconds):
        args.seconds = int(args.seconds)
    r = run(args)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        if args.header:
            print(HEADER)
        print(markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
