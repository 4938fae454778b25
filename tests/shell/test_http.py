"""Security headers, errors as JSON or pages, never a traceback."""
import pytest


def test_security_headers_on_every_response(client):
    for path in ["/", "/login", "/api/v1/me", "/static/style.css", "/nothing"]:
        h = client.get(path).headers
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"]


def test_pages_have_no_inline_scripts(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and "onclick" not in html and 'style="' not in html


def test_api_errors_are_json(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.get_json() == {"error": {"code": "not_signed_in", "message": r.get_json()["error"]["message"]}}
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_people_get_a_page(client):
    r = client.get("/nope", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    assert "Error 404" in r.get_data(as_text=True) or "Galat 404" in r.get_data(as_text=True)


def test_login_required_pages_redirect_to_sign_in(client):
    r = client.get("/account")
    assert r.status_code == 302
    assert "/login?next=" in r.headers["Location"]


def test_unexpected_errors_never_show_a_traceback(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    r = client.get("/boom")
    assert r.status_code == 500
    assert "secret internals" not in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)
    r = client.get("/api/v1/boom")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "server_error"


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 1000}])
def test_too_large_requests_get_413(client, app_config):
    r = client.post("/login", data={"email": "x" * 5000, "password": "y"})
    assert r.status_code == 413


@pytest.mark.parametrize("app_config", [{"TRUSTED_HOSTS": ["library.example"]}])
def test_untrusted_host_is_refused(client, app_config):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "library.example"}).status_code == 200
