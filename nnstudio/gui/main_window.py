"""The main window: canvas in the centre, docks around it, menus, toolbar and status bar.

The window owns no model state: it holds the :class:`~nnstudio.gui.document.Document` and wires
actions to document edits, file operations (:mod:`nnstudio.gui.files`) and canvas view commands.
Other parts install themselves with one call each: ``nnstudio.gui.training.install(window)`` (its
:class:`~nnstudio.gui.training.TrainingUI` is kept as ``window.training``) and
``nnstudio.gui.backprop.install(window)``; they use :meth:`MainWindow.menu`,
:meth:`MainWindow.add_dock`, :attr:`MainWindow.toolbar` and the status bar.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QFormLayout,
    QFrame, QHeaderView, QLabel, QMainWindow, QMenu, QMessageBox, QScrollArea, QSpinBox, QStyle,
    QTableWidget, QTableWidgetItem, QToolBar, QUndoView, QVBoxLayout, QWidget,
)

from nnstudio import paths
from nnstudio.core import activations
from nnstudio.gui import files as files_mod
from nnstudio.gui.document import Document
from nnstudio.gui.settings import Settings

FRAGMENT_MIME = "application/x-nnstudio-fragment"
STATE_VERSION = 4   # bumped when the default layout changes: old saved layouts are replaced once
MENUS = ("File", "Edit", "View", "Network", "Train", "Help")


def _icon(name: str, fallback: QStyle.StandardPixmap | None, style: QStyle) -> QIcon:
    """An icon from resources/icons/NAME.svg, else the desktop theme, else a Qt standard icon."""
    p = paths.RESOURCES / "icons" / f"{name}.svg"
    if p.exists():
        return QIcon(str(p))
    icon = QIcon.fromTheme(name)
    if icon.isNull() and fallback is not None:
        icon = style.standardIcon(fallback)
    return icon


class MainWindow(QMainWindow):
    MAX_DOCK_MIN_HEIGHT = 260
    MAX_DOCK_MIN_WIDTH = 420
    def __init__(self, document: Document | None = None, settings: Settings | None = None,
                 parent: QWidget | None = None, defer_parts: bool = False):
        """With ``defer_parts`` (the app's start-up), the training and backprop parts are
        installed by :meth:`install_parts` after the first paint; until then their docks are
        placeholders in their saved (or default) places, so the window paints sooner and
        nothing moves when they arrive."""
        super().__init__(parent)
        self.setObjectName("NNStudioMainWindow")
        self.settings = settings if settings is not None else Settings()
        self.document = document if document is not None else Document()
        self.docks: dict[str, QDockWidget] = {}
        self.actions: dict[str, QAction] = {}
        self._menus: dict[str, QMenu] = {}
        self._paste_count = 0
        self._placeholders: set[str] = set()
        self.parts_installed = False
        self.training = None   # the TrainingUI, once the parts are installed
        self.plot_panes: dict[str, QWidget] = {}
        self.dataset_panel: QWidget | None = None
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setWindowIcon(_icon("nnstudio", QStyle.StandardPixmap.SP_ComputerIcon, self.style()))

        self.files = files_mod.FileController(self, self.settings)

        self._build_central()
        for name in MENUS:
            self.menu(name)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        # Clipboard, delete and select-all keys act on the canvas only, so that Delete or
        # Ctrl+C in the dataset table or a text field never removes or copies neurons.
        for key in ("cut", "copy", "paste", "duplicate", "delete", "select_all"):
            a = self.actions[key]
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.canvas_view.addAction(a)
        self._build_docks()
        self._build_status()
        if defer_parts:
            self._build_placeholders()
        else:
            self.install_parts()
        self._wire_document()
        self.restore_layout()
        self._update_title()
        self._update_actions()

    # ------------------------------------------------------------------ public API
    def menu(self, name: str) -> QMenu:
        """The top-level menu ``name`` (created, before Help, if it does not exist)."""
        m = self._menus.get(name)
        if m is not None:
            return m
        m = QMenu(f"&{name}", self)
        m.setObjectName(f"menu{name}")
        m.setToolTipsVisible(True)
        help_menu = self._menus.get("Help")
        if help_menu is not None:
            self.menuBar().insertMenu(help_menu.menuAction(), m)
        else:
            self.menuBar().addMenu(m)
        self._menus[name] = m
        return m

    def add_dock(self, name: str, widget: QWidget, area=Qt.DockWidgetArea.RightDockWidgetArea,
                 title: str | None = None) -> QDockWidget:
        """Add ``widget`` as a dock with the stable object name ``dock_<name>`` (so that the
        saved layout comes back) and a toggle in View ▸ Panels."""
        if name in self._placeholders:  # fill the placeholder that holds its place
            self._placeholders.discard(name)
            dock = self.docks[name]
            old = dock.widget()
            dock.setWindowTitle(title or name.title())
            self._set_dock_widget(dock, name, widget)
            if old is not None:
                old.deleteLater()
            dock.toggleViewAction().setToolTip(f"Show or hide the {dock.windowTitle()} panel")
            return dock
        dock = QDockWidget(title or name.title(), self)
        dock.setObjectName(f"dock_{name}")
        self._set_dock_widget(dock, name, widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        toggle = dock.toggleViewAction()
        toggle.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
        toggle.setStatusTip(toggle.toolTip())
        self._panels_menu.addAction(toggle)
        return dock

    def _set_dock_widget(self, dock: QDockWidget, name: str, widget: QWidget) -> None:
        hint = widget.minimumSizeHint()
        tall = hint.height() > self.MAX_DOCK_MIN_HEIGHT
        wide = hint.width() > self.MAX_DOCK_MIN_WIDTH
        if tall and not isinstance(widget, QScrollArea):
            # a tall panel scrolls instead of forcing its height on the whole dock area
            scroll = QScrollArea(self)
            scroll.setObjectName(f"scroll_{name}")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setWidget(widget)
            dock.setWidget(scroll)
        elif wide and not isinstance(widget, QScrollArea):
            # a wide panel scrolls sideways instead of forcing its width on the window (which
            # must fit a 1280 x 720 projector); its height is kept as it asks
            scroll = WideScroll(widget, self)
            scroll.setObjectName(f"scroll_{name}")
            dock.setWidget(scroll)
        else:
            dock.setWidget(widget)

    @property
    def toolbar(self) -> QToolBar:
        return self._toolbar

    def status(self, text: str, timeout: int = 5000) -> None:
        self.statusBar().showMessage(_sentence(text), timeout)

    # ------------------------------------------------------------------ central widget
    def _build_central(self) -> None:
        from nnstudio.gui.canvas.view import CanvasView
        self.canvas_view = CanvasView(self.document)
        self.canvas_view.setObjectName("canvas")
        self.setCentralWidget(self.canvas_view)

    def _scene(self):
        return self.canvas_view.scene()

    # ------------------------------------------------------------------ actions
    def _act(self, key: str, text: str, tip: str, slot=None, shortcut=None, icon=None,
             checkable: bool = False, checked: bool = False) -> QAction:
        a = QAction(text, self)
        a.setObjectName(f"action_{key}")
        if shortcut is not None:
            seqs = shortcut if isinstance(shortcut, list) else [shortcut]
            a.setShortcuts([QKeySequence(s) for s in seqs])
        sc = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        a.setToolTip(f"{tip} ({sc})" if sc else tip)
        a.setStatusTip(tip)
        if icon is not None:
            a.setIcon(icon)
        if checkable:
            a.setCheckable(True)
            a.setChecked(checked)
            if slot is not None:
                a.toggled.connect(slot)
        elif slot is not None:
            a.triggered.connect(lambda _=False: slot())
        self.actions[key] = a
        return a

    def _build_actions(self) -> None:
        st, SP, K = self.style(), QStyle.StandardPixmap, QKeySequence.StandardKey
        ic = lambda n, f=None: _icon(n, f, st)  # noqa: E731
        F = self.files
        self._act("new", "&New", "Start a new project", F.new, K.New, ic("document-new", SP.SP_FileIcon))
        self._act("open", "&Open…", "Open a project file", F.open_dialog, K.Open,
                  ic("document-open", SP.SP_DialogOpenButton))
        self._act("save", "&Save", "Save the project", F.save, K.Save,
                  ic("document-save", SP.SP_DialogSaveButton))
        self._act("save_as", "Save &As…", "Save the project under a new name", F.save_as, K.SaveAs,
                  ic("document-save-as", SP.SP_DialogSaveButton))
        self._act("export_png", "Export Canvas as &PNG…", "Save a picture of the canvas (PNG)",
                  lambda: self.export_canvas("png"), None, ic("image-x-generic", SP.SP_DesktopIcon))
        self._act("export_svg", "Export Canvas as S&VG…", "Save a picture of the canvas (SVG, scalable)",
                  lambda: self.export_canvas("svg"))
        self._act("quit", "&Quit", "Quit NN Studio", self.close,
                  QKeySequence(K.Quit).toString() or "Ctrl+Q",
                  ic("application-exit", SP.SP_DialogCloseButton))

        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setObjectName("action_undo")
        undo.setShortcuts(QKeySequence.keyBindings(K.Undo))
        undo.setIcon(ic("edit-undo", SP.SP_ArrowBack))
        undo.setToolTip("Undo the last change (Ctrl+Z)")
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setObjectName("action_redo")
        redo_keys = QKeySequence.keyBindings(K.Redo)
        if QKeySequence("Ctrl+Y") not in redo_keys:
            redo_keys.append(QKeySequence("Ctrl+Y"))
        redo.setShortcuts(redo_keys)
        redo.setIcon(ic("edit-redo", SP.SP_ArrowForward))
        redo.setToolTip("Redo the change just undone (Ctrl+Shift+Z)")
        self.actions["undo"], self.actions["redo"] = undo, redo
        self._act("cut", "Cu&t", "Cut the selected neurons to the clipboard", self.cut, K.Cut,
                  ic("edit-cut"))
        self._act("copy", "&Copy", "Copy the selected neurons (and the connections among them)",
                  self.copy, K.Copy, ic("edit-copy"))
        self._act("paste", "&Paste", "Paste neurons from the clipboard", self.paste, K.Paste,
                  ic("edit-paste"))
        self._act("duplicate", "D&uplicate", "Duplicate the selected neurons", self.duplicate,
                  "Ctrl+D", ic("edit-duplicate"))
        self._act("delete", "&Delete", "Delete the selection (neurons take their connections)",
                  self.delete_selection, [QKeySequence(K.Delete).toString(), "Backspace"],
                  ic("edit-delete", SP.SP_TrashIcon))
        self._act("select_all", "Select &All", "Select every neuron and connection",
                  self.select_all, K.SelectAll, ic("edit-select-all"))

        self._act("zoom_in", "Zoom &In", "Zoom in on the canvas", lambda: self._view_call("zoom_in"),
                  [QKeySequence(K.ZoomIn).toString(), "Ctrl+="], ic("zoom-in"))
        self._act("zoom_out", "Zoom &Out", "Zoom out", lambda: self._view_call("zoom_out"),
                  K.ZoomOut, ic("zoom-out"))
        self._act("fit", "&Fit to Window", "Show the whole network", lambda: self._view_call("fit"),
                  "Ctrl+0", ic("zoom-fit-best"))
        self._act("show_values", "Show &Values", "Show weight values on the connections",
                  self.set_show_values, "Ctrl+Shift+V", ic("show-values"), checkable=True,
                  checked=self.settings.bool("view/show_values", False))
        self._act("show_grid", "Show &Grid", "Show the grid; dropped and moved neurons snap to it",
                  self.set_show_grid,
                  "Ctrl+'", ic("show-grid"), checkable=True,
                  checked=self.settings.bool("view/show_grid", True))

        self._act("add_dense", "Add &Dense Layer…", "Insert a fully connected layer of new "
                  "hidden neurons", self.add_dense_layer_dialog, "Ctrl+L", ic("add-layer"))
        self._act("connect_fully", "&Connect Selected Fully", "Connect every selected neuron to "
                  "every later selected neuron", self.connect_selected_fully, "Ctrl+K",
                  ic("connect-fully"))
        self._act("auto_layout", "&Auto-Layout", "Arrange the neurons in columns by layer",
                  self.auto_layout, "Ctrl+Shift+L", ic("auto-layout"))
        self._act("randomize", "&Randomize Weights", "Give every trainable weight and bias a "
                  "new random value (the initialisation in the training settings)",
                  self.randomize, "Ctrl+R", ic("randomize"))

        self._act("shortcuts", "&Keyboard Shortcuts", "List every keyboard shortcut and mouse "
                  "gesture", self.show_shortcuts, "F1", ic("help-keyboard-shortcuts", SP.SP_DialogHelpButton))
        self._act("about", "&About NN Studio", "About NN Studio", self.show_about, None,
                  ic("help-about", SP.SP_MessageBoxInformation))

    def _build_menus(self) -> None:
        A = self.actions
        m = self.menu("File")
        m.addActions([A["new"], A["open"]])
        self._samples_menu = m.addMenu("Open &Sample")
        self._samples_menu.setObjectName("menuSamples")
        self._samples_menu.setToolTipsVisible(True)
        self._samples_menu.aboutToShow.connect(self._fill_samples)
        self._fill_samples()
        self._recent_menu = m.addMenu("Open &Recent")
        self._recent_menu.setObjectName("menuRecent")
        self._recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        m.addSeparator()
        m.addActions([A["save"], A["save_as"]])
        m.addSeparator()
        m.addActions([A["export_png"], A["export_svg"]])
        m.addSeparator()
        m.addAction(A["quit"])

        m = self.menu("Edit")
        m.addActions([A["undo"], A["redo"]])
        m.addSeparator()
        m.addActions([A["cut"], A["copy"], A["paste"], A["duplicate"], A["delete"]])
        m.addSeparator()
        m.addAction(A["select_all"])

        m = self.menu("View")
        m.addActions([A["zoom_in"], A["zoom_out"], A["fit"]])
        m.addSeparator()
        m.addActions([A["show_values"], A["show_grid"]])
        m.addSeparator()
        self._panels_menu = m.addMenu("&Panels")
        self._panels_menu.setObjectName("menuPanels")
        self._panels_menu.setToolTipsVisible(True)
        self._toolbars_menu = m.addMenu("&Toolbars")
        self._toolbars_menu.setObjectName("menuToolbars")
        m.addSeparator()
        self._act("reset_layout", "Reset &Layout", "Put every panel back where it started",
                  self.reset_layout)
        m.addAction(self.actions["reset_layout"])

        m = self.menu("Network")
        m.addActions([A["add_dense"], A["connect_fully"], A["auto_layout"]])
        m.addSeparator()
        m.addAction(A["randomize"])

        m = self.menu("Help")
        m.addActions([A["shortcuts"], A["about"]])

    def _build_toolbar(self) -> None:
        A = self.actions
        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(True)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for key in ("new", "open", "save", None, "undo", "redo", None, "delete", None,
                    "zoom_in", "zoom_out", "fit", "show_values", None, "add_dense", "connect_fully",
                    "auto_layout", "randomize"):
            if key is None:
                tb.addSeparator()
            else:
                tb.addAction(A[key])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self._toolbar = tb
        self._toolbars_menu.addAction(tb.toggleViewAction())

    # ------------------------------------------------------------------ docks
    def _build_docks(self) -> None:
        from nnstudio.gui.inspector import Inspector
        from nnstudio.gui.lesson import LessonPanel

        L, R = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        from nnstudio.gui.canvas.palette import Palette
        self.palette_panel = Palette(self.document)
        self.add_dock("palette", self.palette_panel, L, "Palette")
        self.lesson = LessonPanel(self.document)
        self.add_dock("lesson", self.lesson, L, "Lesson")
        self.inspector = Inspector(self.document)
        self.add_dock("inspector", self.inspector, R, "Inspector")
        self.history = QUndoView(self.document.undo_stack)
        self.history.setObjectName("history")
        self.history.setEmptyLabel("<opened>")
        self.history.setToolTip("Every change, oldest first: click a line to go back to it")
        self.add_dock("history", self.history, R, "History")

    def _build_placeholders(self) -> None:
        """Docks for the parts installed after the first paint, named as last time (or as in
        the default layout), each showing "Loading…" until :meth:`install_parts` fills it."""
        saved = self.settings.value("window/part_docks")
        if isinstance(saved, str):
            try:
                saved = json.loads(saved)
            except ValueError:
                saved = None
        if not isinstance(saved, dict) or not saved:
            saved = {n: n.title() for groups in self.DEFAULT_LAYOUT.values() for g in groups
                     for n in g if n not in self.docks}
        for name, title in saved.items():
            if not isinstance(name, str) or name in self.docks:
                continue
            label = QLabel("Loading…", self)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("color: #6B7280;")
            self.add_dock(name, label, Qt.DockWidgetArea.RightDockWidgetArea, str(title))
            self._placeholders.add(name)

    def install_parts(self) -> None:
        """Install the training and backprop parts (once), fill their placeholders, and drop
        placeholders that no part claimed."""
        if self.parts_installed:
            return
        self.parts_installed = True
        own = set(self.docks) - self._placeholders
        self._install_parts()
        for name in list(self._placeholders):
            dock = self.docks.pop(name)
            self._panels_menu.removeAction(dock.toggleViewAction())
            self.removeDockWidget(dock)
            dock.deleteLater()
        self._placeholders.clear()
        parts = {n: d.windowTitle() for n, d in self.docks.items() if n not in own}
        self.settings.set_value("window/part_docks", json.dumps(parts))
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty() \
                and self.restoreState(state, STATE_VERSION):  # toolbars added by the parts
            pass
        else:  # no saved layout, or one saved by an older version: the default one
            for groups in self.DEFAULT_LAYOUT.values():  # the first tab of each group in front
                for g in groups:
                    if g[0] in self.docks:
                        self.docks[g[0]].raise_()
            # the real panels have other size hints than the placeholders: size them again
            self._default_sizes()
            QTimer.singleShot(0, self, self._default_sizes)
        self._fit_screen()

    def _fit_screen(self) -> None:
        """Installing the parts can push the window past the screen for a moment (and without
        a window manager nothing pulls it back): keep it on the screen."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None or self.isFullScreen():
            return
        r = screen.availableGeometry()
        if self.width() > r.width() or self.height() > r.height():
            self.resize(min(self.width(), r.width()), min(self.height(), r.height()))

    def _install_parts(self) -> None:
        # The training and backprop parts (one install(window) call each), and the docks of
        # the plot panes and the dataset panel, which show the training they are given.
        from nnstudio.gui import backprop, training
        from nnstudio.gui.dataset_panel import DatasetPanel
        from nnstudio.gui.plots import PANES
        self.training = training.install(self)
        for key, (cls, area) in PANES.items():
            self.plot_panes[key] = cls(self.document, self.training.controller)
            self.add_dock(key, self.plot_panes[key], area, cls.title)
        self.dataset_panel = DatasetPanel(self.document)
        self.add_dock("dataset", self.dataset_panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                      "Dataset")
        backprop.install(self)
        self._dress_backprop_action()
        self.loss_label.hide()  # the training status shows the loss (and more)
        self._toolbars_menu.addAction(self.training.toolbar.toggleViewAction())

    def pause_training(self) -> None:
        """Pause training if it runs (the editor does before asking "save changes?")."""
        if self.training is not None:
            self.training.controller.pause()

    def _dress_backprop_action(self) -> None:
        """The backprop part's "Step Through Backprop" toolbar action gets the app's icon and
        a tooltip naming its key (the main toolbar shows icons only)."""
        ui = getattr(self, "backprop", None)
        a = getattr(ui, "mode_action", None)
        if a is None:
            return
        a.setObjectName("action_backprop_mode")
        a.setIcon(_icon("backprop-step", QStyle.StandardPixmap.SP_MediaSeekBackward, self.style()))
        tip = a.toolTip() or "Step through one training iteration on the canvas"
        sc = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if sc and f"({sc})" not in tip:
            tip = f"{tip} ({sc})"
        a.setToolTip(tip)
        a.setStatusTip(tip)
        self.actions["backprop_mode"] = a

    # ------------------------------------------------------------------ status bar
    def _build_status(self) -> None:
        sb = self.statusBar()
        sb.setObjectName("statusbar")
        self.loss_label = QLabel(self)
        self.loss_label.setObjectName("status_loss")
        self.loss_label.setToolTip("The loss over the whole dataset at the current parameters")
        self.loss_label.setMinimumWidth(150)
        self.selection_label = QLabel(self)
        self.selection_label.setObjectName("status_selection")
        self.selection_label.setToolTip("What is selected")
        sb.addPermanentWidget(self.selection_label)
        sb.addPermanentWidget(self.loss_label)

    def _update_loss(self) -> None:
        if self.loss_label.isHidden():  # the training status shows the loss instead
            return
        loss = self.document.loss()
        if loss is None:
            err = self.document.evaluation_error() or ""
            self.loss_label.setText("loss —")
            self.loss_label.setToolTip(f"The network cannot be evaluated: {err}")
        else:
            self.loss_label.setText(f"{self.document.settings.loss} loss {loss:.6g}")
            self.loss_label.setToolTip("The loss over the whole dataset at the current parameters")

    def _update_selection_label(self) -> None:
        doc = self.document
        n, c = len(doc.selected_neurons()), len(doc.selected_connections())
        net = doc.network
        if not n and not c:
            self.selection_label.setText(f"{len(net.neurons)} neurons · {len(net.connections)} connections")
        else:
            parts = []
            if n:
                parts.append(f"{n} neuron{'s' if n != 1 else ''}")
            if c:
                parts.append(f"{c} connection{'s' if c != 1 else ''}")
            self.selection_label.setText(" + ".join(parts) + " selected")

    # ------------------------------------------------------------------ document wiring
    def _wire_document(self) -> None:
        d = self.document
        d.statusMessage.connect(self.status)
        d.modifiedChanged.connect(self._update_title)
        d.pathChanged.connect(self._update_title)
        d.projectReplaced.connect(self._on_project_replaced)
        d.selectionChanged.connect(self._update_actions)
        d.networkChanged.connect(self._on_network)
        d.evaluationChanged.connect(self._update_loss)
        d.undo_stack.indexChanged.connect(self._update_title)
        QGuiApplication.clipboard().dataChanged.connect(self._update_actions)
        self._update_loss()

    def _on_network(self, event: str, ids) -> None:
        if event != "params_changed" and event != "neuron_changed":
            self._update_actions()

    def _on_project_replaced(self) -> None:
        self._paste_count = 0
        self._update_title()
        self._update_actions()
        self._update_loss()
        QTimer.singleShot(0, lambda: self._view_call("fit", quiet=True))

    def _update_title(self, *_) -> None:
        doc = self.document
        self.setWindowTitle(f"{self.title_name()}[*] — NN Studio")
        self.setWindowModified(doc.is_modified())

    def title_name(self) -> str:
        """The file name; for a shipped lesson opened as an untitled copy, the lesson's name
        and "(lesson copy)"; else the project's name."""
        doc = self.document
        if doc.path is not None:
            return doc.path.name
        name = getattr(doc.project, "name", "") or "Untitled"
        sample = getattr(doc, "source_sample", None)
        if sample is not None:
            return f"{name} (lesson copy)"
        return name

    def _update_actions(self, *_) -> None:
        doc = self.document
        A = self.actions
        nsel = len(doc.selected_neurons())
        anysel = bool(doc.selection)
        A["cut"].setEnabled(nsel > 0)
        A["copy"].setEnabled(nsel > 0)
        A["duplicate"].setEnabled(nsel > 0)
        A["delete"].setEnabled(anysel)
        A["connect_fully"].setEnabled(nsel >= 2)
        md = QGuiApplication.clipboard().mimeData()
        A["paste"].setEnabled(md is not None and (md.hasFormat(FRAGMENT_MIME) or
                                                  (md.hasText() and '"nnstudio-fragment"' in md.text())))
        A["export_png"].setEnabled(hasattr(self.canvas_view, "export_image"))
        A["export_svg"].setEnabled(hasattr(self.canvas_view, "export_image"))
        self._update_selection_label()

    # ------------------------------------------------------------------ edit actions
    def _try(self, fn, what: str = "") -> bool:
        try:
            fn()
        except ValueError as e:
            self.status(f"{what + ': ' if what else ''}{e}", 8000)
            return False
        return True

    def fragment(self, ids=None) -> dict:
        """The selected neurons and the connections among them, as a clipboard fragment."""
        net = self.document.network
        ids = self.document.selected_neurons() if ids is None else ids
        keep = set(ids)
        return {
            "format": "nnstudio-fragment", "version": 1,
            "neurons": [net.neurons[i].to_dict() for i in ids],
            "connections": [c.to_dict() for c in net.connections.values()
                            if c.source in keep and c.target in keep],
        }

    def copy(self) -> bool:
        frag = self.fragment()
        if not frag["neurons"]:
            self.status("Select neurons to copy", 3000)
            return False
        text = json.dumps(frag, indent=1)
        md = QMimeData()
        md.setData(FRAGMENT_MIME, QByteArray(text.encode("utf-8")))
        md.setText(text)
        QGuiApplication.clipboard().setMimeData(md)
        self._paste_count = 0
        n = len(frag["neurons"])
        self.status(f"Copied {n} neuron{'s' if n != 1 else ''} and {len(frag['connections'])} "
                    "connection(s)", 3000)
        return True

    def cut(self) -> None:
        if self.copy():
            stack = self.document.undo_stack
            stack.beginMacro("Cut")
            try:
                self._try(lambda: self.document.remove(self.document.selection), "Cannot cut")
            finally:
                stack.endMacro()

    def _clipboard_fragment(self) -> dict | None:
        md = QGuiApplication.clipboard().mimeData()
        if md is None:
            return None
        if md.hasFormat(FRAGMENT_MIME):
            raw = bytes(md.data(FRAGMENT_MIME)).decode("utf-8", "replace")
        elif md.hasText():
            raw = md.text()
        else:
            return None
        try:
            frag = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(frag, dict) or frag.get("format") != "nnstudio-fragment" or \
                not isinstance(frag.get("neurons"), list) or \
                not isinstance(frag.get("connections", []), list):
            return None
        return frag

    def paste(self) -> list[str]:
        frag = self._clipboard_fragment()
        if frag is None:
            self.status("The clipboard holds no NN Studio neurons to paste", 4000)
            return []
        self._paste_count += 1
        return self._paste_fragment(frag, 40.0 * self._paste_count)

    def _paste_fragment(self, frag: dict, offset: float) -> list[str]:
        new: list[str] = []

        def run():
            new.extend(self.document.paste(frag["neurons"], frag.get("connections", []),
                                           offset=(offset, offset)))
        if self._try(run, "Cannot paste") and new:
            self.document.set_selection(new)
        return new

    def duplicate(self) -> list[str]:
        frag = self.fragment()
        if not frag["neurons"]:
            return []
        return self._paste_fragment(frag, 40.0)

    def delete_selection(self) -> None:
        sel = self.document.selection
        if sel:
            self._try(lambda: self.document.remove(sel), "Cannot delete")

    def select_all(self) -> None:
        net = self.document.network
        self.document.set_selection([*net.neurons, *net.connections])

    # ------------------------------------------------------------------ view actions
    def _view_call(self, name: str, quiet: bool = False) -> None:
        fn = getattr(self.canvas_view, name, None)
        if fn is not None:
            fn()
        elif not quiet:
            self.status(f"The canvas cannot {name.replace('_', ' ')} yet", 3000)

    def _scene_flag(self, name: str, on: bool) -> None:
        scene = self._scene()
        setter = getattr(scene, f"set_{name}", None)
        if setter is not None:
            setter(on)
        elif hasattr(scene, name):
            setattr(scene, name, on)
            scene.update()

    def set_show_values(self, on: bool) -> None:
        self._scene_flag("show_values", on)
        self.settings.set_value("view/show_values", bool(on))

    def set_show_grid(self, on: bool) -> None:
        self._scene_flag("show_grid", on)
        self.settings.set_value("view/show_grid", bool(on))

    def export_canvas(self, fmt: str) -> bool:
        doc = self.document
        stem = doc.path.stem if doc.path else (getattr(doc.project, "name", "") or "network")
        base = Path(self.settings.value("files/last_export_dir", str(Path.home())))
        filt = "PNG image (*.png)" if fmt == "png" else "SVG image (*.svg)"
        path, _ = QFileDialog.getSaveFileName(self, f"Export Canvas as {fmt.upper()}",
                                              str(base / f"{stem}.{fmt}"), filt)
        if not path:
            return False
        if Path(path).suffix.lower() != f".{fmt}":
            path += f".{fmt}"
        return self.export_canvas_to(path)

    def export_canvas_to(self, path) -> bool:
        try:
            self.canvas_view.export_image(str(path))
        except (OSError, ValueError) as e:
            files_mod.show_error(self, "Cannot export", f"Cannot export the canvas:\n\n{e}")
            return False
        self.settings.set_value("files/last_export_dir", str(Path(path).parent))
        self.status(f"Exported the canvas to {path}", 5000)
        return True

    # ------------------------------------------------------------------ network actions
    def add_dense_layer_dialog(self) -> None:
        doc = self.document
        net = doc.network
        try:
            layers = net.layers()
        except ValueError as e:
            self.status(str(e))
            return
        feeding = [i for i, layer in enumerate(layers)
                   if not any(net.neurons[n].role == "output" for n in layer)]
        if not feeding:
            self.status("Add an input neuron first: a dense layer goes after a layer that feeds on", 6000)
            return
        sel = doc.selected_neurons()
        depth = net.depths()
        default = depth[sel[0]] if sel and depth[sel[0]] in feeding else feeding[-1]
        dlg = DenseLayerDialog(self, feeding, default, len(layers))
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        after, count, act = dlg.values()
        new: list[str] = []
        if self._try(lambda: new.extend(doc.add_dense_layer(after, count, act)),
                     "Cannot add the layer"):
            doc.set_selection(new)
            self.status(f"Added a layer of {count} {act} neurons after layer {after}", 4000)

    def connect_selected_fully(self) -> None:
        made: list[str] = []
        if self._try(lambda: made.extend(self.document.connect_fully()), "Cannot connect"):
            self.status(f"Made {len(made)} connection(s)", 4000)

    def auto_layout(self) -> None:
        if self._try(self.document.auto_layout, "Cannot lay out"):
            QTimer.singleShot(0, lambda: self._view_call("fit", quiet=True))

    def randomize(self) -> None:
        seed = random.randrange(1_000_000)
        if self._try(lambda: self.document.randomize(seed=seed), "Cannot randomize"):
            self.status(f"Randomized the weights ({self.document.settings.init}, seed {seed})", 5000)

    # ------------------------------------------------------------------ help
    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        menus = [a.menu() for a in self.menuBar().actions() if a.menu() is not None]
        for m in menus:
            menu_name = m.title().replace("&", "")
            for a in _walk_actions(m):
                keys = ", ".join(k for k in (s.toString(QKeySequence.SequenceFormat.NativeText)
                                             for s in a.shortcuts()) if _readable_key(k))
                if keys:
                    rows.append((menu_name, a.text().replace("&", ""), keys))
        rows += [
            ("Canvas", "Select several", "Shift+click, Ctrl+click, or drag a rubber band"),
            ("Canvas", "Connect two neurons", "Drag from a neuron's output port onto another neuron"),
            ("Canvas", "Move the selection", "Drag (one undo step)"),
            ("Canvas", "Rename a neuron", "Double-click it"),
            ("Canvas", "Pan", "Middle-drag, or hold Space and drag"),
            ("Canvas", "Zoom", "Mouse wheel"),
            ("Backprop", "Next / previous step", "→ / ← (in step-through mode, on the canvas "
             "or the Backprop panel)"),
            ("Backprop", "Play / pause the steps", "Space (in step-through mode; Space+drag "
             "still pans)"),
            ("Inspector", "Apply a typed value", "Enter (Escape restores the old value)"),
            ("Inspector", "Slider drag", "One undo step per drag"),
        ]
        return rows

    def show_shortcuts(self) -> None:
        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard Shortcuts")
        screen = self.screen() or QGuiApplication.primaryScreen()
        avail_h = screen.availableGeometry().height() if screen is not None else 800
        dlg.resize(660, max(360, min(760, avail_h - 80)))   # most rows without scrolling
        lay = QVBoxLayout(dlg)
        rows = self.shortcut_rows()
        table = QTableWidget(len(rows), 3, dlg)
        table.setHorizontalHeaderLabels(["Where", "Command", "Keys / gesture"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        table.setObjectName("shortcuts_table")
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        table.resizeColumnsToContents()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setAlternatingRowColors(True)
        lay.addWidget(table)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
        bb.rejected.connect(dlg.reject)
        lay.addWidget(bb)
        dlg.exec()

    def show_about(self) -> None:
        from nnstudio import __version__
        QMessageBox.about(
            self, "About NN Studio",
            f"<h3>NN Studio {__version__}</h3>"
            "<p>Build, train and <i>understand</i> small neural networks: drag neurons onto the "
            "canvas, connect them, watch training live, and step through backpropagation with the "
            "real numbers.</p>"
            "<p>Colours: weights are blue (positive) or orange (negative), the Okabe–Ito pair that "
            "colour-blind readers can tell apart.</p>")

    # ------------------------------------------------------------------ samples / recent
    def _fill_samples(self) -> None:
        m = self._samples_menu
        m.clear()
        for p in paths.samples():
            a = m.addAction(p.stem.replace("-", " ").capitalize())
            a.setToolTip(f"Open the sample {p.name} as a new, untitled copy")
            a.setData(str(p))
            a.triggered.connect(lambda _=False, p=p: self.files.open_path(p))
        if m.isEmpty():
            a = m.addAction("(no samples found)")
            a.setEnabled(False)

    def _fill_recent(self) -> None:
        m = self._recent_menu
        m.clear()
        recent = self.settings.recent_files()
        for i, p in enumerate(recent):
            label = f"&{i + 1}  {Path(p).name}" if i < 9 else Path(p).name
            a = m.addAction(label)
            a.setToolTip(p)
            a.setStatusTip(p)
            a.setData(p)
            a.triggered.connect(lambda _=False, p=p: self.open_recent(p))
        if not recent:
            a = m.addAction("(no recent files)")
            a.setEnabled(False)
        else:
            m.addSeparator()
            m.addAction("Clear Recent Files", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._fill_recent()

    def open_recent(self, path: str) -> bool:
        if not Path(path).exists():
            files_mod.show_error(self, "Cannot open project",
                                 f"{path} no longer exists; it was removed from the recent files.")
            self.settings.remove_recent(path)
            return False
        return self.files.open_path(path)

    # ------------------------------------------------------------------ drag and drop
    @staticmethod
    def _project_paths(mime: QMimeData) -> list[Path]:
        if mime is None or not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls()
                if u.isLocalFile() and u.toLocalFile().lower().endswith(".nnproj")]

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self._project_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self._project_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        ps = self._project_paths(event.mimeData())
        if not ps:
            event.ignore()
            return
        event.acceptProposedAction()
        QTimer.singleShot(0, lambda: self.files.open_path(ps[0]))

    # ------------------------------------------------------------------ layout persistence
    # The default arrangement: palette over lesson on the left; on the right the inspector
    # (with history), the output map in its own group, and the loss / gradients / parameter
    # history plots tabbed below it; dataset, backprop and the other panes tabbed along the
    # bottom. Docks that are not installed are skipped.
    DEFAULT_LAYOUT = {
        "left": [["palette"], ["lesson"]],
        "right": [["inspector", "history"], ["output"], ["loss", "gradients", "params"]],
        "bottom": [["dataset", "backprop", "activation", "landscape"]],
    }
    # share of the window: left and right column widths, bottom height; right column split
    DEFAULT_SIZES = {"left": 0.165, "right": 0.215, "bottom": 0.32,
                     "right_split": (0.40, 0.33, 0.27), "left_split": (0.30, 0.70)}
    MIN_BOTTOM = 240   # the backprop formula and the dataset table stay readable

    def _default_layout(self) -> None:
        areas = {"left": Qt.DockWidgetArea.LeftDockWidgetArea,
                 "right": Qt.DockWidgetArea.RightDockWidgetArea,
                 "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}
        groups_present = []
        for d in self.docks.values():
            self.removeDockWidget(d)
        # heads first (a split next to a tabbed dock would become a tab), then the tabs
        for area, groups in self.DEFAULT_LAYOUT.items():
            prev = None
            for group in groups:
                docks = [self.docks[n] for n in group if n in self.docks]
                if not docks:
                    continue
                head = docks[0]
                if prev is None:
                    self.addDockWidget(areas[area], head)
                else:
                    self.splitDockWidget(prev, head, Qt.Orientation.Vertical)
                head.show()
                groups_present.append(docks)
                prev = head
        for docks in groups_present:
            for d in docks[1:]:
                self.tabifyDockWidget(docks[0], d)
                d.show()
            docks[0].raise_()
        placed = {d for g in groups_present for d in g}
        for name, d in self.docks.items():  # docks the table does not know: right side
            if d not in placed:
                self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d)
                d.show()
        self._default_sizes()

    def _default_sizes(self) -> None:
        S = self.DEFAULT_SIZES
        heads = {area: [self.docks[g[0]] for g in groups if g[0] in self.docks]
                 for area, groups in self.DEFAULT_LAYOUT.items()}
        w, h = self.width(), self.height()
        if heads["left"]:
            self.resizeDocks([heads["left"][0]], [max(230, int(w * S["left"]))],
                             Qt.Orientation.Horizontal)
        if heads["right"]:
            self.resizeDocks([heads["right"][0]], [max(300, int(w * S["right"]))],
                             Qt.Orientation.Horizontal)
        if heads["bottom"]:
            self.resizeDocks([heads["bottom"][0]], [max(self.MIN_BOTTOM, int(h * S["bottom"]))],
                             Qt.Orientation.Vertical)
        # split each column's current height (never more: the window must not grow past the
        # screen); at least each dock's minimum
        col = heads["right"]
        if len(col) > 1:
            avail = sum(d.height() for d in col)
            shares = list(S["right_split"][:len(col)])
            total = sum(shares)
            self.resizeDocks(col, [max(d.minimumSizeHint().height(), int(avail * s / total))
                                   for d, s in zip(col, shares)], Qt.Orientation.Vertical)
        col = heads["left"][:2]
        if len(col) > 1:  # the palette as tall as it needs (never cut off), the lesson the rest
            avail = sum(d.height() for d in col)
            first = max(self._needed_height(col[0]), int(avail * S["left_split"][0]))
            self.resizeDocks(col, [first, max(avail - first, col[1].minimumSizeHint().height())],
                             Qt.Orientation.Vertical)

    @staticmethod
    def _needed_height(dock: QDockWidget) -> int:
        """The height ``dock`` needs at its width to show all of its (word-wrapped) content."""
        w = dock.widget()
        if w is None:
            return dock.sizeHint().height()
        title = max(dock.height() - w.height(), 0) if dock.isVisible() else 24
        hfw = w.heightForWidth(dock.width()) if w.hasHeightForWidth() else -1
        return max(hfw, w.sizeHint().height()) + title

    def restore_layout(self) -> None:
        geo = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        self.restored_geometry = isinstance(geo, QByteArray) and not geo.isEmpty()
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            r = screen.availableGeometry()
            self.resize(r.width(), r.height())
        self._default_layout()
        self._default_state = self.saveState(STATE_VERSION)
        self._sizes_pending = True
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._sizes_pending = not self.restoreState(state, STATE_VERSION)
        if self.restored_geometry:
            self.restoreGeometry(geo)
        self._scene_flag("show_values", self.actions["show_values"].isChecked())
        self._scene_flag("show_grid", self.actions["show_grid"].isChecked())

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._sizes_pending:  # dock sizes only stick once the window has its real size
            self._sizes_pending = False
            QTimer.singleShot(0, self, self._default_sizes)

    def save_layout(self) -> None:
        self.settings.set_value("window/geometry", self.saveGeometry())
        self.settings.set_value("window/state", self.saveState(STATE_VERSION))
        self.settings.sync()

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
        self._default_layout()

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_layout()
        if self.document.path is not None:
            self.settings.set_last_project(self.document.path)
        self.files.autosave_timer.stop()
        self.files.remove_recovery()
        self.settings.sync()
        event.accept()


_LOWER_WORD = re.compile(r"[a-z]+(?=[\s:,])")


def _sentence(text: str) -> str:
    """A status line starts with a capital: the core's messages ("cannot connect ...") are
    written to follow a prefix. A leading id or label ("x1 ...", quoted names) is kept."""
    if text and _LOWER_WORD.match(text):
        return text[0].upper() + text[1:]
    return text


_SUN_KEYS = {"Undo", "Redo", "Copy", "Cut", "Paste", "Find", "Open", "Help", "Menu", "Stop",
             "Again", "Props", "Front", "Print"}


def _readable_key(text: str) -> bool:
    """Skip the platform's extra bindings that no keyboard in a classroom has (F13–F35, the
    Sun-style Undo/Copy/Cut/Paste keys) when listing shortcuts."""
    if not text:
        return False
    if text in _SUN_KEYS:
        return False
    if text.startswith("F") and text[1:].isdigit() and int(text[1:]) > 12:
        return False
    return True


def _walk_actions(menu: QMenu):
    for a in menu.actions():
        if a.menu() is not None:
            yield from _walk_actions(a.menu())
        elif not a.isSeparator():
            yield a


class WideScroll(QScrollArea):
    """Holds a wide panel: scrolls sideways only when the dock is narrower than the panel's
    minimum width; the panel always gets the dock's full height, and the dock area keeps the
    panel's minimum height (so nothing is clipped and no vertical scroll bar appears)."""

    def __init__(self, widget: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setWidget(widget)
        widget.installEventFilter(self)
        self.viewport().installEventFilter(self)

    def _panel_min(self) -> QSize:
        w = self.widget()
        return w.minimumSizeHint().expandedTo(w.minimumSize()) if w is not None else QSize()

    def fit(self) -> None:
        w = self.widget()
        if w is None:
            return
        vp = self.viewport().size()
        w.resize(max(vp.width(), self._panel_min().width()), vp.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        bar = self.horizontalScrollBar().sizeHint().height()
        return QSize(120, self._panel_min().height() + bar)

    def sizeHint(self) -> QSize:  # noqa: N802
        w = self.widget()
        return w.sizeHint() if w is not None else super().sizeHint()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        t = event.type()
        if obj is self.viewport() and t == QEvent.Type.Resize:
            self.fit()
        elif obj is self.widget() and t == QEvent.Type.LayoutRequest:
            self.updateGeometry()
            QTimer.singleShot(0, self, self.fit)
        return super().eventFilter(obj, event)


class DenseLayerDialog(QDialog):
    def __init__(self, parent, feeding: list[int], default: int, n_layers: int):
        super().__init__(parent)
        self.setWindowTitle("Add Dense Layer")
        form = QFormLayout(self)
        self.after = QComboBox(self)
        for i in feeding:
            self.after.addItem("layer 0 (inputs)" if i == 0 else f"layer {i}", i)
        self.after.setCurrentIndex(feeding.index(default) if default in feeding else 0)
        self.after.setToolTip("The new neurons take input from every neuron of this layer and "
                              "feed every neuron it fed")
        self.count = QSpinBox(self)
        self.count.setRange(1, 4096)
        self.count.setValue(4)
        self.count.setToolTip("How many neurons the new layer has (1 to 4096)")
        self.activation = QComboBox(self)
        for name, act in activations.ACTIVATIONS.items():
            if name != "softmax":
                self.activation.addItem(f"{act.title}    {act.formula}", name)
        self.activation.setCurrentIndex(self.activation.findData("relu"))
        self.activation.setToolTip("The activation of the new neurons")
        form.addRow("Insert after", self.after)
        form.addRow("Neurons", self.count)
        form.addRow("Activation", self.activation)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                              | QDialogButtonBox.StandardButton.Cancel, self)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def values(self) -> tuple[int, int, str]:
        return self.after.currentData(), self.count.value(), self.activation.currentData()
