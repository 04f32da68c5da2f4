"""`schemalock docs`: the lock as a Markdown document, in the spirit of the hand-written
"Database Schema Lock" it replaces: a summary, a Mermaid ER diagram, every table with its
purpose, wiring, columns, relations and indexes, the data flows and the query contracts; with a
verification (`docs --live`), a checklist of what holds in the live database.

Pure: a Lock (and a Verification) in, text out; no I/O, no clock. The same inputs give the same
bytes, so the document can be committed and diffed. Free text written by the lock's author
(purpose, wiring, comments, descriptions) is Markdown as written; generated text (finding
messages, database errors) is escaped, and identifiers always sit in code spans.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from schemalock.check.findings import Finding, InconclusiveCheck, Report, Severity
from schemalock.model import (
    DEFAULT_SCHEMA,
    OWNED_SEQUENCE,
    Column,
    CustomCheck,
    Flow,
    ForeignKey,
    Freshness,
    Implies,
    Index,
    Invariant,
    Lock,
    QueryContract,
    Reconcile,
    Table,
    names,
)
from schemalock.render import safe_text

PASS, FAIL, INCONCLUSIVE, NOT_CHECKED = "✅", "❌", "⚠️", "⬜"

# Rules whose findings are about one relation (a foreign key of the lock), not its table.
RELATION_CODES = frozenset({"SL109", "SL110", "SL201", "SL202", "SL203", "SL204"})
MISSING_TABLE, POLICY, FLOW, QUERY = "SL101", "SL501", "SL502", "SL503"
# What a relation's pass line can claim, by the rule that proves it.
RELATION_CLAIMS = (
    ("SL109", "foreign key present"),
    ("SL202", "validated"),
    ("SL201", "no orphans"),
)


@dataclass(frozen=True)
class Verification:
    """What `docs --live` adds: verify's report and how it was asked for."""

    report: Report
    # Codes of the rules that ran; an item none of whose rules ran is "not checked", never
    # passed. None: every rule ran.
    rules: frozenset[str] | None = None
    fail_on: Severity = Severity.ERROR
    environment: str | None = None  # --env
    checked_at: datetime | None = None

    def ran(self, *codes: str) -> bool:
        return self.rules is None or any(code in self.rules for code in codes)


def render(lock: Lock, verification: Verification | None = None) -> str:
    sections = [
        _title(lock),
        _summary(lock, verification),
        _overview(lock),
        _diagram(lock),
        _tables(lock),
        _types(lock),
        _flows(lock),
        _queries(lock),
    ]
    if verification is not None:
        sections.append(_checklist(lock, verification))
    return "\n\n".join(section for section in sections if section) + "\n"


# -- Markdown helpers ---------------------------------------------------------------------------


def _code(text: str) -> str:
    """An inline code span that survives backticks and line breaks in `text`."""
    # A line break reads as one space in a code span: fold it and the indentation around it.
    text = safe_text(re.sub(r"[ \t]*\n\s*", " ", text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if longest or text.startswith(" ") or text.endswith(" ") else text
    return f"{fence}{padded}{fence}"


def _block(text: str, language: str = "") -> str:
    """A fenced code block longer than any backtick run inside it."""
    body = safe_text_lines(text.strip("\n"))
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{body}\n{fence}"


def safe_text_lines(text: str) -> str:
    """Control characters escaped, line breaks kept (for code blocks)."""
    return "\n".join(safe_text(line) for line in text.splitlines())


def _prose(text: str) -> str:
    """The author's free text on one line: Markdown kept, raw HTML neutralized."""
    return " ".join(safe_text(text.replace("\n", " ")).split()).replace("<", "&lt;")


def _escaped(text: str) -> str:
    """Generated text (messages, server errors) shown literally."""
    text = " ".join(safe_text(text.replace("\n", " ")).split())
    return re.sub(r"([\\`*\[\]<|])", r"\\\1", text)


def _cell(text: str) -> str:
    # GFM splits cells on `|` even inside code spans; a backslash keeps it in the cell.
    return text.replace("|", "\\|")


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _table_name(key: tuple[str, str]) -> str:
    """The lock's spelling: bare in the default schema, else `schema.table`."""
    schema, name = key
    return names.lock_name(name) if schema == DEFAULT_SCHEMA else names.lock_name(schema, name)


def _column_name(key: tuple[str, str], column: str) -> str:
    schema, name = key
    if schema == DEFAULT_SCHEMA:
        return names.lock_name(name, column)
    return names.lock_name(schema, name, column)


def _columns(columns: Iterable[str]) -> str:
    return ", ".join(_code(column) for column in columns)


def _arrows(text: str) -> str:
    return _prose(text).replace(" -> ", " → ")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# -- Head ---------------------------------------------------------------------------------------


def _title(lock: Lock) -> str:
    title = lock.settings.name or "Database schema"
    source = os.path.basename(lock.path)
    return (
        f"# {_prose(title)}\n\n"
        f"Generated by `schemalock docs` from {_code(source)}: edit the lock, not this document."
    )


def _summary(lock: Lock, verification: Verification | None) -> str:
    lines = ["## Summary", ""]
    lines.append(f"- **Tables**: {_table_count(lock)}")
    lines.append(f"- **Schemas**: {_columns(lock.database.schemas)}")
    if lock.settings.ignore:
        lines.append(f"- **Ignored in the database**: {_columns(lock.settings.ignore)}")
    lines.append(f"- **Environments**: {_environments(lock)}")
    invariants = sum(len(flow.invariants) for flow in lock.flows)
    lines.append(
        f"- **Data flows**: {len(lock.flows)}, with {_plural(invariants, 'invariant')}; "
        f"**query contracts**: {len(lock.queries)}"
    )
    if verification is not None:
        mark, counts = _verdict(verification)
        lines.append(
            f"- **Verification**: {mark} {counts} (see the "
            "[verification checklist](#verification-checklist))"
        )
    return "\n".join(lines)


def _table_count(lock: Lock) -> str:
    count = len(lock.database.tables)
    expected = lock.settings.expected_tables
    described = f"{count} described"
    if expected is None or expected == count:
        return described
    gap = "more than" if count > expected else "fewer than"
    return f"{described}, {abs(expected - count)} {gap} the {expected} `expected_tables` claims"


def _environments(lock: Lock) -> str:
    environments = lock.settings.environments
    if not environments:
        return "no policy (`verify --env` has nothing to apply)"
    parts = []
    for name in sorted(environments):
        hosts = environments[name].require_host
        rule = f"requires a host matching {_columns(hosts)}" if hosts else "no host requirement"
        parts.append(f"{_code(name)} {rule}")
    return "; ".join(parts) + " (`verify --env NAME`)"


def _marks(table: Table) -> list[str]:
    marks = []
    if table.critical:
        marks.append("🔒 critical")
    if table.legacy:
        marks.append("🕰️ legacy")
    if table.duplicate_of:
        marks.append(f"duplicate of {_code(table.duplicate_of)}")
    if table.renamed_from:
        marks.append(f"renamed from {_code(table.renamed_from)}")
    return marks


def _overview(lock: Lock) -> str:
    if not lock.database.tables:
        return ""
    lines = ["## Tables", "", _row(["#", "table", "purpose", "columns", "marks"])]
    lines.append("|---|---|---|---|---|")
    for number, table in enumerate(lock.database.tables.values(), 1):
        lines.append(
            _row(
                [
                    str(number),
                    _code(_table_name(table.key)),
                    _prose(table.purpose or ""),
                    str(len(table.columns)),
                    ", ".join(_marks(table)),
                ]
            )
        )
    return "\n".join(lines)


# -- Mermaid ER diagram -------------------------------------------------------------------------

# Words Mermaid's erDiagram lexer reads as keywords (case-insensitively) where a name stands.
_MERMAID_WORDS = frozenset(
    {"erdiagram", "one", "many", "only", "zero", "to", "optionally", "end", "class", "classdef"}
    | {"style", "subgraph", "direction", "title", "acctitle", "accdescr", "pk", "fk", "uk"}
)
_SHORT_TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time with time zone": "timetz",
    "time without time zone": "time",
    "character varying": "varchar",
    "character": "char",
    "double precision": "float8",
    "bit varying": "varbit",
}


def mermaid_token(text: str) -> str:
    """A bare Mermaid word: ASCII letters, digits and `_`, not starting with a digit, never a
    keyword of the erDiagram grammar."""
    token = re.sub(r"[^A-Za-z0-9_]", "_", text) or "_"
    if token[0].isdigit():
        token = f"_{token}"
    return f"{token}_" if token.lower() in _MERMAID_WORDS else token


def mermaid_type(type_name: str) -> str:
    """`numeric(12,2)` -> `numeric_12_2`, `timestamp with time zone` -> `timestamptz`,
    `text[]` -> `text_array`."""
    text = type_name
    for long, short in _SHORT_TYPES.items():
        if text.startswith(long):
            text = short + text[len(long) :]
    text = text.replace("[]", "_array")
    return mermaid_token(re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_"))


def _entities(lock: Lock) -> dict[tuple[str, str], str]:
    """A distinct token per table of the lock and per table its relations point to."""
    keys = list(lock.database.tables)
    for table in lock.database.tables.values():
        keys += [(fk.ref_schema, fk.ref_table) for fk in table.foreign_keys]
    tokens: dict[tuple[str, str], str] = {}
    for key in dict.fromkeys(keys):
        schema, name = key
        base = mermaid_token(name if schema == DEFAULT_SCHEMA else f"{schema}.{name}")
        token, suffix = base, 2
        while token in tokens.values():
            token, suffix = f"{base}_{suffix}", suffix + 1
        tokens[key] = token
    return tokens


def _diagram(lock: Lock) -> str:
    tables = lock.database.tables
    if not tables:
        return ""
    tokens = _entities(lock)
    lines = ["erDiagram"]
    for key, token in tokens.items():
        table = tables.get(key)
        lines += _entity(token, table) if table is not None else [f"    {token}"]
    for table in tables.values():
        lines += [_relation(table, fk, tokens) for fk in table.foreign_keys]
    intro = (
        "## Diagram\n\nTables with their key columns (PK primary key, FK foreign key, UK unique). "
        "A solid line is a relation through the child's primary key, a dashed one any other."
    )
    return f"{intro}\n\n" + _block("\n".join(lines), "mermaid")


def _key_marks(table: Table, column: Column) -> list[str]:
    marks = []
    if table.primary_key and column.name in table.primary_key.columns:
        marks.append("PK")
    if any(column.name in fk.columns for fk in table.foreign_keys):
        marks.append("FK")
    if column.name in _unique_columns(table):
        marks.append("UK")
    return marks


def _unique_columns(table: Table) -> set[str]:
    """Columns unique on their own: by a constraint or a plain unique index. (Mermaid has no
    notation for a composite key but PK, so parts of a composite unique are not marked.)"""
    keys = [unique.columns for unique in table.uniques]
    keys += [index.keys for index in table.indexes if index.unique and index.where is None]
    return {key[0] for key in keys if len(key) == 1}


def _entity(token: str, table: Table) -> list[str]:
    attributes = []
    used: set[str] = set()
    for column in table.columns:
        marks = _key_marks(table, column)
        if not marks:
            continue
        name = mermaid_token(column.name)
        while name in used:  # "a b" and "a.b" both read a_b
            name += "_"
        used.add(name)
        attributes.append(f"        {mermaid_type(column.type)} {name} {', '.join(marks)}")
    if not attributes:
        return [f"    {token}"]
    return [f"    {token} {{", *attributes, "    }"]


def _unique_in(table: Table, columns: tuple[str, ...]) -> bool:
    wanted = set(columns)
    keys = [unique.columns for unique in table.uniques]
    keys += [table.primary_key.columns] if table.primary_key else []
    keys += [index.keys for index in table.indexes if index.unique and index.where is None]
    return any(set(key) == wanted for key in keys)


def _relation(table: Table, fk: ForeignKey, tokens: dict[tuple[str, str], str]) -> str:
    """`parent ||--o{ child : "label"`: the parent's side says how many parents a child row has
    (one when the key is NOT NULL), the child's side how many children a parent row has."""
    columns = [table.column(name) for name in fk.columns]
    required = all(column is not None and not column.nullable for column in columns)
    parent_side = "||" if required else "|o"
    child_side = "o|" if _unique_in(table, fk.columns) else "o{"
    pk = set(table.primary_key.columns) if table.primary_key else set()
    line = "--" if set(fk.columns) <= pk else ".."
    label = re.sub(r'["%\\]', "'", ", ".join(fk.columns))
    parent = tokens[(fk.ref_schema, fk.ref_table)]
    return f'    {parent} {parent_side}{line}{child_side} {tokens[table.key]} : "{label}"'


# -- Tables -------------------------------------------------------------------------------------


def _tables(lock: Lock) -> str:
    sections = []
    referenced_by = _referenced_by(lock)
    for number, table in enumerate(lock.database.tables.values(), 1):
        sections.append(_table(number, table, referenced_by.get(table.key, [])))
    return "\n\n".join(sections)


def _referenced_by(lock: Lock) -> dict[tuple[str, str], list[tuple[Table, ForeignKey]]]:
    found: dict[tuple[str, str], list[tuple[Table, ForeignKey]]] = {}
    for table in lock.database.tables.values():
        for fk in table.foreign_keys:
            found.setdefault((fk.ref_schema, fk.ref_table), []).append((table, fk))
    return found


def _table(number: int, table: Table, incoming: list[tuple[Table, ForeignKey]]) -> str:
    parts = [f"### {number}. {_code(_table_name(table.key))}"]
    facts = list(_table_facts(table))
    if facts:
        parts.append("\n".join(facts))
    if table.columns:
        parts.append(_column_table(table))
    else:
        parts.append("The lock describes no columns of this table.")
    for section in (_constraints(table), _relations(table, incoming), _indexes(table)):
        if section:
            parts.append(section)
    return "\n\n".join(parts)


def _table_facts(table: Table) -> Iterator[str]:
    marks = _marks(table)
    if marks:
        yield f"- **Marks**: {', '.join(marks)}"
    if table.purpose:
        yield f"- **Purpose**: {_prose(table.purpose)}"
    if table.wiring:
        yield f"- **Wiring**: {_arrows(table.wiring)}"
    if table.endpoints:
        yield f"- **API endpoints**: {_columns(table.endpoints)}"
    if table.comment:
        yield f"- **Comment**: {_prose(table.comment)}"
    if table.partition_by:
        yield f"- **Partitioned by**: {_code(table.partition_by)}"
    if not table.mock_data:
        yield "- **Mock data**: allowed here (the `mock-data` check is off)"


def _column_table(table: Table) -> str:
    header = ["column", "type", "nullable", "default", "keys", "references", "accepts", "comment"]
    lines = ["#### Columns", "", _row(header), "|" + "---|" * len(header)]
    for column in table.columns:
        lines.append(
            _row(
                [
                    _code(column.name),
                    _code(column.type),
                    "yes" if column.nullable else "no",
                    _default(column),
                    ", ".join(_column_keys(table, column)),
                    ", ".join(_references(table, column)),
                    _accepts(column),
                    _column_comment(column),
                ]
            )
        )
    return "\n".join(lines)


def _default(column: Column) -> str:
    if column.identity:
        return f"identity ({column.identity})"
    if column.generated:
        return f"generated: {_code(column.generated)} ({column.generated_storage or 'stored'})"
    if column.default == OWNED_SEQUENCE:
        return "serial (owned sequence)"
    return _code(column.default) if column.default is not None else ""


def _column_keys(table: Table, column: Column) -> list[str]:
    keys = []
    if table.primary_key and column.name in table.primary_key.columns:
        keys.append("PK" if len(table.primary_key.columns) == 1 else "PK (composite)")
    if column.name in _unique_columns(table):
        keys.append("unique")
    if any(len(u.columns) > 1 and column.name in u.columns for u in table.uniques):
        keys.append("unique (composite)")
    return keys


def _references(table: Table, column: Column) -> Iterator[str]:
    for fk in table.foreign_keys:
        if column.name in fk.columns:
            target = fk.ref_columns[fk.columns.index(column.name)]
            yield _code(_column_name((fk.ref_schema, fk.ref_table), target))


def _accepts(column: Column) -> str:
    parts = []
    if column.values is not None:
        parts.append(", ".join(_code(value) for value in column.values) or "no value")
    if column.pattern is not None:
        parts.append(f"pattern {_code(column.pattern)}")
    return "; ".join(parts)


def _column_comment(column: Column) -> str:
    parts = ["🔒 **critical**"] if column.critical else []
    if column.comment:
        parts.append(_prose(column.comment))
    if column.renamed_from:
        parts.append(f"renamed from {_code(column.renamed_from)}")
    if not column.mock_data:
        parts.append("mock data allowed")
    return "; ".join(parts)


def _constraints(table: Table) -> str:
    lines = []
    if table.primary_key and len(table.primary_key.columns) > 1:
        lines.append(f"- primary key ({_columns(table.primary_key.columns)})")
    for unique in table.uniques:
        if len(unique.columns) > 1:
            nulls = ", NULLs not distinct" if unique.nulls_not_distinct else ""
            lines.append(f"- unique{_named(unique.name)} ({_columns(unique.columns)}){nulls}")
    for check in table.checks:
        lines.append(f"- check{_named(check.name)}: {_code(check.expression)}")
    return "\n".join(["#### Constraints", "", *lines]) if lines else ""


def _named(name: str | None) -> str:
    return f" {_code(name)}" if name else ""


def _actions(fk: ForeignKey) -> str:
    actions = [f"on delete {fk.on_delete}"]
    if fk.on_update != "no action":
        actions.append(f"on update {fk.on_update}")
    if fk.match != "simple":
        actions.append(f"match {fk.match}")
    if fk.deferrable:
        actions.append("deferrable" + (", initially deferred" if fk.initially_deferred else ""))
    return ", ".join(actions)


def describe_relation(table: Table, fk: ForeignKey) -> str:
    """`jobs.org_id` → `organizations.id` (composite keys as `t (a, b)`)."""
    parent = (fk.ref_schema, fk.ref_table)
    if len(fk.columns) == 1:
        return (
            f"{_code(_column_name(table.key, fk.columns[0]))} → "
            f"{_code(_column_name(parent, fk.ref_columns[0]))}"
        )
    return (
        f"{_code(_table_name(table.key))} ({_columns(fk.columns)}) → "
        f"{_code(_table_name(parent))} ({_columns(fk.ref_columns)})"
    )


def _relations(table: Table, incoming: list[tuple[Table, ForeignKey]]) -> str:
    lines = [
        f"- references: {describe_relation(table, fk)}{_named(fk.name)}, {_actions(fk)}"
        for fk in table.foreign_keys
    ]
    lines += [
        f"- referenced by: {describe_relation(child, fk)}{_named(fk.name)}, {_actions(fk)}"
        for child, fk in incoming
    ]
    return "\n".join(["#### Relations", "", *lines]) if lines else ""


def _index(index: Index) -> str:
    kind = f"{'unique ' if index.unique else ''}{index.method}"
    text = f"- {_code(index.name)}: {kind} ({_columns(index.keys)})"
    if index.include:
        text += f" include ({_columns(index.include)})"
    if index.nulls_not_distinct:
        text += ", NULLs not distinct"
    if index.where:
        text += f" where {_code(index.where)}"
    return text


def _indexes(table: Table) -> str:
    if not table.indexes:
        return ""
    return "\n".join(["#### Indexes", "", *map(_index, table.indexes)])


def _types(lock: Lock) -> str:
    lines = [
        f"- enum {_code(_table_name(enum.key))}: {_columns(enum.labels)}"
        for enum in lock.database.enums.values()
    ]
    for domain in lock.database.domains.values():
        details = [_code(domain.type)]
        if not domain.nullable:
            details.append("not null")
        if domain.default is not None:
            details.append(f"default {_code(domain.default)}")
        details += [f"check{_named(c.name)} {_code(c.expression)}" for c in domain.checks]
        lines.append(f"- domain {_code(_table_name(domain.key))}: {', '.join(details)}")
    return "\n".join(["## Types", "", *lines]) if lines else ""


# -- Flows and query contracts ------------------------------------------------------------------


def _flows(lock: Lock) -> str:
    if not lock.flows:
        return ""
    intro = "## Data flows\n\nEach invariant is checked on the live rows by `schemalock verify`."
    return "\n\n".join([intro, *(_flow(lock, flow) for flow in lock.flows)])


def _flow(lock: Lock, flow: Flow) -> str:
    parts = [f"### {_code(flow.name)}", _block(_arrows(flow.path), "text")]
    if flow.description:
        parts.append(_prose(flow.description))
    items = []
    for invariant in flow.invariants:
        item = f"- **{_code(invariant.name)}** ({invariant.kind}): {demand(lock, invariant)}"
        if invariant.description:
            item += f"\n  {_prose(invariant.description)}"
        if isinstance(invariant.check, CustomCheck):
            item += "\n\n" + _indent(_block(invariant.check.sql, "sql"))
        items.append(item)
    if items:
        parts.append("\n".join(items))
    return "\n\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else line for line in text.splitlines())


def demand(lock: Lock, invariant: Invariant) -> str:
    """What an invariant demands, in plain words."""
    check = invariant.check
    if isinstance(check, Implies):
        scope = "" if check.when.strip().lower() == "true" else f" where {_code(check.when)}"
        return (
            f"every row of {_code(_table_name(check.table))}{scope} satisfies {_code(check.then)}"
        )
    if isinstance(check, Freshness):
        scope = f" where {_code(check.where)}" if check.where else ""
        return (
            f"no row of {_code(_table_name(check.table))}{scope} has {_code(check.column)} "
            f"older than {check.within}"
        )
    if isinstance(check, Reconcile):
        return _reconcile(lock, check)
    about = f" (about {_code(_table_name(check.table))})" if check.table else ""
    return f"the query in {_code(check.path)} returns no rows{about}"


def _reconcile(lock: Lock, check: Reconcile) -> str:
    source = _table_name(check.source)
    if check.measure is None:
        aggregate = f"the number of {_code(source)} rows"
    else:
        aggregate = f"the sum of {_code(_column_name(check.source, check.measure))}"
    table = lock.database.tables.get(check.table)
    pk = table.primary_key.columns if table and table.primary_key else ()
    links = []
    for mine, theirs in check.by:
        # An empty total-table column means its single-column primary key.
        other = theirs or (pk[0] if len(pk) == 1 else "its primary key")
        links.append(
            _code(f"{_column_name(check.source, mine)} = {_column_name(check.table, other)}")
        )
    scope = f" and {_code(check.where)}" if check.where else ""
    return (
        f"{_code(_column_name(check.table, check.column))} equals {aggregate} "
        f"over the rows where {' and '.join(links)}{scope}"
    )


def _queries(lock: Lock) -> str:
    if not lock.queries:
        return ""
    intro = (
        "## Query contracts\n\nQueries the application runs, with the parameter types it sends; "
        "`schemalock verify` prepares each on the live schema (never runs it)."
    )
    return "\n\n".join([intro, *map(_query, lock.queries)])


def _query(query: QueryContract) -> str:
    facts = []
    if query.endpoint:
        facts.append(f"- **Endpoint**: {_code(query.endpoint)}")
    params = ", ".join(_code(f"${n} {t}") for n, t in enumerate(query.params, 1))
    facts.append(f"- **Parameters**: {params or 'none'}")
    if query.description:
        facts.append(f"- **Description**: {_prose(query.description)}")
    return "\n\n".join([f"### {_code(query.name)}", "\n".join(facts), _block(query.sql, "sql")])


# -- Verification checklist ---------------------------------------------------------------------


@dataclass
class _Item:
    """One checklist line: what it is about and what verify said about it."""

    label: str
    passed: str  # what a pass claims
    checked: bool
    findings: list[Finding] = field(default_factory=list)
    inconclusive: list[InconclusiveCheck] = field(default_factory=list)


class _Sorter:
    """Hands each finding and inconclusive check to the first item that claims it."""

    def __init__(self, report: Report) -> None:
        self.findings = list(report.findings)
        self.inconclusive = list(report.inconclusive)

    def take(self, wanted: Callable[[Finding], bool]) -> list[Finding]:
        taken = [f for f in self.findings if wanted(f)]
        self.findings = [f for f in self.findings if not wanted(f)]
        return taken

    def take_checks(self, wanted: Callable[[InconclusiveCheck], bool]) -> list[InconclusiveCheck]:
        taken = [i for i in self.inconclusive if wanted(i)]
        self.inconclusive = [i for i in self.inconclusive if not wanted(i)]
        return taken


def _of_relation(table: Table, fk: ForeignKey) -> Callable[[Finding], bool]:
    def wanted(finding: Finding) -> bool:
        if finding.code not in RELATION_CODES or (finding.schema, finding.table) != table.key:
            return False
        # Relation findings carry the lock line of their foreign key; a column reference's
        # line is its column's, which the codes above keep apart from column findings.
        if fk.line is not None and finding.lock_line is not None:
            return finding.lock_line == fk.line
        return finding.constraint is not None and finding.constraint == fk.name

    return wanted


def _coded(code: str, constraint: str | None = None, prefix: str = "") -> Callable[[Finding], bool]:
    return lambda f: (
        f.code == code
        and (constraint is None or f.constraint == constraint)
        and f.message.startswith(prefix)
    )


def _about(key: tuple[str, str], rules: frozenset[str] | None = None) -> Callable[..., bool]:
    """Findings or inconclusive checks about a table (of `rules`, by name, if given)."""
    return lambda x: (x.schema, x.table) == key and (rules is None or x.rule in rules)


def _labelled(rule: str, label: str) -> Callable[[InconclusiveCheck], bool]:
    return lambda check: check.rule == rule and check.reason.startswith(f"{label}: ")


_RELATION_RULES = frozenset(
    {"missing-foreign-key", "foreign-key-mismatch", "fk-orphans", "fk-not-validated"}
    | {"fk-type-mismatch", "fk-missing-index"}
)


def _checklist(lock: Lock, verification: Verification) -> str:
    report = verification.report
    sorter = _Sorter(report)
    missing = [f for f in report.findings if f.code == MISSING_TABLE]
    relations = _relation_items(lock, verification, sorter, missing)
    flows = _flow_items(lock, verification, sorter)
    queries = _query_items(lock, verification, sorter)
    environment = _environment_items(verification, sorter)
    # Last: what the items above did not claim about a table (flow findings name one too) is
    # the table's own.
    tables = _table_items(lock, verification, sorter)
    groups = [
        ("Tables", tables),
        ("Relations", relations),
        ("Flow invariants", flows),
        ("Query contracts", queries),
        ("Environment", environment),
    ]
    parts = ["## Verification checklist", _verified_line(verification)]
    mark, counts = _verdict(verification)
    parts.append(f"**Result**: {mark} {counts}; failing at `--fail-on {verification.fail_on}`.")
    if not verification.ran("SL201", "SL401", "SL402", "SL403", "SL404", "SL502"):
        parts.append(
            "No rule that reads rows ran (`--no-data`, `--select` or `--ignore`): what needs rows"
            " shows as not checked."
        )
    for title, items in groups:
        if items:
            lines = [_item(item, verification.fail_on) for item in items]
            parts.append("\n".join([f"### {title}", "", *lines]))
    rest = _rest(sorter)
    if rest:
        parts.append("\n".join(["### Other findings", "", *rest]))
    legend = f"{PASS} holds, {FAIL} fails, {INCONCLUSIVE} could not be checked, "
    parts.append(f"{legend}{NOT_CHECKED} not checked (its rules did not run).")
    return "\n\n".join(parts)


def _verified_line(verification: Verification) -> str:
    """The one line that differs between two runs on the same data."""
    report = verification.report
    server = f" (PostgreSQL {report.server_version})" if report.server_version else ""
    when = ""
    if verification.checked_at is not None:
        when = f" on {verification.checked_at.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}"
    target = _code(report.target_url or "?")
    return f"Verified against {target}{server}{when} in {report.duration_ms} ms."


def _verdict(verification: Verification) -> tuple[str, str]:
    report = verification.report
    counts = report.counts()
    shown = ", ".join(
        _plural(counts[s.value], s.value) if s is not Severity.INFO else f"{counts[s.value]} info"
        for s in Severity
    )
    shown += f", {len(report.inconclusive)} inconclusive"
    if report.failed(verification.fail_on):
        return FAIL, shown
    return (INCONCLUSIVE if report.inconclusive else PASS), shown


def _table_items(lock: Lock, verification: Verification, sorter: _Sorter) -> list[_Item]:
    checked = verification.rules is None or any(
        code[:3] in ("SL1", "SL3", "SL4") and code not in RELATION_CODES
        for code in verification.rules
    )
    items = []
    for table in lock.database.tables.values():
        item = _Item(_code(_table_name(table.key)), "matches the lock", checked)
        item.findings = sorter.take(_about(table.key))
        item.inconclusive = sorter.take_checks(_about(table.key))
        items.append(item)
    return items


def _relation_items(
    lock: Lock, verification: Verification, sorter: _Sorter, missing: list[Finding]
) -> list[_Item]:
    claims = [claim for code, claim in RELATION_CLAIMS if verification.ran(code)]
    items = []
    for table in lock.database.tables.values():
        # A check that could not finish (an orphan count) names the child table, not the
        # relation: every relation of the table shows it.
        checks = sorter.take_checks(_about(table.key, _RELATION_RULES))
        for fk in table.foreign_keys:
            item = _Item(describe_relation(table, fk), ", ".join(claims), bool(claims))
            item.findings = sorter.take(_of_relation(table, fk))
            # A missing table fails its relations too (they were never compared); its finding
            # stays listed under the table.
            ends = {table.key, (fk.ref_schema, fk.ref_table)}
            item.findings += [f for f in missing if (f.schema, f.table) in ends]
            item.inconclusive = list(checks)
            items.append(item)
    return items


def _flow_items(lock: Lock, verification: Verification, sorter: _Sorter) -> list[_Item]:
    items = []
    for flow in lock.flows:
        for invariant in flow.invariants:
            label = f"flow {invariant.flow}: {invariant.name}"
            item = _Item(
                f"{_code(flow.name)}: {_code(invariant.name)} ({invariant.kind})",
                "holds on every row",
                verification.ran(FLOW),
            )
            item.findings = sorter.take(_coded(FLOW, invariant.name, f"{label} "))
            item.inconclusive = sorter.take_checks(_labelled("flow-violation", label))
            items.append(item)
    return items


def _query_items(lock: Lock, verification: Verification, sorter: _Sorter) -> list[_Item]:
    items = []
    for query in lock.queries:
        endpoint = f" ({query.endpoint})" if query.endpoint else ""
        shown = f" ({_code(query.endpoint)})" if query.endpoint else ""
        item = _Item(
            f"{_code(query.name)}{shown}", "prepares on the live schema", verification.ran(QUERY)
        )
        label = f"query {query.name}{endpoint}"
        item.findings = sorter.take(_coded(QUERY, query.name, f"{label} "))
        item.inconclusive = sorter.take_checks(_labelled("query-contract-failed", label))
        items.append(item)
    return items


def _environment_items(verification: Verification, sorter: _Sorter) -> list[_Item]:
    if verification.environment is None:
        return []
    item = _Item(
        f"{_code(verification.environment)}",
        "the database's host is one the environment allows",
        verification.ran(POLICY),
    )
    item.findings = sorter.take(_coded(POLICY))
    return [item]


def _item(item: _Item, fail_on: Severity) -> str:
    failing = [f for f in item.findings if f.severity.rank >= fail_on.rank]
    if failing:
        head = f"- {FAIL} {item.label}: fails"
    elif item.inconclusive:
        head = f"- {INCONCLUSIVE} {item.label}: could not be checked"
    elif not item.checked:
        head = f"- {NOT_CHECKED} {item.label}: not checked"
    else:
        head = f"- {PASS} {item.label}: {item.passed}"
    lines = [head, *(f"  - {_finding(f)}" for f in _ordered(item.findings))]
    lines += [f"  - inconclusive: {_escaped(check.reason)}" for check in item.inconclusive]
    return "\n".join(lines)


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity.rank, f.code, f.message))


def _finding(finding: Finding) -> str:
    return f"{finding.severity.value} `{finding.code}` {finding.rule}: {_escaped(finding.message)}"


def _rest(sorter: _Sorter) -> list[str]:
    lines = [f"- {_finding(f)}" for f in _ordered(sorter.findings)]
    lines += [
        f"- {INCONCLUSIVE} inconclusive ({check.rule}): {_escaped(check.reason)}"
        for check in sorter.inconclusive
    ]
    return lines
