"""The forked worker: time budget, memory cap, crashes, errors."""
import os
import time

import pytest

from symbolic_bp.checks.budget import run_with_budget


def test_done_with_value_and_phase():
    out = run_with_budget(lambda progress: (progress("thinking", derived="x"), 42)[1], seconds=10)
    assert (out.status, out.value, out.phase, out.messages) == ("done", 42, "thinking", {"derived": "x"})


def test_timeout_reports_the_last_phase():
    start = time.monotonic()
    out = run_with_budget(lambda progress: (progress("sleeping"), time.sleep(30)), seconds=0.5)
    assert out.status == "timeout" and out.phase == "sleeping"
    assert time.monotonic() - start < 5


def test_memory_cap():
    out = run_with_budget(lambda progress: bytearray(8 * 1024 ** 3), seconds=20, memory_mb=512)
    assert out.status == "memory"


def test_worker_that_dies():
    out = run_with_budget(lambda progress: os._exit(7), seconds=10)
    assert out.status == "died" and out.value == 7


def test_internal_error_is_reported_not_raised():
    out = run_with_budget(lambda progress: {}["missing"], seconds=10)
    assert out.status == "error" and out.value.startswith("internal error: KeyError: 'missing' [")


def test_budget_must_be_positive():
    with pytest.raises(ValueError):
        run_with_budget(lambda progress: 1, seconds=0)
