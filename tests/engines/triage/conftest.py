"""One fitted Triager shared by the triage tests (fitting takes about a second)."""

from __future__ import annotations

import pytest

from paytriage.engines.triage import Triager


@pytest.fixture(scope="session")
def triager() -> Triager:
    return Triager.from_config()
