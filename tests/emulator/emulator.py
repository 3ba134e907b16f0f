"""cfinv's emulated AWS: the package cfinv_emulator beside this file (its docstring says what it adds).

Run:  python tests/emulator/emulator.py --port 5000 [--parent-pid PID]

Kept as the command that tests/emulator/stack.py and the Rust handler tests
(crates/aws/tests/emulator/mod.rs) start.
"""

import sys

from cfinv_emulator.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
