"""Rules about functions and procedures, each identified by its signature."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model.routines import Routine
from schemalock.rules.base import Context, Rule, q


def _named(routine: Routine) -> str:
    return f"{routine.kind} {q(routine.schema)}.{routine.signature}"


class MissingFunction(Rule):
    """A function or procedure the lock declares does not exist with that signature.

    ## What it checks
    Every entry under `functions:` exists: same schema, name and input argument types (an
    overload of another signature is another function).

    ## Why it matters
    Triggers, defaults, policies and application calls that use it fail at run time; a
    function re-created with other argument types leaves the old callers without one.

    ## Example
    The lock lists `add_usage(uuid, integer)`; the database has `add_usage(uuid, bigint)`
    only.

    ## Fix
    `schemalock fix` creates it from the lock (`CREATE FUNCTION` or `CREATE PROCEDURE`, every
    attribute the lock gives), once the tables its body reads exist and before the views and
    triggers that use it.
    """

    code, name = "SL711", "missing-function"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingRoutine,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingRoutine):
            routine = missing.lock
            yield self.reported(
                missing, f"{_named(routine)} is missing", constraint=routine.signature
            )


class ExtraFunction(Rule):
    """A function or procedure exists in the database but not in the lock.

    ## What it checks
    Every function and procedure of the covered schemas (overloads one by one) is listed
    under `functions:` or matched by `database.ignore`. Functions an extension owns
    (`pg_stat_statements`, `citext`, ...) belong to it and are never listed; aggregates and
    window functions are not modelled (the report lists them as not covered).

    ## Why it matters
    A function is code running inside the database, often with its owner's privileges: an
    unreviewed one is a hidden business rule or a way around row-level security.

    ## Example
    The database has `public.debug_reset_quota(uuid)`; the lock does not mention it.

    ## Fix
    Add it to the lock (`schemalock snapshot` writes its definition) or to `database.ignore`.
    Nothing is generated: schemalock never drops a function on its own.
    """

    code, name = "SL712", "extra-function"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraRoutine):
            routine = extra.live
            yield self.reported(
                extra, f"{_named(routine)} is not in the lock", constraint=routine.signature
            )


class FunctionChanged(Rule):
    """A function or procedure differs from the lock: its body, signature or behaviour.

    ## What it checks
    For each signature both have: the body (`sql` and `plpgsql` on their parse trees, so
    formatting and comments are no difference; other languages as text), the return type,
    the language, volatility, `STRICT`, `SECURITY DEFINER`, `SET` clauses such as
    `search_path`, and the argument names and defaults when the lock gives `arguments`.

    ## Why it matters
    A changed body is a changed business rule (a quota counter that stopped counting); a
    function that became `SECURITY DEFINER` or lost its `search_path` is a privilege hole;
    a volatility that is wrong makes the planner cache what must not be cached.

    ## Example
    The lock says `volatility: stable`; the database's function is `VOLATILE`.

    ## Fix
    `schemalock fix` writes `CREATE OR REPLACE FUNCTION` with the lock's definition, which
    keeps its privileges and what uses it. When PostgreSQL does not allow that (another
    return type, function for procedure, renamed arguments or removed defaults) it drops the
    function and creates it again: the views calling it are rebuilt around it, the triggers
    executing it dropped and created again, its privileges given back; a default, check,
    index or policy using it makes the plan refuse, naming them.
    """

    code, name = "SL713", "function-changed"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.RoutineChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.RoutineChanged):
            wanted, found = changed.lock, changed.live
            aspects = [a for a in d.ROUTINE_ASPECTS if a in changed.aspects]
            yield self.reported(
                changed,
                f"{_named(found)} differs from the lock in {', '.join(_words(a) for a in aspects)}"
                + _detail(changed),
                constraint=found.signature,
                expected={a: _value(wanted, a) for a in aspects},
                actual={a: _value(found, a) for a in aspects},
            )


def _words(aspect: str) -> str:
    return {"security_definer": "SECURITY DEFINER", "returns": "return type"}.get(
        aspect, aspect.replace("_", " ")
    )


def _value(routine: Routine, aspect: str) -> object:
    if aspect == "kind":
        return routine.kind
    if aspect == "settings":
        return dict(routine.settings)
    return getattr(routine, aspect)


def _detail(changed: d.RoutineChanged) -> str:
    """The first small aspect's two values, in words: `(stable; the lock says volatile)`."""
    for aspect in ("volatility", "returns", "language"):
        if aspect in changed.aspects:
            found, wanted = getattr(changed.live, aspect), getattr(changed.lock, aspect)
            return f" ({aspect} {found}; the lock says {wanted})"
    return ""


class DefinerWithoutSearchPath(Rule):
    """A SECURITY DEFINER function does not pin its `search_path`.

    ## What it checks
    Every function or procedure that runs with its owner's privileges (`SECURITY DEFINER`)
    has a `SET search_path = ...` clause. Verify judges the database's functions; lint the
    lock's.

    ## Why it matters
    Without it, the function resolves names through the caller's `search_path`: a caller who
    can create objects in a schema early on that path (a temporary schema, `public` on older
    databases) can shadow a table, operator or function the body uses and run code with the
    owner's privileges. PostgreSQL's documentation calls this out as the way to write such
    functions safely.

    ## Example
    `CREATE FUNCTION reset_quota(uuid) ... SECURITY DEFINER` with no `SET search_path`.

    ## Fix
    `ALTER FUNCTION reset_quota(uuid) SET search_path = pg_catalog, public, pg_temp` (the
    schemas it needs, `pg_temp` last), and the same `settings: {search_path: ...}` in the
    lock. Not generated.
    """

    code, name = "SL714", "definer-without-search-path"
    severity, category = Severity.WARNING, Category.STRUCTURE
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        database = context.live if context.live is not None else context.lock.database
        lines = {key: r.line for key, r in context.lock.database.routines.items()}
        for key, routine in sorted(database.routines.items()):
            if routine.security_definer and not routine.pins_search_path:
                yield self.finding(
                    f"{_named(routine)} is SECURITY DEFINER without a pinned search_path: "
                    "a caller's objects can shadow what it uses, run with its owner's "
                    "privileges",
                    schema=routine.schema,
                    constraint=routine.signature,
                    line=lines.get(key) or context.lock.settings.section_line("functions"),
                    subject=d.Subject(routine.kind, routine.schema, name=routine.signature),
                )
