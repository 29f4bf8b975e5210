"""Files: new, open, save, save as, samples, recent files, exporting the canvas as a picture,
and autosave with crash recovery.

Open (and Open Recent, and a file dropped on the window) takes a project file or an ONNX model
(:mod:`nnstudio.core.opening`): a model becomes an untitled project with an empty dataset, which
Save As keeps as a project file. A file that fails to load shows the loader's one-line message
and leaves the open document as it was. Unsaved work is written every 30 s (the setting
``files/autosave_seconds``, :meth:`~nnstudio.gui.settings.Settings.autosave_seconds`) to a
recovery file in the settings folder (:func:`nnstudio.gui.settings.settings_dir`); a clean save
or quit removes it, so a recovery file found at start-up whose process is gone means that
session did not end cleanly, and the user is offered it back. Each process writes its own pair
of files (``recovery-PID.nnproj`` and ``.json``), so two open windows never overwrite each
other's autosave. A recovered session writes its own autosave at once, and only then removes
the old one, so a second crash right after recovering loses nothing; the recovery keeps the
lesson the work came from ("(lesson copy)"). A recovery file is read like any other project
file (only a regular file, size and item limits).

Every dialog goes through a small module-level function (``ask_*``/``show_error``) so that tests
can replace it and no modal dialog ever blocks them.
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from nnstudio import paths

if TYPE_CHECKING:
    from nnstudio.core.datasets import Dataset
    from nnstudio.core.network import Network
    from nnstudio.core.project import Project
    from nnstudio.gui.document import Document
    from nnstudio.gui.settings import Settings

FILTER = "NN Studio projects (*.nnproj);;All files (*)"
# what Open offers: projects and ONNX models together first (opening.MODEL_SUFFIX)
OPEN_FILTER = ("Projects and models (*.nnproj *.onnx);;NN Studio projects (*.nnproj);;"
               "ONNX models (*.onnx);;All files (*)")


# ---------------------------------------------------------------------- dialogs (patchable)
def message_box(icon: QMessageBox.Icon, title: str, text: str,
                buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.NoButton,
                parent: QWidget | None = None) -> QMessageBox:
    """A message box whose text is plain: a message quoting a file's text (a label such as
    ``<img src="/some/file">``) is never read as HTML, so nothing it names is loaded."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    message_box(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok,
                parent).exec()


def ask_unsaved(parent: QWidget | None, name: str) -> str:
    """'save', 'discard' or 'cancel'."""
    box = message_box(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"Save the changes to “{name}” before closing it?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText("Your changes are lost if you don't save them.")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = QMessageBox.StandardButton(box.exec())
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")


def ask_recover(parent: QWidget | None, info: dict) -> bool:
    """True: recover; False: discard."""
    when = info.get("saved_at_text", "an earlier session")
    what = info.get("path") or info.get("name") or "an unsaved project"
    box = message_box(QMessageBox.Icon.Question, "Recover unsaved work?",
                      f"NN Studio did not close cleanly last time.\n\n"
                      f"Unsaved changes to “{what}” were autosaved at {when}.", parent=parent)
    rec = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(rec)
    box.exec()
    return box.clickedButton() is rec


def ask_open_path(parent: QWidget | None, directory: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open Project or Model", directory,
                                          OPEN_FILTER)
    return path or None


def ask_save_path(parent: QWidget | None, suggested: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save Project As", suggested, FILTER)
    if not path:
        return None
    if not Path(path).suffix:
        path += ".nnproj"
    return path


def ask_fit_dataset(parent: QWidget | None, problem: str) -> bool:
    """True: adjust the dataset's columns to the network and save."""
    box = message_box(QMessageBox.Icon.Question, "Dataset does not fit the network",
                      f"{problem}\n\nA project file needs one dataset column per input "
                      "neuron and per output neuron.", parent=parent)
    box.setInformativeText("Add or remove dataset columns to match the network (new columns "
                           "hold 0; you can undo this), then save?")
    fit = box.addButton("Match Columns and Save", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(fit)
    box.exec()
    return box.clickedButton() is fit


def dataset_mismatch(project: Project) -> str | None:
    """Why the dataset's columns do not fit the network's image inputs, input and output
    neurons, or None."""
    net, ds = project.network, project.dataset
    n_in, n_out = len(net.data_inputs), len(net.outputs)
    wanted, have = _image_shapes(net), [img.shape for img in ds.images]
    if have != wanted:
        return (f"The dataset's images are {_shapes_text(have)} but the network's image "
                f"inputs take {_shapes_text(wanted)}.")
    if len(ds.named_inputs) != n_in:
        return (f"The dataset has {len(ds.named_inputs)} input column(s) but the network has "
                f"{n_in} input neuron(s).")
    if len(ds.target_names) != n_out:
        return (f"The dataset has {len(ds.target_names)} target column(s) but the network has "
                f"{n_out} output neuron(s).")
    return None


def _image_shapes(net: Network) -> list[tuple[int, int, int]]:
    from nnstudio.core.network import ImageInput
    return [lay.shape for lay in net.image_layers.values() if isinstance(lay, ImageInput)]


def _shapes_text(shapes: list[tuple[int, int, int]]) -> str:
    return ", ".join(" × ".join(map(str, s)) for s in shapes) if shapes else "none"


def fit_dataset(ds: Dataset, net: Network) -> Dataset:
    """A copy of ``ds`` with one input column per data input neuron (derived inputs take
    none) and one target column per output neuron (in the network's order): existing columns
    are kept by position, missing ones are added filled with 0 and named after their neuron,
    extra ones are dropped. The images stay as they are (they must already be the network's
    image inputs: pixels are not made up). Class names are kept only while the target columns
    do not change. Raises ValueError (e.g. a network with no inputs or outputs)."""
    import numpy as np

    from nnstudio.core import datasets
    from nnstudio.core.datasets import Dataset

    ins, outs = net.data_inputs, net.outputs
    images = [img.shape for img in ds.images]
    if images != _image_shapes(net):
        raise ValueError(f"the dataset's images ({_shapes_text(images)}) are not the network's "
                         f"image inputs ({_shapes_text(_image_shapes(net))}); generate or "
                         f"import images of that shape in the Dataset panel")
    if not (ins or images) or not outs:
        raise ValueError("the network needs at least one input and one output neuron before "
                         "its dataset can match it")
    n = len(ds)
    used: set[str] = set()

    def columns(old_names: list[str], old: np.ndarray, neurons: list,
                suffix: str) -> tuple[list[str], np.ndarray]:
        names, cols = [], []
        for k, neuron in enumerate(neurons):
            if k < len(old_names):
                name, col = old_names[k], old[:, k]
            else:  # (a column name has the dataset's length limit: the label gives way)
                room = datasets.MAX_NAME_LENGTH - len(suffix)
                name, col = neuron.label[:room].rstrip() + suffix, np.zeros(n)
            base, i = name, 2
            while name in used:
                tail = f" {i}"
                name, i = base[:datasets.MAX_NAME_LENGTH - len(tail)] + tail, i + 1
            used.add(name)
            names.append(name)
            cols.append(col)
        return names, np.column_stack(cols) if cols else np.zeros((n, 0))

    pixels = ds.image_columns
    used.update(ds.input_names[:pixels])
    in_names, X = columns(ds.named_inputs, ds.X[:, pixels:], ins, "")
    out_names, Y = columns(ds.target_names, ds.Y, outs, " (target)")
    keep_classes = ds.class_names if len(outs) == len(ds.target_names) else None
    return Dataset(ds.input_names[:pixels] + in_names, out_names,
                   np.hstack([ds.X[:, :pixels], X]), Y, keep_classes, ds.images)


def sample_order() -> list[Path]:
    """The shipped samples in the course's order (Help ▸ Lessons), then any others by name."""
    from nnstudio.samples import course
    found = {p.stem: p for p in paths.samples()}
    ordered = [found.pop(name) for name in course.names() if name in found]
    return ordered + sorted(found.values())


@functools.lru_cache(maxsize=128)
def _title_of(path: str, mtime: float) -> str:
    from nnstudio.core.project import ProjectError, load
    try:
        name = load(path).name
    except (ProjectError, OSError, ValueError):
        name = ""
    return name or Path(path).stem.replace("-", " ").capitalize()


def sample_title(path: Path) -> str:
    """A sample's lesson title (its project name, as the lesson and the course page show
    it), read once per file version."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return _title_of(str(path), mtime)


@dataclass
class Opened:
    """A file read for the window: ``path`` is where the document saves (None for an
    untitled copy: a shipped lesson, named by ``sample``, or an ONNX ``model``)."""

    project: Project
    path: Path | None
    sample: Path | None
    model: bool


def read_file(path: str | Path, as_copy: bool | None = None) -> Opened:
    """Read ``path``, a project file or an ONNX model (:mod:`nnstudio.core.opening`), the way
    the window opens it: a shipped lesson (or any file with ``as_copy``) and a model as an
    untitled copy. Raises ValueError (the loader's one line)."""
    from nnstudio.core.opening import is_model_file, open_project

    path = Path(path)
    proj = open_project(path)
    if is_model_file(path):
        return Opened(proj, None, None, True)
    copy = is_sample(path) if as_copy is None else as_copy
    return Opened(proj, None if copy else path, path if copy else None, False)


def is_sample(path: Path) -> bool:
    try:
        return Path(path).resolve().parent == paths.SAMPLES.resolve()
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class FileController(QObject):
    """File actions for one main window and its document."""

    def __init__(self, window, settings: Settings):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(round(settings.autosave_seconds() * 1000))
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.wrote_recovery = False  # has this session written its own recovery file?
        self._refused_reason: str | None = None   # why the last autosave could not write
        self.remove_stale_autosave_temporaries()

    def remove_stale_autosave_temporaries(self) -> int:
        """Remove what autosaves killed mid-write left in the settings folder (the temporary
        files of ``recovery-PID.*``, once stale); returns how many."""
        from nnstudio.core.files import remove_stale_temporaries

        targets = {p.name[1:].split(".tmp")[0].rsplit(".", 1)[0]
                   for p in self.settings.dir.glob(".recovery-*.tmp")}
        return sum(remove_stale_temporaries(self.settings.dir / t) for t in targets)

    def _autosave_refused(self, e: Exception) -> None:
        """Say why there is no autosave, plainly and once (until the reason changes)."""
        if str(e) == self._refused_reason:
            return
        self._refused_reason = str(e)
        net = self.doc.network
        if not net.outputs or not (net.inputs or _image_shapes(net)):
            text = "Not autosaved yet: add an input and an output neuron first"
        else:
            text = f"Not autosaved: {e}"
        self.doc.message(text, 8000)

    @property
    def doc(self) -> Document:
        return self.window.document

    def _error(self, title: str, text: str) -> None:
        show_error(self.window, title, text)

    # ------------------------------------------------------------------ unsaved changes
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True if it is fine to go on (saved or discarded)."""
        if not self.doc.is_modified():
            return True
        self.window.pause_training()
        answer = ask_unsaved(self.window, self.doc.name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ------------------------------------------------------------------ actions
    def new(self) -> bool:
        """File ▸ New: an empty canvas (after asking about unsaved changes)."""
        return self.new_from_template(None)

    def new_from_template(self, key: str | None) -> bool:
        """A new project: empty (``key`` None) or the template ``key``."""
        if not self.maybe_save():
            return False
        self.doc.new(key)
        self.remove_recovery()
        if key is None:
            self.doc.message("New project: drag neurons from the palette onto the canvas", 5000)
        else:
            from nnstudio.core.project import TEMPLATES
            self.doc.message(f"New project from the template {TEMPLATES[key].title}", 4000)
        return True

    def fill_templates_menu(self, menu: QMenu) -> None:
        """File ▸ New from Template: one entry per ready network."""
        from nnstudio.core.project import TEMPLATES
        menu.clear()
        for key, t in TEMPLATES.items():
            a = menu.addAction(t.title)
            a.setToolTip(t.note)
            a.setData(key)
            a.setObjectName(f"template_{key}")
            a.triggered.connect(lambda _=False, key=key: self.new_from_template(key))

    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        start = str(self.doc.path.parent) if self.doc.path else str(Path.home())
        path = ask_open_path(self.window, start)
        if not path:
            return False
        return self.open_path(path, ask=False)

    def open_path(self, path: str | Path, ask: bool = True, as_copy: bool | None = None) -> bool:
        """Open ``path``, a project file or an ONNX model; on failure show the loader's message
        and keep the current document. Samples open as untitled copies (so a lesson is never
        overwritten by accident), and so do models (Save As writes them as projects)."""
        path = Path(path)
        if ask and not self.maybe_save():
            return False
        try:
            opened = read_file(path, as_copy)
        except ValueError as e:  # ProjectError, OnnxImportError: one line each
            from nnstudio.core.opening import is_model_file
            what = "model" if is_model_file(path) else "project"
            self._error(f"Cannot open {what}", f"Cannot open {path.name}:\n\n{e}")
            return False
        self.doc.replace_project(opened.project, opened.path, source_sample=opened.sample)
        self.remove_recovery()
        if opened.model:
            self.settings.add_recent(path)
            self.doc.message(f"Opened the model {path.name} as an untitled project; Save As to "
                             "keep it", 8000)
        elif opened.sample is not None:
            self.doc.message(f"Opened sample {path.stem}; Save As to keep your changes", 6000)
        else:
            self.settings.add_recent(path)
            self.doc.message(f"Opened {path}", 4000)
        return True

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self._save_to(self.doc.path)

    def save_as(self) -> bool:
        doc = self.doc
        if doc.path is not None:
            suggested = str(doc.path)
        else:
            base = Path(self.settings.value("files/last_dir", str(Path.home())))
            stem = (doc.project.name or "Untitled").replace("/", "-")
            suggested = str(base / f"{stem}.nnproj")
        path = ask_save_path(self.window, suggested)
        if not path:
            return False
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        from nnstudio.core.project import ProjectError
        problem = dataset_mismatch(self.doc.project)
        if problem is not None:
            if not ask_fit_dataset(self.window, problem):
                return False
            try:
                self.doc.set_dataset(fit_dataset(self.doc.dataset, self.doc.network),
                                     "Match dataset columns to the network")
            except ValueError as e:
                self._error("Cannot save project", f"Cannot save {path.name}:\n\n{e}")
                return False
        try:
            self.doc.save(path)
        except (ProjectError, ValueError, OSError) as e:
            self._error("Cannot save project", f"Cannot save {path.name}:\n\n{e}")
            return False
        self.settings.add_recent(path)
        self.settings.set_value("files/last_dir", str(path.parent))
        self.remove_recovery()
        self.doc.message(f"Saved {path}", 4000)
        return True

    # ------------------------------------------------------------------ samples, recent files
    def fill_samples_menu(self, menu: QMenu) -> None:
        """File ▸ Open Sample: one entry per shipped lesson, titled as the lesson is and in
        the course's order (each opens as an untitled copy); samples outside the course
        follow."""
        menu.clear()
        for p in sample_order():
            a = menu.addAction(sample_title(p).replace("&", "&&"))
            a.setToolTip(f"Open the sample {p.name} as a new, untitled copy")
            a.setData(str(p))
            a.triggered.connect(lambda _=False, p=p: self.open_path(p))
        if menu.isEmpty():
            a = menu.addAction("(no samples found)")
            a.setEnabled(False)

    def fill_recent_menu(self, menu: QMenu) -> None:
        """File ▸ Open Recent: the recent files, newest first (the first nine numbered), and
        Clear Recent Files."""
        menu.clear()
        recent = self.settings.recent_files()
        for i, p in enumerate(recent):
            label = f"&{i + 1}  {Path(p).name}" if i < 9 else Path(p).name
            a = menu.addAction(label)
            a.setToolTip(p)
            a.setStatusTip(p)
            a.setData(p)
            a.triggered.connect(lambda _=False, p=p: self.open_recent(p))
        if not recent:
            a = menu.addAction("(no recent files)")
            a.setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear Recent Files", lambda: self._clear_recent(menu))

    def _clear_recent(self, menu: QMenu) -> None:
        self.settings.clear_recent()
        self.fill_recent_menu(menu)

    def open_recent(self, path: str) -> bool:
        """Open a recent file; one that no longer exists is said so and leaves the list."""
        if not Path(path).exists():
            self._error("Cannot open project",
                        f"{path} no longer exists; it was removed from the recent files.")
            self.settings.remove_recent(path)
            return False
        return self.open_path(path)

    # ------------------------------------------------------------------ canvas pictures
    def export_canvas(self, fmt: str) -> bool:
        """File ▸ Export Canvas as PNG/SVG: ask for a file name, then :meth:`export_canvas_to`."""
        doc = self.doc
        stem = doc.path.stem if doc.path else (doc.project.name or "network")
        base = Path(self.settings.value("files/last_export_dir", str(Path.home())))
        filt = "PNG image (*.png)" if fmt == "png" else "SVG image (*.svg)"
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export Canvas as {fmt.upper()}",
                                              str(base / f"{stem}.{fmt}"), filt)
        if not path:
            return False
        if Path(path).suffix.lower() != f".{fmt}":
            path += f".{fmt}"
        return self.export_canvas_to(path)

    def export_canvas_to(self, path: str | Path) -> bool:
        """Write the canvas to ``path`` (PNG at 2x, or SVG, by the suffix)."""
        try:
            self.window.canvas_view.export_image(str(path))
        except (OSError, ValueError) as e:
            self._error("Cannot export", f"Cannot export the canvas:\n\n{e}")
            return False
        self.settings.set_value("files/last_export_dir", str(Path(path).parent))
        self.doc.message(f"Exported the canvas to {path}", 5000)
        return True

    # ------------------------------------------------------------------ autosave / recovery
    def autosave(self) -> bool:
        """Write the recovery file if there are unsaved changes; remove it otherwise."""
        doc = self.doc
        if not doc.is_modified():
            self.remove_recovery()
            return False
        from nnstudio.core.files import atomic_write
        from nnstudio.core.project import Project, ProjectError, dumps
        try:
            proj = doc.project
            if dataset_mismatch(proj) is not None:  # keep the network; fit a copy of the data
                proj = Project(proj.network, fit_dataset(proj.dataset, proj.network),
                               proj.settings, proj.description, proj.name)
            text = dumps(proj)
        except (ProjectError, ValueError) as e:
            self._autosave_refused(e)
            return False
        self._refused_reason = None
        try:
            # The info first, the project second: a session killed between the two leaves an
            # info file without a project, which pending_recovery skips (so the older recovery,
            # kept until this one is whole, is offered with its own info); the other order
            # would leave a project that has lost its path, lesson and name.
            info = {
                "path": str(doc.path) if doc.path else None,
                "source_sample": str(doc.source_sample) if doc.source_sample else None,
                "name": doc.name,
                "pid": os.getpid(),
                "saved_at": time.time(),
                "saved_at_text": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
            atomic_write(self.settings.recovery_info_path, json.dumps(info).encode("utf-8"))
            atomic_write(self.settings.recovery_path, text.encode("utf-8"))
            self.wrote_recovery = True
        except OSError as e:
            doc.message(f"Autosave failed: {e}", 8000)
            return False
        return True

    def remove_recovery(self, pid: int | None = None) -> None:
        """Remove this session's recovery files (or those of session ``pid``)."""
        for p in self.settings.recovery_paths(pid):
            try:
                p.unlink()
            except OSError:
                pass

    def pending_recovery(self) -> dict | None:
        """The newest recovery left by a session that did not end cleanly (its process is
        gone), or None. The returned info has the writer's ``pid``."""
        found = []
        for pid in self.settings.recovery_pids():
            if pid != os.getpid() and _pid_alive(pid):
                continue  # another NN Studio that is still running
            if pid == os.getpid() and self.wrote_recovery:
                continue  # this session's own autosave
            proj_path, info_path = self.settings.recovery_paths(pid)
            try:
                info = json.loads(info_path.read_text("utf-8"))
                if not isinstance(info, dict):
                    info = {}
            except (OSError, ValueError):
                info = {}
            info["pid"] = pid
            try:
                info.setdefault("saved_at", proj_path.stat().st_mtime)
            except OSError:
                continue
            found.append(info)
        if not found:
            return None
        return max(found, key=lambda i: i.get("saved_at") or 0)

    def offer_recovery(self) -> bool:
        """If a crashed session left unsaved work, ask Recover/Discard; True if recovered."""
        info = self.pending_recovery()
        if info is None:
            return False
        pid = info["pid"]
        recover = ask_recover(self.window, info)
        if not recover:
            self.remove_recovery(pid)
            self.doc.message("Discarded the autosaved work", 4000)
            return False
        from nnstudio.core.project import ProjectError, load
        try:
            proj = load(self.settings.recovery_paths(pid)[0])
        except ProjectError as e:
            self._error("Cannot recover", f"The autosaved work cannot be read:\n\n{e}")
            self.remove_recovery(pid)
            return False
        orig = info.get("path")
        sample = info.get("source_sample")
        path = Path(orig) if isinstance(orig, str) and orig else None
        self.doc.replace_project(proj, path, clean=False,
                                 source_sample=Path(sample) if isinstance(sample, str) and sample
                                 and path is None else None)
        # this session's own autosave first: the old one goes only once the work is safe again
        if self.autosave():
            if pid != os.getpid():  # (the same pid: the autosave just replaced that file)
                self.remove_recovery(pid)
            self.doc.message("Recovered the autosaved work; save it to keep it", 8000)
        else:
            self.doc.message("Recovered the autosaved work, but could not autosave it again "
                             "(the old recovery file is kept); save it to keep it", 10000)
        return True
