"""api layer: the local HTTP endpoint that speaks AWS's JSON protocols (``derson-lake serve``).

``app.create_app`` builds the ASGI app from services (``stepfunctions_service`` over the state
engine, ``dms_service`` over the replication store); ``protocol`` checks requests and shapes
responses with botocore's service models; ``pipelines`` registers the project's state machines.
This layer translates HTTP to calls of the lower layers and knows nothing of binlogs or files.

What other layers (the command line) use (tests may reach inside; other layers may not):

* ``create_app`` / ``stepfunctions_service`` / ``dms_service``: the ASGI app and its services.
* ``dashboard_routes`` / ``metrics_route``: the web dashboard and the Prometheus metrics.
* ``Access`` / ``load_credentials`` / ``default_allowed_hosts`` / ``is_loopback``: who may call.
* ``LocalServer``: the endpoint started in-process for ``run`` and ``schedule``.
* ``PipelineValues`` / ``register_pipelines``: the project's state machines, registered.

All names load on first use (PEP 562 ``__getattr__`` over ``_LAZY``): the app pulls Starlette and
botocore's models, which the other commands do not need at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dersonlake.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from dersonlake.api.access import Access, default_allowed_hosts, is_loopback, load_credentials
    from dersonlake.api.app import create_app, dms_service, stepfunctions_service
    from dersonlake.api.dashboard import dashboard_routes
    from dersonlake.api.local import LocalServer
    from dersonlake.api.metrics import metrics_route
    from dersonlake.api.pipelines import PipelineValues, register_pipelines

_LAZY = {
    "Access": "dersonlake.api.access",
    "default_allowed_hosts": "dersonlake.api.access",
    "is_loopback": "dersonlake.api.access",
    "load_credentials": "dersonlake.api.access",
    "create_app": "dersonlake.api.app",
    "dms_service": "dersonlake.api.app",
    "stepfunctions_service": "dersonlake.api.app",
    "dashboard_routes": "dersonlake.api.dashboard",
    "LocalServer": "dersonlake.api.local",
    "metrics_route": "dersonlake.api.metrics",
    "PipelineValues": "dersonlake.api.pipelines",
    "register_pipelines": "dersonlake.api.pipelines",
}

__all__ = [
    "Access",
    "LocalServer",
    "PipelineValues",
    "create_app",
    "dashboard_routes",
    "default_allowed_hosts",
    "dms_service",
    "is_loopback",
    "load_credentials",
    "metrics_route",
    "register_pipelines",
    "stepfunctions_service",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
