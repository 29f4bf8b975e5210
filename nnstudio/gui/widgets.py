"""Small shared widgets: a validated number editor, a number editor + slider pair, and helpers;
and the holders that fit a tall or wide panel into a dock (:func:`dock_content`).

Widgets never apply anything themselves: they emit what the user asked for and the panel passes
it to the document. Setting a value from code never emits (signals are blocked), so a view that
follows the model cannot feed its own update back into the model.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QFont, QKeyEvent, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSlider,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QWidget,
)

MIXED = object()   # "the selected items disagree"
MIXED_TEXT = "— mixed —"

_ERROR_STYLE = "QLineEdit { border: 2px solid #D55E00; border-radius: 3px; background: #FFF1EA; }"

_drag_keys = itertools.count(1)


def new_merge_key() -> tuple:
    """A fresh key for one continuous gesture (a slider drag): its edits merge into one undo
    step, and a later gesture never merges with it."""
    return ("drag", next(_drag_keys))


def count_phrase(neurons: int, connections: int, joiner: str = " and ",
                 keep_zero: bool = False, layers: int = 0) -> str:
    """How many neurons, connections and image layers, in words: ``count_phrase(3, 1)`` is "3
    neurons and 1 connection", ``count_phrase(0, 0, layers=2)`` "2 layers"; a zero count is left
    out unless ``keep_zero`` ("" when all are left out; layers only ever when there are any)."""
    counts = [(neurons, "neuron", keep_zero), (connections, "connection", keep_zero),
              (layers, "layer", False)]
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word, keep in counts if n or keep]
    return joiner.join(parts)


def format_number(v: float, digits: int = 6) -> str:
    if v is None:
        return ""
    if v == 0:
        return "0"
    return f"{v:.{digits}g}"


def parse_number(text: str, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, what: str = "value") -> float:
    """Parse a finite number in [lo, hi] (or (lo, hi] with ``lo_open``); raise ValueError with a
    message a user understands."""
    t = text.strip().replace("−", "-")
    if not t:
        raise ValueError(f"enter a number for the {what}")
    try:
        v = float(t)
    except ValueError:
        hint = ""
        if t.count(",") == 1 and "." not in t:
            try:
                float(t.replace(",", "."))
                hint = f"; write decimals with a point: {t.replace(',', '.')}"
            except ValueError:
                pass
        raise ValueError(f"{t!r} is not a number{hint}") from None
    if math.isnan(v):
        raise ValueError("NaN (not a number) is not allowed")
    if math.isinf(v):
        raise ValueError("infinity is not allowed; enter a finite number")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        upper = f" and at most {format_number(hi)}" if hi is not None else ""
        raise ValueError(f"the {what} must be {'greater than' if lo_open else 'at least'} "
                         f"{format_number(lo)}{upper}")
    if hi is not None and v > hi:
        raise ValueError(f"the {what} must be at most {format_number(hi)}")
    return v


class FloatEdit(QLineEdit):
    """A line edit for one finite number. Invalid text (letters, NaN, inf, out of range) is
    refused inline: a red border and a tooltip say why, and nothing is emitted. Enter or leaving
    the field commits a valid value (``valueCommitted``); Escape restores the current value."""

    valueCommitted = Signal(float)
    refused = Signal(str)   # Enter or leaving the field with invalid text: the reason

    def __init__(self, parent: QWidget | None = None, lo: float | None = None,
                 hi: float | None = None,
                 lo_open: bool = False, what: str = "value", tip: str = ""):
        super().__init__(parent)
        self.lo, self.hi, self.lo_open, self.what = lo, hi, lo_open, what
        self._value: float | None = None
        self._shown = ""
        self._mixed = False
        self._tip = tip
        self.error: str | None = None
        self.setToolTip(tip)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        f = QFont("monospace")
        f.setStyleHint(QFont.StyleHint.TypeWriter)
        self.setFont(f)
        self.textEdited.connect(self._check)
        self.editingFinished.connect(self._commit)
        self.returnPressed.connect(self._commit)

    def value(self) -> float | None:
        return self._value

    def set_value(self, v: object) -> None:
        """Show a value from the model (or MIXED); never emits."""
        with QSignalBlocker(self):
            if v is MIXED:
                self._mixed, self._value = True, None
                self.setText("")
                self.setPlaceholderText(MIXED_TEXT)
            else:
                self._mixed, self._value = False, None if v is None else float(v)
                self.setPlaceholderText("")
                if not (self.hasFocus() and self.isModified()):
                    self.setText(format_number(self._value, 10) if v is not None else "")
                    self._shown = self.text()
            if not self.hasFocus():
                self._set_error(None)

    def _check(self, text: str) -> bool:
        if self._mixed and not text.strip():
            self._set_error(None)
            return False
        try:
            parse_number(text, self.lo, self.hi, self.lo_open, self.what)
        except ValueError as e:
            self._set_error(str(e))
            return False
        self._set_error(None)
        return True

    def _set_error(self, message: str | None) -> None:
        self.error = message
        if message:
            self.setStyleSheet(_ERROR_STYLE)
            more = f"<br>{self._tip}" if self._tip else ""
            self.setToolTip(f"<b>Not applied:</b> {message}{more}")
        else:
            self.setStyleSheet("")
            self.setToolTip(self._tip)

    def _commit(self) -> None:
        text = self.text()
        if self._mixed and not text.strip():
            return
        if text == self._shown and self._value is not None:
            self._set_error(None)
            return  # untouched: the shown digits may be rounded, never write them back
        if not self._check(text):
            self.refused.emit(self.error or "invalid number")
            return
        v = parse_number(text, self.lo, self.hi, self.lo_open, self.what)
        self.setModified(False)
        if self._value is not None and v == self._value:
            return
        self._value, self._mixed = v, False
        self.valueCommitted.emit(v)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.setModified(False)
            self._set_error(None)
            self.set_value(MIXED if self._mixed else self._value)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        # refused text stays visible, red, with its reason, until it is fixed, Escape is
        # pressed, or the model shows a new value
        super().focusOutEvent(event)


class FloatSlider(QSlider):
    """A horizontal slider over a float range that grows to fit the value (±range, where the
    range is the next of 1, 2, 5, 10, ... above |value|). Emits ``dragged(value, key)`` while the
    user drags (all with one merge key) or steps with the keyboard (a fresh key per step)."""

    dragged = Signal(float, object)
    STEPS = 1000

    def __init__(self, parent: QWidget | None = None, span: float = 5.0,
                 symmetric: bool = True, fixed: bool = False):
        """``fixed``: the range stays ``span`` (it does not grow with the value)."""
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.span = span
        self.symmetric = symmetric
        self.fixed = fixed
        self.setRange(-self.STEPS if symmetric else 0, self.STEPS)
        self._key = None
        self.sliderPressed.connect(self._pressed)
        self.sliderReleased.connect(self._released)
        self.valueChanged.connect(self._moved)

    def _range_for(self, v: float) -> float:
        span = self.span
        while abs(v) > span * 0.95:
            span *= 2 if str(span)[0] in "15" else 2.5
        return span

    def set_value(self, v: object) -> None:
        with QSignalBlocker(self):
            if v is MIXED or v is None:
                self.setValue(0)
                return
            if self._key is None and not self.fixed:   # never rescale under the pointer
                self.span = self._range_for(float(v))
            self.setValue(int(round(float(v) / self.span * self.STEPS)))

    def to_value(self, pos: int) -> float:
        return float(pos) / self.STEPS * self.span

    def _pressed(self) -> None:
        self._key = new_merge_key()

    def _released(self) -> None:
        self._key = None

    def _moved(self, pos: int) -> None:
        key = self._key if self._key is not None else new_merge_key()
        self.dragged.emit(round(self.to_value(pos), 6), key)


class NumberSlider(QWidget):
    """A :class:`FloatEdit` with a :class:`FloatSlider`: ``edited(value, merge_key)``, where
    merge_key is False for a typed value and one key per slider drag."""

    edited = Signal(float, object)

    def __init__(self, parent: QWidget | None = None, what: str = "value", tip: str = "",
                 span: float = 5.0,
                 lo: float | None = None, hi: float | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.edit = FloatEdit(self, lo=lo, hi=hi, what=what, tip=tip)
        self.edit.setMaximumWidth(110)
        self.slider = FloatSlider(self, span=span)
        self.slider.setToolTip(f"Drag to change the {what}; one drag is one undo step")
        lay.addWidget(self.edit)
        lay.addWidget(self.slider, 1)
        self.edit.valueCommitted.connect(lambda v: self.edited.emit(v, False))
        self.slider.dragged.connect(self.edited.emit)

    def set_value(self, v: object) -> None:
        self.edit.set_value(v)
        self.slider.set_value(v)

    def setEnabled(self, on: bool) -> None:
        super().setEnabled(on)


class IntSpin(QSpinBox):
    """A spin box that shows MIXED and emits ``valueCommitted`` only for user edits.
    ``special``: what its minimum reads as ("all" for a batch size of 0)."""

    valueCommitted = Signal(int)

    def __init__(self, parent: QWidget | None = None, lo: int = 0, hi: int = 2**31 - 1,
                 tip: str = "", special: str = ""):
        super().__init__(parent)
        self.setRange(lo, hi)
        self.setToolTip(tip)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.special = special
        self.setSpecialValueText(special)
        self.valueChanged.connect(self.valueCommitted.emit)

    def set_value(self, v: object) -> None:
        with QSignalBlocker(self):
            if v is MIXED:
                self.setSpecialValueText(MIXED_TEXT)
                self.setValue(self.minimum())
            else:
                self.setSpecialValueText(self.special)
                self.setValue(int(v))


#: what a validation split of 0 reads as, wherever the split is shown
NO_SPLIT = "none"
#: what a batch size of 0 (the whole dataset in every step) reads as, wherever it is shown
ALL_ROWS = "all"


class PercentSpin(IntSpin):
    """A fraction edited in whole percent, as people say it ("hold out 20 %"): the validation
    split. Shows "none" at 0; ``fractionCommitted`` carries the fraction (20 → 0.2)."""

    fractionCommitted = Signal(float)

    def __init__(self, parent: QWidget | None = None, hi: int = 90, tip: str = ""):
        super().__init__(parent, 0, hi, tip, special=NO_SPLIT)
        self.setSingleStep(5)
        self.setSuffix(" %")
        self.valueCommitted.connect(lambda v: self.fractionCommitted.emit(round(v / 100.0, 4)))

    def set_fraction(self, v: object) -> None:
        self.set_value(v if v is MIXED else int(round(100 * float(v))))


class ChoiceBox(QComboBox):
    """A combo box of (value, text) pairs with MIXED support; emits ``chosen(value)``."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None, choices: Iterable[tuple] = (),
                 tip: str = ""):
        super().__init__(parent)
        self.setToolTip(tip)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(10)
        self.set_choices(choices)
        self.activated.connect(self._activated)

    def set_choices(self, choices: Iterable[tuple]) -> None:
        with QSignalBlocker(self):
            self.clear()
            for choice in choices:   # (value, text) or (value, text, tooltip)
                value, text = choice[0], choice[1]
                self.addItem(text, value)
                if len(choice) > 2 and choice[2]:
                    self.setItemData(self.count() - 1, choice[2], Qt.ItemDataRole.ToolTipRole)

    def set_value(self, v: object) -> None:
        with QSignalBlocker(self):
            mixed_idx = self.findText(MIXED_TEXT)
            if v is MIXED:
                if mixed_idx < 0:
                    self.addItem(MIXED_TEXT, MIXED)
                    mixed_idx = self.count() - 1
                self.setCurrentIndex(mixed_idx)
                return
            if mixed_idx >= 0:
                self.removeItem(mixed_idx)
            i = self.findData(v)
            self.setCurrentIndex(i)

    def _activated(self, i: int) -> None:
        v = self.itemData(i)
        if v is not MIXED:
            self.chosen.emit(v)


class CompactCombo(QComboBox):
    """A combo box that shows a short name while closed ("MSE") and the full titles in its
    list ("Mean squared error"), so that a toolbar of settings stays narrow. Items are added
    with :meth:`add_choice`; the current item's data is its value."""

    SHORT_ROLE = Qt.ItemDataRole.UserRole + 1

    def add_choice(self, value: object, short: str, title: str, tip: str = "") -> None:
        self.addItem(title, value)
        i = self.count() - 1
        self.setItemData(i, short, self.SHORT_ROLE)
        if tip:
            self.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        fm = self.fontMetrics()
        widest = max(fm.horizontalAdvance(self.itemText(k)) for k in range(self.count()))
        self.view().setMinimumWidth(widest + 36)
        self.updateGeometry()

    def short_text(self) -> str:
        short = self.currentData(self.SHORT_ROLE)
        return short if isinstance(short, str) and short else self.currentText()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        opt.currentText = self.short_text()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        shorts = [self.itemData(k, self.SHORT_ROLE) or self.itemText(k)
                  for k in range(self.count())] or [""]
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        content = QSize(max(fm.horizontalAdvance(s) for s in shorts) + 6, fm.height())
        size = self.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, opt, content, self)
        return QSize(size.width(), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


class ValueLabel(QLabel):
    """A read-only, selectable number."""

    def __init__(self, parent: QWidget | None = None, tip: str = ""):
        super().__init__(parent)
        self.setToolTip(tip)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = QFont("monospace")
        f.setStyleHint(QFont.StyleHint.TypeWriter)
        self.setFont(f)

    def set_value(self, v: object) -> None:
        if v is MIXED:
            self.setText(MIXED_TEXT)
        elif v is None:
            self.setText("—")
        elif isinstance(v, float):
            self.setText(format_number(v, 8))
        else:
            self.setText(str(v))


# ---------------------------------------------------------------------- panels in docks
MAX_DOCK_MIN_HEIGHT = 260   # a panel asking for more scrolls instead of forcing the dock area
MAX_DOCK_MIN_WIDTH = 420    # the window must fit a 1280 x 720 projector


def dock_content(widget: QWidget, name: str, parent: QWidget | None = None) -> QWidget:
    """What a dock holds for the panel ``widget``: a panel taller than
    :data:`MAX_DOCK_MIN_HEIGHT` scrolls (instead of forcing its height on the whole dock area),
    one wider than :data:`MAX_DOCK_MIN_WIDTH` scrolls sideways in a :class:`WideScroll` (instead
    of forcing its width on the window); any other panel (or a scroll area) as it is. A holder
    is named ``scroll_<name>``."""
    if isinstance(widget, QScrollArea):
        return widget
    hint = widget.minimumSizeHint()
    if hint.height() > MAX_DOCK_MIN_HEIGHT:
        scroll = QScrollArea(parent)
        scroll.setObjectName(f"scroll_{name}")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(widget)
        return scroll
    if hint.width() > MAX_DOCK_MIN_WIDTH:
        wide = WideScroll(widget, parent)
        wide.setObjectName(f"scroll_{name}")
        return wide
    return widget


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

    def minimumSizeHint(self) -> QSize:
        bar = self.horizontalScrollBar().sizeHint().height()
        return QSize(120, self._panel_min().height() + bar)

    def sizeHint(self) -> QSize:
        w = self.widget()
        return w.sizeHint() if w is not None else super().sizeHint()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        t = event.type()
        if obj is self.viewport() and t == QEvent.Type.Resize:
            self.fit()
        elif obj is self.widget() and t == QEvent.Type.LayoutRequest:
            self.updateGeometry()
            QTimer.singleShot(0, self, self.fit)
        return super().eventFilter(obj, event)
