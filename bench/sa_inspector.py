"""Reference C: read the same catalog with the SQLAlchemy Inspector, as one whole process.

    python bench/sa_inspector.py <libpq URL or conninfo>

It reads what `schemalock verify --no-data` compares (columns, primary keys, foreign keys,
indexes, unique and check constraints) with the bulk `get_multi_*` calls of SQLAlchemy 2.
"""

from __future__ import annotations

import sys

from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import URL, create_engine, inspect


def sqlalchemy_url(conninfo: str) -> URL:
    """postgresql+psycopg://... for any libpq URL or key=value string.

    Everything except the database goes in the query string, which the psycopg dialect hands
    to libpq unchanged: a Unix socket directory as host would not survive the URL's host part.
    """
    params = {key: str(value) for key, value in conninfo_to_dict(conninfo).items()}
    database = params.pop("dbname", None)
    return URL.create("postgresql+psycopg", database=database, query=params)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    engine = create_engine(sqlalchemy_url(argv[0]))
    with engine.connect() as connection:
        inspector = inspect(connection)
        columns = inspector.get_multi_columns()
        inspector.get_multi_pk_constraint()
        inspector.get_multi_foreign_keys()
        inspector.get_multi_indexes()
        inspector.get_multi_unique_constraints()
        inspector.get_multi_check_constraints()
    engine.dispose()
    if not columns:  # an empty read would time nothing worth comparing
        print("sa_inspector: no tables found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
