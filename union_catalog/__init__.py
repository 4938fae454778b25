"""The union catalogue: partner MARC exports in, union records and holdings out."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (tables known to the metadata)
