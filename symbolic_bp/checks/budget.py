"""Run a function under a time budget and a memory cap, in a forked worker.

SymPy can run for a very long time (or allocate without bound) on an
innocent-looking input, and cannot be interrupted from inside reliably; a
worker process can.  The worker reports its phase as it goes, so a budget
that runs out can say *where* it ran out.

>>> run_with_budget(lambda progress: 6 * 7, seconds=10)
Outcome(status='done', value=42, phase='starting', messages={})
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_SECONDS = 60.0
DEFAULT_MEMORY_MB = 4096


@dataclass
class Outcome:
    status: str                  # done | timeout | memory | died | error
    value: Any = None
    phase: str = "starting"
    messages: dict = field(default_factory=dict)   # extra ("key", value) the worker sent


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
