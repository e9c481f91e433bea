"""`paytriage investigate CASE_ID`: text and --json output, template indexing, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engines.investigate.test_correlation import background, issuer_outage, ticket
from tests.services.test_investigation import _case_of, _store
from typer.testing import CliRunner

from paytriage.adapters.cli.main import app
from paytriage.adapters.storage.database import Database

runner = CliRunner()


def _world(db_path: Path) -> int:
    db = Database(f"sqlite:///{db_path}")
    db.migrate()
    bg_t, bg_l = background()
    out_t, out_l = issuer_outage()
    t = ticket(f"declined: {out_t[-1].external_id}")
    _store(db, [*bg_t, *out_t], [*bg_l, *out_l], [t])
    case_id = _case_of(db, t.external_id)
    db.dispose()
    return case_id


def test_investigate_json_and_text(cli_env: Path) -> None:
    cli_env.parent.mkdir(parents=True, exist_ok=True)
    case_id = _world(cli_env)
    r = runner.invoke(app, ["investigate", str(case_id), "--index-logs", "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["hypotheses"][0]["kind"] == "decline_spike"
    assert (cli_env.parent / "log_templates.json").exists()
    text = runner.invoke(app, ["investigate", str(case_id)])
    assert text.exit_code == 0, text.output
    assert "Verdict" in text.output and "[count]" in text.output and "Timeline" in text.output


def test_investigate_errors_are_one_line(cli_env: Path) -> None:
    cli_env.parent.mkdir(parents=True, exist_ok=True)
    _world(cli_env)
    r = runner.invoke(app, ["investigate", "9999"])
    assert r.exit_code == 1 and "not found" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["investigate", "1", "--as-of", "soon"])
    assert r.exit_code == 1 and "--as-of" in r.output
    assert runner.invoke(app, ["investigate", "abc"]).exit_code == 2
