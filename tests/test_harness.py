"""The test harness itself: nothing another pytest run on the machine does may reach this one."""

from __future__ import annotations

import getpass
import os
import re
import tempfile
from pathlib import Path

import pytest

from conftest import Server


def _pytest_temp_root() -> Path:
    """$TMPDIR/pytest-of-<user>, where every pytest session without --basetemp makes its base
    directory, deletes all but the three newest and resets the mode to 0700."""
    try:
        user = getpass.getuser()
    except (ImportError, OSError, KeyError):
        user = "unknown"
    temp = os.environ.get("PYTEST_DEBUG_TEMPROOT") or tempfile.gettempdir()
    return Path(temp).resolve() / ("pytest-of-" + re.sub(r"[\W]", "_", user))


@pytest.mark.db
def test_the_embedded_server_lives_outside_pytests_temporary_directories(
    pg_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if pg_server.data_dir is None:
        pytest.skip("SCHEMALOCK_TEST_DATABASE_URL: no embedded server")
    data_dir = Path(pg_server.data_dir).resolve()
    assert data_dir.is_dir()
    for root in (tmp_path_factory.getbasetemp().resolve(), _pytest_temp_root()):
        assert not data_dir.is_relative_to(root), f"{data_dir} is under {root}"
