"""The main window: canvas in the centre, docks around it, menus, toolbar and status bar.

The window owns no model state and does no work of its own: it holds the
:class:`~nnstudio.gui.document.Document` and wires its menus and toolbar to the parts that do
the work — file operations (:mod:`nnstudio.gui.files`), File ▸ Export Network
(:mod:`nnstudio.gui.model_export`), the clipboard
(:mod:`nnstudio.gui.clipboard`), the other edits (:mod:`nnstudio.gui.editing`), canvas view
commands — and keeps the docks, whose arrangement :mod:`nnstudio.gui.dock_layout` saves and
restores, and the status bar (:mod:`nnstudio.gui.status_line`). Every action is made by
:func:`nnstudio.gui.actions.make_action`.

The training and backprop parts install themselves with one call each and return the object
that holds what they made: ``nnstudio.gui.training.install(window)`` (kept as
``window.training``) and ``nnstudio.gui.backprop.install(window)`` (``window.backprop``). They
use :meth:`MainWindow.menu`, :meth:`MainWindow.add_dock`, :meth:`MainWindow.add_export_action`,
:attr:`MainWindow.toolbar` and the status bar; the window installs the plot, dataset and
drawing docks, which show the training they are given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMenu,
    QStyle,
    QToolBar,
    QUndoView,
    QWidget,
)

from nnstudio.core.network import STRUCTURAL, NetworkEvent
from nnstudio.gui import dialogs, model_export
from nnstudio.gui import files as files_mod
from nnstudio.gui.actions import Shortcut, app_icon, make_action
from nnstudio.gui.clipboard import ClipboardController
from nnstudio.gui.derived_inputs import DerivedInputActions
from nnstudio.gui.dock_layout import DockLayout
from nnstudio.gui.document import Document
from nnstudio.gui.editing import EditController
from nnstudio.gui.settings import Settings
from nnstudio.gui.status_line import StatusLine
from nnstudio.gui.undo_keys import route_undo_keys
from nnstudio.gui.widgets import dock_content

MENUS = ("File", "Edit", "View", "Network", "Train", "Help")


class StackAction(QAction):
    """Undo or Redo: its text names the step it would take ("&Undo Set weight ...")."""

    def __init__(self, prefix: str, parent: QObject) -> None:
        super().__init__(prefix, parent)
        self.prefix = prefix

    def show_step(self, text: str) -> None:
        self.setText(f"{self.prefix} {text}".rstrip())


class MainWindow(QMainWindow):
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
        self.parts_installed = False
        self.training = None   # the TrainingUI, once the parts are installed
        self.backprop = None   # the BackpropUI, likewise
        self.test_hook = None  # gui/test_hook.py's command reader, only under its variable
        self.plot_panes: dict[str, QWidget] = {}
        self.course_page: QWidget | None = None     # Help ▸ Lessons, while it is open
        self.guide: QWidget | None = None           # Help ▸ Getting Started, the last one
        self.dataset_panel: QWidget | None = None
        self.drawing_panel: QWidget | None = None
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        # the side columns keep the whole height; the bottom panes run under the canvas (see
        # dock_layout.DockLayout.DEFAULT_LAYOUT)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setWindowIcon(app_icon("nnstudio", QStyle.StandardPixmap.SP_ComputerIcon,
                                    self.style()))

        self.files = files_mod.FileController(self, self.settings)
        self.clipboard = ClipboardController(self.document, self)
        self.dock_layout = DockLayout(self, self.settings)

        self._build_central()
        self.edits = EditController(self.document, self.canvas_view, self)
        self.derived = DerivedInputActions(self.document, self)
        self.derived.added.connect(self.canvas_view.reveal)
        for name in MENUS:
            self.menu(name)
        self._build_actions()
        self._build_menus()
        self.model_export = model_export.install(self)  # File ▸ Export Network
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
            self.dock_layout.build_placeholders()
        else:
            self.install_parts()
        self._wire_document()
        self.dock_layout.restore()
        scene = self.canvas_view.scene()
        scene.show_values = self.actions["show_values"].isChecked()
        scene.show_grid = self.actions["show_grid"].isChecked()
        scene.pictures.set_enabled(self.actions["neuron_pictures"].isChecked())
        scene.update()
        self._update_title()
        self._update_actions()
        route_undo_keys(self)   # Ctrl+Z in a field with nothing to undo undoes the document's

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

    def add_export_action(self, action: QAction) -> None:
        """Add ``action`` to the File menu's export group (after Export Canvas, before Quit)."""
        self.menu("File").insertAction(self._quit_separator, action)

    def add_dock(self, name: str, widget: QWidget,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                 title: str | None = None) -> QDockWidget:
        """Add ``widget`` as a dock with the stable object name ``dock_<name>`` (so that the
        saved layout comes back) and a toggle in View ▸ Panels; a placeholder of that name
        (see :mod:`nnstudio.gui.dock_layout`) gets ``widget`` instead."""
        if self.dock_layout.take_placeholder(name):
            dock = self.docks[name]
            old = dock.widget()
            dock.setWindowTitle(title or name.title())
            dock.setWidget(dock_content(widget, name, self))
            if old is not None:
                old.deleteLater()
            dock.toggleViewAction().setToolTip(f"Show or hide the {dock.windowTitle()} panel")
            return dock
        dock = QDockWidget(title or name.title(), self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(dock_content(widget, name, self))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        toggle = dock.toggleViewAction()
        toggle.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
        toggle.setStatusTip(toggle.toolTip())
        self.panels_menu.addAction(toggle)
        return dock

    def remove_dock(self, name: str) -> None:
        """Take the dock ``name`` out of the window and View ▸ Panels, and delete it."""
        dock = self.docks.pop(name)
        self.panels_menu.removeAction(dock.toggleViewAction())
        self.removeDockWidget(dock)
        dock.deleteLater()

    @property
    def toolbar(self) -> QToolBar:
        return self._toolbar

    def status(self, text: str, timeout: int = 5000) -> None:
        """Show ``text`` in the status bar for ``timeout`` ms (as a sentence)."""
        self.status_line.show(text, timeout)

    # ------------------------------------------------------------------ central widget
    def _build_central(self) -> None:
        from nnstudio.gui.canvas.view import CanvasView
        self.canvas_view = CanvasView(self.document)
        self.canvas_view.setObjectName("canvas")
        self.setCentralWidget(self.canvas_view)

    # ------------------------------------------------------------------ actions
    def _act(self, key: str, text: str, tip: str, slot: Callable | None = None,
             shortcut: Shortcut | list[Shortcut] | None = None, icon: QIcon | None = None,
             checkable: bool = False, checked: bool = False) -> QAction:
        """Make the action ``key`` (object name ``action_<key>``) and keep it in ``actions``."""
        a = make_action(self, text, tip, slot, shortcut=shortcut, icon=icon,
                        checkable=checkable, checked=checked, name=f"action_{key}")
        self.actions[key] = a
        return a

    def _stack_action(self, kind: str, prefix: str) -> QAction:
        """Undo or Redo, as Qt's own actions look (enabled, "Undo <step>"), but through the
        document stack's Python methods, so training records itself first (gui/undo.py)."""
        stack = self.document.undo_stack
        a = StackAction(prefix, self)
        a.setObjectName(f"action_{kind}")
        undo = kind == "undo"
        a.triggered.connect(stack.undo if undo else stack.redo)
        (stack.canUndoChanged if undo else stack.canRedoChanged).connect(a.setEnabled)
        (stack.undoTextChanged if undo else stack.redoTextChanged).connect(a.show_step)
        a.setEnabled(stack.canUndo() if undo else stack.canRedo())
        return a

    def _build_actions(self) -> None:
        st, SP, K = self.style(), QStyle.StandardPixmap, QKeySequence.StandardKey
        ic = lambda n, f=None: app_icon(n, f, st)  # noqa: E731 (a local shorthand)
        F, C, E, view = self.files, self.clipboard, self.edits, self.canvas_view
        self._act("new", "&New", "Start a new, empty project (File ▸ New from Template offers "
                  "ready networks)", F.new, K.New,
                  ic("document-new", SP.SP_FileIcon))
        self._act("open", "&Open…", "Open a project file or an ONNX model", F.open_dialog, K.Open,
                  ic("document-open", SP.SP_DialogOpenButton))
        self._act("save", "&Save", "Save the project", F.save, K.Save,
                  ic("document-save", SP.SP_DialogSaveButton))
        self._act("save_as", "Save &As…", "Save the project under a new name", F.save_as,
                  K.SaveAs, ic("document-save-as", SP.SP_DialogSaveButton))
        self._act("export_png", "Export Canvas as &PNG…", "Save a picture of the canvas (PNG)",
                  lambda: F.export_canvas("png"), None, ic("image-x-generic", SP.SP_DesktopIcon))
        self._act("export_svg", "Export Canvas as S&VG…",
                  "Save a picture of the canvas (SVG, scalable)", lambda: F.export_canvas("svg"))
        self._act("quit", "&Quit", "Quit NN Studio", self.close,
                  QKeySequence(K.Quit).toString() or "Ctrl+Q",
                  ic("application-exit", SP.SP_DialogCloseButton))

        undo = self._stack_action("undo", "&Undo")
        undo.setShortcuts(QKeySequence.keyBindings(K.Undo))
        undo.setIcon(ic("edit-undo", SP.SP_ArrowBack))
        undo.setToolTip("Undo the last change (Ctrl+Z)")
        redo = self._stack_action("redo", "&Redo")
        redo_keys = QKeySequence.keyBindings(K.Redo)
        if QKeySequence("Ctrl+Y") not in redo_keys:
            redo_keys.append(QKeySequence("Ctrl+Y"))
        redo.setShortcuts(redo_keys)
        redo.setIcon(ic("edit-redo", SP.SP_ArrowForward))
        redo.setToolTip("Redo the change just undone (Ctrl+Shift+Z)")
        self.actions["undo"], self.actions["redo"] = undo, redo
        self._act("cut", "Cu&t", "Cut the selected neurons to the clipboard", C.cut, K.Cut,
                  ic("edit-cut"))
        self._act("copy", "&Copy", "Copy the selected neurons (and the connections among them)",
                  C.copy, K.Copy, ic("edit-copy"))
        self._act("paste", "&Paste", "Paste neurons from the clipboard", C.paste, K.Paste,
                  ic("edit-paste"))
        self._act("duplicate", "D&uplicate", "Duplicate the selected neurons", C.duplicate,
                  "Ctrl+D", ic("edit-duplicate"))
        self._act("delete", "&Delete", "Delete the selection (neurons take their connections)",
                  E.delete_selection, [QKeySequence(K.Delete).toString(), "Backspace"],
                  ic("edit-delete", SP.SP_TrashIcon))
        self._act("select_all", "Select &All", "Select every neuron and connection",
                  E.select_all, K.SelectAll, ic("edit-select-all"))

        self._act("zoom_in", "Zoom &In", "Zoom in on the canvas", view.zoom_in,
                  [QKeySequence(K.ZoomIn).toString(), "Ctrl+="], ic("zoom-in"))
        self._act("zoom_out", "Zoom &Out", "Zoom out", view.zoom_out, K.ZoomOut, ic("zoom-out"))
        self._act("fit", "&Fit to Window", "Show the whole network", view.fit, "Ctrl+0",
                  ic("zoom-fit-best"))
        self._act("show_values", "Show &Values", "Show weight values on the connections",
                  self.set_show_values, "Ctrl+Shift+V", ic("show-values"), checkable=True,
                  checked=self.settings.bool("view/show_values", False))
        self._act("show_grid", "Show &Grid", "Show the grid; dropped and moved neurons snap to it",
                  self.set_show_grid, "Ctrl+'", ic("show-grid"), checkable=True,
                  checked=self.settings.bool("view/show_grid", True))
        self._act("neuron_pictures", "Neuron &Pictures", "For two-input data, show in every "
                  "neuron its activation over the input plane (orange low, blue high), live "
                  "while training", self.set_neuron_pictures, "Ctrl+Shift+P", checkable=True,
                  checked=self.settings.bool("view/neuron_pictures", True))
        self._act("reset_layout", "Reset &Layout", "Put every panel back where it started",
                  self.dock_layout.reset)

        self._act("add_dense", "Add &Dense Layer…", "Insert a fully connected layer of new "
                  "hidden neurons", E.add_dense_layer, "Ctrl+L", ic("add-layer"))
        self._act("add_hidden", "Add &Hidden Layer", "Add a hidden layer after the last one, "
                  "as wide as it and fully connected (each hidden layer's own + and − on the "
                  "canvas add or remove one neuron)", E.add_hidden_layer, "Ctrl+Alt+=")
        self._act("remove_hidden", "Remove Hidden La&yer", "Remove the last hidden layer; what "
                  "fed it then feeds what it fed", E.remove_hidden_layer, "Ctrl+Alt+-")
        self._act("connect_fully", "&Connect Selected Fully", "Connect every selected neuron to "
                  "every later selected neuron", E.connect_selected_fully, "Ctrl+K",
                  ic("connect-fully"))
        self._act("auto_layout", "&Auto-Layout", "Arrange the neurons in columns by layer",
                  E.auto_layout, "Ctrl+Shift+L", ic("auto-layout"))
        self._act("randomize", "&Randomize Weights", "Give every trainable weight and bias a "
                  "new random value (the initialisation in the training settings)",
                  E.randomize, "Ctrl+R", ic("randomize")).setIconText("Randomize")
        self.actions["add_hidden"].setIcon(ic("add-layer"))

        self._act("shortcuts", "&Keyboard Shortcuts", "List every keyboard shortcut and mouse "
                  "gesture", lambda: dialogs.show_shortcuts(self, self.shortcut_rows()), "F1",
                  ic("help-keyboard-shortcuts", SP.SP_DialogHelpButton))
        self._act("getting_started", "&Getting Started…", "What to do first, in six steps "
                  "with pictures", self.show_getting_started, None,
                  ic("help-contents", SP.SP_DialogHelpButton))
        self._act("lessons", "&Lessons…", "The course: every lesson in order, with your "
                  "progress", self.show_course, None,
                  ic("help-lessons", SP.SP_FileDialogContentsView))
        self._act("about", "&About NN Studio", "About NN Studio", lambda: dialogs.show_about(self),
                  None, ic("help-about", SP.SP_MessageBoxInformation))

    def show_getting_started(self) -> QWidget:
        """Help ▸ Getting Started: the guide, beside the window."""
        from nnstudio.gui.guide import show_getting_started
        self.guide = show_getting_started(self, self.show_course)
        return self.guide

    def show_course(self) -> QWidget:
        """Help ▸ Lessons: the course page (a window of its own; Open opens a lesson)."""
        from nnstudio.gui.course import CoursePage
        guide = self.actions.get("getting_started")    # p-play's Help ▸ Getting Started
        page = CoursePage(self.settings, self.files.open_path, self,
                          guide=guide.trigger if guide is not None else None)
        page.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        page.show()
        self.course_page = page
        return page

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """Every shortcut in the menus, and the mouse gestures (Help ▸ Keyboard Shortcuts)."""
        return dialogs.shortcut_rows(self.menuBar())

    def _build_menus(self) -> None:
        A = self.actions
        m = self.menu("File")
        m.addAction(A["new"])
        self.templates_menu = m.addMenu("New from &Template")
        self.templates_menu.setObjectName("menuTemplates")
        self.templates_menu.setToolTipsVisible(True)
        self.files.fill_templates_menu(self.templates_menu)
        m.addAction(A["open"])
        self.samples_menu = m.addMenu("Open &Sample")
        self.samples_menu.setObjectName("menuSamples")
        self.samples_menu.setToolTipsVisible(True)
        self.samples_menu.aboutToShow.connect(
            lambda: self.files.fill_samples_menu(self.samples_menu))
        # (filled in install_parts, after the first paint: its titles read every sample file)
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.setObjectName("menuRecent")
        self.recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(self.recent_menu))
        self.files.fill_recent_menu(self.recent_menu)
        m.addSeparator()
        m.addActions([A["save"], A["save_as"]])
        m.addSeparator()
        m.addActions([A["export_png"], A["export_svg"]])
        self._quit_separator = m.addSeparator()
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
        m.addActions([A["show_values"], A["show_grid"], A["neuron_pictures"]])
        m.addSeparator()
        self.panels_menu = m.addMenu("&Panels")
        self.panels_menu.setObjectName("menuPanels")
        self.panels_menu.setToolTipsVisible(True)
        self.toolbars_menu = m.addMenu("&Toolbars")
        self.toolbars_menu.setObjectName("menuToolbars")
        m.addSeparator()
        m.addAction(A["reset_layout"])

        m = self.menu("Network")
        m.addActions([A["add_hidden"], A["remove_hidden"], A["add_dense"]])
        self.derived_menu = m.addMenu("Derived &Inputs")
        self.derived_menu.setObjectName("menuDerivedInputs")
        self.derived.fill_menu(self.derived_menu)
        m.addSeparator()
        m.addActions([A["connect_fully"], A["auto_layout"]])
        m.addSeparator()
        m.addAction(A["randomize"])

        m = self.menu("Help")
        m.addActions([A["lessons"], A["getting_started"], A["shortcuts"], A["about"]])

    def _build_toolbar(self) -> None:
        A = self.actions
        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolbar")
        tb.setMovable(True)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        # icons, and text where a lesson names the button ("press Randomize"); the zoom keys
        # and the wheel zoom, so Fit is enough here
        for key in ("new", "open", "save", None, "undo", "redo", None, "delete", None,
                    "fit", "show_values", None, "add_hidden", "connect_fully", "auto_layout",
                    "randomize"):
            if key is None:
                tb.addSeparator()
            else:
                tb.addAction(A[key])
        tb.widgetForAction(A["randomize"]).setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self._toolbar = tb
        self.toolbars_menu.addAction(tb.toggleViewAction())

    # ------------------------------------------------------------------ docks
    def _build_docks(self) -> None:
        from nnstudio.gui.canvas.palette import Palette
        from nnstudio.gui.inspector import Inspector
        from nnstudio.gui.lesson import LessonPanel

        L, R = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.palette_panel = Palette(self.document)
        self.palette_panel.set_derived_actions(list(self.derived.actions.values()))
        self.add_dock("palette", self.palette_panel, L, "Palette")
        self.lesson = LessonPanel(self.document, settings=self.settings)
        self.add_dock("lesson", self.lesson, L, "Lesson")
        self.inspector = Inspector(self.document)
        self.add_dock("inspector", self.inspector, R, "Inspector")
        self.history = QUndoView(self.document.undo_stack)
        self.history.setObjectName("history")
        self.history.setEmptyLabel("<opened>")
        self.history.setToolTip("Every change, oldest first: click a line to go back to it")
        self.add_dock("history", self.history, R, "History")

    def install_parts(self) -> None:
        """Install the training and backprop parts (once), fill their placeholders, and drop
        placeholders that no part claimed."""
        if self.parts_installed:
            return
        self.parts_installed = True
        own = set(self.docks) - self.dock_layout.placeholders
        self._install_parts()
        self.dock_layout.parts_installed(own)

    def _install_parts(self) -> None:
        # The training and backprop parts (one install(window) call each), and the docks of
        # the plot panes and the dataset panel, which show the training they are given.
        from nnstudio.gui import backprop, training
        from nnstudio.gui.dataset_panel import DatasetPanel
        from nnstudio.gui.drawing_pad import DrawingPanel
        from nnstudio.gui.plots import PANES
        self.training = training.install(self)
        # a click in the history list jumps through Qt's C++ stack, which training cannot
        # record itself before: the list is read-only while training runs (Undo pauses it)
        self.training.controller.runningChanged.connect(
            lambda running: self.history.setEnabled(not running))
        for key, (cls, area) in PANES.items():
            self.plot_panes[key] = cls(self.document, self.training.controller)
            self.add_dock(key, self.plot_panes[key], area, cls.title)
        self.dataset_panel = DatasetPanel(self.document)
        self.add_dock("dataset", self.dataset_panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                      "Dataset")
        self.drawing_panel = DrawingPanel(self.document)
        self.add_dock("drawing", self.drawing_panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                      "Drawing")
        self.backprop = backprop.install(self)
        self.actions["backprop_mode"] = self.backprop.mode_action
        self.status_line.hide_loss()  # the training status shows the loss (and more)
        self.toolbars_menu.addAction(self.training.toolbar.toggleViewAction())
        self.toolbars_menu.addAction(self.training.settings_toolbar.toggleViewAction())
        route_undo_keys(self)
        self.files.fill_samples_menu(self.samples_menu)

    def pause_training(self) -> None:
        """Pause training if it runs (the editor does before asking "save changes?")."""
        if self.training is not None:
            self.training.controller.pause()

    # ------------------------------------------------------------------ status bar
    def _build_status(self) -> None:
        self.status_line = StatusLine(self.statusBar(), self.document, self)

    # ------------------------------------------------------------------ document wiring
    def _wire_document(self) -> None:
        d = self.document
        d.modifiedChanged.connect(self._update_title)
        d.pathChanged.connect(self._update_title)
        d.projectReplaced.connect(self._on_project_replaced)
        d.selectionChanged.connect(self._update_actions)
        d.networkChanged.connect(self._on_network)
        d.undo_stack.indexChanged.connect(self._update_title)
        QGuiApplication.clipboard().dataChanged.connect(self._update_actions)

    def _on_network(self, event: NetworkEvent, ids: tuple) -> None:
        if event in STRUCTURAL:
            self._update_actions()

    def _on_project_replaced(self) -> None:
        self._update_title()
        self._update_actions()
        QTimer.singleShot(0, self.canvas_view.fit)
        net = self.document.network
        palette = self.docks.get("palette")
        if palette is not None and not net.neurons and not net.image_layers:
            palette.raise_()   # an empty canvas: the tiles to drag from, in front of the lesson

    def _update_title(self, *_: object) -> None:
        doc = self.document
        self.setWindowTitle(f"{self.title_name()}[*] — NN Studio")
        self.setWindowModified(doc.is_modified())

    def title_name(self) -> str:
        """The file name; for a shipped lesson opened as an untitled copy, the lesson's name
        and "(lesson copy)"; else the project's name."""
        doc = self.document
        if doc.path is not None:
            return doc.path.name
        name = doc.project.name or "Untitled"
        if doc.source_sample is not None:
            return f"{name} (lesson copy)"
        return name

    def _update_actions(self, *_: object) -> None:
        doc = self.document
        A = self.actions
        nsel = len(doc.selected_neurons())
        A["cut"].setEnabled(nsel > 0)
        A["copy"].setEnabled(nsel > 0)
        A["duplicate"].setEnabled(nsel > 0)
        A["delete"].setEnabled(bool(doc.selection))
        A["connect_fully"].setEnabled(nsel >= 2)
        A["paste"].setEnabled(self.clipboard.can_paste())

    # ------------------------------------------------------------------ view toggles
    def set_show_values(self, on: bool) -> None:
        scene = self.canvas_view.scene()
        scene.show_values = on
        scene.update()
        self.settings.set_value("view/show_values", bool(on))

    def set_neuron_pictures(self, on: bool) -> None:
        self.canvas_view.scene().pictures.set_enabled(on)
        self.settings.set_value("view/neuron_pictures", bool(on))

    def set_show_grid(self, on: bool) -> None:
        scene = self.canvas_view.scene()
        scene.show_grid = on
        scene.update()
        self.settings.set_value("view/show_grid", bool(on))

    # ------------------------------------------------------------------ drag and drop
    @staticmethod
    def _project_paths(mime: QMimeData | None) -> list[Path]:
        """The dropped files the window opens: projects and ONNX models."""
        if mime is None or not mime.hasUrls():
            return []
        from nnstudio.core.opening import is_model_file
        from nnstudio.core.project import SUFFIX
        return [Path(u.toLocalFile()) for u in mime.urls()
                if u.isLocalFile() and (u.toLocalFile().lower().endswith(SUFFIX)
                                        or is_model_file(u.toLocalFile()))]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._project_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._project_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        ps = self._project_paths(event.mimeData())
        if not ps:
            event.ignore()
            return
        event.acceptProposedAction()
        QTimer.singleShot(0, lambda: self.files.open_path(ps[0]))

    # ------------------------------------------------------------------ showing, closing
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.dock_layout.shown()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.dock_layout.save()
        if self.document.path is not None:
            self.settings.set_last_project(self.document.path)
        self.files.autosave_timer.stop()
        self.files.remove_recovery()
        self.settings.sync()
        event.accept()
