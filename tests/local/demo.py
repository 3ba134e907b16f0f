"""`make local` / `make local-up`: the whole cfinv pipeline on this machine, against an emulated AWS,
with no account.

`make local-up` (this script with --up) deploys the same stack on http://127.0.0.1:5000 and leaves it
running until Ctrl-C, for the AWS CLI or an SDK pointed at it.


Starts the emulated AWS and the real function binaries, deploys the stack into it exactly as the
deployment wires it, creates a demo bucket behind two distributions, uploads and deletes a handful of
objects, follows the executions state by state, and prints what each distribution received, when it
was accepted and completed, how long the change took to be live, the `Invalidation Completed` event
cfinv put on the event bus, and why everything else was skipped. Exits 0 when every expected path
was invalidated and every distribution's completion was told.
"""

import json
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))

from stack import running_stack  # noqa: E402

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def say(text=""):
    print(text, flush=True)


def follow(stack, seen_states, deadline):
    """Prints every state entered by every execution, until all have ended. Returns the executions."""
    while time.time() < deadline:
        executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        for e in sorted(executions, key=lambda e: e["name"]):
            history = stack.sfn.get_execution_history(executionArn=e["executionArn"])["events"]
            entered = [h["stateEnteredEventDetails"]["name"] for h in history if "stateEnteredEventDetails" in h]
            done = seen_states.setdefault(e["name"], [])
            # Each state once (a unit's Step -> Wait loop repeats until its sets complete).
            for state in entered:
                if state not in done:
                    done.append(state)
                    say(f"  [{e['name']}] {' -> '.join(done)}")
        if executions and all(e["status"] != "RUNNING" for e in executions):
            return executions
        time.sleep(0.5)
    raise SystemExit("make local: the executions did not finish in time")


def up(port):
    # A plain SIGTERM (from a supervisor, or a test) stops the stack as Ctrl-C does, children included.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    say(f"cfinv local-up: starting the emulated AWS on http://127.0.0.1:{port} and the function binaries...")
    with running_stack(moto_port=port, logs="target/local-up-logs") as stack:
        stack.route(None)  # local-up's rule forwards every bucket; a deployed stack names them (Buckets)
        say("stack deployed:")
        say(f"  queue            {stack.queue_url}")
        say(f"  dead letters     {stack.dead_letter_url}")
        say(f"  state machine    {stack.state_machine_arn}")
        say(f"  topic            {stack.topic_arn}")
        say(f"  plan bucket      {stack.plan_bucket}")
        say(f"  error bucket     {stack.error_bucket}")
        for name in ("ingest", "collect", "invalidate", "report", "sweep"):
            say(f"  function         {stack.function_arn(name)}")
        say("use it:")
        say(f"  export AWS_ENDPOINT_URL={stack.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=cfinv AWS_SECRET_ACCESS_KEY=cfinv")
        say("  export AWS_DEFAULT_REGION=us-east-1   # the region AWS CLI v1 reads (it ignores AWS_REGION)")
        say(f"  export CFINV_STACK={stack.stack_name}   # make status, make explain, make resubmit find the stack by it")
        say("  aws s3 mb s3://my-site && make connect-bucket BUCKET=my-site EXCEPTION_PATHS=uploads/")
        say("  (here the EventBridge rule forwards every bucket's changes to ingest)")
        say("  (then create a distribution with an S3 origin my-site.s3.amazonaws.com, upload, and list its invalidations)")
        say(f"local-up ready: {stack.endpoint}")
        try:
            while True:
                time.sleep(3600)
        except (KeyboardInterrupt, SystemExit):
            say("local-up: stopping")
    return 0


def main():
    if "--up" in sys.argv:
        given = sys.argv[sys.argv.index("--port") + 1] if "--port" in sys.argv[:-1] else "5000"
        if not given.isdigit() or not 0 < int(given) < 65536:
            print(f"cfinv local-up: PORT={given!r} is not a TCP port (1 to 65535)", file=sys.stderr)
            return 2
        return up(int(given))
    say("cfinv local: starting the emulated AWS (moto) and the function binaries (cargo lambda watch)...")
    say("note: batch windows are 2 s, CloudFront completes in 2 s and cfinv polls every second here;")
    say("      the deployment uses 10 s windows, 5 s polls, and CloudFront's own completion (25 s at p95).")
    with running_stack(logs="target/local-logs") as stack:
        say(f"stack deployed at {stack.endpoint}: queue, topic, plan and error buckets, 5 functions, state machine")

        site = stack.site("demo-site", exception_paths="uploads/")
        main_dist = stack.distribution(site, behaviors=[("/live/*", CACHING_DISABLED)])
        public_dist = stack.distribution(site, origin_path="/public")
        say(f"demo bucket {site} (exceptionPaths: uploads/)")
        say(f"  distribution {main_dist}: the whole bucket; /live/* caches nothing (CachingDisabled)")
        say(f"  distribution {public_dist}: OriginPath /public")
        say()

        actions = [
            ("upload", "index.html"),
            ("upload", "img/red flower.jpg"),
            ("upload", "사진/여름.png"),
            ("upload", "public/app.js"),
            ("upload", "live/stream.m3u8"),
            ("upload", "uploads/user-1.jpg"),
            ("upload", "old/page.html"),
            ("delete", "old/page.html"),
            ("delete", "live/stream.m3u8"),
        ]
        for action, key in actions:
            say(f"{action:7} s3://{site}/{key}")
            if action == "upload":
                stack.s3.put_object(Bucket=site, Key=key, Body=b"demo")
            else:
                stack.s3.delete_object(Bucket=site, Key=key)
        say()
        say("executions (state by state):")
        seen = {}
        expected = {
            main_dist: ["/%EC%82%AC%EC%A7%84/%EC%97%AC%EB%A6%84.png", "/img/red%20flower.jpg", "/index.html",
                        "/live/stream.m3u8", "/old/page.html", "/public/app.js"],
            public_dist: ["/app.js"],
        }
        deadline = time.time() + 120
        while True:
            executions = follow(stack, seen, deadline)
            got = {d: sorted(set(stack.invalidated_paths(d))) for d in expected}
            told = {e["detail"]["distributionId"]: e for e in stack.bus_events("Invalidation Completed")}
            done = all(got[d] == sorted(p) for d, p in expected.items()) and all(d in told for d in expected)
            if done or time.time() > deadline:
                break
            time.sleep(1)

        say()
        for d, paths in got.items():
            say(f"distribution {d} received {len(paths)} path(s):")
            for p in paths:
                say(f"  {p}")
            event = told.get(d)
            if event:
                detail = event["detail"]
                say(f"  accepted  {detail['acceptedAt']}   ({detail['secondsToAccepted']:.1f} s after the first change, {detail['firstEventTime']})")
                say(f"  completed {detail['completedAt']}   (live {detail['secondsToCompleted']:.1f} s after the first change)")
                say("  on the event bus (source cfinv), what a deploy pipeline can wait for:")
                say("    " + json.dumps({k: event[k] for k in ("source", "detail-type")} | {"detail": detail}))
        say()
        say("skipped, and why (from each execution's plan.json in the plan bucket):")
        for e in sorted(executions, key=lambda e: e["name"]):
            key = f"plans/{e['name']}/plan.json"
            try:
                plan = json.loads(stack.s3.get_object(Bucket=stack.plan_bucket, Key=key)["Body"].read())
            except stack.s3.exceptions.NoSuchKey:
                continue
            for skip in plan.get("skipped", []):
                where = f" on {skip['distributionId']}" if skip.get("distributionId") else ""
                say(f"  {skip['reason']:15} {skip['event']:20} {skip['key']}{where}")
        say("  (ingest drops creations under exceptionPaths before queueing: uploads/user-1.jpg never reached a plan)")
        say()
        failed = [d for d, p in expected.items() if got[d] != sorted(p) or d not in told]
        if failed:
            for d in failed:
                say(f"MISSING on {d}: expected {sorted(expected[d])}, got {got[d]}; completion told: {d in told}")
            say("logs: target/local-logs/")
            return 1
        say("make local: every change was invalidated where CloudFront serves it, and its completion told. Logs: target/local-logs/")
        return 0


if __name__ == "__main__":
    sys.exit(main())
