from tests.notify.conftest import _catalogues, smtp_server  # noqa: F401 - shared fixtures
