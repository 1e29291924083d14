"""footage as a user runs it: ``python -m footage`` in a subprocess, in an environment without
this machine's ``FOOTAGE_*`` settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without ``FOOTAGE_*`` variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTAGE_")}
    return {**env, **extra}


def run_footage(
    data_dir: Path, *args: str, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """``footage --data-dir DATA_DIR ARGS``, its output captured as text; ``env``: variables
    set for it (see ``clean_env``). Raises ``subprocess.TimeoutExpired`` after ``timeout``."""
    return subprocess.run(
        [sys.executable, "-m", "footage", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(**env),
        check=False,
    )
