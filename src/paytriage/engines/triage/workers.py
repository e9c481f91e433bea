"""A pool of worker processes for big triage batches: one core is ~2,000 tickets/s, two are more.

Workers are *spawned* (safe with threads and on every OS), receive the fitted triager once at
start-up (pickled; nothing is refitted), and then triage chunks of :data:`CHUNK` tickets each.
Results come back in input order and equal the single-process results.
"""

from __future__ import annotations

import atexit
import multiprocessing
import pickle
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from paytriage.domain.ticket import Ticket

if TYPE_CHECKING:
    from paytriage.engines.triage.result import TriageContext, TriageResult
    from paytriage.engines.triage.triager import Triager

__all__ = ["CHUNK", "TriagePool"]

#: Tickets per task: big enough that pickling overhead is small, small enough to balance two cores.
CHUNK = 256

_triager: Triager | None = None


def _start(blob: bytes) -> None:
    global _triager
    _triager = pickle.loads(blob)  # our own object, sent by the parent process


def _run(
    chunk: tuple[Sequence[Ticket | str], Sequence[TriageContext | None] | None, int],
) -> list[TriageResult]:
    tickets, contexts, offset = chunk
    assert _triager is not None, "worker not initialised"
    results = _triager.triage_many(tickets, contexts)
    for i, r in enumerate(results):  # bare strings are numbered by position in the whole batch
        if not isinstance(tickets[i], Ticket):
            r.id = str(offset + i + 1)
    return results


class TriagePool:
    """``workers`` processes, each holding a copy of one fitted :class:`Triager`."""

    def __init__(self, triager: Triager, workers: int) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(pickle.dumps(triager, protocol=pickle.HIGHEST_PROTOCOL),),
        )
        atexit.register(self.close)

    def triage_many(
        self, tickets: Sequence[Ticket | str], contexts: Sequence[TriageContext | None] | None
    ) -> list[TriageResult]:
        chunks = [
            (tickets[i : i + CHUNK], contexts[i : i + CHUNK] if contexts else None, i)
            for i in range(0, len(tickets), CHUNK)
        ]
        return [r for part in self._executor.map(_run, chunks) for r in part]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
