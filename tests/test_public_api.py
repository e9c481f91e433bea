"""Every module declares its public API in ``__all__`` and every listed name exists (STYLE 14)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import paytriage

SKIP = ("paytriage.adapters.storage.migrations",)


def modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(paytriage.__path__, "paytriage.")
        if not m.name.startswith(SKIP) and not m.ispkg
    )


@pytest.mark.parametrize("name", modules())
def test_module_declares_all(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # optional extras (pyspark, torch) may be absent
        pytest.skip(f"optional dependency missing: {exc}")
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists missing names {missing}"


def test_py_typed_is_shipped() -> None:
    from importlib import resources

    assert resources.files("paytriage").joinpath("py.typed").is_file()
