"""A process the crash test kills with SIGKILL: it resumes every RUNNING execution in the store.

Run as ``python -m tests.states.crash_worker <db>``; prints ``DONE`` when nothing is RUNNING.
"""

from __future__ import annotations

import sys
import time

from dersonlake.states import Engine


def main(db: str) -> None:
    engine = Engine(db, time_scale=0.001, seed=3)
    engine.register_lambda("flaky", "tests.states.handlers:flaky_first")
    engine.register_lambda("triple", "tests.states.handlers:triple")
    while True:
        engine.run_until_idle()
        running = engine.store.conn.execute("SELECT COUNT(*) FROM executions WHERE status = 'RUNNING'")
        if running.fetchone()[0] == 0:
            break
        due = engine.next_due()
        if due is not None:
            time.sleep(max(0.0, min(due - engine.clock.now(), 0.05)))
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
