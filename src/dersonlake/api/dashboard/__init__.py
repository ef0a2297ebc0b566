"""The web dashboard of ``derson-lake serve``: executions and their graphs, replication tasks, the
lake. See ``docs/dashboard.md``."""

from dersonlake.api.dashboard.routes import dashboard_routes

__all__ = ["dashboard_routes"]
