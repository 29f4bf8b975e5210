"""Numbers in lessons: reading one as a person writes it, its written precision, and the one
rule for "within a tolerance" that quiz answers and challenge goals share."""

from __future__ import annotations

import math
import re

from ..trace.formatting import MINUS

_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def parse_number(text: str, *, fractions: bool = False) -> float:
    """A finite decimal number as a person writes it: ``1.57``, ``−0.75`` (a true minus sign
    is fine), ``1e-4``; with ``fractions`` also ``1/2``. Raises ValueError with a message that
    says what is wrong (a decimal comma gets a hint to write a point)."""
    t = text.strip().replace(MINUS, "-")
    if not t:
        raise ValueError("a number is missing")
    if fractions and t.count("/") == 1:
        top, _, bottom = t.partition("/")
        num, den = parse_number(top), parse_number(bottom)
        if den == 0:
            raise ValueError(f"{text.strip()!r} divides by zero")
        return num / den
    if not _DECIMAL.match(t):
        fixed = t.replace(",", ".")
        hint = f"; write decimals with a point: {fixed}" \
            if t.count(",") == 1 and "." not in t and _DECIMAL.match(fixed) else ""
        raise ValueError(f"{text.strip()!r} is not a number{hint}")
    v = float(t)
    if not math.isfinite(v):
        raise ValueError(f"{text.strip()!r} is too large")
    return v


def precision(text: str) -> float:
    """Half a unit in the last digit written: '1.57' → 0.005, '405' → 0.5, '1.2e-4' → 5e-6
    (``text`` as :func:`parse_number` accepts it)."""
    t = text.strip().replace(MINUS, "-").lower()
    mantissa, _, exponent = t.partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def within(value: float, target: float, tolerance: float) -> bool:
    """|value − target| ≤ tolerance, with a hair of slack for binary rounding, so that 2.62
    counts as inside 2.61 ± 0.01 and 1.575 inside 1.57 ± 0.005, as a person reads them."""
    slack = 1e-9 * max(abs(target), tolerance, 1e-300)
    return abs(value - target) <= tolerance + slack
