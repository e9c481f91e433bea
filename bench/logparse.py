"""Log template mining benchmark: paytriage's TemplateMiner against drain3, side by side, on Loghub-2k.

Usage: ``python bench/logparse.py --data /work/shared/data/loghub_2k [--holdout Hadoop,Spark]``

Every system folder holding a ``*_structured_corrected.csv`` is used; both miners get the same
``Content`` column (the message after the header fields, as logparser feeds its parsers) and are
scored against its ``EventTemplate``:

* GA (grouping accuracy, logparser's definition): a line is right when the set of lines in its
  predicted group equals the set of lines of its true group.
* PA (parsing accuracy, per line): the predicted template equals the true one after whitespace runs
  become one space and runs of ``<*>`` joined only by punctuation become one ``<*>`` (Loghub's
  corrected labels write an ``ip:port`` as ``<*>:<*>`` in one system and ``<*>`` in another).
  ``pa_strict`` only normalises whitespace. drain3's ``<:NUM:>``-style masks count as ``<*>``.
* lines/s: best of ``--repeat`` runs of a fresh miner over the system's lines (mining only).

drain3 runs with the configuration of its documented example ``drain3.ini`` (masking for IDs, IPs,
hex sequences, hex and numbers; sim_th 0.4, depth 4, max_children 100, max_clusters 1024), without
its ``_`` extra delimiter, which rewrites ``mod_jk`` as ``mod jk`` in templates (``--drain3-underscore``
puts it back). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from paytriage.engines.logmining import TemplateMiner

_WS = re.compile(r"\s+")
_DRAIN3_MASK = re.compile(r"<:[A-Z0-9_]+:>")
_WILD_RUN = re.compile(r"<\*>(?:[^\w\s<>]*<\*>)+")

# drain3's documented example configuration (drain3.ini in its repository).
_DRAIN3_MASKING = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]

Runner = Callable[[Sequence[str]], tuple[list[int], list[str]]]


def load_system(folder: Path) -> tuple[list[str], list[str]] | None:
    """(contents, true templates) of one Loghub system folder, or None without ground truth."""
    found = sorted(folder.glob("*_structured_corrected.csv"))
    if not found:
        return None
    with found[0].open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["Content"] for r in rows], [r["EventTemplate"] for r in rows]


def normalise(template: str, *, strict: bool = False) -> str:
    t = _DRAIN3_MASK.sub("<*>", template)
    t = _WS.sub(" ", t).strip()
    if not strict:
        t = _WILD_RUN.sub("<*>", t)
    return t


def grouping_accuracy(truth: Sequence[str], predicted: Sequence[int]) -> float:
    true_sizes = Counter(truth)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(predicted):
        groups[p].append(i)
    correct = 0
    for members in groups.values():
        labels = {truth[i] for i in members}
        if len(labels) == 1 and true_sizes[next(iter(labels))] == len(members):
            correct += len(members)
    return correct / len(truth) if truth else 0.0


def parsing_accuracy(truth: Sequence[str], templates: Sequence[str], *, strict: bool = False) -> float:
    ok = sum(
        normalise(t, strict=strict) == normalise(p, strict=strict)
        for t, p in zip(truth, templates, strict=True)
    )
    return ok / len(truth) if truth else 0.0


def run_ours(lines: Sequence[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = miner.fit_predict(lines)
    text = {t.id: t.text for t in miner.templates()}
    return ids, [text[i] for i in ids]


def make_drain3(underscore: bool) -> Runner:
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    def run(lines: Sequence[str]) -> tuple[list[int], list[str]]:
        cfg = TemplateMinerConfig()
        cfg.masking_instructions = [MaskingInstruction(p, m) for p, m in _DRAIN3_MASKING]
        cfg.mask_prefix, cfg.mask_suffix = "<:", ":>"
        cfg.drain_sim_th, cfg.drain_depth, cfg.drain_max_children = 0.4, 4, 100
        cfg.drain_max_clusters = 1024
        cfg.drain_extra_delimiters = ["_"] if underscore else []
        cfg.profiling_enabled = False
        miner = Drain3Miner(config=cfg)
        ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
        text = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
        return ids, [text.get(i, "") for i in ids]

    return run


def measure(runner: Runner, lines: Sequence[str], truth: Sequence[str], repeat: int) -> dict[str, Any]:
    best = float("inf")
    ids: list[int] = []
    templates: list[str] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ids, templates = runner(lines)
        best = min(best, time.perf_counter() - t0)
    return {
        "ga": round(grouping_accuracy(truth, ids), 4),
        "pa": round(parsing_accuracy(truth, templates), 4),
        "pa_strict": round(parsing_accuracy(truth, templates, strict=True), 4),
        "templates": len(set(ids)),
        "lines_per_s": round(len(lines) / best),
    }


def _average(rows: list[dict[str, Any]], key: str) -> float:
    return round(statistics.fmean(r[key] for r in rows), 4) if rows else 0.0


def summarise(per_system: dict[str, dict[str, Any]], names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"systems": names}
    for who in ("ours", "drain3"):
        rows = [per_system[n][who] for n in names if who in per_system[n]]
        if rows:
            out[who] = {k: _average(rows, k) for k in ("ga", "pa", "pa_strict", "lines_per_s")}
    if "ours" in out and "drain3" in out:
        out["speed_ratio"] = round(out["ours"]["lines_per_s"] / out["drain3"]["lines_per_s"], 2)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--data", required=True, type=Path, help="folder with one sub-folder per Loghub system")
    ap.add_argument(
        "--holdout",
        default="Hadoop,Spark",
        help="systems kept out of development (comma-separated), reported apart; OpenStack was the "
        + "first round's holdout, Spark the second's",
    )
    ap.add_argument("--systems", default="", help="only these systems (comma-separated)")
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per system (best is kept)")
    ap.add_argument("--no-drain3", action="store_true", help="skip the drain3 baseline")
    ap.add_argument("--drain3-underscore", action="store_true", help="give drain3 its '_' extra delimiter")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(json.dumps({"error": f"no such folder: {args.data}"}))
        return 1
    wanted = {s for s in args.systems.split(",") if s}
    holdout = [s for s in args.holdout.split(",") if s]
    runners: dict[str, Runner] = {"ours": run_ours}
    if not args.no_drain3:
        runners["drain3"] = make_drain3(args.drain3_underscore)
    per_system: dict[str, dict[str, Any]] = {}
    for folder in sorted(p for p in args.data.iterdir() if p.is_dir()):
        if wanted and folder.name not in wanted:
            continue
        loaded = load_system(folder)
        if loaded is None:
            continue
        lines, truth = loaded
        per_system[folder.name] = {"lines": len(lines), "true_templates": len(set(truth))}
        for who, runner in runners.items():
            per_system[folder.name][who] = measure(runner, lines, truth, args.repeat)
        if "drain3" in runners:
            r = per_system[folder.name]
            r["speed_ratio"] = round(r["ours"]["lines_per_s"] / r["drain3"]["lines_per_s"], 2)
    names = sorted(per_system)
    dev = [n for n in names if n not in holdout]
    held = [n for n in names if n in holdout]
    report = {
        "benchmark": "loghub_2k template mining",
        "drain3_config": "examples/drain3.ini masking, sim_th=0.4, depth=4, max_children=100, "
        + "max_clusters=1024, "
        + ("extra_delimiters=['_']" if args.drain3_underscore else "no extra delimiters"),
        "per_system": per_system,
        "average": summarise(per_system, names),
        "average_dev": summarise(per_system, dev),
        "average_holdout": summarise(per_system, held),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
