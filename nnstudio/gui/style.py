"""The one palette of NN Studio: colours, fonts and colour maps shared by every view.

Weight signs use the Okabe–Ito colour-blind-safe pair (positive = blue #0072B2, negative =
orange #E69F00). Neuron activations use a blue–white–orange diverging map built from the same two
colours, so "positive" reads blue everywhere. Highlights (selection, backprop overlay) use
Okabe–Ito reddish purple, which stays distinct from both under every common colour-vision
deficiency. Other panels import from here instead of hard-coding colours.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

# ---------------------------------------------------------------------------- base colours
POSITIVE_HEX = "#0072B2"      # Okabe–Ito blue
NEGATIVE_HEX = "#E69F00"      # Okabe–Ito orange
HIGHLIGHT_HEX = "#CC79A7"     # Okabe–Ito reddish purple: overlay halos
SELECTION_HEX = "#1F2430"     # near-black outline for selected items
ACCENT_HEX = "#009E73"        # Okabe–Ito bluish green: "allowed" hints
REFUSED_HEX = "#D55E00"       # Okabe–Ito vermillion: "refused" hints
BACKGROUND_HEX = "#FAFAF7"    # canvas background (warm off-white)
GRID_MINOR_HEX = "#EEEEE8"
GRID_MAJOR_HEX = "#E1E1D9"
TEXT_HEX = "#22262E"
MUTED_TEXT_HEX = "#6B7280"
NEURON_BORDER_HEX = "#3A4150"
NEUTRAL_FILL_HEX = "#E6E7EB"  # a neuron with no value to show
PANEL_HEX = "#FFFFFF"

POSITIVE = QColor(POSITIVE_HEX)
NEGATIVE = QColor(NEGATIVE_HEX)
HIGHLIGHT = QColor(HIGHLIGHT_HEX)
SELECTION = QColor(SELECTION_HEX)
ACCENT = QColor(ACCENT_HEX)
REFUSED = QColor(REFUSED_HEX)
BACKGROUND = QColor(BACKGROUND_HEX)
GRID_MINOR = QColor(GRID_MINOR_HEX)
GRID_MAJOR = QColor(GRID_MAJOR_HEX)
TEXT = QColor(TEXT_HEX)
MUTED_TEXT = QColor(MUTED_TEXT_HEX)
NEURON_BORDER = QColor(NEURON_BORDER_HEX)
NEUTRAL_FILL = QColor(NEUTRAL_FILL_HEX)
PANEL = QColor(PANEL_HEX)

# Role colours for the palette tiles and neuron borders (muted, not competing with signs).
ROLE_BORDER = {
    "input": QColor("#3A4150"),
    "hidden": QColor("#3A4150"),
    "output": QColor("#1F2430"),
}

# Plot series colours (Okabe–Ito order) for panels that draw several curves.
SERIES_HEX = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
              "#000000")


def _rgb(hex_: str) -> np.ndarray:
    c = QColor(hex_)
    return np.array([c.red(), c.green(), c.blue()], dtype=np.float64)


_POS_RGB = _rgb(POSITIVE_HEX)
_NEG_RGB = _rgb(NEGATIVE_HEX)
_MID_RGB = np.array([250.0, 250.0, 248.0])
_BG_RGB = _rgb(BACKGROUND_HEX)


# ---------------------------------------------------------------------------- colour maps
def _build_diverging(n: int = 257) -> np.ndarray:
    """n x 3 uint8 table from orange (t = -1) through white (0) to blue (+1). The ramp is
    eased (t^0.8) so small values still show a tint."""
    t = np.linspace(-1.0, 1.0, n)
    u = np.abs(t) ** 0.8
    out = np.empty((n, 3))
    neg = t < 0
    out[neg] = _MID_RGB + (_NEG_RGB - _MID_RGB) * u[neg, None]
    out[~neg] = _MID_RGB + (_POS_RGB - _MID_RGB) * u[~neg, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


DIVERGING_LUT = _build_diverging()
DIVERGING_QCOLORS = [QColor(int(r), int(g), int(b)) for r, g, b in DIVERGING_LUT]
_DIVERGING_QCOLORS = DIVERGING_QCOLORS


def squash(values: ArrayLike, scale: float = 1.0) -> np.ndarray:
    """Map any real values into [-1, 1] for colouring: tanh(v / scale). 0 stays white, +-1 is
    about three quarters saturated, and large values saturate instead of overflowing."""
    v = np.asarray(values, dtype=np.float64)
    return np.tanh(np.nan_to_num(v, nan=0.0, posinf=50.0, neginf=-50.0) / scale)


def diverging_index(values: ArrayLike, scale: float = 1.0) -> np.ndarray:
    """Indices into DIVERGING_LUT for the values (vectorised)."""
    t = squash(values, scale)
    return np.rint((t + 1.0) * 0.5 * (len(DIVERGING_LUT) - 1)).astype(np.intp)


def diverging_colors(values: ArrayLike, scale: float = 1.0) -> list[QColor]:
    """A QColor per value from the blue–white–orange map (shared QColor objects: don't mutate)."""
    return [_DIVERGING_QCOLORS[i] for i in diverging_index(values, scale).tolist()]


def diverging_color(value: float, scale: float = 1.0) -> QColor:
    return QColor(_DIVERGING_QCOLORS[int(diverging_index([value], scale)[0])])


def diverging_rgba(values: ArrayLike, scale: float = 1.0) -> np.ndarray:
    """n x 4 uint8 RGBA for the values (for pyqtgraph image items / colour maps)."""
    rgb = DIVERGING_LUT[diverging_index(values, scale)]
    return np.concatenate([rgb, np.full(rgb.shape[:-1] + (1,), 255, np.uint8)], axis=-1)


def text_color_on(fill: QColor) -> QColor:
    """Dark text on light fills, white text on dark ones (relative luminance)."""
    lum = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF()
    return QColor("#FFFFFF") if lum < 0.5 else TEXT


def sign_color(weight: float) -> QColor:
    return QColor(POSITIVE if weight >= 0 else NEGATIVE)


def blend(color: QColor, onto: QColor, amount: float) -> QColor:
    """``amount`` of ``color`` over ``onto`` (0 = only onto, 1 = only color), opaque."""
    a = max(0.0, min(1.0, amount))
    return QColor(
        round(onto.red() + (color.red() - onto.red()) * a),
        round(onto.green() + (color.green() - onto.green()) * a),
        round(onto.blue() + (color.blue() - onto.blue()) * a),
    )


def weight_strength(abs_w: ArrayLike) -> np.ndarray:
    """|w| -> [0, 1): 1 - e^-|w|. 0.5 -> 0.39, 1 -> 0.63, 2 -> 0.86, 3 -> 0.95."""
    return 1.0 - np.exp(-np.abs(np.asarray(abs_w, dtype=np.float64)))


# ---------------------------------------------------------------------------- alignment ints
# (plain ints computed once: combining Qt enum flags in Python costs microseconds per paint)
ALIGN_CENTER = int(Qt.AlignmentFlag.AlignCenter.value)
ALIGN_LEFT_VCENTER = int((Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value)
ALIGN_LEFT = int(Qt.AlignmentFlag.AlignLeft.value)
ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight.value)
ALIGN_HCENTER = int(Qt.AlignmentFlag.AlignHCenter.value)
ALIGN_HCENTER_TOP = int((Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop).value)

# ---------------------------------------------------------------------------- fonts
def ui_font(point_size: float = 9.0, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    f.setStyleHint(QFont.StyleHint.SansSerif)
    return f


def mono_font(point_size: float = 8.0) -> QFont:
    f = QFont("DejaVu Sans Mono")
    f.setStyleHint(QFont.StyleHint.Monospace)
    f.setPointSizeF(point_size)
    return f


def format_value(v: float, digits: int = 3) -> str:
    """Short, honest number formatting for labels: 0.832, -15.7, 1.2e-05."""
    if v != v:  # NaN
        return "nan"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e4 or a < 1e-3:
        return f"{v:.{max(1, digits - 1)}e}"
    return f"{v:.{digits}g}" if a >= 1 else f"{v:.{digits}f}".rstrip("0").rstrip(".")
