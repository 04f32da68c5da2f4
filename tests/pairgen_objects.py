"""The kinds outside tables for the generated pairs (issue 12): views, functions, triggers,
sequences, row-level security, policies and grants (WITH GRANT OPTION or not, and global
default privileges), each on either side or both.

`objects(g)` draws them over the tables `pairgen.Generator` built, with its `Rand`, after the
tables and rows are drawn (a seed's tables and rows are the same as without them), and returns
the SQL of each side, run after its tables and rows (a trigger fires on no row of the pair).
As with tables: absent on a side is added or removed, two definitions are a drift, and every
definition is written for its own side's column types (a view, a trigger or a policy over a
column whose type changes between the sides is one `fix` must work around).  Roles are PUBLIC
and predefined ones every server has (pg_monitor, pg_read_all_stats): no CREATE ROLE.
Extensions are not drawn: which ones a server offers differs from one to another."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pairgen import NEW, OLD, SIDES, Column, Table, ident, qualified

if TYPE_CHECKING:
    from pairgen import Generator

# Statements of a side run phase by phase, in this order (what a statement uses comes first).
PHASES = ("sequences", "functions", "views", "triggers", "security", "grants")
ROLES = ("PUBLIC", "pg_monitor", "pg_read_all_stats")
NUMERIC = ("integer", "bigint", "smallint", "numeric", "posint")
TEXTUAL = ("text", "character varying", "email")
Sides = list[str | None]


def type_class(sql_type: str) -> str:
    """What an expression may do with a column of `sql_type`: compare it with a number, with
    a string, use it as a condition, or only ask whether it is NULL."""
    if sql_type.endswith("[]"):
        return "other"
    if any(n in sql_type for n in NUMERIC):
        return "num"
    if any(t in sql_type for t in TEXTUAL):
        return "text"
    return "bool" if sql_type == "boolean" else "other"


def predicate(col: Column, sides: list[int], prefix: str = "") -> str:
    """A condition over `col` valid on every side listed (one spelling for all)."""
    c = prefix + ident(col.name)
    classes = {type_class(d.type) for s in sides if (d := col.defs[s]) is not None}
    if len(classes) != 1:
        return f"{c} IS NOT NULL"
    return {"num": f"{c} > 0", "text": f"{c} <> ''", "bool": f"{c} IS NOT FALSE"}.get(
        classes.pop(), f"{c} IS NOT NULL"
    )


@dataclass
class View:
    qname: str
    present: list[bool]
    outputs: list[list[str]]  # per side: the output column names (as SQL)


@dataclass
class Function:
    qname: str
    identity: str  # name(argument types), as GRANT and DROP name it
    present: list[bool]
    kind: str  # 'length' (takes text: views call it), 'int', 'count', 'procedure', 'trigger'
    returns_changed: bool = False


@dataclass(frozen=True)
class SequenceOptions:
    type: str  # '' for the default (bigint)
    increment: int
    max: int | None
    cache: int
    cycle: bool

    def changed(self, aspect: str) -> SequenceOptions:
        if aspect == "increment":
            return replace(self, increment=5 if self.increment != 5 else 1)
        if aspect == "max":
            return replace(self, max=500 if self.max != 500 else None)
        if aspect == "cache":
            return replace(self, cache=10 if self.cache != 10 else 1)
        if aspect == "cycle":
            return replace(self, cycle=not self.cycle)
        return replace(self, type="bigint" if self.type != "bigint" else "integer")


@dataclass
class Objects:
    """The statements of each side, by phase."""

    statements: dict[str, list[list[str]]] = field(
        default_factory=lambda: {phase: [[], []] for phase in PHASES}
    )

    def add(self, phase: str, sides: Sides) -> None:
        for side in SIDES:
            text = sides[side]
            if text is not None:
                self.statements[phase][side].append(text if text.endswith(";") else text + ";")

    def sql(self, side: int) -> str:
        return "\n".join(s for phase in PHASES for s in self.statements[phase][side])


class ObjectGenerator:
    """Draws the objects in the order one may use another: sequences, functions, views (over
    tables, functions and earlier views), triggers, row-level security and policies, grants."""

    def __init__(self, g: Generator) -> None:
        self.g = g
        self.r = g.r
        self.out = Objects()
        self.views: list[View] = []
        self.functions: list[Function] = []
        self.sequences: list[tuple[str, list[bool]]] = []

    # shared helpers

    def presence(self, allowed: list[bool], what: str, p: float = 0.25) -> list[bool]:
        """Present wherever allowed, or (a drift, with chance p) on one side only."""
        present = list(allowed)
        if present == [True, True] and self.r.chance(p):
            gone = self.r.pick(SIDES)
            present[gone] = False
            self.g.drifts.append(f"{what} {'added' if gone == OLD else 'removed'}")
        return present

    def drift(self, what: str) -> None:
        self.g.drifts.append(what)

    def tables(self) -> list[Table]:
        return [t for t in self.g.tables if any(self.columns(t, s) for s in SIDES)]

    def columns(self, table: Table, side: int, plain: bool = False) -> list[Column]:
        """The table's columns on `side` (`plain`: not generated, which a BEFORE trigger's
        WHEN may not read)."""
        if not table.present[side]:
            return []
        return [
            c
            for c in table.columns
            if (d := c.defs[side]) is not None and not (plain and d.generated is not None)
        ]

    def shared(self, table: Table, plain: bool = False) -> list[Column]:
        """Columns on both sides (of the same type, but with a small chance)."""
        both = [c for c in self.columns(table, OLD, plain) if c.defs[NEW] is not None]
        both = [c for c in both if not plain or all(d and d.generated is None for d in c.defs)]
        same = [c for c in both if len({d.type for d in c.defs if d}) == 1]
        return both if self.r.chance(0.3) else same

    def some(self, options: list[Column], most: int) -> list[Column]:
        chosen: list[Column] = []
        for _ in range(1 + self.r.upto(most - 1)):
            col = self.r.pick(options)
            if col not in chosen:
                chosen.append(col)
        return chosen

    def schema(self, new_only: bool = False) -> tuple[str, list[bool]]:
        name = self.g.any_schema(new_only)
        return name, list(self.g.schemas[name])

    # sequences

    def sequence(self) -> None:
        r = self.r
        schema, allowed = self.schema(new_only=r.chance(0.15))
        qname = qualified(schema, self.g.fresh("seq"))
        present = self.presence(allowed, "sequence", p=0.2)
        if present == [False, True]:
            self.drift("sequence added")
        options = SequenceOptions(
            r.pick(["", "integer", "bigint", "smallint"]),
            r.pick([1, 1, 2, 10]),
            r.pick([None, 1000, 30000]),
            r.pick([1, 1, 20]),
            r.chance(0.2),
        )
        sides = [options if present[s] else None for s in SIDES]
        if present == [True, True] and r.chance(0.5):
            aspect = r.pick(["increment", "max", "cache", "cycle", "as"])
            sides[NEW] = options.changed(aspect)
            self.drift(f"sequence {aspect} changed")
        statements: Sides = [None, None]
        for side in SIDES:
            o = sides[side]
            if o is None:
                continue
            text = f"CREATE SEQUENCE {qname}"
            text += f" AS {o.type}" if o.type else ""
            text += f" INCREMENT BY {o.increment}"
            text += f" MAXVALUE {o.max}" if o.max else ""
            text += f" CACHE {o.cache}" + (" CYCLE" if o.cycle else "") + ";"
            if side == OLD and r.chance(0.3):  # used: a value a lower maximum cannot take
                text += f"\nSELECT setval('{qname}', {r.pick([3, 700, 900])});"
            statements[side] = text
        self.out.add("sequences", statements)
        self.owned_by(qname, schema, present)
        self.sequences.append((qname, present))

    def owned_by(self, qname: str, schema: str, present: list[bool]) -> None:
        """At times OWNED BY an integer column both sides hold, of a table of its schema."""
        r = self.r
        owners = [
            (t, c)
            for t in self.g.tables
            if t.schema == schema and t.present == [True, True]
            for c in self.shared(t)
            if c.kind == "int" and all(d and d.generated is None for d in c.defs)
        ]
        if not owners or not r.chance(0.3):
            return
        table, col = r.pick(owners)
        sides = self.presence(present, "sequence owner", p=0.3)
        text = f"ALTER SEQUENCE {qname} OWNED BY {table.qname}.{ident(col.name)}"
        self.out.add("sequences", [text if sides[s] else None for s in SIDES])

    # functions

    def function(self) -> None:
        r = self.r
        kind = r.pick(["length", "length", "int", "count", "procedure"])
        schema, allowed = self.schema(new_only=r.chance(0.1))
        name = self.g.fresh("f")
        qname = qualified(schema, name)
        arguments = {"length": "x text", "int": "x integer", "procedure": "x integer"}.get(kind)
        if kind == "count":
            table = r.pick(self.g.tables)
            allowed = [allowed[s] and table.present[s] for s in SIDES]
        present = self.presence(allowed, "function")
        sides: list[dict[str, str] | None] = [None, None]
        for side in SIDES:
            if not present[side]:
                continue
            if kind == "length":
                spec = {"returns": "integer", "body": "SELECT length(x)", "volatility": "IMMUTABLE"}
            elif kind == "int":
                spec = {"returns": "integer", "body": "BEGIN RETURN x * 2; END", "language": ""}
                spec["volatility"] = "IMMUTABLE STRICT"
            elif kind == "count":
                body = f"SELECT count(*) FROM {table.qname}"
                spec = {"returns": "bigint", "body": body, "volatility": "STABLE"}
                spec["security"] = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
            else:
                spec = {"body": "BEGIN PERFORM x; END"}
            sides[side] = spec
        old, new = sides
        if old is not None and new is not None and r.chance(0.5):
            self.function_drift(kind, new)
        statements: Sides = [None, None]
        for side in SIDES:
            if (made := sides[side]) is not None:
                statements[side] = self.function_sql(kind, qname, arguments, made)
        self.out.add("functions", statements)
        types = {"length": "text", "int": "integer", "procedure": "integer"}.get(kind, "")
        word = "PROCEDURE" if kind == "procedure" else "FUNCTION"
        returns = {spec.get("returns") for spec in sides if spec is not None}
        function = Function(qname, f"{word} {qname}({types})", present, kind, len(returns) == 2)
        self.functions.append(function)

    def function_drift(self, kind: str, new: dict[str, str]) -> None:
        r = self.r
        if kind == "length":
            aspect = r.pick(["body", "volatility", "returns"])
            if aspect == "body":
                new["body"] = "SELECT length(x) + 1"
            elif aspect == "volatility":
                new["volatility"] = "STABLE"
            else:
                new["returns"], new["body"] = "bigint", "SELECT length(x)::bigint"
        elif kind == "int":
            aspect = r.pick(["body", "strict", "argument name", "language"])
            if aspect == "body":
                new["body"] = "BEGIN RETURN x * 3; END"
            elif aspect == "strict":
                new["volatility"] = "IMMUTABLE"
            elif aspect == "argument name":
                new["arguments"], new["body"] = "n integer", "BEGIN RETURN n * 2; END"
            else:
                new["language"], new["body"] = "sql", "SELECT x * 2"
        elif kind == "count":
            aspect = r.pick(["security definer", "body"])
            if aspect == "body":
                new["body"] += " WHERE true"
            else:
                del new["security"]
        else:
            aspect = "body"
            new["body"] = "BEGIN PERFORM x + 1; END"
        self.drift(f"function {aspect} changed")

    def function_sql(
        self, kind: str, qname: str, arguments: str | None, spec: dict[str, str]
    ) -> str:
        args = spec.get("arguments", arguments or "")
        if kind == "procedure":
            return f"CREATE PROCEDURE {qname}({args}) LANGUAGE plpgsql AS $$ {spec['body']} $$"
        language = spec.get("language") or (
            "plpgsql" if spec["body"].startswith("BEGIN") else "sql"
        )
        return (
            f"CREATE FUNCTION {qname}({args}) RETURNS {spec['returns']} LANGUAGE {language}"
            f" {spec['volatility']} {spec.get('security', '')} AS $$ {spec['body']} $$"
        )

    # views

    def view(self) -> None:
        if self.views and self.r.chance(0.3):
            self.view_over_view()
        else:
            self.view_over_table()

    def view_over_table(self) -> None:
        r = self.r
        tables = self.tables()
        if not tables:
            return
        table = r.pick(tables)
        allowed = [bool(self.columns(table, s)) for s in SIDES]
        materialized = r.chance(0.25)
        what = "materialized view" if materialized else "view"
        present = self.presence(allowed, what)
        if present == [False, True] and table.present[OLD]:
            self.drift(f"{what} added")
        name = self.g.fresh("v")
        shared = self.shared(table) if present == [True, True] else []
        base = self.some(shared, 3) if shared else []
        if any(len({d.type for d in c.defs if d}) == 2 for c in base):
            self.drift("view over a converted column")
        picked: list[list[Column]] = [[], []]
        for side in SIDES:
            if present[side]:
                picked[side] = base or self.some(self.columns(table, side), 3)
        if present == [True, True] and r.chance(0.3):
            self.view_query_drift(table, picked)
        where = r.chance(0.4)
        calls = [f for f in self.functions if f.kind == "length"] if r.chance(0.4) else []
        call = r.pick(calls) if calls else None
        statements: Sides = [None, None]
        outputs: list[list[str]] = [[], []]
        for side in SIDES:
            cols = picked[side]
            if not cols:
                continue
            items = [ident(c.name) for c in cols]
            outputs[side] = list(items)
            if call is not None and call.present[side]:
                items.append(f"{call.qname}(({ident(cols[0].name)})::text) AS fn")
                outputs[side].append("fn")
            text = f"SELECT {', '.join(items)} FROM {table.qname}"
            if where:
                text += f" WHERE {predicate(cols[0], [s for s in SIDES if picked[s]])}"
            kind = "MATERIALIZED VIEW" if materialized else "VIEW"
            statements[side] = f"CREATE {kind} {qualified(table.schema, name)} AS {text}"
        if call is not None and present == [True, True] and call.present == [True, True]:
            self.drift("view calling a function")
            if call.returns_changed:
                self.drift("view calling a function whose return type changes")
        view = View(qualified(table.schema, name), present, outputs)
        self.out.add("views", statements)
        if materialized:
            self.view_index(view, name, table.schema)
        self.views.append(view)

    def view_query_drift(self, table: Table, picked: list[list[Column]]) -> None:
        """The new side's query reads another list of columns."""
        new = list(picked[NEW])
        others = [c for c in self.columns(table, NEW) if c not in new]
        if others and (len(new) == 1 or self.r.chance(0.5)):
            new.append(self.r.pick(others))
            self.drift("view column added")
        elif len(new) > 1:
            new.pop()
            self.drift("view column removed")
        picked[NEW] = new

    def view_index(self, view: View, name: str, schema: str) -> None:
        outputs = [o for o in view.outputs[OLD] if o in view.outputs[NEW]] or (
            view.outputs[OLD] or view.outputs[NEW]
        )
        column = self.r.pick(outputs)
        allowed = [view.present[s] and column in view.outputs[s] for s in SIDES]
        present = self.presence(allowed, "materialized view index", p=0.3)
        text = f"CREATE INDEX {ident(self.g.fresh(name + '_idx'))} ON {view.qname} ({column})"
        self.out.add("views", [text if present[s] else None for s in SIDES])

    def view_over_view(self) -> None:
        r = self.r
        under = r.pick(self.views)
        present = self.presence(
            [under.present[s] and bool(under.outputs[s]) for s in SIDES], "view"
        )
        common = [o for o in under.outputs[OLD] if o in under.outputs[NEW]]
        picked = [common or under.outputs[s] if present[s] else [] for s in SIDES]
        if present == [True, True]:
            self.drift("view reading a view")
        schema = under.qname.split(".")[0]
        name = f"{schema}.{self.g.fresh('vv')}"
        statements: Sides = [None, None]
        for side in SIDES:
            if picked[side]:
                statements[side] = (
                    f"CREATE VIEW {name} AS SELECT {', '.join(picked[side])} FROM {under.qname}"
                )
        self.out.add("views", statements)
        self.views.append(View(name, present, picked))

    # triggers

    def trigger_function(self) -> Function:
        r = self.r
        schema, allowed = self.schema()
        qname = qualified(schema, self.g.fresh("trg"))
        present = self.presence(allowed, "trigger function", p=0.15)
        body = "BEGIN RETURN NEW; END"
        bodies: Sides = [body if present[s] else None for s in SIDES]
        if present == [True, True] and r.chance(0.3):
            bodies[NEW] = "BEGIN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END"
            self.drift("trigger function body changed")
        statements: Sides = [
            f"CREATE FUNCTION {qname}() RETURNS trigger LANGUAGE plpgsql AS $$ {b} $$"
            if b is not None
            else None
            for b in bodies
        ]
        self.out.add("functions", statements)
        function = Function(qname, f"FUNCTION {qname}()", present, "trigger")
        self.functions.append(function)
        return function

    def trigger(self, functions: list[Function]) -> None:
        r = self.r
        table = r.pick(self.tables())
        function = r.pick(functions)
        allowed = [bool(self.columns(table, s)) and function.present[s] for s in SIDES]
        present = self.presence(allowed, "trigger")
        if present == [False, True] and table.present[OLD]:
            self.drift("trigger added")
        if not any(present):
            return
        shared = self.shared(table, plain=True)
        converted = [c for c in shared if len({d.type for d in c.defs if d}) == 2]
        if converted and r.chance(0.5):
            shared = converted  # PostgreSQL cannot convert a column a trigger names
        side = OLD if present[OLD] else NEW
        col = r.pick(shared or self.columns(table, side, plain=True) or [None])
        spec = {
            "timing": r.pick(["BEFORE", "AFTER"]),
            "events": r.pick(["INSERT", "UPDATE", "INSERT OR UPDATE", "UPDATE OF", "DELETE"]),
            "row": r.chance(0.8),
            "when": r.chance(0.4),
            "state": r.pick(["", "", "", "DISABLE", "ENABLE ALWAYS", "ENABLE REPLICA"]),
            "function": function.qname,
        }
        if spec["events"] == "DELETE":
            spec["timing"] = "AFTER"  # a BEFORE DELETE trigger returning NEW skips the delete
        sides = [dict(spec) if present[s] else None for s in SIDES]
        new = sides[NEW]
        if present == [True, True] and new is not None and r.chance(0.4):
            aspect = r.pick(["timing", "when", "state", "function", "events"])
            others = [f for f in functions if f.present[NEW] and f.qname != function.qname]
            if aspect == "timing" and new["events"] != "DELETE":
                new["timing"] = "AFTER" if new["timing"] == "BEFORE" else "BEFORE"
            elif aspect == "when":
                new["when"] = not new["when"]
            elif aspect == "state":
                new["state"] = "DISABLE" if new["state"] != "DISABLE" else ""
            elif aspect == "function" and others:
                new["function"] = r.pick(others).qname
            elif aspect == "events" and new["events"] != "DELETE":
                new["events"] = (
                    "INSERT OR UPDATE" if new["events"] != "INSERT OR UPDATE" else "UPDATE"
                )
            else:
                aspect = "none"
            if aspect != "none":
                self.drift(f"trigger {aspect} changed")
        if present == [True, True] and col and len({d.type for d in col.defs if d}) == 2:
            self.drift("trigger over a converted column")
        if table.partitioning is not None and any(present):
            self.drift("trigger on a partitioned table")
        name = ident(self.g.fresh("tg"))
        statements: Sides = [None, None]
        for s in SIDES:
            o = sides[s]
            if o is not None:
                statements[s] = self.trigger_sql(name, table, o, col if col else None, s)
        self.out.add("triggers", statements)

    def trigger_sql(
        self, name: str, table: Table, o: dict[str, object], col: Column | None, side: int
    ) -> str:
        events = str(o["events"])
        if col is None or col.defs[side] is None:
            col = next(iter(self.columns(table, side, plain=True)), None)
        if events == "UPDATE OF":
            events = f"UPDATE OF {ident(col.name)}" if col else "UPDATE"
        row = bool(o["row"])
        text = f"CREATE TRIGGER {name} {o['timing']} {events} ON {table.qname}"
        text += f" FOR EACH {'ROW' if row else 'STATEMENT'}"
        if o["when"] and row and col is not None:
            if events.startswith("UPDATE"):
                c = ident(col.name)
                text += f" WHEN (OLD.{c} IS DISTINCT FROM NEW.{c})"
            else:
                record = "OLD." if events == "DELETE" else "NEW."
                text += f" WHEN ({predicate(col, [side], record)})"
        text += f" EXECUTE FUNCTION {o['function']}()"
        if o["state"]:
            text += f";\nALTER TABLE {table.qname} {o['state']} TRIGGER {name}"
        return text

    # row-level security and policies

    def security(self, table: Table) -> None:
        r = self.r
        if r.chance(0.6):
            enabled = self.presence(list(table.present), "row-level security", p=0.3)
            forced = r.chance(0.25)
            self.out.add(
                "security",
                [
                    f"ALTER TABLE {table.qname} ENABLE ROW LEVEL SECURITY"
                    + (f";\nALTER TABLE {table.qname} FORCE ROW LEVEL SECURITY" if forced else "")
                    if enabled[s]
                    else None
                    for s in SIDES
                ],
            )
        for _ in range(1 + r.upto(1)):
            self.policy(table)

    def policy(self, table: Table) -> None:
        r = self.r
        allowed = [bool(self.columns(table, s)) for s in SIDES]
        present = self.presence(allowed, "policy")
        if not any(present):
            return
        both = present == [True, True]
        options = self.shared(table) if both else []
        col = r.pick(options or self.columns(table, OLD if present[OLD] else NEW))
        if both and len({d.type for d in col.defs if d}) == 2:
            self.drift("policy over a converted column")
        spec = {
            "command": r.pick(["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"]),
            "restrictive": r.chance(0.2),
            "roles": r.pick([["PUBLIC"], ["pg_monitor"], ["pg_monitor", "pg_read_all_stats"]]),
            "using": predicate(col, [s for s in SIDES if present[s]]),
            "check": f"{ident(col.name)} IS NOT NULL",
        }
        sides = [dict(spec) if present[s] else None for s in SIDES]
        new = sides[NEW]
        if both and new is not None and r.chance(0.4):
            aspect = r.pick(["roles", "using", "command", "mode"])
            if aspect == "roles":
                new["roles"] = (
                    ["pg_read_all_stats"] if spec["roles"] != ["pg_read_all_stats"] else ["PUBLIC"]
                )
            elif aspect == "using":
                new["using"] = f"({spec['using']}) OR current_user = 'postgres'"
                new["check"] = f"({spec['check']}) OR current_user = 'postgres'"
            elif aspect == "command":
                new["command"] = "SELECT" if spec["command"] != "SELECT" else "ALL"
            else:
                new["restrictive"] = not spec["restrictive"]
            self.drift(f"policy {aspect} changed")
        name = ident(self.g.fresh("pol"))
        statements: Sides = [None, None]
        for s in SIDES:
            o = sides[s]
            if o is None:
                continue
            command = str(o["command"])
            text = f"CREATE POLICY {name} ON {table.qname}"
            text += " AS RESTRICTIVE" if o["restrictive"] else ""
            text += f" FOR {command} TO {', '.join(o['roles'])}"  # type: ignore[arg-type]
            if command != "INSERT":
                text += f" USING ({o['using']})"
            if command in ("ALL", "UPDATE", "INSERT"):
                text += f" WITH CHECK ({o['check']})"
            statements[s] = text
        self.out.add("security", statements)

    # grants

    def grant(self) -> None:
        r = self.r
        targets: list[tuple[str, list[bool], list[str]]] = []
        for table in self.tables():
            targets.append(
                (f"TABLE {table.qname}", list(table.present), ["SELECT", "INSERT", "UPDATE"])
            )
        for view in self.views:
            targets.append((f"TABLE {view.qname}", view.present, ["SELECT"]))
        for name, present in self.sequences:
            targets.append((f"SEQUENCE {name}", present, ["USAGE", "SELECT"]))
        for f in self.functions:
            if f.kind != "trigger":
                targets.append((f.identity, f.present, ["EXECUTE"]))
        target, allowed, privileges = r.pick(targets)
        privilege = r.pick(privileges)
        on = target
        if target.startswith("TABLE") and privilege != "INSERT" and r.chance(0.3):
            owner = next((t for t in self.g.tables if f"TABLE {t.qname}" == target), None)
            shared = self.shared(owner) if owner and owner.present == [True, True] else []
            if shared:
                privilege += f" ({ident(r.pick(shared).name)})"
                self.drift("column grant")
        role = r.pick(["PUBLIC", "pg_monitor"])
        present = self.presence(allowed, "grant", p=0.4)
        text = f"GRANT {privilege} ON {on} TO {role}"
        option = self.grant_option(present) if role != "PUBLIC" else [False, False]
        self.out.add(
            "grants",
            [f"{text}{' WITH GRANT OPTION' * option[s]}" if present[s] else None for s in SIDES],
        )

    def grant_option(self, present: list[bool]) -> list[bool]:
        """On which sides a grant (on the sides `present`) is WITH GRANT OPTION (PUBLIC
        cannot hold one)."""
        if not self.r.chance(0.3):
            return [False, False]
        option = [self.r.chance(0.5) for _ in SIDES]
        if option[OLD] != option[NEW] and present == [True, True]:
            self.drift("grant option")
        return option

    def global_default(self) -> None:
        """Global default privileges (no IN SCHEMA) of pg_monitor: the objects fix creates
        are the connecting role's, so they never take these on."""
        r = self.r
        kind, privilege = r.pick(
            [("TABLES", "SELECT"), ("TABLES", "INSERT"), ("SEQUENCES", "USAGE"),
             ("FUNCTIONS", "EXECUTE"), ("TYPES", "USAGE"), ("SCHEMAS", "USAGE")]
        )  # fmt: skip
        present = self.presence([True, True], "global default privileges", p=0.5)
        head = "ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor"
        if kind in ("FUNCTIONS", "TYPES") and r.chance(0.5):
            texts = [f"{head} REVOKE {privilege} ON {kind} FROM PUBLIC"] * 2
        else:
            text = f"{head} GRANT {privilege} ON {kind} TO pg_read_all_stats"
            texts = [f"{text}{' WITH GRANT OPTION' * o}" for o in self.grant_option(present)]
        self.out.add("grants", [texts[s] if present[s] else None for s in SIDES])

    def build(self) -> Objects:
        r = self.r
        for _ in range(r.upto(2)):
            self.sequence()
        for _ in range(r.upto(3)):
            self.function()
        for _ in range(r.upto(3)):
            self.view()
        if self.tables() and r.chance(0.6):
            functions = [self.trigger_function() for _ in range(1 + r.upto(1))]
            for _ in range(1 + r.upto(2)):
                self.trigger(functions)
        for table in self.tables():
            if r.chance(0.25):
                self.security(table)
        for _ in range(r.upto(3)):
            if self.tables() or self.sequences or self.functions:
                self.grant()
        if r.chance(0.3):
            self.global_default()
        return self.out


def objects(g: Generator) -> tuple[str, str]:
    """The SQL of the old and of the new side (run after each side's tables and rows)."""
    made = ObjectGenerator(g).build()
    return made.sql(OLD), made.sql(NEW)
