from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from footage.auth import Permission, UserStore
from footage.auth.schema import credentials, users
from footage.db import open_database
from footage.domain import Conflict, InvalidRequest, NotFound, PermissionDenied, Unauthenticated


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> UserStore:
    return UserStore(open_database(f"sqlite:///{tmp_path / 'f.db'}"), now=clock)


def test_add_authenticate_and_permissions(store: UserStore) -> None:
    store.add("ann", "correct horse", [Permission.VIEW], cameras=["cam1"])
    user = store.authenticate("ann", "correct horse")
    assert user.can(Permission.VIEW) and not user.can(Permission.EXPORT)
    assert user.can_see_camera("cam1") and not user.can_see_camera("cam2")
    with pytest.raises(PermissionDenied, match="export"):
        user.require(Permission.EXPORT)
    with pytest.raises(PermissionDenied, match="cam2"):
        user.require(Permission.VIEW, "cam2")
    with pytest.raises(Unauthenticated, match="wrong user name or password"):
        store.authenticate("ann", "wrong horse")
    with pytest.raises(Unauthenticated, match="wrong user name or password"):
        store.authenticate("nobody", "correct horse")


def test_passwords_are_hashed_and_short_ones_refused(store: UserStore, tmp_path: Path) -> None:
    store.add("ann", "correct horse", [Permission.ADMIN])
    with store._engine.connect() as conn:  # what an attacker with the file would see
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert "correct horse" not in stored and stored.startswith("$argon2id$")
    with pytest.raises(InvalidRequest, match="at least 8"):
        store.add("bob", "short", [Permission.VIEW])
    with pytest.raises(Conflict, match="exists already"):
        store.add("ann", "another password", [Permission.VIEW])


def test_tokens_resolve_expire_and_revoke(store: UserStore, clock: Clock) -> None:
    store.add("ann", "correct horse", [Permission.EXPORT])
    token = store.issue("ann", label="alarm system")
    assert store.resolve(token).name == "ann"
    with store._engine.connect() as conn:
        assert token not in str(conn.execute(sa.select(credentials)).all())
    session = store.issue("ann", kind="session", ttl=timedelta(hours=1))
    with pytest.raises(Unauthenticated):
        store.resolve(session)  # a session secret is not an API token
    assert store.resolve(session, kind="session").name == "ann"
    clock.now += timedelta(hours=2)
    with pytest.raises(Unauthenticated, match="expired"):
        store.resolve(session, kind="session")
    store.revoke(token)
    with pytest.raises(Unauthenticated, match="not valid"):
        store.resolve(token)


def test_password_change_ends_sessions_and_remove_ends_everything(store: UserStore) -> None:
    store.add("ann", "correct horse", [Permission.EXPORT])
    session = store.issue("ann", kind="session")
    token = store.issue("ann")
    store.set_password("ann", "battery staple")
    with pytest.raises(Unauthenticated):
        store.resolve(session, kind="session")
    assert store.resolve(token).name == "ann"
    assert store.authenticate("ann", "battery staple").name == "ann"
    store.remove("ann")
    with pytest.raises(Unauthenticated):
        store.resolve(token)
    with pytest.raises(NotFound, match="no user named 'ann'"):
        store.get("ann")
    assert store.list() == []
