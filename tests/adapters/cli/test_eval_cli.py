"""`paytriage eval sandbox`: the whole pipeline scored on a small sandbox, with and without intents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from paytriage.adapters.cli import evaluation, problems, sandbox

runner = CliRunner()


@pytest.fixture()
def app() -> typer.Typer:
    root = typer.Typer()
    root.callback()(lambda: None)
    for module in (evaluation, problems, sandbox):
        module.register(root)
    return root


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYTRIAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")


def test_eval_sandbox_with_intents_fitted_on_another_sandbox(app: typer.Typer, tmp_path: Path) -> None:
    """Intent groups fitted on one sandbox's tickets (the team's history) feed detection on another."""
    for seed in (3, 4):
        args = ["--seed", str(seed), "--tickets", "400", "--days", "8", "--out", str(tmp_path / f"sb{seed}")]
        res = runner.invoke(app, ["sandbox", "generate", *args])
        assert res.exit_code == 0, res.output
    past = tmp_path / "sb3" / "tickets.jsonl"  # subject and description joined, as triage reads them
    model = tmp_path / "intents"
    res = runner.invoke(app, ["problems", "cluster", "-i", str(past), "-o", str(tmp_path / "c.csv"),
                              "--text-column", "subject", "--text-column", "description",
                              "--features", "tfidf", "--model", str(model)])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["eval", "sandbox", str(tmp_path / "sb4"), "--intents", str(model), "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.stdout)["metrics"]
    assert metrics["tickets"] == 400 and metrics["incident_recall"] is not None
    missing = runner.invoke(
        app, ["eval", "sandbox", str(tmp_path / "sb4"), "--intents", str(tmp_path / "no")]
    )
    assert missing.exit_code != 0 and "--intents" in missing.output and "Traceback" not in missing.output


def test_eval_sandbox_reports_the_counts_behind_precision_and_recall(
    app: typer.Typer, tmp_path: Path
) -> None:
    """Counts, not only ratios: sandboxes are pooled from them, and where no incident is real (an
    incident-free sandbox) the problems called are the false alarms."""
    out = tmp_path / "quiet"
    args = ["--seed", "5", "--tickets", "300", "--days", "7", "--incidents", "none", "--out", str(out)]
    assert runner.invoke(app, ["sandbox", "generate", *args]).exit_code == 0
    res = runner.invoke(app, ["eval", "sandbox", str(out), "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)["metrics"]
    assert m["incidents"] == 0 and m["incident_recall"] is None
    assert isinstance(m["incidents_called"], int) and m["incidents_called_right"] == 0
    table = runner.invoke(app, ["eval", "sandbox", str(out)])
    assert table.exit_code == 0, table.output
    cells = {
        parts[1].strip(): parts[2].strip()
        for parts in (line.split("│") for line in table.output.splitlines())
        if len(parts) == 4
    }
    assert cells["incidents_called"] == str(m["incidents_called"]) and cells["incidents"] == "0"
