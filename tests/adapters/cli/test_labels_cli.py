"""People's labels: set on cases, kept by re-triage, train a model (--from-db) that triage then uses."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from paytriage.adapters.cli.main import app

runner = CliRunner()

TEXTS = {
    "refund": [
        "refund not received after a week",
        "where is my refund for the cancelled order",
        "the merchant says they refunded but nothing arrived",
        "refund still missing on my card",
    ],
    "payout_withdrawal": [
        "my withdrawal to the bank has not arrived",
        "payout pending for 5 days",
        "cash out to my account never came",
        "bank transfer from my balance is late",
    ],
}


def test_label_train_from_db_and_triage_with_model(cli_env: Path, tmp_path: Path) -> None:
    rows = [
        {"id": f"{cat}-{i}", "created_at": f"2026-11-0{1 + i}T09:00:00Z", "description": text}
        for cat, texts in TEXTS.items()
        for i, text in enumerate(texts)
    ]
    src = tmp_path / "t.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert runner.invoke(app, ["ingest", "tickets", str(src)]).exit_code == 0
    assert runner.invoke(app, ["triage", "--all"]).exit_code == 0
    cases = json.loads(runner.invoke(app, ["cases", "list", "--json", "--limit", "100"]).stdout)["data"]
    shown = {
        c["id"]: json.loads(runner.invoke(app, ["cases", "show", str(c["id"]), "--json"]).stdout)
        for c in cases
    }
    for case_id, case in shown.items():
        label = case["tickets"][0]["external_id"].rsplit("-", 1)[0]
        r = runner.invoke(app, ["cases", "update", str(case_id), "--category", label])
        assert r.exit_code == 0, r.output
    bad = runner.invoke(app, ["cases", "update", str(next(iter(shown))), "--category", "nonsense"])
    assert bad.exit_code == 1 and "unknown category" in bad.output

    assert runner.invoke(app, ["triage", "--all", "--retriage"]).exit_code == 0
    after = json.loads(runner.invoke(app, ["cases", "list", "--json", "--limit", "100"]).stdout)["data"]
    assert {c["id"]: c["category"] for c in after} == {
        i: s["tickets"][0]["external_id"].rsplit("-", 1)[0] for i, s in shown.items()
    }

    model_dir = tmp_path / "model"
    r = runner.invoke(app, ["model", "train", "--from-db", "--out", str(model_dir), "--cv", "0", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["n_train"] == 8
    probe = tmp_path / "probe.csv"
    probe.write_text("id,description\np1,my refund never showed up\n")
    r = runner.invoke(app, ["triage", str(probe), "--model", str(model_dir), "--json", "--full"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.splitlines()[0])
    assert out["category"] == "refund"
    assert out["model_version"] != "" and "zero-config" not in out["model_version"]
    assert runner.invoke(app, ["model", "train", "--out", str(model_dir)]).exit_code == 2
