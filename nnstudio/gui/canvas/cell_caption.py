"""The caption under an image layer's card that says what its focused cell holds.

When a cell of a layer is focused (hovered, or clicked and so pinned) the scene shows its
lines here — a convolution cell's dot product written out with the evaluation's numbers
("map 0 [0][0] = 0×0 + 0×0 + 1×1 + … + b = 3 + 0 = 3"), its activation, a pooled cell's window
and winner, the cell's dL/dz — in a box just under the card, so the numbers stay on screen
beside the highlighted receptive field (a tooltip would need the pointer to rest, and goes
when it moves). The scene decides the text and the anchor (:meth:`CellCaption.show_lines`);
the item only lays the lines out (wrapped at :data:`WRAP_WIDTH`) and paints them. It never
edits the model.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.gui import style

WRAP_WIDTH = 420.0     # scene units: a longer line wraps
PAD = 5.0
GAP = 8.0              # between the card's bottom and the caption
CAPTION_Z = 40.0       # above the cards and the links, under the player's overlay
TEXT_FLAGS = style.ALIGN_LEFT | int(Qt.TextFlag.TextWordWrap.value)


class CellCaption(QGraphicsItem):
    """A rounded box of text lines centred under a card (hidden when there are none)."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(CAPTION_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        self._font = style.ui_font(8.0)
        self._lines: tuple[str, ...] = ()
        self._rect = QRectF()
        self.setVisible(False)

    @property
    def lines(self) -> tuple[str, ...]:
        """The lines shown now (empty when hidden)."""
        return self._lines

    def font(self) -> QFont:
        return self._font

    def show_lines(self, lines: list[str], card: QRectF | None) -> None:
        """Show ``lines`` centred under ``card`` (a scene rectangle); no lines or no card
        hides the caption."""
        if not lines or card is None:
            if self._lines or self.isVisible():
                self.prepareGeometryChange()
                self._lines, self._rect = (), QRectF()
                self.setVisible(False)
            return
        fm = QFontMetricsF(self._font)
        text = "\n".join(lines)
        br = fm.boundingRect(QRectF(0, 0, WRAP_WIDTH, 10_000), TEXT_FLAGS, text)
        w, h = br.width() + 2 * PAD, br.height() + 2 * PAD
        rect = QRectF(card.center().x() - w / 2, card.bottom() + GAP, w, h)
        if tuple(lines) == self._lines and rect == self._rect:
            return
        self.prepareGeometryChange()
        self._lines, self._rect = tuple(lines), rect
        self.setVisible(True)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if not self._lines:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(style.HIGHLIGHT, 1.2))
        painter.setBrush(QBrush(QColor(255, 255, 255, 240)))
        painter.drawRoundedRect(self._rect, 4, 4)
        painter.setPen(style.TEXT)
        painter.setFont(self._font)
        painter.drawText(self._rect.adjusted(PAD, PAD, -PAD, -PAD), TEXT_FLAGS,
                         "\n".join(self._lines))
