"""Stage `guard`: the forward-only guard, `schemalock diff`.

The lock's own history: two versions of the lock (the base branch's, read from git without a
checkout, and the pull request's) compared and every change judged as progress, neutral or a
regression (`diff`).  The schema goes through the comparison stage, lock against lock, so a
change means what `verify` would make of it; the rest of the lock is compared key by key.
Pure but for `git`, which runs git to read the base lock.
"""

from schemalock.guard import (
    aspects,  # noqa: F401  (registers its difference handlers)
    grants,  # noqa: F401  (registers its difference handlers)
    objects,  # noqa: F401  (registers its difference handlers)
    partitions,  # noqa: F401  (registers its difference handlers)
    schema_types,  # noqa: F401  (registers its difference handlers)
    security,  # noqa: F401  (registers its difference handlers)
    sequences,  # noqa: F401  (registers its difference handlers)
)
from schemalock.guard.diff import Version, diff, read
from schemalock.guard.git import Committed, lock_at

__all__ = ["Committed", "Version", "diff", "lock_at", "read"]
