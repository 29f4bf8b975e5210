"""Where NN Studio finds its shipped files (resources/ and samples/), installed or not."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # An editable install or a source checkout: the repository's top-level folder.
    repo = _PKG.parent / name
    if repo.is_dir():
        return repo
    # A wheel install: shipped as the package nnstudio.<name>.
    return _PKG / name


RESOURCES = _find("resources")
SAMPLES = _find("samples")
DEFAULT_SAMPLE = SAMPLES / "xor.nnproj"


def resource(name: str) -> Path:
    return RESOURCES / name


def samples() -> list[Path]:
    """Every shipped sample project, sorted by name."""
    return sorted(SAMPLES.glob("*.nnproj"))
