"""The demo's last step: a pull request that weakens the lock instead of the database, and
`schemalock diff` catching it.

In a scratch git repository: the seed lock committed on `main`, then a branch whose commit
changes the lock the way `demo_story.pull_request` says; `diff --base main` compares the
branch's lock with main's, the way the CI gate runs it on a pull request.  git runs with the
user's configuration but no hooks and no signing, so the story cannot be stopped by a hook.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.rule import Rule as Heading
from rich.text import Text

from schemalock import files, guard
from schemalock.app.demo_story import CAUGHT, pull_request
from schemalock.check.findings import Category, Report
from schemalock.render import text

_GIT = (
    "git",
    "-c",
    "user.name=schemalock demo",
    "-c",
    "user.email=demo@schemalock.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "core.hooksPath=/dev/null",
)


def tell_guard(console: Console, folder: Path, lock_name: str) -> bool:
    """Step 6 in `folder`, which holds the seed lock `lock_name` and its check files: all of
    it committed on main, a branch that weakens the lock, and the guard's report.  True when
    the guard caught every regression `CAUGHT` lists (or git is not installed: nothing to
    show)."""
    console.print(Heading("6. The guard: a pull request that weakens the lock"))
    _say(
        console,
        "Repairing the database is one way to make verify pass; editing the lock is another. "
        "A pull request that makes jobs.org_id the text its rows hold, drops the relations "
        "whose foreign keys were missing, and deletes the quota flow and the failing stats "
        "contract passes lint, and verify would find much less to say. The forward-only guard "
        "compares the pull request's lock with the base branch's:\n",
    )
    if shutil.which("git") is None:
        _say(console, "(git is not installed here: this step needs it.)")
        return True
    report = _pull_request(folder, folder / lock_name)
    _say(console, "$ git checkout -b relax-the-lock && git commit -am 'Match the lock to prod'")
    _say(console, "$ schemalock diff --base main\n")
    text.render(report, console)
    missing = [m for m in CAUGHT if m not in _regressions(report)]
    if missing:
        _say(console, "Not caught: " + "; ".join(missing))
        return False
    _say(
        console,
        "\nExit 1: the pull request's CI job fails, each regression at its line (a removal at "
        "its line in main's lock). To go ahead on purpose, the pull request acknowledges a "
        "regression in the lock itself, where review sees it: `waivers: [{rule: regression, "
        "object: public.jobs.org_id, reason: ...}]`. jobs is marked critical, so only a waiver "
        "naming the column exactly will do, never a glob. Progress (a new table, a NOT NULL, a "
        "narrower list of accepted values) passes.",
    )
    return True


def _pull_request(folder: Path, lock: Path) -> Report:
    _git(folder, "init", "-q")
    _git(folder, "symbolic-ref", "HEAD", "refs/heads/main")  # whatever init.defaultBranch says
    _git(folder, "add", ".")
    _git(folder, "commit", "-q", "--no-verify", "-m", "The seed lock")
    _git(folder, "checkout", "-q", "-b", "relax-the-lock")
    files.write_text(lock, pull_request(lock.read_text(encoding="utf-8")))
    _git(folder, "commit", "-q", "--no-verify", "-am", "Match the lock to prod")
    new = guard.read(str(lock))
    base = guard.lock_at("main", str(lock))
    old = guard.Version(base.lock, base.text) if base.lock is not None else None
    report = guard.diff(new, old, base.name, date.today())
    return replace(report, lock_path=lock.name)


def _regressions(report: Report) -> set[str]:
    return {
        f.message
        for f in report.counted
        if f.category is Category.REGRESSION  # counted: none acknowledged
    }


def _git(folder: Path, *arguments: str) -> None:
    subprocess.run(
        [*_GIT, *arguments],
        cwd=folder,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )


def _say(console: Console, message: str) -> None:
    console.print(Text(message))
