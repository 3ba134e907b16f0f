"""Step Functions executions that actually run, with moto's ASL interpreter (off in stock moto)."""

import os

from moto.core import config as moto_config


def install(port):
    """The interpreter calls Lambda at http://localhost:$MOTO_PORT: `port` must be this server's."""
    os.environ["MOTO_PORT"] = str(port)
    moto_config.default_user_config["stepfunctions"]["execute_state_machine"] = True
