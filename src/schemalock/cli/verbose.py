"""`-v` and `-vv`: where a run's time goes, on stderr.

`-v` gives a line per stage as it ends: the start (imports, options, configuration, reading
the lock), judging the lock and connecting, reading the catalog, each rule, the report, and
the total. `-vv` adds every statement sent to the server with its duration, labelled by the
catalog query it is (`catalog columns`), the data check it asks (`fk-orphans: public.jobs`),
or its first words.

The stages are told by what the run does: the connection opening (`db.tracking` tells every
connection opened), the rule engine starting each rule and the row checks announcing each
query (the progress bar's hooks), the command returning. A command that runs no rules shows
fewer stages.
"""

from __future__ import annotations

import re
import sys
import time
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

_STARTED = [time.monotonic()]
_LABEL_WIDTH = 60
_SETTINGS = re.compile(r"pg_catalog\.set_config\('(\w+)'")


class Timeline:
    """The stages of one run, each written to stderr when it ends."""

    def __init__(self, level: int, started: float) -> None:
        self.level = level
        self.started = self.mark = started
        self.stage = "start"  # start, judge, database, rule, after
        self.rule = ""
        self.rules = 0
        self.rules_started = 0.0
        self.queries = 0
        self.pending: tuple[str, float] | None = None  # a row check's label, not yet sent

    # -- the events -----------------------------------------------------------------------

    def checks_begin(self) -> None:
        """The command has read its lock and starts checking (the progress bar's start)."""
        if self.stage == "start":
            self._close("start: imports, options, configuration, the lock")
            self.stage = "judge"

    def connected(self, connection: psycopg.Connection[Any]) -> None:
        import psycopg

        if connection.cursor_factory is psycopg.Cursor:  # not one a library chose
            connection.cursor_factory = _timed_cursor()
        if self.stage in ("start", "judge"):
            self._close("judge the lock, connect" if self.stage == "judge" else "start, connect")
            self.stage, self.queries = "database", 0

    def on_rule(self, done: int, total: int, name: str) -> None:
        self._flush_pending()
        if self.stage == "database":
            self._close(f"catalog: {self.queries} queries")
        elif self.stage == "rule":
            self._close(f"rule {self.rule}")
        if self.stage != "rule":
            self.rules_started, self.rules = time.monotonic(), 0
        self.stage, self.rule, self.rules = "rule", name, self.rules + 1

    def on_query(self, label: str) -> None:
        self._flush_pending()
        self.pending = (label, time.monotonic())

    def checks_end(self) -> None:
        self._flush_pending()
        if self.stage == "rule":
            self._close(f"rule {self.rule}")
            elapsed = time.monotonic() - self.rules_started
            self._say("time", elapsed, f"rules: {self.rules}")
            self.stage = "after"

    def finish(self) -> None:
        self._flush_pending()
        names = {"database": "the database", "after": "report", "rule": f"rule {self.rule}"}
        self._close(names.get(self.stage, "the command"))
        self._say("time", time.monotonic() - self.started, "total")

    def statement(self, text: str, seconds: float) -> None:
        """One statement the server answered (or refused) in `seconds`."""
        self.queries += 1
        label = _catalog_query(text) or _first_words(text)
        if self.pending is not None:
            label, self.pending = self.pending[0], None
        if self.level >= 2:
            self._say("query", seconds, label)

    # -- writing ----------------------------------------------------------------------------

    def _flush_pending(self) -> None:
        """A row check announced but sent another way (a prepared statement): its time so far."""
        if self.pending is not None and self.level >= 2:
            self._say("query", time.monotonic() - self.pending[1], self.pending[0])
        self.pending = None

    def _close(self, label: str) -> None:
        now = time.monotonic()
        self._say("time", now - self.mark, label)
        self.mark = now

    def _say(self, kind: str, seconds: float, label: str) -> None:
        from schemalock.render import safe_text

        print(f"{kind:<5} {seconds * 1000:>8.1f} ms  {safe_text(label)}", file=sys.stderr)


_TIMELINE: list[Timeline] = []


def begin() -> None:
    """The run starts: the clock every stage is measured from."""
    _STARTED[0] = time.monotonic()
    _TIMELINE.clear()


def enable(level: int) -> None:
    """`-v` was given: watch every connection this run opens from now on."""
    if _TIMELINE:
        _TIMELINE[0].level = level
        return
    from schemalock.db import tracking

    _TIMELINE.append(Timeline(level, _STARTED[0]))
    tracking.watch_connections(_TIMELINE[0].connected)


def current() -> Timeline | None:
    return _TIMELINE[0] if _TIMELINE else None


def finish() -> None:
    """The run ended: the last stage and the total; stop watching connections."""
    if not _TIMELINE:
        return
    from schemalock.db import tracking

    timeline = _TIMELINE.pop()
    tracking.unwatch_connections(timeline.connected)
    timeline.finish()


@cache
def _timed_cursor() -> type[psycopg.Cursor[Any]]:
    import psycopg
    from psycopg import sql

    class TimedCursor(psycopg.Cursor[Any]):
        """A cursor that tells the timeline how long each statement took."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> TimedCursor:
            started = time.monotonic()
            try:
                return super().execute(query, params, **kwargs)
            finally:
                timeline = current()
                if timeline is not None:
                    text = query.as_string(self) if isinstance(query, sql.Composable) else query
                    text = text.decode() if isinstance(text, bytes) else str(text)
                    timeline.statement(text, time.monotonic() - started)

    return TimedCursor


@cache
def _catalog_queries() -> dict[str, str]:
    """The introspection queries by their first line (each file opens with its own comment)."""
    from importlib import resources

    folder = resources.files("schemalock.introspect").joinpath("sql")
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            first = entry.read_text(encoding="utf-8").split("\n", 1)[0].strip()
            found[first] = entry.name.removesuffix(".sql")
    return found


def _catalog_query(text: str) -> str | None:
    name = _catalog_queries().get(text.lstrip().split("\n", 1)[0].strip())
    return f"catalog {name}" if name else None


def _first_words(text: str) -> str:
    settings = _SETTINGS.findall(text)
    if settings:  # the transaction's safety settings, the session's name
        return f"settings: {', '.join(settings)}"
    words = " ".join(text.split())
    return words if len(words) <= _LABEL_WIDTH else words[: _LABEL_WIDTH - 3] + "..."
