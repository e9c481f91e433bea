"""`paytriage triage FILE --json`: JSON lines out, bad rows named, help present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from paytriage.adapters.cli import triage as triage_cli


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    triage_cli.register(a)

    @a.command("noop")
    def _noop() -> None:  # a second command keeps Typer in multi-command mode, as in the real root app
        """Nothing."""

    return a


runner = CliRunner()


def test_csv_to_json_lines(app: typer.Typer, tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text(
        "id,created_at,subject,description\n"
        '1,2026-11-05T10:00:00Z,Declined,"My card 4111 1111 1111 1111 was declined, code 05"\n'
        "2,2026-11-05,,How do I reset my password?\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["triage", str(f), "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["1", "2"]
    assert set(rows[0]) >= {
        "id",
        "category",
        "category_confidence",
        "route",
        "priority",
        "needs_info",
        "entities",
        "redacted_text",
        "reasons",
    }
    assert rows[0]["category"] == "card_payment_declined"
    assert "4111 1111 1111 1111" not in res.stdout
    assert rows[1]["route"] == "tier1"


def test_jsonl_with_body_alias(app: typer.Typer, tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(
        json.dumps({"id": "a", "created_at": "2026-11-05T10:00:00", "body": "where is my refund"})
        + "\n\n"
        + json.dumps({"id": "b", "body": "webhooks return 500"})
        + "\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["triage", str(f), "--json"])
    assert res.exit_code == 0, res.output
    assert [json.loads(x)["category"] for x in res.stdout.splitlines()] == ["refund", "api_integration"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ('{"id": "a", "body": "ok"}\n{"id": "b"}\n', "t.jsonl", "line 2"),
        ('{"id": "a", "body": "ok"}\n{not json\n', "t.jsonl", "line 2"),
        ("id,description\n1,fine\n,missing id\n", "t.csv", "line 3"),
        ('{"id": "a", "body": "x", "created_at": "yesterday"}\n', "t.jsonl", "created_at"),
    ],
)
def test_bad_rows_are_named(app: typer.Typer, tmp_path: Path, content: str, name: str, message: str) -> None:
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    res = runner.invoke(app, ["triage", str(f), "--json"])
    assert res.exit_code == 1
    assert message in res.output
    assert "Traceback" not in res.output


def test_missing_and_binary_files(app: typer.Typer, tmp_path: Path) -> None:
    assert runner.invoke(app, ["triage", str(tmp_path / "nope.csv")]).exit_code == 1
    b = tmp_path / "b.csv"
    b.write_bytes(b"\xff\xfe\x00garbage")
    res = runner.invoke(app, ["triage", str(b)])
    assert res.exit_code == 1 and "UTF-8" in res.output


def test_table_output_and_help(app: typer.Typer, tmp_path: Path) -> None:
    f = tmp_path / "t.json"
    f.write_text(json.dumps({"tickets": [{"id": "x", "description": "card declined"}]}), encoding="utf-8")
    res = runner.invoke(app, ["triage", str(f)])
    assert res.exit_code == 0 and "card_payment_declined" in res.output
    assert "Triage tickets" in runner.invoke(app, ["triage", "--help"]).output


def test_triage_all_stored_cases(cli_env: Path, tmp_path: Path) -> None:
    from paytriage.adapters.cli.main import app

    src = tmp_path / "t.csv"
    src.write_text(
        "id,created_at,description\n"
        "1,2026-11-02T09:00:00Z,my card was declined with code 51 insufficient funds\n"
        "2,2026-11-02T10:00:00Z,withdrawal to my bank account has not arrived after 5 days\n"
    )
    assert runner.invoke(app, ["ingest", "tickets", str(src)]).exit_code == 0
    r = runner.invoke(app, ["triage", "--all", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["triaged"] == 2
    listed = json.loads(runner.invoke(app, ["cases", "list", "--json"]).stdout)["data"]
    assert {c["status"] for c in listed} == {"triaged"}
    assert all(c["category"] and c["route"] and c["priority"] for c in listed)
    assert json.loads(runner.invoke(app, ["triage", "--all", "--json"]).stdout)["triaged"] == 0
    assert runner.invoke(app, ["triage"]).exit_code == 2


def test_big_file_with_workers_equals_one_process(app: typer.Typer, tmp_path: Path) -> None:
    from paytriage.adapters.cli.triage import _POOL_FROM

    texts = ["card 4111 1111 1111 1111 declined code 05", "refund of €12,50 missing", "webhooks return 502"]
    f = tmp_path / "big.jsonl"
    with f.open("w", encoding="utf-8") as out:
        for i in range(_POOL_FROM + 300):
            row = {"id": f"t{i}", "created_at": "2026-11-05T10:00:00Z", "body": f"{texts[i % 3]} #{i}"}
            out.write(json.dumps(row) + "\n")
    one = runner.invoke(app, ["triage", str(f), "--json", "--workers", "1"])
    two = runner.invoke(app, ["triage", str(f), "--json", "--workers", "2", "--full"])
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    lines = [json.loads(x) for x in two.stdout.splitlines()]
    assert [r["id"] for r in lines] == [f"t{i}" for i in range(_POOL_FROM + 300)]
    assert [{k: r[k] for k in json.loads(one.stdout.splitlines()[0])} for r in lines] == [
        json.loads(x) for x in one.stdout.splitlines()
    ]
    assert "4111 1111 1111 1111" not in two.stdout


def test_bad_row_after_the_first_chunks_with_workers(app: typer.Typer, tmp_path: Path) -> None:
    from paytriage.adapters.cli.triage import _POOL_FROM

    f = tmp_path / "bad.jsonl"
    rows = [json.dumps({"id": f"t{i}", "body": "card declined"}) for i in range(_POOL_FROM + 10)]
    f.write_text("\n".join([*rows, '{"id": "x"}']) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["triage", str(f), "--json", "--workers", "2"])
    assert res.exit_code == 1 and f"line {_POOL_FROM + 11}" in res.output and "Traceback" not in res.output
