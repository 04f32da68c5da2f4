"""What each change deepdiff finds between two plain forms (`declarations`) does to the lock's
promises, read from its path: `flows.<flow>.invariants.<name>` removed is a regression, a
`values` element removed is progress (fewer values accepted), a comment changed is neutral.

A change is placed at its entry's line in the new lock; an entry removed (a flow, an
invariant, a query contract, an environment, a waiver) at its line in the base lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemalock.check import waivers
from schemalock.guard.changes import Change, Kind
from schemalock.guard.declarations import Form, Path, seconds
from schemalock.model import Freshness, Invariant, Waiver

# deepdiff's report types, as what happened to the value at the path.
_HAPPENED = {
    "dictionary_item_added": "added",
    "set_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "set_item_removed": "removed",
    "iterable_item_removed": "removed",
    "values_changed": "changed",
    "type_changes": "changed",
}


@dataclass(frozen=True)
class Event:
    """One change deepdiff reports: at `path`, a key (or a set's `element`) added, removed or
    changed, with its value before and after (None where it is absent)."""

    path: Path
    happened: str
    element: bool
    before: Any
    after: Any

    @property
    def value(self) -> Any:
        return self.after if self.happened == "added" else self.before


def changes(new: Form, old: Form) -> list[Change]:
    from deepdiff import DeepDiff
    from deepdiff.helper import notpresent

    found = []
    before, after = _unequal(old.data, new.data)
    # threshold 0: by default deepdiff reports a dict that shares under a third of its keys
    # as one value changed (two flows removed would be "flows: changed").
    compared = DeepDiff(before, after, view="tree", threshold_to_diff_deeper=0)
    for report_type, levels in compared.items():
        for level in levels:
            path = level.path(output_format="list")
            element = bool(path) and path[-1] is None
            event = Event(
                path=tuple(str(part) for part in (path[:-1] if element else path)),
                happened=_HAPPENED.get(report_type, "changed"),
                element=element,
                before=None if level.t1 is notpresent else level.t1,
                after=None if level.t2 is notpresent else level.t2,
            )
            for one in expanded(event):
                shown = _as_written(one, new, old)
                found.append(_placed(shown, *_judge(shown, new, old), new, old))
    return found


def _as_written(event: Event, new: Form, old: Form) -> Event:
    """`event` with SQL as the locks write it: `data` holds parse trees, to compare."""
    if event.element:
        return event
    return Event(
        event.path,
        event.happened,
        event.element,
        _written(event.before, event.path, old),
        _written(event.after, event.path, new),
    )


def _written(value: Any, path: Path, form: Form) -> Any:
    if path in form.texts and value is not None:
        return form.texts[path]
    if isinstance(value, dict):
        return {key: _written(item, (*path, str(key)), form) for key, item in value.items()}
    return value


# The paths whose value is one entry, judged whole when it is added or removed (a flow with
# its invariants); any other dict added, removed or replaced is broken down key by key.
_ENTRIES = (
    ("environments", None),
    ("flows", None),
    ("flows", None, "invariants", None),
    ("queries", None),
    ("waivers", None),
)


def _is_entry(path: Path) -> bool:
    return any(
        len(path) == len(shape)
        and all(p is None or p == q for p, q in zip(shape, path, strict=True))
        for shape in _ENTRIES
    )


def expanded(event: Event) -> list[Event]:
    """`event` as the changes of single entries and values: a whole section, dict or set
    added, removed or replaced (deepdiff's `values_changed` or `type_changes` of a
    container) becomes one event per key or element it holds, so nothing is judged as an
    anonymous "changed" container."""
    before, after = event.before, event.after
    if event.element:
        return [event]
    if event.happened == "changed" and _container(before) and _container(after):
        if isinstance(before, dict) and isinstance(after, dict):
            return _keys(event.path, before, after)
        if isinstance(before, frozenset | set) and isinstance(after, frozenset | set):
            return [Event(event.path, "removed", True, item, None) for item in before - after] + [
                Event(event.path, "added", True, None, item) for item in after - before
            ]
    if event.happened == "changed" and (_container(before) or _container(after)):
        # one side a container, the other a plain value: the old one gone, the new one here
        return expanded(Event(event.path, "removed", False, before, None)) + expanded(
            Event(event.path, "added", False, None, after)
        )
    if event.happened in ("added", "removed") and not _is_entry(event.path):
        value, gone = event.value, event.happened == "removed"
        if isinstance(value, dict):
            return _keys(event.path, value if gone else {}, {} if gone else value)
        if isinstance(value, frozenset | set) and event.path[-1:] != ("values",):
            # a set of names (schemas, hosts, endpoints): each one gained or lost; `values`
            # is judged whole (no list at all accepts any value)
            return [
                Event(event.path, event.happened, True, *((item, None) if gone else (None, item)))
                for item in sorted(value, key=str)
            ]
    return [event]


def _container(value: Any) -> bool:
    return isinstance(value, dict | frozenset | set)


def _keys(path: Path, before: dict[str, Any], after: dict[str, Any]) -> list[Event]:
    found: list[Event] = []
    for key in sorted(before.keys() | after.keys(), key=str):
        was, now = before.get(key, _ABSENT), after.get(key, _ABSENT)
        if was == now:
            continue
        happened = "added" if was is _ABSENT else "removed" if now is _ABSENT else "changed"
        found += expanded(
            Event(
                (*path, str(key)),
                happened,
                False,
                None if was is _ABSENT else was,
                None if now is _ABSENT else now,
            )
        )
    return found


def _unequal(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two forms without the entries (a table, a flow, ...) equal on both sides: deepdiff
    would find nothing in them, after a walk that takes seconds on a lock of thousands of
    tables."""
    before, after = {}, {}
    for section in old.keys() | new.keys():
        was, now = old.get(section, {}), new.get(section, {})
        if was == now:
            continue
        if not (isinstance(was, dict) and isinstance(now, dict)):
            before[section], after[section] = was, now
            continue
        before[section] = {k: v for k, v in was.items() if now.get(k, _ABSENT) != v}
        after[section] = {k: v for k, v in now.items() if was.get(k, _ABSENT) != v}
    return before, after


_ABSENT = object()


def _judge(event: Event, new: Form, old: Form) -> tuple[Kind, str, str | None]:
    """(kind, what happened, the reason that acknowledges it) for one event.  Every path of
    the plain form (`declarations`) is named here; a path this does not know is judged a
    regression, so nothing the guard does not understand passes as neutral."""
    match event.path:
        case ("database", "name" | "expected_tables"):
            return Kind.NEUTRAL, _changed(event), None  # a name; lint's count of tables
        case ("database", "schemas"):
            return _toggle(event, "added", "covered now", "no longer covered")
        case ("database", "ignore"):
            return _toggle(
                event,
                "removed",
                "no longer left out: the tables it matches are checked again",
                "added: the tables it matches are left out of every check",
            )
        case ("environments", _):
            return _entry(event, "environment")
        case ("environments", name, "require_host"):
            return _hosts(event, new.data["environments"].get(name), old.data["environments"])
        case ("tables", _, "purpose" | "wiring" | "comment" | "legacy"):
            return Kind.NEUTRAL, _changed(event), None  # documentation
        case ("tables", _, "endpoints"):
            return _toggle(
                event, "added", "listed now", "no longer listed: the API probe does not ask it"
            )
        case ("tables", _, "critical") | ("tables", _, "columns", _, "critical"):
            lost = event.before is True
            return (
                (Kind.REGRESSION, "no longer marked critical", None)
                if lost
                else (Kind.PROGRESS, "marked critical", None)
            )
        case ("tables", _, "mock_data") | ("tables", _, "columns", _, "mock_data"):
            if event.after is False:
                return Kind.REGRESSION, "mock_data: false: the mock-data scan is off", None
            return Kind.PROGRESS, "the mock-data scan is on", None
        case ("tables", _, "duplicate_of"):
            return _rule(event, f"{event.after or event.before}")
        case ("tables", _, "columns", _, "comment"):
            return Kind.NEUTRAL, _changed(event), None
        case ("tables", _, "columns", _, "pattern"):
            return _rule(event, repr(event.after or event.before))
        case ("tables", _, "columns", _, "values"):
            return _values(event)
        case ("flows", _):
            return _entry(event, "flow", _invariants(event.value))
        case ("flows", _, "path" | "description"):
            return Kind.NEUTRAL, _changed(event), None
        case ("flows", _, "invariants", _):
            return _entry(event, "invariant")
        case ("flows", _, "invariants", _, "description"):
            return Kind.NEUTRAL, _changed(event), None
        case ("flows", _, "invariants", _, "check", "within") if event.happened == "changed":
            return _within(event)
        case ("flows", flow, "invariants", name, "check", "where"):
            return _where(event, new.invariants.get((flow, name)))
        case ("flows", _, "invariants", _, "check", "path"):
            return Kind.NEUTRAL, f"{_changed(event)}: the check file moved", None
        case ("flows", _, "invariants", _, "check", "sql"):
            return Kind.REGRESSION, "the check file's SQL changed: it checks something else", None
        case ("flows", _, "invariants", _, "kind" | "check", *_):
            return Kind.REGRESSION, f"{_changed(event)}: the invariant checks something else", None
        case ("queries", _):
            return _entry(event, "query contract")
        case ("queries", _, "endpoint" | "description"):
            return Kind.NEUTRAL, _changed(event), None
        case ("queries", _, "sql" | "params"):
            return Kind.REGRESSION, f"{_changed(event)}: the contract checks another query", None
        case ("waivers", key):
            return _waiver(event, new.waivers.get(key))
        case ("waivers", _, "reason" | "owner"):
            return Kind.NEUTRAL, _changed(event), None  # what it waives is the same
        case ("waivers", key, "expires"):
            return _expiry(event, new.waivers[key].reason)
    return (
        Kind.REGRESSION,
        f"{_changed(event)} (a change the guard does not judge: counted as a regression)",
        None,
    )


def _changed(event: Event) -> str:
    if event.element:
        return f"{event.value!r} {event.happened}"
    if event.before is True and event.after in (False, None):
        return f"no longer {event.path[-1]}"  # a flag, in words: not `True -> False`
    if event.after is True and event.before in (False, None):
        return f"{event.path[-1]} now"
    if event.happened == "changed" and not isinstance(event.after, dict):
        return f"{event.before!r} -> {event.after!r}"
    return event.happened


def _toggle(
    event: Event, gained: str, progress: str, regression: str
) -> tuple[Kind, str, str | None]:
    """A set's element: `gained` (added or removed) is the way that promises more; the
    words say what each way means."""
    if event.happened == gained:
        return Kind.PROGRESS, f"{event.value!r} {progress}", None
    return Kind.REGRESSION, f"{event.value!r} {regression}", None


def _entry(event: Event, what: str, detail: str = "") -> tuple[Kind, str, str | None]:
    if event.happened == "added":
        return Kind.PROGRESS, f"{what} added{detail}", None
    if event.happened == "removed":
        return Kind.REGRESSION, f"{what} removed{detail}", None
    return Kind.NEUTRAL, _changed(event), None


def _invariants(flow: Any) -> str:
    count = len(flow.get("invariants", {})) if isinstance(flow, dict) else 0
    return f", with {count} invariant{'s' if count != 1 else ''}" if count else ""


def _rule(event: Event, shown: str) -> tuple[Kind, str, str | None]:
    """A data rule (`pattern`, `duplicate_of`): added is progress, removed a regression, and
    changed one too: another rule is not provably narrower."""
    if event.happened == "added":
        return Kind.PROGRESS, f"{shown} added", None
    if event.happened == "removed":
        return Kind.REGRESSION, f"{shown} removed", None
    return Kind.REGRESSION, f"{_changed(event)}: not provably narrower", None


def _values(event: Event) -> tuple[Kind, str, str | None]:
    """Accepted values: a list added narrows what is accepted, an element added widens it."""
    if not event.element:
        if event.happened == "added":
            return Kind.PROGRESS, f"accepted values {sorted(map(str, event.after))} added", None
        return Kind.REGRESSION, "accepted values removed: any value is accepted", None
    return _toggle(
        event, "removed", "no longer accepted", "accepted now: the accepted values widened"
    )


def _hosts(event: Event, now: Any, before: Any) -> tuple[Kind, str, str | None]:
    """An environment's `require_host`: more patterns let more hosts through, except the
    first one, which sets a policy where there was none; removing the last removes it."""
    pattern = repr(event.value)
    hosts_now = now["require_host"] if now else frozenset()
    if event.happened == "added":
        was = before.get(event.path[1], {}).get("require_host", frozenset())
        if not was - {event.value} and len(hosts_now) == 1:
            return Kind.PROGRESS, f"a host matching {pattern} required now", None
        return Kind.REGRESSION, f"{pattern} added: more hosts pass", None
    if not hosts_now:
        return Kind.REGRESSION, f"{pattern} removed: any host passes now", None
    return Kind.PROGRESS, f"{pattern} removed: fewer hosts pass", None


def _within(event: Event) -> tuple[Kind, str, str | None]:
    was, now = seconds(str(event.before)), seconds(str(event.after))
    if was is not None and now is not None and now == was:
        return Kind.NEUTRAL, f"{_changed(event)}: the same limit", None
    if was is not None and now is not None and now < was:
        return Kind.PROGRESS, f"{_changed(event)}: a shorter limit", None
    return Kind.REGRESSION, f"{_changed(event)}: a longer (or unreadable) limit", None


def _where(event: Event, invariant: Any) -> tuple[Kind, str, str | None]:
    """A freshness invariant's `where` removed checks every row: progress.  Any other change
    of a `where` checks other rows (or, of a reconcile, sums other rows): a regression."""
    fresh = isinstance(invariant, Invariant) and isinstance(invariant.check, Freshness)
    if event.happened == "removed" and fresh:
        return Kind.PROGRESS, f"{_changed(event)}: every row is checked now", None
    return Kind.REGRESSION, f"{_changed(event)}: the invariant checks other rows", None


def _waiver(event: Event, waiver: Waiver | None) -> tuple[Kind, str, str | None]:
    """A waiver removed is progress.  One added (or whose rule or object changed: another
    waiver) is a regression its own reason accepts, but a blanket one (a category on every
    object), which nothing in the pull request accepts."""
    if event.happened == "removed":
        return Kind.PROGRESS, "waiver removed: what it accepted counts again", None
    if waiver is None:
        return Kind.REGRESSION, _changed(event), None
    if waivers.blanket(waiver):
        return (
            Kind.REGRESSION,
            f"waiver added: it waives every {waiver.rule} finding on every object "
            "(a blanket waiver: name the objects it waives)",
            None,
        )
    return Kind.REGRESSION, "waiver added", waiver.reason


def _expiry(event: Event, reason: str) -> tuple[Kind, str, str | None]:
    """A waiver's end: one added or brought forward is progress, one removed or put off a
    regression the waiver's own reason accepts."""
    if event.happened == "added" or (
        event.happened == "changed" and str(event.after) < str(event.before)
    ):
        return Kind.PROGRESS, f"{_changed(event)}: the waiver ends sooner", None
    return Kind.REGRESSION, f"{_changed(event)}: the waiver lasts longer", reason


# -- where a change is written, and what it is about -------------------------------------


def _placed(
    event: Event, kind: Kind, what: str, acknowledged: str | None, new: Form, old: Form
) -> Change:
    line, in_base = _line(event, new, old)
    fields = _about(event.path, new, old)
    return Change(
        kind=kind,
        message=f"{'.'.join(event.path)}: {what}",
        line=line,
        in_base=in_base,
        before=_json(event.before),
        after=_json(event.after),
        acknowledged=acknowledged,
        acknowledgeable=not _blanket_added(event, new),
        **fields,
    )


def _blanket_added(event: Event, new: Form) -> bool:
    """A blanket waiver added: no waiver of the same pull request acknowledges it."""
    match event.path:
        case ("waivers", key) if event.happened == "added" and key in new.waivers:
            return waivers.blanket(new.waivers[key])
    return False


def _line(event: Event, new: Form, old: Form) -> tuple[int | None, bool]:
    """An entry removed: its line in the base lock; anything else: the line of the nearest
    entry that holds it in the new lock (else in the base lock)."""
    path = event.path
    if event.happened == "removed" and not event.element and path in old.lines:
        return old.lines[path], True
    for lines, in_base in ((new.lines, False), (old.lines, True)):
        for end in range(len(path), 0, -1):
            if path[:end] in lines:
                return lines[path[:end]], in_base
    return None, False


def _about(path: Path, new: Form, old: Form) -> dict[str, Any]:
    """The finding's object: the table and column, the invariant (with its table), the flow,
    the query contract or the environment the path is in."""
    match path:
        case ("tables", key, *rest):
            named = new.tables[key]
            column = rest[1] if len(rest) > 1 and rest[0] == "columns" else None
            return {
                "schema": named.schema,
                "table": named.name,
                "column": column,
                "critical": _critical(key, column, new, old),
            }
        case ("flows", flow, "invariants", name, *_):
            invariant = new.invariants.get((flow, name)) or old.invariants.get((flow, name))
            about = invariant.table if invariant is not None else None
            schema, table = about if about is not None else (None, None)
            return {"schema": schema, "table": table, "constraint": name}
        case ("flows" | "queries" | "environments", name, *_):
            return {"constraint": name}
    return {}


def _critical(key: str, column: str | None, new: Form, old: Form) -> bool:
    for form in (new, old):
        table = form.tables[key]
        found = table.column(column) if column else None
        if table.critical or (found is not None and found.critical):
            return True
    return False


def _json(value: Any) -> Any:
    """A value as JSON holds it: sets as sorted lists."""
    convert: Callable[[Any], Any] = _json
    if isinstance(value, frozenset | set):
        return sorted((convert(item) for item in value), key=str)
    if isinstance(value, dict):
        return {key: convert(item) for key, item in value.items()}
    return value
