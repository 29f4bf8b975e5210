"""nnstudio.core is pure NumPy: importing any of its modules loads no Qt or pyqtgraph."""

import json
import subprocess
import sys

SCRIPT = r"""
import importlib, json, pkgutil, sys
import nnstudio.core as core
names = ["nnstudio.core"]
for info in pkgutil.walk_packages(core.__path__, "nnstudio.core."):
    importlib.import_module(info.name)
    names.append(info.name)
bad = sorted(m for m in sys.modules
             if m.split(".")[0].lower() in ("pyside6", "shiboken6", "pyqtgraph", "pyqt5", "pyqt6"))
print(json.dumps({"modules": names, "qt": bad}))
"""


def test_core_imports_no_qt():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # every core module was found and imported, including the engine and the trainer
    for name in ("network", "activations", "losses", "optimizers", "engine", "trainer"):
        assert f"nnstudio.core.{name}" in result["modules"]
    assert result["qt"] == [], f"nnstudio.core loaded Qt modules: {result['qt']}"


def test_the_check_itself_sees_qt_when_it_is_loaded():
    """The detector is not blind: importing PySide6 shows up."""
    script = SCRIPT.replace("import nnstudio.core as core",
                            "import PySide6.QtCore\nimport nnstudio.core as core")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "PySide6" in result["qt"]
