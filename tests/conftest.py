"""Loaded before any test module, as ``tests.conftest`` (``tests`` is a package): so pytest puts
the repository root on ``sys.path`` and ``tests.helpers`` imports however pytest is started
(``pytest``, ``python -m pytest``, with or without ``-n``)."""

import pytest

# the helpers assert too: their failures get pytest's detailed messages, as in test modules
pytest.register_assert_rewrite("tests.helpers")
