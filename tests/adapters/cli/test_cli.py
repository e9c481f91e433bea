"""The CLI: help on every command, exit codes, --json, and the demo."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from paytriage.adapters.cli.main import app

runner = CliRunner()


def all_command_paths() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, prefix: list[str]) -> None:
        paths.append(prefix)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    cmd = get_command(app)
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    assert (cmd.help or "").strip(), f"'{' '.join(path)}' has no help text"


def test_usage_error_exit_code() -> None:
    assert runner.invoke(app, ["ingest", "tickets"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "created_at", "description"])
        w.writerows(rows)
    return path


def test_ingest_exit_codes_and_json(cli_env: Path, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.csv", [["1", "2026-11-02T09:00:00Z", "hello"]])
    r = runner.invoke(app, ["ingest", "tickets", str(good), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["created"] == 1
    mixed = _write(tmp_path / "mixed.csv", [["2", "2026-11-02T09:00:00Z", "ok"], ["3", "", "no date"]])
    r = runner.invoke(app, ["ingest", "tickets", str(mixed)])
    assert r.exit_code == 3
    assert "line 3" in r.output and "created_at" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["ingest", "tickets", str(mixed), "--strict", "--json"])
    assert r.exit_code == 1
    assert json.loads(r.stdout)["stored"] is False
    r = runner.invoke(app, ["ingest", "tickets", str(tmp_path / "missing.csv")])
    assert r.exit_code == 1 and "not found" in r.output


def test_cases_list_show_update(cli_env: Path, tmp_path: Path) -> None:
    good = _write(
        tmp_path / "t.csv",
        [["1", "2026-11-02T09:00:00Z", "card declined"], ["2", "2026-11-02T10:00:00Z", "refund missing"]],
    )
    runner.invoke(app, ["ingest", "tickets", str(good)])
    listed = json.loads(runner.invoke(app, ["cases", "list", "--json"]).stdout)
    assert listed["count"] == 2
    case_id = listed["data"][0]["id"]
    shown = json.loads(runner.invoke(app, ["cases", "show", str(case_id), "--json"]).stdout)
    assert shown["tickets"][0]["description"] in {"card declined", "refund missing"}
    r = runner.invoke(app, ["cases", "update", str(case_id), "--status", "closed"])
    assert r.exit_code == 1 and "cannot go from new to closed" in r.output
    r = runner.invoke(app, ["cases", "show", "9999"])
    assert r.exit_code == 1 and "not found" in r.output


def test_demo_no_serve(cli_env: Path) -> None:
    args = ["demo", "--no-serve", "--json", "--tickets", "60", "--days", "3"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["open_cases"] >= 1
    assert out["triage"]["triaged"] + out["triage"]["duplicates_linked"] == 60
    assert 0.0 <= out["metrics"]["category_accuracy"] <= 1.0
    assert "problems" in out["seconds"]
    assert out["metrics"]["time_to_detect"] is not None
    again = json.loads(runner.invoke(app, args).stdout)
    assert all(i["created"] == 0 for i in again["ingest"])


def test_typer_app_is_typer() -> None:
    assert isinstance(app, typer.Typer)
