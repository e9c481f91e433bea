"""First-seen variants on real logs: how often a new template only rewords a known one.

    .venv/bin/python bench/first_seen_variants.py ../shared/data/loghub_2k [--all-levels]

For each Loghub 2k sample with ground-truth templates (``*_structured_corrected.csv``), the lines
are read in order; each line's novelty key (``novelty_key(log_template(content))``, what
``FirstSeenWatcher`` compares) that was never seen before is a *new template*, and a *variant* when
``_Novelty.variant`` says it differs from an earlier one in one short run of words (the rule that
makes a first-seen alert routine). A variant whose partner template carries the same ground-truth
event id is one the annotators also call the same event. By default only warning and error lines
count (what first-seen alerts watch); ``--all-levels`` takes every line, for more templates.

Printed as JSON, per dataset and in total: lines, new templates, variants, variants of the same
ground-truth event, and a few examples.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paytriage.engines.patterns.log_signals import ALERT_LEVELS, _Novelty, log_template, novelty_key

SPAN = 4


def _partner(known: list[str], key: str) -> str | None:
    """The first earlier template that ``key`` is a variant of."""
    for k in known:
        one = _Novelty(datetime.now(UTC))
        one.observe(k)
        if one.variant(key, SPAN):
            return k
    return None


def dataset(path: Path, *, all_levels: bool) -> dict[str, Any]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    seen = _Novelty(datetime.now(UTC))
    event: dict[str, str] = {}
    lines = new = variants = same = 0
    examples: list[dict[str, str]] = []
    for r in rows:
        if not all_levels and r.get("Level", "").lower() not in ALERT_LEVELS:
            continue
        lines += 1
        key = novelty_key(log_template(r["Content"]))
        if not seen.observe(key):
            continue
        new += 1
        if seen.variant(key, SPAN):
            variants += 1
            partner = _partner(list(event), key)
            if partner is not None and event[partner] == r["EventId"]:
                same += 1
            if len(examples) < 3 and partner is not None:
                examples.append(
                    {"known": partner, "new": key, "events": f"{event[partner]} -> {r['EventId']}"}
                )
        event[key] = r["EventId"]
    return {
        "lines": lines,
        "new_templates": new,
        "variants": variants,
        "same_event": same,
        "examples": examples,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("loghub", type=Path, help="the loghub_2k directory")
    ap.add_argument("--all-levels", action="store_true")
    args = ap.parse_args()
    out: dict[str, Any] = {"machine": platform.machine(), "levels": "all" if args.all_levels else "warning+"}
    total = {"lines": 0, "new_templates": 0, "variants": 0, "same_event": 0}
    for d in sorted(p for p in args.loghub.iterdir() if p.is_dir()):
        f = d / f"{d.name}_2k.log_structured_corrected.csv"
        if not f.exists():
            continue
        res = dataset(f, all_levels=args.all_levels)
        out[d.name] = res
        for k in total:
            total[k] += res[k]
    out["total"] = total
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
