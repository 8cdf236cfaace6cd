"""``takes_ctrl_c``: the ``preexec_fn`` of a child process a test interrupts with SIGINT.

A shell starts background jobs (``make test &``, ``nohup bash .ci/run &``) with SIGINT ignored, children inherit
that, and Python then never installs its KeyboardInterrupt handler: the child would not see the test's Ctrl-C.
"""

from __future__ import annotations

import signal


def takes_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
