"""Upload-to-accepted and upload-to-live latency over the end-to-end runs, from the metrics the
functions wrote (CloudWatch Embedded Metric Format lines in the functions' log).

    python3 tests/bench/latency.py [target/e2e-logs/cargo-lambda.log]

Reads every EMF document with the stack-wide dimension set (`Stack` only: one value per distribution
and run), and prints the count, p50, p95 and maximum of EventToAcceptedSeconds and
EventToCompletedSeconds. Compare them with the window plus the settle margin of the run (2 + 1 s in
the emulated stack), the least an event can wait before its window's execution drains it.

Some tests send S3 events with a fixed `eventTime` (a fixture dated days before the run): a latency
whose event would predate the log's first metric by more than a minute is such a fixture, not a
wait, and is left out (the count of those left out is printed).
"""

import json
import statistics
import sys
from pathlib import Path


def values(log: Path):
    """Per metric, (timestamp in seconds, latency in seconds) of each document with `Stack` only."""
    out = {"EventToAcceptedSeconds": [], "EventToCompletedSeconds": []}
    for line in log.read_text(errors="replace").splitlines():
        start = line.find('{"_aws"')
        if start < 0:
            continue
        try:
            doc = json.loads(line[start:])
        except ValueError:
            continue
        dims = doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
        if dims != [["Stack"]]:
            continue
        at = doc["_aws"].get("Timestamp", 0) / 1000
        for name in out:
            v = doc.get(name)
            if v is not None:
                out[name].extend((at, x) for x in (v if isinstance(v, list) else [v]))
    return out


def live(samples):
    """The latencies whose event is not older than the log (fixtures with fixed event times are)."""
    if not samples:
        return [], 0
    first = min(at for at, _ in samples)
    kept = [x for at, x in samples if at - x >= first - 60]
    return kept, len(samples) - len(kept)


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def main(argv):
    log = Path(argv[1]) if len(argv) > 1 else Path("target/e2e-logs/cargo-lambda.log")
    data = values(log)
    print("| metric | n | p50 (s) | p95 (s) | max (s) | left out (fixture event times) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, samples in data.items():
        xs, fixtures = live(samples)
        if xs:
            print(f"| {name} | {len(xs)} | {statistics.median(xs):.1f} | {percentile(xs, 95):.1f} | {max(xs):.1f} | {fixtures} |")
        else:
            print(f"| {name} | 0 | - | - | - | {fixtures} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
