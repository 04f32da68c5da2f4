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

from schemalock.guard.changes import Change, Kind
from schemalock.guard.declarations import Form, Path, seconds

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
    for report_type, levels in DeepDiff(before, after, view="tree").items():
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
            found.append(_placed(event, *_judge(event, new, old), new, old))
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
    """(kind, what happened, the reason that acknowledges it) for one event."""
    match event.path:
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
        case ("tables", _, "endpoints"):
            return _toggle(
                event, "added", "listed now", "no longer listed: the API probe does not ask it"
            )
        case ("tables", *_, "critical"):
            lost = event.before is True
            return (
                (Kind.REGRESSION, "no longer marked critical", None)
                if lost
                else (Kind.PROGRESS, "marked critical", None)
            )
        case ("tables", *_, "mock_data"):
            if event.after is False:
                return Kind.REGRESSION, "mock_data: false: the mock-data scan is off", None
            return Kind.PROGRESS, "the mock-data scan is on", None
        case ("tables", _, "duplicate_of"):
            return _rule(event, f"{event.after or event.before}")
        case ("tables", _, "columns", _, "pattern"):
            return _rule(event, repr(event.after or event.before))
        case ("tables", _, "columns", _, "values"):
            return _values(event)
        case ("flows", _):
            return _entry(event, "flow", _invariants(event.value))
        case ("flows", _, "invariants", _):
            return _entry(event, "invariant")
        case ("flows", _, "invariants", _, "check", "within") if event.happened == "changed":
            return _within(event)
        case ("flows", _, "invariants", _, "kind" | "check", *_):
            return Kind.REGRESSION, f"{_changed(event)}: the invariant checks something else", None
        case ("queries", _):
            return _entry(event, "query contract")
        case ("queries", _, "sql" | "params"):
            return Kind.REGRESSION, f"{_changed(event)}: the contract checks another query", None
        case ("waivers", key):
            if event.happened == "removed":
                return Kind.PROGRESS, "waiver removed: what it accepted counts again", None
            return Kind.REGRESSION, "waiver added", new.waivers[key].reason
        case ("waivers", key, "expires"):
            return _expiry(event, new.waivers[key].reason)
    return Kind.NEUTRAL, _changed(event), None


def _changed(event: Event) -> str:
    if event.element:
        return f"{event.value!r} {event.happened}"
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
    if was is not None and now is not None and now <= was:
        return Kind.PROGRESS, f"{_changed(event)}: a shorter limit", None
    return Kind.REGRESSION, f"{_changed(event)}: a longer (or unreadable) limit", None


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
        **fields,
    )


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
