"""Command line of the shell: users, demo data, the daily tick."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from . import accounts, clock
from .errors import ServiceError
from .extensions import db

users = AppGroup("users", help="Manage user accounts and API tokens.")
demo = AppGroup("demo", help="Demo data for trying the service.")


def fail(exc: ServiceError) -> None:
    db.session.rollback()
    click.echo(f"Error: {exc.message}", err=True)
    sys.exit(1)


def library_by_code(code: str | None):
    from agreements.models import Partner

    if not code:
        return None
    partner = db.session.scalar(select(Partner).where(Partner.code == code.strip().upper()))
    if partner is None:
        click.echo(f"Error: no partner library with the code {code!r} (see 'partners add').", err=True)
        sys.exit(1)
    return partner


@users.command("create")
@click.argument("email")
@click.option("--password", default=None, help="At least 8 characters; without it, an invitation is mailed.")
@click.option("--role", required=True, type=click.Choice([r.value for r in accounts.Role]))
@click.option("--library", "library_code", help="Partner code; required for patrons and librarians.")
@click.option("--name", default="", help="Display name.")
@click.option("--locale", type=click.Choice(["id", "en"]), default=None)
def users_create(email, password, role, library_code, name, locale):
    """Create a user account. Without --password its owner is mailed a link
    to choose one (as accounts added on the Accounts page are)."""
    from . import people

    try:
        user = accounts.create_user(db.session, email, password, role, library_by_code(library_code),
                                    name=name, locale=locale)
        if not password:
            db.session.flush()
            people.send_link(db.session, user, "invite")
        db.session.commit()
    except ServiceError as exc:
        fail(exc)
    click.echo(f"Created {user.role} {user.email}" + (f" of {user.library.code}" if user.library else "")
               + ("" if password else ", invited by mail to choose a password"))


@users.command("token")
@click.argument("email")
@click.option("--label", default="cli", help="What the token is for.")
def users_token(email, label):
    """Print a new API token for EMAIL, alone on the last line."""
    user = accounts.find_user(db.session, email)
    if user is None:
        click.echo(f"Error: no user with the e-mail {email!r}.", err=True)
        sys.exit(1)
    token = accounts.issue_token(db.session, user, label=label)
    db.session.commit()
    click.echo(f"Token for {user.email} (keep it secret; it is shown once):", err=True)
    click.echo(token)


@users.command("revoke-tokens")
@click.argument("email")
def users_revoke(email):
    """Revoke every API token of EMAIL."""
    user = accounts.find_user(db.session, email)
    if user is None:
        click.echo(f"Error: no user with the e-mail {email!r}.", err=True)
        sys.exit(1)
    n = accounts.revoke_tokens(db.session, user)
    db.session.commit()
    click.echo(f"Revoked {n} token(s) of {user.email}.")


@users.command("set-password")
@click.argument("email")
@click.option("--password", required=True)
def users_set_password(email, password):
    """Set a new password; ends the user's open sessions."""
    user = accounts.find_user(db.session, email)
    if user is None:
        click.echo(f"Error: no user with the e-mail {email!r}.", err=True)
        sys.exit(1)
    try:
        user.set_password(password)
    except ServiceError as exc:
        fail(exc)
    db.session.commit()
    click.echo(f"Password of {user.email} changed.")


@users.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def users_list(fmt):
    """List user accounts."""
    rows = [{"email": u.email, "name": u.name, "role": u.role,
             "library": u.library.code if u.library else None, "active": u.active}
            for u in db.session.scalars(select(accounts.User).order_by(accounts.User.email))]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['email']:<40} {r['role']:<12} {r['library'] or '-':<10} {r['name']}")


@demo.command("load")
def demo_load():
    """Load demo partners, agreements, users of every role and a sample catalogue."""
    from . import demo as demo_data

    lines = demo_data.load(db.session)
    db.session.commit()
    for line in lines:
        click.echo(line)


@click.command("tick")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to act for (default: today).")
def tick(as_of):
    """The daily housekeeping; run it once a day from cron. Safe to run twice."""
    from . import housekeeping

    day = as_of.date() if as_of else clock.today()
    for line in housekeeping.run(db.session, day):
        click.echo(line)


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(tick)
