"""Number formatting and wording for the walkthrough: how every value and formula is written.

:func:`num` writes a number with a few significant digits, trailing zeros dropped and a true
minus sign ("−15.7"); :func:`term` brackets a negative number inside a formula ("(−1.43)");
:func:`join_sum` writes a sum with at most :data:`MAX_TERMS` terms spelled out; :func:`nice`
turns the ASCII formulas of the core tables into typeset ones and :func:`prose` their
sentences; :func:`grid` writes a filter or a feature map as rows of numbers;
:func:`param_name` names a parameter by the labels a learner sees ("weight x1 →
h1", "bias of h1").

Pure Python and NumPy (:func:`grid` reads an array); every other trace module writes numbers
through these functions only.
"""

from __future__ import annotations

import math

import numpy as np

from ..network import Network

MINUS = "\u2212"
TIMES = "\u00d7"
SIGMA = "\u03a3"
DIGITS = 3
MAX_ROWS = 4          # sample lines written out per step; the rest are summarised
MAX_TERMS = 6         # terms written out in one sum; the rest become "+ …"
MAX_GRID = 8          # rows and columns of a map written out in full; larger maps are cut

#: the short name of each loss in a formula ("SSR = …")
LOSS_LABELS = {"ssr": "SSR", "mse": "MSE", "mae": "MAE", "bce": "BCE", "cross_entropy": "CE"}


def num(v: float, digits: int = DIGITS) -> str:
    """A number with ``digits`` significant digits, trailing zeros dropped, a true minus sign.

    >>> num(-15.655), num(0.24), num(3.0), num(1.2e-7)
    ('−15.7', '0.24', '3', '1.2e−7')
    """
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "\u221e" if v > 0 else MINUS + "\u221e"
    if v == 0:
        return "0"
    av = abs(v)
    if av < 1e-4 or av >= 1e9:
        mant, exp = f"{v:.{max(digits - 1, 0)}e}".split("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        s = f"{mant}e{int(exp)}"
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(av)))
        s = f"{v:.{decimals}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        if s in ("-0", "0"):
            s = "0"
    return s.replace("-", MINUS)


def term(v: float, digits: int = DIGITS) -> str:
    """A number as a term inside a formula: negative numbers in brackets, "(−1.43)"."""
    s = num(v, digits)
    return f"({s})" if s.startswith(MINUS) else s


def join_sum(parts: list[str], more: int = 0) -> str:
    if not parts:
        return "0"
    s = " + ".join(parts)
    if more:
        s += f" + \u2026 ({more} more)"
    return s


def grid(values: object, digits: int = DIGITS, indent: str = "  ") -> list[str]:
    """A 2-D array as lines of right-aligned numbers (a filter, a feature map), cut to its
    first :data:`MAX_GRID` rows and columns with a note saying how big it is."""
    arr = np.asarray(values, dtype=np.float64)
    h, w = arr.shape
    cells = [[num(v, digits) for v in row[:MAX_GRID]] for row in arr[:MAX_GRID]]
    width = max(len(c) for row in cells for c in row)
    lines = [indent + "  ".join(c.rjust(width) for c in row) + ("  \u2026" if w > MAX_GRID else "")
             for row in cells]
    if h > MAX_GRID or w > MAX_GRID:
        lines.append(f"{indent}(the first {min(h, MAX_GRID)} rows and {min(w, MAX_GRID)} "
                     f"columns of {h} \u00d7 {w})")
    return lines


def prose(text: str) -> str:
    """A sentence from the core tables with true minus signs ("(−1, 1)"); words stay words."""
    return (text.replace(" - ", f" {MINUS} ").replace("(-", f"({MINUS}")
            .replace(" -", f" {MINUS}"))


def nice(text: str) -> str:
    """ASCII formulas from the core tables with true minus signs, multiplication signs and Σ
    for ``sum`` (a formula only: in a sentence, "the weighted sum" must stay a word; see
    :func:`prose`)."""
    return (prose(text).replace("-(", f"{MINUS}(").replace("-y", f"{MINUS}y")
            .replace(" * ", f" {TIMES} ").replace("delta_ij", "\u03b4_ij")
            .replace("sum_j", f"{SIGMA}_j")
            .replace("^(-z)", f"^({MINUS}z)").replace("^2", "\u00b2")
            .replace("sum ", SIGMA + " "))



def param_name(network: Network, pid: str) -> str:
    """A parameter as a learner reads it: "weight x1 → h1" or "bias of h1" (by labels), a
    trainable leaky slope's ("leaky slope of h1") or a filter's ("weight [0][1][2] of filter
    0 of convolution 'filters'")."""
    if pid in network.connections:
        c = network.connections[pid]
        return f"weight {network.neurons[c.source].label} \u2192 {network.neurons[c.target].label}"
    return network.slope_param_name(pid) or network.filter_param_name(pid) \
        or f"bias of {network.neurons[pid].label}"
