"""The dashboard's pages and JSON endpoints, served by ``derson-lake serve`` next to the AWS APIs.

Pages are rendered on the server (Jinja2) from the dicts of ``views``; ``/api/...`` returns the same
dicts as JSON. A list page refreshes itself by fetching its own URL with ``?partial=1`` (only the
live part, rendered by the same template); the execution page polls ``/api/execution`` and
recolours the server-drawn SVG graph. Everything the browser loads comes from ``/static``: no CDN.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from dersonlake.api.dashboard import views
from dersonlake.replication import ReplicationStore
from dersonlake.states import Engine, InvalidApiInput, StatesApiError

HERE = Path(__file__).parent


def fmt_time(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters.update(time=fmt_time, seconds=fmt_seconds, bytes=fmt_bytes, number="{:,}".format)
    env.filters["reject_private"] = lambda d: {k: v for k, v in d.items() if not k.startswith("_")}
    env.globals["machine_name"] = views.machine_name
    return templates


def _json(data: dict[str, Any], status: int = 200) -> Response:
    body = {k: v for k, v in data.items() if not k.startswith("_")}
    return Response(json.dumps(body, default=str), status, media_type="application/json")


def dashboard_routes(
    engine: Engine, store: ReplicationStore, owners_dir: str | Path | None = None
) -> list[BaseRoute]:
    """Routes of the dashboard: ``/`` (executions), ``/execution``, ``/replication``, ``/lake``,
    their ``/api/...`` JSON twins and ``/static``."""
    templates = _templates()
    counts = views.RowCounts()
    owners = Path(owners_dir) if owners_dir else None

    def page(request: Request, name: str, data: dict[str, Any], status: int = 200) -> Response:
        partial = request.query_params.get("partial") == "1"
        context = {"data": data, "partial": partial, "now": time.time(), "page": name}
        template = f"_{name}.html" if partial else f"{name}.html"
        return templates.TemplateResponse(request, template, context, status_code=status)

    async def executions_data(request: Request) -> dict[str, Any]:
        q = request.query_params
        data = await run_in_threadpool(
            views.executions, engine, status=q.get("status", ""), machine=q.get("machine", ""),
            owner=q.get("owner", ""),
        )  # fmt: skip
        return {**data, "schedules": await run_in_threadpool(views.schedules, engine)}

    async def index(request: Request) -> Response:
        return page(request, "executions", await executions_data(request))

    async def api_executions(request: Request) -> Response:
        return _json(await executions_data(request))

    async def execution_data(request: Request) -> tuple[dict[str, Any] | None, str]:
        arn = request.query_params.get("arn", "")
        try:
            return await run_in_threadpool(views.execution, engine, arn), arn
        except (StatesApiError, InvalidApiInput) as exc:
            return None, str(exc)

    async def execution_page(request: Request) -> Response:
        data, problem = await execution_data(request)
        if data is None:
            return page(request, "missing", {"problem": problem}, 404)
        return page(request, "execution", data)

    async def api_execution(request: Request) -> Response:
        data, problem = await execution_data(request)
        if data is None:
            return _json({"error": problem}, 404)
        return _json(data)

    async def replication_page(request: Request) -> Response:
        return page(request, "replication", await run_in_threadpool(views.replication, store))

    async def api_replication(request: Request) -> Response:
        return _json(await run_in_threadpool(views.replication, store))

    async def lake_page(request: Request) -> Response:
        return page(request, "lake", await run_in_threadpool(views.lake, owners, counts))

    async def api_lake(request: Request) -> Response:
        return _json(await run_in_threadpool(views.lake, owners, counts))

    return [
        Route("/", index, methods=["GET"]),
        Route("/execution", execution_page, methods=["GET"]),
        Route("/replication", replication_page, methods=["GET"]),
        Route("/lake", lake_page, methods=["GET"]),
        Route("/api/executions", api_executions, methods=["GET"]),
        Route("/api/execution", api_execution, methods=["GET"]),
        Route("/api/replication", api_replication, methods=["GET"]),
        Route("/api/lake", api_lake, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
