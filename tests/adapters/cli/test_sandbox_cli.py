"""`paytriage sandbox generate`: JSON summary, determinism through the CLI, one-line errors, help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from paytriage.adapters.cli import sandbox


@pytest.fixture()
def app() -> typer.Typer:
    root = typer.Typer()
    root.callback()(lambda: None)
    sandbox.register(root)
    return root


def test_generate_json(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "sbx"
    res = CliRunner().invoke(
        app,
        ["sandbox", "generate", "--seed", "5", "--tickets", "60", "--days", "3", "--out", str(out), "--json"],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["tickets"] == 60 and summary["seed"] == 5 and summary["log_lines"] > 0
    assert (out / "tickets.jsonl").read_text().count("\n") == 60


def test_generate_table_output(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "sandbox",
            "generate",
            "--tickets",
            "30",
            "--days",
            "2",
            "--incidents",
            "none",
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "tickets" in res.stdout


def test_bad_incident_spec_is_one_line_error(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        ["sandbox", "generate", "--tickets", "10", "--incidents", "volcano=2", "--out", str(tmp_path / "x")],
    )
    assert res.exit_code == 1
    assert "unknown incident kind" in res.output and "Traceback" not in res.output


def test_refuses_foreign_non_empty_dir(app: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    res = CliRunner().invoke(app, ["sandbox", "generate", "--tickets", "10", "--out", str(tmp_path)])
    assert res.exit_code == 1 and "--force" in res.output


def test_zero_tickets_rejected(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["sandbox", "generate", "--tickets", "0", "--out", str(tmp_path / "z")])
    assert res.exit_code == 1 and "tickets" in res.output


def test_every_command_has_help(app: typer.Typer) -> None:
    res = CliRunner().invoke(app, ["sandbox", "generate", "--help"])
    assert res.exit_code == 0 and "Generate a sandbox" in res.output
