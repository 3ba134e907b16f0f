"""The emulator's server: every patch installed, Step Functions executions on, moto's app served."""

import argparse
import sys

from . import __doc__ as package_doc
from . import control, install, stepfunctions


def main(argv=None):
    parser = argparse.ArgumentParser(description=package_doc.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    install()
    stepfunctions.install(args.port)
    return control.serve(args.host, args.port, args.parent_pid)


if __name__ == "__main__":
    sys.exit(main())
