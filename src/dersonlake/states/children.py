"""Parallel branches and inline Map iterations as stored child frames.

A Parallel or Map state writes one frame per branch or item (generation ``cgen`` of its
parent), runs at most ``MaxConcurrency`` of them at once, and when they are all done the parent
becomes runnable in phase ``join``, which collects outputs in index order. The first failure
beyond the tolerated count aborts the running siblings (``*Aborted`` events) and fails the
state with the child's own error name, as AWS does. Redrive re-runs only failed or aborted
children and keeps the succeeded ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dersonlake.states import io, jsonata_mode, path_values, paths
from dersonlake.states.failures import EXCEED_TOLERATED_FAILURE_THRESHOLD, RUNTIME, StatesFailure
from dersonlake.states.history import STATE_EVENT_PREFIX
from dersonlake.states.integrations import parse_resource
from dersonlake.states.interpreter import INLINE_MAP_LIMIT, ExecInfo, Interpreter, effective_input
from dersonlake.states.store import Frame, Tx

if TYPE_CHECKING:
    from dersonlake.states.definition import State
    from dersonlake.states.engine import Engine


def items_not_array(items_path: str) -> str:
    """AWS's cause when a Map's ItemsPath selects something other than an array."""
    shown = items_path[1:] if items_path.startswith("$$") else items_path
    return f'Reference path "{shown}" must point to array.'


class Children:
    def __init__(self, engine: Engine, interp: Interpreter) -> None:
        self.engine = engine
        self.interp = interp

    # -- starting -------------------------------------------------------------------------------
    def _child(
        self, f: Frame, gen: int, idx: int, scope_id: str, start_at: str, value: Any, run: bool
    ) -> Frame:
        return Frame(
            id=0,
            exec_arn=f.exec_arn,
            parent_id=f.id,
            gen=gen,
            idx=idx,
            scope=scope_id,
            status="RUNNING" if run else "PENDING",
            phase="enter",
            state=start_at,
            input=value,
            data={"prev": f.data.get("prev"), "outer": sorted(set(f.vars) | set(f.data.get("outer", [])))},
            runnable=run,
            vars=dict(f.vars),
        )

    def start_parallel(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        env = self.interp.env(info, f, st)
        eff = effective_input(f)
        if st.jsonata:
            states = {"input": f.input, "context": env.context}
            value = (
                jsonata_mode.evaluate(st.raw["Arguments"], states, f.vars, "Arguments")
                if "Arguments" in st.raw
                else f.input
            )
        else:
            value = io.render(st.raw["Parameters"], eff, env) if "Parameters" in st.raw else eff
        self.interp.event(tx, f, "ParallelStateStarted")
        gen = f.data.get("cgen", 0) + 1
        f.data["cgen"] = gen
        for i, scope in enumerate(st.branches):
            tx.insert_frame(self._child(f, gen, i, scope.id, scope.start_at, value, True))
        n = len(st.branches)
        f.data["kids"] = {"n": n, "done": 0, "failed": 0, "running": n, "maxc": n, "map": False}
        f.phase = "children"
        tx.save_frame(f)

    def start_map(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        env = self.interp.env(info, f, st)
        raw = st.raw
        eff = effective_input(f)
        states = {"input": f.input, "context": env.context}
        if st.jsonata:
            items = (
                jsonata_mode.evaluate(raw["Items"], states, f.vars, "Items") if "Items" in raw else f.input
            )
            maxc = jsonata_mode.evaluate(raw.get("MaxConcurrency", 0), states, f.vars, "MaxConcurrency")
            tol_count = jsonata_mode.evaluate(
                raw.get("ToleratedFailureCount"), states, f.vars, "ToleratedFailureCount"
            )
            tol_pct = jsonata_mode.evaluate(
                raw.get("ToleratedFailurePercentage"), states, f.vars, "ToleratedFailurePercentage"
            )
        else:
            items = self._path(raw.get("ItemsPath", "$"), eff, env)
            ctx, variables = env.context, env.variables
            maxc = (
                path_values.max_concurrency(raw["MaxConcurrencyPath"], eff, ctx, variables)
                if "MaxConcurrencyPath" in raw
                else raw.get("MaxConcurrency", 0)
            )
            tol_count = raw.get("ToleratedFailureCount")
            if "ToleratedFailureCountPath" in raw:
                tol_count = path_values.tolerated_count(raw["ToleratedFailureCountPath"], eff, ctx, variables)
            tol_pct = raw.get("ToleratedFailurePercentage")
            if "ToleratedFailurePercentagePath" in raw:
                tol_pct = path_values.tolerated_percentage(
                    raw["ToleratedFailurePercentagePath"], eff, ctx, variables
                )
        if not isinstance(items, list):
            raise StatesFailure(RUNTIME, items_not_array(raw.get("ItemsPath", "$")))
        if isinstance(maxc, bool) or not isinstance(maxc, int) or maxc < 0:
            raise StatesFailure(RUNTIME, f"MaxConcurrency must be a non-negative integer, got {maxc!r}")
        limit = min(maxc or INLINE_MAP_LIMIT, INLINE_MAP_LIMIT)
        selector = raw.get("ItemSelector", raw.get("Parameters"))
        inputs = []
        for i, item in enumerate(items):
            if selector is None:
                inputs.append(item)
                continue
            ctx = {**env.context, "Map": {"Item": {"Index": i, "Value": item}}}
            if st.jsonata:
                inputs.append(
                    jsonata_mode.evaluate(selector, {**states, "context": ctx}, f.vars, "ItemSelector")
                )
            else:
                inputs.append(
                    io.render(selector, eff, io.Env(ctx, f.vars, env.rng), field_name="ItemSelector")
                )
        self.interp.event(tx, f, "MapStateStarted", {"length": len(items)})
        gen = f.data.get("cgen", 0) + 1
        f.data["cgen"] = gen
        proc = st.processor
        assert proc is not None
        n = len(inputs)
        for i, value in enumerate(inputs):
            run = i < limit
            tx.insert_frame(self._child(f, gen, i, proc.id, proc.start_at, value, run))
            if run:
                self.interp.event(tx, f, "MapIterationStarted", {"name": st.name, "index": i})
        f.data["kids"] = {
            "n": n,
            "done": 0,
            "failed": 0,
            "running": min(n, limit),
            "next": min(n, limit),
            "maxc": limit,
            "map": True,
            "tol_count": tol_count,
            "tol_pct": tol_pct,
        }
        f.phase = "children"
        if n == 0:
            f.phase, f.runnable = "join", True
        tx.save_frame(f)

    def _path(self, path: str, data: Any, env: io.Env) -> Any:
        try:
            return paths.resolve(path, data, env.context, env.variables)
        except paths.PathMissing:
            raise StatesFailure(
                RUNTIME, f"Invalid path '{path}' : No results for path: {paths.bracketed(path)}", located=True
            ) from None

    # -- progress -------------------------------------------------------------------------------
    def child_ended(self, tx: Tx, child: Frame) -> None:
        parent = tx.frame(child.parent_id or 0, light=True)
        if parent is None or parent.status != "RUNNING" or parent.phase != "children":
            return
        if parent.data.get("cgen") != child.gen:
            return
        _, _, st = self.interp.scope_state(tx, parent)
        kids = parent.data["kids"]
        kids["running"] -= 1
        is_map = kids["map"]
        if child.status == "SUCCEEDED":
            kids["done"] += 1
            if is_map:
                self.interp.event(tx, parent, "MapIterationSucceeded", {"name": st.name, "index": child.idx})
        else:
            kids["failed"] += 1
            if is_map:
                self.interp.event(tx, parent, "MapIterationFailed", {"name": st.name, "index": child.idx})
            if self._exceeded(kids):
                tolerant = kids.get("tol_count") is not None or kids.get("tol_pct") is not None
                if tolerant:
                    kids["fail"] = {
                        "error": EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        "cause": f"The tolerated failure threshold was exceeded ({kids['failed']} failed)",
                    }
                else:
                    kids["fail"] = {"error": child.error or "", "cause": child.cause or ""}
                self.abort_children(tx, parent, st)
                parent.phase, parent.runnable = "join", True
                tx.save_frame(parent)
                return
        if kids["done"] + kids["failed"] >= kids["n"]:
            parent.phase, parent.runnable = "join", True
        else:
            self.launch(tx, parent, st)
        tx.save_frame(parent)

    @staticmethod
    def _exceeded(kids: dict[str, Any]) -> bool:
        count, pct = kids.get("tol_count"), kids.get("tol_pct")
        if count is None and pct is None:
            return kids["failed"] > 0
        over = False
        if count is not None:
            over = over or kids["failed"] > count
        if pct is not None:
            over = over or kids["failed"] * 100.0 / max(kids["n"], 1) > pct
        return over

    def launch(self, tx: Tx, parent: Frame, st: State) -> None:
        """Start pending children (in index order) while fewer than MaxConcurrency run."""
        kids = parent.data["kids"]
        while kids["running"] < kids["maxc"] and kids.get("next", kids["n"]) < kids["n"]:
            idx = kids["next"]
            kids["next"] = idx + 1
            if tx.start_child_frame(parent.id, parent.data["cgen"], idx, parent.data.get("prev")):
                kids["running"] += 1
                if kids["map"]:
                    self.interp.event(tx, parent, "MapIterationStarted", {"name": st.name, "index": idx})

    def join(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        kids = f.data["kids"]
        prefix = "MapState" if st.type == "Map" else "ParallelState"
        if "fail" in kids:
            self.interp.event(tx, f, prefix + "Failed")
            raise StatesFailure(kids["fail"]["error"], kids["fail"]["cause"])
        results = []
        for row in tx.child_results(f.id, f.data.get("cgen", 0)):
            if row["status"] == "SUCCEEDED":
                results.append(io_loads(row["output"]))
            else:
                results.append({"Error": row["error"], "Cause": row["cause"]})
        self.interp.event(tx, f, prefix + "Succeeded")
        self.interp.complete_work(tx, info, f, st, results)

    # -- aborting and redriving -----------------------------------------------------------------
    def abort_children(self, tx: Tx, parent: Frame, st: State) -> None:
        for child_id in tx.running_children(parent.id, parent.data.get("cgen", 0)):
            child = tx.frame(child_id)
            if child is None:
                continue
            self.abort_frame(tx, child)
            if st.type == "Map":
                self.interp.event(tx, parent, "MapIterationAborted", {"name": st.name, "index": child.idx})
            tx.save_frame(parent)

    def abort_frame(self, tx: Tx, f: Frame) -> None:
        """Stop a running frame and everything under it (timers, tasks, children, child executions)."""
        _, _, st = self.interp.scope_state(tx, f)
        for child_id in tx.running_children(f.id):
            child = tx.frame(child_id)
            if child is not None:
                self.abort_frame(tx, child)
        tx.delete_frame_timers(f.id)
        for task in tx.open_tasks(f.id):
            tx.set_task_status(task["id"], "CANCELLED")
            if task["child_exec"] and parse_resource(task["resource"]).pattern.startswith(".sync"):
                self.engine.stop_child(tx, task["child_exec"])
        if f.phase in ("task", "wait", "children", "retry", "join") and st.type in (
            "Task",
            "Wait",
            "Map",
            "Parallel",
        ):
            self.interp.event(tx, f, STATE_EVENT_PREFIX[st.type] + "Aborted")
        f.status, f.runnable = "ABORTED", False
        tx.save_frame(f)

    def redrive_frame(self, tx: Tx, f: Frame) -> None:
        """Continue a failed/aborted frame: re-run its failed children, or re-enter its state."""
        _, _, st = self.interp.scope_state(tx, f)
        f.status, f.error, f.cause = "RUNNING", None, None
        kids = f.data.get("kids")
        if st.type in ("Map", "Parallel") and kids and f.phase in ("children", "join", "retry"):
            gen = f.data.get("cgen", 0)
            rows = tx.children_status(f.id, gen)
            running = 0
            for row in rows:
                if row["status"] in ("FAILED", "ABORTED"):
                    child = tx.frame(row["id"])
                    if child is not None:
                        self.redrive_frame(tx, child)
                        running += 1
            done = sum(1 for r in rows if r["status"] == "SUCCEEDED")
            kids.update({"done": done, "failed": 0, "running": running})
            kids.pop("fail", None)
            f.data.pop("retries", None)
            f.phase, f.runnable = "children", False
            if done >= kids["n"]:
                f.phase, f.runnable = "join", True
            else:
                self.launch(tx, f, st)
            tx.save_frame(f)
            return
        f.phase, f.runnable = "enter", True
        f.data = {"prev": f.data.get("prev"), "cgen": f.data.get("cgen", 0), "outer": f.data.get("outer", [])}
        tx.save_frame(f)


def io_loads(text: str | None) -> Any:
    import json

    return json.loads(text) if text is not None else None
