"""Whether a process id still runs: the sandbox server, a task's or an engine worker's process.

``os.kill(pid, 0)`` alone is not enough: a zombie (exited, not yet reaped, e.g. an orphan that
PID 1 never reaps in a container) still answers it, and would keep a dead task "running".
"""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie counts as gone, and a child of ours that ended is reaped."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our child, just reaped
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
