"""A pool of worker processes for big triage batches: one core is ~1,200 tickets/s, two are more.

Where the OS can ``fork`` (Linux) and the parent runs no other thread, workers are forked and
inherit the fitted triager: the pool starts in milliseconds instead of seconds (a spawned worker
imports the package and unpickles the model; the parent's copy is shared copy-on-write). Elsewhere
workers are *spawned* and receive the triager pickled once. Either way nothing is refitted.

:meth:`TriagePool.imap` streams: chunks of :data:`CHUNK` tickets go out while earlier ones come
back, at most a few per worker in flight, results in input order. A ``render`` function (e.g. to
a JSON line) runs in the workers, so the parent only reads input and writes output. Results equal
the single-process results.
"""

from __future__ import annotations

import atexit
import multiprocessing
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any

from paytriage.domain.ticket import Ticket

if TYPE_CHECKING:
    from paytriage.engines.triage.result import TriageContext, TriageResult
    from paytriage.engines.triage.triager import Triager

__all__ = ["CHUNK", "TriagePool", "start_method"]

#: Tickets per task: big enough that pickling overhead is small, small enough to balance two cores.
CHUNK = 256
#: Chunks in flight per worker while streaming: enough to keep every worker busy, bounded memory.
AHEAD = 3

_triager: Triager | None = None


def start_method() -> str:
    """``fork`` where available and safe (no other thread in this process), else ``spawn``."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _start(triager: Triager | bytes) -> None:
    global _triager
    # Forked workers get the object itself; spawned ones get our own pickled bytes from the parent.
    _triager = pickle.loads(triager) if isinstance(triager, bytes) else triager


def _run(
    chunk: tuple[
        Sequence[Any],
        Sequence[TriageContext | None] | None,
        int,
        Callable[[TriageResult], Any] | None,
        Callable[[Any], Ticket | str] | None,
    ],
) -> list[Any]:
    items, contexts, offset, render, convert = chunk
    assert _triager is not None, "worker not initialised"
    # Turning input records into tickets is parsing work too: done here, it runs on every core.
    tickets: Sequence[Ticket | str] = items if convert is None else [convert(x) for x in items]
    results = _triager.triage_many(tickets, contexts)
    for i, r in enumerate(results):  # bare strings are numbered by position in the whole batch
        if not isinstance(tickets[i], Ticket):
            r.id = str(offset + i + 1)
    return results if render is None else [render(r) for r in results]


class TriagePool:
    """``workers`` processes, each holding a copy of one fitted :class:`Triager`."""

    def __init__(self, triager: Triager, workers: int, *, method: str | None = None) -> None:
        self.workers = workers
        self.method = method or start_method()
        payload: Triager | bytes = (
            triager if self.method == "fork" else pickle.dumps(triager, protocol=pickle.HIGHEST_PROTOCOL)
        )
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(self.method),
            initializer=_start,
            initargs=(payload,),
        )
        atexit.register(self.close)

    def triage_many(
        self, tickets: Sequence[Ticket | str], contexts: Sequence[TriageContext | None] | None
    ) -> list[TriageResult]:
        chunks = [
            (tickets[i : i + CHUNK], contexts[i : i + CHUNK] if contexts else None, i, None, None)
            for i in range(0, len(tickets), CHUNK)
        ]
        return [r for part in self._executor.map(_run, chunks) for r in part]

    def imap(
        self,
        tickets: Iterable[Any],
        render: Callable[[TriageResult], Any] | None = None,
        convert: Callable[[Any], Ticket | str] | None = None,
    ) -> Iterator[Any]:
        """Triage a stream of tickets, yielding results (or ``render(result)``) in input order.

        ``convert`` turns each input item (e.g. a parsed record) into a ticket inside the workers; an
        error it raises reaches the caller. ``render`` and ``convert`` must be picklable (module-level
        functions or ``functools.partial`` of one).
        """
        it = iter(tickets)
        pending: deque[Future[list[Any]]] = deque()
        offset = 0
        while True:
            while len(pending) < AHEAD * self.workers:
                chunk = list(islice(it, CHUNK))
                if not chunk:
                    break
                pending.append(self._executor.submit(_run, (chunk, None, offset, render, convert)))
                offset += len(chunk)
            if not pending:
                return
            yield from pending.popleft().result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
