"""Language choice: the user's own, else the browser's Accept-Language."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and background jobs
        return shell_locale(languages, current_app.config["BABEL_DEFAULT_LOCALE"])
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def shell_locale(languages: list[str], default: str) -> str:
    """The command line speaks the operator's language (LC_ALL, LC_MESSAGES,
    LANG); the untranslated C/POSIX locale means English."""
    import os

    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if not value:
            continue
        lang = value.split(".")[0].split("_")[0].lower()
        if lang in ("c", "posix"):
            return "en" if "en" in languages else default
        return lang if lang in languages else default
    return default


def current_language() -> str:
    """The language of what is being said now (the request's, a job's), or
    "" outside an application."""
    try:
        return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    except RuntimeError:  # no application context
        return ""


def select_timezone() -> str:
    """Times are shown in the zone whose calendar says what day it is."""
    from . import clock

    return clock.network_zone().key


def init_app(app: Flask) -> None:
    @app.context_processor
    def _lang():
        return {"current_lang": current_language(),
                "languages": app.config["LANGUAGES"]}
