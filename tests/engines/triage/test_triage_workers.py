"""The worker pool: forked and spawned workers, streaming in input order, results equal one process."""

from __future__ import annotations

import json
import multiprocessing
import threading
from functools import partial

import pytest
from tests.engines.triage.test_triage_regression import load_cases

from paytriage.engines.triage import Triager
from paytriage.engines.triage.result import TriageResult
from paytriage.engines.triage.workers import CHUNK, TriagePool, start_method


def _line(result: TriageResult, *, prefix: str) -> str:
    return prefix + json.dumps(result.to_dict(), sort_keys=True)


METHODS = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]


@pytest.mark.parametrize("method", METHODS)
def test_pool_streams_in_order_and_equals_one_process(triager: Triager, method: str) -> None:
    tickets, _ = load_cases()
    stream = (tickets * 12)[: 5 * CHUNK + 7]  # several chunks and a ragged end
    expected = [_line(r, prefix="#") for r in triager.triage_many(stream)]
    pool = TriagePool(triager, 2, method=method)
    try:
        assert pool.method == method
        got = list(pool.imap(iter(stream), partial(_line, prefix="#")))
        bare = ["I was charged twice", "How do I reset my password?"] * (CHUNK + 3)
        ids = [r.id for r in pool.imap(bare)]
    finally:
        pool.close()
    assert got == expected
    assert ids == [str(i + 1) for i in range(len(bare))]


def test_triage_stream_one_process_numbers_bare_text_across_batches(triager: Triager) -> None:
    bare = ["card declined code 05"] * (2 * CHUNK + 5)
    results = list(triager.triage_stream(iter(bare)))
    assert [r.id for r in results] == [str(i + 1) for i in range(len(bare))]
    assert list(triager.triage_stream([], workers=2)) == []


def test_triage_stream_with_workers_equals_one_process() -> None:
    triager = Triager.from_config()
    tickets, _ = load_cases()
    stream = (tickets * 12)[: 3 * CHUNK]
    render = partial(_line, prefix="")
    try:
        pooled = list(triager.triage_stream(stream, workers=2, render=render))
    finally:
        triager.close()
    assert pooled == [render(r) for r in triager.triage_stream(stream)]


def test_fork_only_without_other_threads() -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        t.join()
