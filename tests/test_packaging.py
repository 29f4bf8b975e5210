"""The wheel ships every package: each folder under nnstudio/ with an __init__.py is listed in
pyproject.toml, and every shipped file in resources/ and samples/ matches the package data."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def test_every_package_is_listed():
    listed = set(_setuptools()["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "nnstudio").rglob("__init__.py")
    }
    missing = sorted(found - listed)
    assert not missing, \
        f"packages missing from pyproject.toml [tool.setuptools] packages: {missing}"
    stale = sorted(p for p in listed - found
                   if p not in _setuptools().get("package-dir", {}))
    assert not stale, f"pyproject.toml lists packages that do not exist: {stale}"


def test_every_shipped_file_is_package_data():
    cfg = _setuptools()
    for package, folder in cfg["package-dir"].items():
        patterns = cfg["package-data"][package]
        base = ROOT / folder
        for f in base.rglob("*"):
            if f.is_dir() or "__pycache__" in f.parts or f.suffix == ".py":
                continue
            rel = f.relative_to(base).as_posix()
            assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), \
                f"{folder}/{rel} would be left out of the wheel: add a pattern to {package}"


def _extras() -> dict[str, list[str]]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["optional-dependencies"]


def _names(requirements: list[str]) -> set[str]:
    return {r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip()
            for r in requirements}


def test_ci_installs_what_the_onnx_tests_need():
    """The ONNX tests skip without onnx and onnxruntime; CI runs the README's test command,
    which must install both, so that they run there. torch is in no extra."""
    extras = _extras()
    assert _names(extras["onnx"]) == {"onnx"}
    assert "onnxruntime" in _names(extras["test"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    command = next(line for line in block.splitlines() if line.strip() and "```" not in line)
    assert 'pip install -e ".[test,onnx]"' in command
    assert all("torch" not in _names(reqs) for reqs in extras.values())
