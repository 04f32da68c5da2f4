"""fix.overlap: work beside a thread, whose result, or error, comes back to the caller, and which
has always ended when the caller goes on (its statement's transaction may end next)."""

from __future__ import annotations

import threading

import pytest

from schemalock.fix import overlap


def test_both_results_come_back() -> None:
    assert overlap.beside(lambda: "fingerprint", lambda: 42, "test") == (42, "fingerprint")


def test_the_threads_error_is_raised_in_the_caller() -> None:
    def fails() -> str:
        raise LookupError("the server said no")

    with pytest.raises(LookupError, match="the server said no"):
        overlap.beside(fails, lambda: 42, "test")


def test_the_thread_has_ended_when_the_callers_error_leaves() -> None:
    """The caller's work fails while the thread still runs: the error waits for the thread (a
    statement on the connection the caller's transaction would roll back next)."""
    failed, finished = threading.Event(), []

    def runs_on() -> int:
        failed.wait()
        total = sum(range(200_000))  # still running when the caller's error is raised
        finished.append(total)
        return total

    def work() -> int:
        failed.set()
        raise ValueError("the comparison failed")

    with pytest.raises(ValueError, match="the comparison failed"):
        overlap.beside(runs_on, work, "test")
    assert finished == [sum(range(200_000))]


def test_the_callers_error_comes_first() -> None:
    def fails() -> str:
        raise LookupError("the server said no")

    def work() -> int:
        raise ValueError("the comparison failed")

    with pytest.raises(ValueError, match="the comparison failed"):
        overlap.beside(fails, work, "test")


def test_a_started_function_is_asked_for_its_result() -> None:
    started = overlap.Started(lambda: "imported", "test")
    assert started.result() == "imported"
    assert started.result() == "imported"  # asked again, still the same
