"""The ASGI application: one ``POST /`` that routes on ``X-Amz-Target`` to a service.

AWS's JSON protocols put the service and operation in the ``X-Amz-Target`` header
(``AWSStepFunctions.StartExecution``, ``AmazonDMSv20160101.CreateReplicationTask``) and the
parameters in a JSON body, so one endpoint serves every service, as ``--endpoint-url`` expects.
Engine calls block (SQLite, handlers), so they run in Starlette's thread pool.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dersonlake.api import dms, protocol, stepfunctions
from dersonlake.api.access import Access, AccessMiddleware
from dersonlake.replication import ReplicationStore
from dersonlake.states import Engine

log = logging.getLogger("dersonlake.REST_SERVER")


@dataclass(frozen=True)
class Service:
    """One AWS service behind the endpoint: its target prefix, botocore model and dispatcher."""

    prefix: str
    model_name: str
    content_type: str
    call: Callable[[str, dict[str, Any]], dict[str, Any]]


def stepfunctions_service(engine: Engine) -> Service:
    return Service(
        stepfunctions.TARGET_PREFIX,
        stepfunctions.SERVICE,
        "application/x-amz-json-1.0",
        lambda op, params: stepfunctions.call(engine, op, params),
    )


def dms_service(
    store: ReplicationStore, region: str, account: str, owners_dir: str | Path | None = None
) -> Service:
    api = dms.DmsApi(store, region, account, owners_dir)
    return Service(dms.TARGET_PREFIX, dms.SERVICE, "application/x-amz-json-1.1", api.call)


def create_app(
    services: list[Service], extra_routes: list[BaseRoute] | None = None, access: Access | None = None
) -> Starlette:
    """The ASGI app serving ``services`` (each picked by the prefix of ``X-Amz-Target``), plus
    ``extra_routes`` (the dashboard's ``GET`` pages; ``POST /`` stays the AWS endpoint).

    ``access`` (api/access.py) guards every route; the default checks ``Host`` and limits bodies
    without asking for credentials, which is right for a loopback server.
    """
    by_prefix = {s.prefix: s for s in services}

    async def aws(request: Request) -> Response:
        response = await serve_one(request)
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())  # boto3's ResponseMetadata.RequestId
        return response

    async def serve_one(request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        service = by_prefix.get(target.partition(".")[0])
        content_type = service.content_type if service else "application/x-amz-json-1.0"
        try:
            if service is None:
                raise protocol.ApiError("UnknownOperationException", f"unknown X-Amz-Target {target!r}")
            model = protocol.service_model(service.model_name)
            op = protocol.operation(model, target, service.prefix)
            params = protocol.parse_body(await request.body())
            protocol.validate(op, params)
            result = await run_in_threadpool(service.call, op.name, params)
            body = protocol.shape_output(op.output_shape, result)
            return Response(protocol.dump(body), 200, media_type=content_type)
        except protocol.ApiError as exc:
            return Response(protocol.dump(exc.body()), exc.status, media_type=content_type)
        except RecursionError:  # a document nested deeper than the parsers go: the caller's fault
            error = protocol.ApiError(
                "ValidationException", "a JSON document in the request is nested too deeply"
            )
            return Response(protocol.dump(error.body()), error.status, media_type=content_type)
        except Exception as exc:  # a bug must answer like AWS's 500, and be logged, not kill the server
            log.exception("internal error serving %s", target)
            error = protocol.ApiError("InternalFailure", f"internal error: {exc!r}", 500)
            return Response(protocol.dump(error.body()), 500, media_type=content_type)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "services": sorted(by_prefix)})

    routes: list[BaseRoute] = [Route("/", aws, methods=["POST"]), Route("/health", health, methods=["GET"])]
    guard = Middleware(AccessMiddleware, access=access or Access())
    return Starlette(routes=routes + list(extra_routes or []), middleware=[guard])
