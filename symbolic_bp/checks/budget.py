"""Run a function under a time budget and a memory cap, in a forked worker.

SymPy can run for a very long time (or allocate without bound) on an
innocent-looking input, and cannot be interrupted from inside reliably; a
worker process can.  The worker reports its phase as it goes, so a budget
that runs out can say *where* it ran out.

>>> run_with_budget(lambda progress: 6 * 7, seconds=10)
Outcome(status='done', value=42, phase='starting', messages={})

Several such calls run at once with :func:`forked_map`: a few long-lived
forked workers, each of which still runs every budgeted call in a worker of
its own.

>>> [o.value for o in forked_map(lambda n: n * n, [1, 2, 3], jobs=2)]
[1, 4, 9]
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
import traceback
from multiprocessing.connection import wait
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_SECONDS = 60.0
DEFAULT_MEMORY_MB = 4096
PROOF_SECONDS = 30.0        # an index-notation proof, every line checked (rendering/proof.py)


@dataclass
class Outcome:
    status: str                  # done | timeout | memory | died | error
    value: Any = None
    phase: str = "starting"
    messages: dict = field(default_factory=dict)   # extra ("key", value) the worker sent


MIN_SLICE = 0.05            # what a call gets once a shared budget is spent: it ends at once, undecided


@dataclass
class Deadline:
    """One time budget shared by several budgeted calls, one after the other (the
    induction and unrolled checks of a network claim): each is given what is left,
    so that together they keep to the budget.

    >>> budget = Deadline(10.0)
    >>> 9.0 < budget.left() <= 10.0
    True
    >>> Deadline(0.0).left() == MIN_SLICE
    True
    """

    seconds: float
    start: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return max(MIN_SLICE, self.seconds - (time.monotonic() - self.start))


def _internal(e: BaseException) -> str:
    frame = traceback.extract_tb(e.__traceback__)[-1]
    where = f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"
    return f"internal error: {type(e).__name__}: {e} [{where}]"


def _worker(conn, fn, memory_mb):
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def progress(phase: str, **extra):
        conn.send(("phase", phase, extra))
    try:
        conn.send(("done", fn(progress), {}))
    except MemoryError:
        conn.send(("memory", None, {}))
    except RecursionError:
        conn.send(("error", "expression too deeply nested for the checker", {}))
    except (ImportError, OSError) as e:
        # a lazy import (SymPy, NumPy load modules on first use) whose mmap fails under the cap
        if "failed to map" in str(e) or "Cannot allocate memory" in str(e) or getattr(e, "errno", 0) == 12:
            conn.send(("memory", None, {}))
        else:
            conn.send(("error", _internal(e), {}))
    except BaseException as e:  # a bug in the tool: report it, do not hide it
        conn.send(("error", _internal(e), {}))
    finally:
        conn.close()


def run_with_budget(fn: Callable, seconds: float = DEFAULT_SECONDS,
                    memory_mb: int | None = DEFAULT_MEMORY_MB) -> Outcome:
    """Call ``fn(progress)`` in a forked process; give up after ``seconds``.

    ``progress(phase, **extra)`` may be called by ``fn`` to say what it is
    doing; the last phase and the extras are returned with the outcome.
    """
    if seconds <= 0:
        raise ValueError(f"the time budget must be positive, got {seconds}")
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(child, fn, memory_mb), daemon=True)
    process.start()
    child.close()
    out = Outcome("died")
    deadline = time.monotonic() + seconds
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not parent.poll(remaining):
                if remaining <= 0 or process.is_alive():
                    out.status = "timeout"
                    break
            try:
                kind, value, extra = parent.recv()
            except EOFError:
                process.join(1)
                out.status, out.value = "died", process.exitcode
                break
            if kind == "phase":
                out.phase = value
                out.messages.update(extra)
                continue
            out.status, out.value = kind, value
            break
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()
    return out


# -- several at once ---------------------------------------------------------------------

def _pool_worker(tasks, results, fn, inherited):
    """Run ``fn(index)`` for each index read from ``tasks``, until None; the
    answers go to ``results``.  Two one-way pipes, not a socket pair: the
    fuzzer's audit hook rightly flags sockets."""
    for conn in inherited:                   # the parent's ends of the other workers' pipes
        conn.close()
    try:
        while (index := tasks.recv()) is not None:
            try:
                results.send((index, "done", fn(index)))
            except Exception as e:           # a bug, or a value that does not pickle: said, not hidden
                results.send((index, "error", _internal(e)))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass                                 # interrupted, or the parent is gone: stop quietly
    finally:
        tasks.close()
        results.close()


def forked_map(fn: Callable, items: list, jobs: int,
               done: Callable[[Any, Outcome], None] = lambda item, outcome: None) -> list[Outcome]:
    """``fn(item)`` for every item, in ``jobs`` forked worker processes at once;
    the outcomes in the order of ``items`` (``done``, ``value``; ``error`` with
    the message when ``fn`` raised; ``died`` with the exit code when a worker
    died), and ``done(item, outcome)`` called in this process as each comes in.

    Items are handed out in their order, one at a time, to whichever worker is
    free; a worker inherits ``fn`` and ``items`` (it is forked), so neither
    needs to pickle -- the values do.  The workers are not daemons: ``fn`` may
    itself call :func:`run_with_budget`.  On an exception here (Ctrl-C) the
    busy workers are interrupted, which stops their budgeted workers too.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    ctx = multiprocessing.get_context("fork")
    outcomes: list[Outcome | None] = [None] * len(items)
    handed = 0                               # items[:handed] are done or in a worker
    workers: dict = {}                       # results end -> [process, index it works on or None, tasks end]

    def hand_out(results) -> None:
        nonlocal handed
        index = handed if handed < len(items) else None
        handed += index is not None
        workers[results][1] = index
        try:
            workers[results][2].send(index)  # None: no more work, the worker exits
        except OSError:                      # it died meanwhile: the wait below reads its end of file
            pass

    def start() -> None:
        tasks_in, tasks = ctx.Pipe(duplex=False)
        results, results_out = ctx.Pipe(duplex=False)
        inherited = [c for r, (_, _, t) in workers.items() for c in (r, t)]
        process = ctx.Process(target=_pool_worker, daemon=False,
                              args=(tasks_in, results_out, lambda i: fn(items[i]), inherited))
        process.start()
        tasks_in.close()
        results_out.close()
        workers[results] = [process, None, tasks]
        hand_out(results)

    def finish(index: int, outcome: Outcome) -> None:
        outcomes[index] = outcome
        done(items[index], outcome)

    try:
        for _ in range(min(jobs, len(items))):
            start()
        while busy := [r for r, (_, index, _) in workers.items() if index is not None]:
            for results in wait(busy):
                process, index, tasks = workers[results]
                try:
                    _, status, value = results.recv()
                except EOFError:             # the worker died (a signal, the OOM killer): its item says so
                    process.join(5)
                    del workers[results]
                    results.close()
                    tasks.close()
                    finish(index, Outcome("died", process.exitcode))
                    if handed < len(items):
                        start()
                    continue
                finish(index, Outcome(status, value))
                hand_out(results)
    finally:
        for process, index, _ in workers.values():
            if index is not None and process.is_alive():
                os.kill(process.pid, signal.SIGINT)      # its budgeted worker is killed on the way out
        for results, (process, _, tasks) in workers.items():
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
            results.close()
            tasks.close()
    return outcomes
