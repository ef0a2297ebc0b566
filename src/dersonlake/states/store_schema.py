"""The layout of the Step Functions engine's SQLite file: its migrations, in order.

Only ``states.store`` opens the file and runs these (``sqlite_schema.migrate``, version in
``PRAGMA user_version``). Until versions were kept, the engine created its tables on open and the
local API created ``api_state_machine_settings`` on its first start, so a file with
``user_version`` 0 may hold either: every step is idempotent (``IF NOT EXISTS``) and such a file
ends in the layout of a new one, rows kept. A change to the layout is a new step at the end.
"""

from __future__ import annotations

from dersonlake.sqlite_schema import Migration, script

FILE_KIND = "Step Functions store"

ENGINE = """
CREATE TABLE IF NOT EXISTS state_machines(
  arn TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, definition TEXT NOT NULL, role_arn TEXT,
  type TEXT NOT NULL, created REAL NOT NULL, updated REAL);
CREATE TABLE IF NOT EXISTS executions(
  arn TEXT PRIMARY KEY, sm_arn TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,
  status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
  start REAL NOT NULL, stop REAL, redrive_count INTEGER NOT NULL DEFAULT 0, redrive_date REAL,
  parent_task INTEGER, next_event INTEGER NOT NULL DEFAULT 1, root_frame INTEGER, role_arn TEXT);
CREATE INDEX IF NOT EXISTS executions_sm ON executions(sm_arn, start);
CREATE INDEX IF NOT EXISTS executions_parent ON executions(parent_task);
CREATE TABLE IF NOT EXISTS frames(
  id INTEGER PRIMARY KEY, exec_arn TEXT NOT NULL, parent_id INTEGER, gen INTEGER NOT NULL DEFAULT 0,
  idx INTEGER NOT NULL DEFAULT 0, scope TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL,
  state TEXT NOT NULL, input TEXT NOT NULL, data TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
  runnable INTEGER NOT NULL DEFAULT 0, vars TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS frames_runnable ON frames(runnable) WHERE runnable = 1;
CREATE INDEX IF NOT EXISTS frames_children ON frames(parent_id, gen, idx);
CREATE INDEX IF NOT EXISTS frames_exec ON frames(exec_arn);
CREATE TABLE IF NOT EXISTS timers(
  id INTEGER PRIMARY KEY, frame_id INTEGER NOT NULL, exec_arn TEXT NOT NULL, due REAL NOT NULL,
  kind TEXT NOT NULL, ref INTEGER);
CREATE INDEX IF NOT EXISTS timers_due ON timers(due);
CREATE INDEX IF NOT EXISTS timers_frame ON timers(frame_id);
CREATE TABLE IF NOT EXISTS tasks(
  id INTEGER PRIMARY KEY, frame_id INTEGER NOT NULL, exec_arn TEXT NOT NULL, key TEXT NOT NULL,
  resource TEXT NOT NULL, state TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL,
  token TEXT UNIQUE, child_exec TEXT, created REAL NOT NULL, deadline REAL, claimed_by INTEGER);
CREATE INDEX IF NOT EXISTS tasks_pending ON tasks(status) WHERE status = 'PENDING';
CREATE TABLE IF NOT EXISTS history(
  exec_arn TEXT NOT NULL, id INTEGER NOT NULL, prev INTEGER, ts REAL NOT NULL, type TEXT NOT NULL,
  details TEXT, PRIMARY KEY(exec_arn, id));
CREATE TABLE IF NOT EXISTS notifications(
  id INTEGER PRIMARY KEY, key TEXT UNIQUE, ts REAL NOT NULL, exec_arn TEXT, target TEXT,
  subject TEXT, message TEXT, attributes TEXT)
"""

API_SETTINGS = """
CREATE TABLE IF NOT EXISTS api_state_machine_settings (
    name TEXT PRIMARY KEY,
    logging TEXT,
    tracing TEXT,
    tags TEXT NOT NULL DEFAULT '{}'
)
"""

MIGRATIONS = [
    Migration(1, "machines, executions, frames, timers, tasks, history, notifications", script(ENGINE)),
    Migration(2, "the local API's logging, tracing and tags of state machines", script(API_SETTINGS)),
]
SCHEMA_VERSION = len(MIGRATIONS)
