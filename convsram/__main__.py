"""`python -m convsram`: the same as the `convsram` command."""

import signal


def _quiet_interrupt(signum, frame):
    raise SystemExit(130)


signal.signal(signal.SIGINT, _quiet_interrupt)  # Ctrl-C while starting: exit 130, no traceback

from convsram.cli import run  # noqa: E402

run()
