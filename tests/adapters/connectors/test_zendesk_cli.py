"""`paytriage connectors …` commands against the contract servers (Zendesk import, Jira dry run, errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from tests.contract.fixtures import JIRA_TOKEN, ZENDESK_TOKEN, JiraEnv, ZendeskEnv, jira_env, zendesk_env
from typer.testing import CliRunner

from paytriage.adapters.cli.connectors import register

__all__ = ["jira_env", "zendesk_env"]

app = typer.Typer()
register(app)


@app.callback()
def _root() -> None:
    """Test root."""


runner = CliRunner()


def test_every_command_has_help() -> None:
    for path in (
        ["connectors"],
        ["connectors", "zendesk", "import"],
        ["connectors", "zendesk", "comment"],
        ["connectors", "zendesk", "update"],
        ["connectors", "jira", "check"],
        ["connectors", "jira", "escalate"],
        ["connectors", "jira", "sync"],
    ):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage" in result.output


def test_zendesk_import_writes_jsonl_and_resumes(
    zendesk_env: ZendeskEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTRIAGE_ZENDESK_EMAIL", "agent@example.com")
    monkeypatch.setenv("PAYTRIAGE_ZENDESK_TOKEN", ZENDESK_TOKEN)
    out, cur = tmp_path / "tickets.jsonl", tmp_path / "cursor.json"
    args = ["connectors", "zendesk", "import", "--url", zendesk_env.server.url]
    args += ["--cursor-file", str(cur), "--out", str(out), "--per-page", "100", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["tickets_total"] == 250 and summary["end_of_stream"] is True
    assert len(out.read_text(encoding="utf-8").splitlines()) == 250
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 250


def test_zendesk_errors_are_one_line_without_the_token(
    zendesk_env: ZendeskEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTRIAGE_ZENDESK_EMAIL", "agent@example.com")
    monkeypatch.setenv("PAYTRIAGE_ZENDESK_TOKEN", "wrong-token-value")
    result = runner.invoke(
        app, ["connectors", "zendesk", "comment", "5", "--body", "x", "--url", zendesk_env.server.url]
    )
    assert result.exit_code == 1
    assert "401" in result.output and "Traceback" not in result.output
    assert "wrong-token-value" not in result.output
    monkeypatch.delenv("PAYTRIAGE_ZENDESK_TOKEN")
    missing = runner.invoke(
        app, ["connectors", "zendesk", "update", "5", "--status", "open", "--subdomain", "x"]
    )
    assert missing.exit_code == 1 and "PAYTRIAGE_ZENDESK_TOKEN" in missing.output
    usage = runner.invoke(app, ["connectors", "zendesk", "update", "5", "--subdomain", "x"])
    assert usage.exit_code == 2


def test_jira_escalate_dry_run_and_bad_package(
    jira_env: JiraEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTRIAGE_JIRA_URL", jira_env.server.url)
    monkeypatch.setenv("PAYTRIAGE_JIRA_EMAIL", "bot@example.com")
    monkeypatch.setenv("PAYTRIAGE_JIRA_TOKEN", JIRA_TOKEN)
    package = tmp_path / "p.json"
    package.write_text(
        json.dumps({"title": "Webhooks late", "summary": "s", "priority": "P1"}), encoding="utf-8"
    )
    result = runner.invoke(app, ["connectors", "jira", "escalate", str(package), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["action"] == "dry_run" and out["fields"]["priority"] == {"name": "Highest"}
    assert jira_env.fake.issues == {}
    package.write_text("{not json", encoding="utf-8")
    bad = runner.invoke(app, ["connectors", "jira", "escalate", str(package)])
    assert bad.exit_code == 1 and "line 1" in bad.output
    key = jira_env.fake.add_issue("x")
    synced = runner.invoke(app, ["connectors", "jira", "sync", key, "PAY-77", "--json"])
    assert [r["status"] for r in json.loads(synced.stdout)] == ["To Do", "missing"]
