"""Warns when the deployed stack's AlertEmail is empty: then nothing cfinv reports reaches a person.

`make deploy` runs it after `sam deploy` with the samconfig.toml the deployment wrote. Exits 0 either
way (a warning, not an error); prints the warning on stderr.
"""

import shlex
import sys
import tomllib
from pathlib import Path

WARNING = (
    "make deploy: WARNING: AlertEmail is empty. Failed invalidations, failed executions and alarms go to\n"
    "the alert topic, which then has no subscriber: no person is told. Subscribe an address to the\n"
    "AlertTopicArn output (aws sns subscribe --topic-arn ARN --protocol email --notification-endpoint you@example.com),\n"
    "or set AlertEmail in samconfig.toml's parameter_overrides and make deploy again."
)


def alert_email(samconfig: Path):
    """The AlertEmail parameter of the default environment's deploy, '' when absent or empty."""
    config = tomllib.loads(samconfig.read_text())
    overrides = config.get("default", {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    if isinstance(overrides, list):
        overrides = " ".join(overrides)
    for item in shlex.split(overrides):
        key, _, value = item.partition("=")
        if key == "AlertEmail":
            return value
    return ""


def main(argv):
    path = Path(argv[1]) if len(argv) > 1 else Path("samconfig.toml")
    if not path.exists() or not alert_email(path).strip():
        print(WARNING, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
