"""``footage users``: accounts, permissions and API tokens."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from footage.auth import Permission, UserStore
from footage.cli.context import state
from footage.domain import InvalidRequest

app = typer.Typer(help="Users, permissions and API tokens.", no_args_is_help=True)
_PERMS_HELP = "comma-separated: view, export, admin"


def _store(ctx: typer.Context) -> UserStore:
    return UserStore(state(ctx).engine)


def _password(given: str | None) -> str:
    if given is not None:
        return given
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@app.command("add")
def add(
    ctx: typer.Context,
    name: str,
    permissions: Annotated[str, typer.Option("--permissions", "-p", help=_PERMS_HELP)] = "view",
    cameras: Annotated[
        str | None, typer.Option(help="comma-separated camera ids (default: all)")
    ] = None,
    password: Annotated[str | None, typer.Option(help="default: ask")] = None,
) -> None:
    """Add a user."""
    perms = Permission.parse_many(permissions)
    if not perms:
        raise InvalidRequest(f"give at least one permission ({_PERMS_HELP})")
    camera_list = None if cameras is None else [c.strip() for c in cameras.split(",") if c.strip()]
    user = _store(ctx).add(name, _password(password), perms, camera_list)
    typer.echo(f"added user {user.name} ({', '.join(sorted(p.value for p in perms))})")


@app.command("list")
def list_users(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List users and their permissions."""
    found = _store(ctx).list()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": u.name,
                        "permissions": sorted(p.value for p in u.permissions),
                        "cameras": None if u.cameras is None else sorted(u.cameras),
                        "created": u.created.isoformat(),
                    }
                    for u in found
                ],
                indent=2,
            )
        )
        return
    table = Table("user", "permissions", "cameras", "created")
    for u in found:
        table.add_row(
            u.name,
            ", ".join(sorted(p.value for p in u.permissions)),
            "all" if u.cameras is None else ", ".join(sorted(u.cameras)),
            u.created.isoformat(timespec="seconds"),
        )
    Console().print(table)


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    name: str,
    password: Annotated[str | None, typer.Option(help="default: ask")] = None,
) -> None:
    """Set a user's password (and end their web sessions)."""
    _store(ctx).set_password(name, _password(password))
    typer.echo(f"password of {name} changed")


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Remove a user and their tokens."""
    if not yes:
        typer.confirm(f"Remove user {name}?", abort=True)
    _store(ctx).remove(name)
    typer.echo(f"removed user {name}")


@app.command("token")
def token(
    ctx: typer.Context,
    name: str,
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
) -> None:
    """Issue an API token (bearer) for a user; it is shown once."""
    typer.echo(_store(ctx).issue(name, label=label))
