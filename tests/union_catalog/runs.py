"""Starting an import on the imports page and waiting for its background run."""
from __future__ import annotations

import io

from union_catalog import jobs
from union_catalog.models import ImportRun


def upload(client, code, data: bytes, name="export.mrc", items: bytes | None = None, **form):
    form = {"partner": code, "file": (io.BytesIO(data), name), **form}
    if items is not None:
        form["items"] = (io.BytesIO(items), "items.csv")
    return client.post("/catalog/imports/", data=form, content_type="multipart/form-data")


def finish(session, response) -> ImportRun:
    """The run a page's answer (303 to the run) started, once it has ended."""
    assert response.status_code == 303, response.get_data(as_text=True)
    run_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    jobs.wait(run_id, timeout=60)
    session.expire_all()
    return session.get(ImportRun, run_id)
