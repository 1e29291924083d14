import tomllib
from pathlib import Path

import pytest

from footage.config import Settings, load_settings
from footage.domain import InvalidRequest

EXAMPLE = Path(__file__).parents[2] / "footage" / "config" / "footage.example.toml"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("FOOTAGE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def _flatten(tree: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_example_config_matches_the_defaults() -> None:
    """Every key in the shipped example (commented or not) exists and shows the default."""
    text = EXAMPLE.read_text()
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and "=" in line and not line.startswith("# e.g") else line
        for line in text.splitlines()
    )
    example = _flatten(tomllib.loads(uncommented))
    defaults = _flatten(Settings().model_dump(mode="json"))
    defaults.pop("data_dir")
    example.pop("data_dir")
    assert example == defaults


def test_example_config_loads(tmp_path: Path) -> None:
    assert load_settings(EXAMPLE).model_dump() == load_settings().model_dump()


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "footage.toml"
    config.write_text('data_dir = "/srv/footage"\n[server]\nport = 7000\n')
    settings = load_settings(config)
    assert settings.server.port == 7000
    assert settings.database_url == "sqlite:////srv/footage/footage.db"
    monkeypatch.setenv("FOOTAGE_SERVER__PORT", "9000")
    assert load_settings(config).server.port == 9000


def test_unknown_keys_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "footage.toml"
    config.write_text("[server]\nprot = 7000\n")
    with pytest.raises(InvalidRequest, match=r"server\.prot"):
        load_settings(config)
    monkeypatch.setenv("FOOTAGE_ARCHIVE__ROOOT", "/x")
    with pytest.raises(InvalidRequest, match="FOOTAGE_ARCHIVE__ROOOT"):
        load_settings()


def test_bad_values_and_files_are_explained(tmp_path: Path) -> None:
    config = tmp_path / "footage.toml"
    config.write_text("[server]\nport = 70000\n")
    with pytest.raises(InvalidRequest, match=r"server\.port"):
        load_settings(config)
    config.write_text("[server\n")
    with pytest.raises(InvalidRequest, match="not valid TOML"):
        load_settings(config)
    with pytest.raises(InvalidRequest, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
