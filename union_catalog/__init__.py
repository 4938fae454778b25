"""The union catalogue: partner MARC exports in, union records and holdings out."""
from flask import Flask

from .search import from_routing, reindex_clusters, set_requestability_provider

__all__ = ["init_app", "reindex_clusters", "set_requestability_provider", "from_routing"]


def init_app(app: Flask) -> None:
    from . import api, cli, import_views, models, search_cli, views  # noqa: F401  (tables known to the metadata)

    cli.init_app(app)
    import_views.init_app(app)
    from . import cluster_views

    cluster_views.init_app(app)
    from . import alert_views, record_problem_views, report_views

    report_views.init_app(app)
    alert_views.init_app(app)
    record_problem_views.init_app(app)
    views.init_app(app)
    api.init_app(app)
    search_cli.init_app(app)  # after cli: joins its "catalog" group
