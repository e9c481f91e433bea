"""The domain core imports no web framework, database or CLI library."""

from __future__ import annotations

import subprocess
import sys


def test_domain_imports_no_framework() -> None:
    code = (
        "import sys, paytriage.domain, paytriage.engines.redaction\n"
        "bad = [m for m in ('fastapi', 'sqlalchemy', 'typer', 'starlette', 'alembic', 'rich', 'uvicorn')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
