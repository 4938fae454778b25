"""The union catalogue: partner MARC exports in, union records and holdings out."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import cli, import_views, models  # noqa: F401  (tables known to the metadata)

    cli.init_app(app)
    import_views.init_app(app)
    from . import cluster_views

    cluster_views.init_app(app)
