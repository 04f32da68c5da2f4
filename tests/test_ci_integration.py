"""The CI integrations, run here: the GitHub Action's script (scripts/action.sh) with a fake
GitHub environment against the real test PostgreSQL, the structure of action.yml and of the
example workflow (docs/ci/github-neon.yml), and the pre-commit hooks through `pre-commit
try-repo` and `pre-commit run`.

The workflow itself cannot run here (no GitHub, no Neon); docs/ci/README.md says what is
covered. Three tests install schemalock into a fresh virtual environment from the package
index, as the action and pre-commit do (about 15-25 s each on a 2-core machine).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, execute, run_cli, write

SCRIPT = ROOT / "scripts" / "action.sh"
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "docs" / "ci" / "github-neon.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SCHEMALOCK = Path(sys.executable).parent / "schemalock"

SCHEMA = """
CREATE TABLE orgs (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE jobs (id integer PRIMARY KEY, org_id uuid NOT NULL REFERENCES orgs (id));
CREATE INDEX jobs_org_id ON jobs (org_id);
"""
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def _clean_environment() -> dict[str, str]:
    """This process's environment without what a GitHub runner or a user's settings would
    change in the script's behaviour; the suite's own lock-cache folder (conftest) stays, so
    nothing is written to the user's ~/.cache."""
    dropped = ("SCHEMALOCK_", "GITHUB_", "INPUT_", "RUNNER_")
    kept = {"SCHEMALOCK_CACHE_DIR"}
    return {
        name: value
        for name, value in os.environ.items()
        if name in kept
        or (not name.startswith(dropped) and name not in ("CI", "DATABASE_URL", "PRE_COMMIT"))
    }


# -- the action's script -----------------------------------------------------------------------


class Runner:
    """A fake GitHub runner for scripts/action.sh: a pull request's checkout (a shallow clone
    of an `origin` whose main holds the lock), the GITHUB_* files in a temporary folder, and a
    `schemalock` on PATH that notes each command line before running the real one."""

    def __init__(self, tmp_path: Path, lock_text: str) -> None:
        self.tmp = tmp_path
        origin, seed = tmp_path / "origin.git", tmp_path / "seed"
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
        seed.mkdir()
        git(seed, "init", "-q", "-b", "main")
        write(seed / "schema_lock.yaml", lock_text)
        git(seed, "add", ".")
        git(seed, "commit", "-qm", "the lock")
        git(seed, "push", "-q", str(origin), "main")
        git(seed, "checkout", "-qb", "pr")
        self.seed, self.origin = seed, origin
        self.repo = tmp_path / "checkout"
        shim = tmp_path / "bin" / "schemalock"
        shim.parent.mkdir()
        shim.write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$*" >> "$SHIM_LOG"\nexec "{SCHEMALOCK}" "$@"\n',
            encoding="utf-8",
        )
        shim.chmod(0o755)
        self.calls_file = tmp_path / "calls.log"
        self.output_file = tmp_path / "github_output"
        self.summary_file = tmp_path / "step_summary.md"

    def pull_request(self, lock_text: str | None) -> None:
        """The pull request's commit (the lock as `lock_text`, or another file changed), then
        the checkout actions/checkout makes: that one commit, no other branch."""
        if lock_text is None:
            write(self.seed / "NOTES.md", "not the lock\n")
        else:
            write(self.seed / "schema_lock.yaml", lock_text)
        git(self.seed, "add", ".")
        git(self.seed, "commit", "-qm", "the pull request")
        git(self.seed, "push", "-q", str(self.origin), "pr")
        git(
            self.tmp, "clone", "-q", "--depth=1", "--branch", "pr", self.origin.as_uri(), "checkout"
        )
        assert "origin/main" not in git(self.repo, "branch", "-r")

    def run(
        self, github: dict[str, str | None] | None = None, **inputs: str
    ) -> subprocess.CompletedProcess[str]:
        """The script with these inputs (`diff_args` is INPUT_DIFF_ARGS); `github` replaces
        runner variables (None: unset)."""
        for file in (self.calls_file, self.output_file, self.summary_file):
            file.unlink(missing_ok=True)
        env = {
            **_clean_environment(),
            **GIT_IDENTITY,
            "PATH": f"{self.tmp / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "SHIM_LOG": str(self.calls_file),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_BASE_REF": "main",
            "GITHUB_HEAD_REF": "pr",
            "GITHUB_WORKSPACE": str(self.repo),
            "GITHUB_OUTPUT": str(self.output_file),
            "GITHUB_STEP_SUMMARY": str(self.summary_file),
            "GITHUB_ACTION_PATH": str(ROOT),
            "RUNNER_TEMP": str(self.tmp / "runner"),
            "INPUT_INSTALL": "false",
        }
        env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
        changed: dict[str, str | None] = {**env, **(github or {})}
        env = {name: value for name, value in changed.items() if value is not None}
        return subprocess.run(
            [str(SCRIPT)],
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    @property
    def calls(self) -> list[str]:
        if not self.calls_file.exists():
            return []
        return self.calls_file.read_text(encoding="utf-8").splitlines()

    @property
    def outputs(self) -> dict[str, str]:
        lines = self.output_file.read_text(encoding="utf-8").splitlines()
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def seeded(database: str) -> str:
    execute(database, SCHEMA)
    return database


def _snapshot(url: str) -> str:
    taken = run_cli("snapshot", "--database-url", url)
    assert taken.exit_code == 0, taken.stderr
    return taken.stdout


@pytest.mark.db
def test_the_action_passes_a_clean_pull_request(tmp_path: Path, seeded: str) -> None:
    runner = Runner(tmp_path, _snapshot(seeded))
    runner.pull_request(None)
    done = runner.run(database_url=seeded)
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = runner.outputs
    assert outputs["version"] == "0.1.0"
    assert (outputs["diff-exit-code"], outputs["verify-exit-code"], outputs["exit-code"]) == (
        "0",
        "0",
        "0",
    )
    assert runner.calls == [
        "--version",
        "diff --base origin/main --lock schema_lock.yaml --fail-on error --format github",
        "verify --lock schema_lock.yaml --fail-on error --format github",
    ]
    assert "origin/main" in git(runner.repo, "branch", "-r")  # the base was fetched
    assert not re.search(r"^::(error|warning)", done.stdout, re.MULTILINE)
    assert runner.summary_file.read_text(encoding="utf-8").strip()  # the job summary
    assert seeded not in done.stdout + done.stderr + "\n".join(runner.calls)


@pytest.mark.db
def test_the_action_catches_a_regression_and_the_drift_it_hides(
    tmp_path: Path, seeded: str
) -> None:
    """The pull request drops a column from the lock, the database keeps it: diff reports
    the regression, verify the column the lock no longer describes; SARIF for both."""
    lock = _snapshot(seeded)
    runner = Runner(tmp_path, lock)
    weakened = re.sub(r"\n +name: \{[^\n]*\}", "", lock, count=1)
    assert weakened != lock
    runner.pull_request(weakened)
    sarif = tmp_path / "sarif"
    done = runner.run(database_url=seeded, fail_on="warning", sarif=str(sarif))
    assert done.returncode == 1, done.stdout + done.stderr
    outputs = runner.outputs
    assert (outputs["diff-exit-code"], outputs["verify-exit-code"], outputs["exit-code"]) == (
        "1",
        "1",
        "1",
    )
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert any(
        line.startswith("::error file=") and "lock-regression (public.orgs.name)" in line
        for line in annotations
    ), annotations
    assert any("extra-column" in line for line in annotations), annotations
    for name in ("diff", "verify"):
        path = Path(outputs[f"sarif-{name}"])
        assert path == sarif / f"schemalock-{name}.sarif"
        report = json.loads(path.read_text(encoding="utf-8"))
        assert report["version"] == "2.1.0"
        assert report["runs"][0]["results"], name
    assert f"--format sarif={sarif}/schemalock-diff.sarif" in runner.calls[1]


@pytest.mark.db
def test_the_action_without_a_database_or_a_pull_request(tmp_path: Path, seeded: str) -> None:
    runner = Runner(tmp_path, _snapshot(seeded))
    runner.pull_request(None)
    skipped = runner.run(database_url="")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "::notice title=schemalock::verify skipped: no database-url given" in skipped.stdout
    assert runner.outputs["verify-exit-code"] == "skipped"
    assert [call.split()[0] for call in runner.calls] == ["--version", "diff"]
    required = runner.run(verify="true")
    assert required.returncode == 3
    assert "verify: no database-url given" in required.stdout
    assert runner.outputs["verify-exit-code"] == "3"
    # A push, not a pull request: no base to compare with, unless one is given.
    pushed = runner.run(database_url=seeded, github={"GITHUB_BASE_REF": None})
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "::notice title=schemalock::diff skipped: not a pull request" in pushed.stdout
    assert [call.split()[0] for call in runner.calls] == ["--version", "verify"]
    assert "diff skipped" in runner.summary_file.read_text(encoding="utf-8")
    asked = runner.run(diff="true", verify="false", github={"GITHUB_BASE_REF": None})
    assert asked.returncode == 2
    assert runner.outputs["diff-exit-code"] == "2"
    missing = runner.run(verify="false", github={"GITHUB_BASE_REF": "no-such-branch"})
    assert missing.returncode == 2
    assert "cannot fetch the base branch no-such-branch" in missing.stdout


@pytest.mark.db
def test_the_action_masks_the_password_and_passes_the_url_unseen(
    tmp_path: Path, seeded: str
) -> None:
    runner = Runner(tmp_path, _snapshot(seeded))
    runner.pull_request(None)
    url = "postgresql://app:Sup3r%2FSecretPw@127.0.0.1:9/app?connect_timeout=2"
    done = runner.run(database_url=url, diff="false")
    assert done.returncode == 3, done.stdout + done.stderr  # nothing listens on port 9
    lines = done.stdout.splitlines()
    assert lines[0] == "::add-mask::Sup3r/SecretPw"  # before anything else is written
    rest = "\n".join(lines[1:]) + done.stderr + "\n".join(runner.calls)
    assert "Secr" not in rest
    assert runner.calls == [
        "--version",
        "verify --lock schema_lock.yaml --fail-on error --format github",
    ]
    libpq = runner.run(
        database_url="host=127.0.0.1 port=9 password=An0therPw dbname=x", diff="false"
    )
    assert libpq.stdout.splitlines()[0] == "::add-mask::An0therPw"


def test_the_action_installs_the_schemalock_of_its_own_ref(
    tmp_path: Path, source_copy: Path
) -> None:
    """`version` empty: the source the action was checked out at, into a virtual environment
    of its own (from the package index, as on a runner)."""
    runner = Runner(tmp_path, "version: 1\ntables: {}\n")
    runner.pull_request(None)
    done = runner.run(
        install="true",
        diff="false",
        verify="false",
        github={"GITHUB_ACTION_PATH": str(source_copy)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    venv = tmp_path / "runner" / "schemalock-action-venv"
    assert f"installing {source_copy} into {venv}" in done.stdout
    assert runner.outputs["version"] == "0.1.0"
    assert (venv / "bin" / "schemalock").exists()
    assert runner.calls == []  # the shim on PATH was not the schemalock that ran


# -- the action's and the workflow's structure ---------------------------------------------------


def _load(path: Path) -> dict[Any, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_action_yml_declares_what_it_uses() -> None:
    action = _load(ACTION)
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    inputs, outputs, runs = action["inputs"], action["outputs"], action["runs"]
    assert isinstance(inputs, dict)
    assert isinstance(outputs, dict)
    assert isinstance(runs, dict)
    assert runs["using"] == "composite"
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used == set(inputs), "every input used is declared, and every one declared is used"
    for name, spec in inputs.items():
        assert isinstance(spec, dict)
        assert spec.get("description"), name
        assert "default" in spec or spec.get("required"), name
    [gate] = [step for step in runs["steps"] if step.get("id") == "gate"]
    assert gate["shell"] == "bash"
    assert "scripts/action.sh" in gate["run"]
    script = SCRIPT.read_text(encoding="utf-8")
    passed = set(gate["env"])
    read = set(re.findall(r"\bINPUT_[A-Z_]+", script))
    assert passed == read, "the step passes exactly the inputs the script reads"
    for variable, value in gate["env"].items():
        name = variable.removeprefix("INPUT_").lower().replace("_", "-")
        assert value == f"${{{{ inputs.{name} }}}}", variable
    written = set(re.findall(r"\boutput ([a-z-]+) ", script))
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"
        assert name in written, f"the script never writes the output {name}"
    assert os.access(SCRIPT, os.X_OK)


def test_the_action_caches_the_folder_schemalock_caches_in() -> None:
    """The compiled-lock cache kept between runs is the folder the gate's schemalock uses."""
    steps = _load(ACTION)["runs"]["steps"]
    [point] = [s for s in steps if "SCHEMALOCK_CACHE_DIR=" in str(s.get("run", ""))]
    [cache] = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    folder = re.search(r"SCHEMALOCK_CACHE_DIR=\$RUNNER_TEMP/(\S+)\"", point["run"])
    assert folder is not None, point["run"]
    assert cache["with"]["path"] == "${{ runner.temp }}/" + folder[1]
    assert "hashFiles(" in cache["with"]["key"]
    assert "inputs.lock" in cache["with"]["key"]
    assert point["if"] == cache["if"] == "inputs.lock-cache != 'false'"
    names = [s.get("id") or s.get("uses") or s.get("run") for s in steps]
    assert names.index("gate") > names.index(cache["uses"])


def test_the_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True, timeout=30)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(SCRIPT)], check=True, timeout=60)


def test_the_example_workflow_is_well_formed() -> None:
    workflow = _load(WORKFLOW)
    # PyYAML reads the key `on` as the boolean true (YAML 1.1); GitHub reads it as "on".
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    assert "pull_request" in triggers
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    steps = jobs["gate"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    order = [
        next(i for i, name in enumerate(uses) if name.startswith(prefix))
        for prefix in (
            "actions/checkout@",
            "neondatabase/create-branch-action@",
            "OWNER/schemalock@",
            "neondatabase/delete-branch-action@",
        )
    ]
    assert order == sorted(order)
    migrate = next(
        i for i, step in enumerate(steps) if "alembic upgrade head" in step.get("run", "")
    )
    assert order[1] < migrate < order[2], "migrations go to the branch before the gate runs"
    action = _load(ACTION)
    declared_inputs, declared_outputs = set(action["inputs"]), set(action["outputs"])
    gate = steps[order[2]]
    assert set(gate["with"]) <= declared_inputs
    assert gate["with"]["database-url"] == "${{ steps.branch.outputs.db_url }}"
    text = WORKFLOW.read_text(encoding="utf-8")
    assert set(re.findall(r"steps\.gate\.outputs\.([a-z-]+)", text)) <= declared_outputs
    delete = steps[order[3]]
    assert delete["if"].startswith("always()")
    assert delete["with"]["branch"] == "${{ env.NEON_BRANCH }}"
    uploads = [
        step
        for step in steps
        if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    ]
    assert {step["with"]["category"] for step in uploads} == {
        "schemalock-diff",
        "schemalock-verify",
    }
    assert jobs["gate"]["permissions"]["security-events"] == "write"


# -- pre-commit -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as a repository of its own, one commit: what `pre-commit try-repo`
    and the action install. (try-repo on the working tree itself would leave out files not yet
    committed.)"""
    copy = tmp_path_factory.mktemp("schemalock-source")
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "src")
    for name in [
        *listed.splitlines(),
        "pyproject.toml",
        "README.md",
        ".pre-commit-hooks.yaml",
        "action.yml",
        "scripts/action.sh",
    ]:
        source = ROOT / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(copy, "init", "-q", "-b", "main")
    git(copy, "add", ".")
    git(copy, "commit", "-qm", "the working tree")
    return copy


@pytest.fixture
def project_repo(tmp_path: Path) -> Path:
    """A project using the hooks: its lock on an `origin` (origin/HEAD is main), cloned."""
    origin, seed = tmp_path / "origin.git", tmp_path / "seed"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    write(seed / "schema_lock.yaml", HOOK_LOCK)
    git(seed, "add", ".")
    git(seed, "commit", "-qm", "the lock")
    git(seed, "push", "-q", str(origin), "main")
    git(tmp_path, "clone", "-q", str(origin), "project")
    return tmp_path / "project"


HOOK_LOCK = """version: 1
database: {name: app}
tables:
  orgs:
    columns:
      id: {type: uuid, primary_key: true}
      name: {type: text, nullable: false}
"""


def _pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        env={**_clean_environment(), **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_pre_commit_try_repo_lints_the_lock(
    project_repo: Path, source_copy: Path, tmp_path: Path
) -> None:
    done = _pre_commit(
        project_repo,
        tmp_path / "home",
        "try-repo",
        str(source_copy),
        "schemalock-lint",
        "--all-files",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"schemalock lint\.+Passed", done.stdout), done.stdout


def test_pre_commit_hooks_fail_on_a_broken_lock_and_a_regression(
    project_repo: Path, source_copy: Path, tmp_path: Path
) -> None:
    """Through a project's own .pre-commit-config.yaml (one environment for both hooks)."""
    rev = git(source_copy, "rev-parse", "HEAD").strip()
    config = {
        "repos": [
            {
                "repo": str(source_copy),
                "rev": rev,
                "hooks": [{"id": "schemalock-lint"}, {"id": "schemalock-diff"}],
            }
        ]
    }
    write(project_repo / ".pre-commit-config.yaml", yaml.safe_dump(config))
    home = tmp_path / "home"
    clean = _pre_commit(project_repo, home, "run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"schemalock diff \(forward-only\)\.+Passed", clean.stdout), clean.stdout
    # The lock loses a column's NOT NULL: a regression against origin/HEAD.
    write(project_repo / "schema_lock.yaml", HOOK_LOCK.replace(", nullable: false", ""))
    weakened = _pre_commit(project_repo, home, "run", "schemalock-diff", "--all-files")
    assert weakened.returncode == 1, weakened.stdout
    assert re.search(r"schemalock diff \(forward-only\)\.+Failed", weakened.stdout)
    assert "schema_lock.yaml" in weakened.stdout
    # A reference to a table the lock does not have: an invalid lock.
    write(
        project_repo / "schema_lock.yaml",
        HOOK_LOCK + "      owner: {type: uuid, references: people.id}\n",
    )
    broken = _pre_commit(project_repo, home, "run", "schemalock-lint", "--all-files")
    assert broken.returncode == 1, broken.stdout
    assert re.search(r"schemalock lint\.+Failed", broken.stdout)
    assert "dangling-reference" in broken.stdout
