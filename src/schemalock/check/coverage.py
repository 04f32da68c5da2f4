"""What a verify run looked at: per kind of object, how many the database holds, how many the
lock declares, how many were compared; and what the database holds that no kind models, by
name ("not covered"), so nothing it holds is skipped without a word.

The database's count includes every schema verify read: the covered ones and the others the
lock does not ignore (`live.elsewhere`); objects of an ignored schema, or with an ignored
name, are not counted (they were left out on purpose)."""

from __future__ import annotations

from typing import Any

from schemalock.check.findings import Coverage, KindCoverage
from schemalock.compare.pairs import bookkeeping, ignored
from schemalock.model import Database, Lock, Table


def measure(lock: Lock, live: Database) -> Coverage:
    patterns = lock.settings.ignore
    everything = [live] + ([live.elsewhere] if live.elsewhere is not None else [])
    kinds = [_schemas(lock, live)]
    for kind, declared in lock.database.kinds().items():
        held = {k: v for db in everything for k, v in db.kinds()[kind].items()}
        wanted = {k for k in declared if not ignored(k[0], k[1], patterns)}
        found = {k for k, v in held.items() if not ignored(k[0], k[1], patterns) and _counts(v)}
        kinds.append(KindCoverage(kind, len(found), len(wanted), len(wanted & found)))
    return Coverage(tuple(kinds), live.uncovered)  # read from the schemas not ignored only


def _schemas(lock: Lock, live: Database) -> KindCoverage:
    present = set(live.schemas) | set(live.elsewhere.schemas if live.elsewhere else ())
    declared = set(lock.database.schemas)
    return KindCoverage("schema", len(present), len(declared), len(declared & present))


def _counts(value: Any) -> bool:
    """Migration tools' bookkeeping tables are never the lock's business."""
    return not (isinstance(value, Table) and bookkeeping(value))
