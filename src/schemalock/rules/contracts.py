"""Rules about what the application relies on beyond the schema: data flows and query
contracts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from schemalock.check.findings import Category, Finding, Severity
from schemalock.model import Invariant, Table
from schemalock.rules.base import Context, Rule, q, rows

if TYPE_CHECKING:
    from schemalock.usersql import flows


class FlowViolation(Rule):
    """Rows break an invariant of a data flow the lock declares.

    ## What it checks
    Every invariant under `flows:`, inside the read-only transaction and under the run's
    timeouts, reporting how many rows break it and a few of them:
    - `reconcile`: a stored total equals an aggregate over the rows that reference it
      (`organizations.quota_used` = `sum(quota_usage.usage_amount)` per organization);
    - `implies`: per row, a condition requires another (`status = 'completed'` requires
      `completed_at IS NOT NULL`, or `EXISTS (SELECT 1 FROM quota_usage ...)`);
    - `freshness`: no row in a state is older than an interval (no job `running` for more
      than 2 hours, no webhook unprocessed after 15 minutes);
    - `sql`: a `.sql` file (e.g. under `checks/`) holding one SELECT of the violating rows.
    Expressions are parsed by PostgreSQL's parser and allowed only as one boolean expression
    over the lock's tables, with allow-lists of side-effect-free functions, operators and
    types; names resolve scope by scope as PostgreSQL resolves them, and what runs names every
    table, function, operator and type qualified. An invariant naming a lock column the
    database lacks is refused (`alias.column` would call a function of that name). A refused
    or failing invariant is inconclusive (exit 4), never a pass.

    ## Why it matters
    A schema can be exactly as locked while the data flowing through it is wrong: quotas that
    no longer add up, jobs that never finish, webhooks nobody processed. The seed document's
    checkpoints ("organizations.quota_used must reflect actual job consumption") become
    checks that fail.

    ## Example
    `flow quota_management: invariant quota_used_is_usage fails for 3 rows of organizations
    (organizations.quota_used = sum(quota_usage.usage_amount) ...)`, samples
    `2f1c...: 40 <> 35`.

    ## Fix
    Repair the data (re-run the rollup, reprocess the webhook), then find what let it drift.
    schemalock never edits rows by itself.
    """

    code, name = "SL502", "flow-violation"
    severity, category = Severity.ERROR, Category.CONTRACTS
    needs_data = True

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        for flow in context.lock.flows:
            for invariant in flow.invariants:
                finding = self._check(context, invariant)
                if finding is not None:
                    yield finding

    def _check(self, context: Context, invariant: Invariant) -> Finding | None:
        # Here, not at the top: a lock without flows never needs the SQL sandbox (pglast).
        from schemalock.usersql import flows
        from schemalock.usersql import sandbox as userexpr

        assert context.probe is not None
        label = f"flow {invariant.flow}: {invariant.name}"
        table = _table(context, invariant)
        try:
            plan = flows.plan(invariant, context.lock.database)
            _named_objects_exist(context, plan)
        except userexpr.Rejected as refusal:
            context.probe.refuse(self.name, table, f"refused: {refusal}", label)
            return None
        counted = context.probe.violations(self.name, table, label, plan.query)
        if counted is None or not counted[0]:
            return None
        count, samples = counted
        where = f" of {q(*table.key)}" if table else ""
        return self.finding(
            f"{label} ({invariant.kind}) fails for {rows(context, count)}{where}: "
            f"expected {plan.demand}",
            table=table,
            constraint=invariant.name,
            line=invariant.line,
            count=count,
            samples=samples,
            expected=plan.demand,
        )


def _table(context: Context, invariant: Invariant) -> Table | None:
    key = invariant.table
    return context.lock.database.tables.get(key) if key else None


def _named_objects_exist(context: Context, plan: flows.Plan) -> None:
    """Refuse a plan naming a lock column or enum the database lacks: PostgreSQL would read
    `alias.column` on a missing column as a call of a function `column` on the row, and a
    type of the enum's name that is a domain runs its CHECK constraints."""
    from schemalock.usersql import sandbox as userexpr

    live = context.live
    if live is None:
        return
    for schema, name, column in sorted(plan.columns):
        table = live.tables.get((schema, name))
        found = table.column(column) if table is not None else None
        if found is None:
            raise userexpr.Rejected(
                f"column {q(schema, name, column)} is in the lock but not in the database"
            )
        if found.type in live.user_casts:
            raise userexpr.Rejected(_user_cast(f"column {q(schema, name, column)}", found.type))
    for schema, name in sorted(plan.enums):
        if (schema, name) not in live.enums:
            raise userexpr.Rejected(
                f"enum {q(schema, name)} is in the lock but not in the database"
            )
        spelled = name if schema == "public" else q(schema, name)
        if spelled in live.user_casts:
            raise userexpr.Rejected(_user_cast(f"enum {q(schema, name)}", spelled))


def _user_cast(what: str, type_name: str) -> str:
    """Why an invariant touching a type a user-defined cast converts is not run: its casts,
    implicit ones included, would call that function."""
    return (
        f"{what} is of type {type_name}, which a cast function outside pg_catalog converts: "
        "running the invariant could call it"
    )


class QueryContractFailed(Rule):
    """A query the application runs no longer fits the live schema.

    ## What it checks
    Every entry under `queries:`: its SQL, with the parameter types the application sends
    (`params: [uuid]`), is prepared against the live database inside the read-only
    transaction: parsed and analyzed by the server, never executed, in the unnamed prepared
    statement, so nothing stays in the session. The server's refusal is the finding, and so is
    SQL whose parameters (`$1` to its highest `$n`) are not as many as `params` declares: the
    server would infer an undeclared one's type and accept an unused one. A lock or a timeout
    while preparing is inconclusive, not a failure. The finding is listed under the first lock
    table the query reads or writes.

    ## Why it matters
    The seed database's statistics endpoint failed in production with `SELECT type, COUNT(*)
    FROM jobs WHERE org_id = $1`: the column is text, the application sends a uuid, and
    PostgreSQL has no `text = uuid` operator. A contract catches that in CI, before users do.

    ## Example
    `query analyses_stats (/api/analyses/stats) fails on the live schema: operator does not
    exist: text = uuid`.

    ## Fix
    Change the column (`schemalock fix` plans `text` to `uuid` safely) or the query; then keep
    the contract in the lock so it cannot regress.
    """

    code, name = "SL503", "query-contract-failed"
    severity, category = Severity.ERROR, Category.CONTRACTS

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None or not context.lock.queries:
            return
        from schemalock.usersql import sandbox as userexpr

        for query in context.lock.queries:
            endpoint = f" ({query.endpoint})" if query.endpoint else ""
            label = f"query {query.name}{endpoint}"
            facts = userexpr.contract(query.sql, context.lock.database)
            error = context.probe.prepare(self.name, label, query.sql, query.params)
            message = f"{label} fails on the live schema: {error}"
            if error is None and facts is not None:
                error = _parameter_mismatch(facts.parameters, query.params)
                message = f"{label} does not match its params: {error}"
            if error is not None:
                yield self.finding(
                    message,
                    table=facts.table if facts else None,
                    constraint=query.name,
                    line=query.line,
                    actual=error,
                    expected=list(query.params),
                )


def _parameter_mismatch(used: int, declared: tuple[str, ...]) -> str | None:
    """The server fills in the type of a parameter beyond those declared, and accepts a declared
    one the SQL never uses: either way the application sends a different number of values."""
    if used == len(declared):
        return None
    uses = f"uses ${used} as its last parameter" if used else "uses no parameters"
    return f"the SQL {uses} but params declares {len(declared)} ({', '.join(declared) or 'none'})"
