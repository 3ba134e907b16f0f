#!/usr/bin/env python3
"""`cfinv plan` end to end beside the naive Python planner, in one run.

Usage: plan_cli.py [--runs N] [--shared DIR] [--cfinv PATH] [--baseline PATH]

Writes the workload with DIR/bench/gen_plan_input.py (20,000 S3 notification records on one bucket,
200 distributions as `aws cloudfront list-distributions` prints them), checks that cfinv and
DIR/bench/naive_plan.py give the same (distribution, path) pairs (cfinv with --policy exact), then runs each N times,
alternating, and prints the median wall-clock times and their ratio. With --baseline, a second
cfinv binary (an older build) is timed too. `make bench-cli` runs it with the release build.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pairs(doc):
    # `items` since the strategy; `paths` in older builds (a --baseline).
    return {(inv["distributionId"], p) for inv in doc["invalidations"] for p in inv.get("items", inv.get("paths", []))}


def timed(cmd, out_path):
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        subprocess.run(cmd, stdout=out, check=True)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--cfinv", default=str(ROOT / "target/release/cfinv"))
    ap.add_argument("--baseline", help="another cfinv binary to time beside it")
    args = ap.parse_args()
    bench = Path(args.shared) / "bench"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([sys.executable, str(bench / "gen_plan_input.py"), str(tmp)], check=True)
        dist, events = str(tmp / "distributions.json"), str(tmp / "events.json")
        plan_args = ["plan", "--distributions", dist, "--events", events, "--format", "json"]
        # The naive planner's contract is every path: the exact policy.
        commands = {"cfinv": [args.cfinv, *plan_args, "--policy", "exact"]}
        if args.baseline:
            commands["cfinv (baseline)"] = [args.baseline, *plan_args]
        commands["naive Python"] = [sys.executable, str(bench / "naive_plan.py"), *plan_args]
        outputs = {}
        for name, cmd in commands.items():
            path = tmp / f"{len(outputs)}.json"
            timed(cmd, path)
            outputs[name] = pairs(json.loads(path.read_text()))
        reference = outputs["naive Python"]
        for name, got in outputs.items():
            if got != reference:
                sys.exit(f"{name} gives {len(got)} (distribution, path) pairs, the naive planner {len(reference)}")
        times = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(timed(cmd, tmp / "out.json"))
    print(f"{len(reference)} (distribution, path) pairs, the same from every planner; {args.runs} runs each")
    naive = statistics.median(times["naive Python"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:18} median {med:7.3f} s  (min {min(ts):.3f}, max {max(ts):.3f})  {naive / med:5.1f}x the naive planner")


if __name__ == "__main__":
    main()
