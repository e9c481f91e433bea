"""`paytriage model …` end to end on a tiny synthetic export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tests.engines.classifier.conftest import make_corpus
from typer.testing import CliRunner

from paytriage.adapters.cli.main import app

runner = CliRunner()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    texts, labels = make_corpus(per_class=6)
    path = tmp_path / "tickets.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "body", "cat"])
        w.writerows([(i, t, lab) for i, (t, lab) in enumerate(zip(texts, labels, strict=True))])
    return path


def test_train_info_predict_evaluate(tmp_path: Path, export: Path) -> None:
    model = tmp_path / "model"
    args = ["--input", str(export), "--text-column", "body", "--label-column", "cat"]
    result = runner.invoke(app, ["model", "train", *args, "--out", str(model), "--json"])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.stdout)
    assert trained["classes"] == 3 and trained["n_train"] == 18 and trained["folds"] == 3

    result = runner.invoke(app, ["model", "info", "--model", str(model), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "paytriage-classifier/1"

    out = tmp_path / "pred.csv"
    result = runner.invoke(
        app,
        [
            "model",
            "predict",
            "--model",
            str(model),
            "--input",
            str(export),
            "--text-column",
            "body",
            "--out",
            str(out),
            "--abstain-threshold",
            "0.999",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"id", "body", "cat", "predicted", "confidence", "best_guess"}
    assert all(r["predicted"] in ("", r["best_guess"]) for r in rows)
    assert json.loads(result.stdout)["abstained"] == sum(r["predicted"] == "" for r in rows)

    report = tmp_path / "report"
    result = runner.invoke(app, ["model", "evaluate", *args, "--folds", "3", "--report-dir", str(report)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in report.iterdir()} == {"confusion.png", "report.html", "report.json"}
    held_out = runner.invoke(app, ["model", "evaluate", *args, "--model", str(model), "--json"])
    assert held_out.exit_code == 0, held_out.output
    assert json.loads(held_out.stdout)["accuracy"] > 0.9


def test_bad_input_is_one_line(tmp_path: Path, export: Path) -> None:
    result = runner.invoke(
        app, ["model", "train", "--input", str(export), "--text-column", "nope", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 1
    assert "no column 'nope'" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["model", "info", "--model", str(tmp_path)])
    assert result.exit_code == 1 and "not a paytriage model directory" in result.output
    result = runner.invoke(
        app,
        [
            "model",
            "train",
            "--input",
            str(export),
            "--text-column",
            "body",
            "--label-column",
            "cat",
            "--features",
            "bert",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 2


def test_embeddings_missing_says_how_to_enable(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("paytriage.engines.classifier.encoder.embeddings_available", lambda name="": False)
    result = runner.invoke(
        app,
        [
            "model",
            "train",
            "--input",
            str(export),
            "--text-column",
            "body",
            "--label-column",
            "cat",
            "--features",
            "combined",
            "--cv",
            "0",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 1
    assert "paytriage[embeddings]" in result.output


def test_finetuned_without_the_extra_says_how_to_enable_and_skips_cv(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("paytriage.engines.classifier.finetune.embeddings_available", lambda name="": False)

    def no_cv(*args: object, **kwargs: object) -> None:
        raise AssertionError("fine-tuning is not cross-validated unless --cv asks for it")

    monkeypatch.setattr("paytriage.adapters.cli.model.cross_validate", no_cv)
    args = ["--input", str(export), "--text-column", "body", "--label-column", "cat"]
    result = runner.invoke(
        app, ["model", "train", *args, "--features", "finetuned", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 1, result.output
    assert "paytriage[embeddings]" in result.output
    assert "finetuned" in runner.invoke(app, ["model", "train", "--help"]).output
