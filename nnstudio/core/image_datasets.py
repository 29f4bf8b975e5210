"""Drawing the images of the built-in image datasets: the letters O and X, and pen strokes.

Pure NumPy; :mod:`nnstudio.core.datasets` turns the drawings into datasets (its ``o_vs_x``
and ``strokes`` generators). Every image is square, one channel, pixels 0 (paper) or 1 (ink),
so a filter's dot product with it is a whole number when the filter's weights are.

- **O**: up to 8 × 8 the diamond ring ``|r − m| + |c − m| = side // 2`` (``m`` the centre);
  at 6 × 6 it is exactly seed 001's O, whose top-left 3 × 3 patch is the "curve"
  ``[[0, 0, 1], [0, 1, 0], [1, 0, 0]]``. Larger, a round ring about a quarter of the
  radius thick, one pixel inside the edges.
- **X**: the two diagonals (up to 8 × 8 corner to corner; larger, one pixel inside the edges
  and thicker).
- **Shifts**: a drawing moved by (rows, columns); what is pushed past an edge is lost.
- **Strokes**: a horizontal, vertical, diagonal (top left to bottom right) or anti-diagonal
  line of about two thirds of the side, at a random place where it fits.
- **Noise**: every pixel flips with probability ``noise``.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray

MIN_SIDE, MAX_SIDE = 5, 28
LETTERS = ("O", "X")
STROKES = ("horizontal", "vertical", "diagonal", "anti-diagonal")
#: every shift by at most one pixel in each direction but none (the order the generator uses)
SHIFTS = ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1))


def letter(name: str, side: int) -> Array:
    """The letter ``name`` ("O" or "X") drawn centred on a ``side × side`` image of 0/1."""
    r, c = np.mgrid[0:side, 0:side].astype(np.float64)
    m = (side - 1) / 2
    if name == "O":
        if side <= 8:
            ink = np.abs(r - m) + np.abs(c - m) == side // 2
        else:
            outer = m - 1.0
            d = np.hypot(r - m, c - m)
            ink = (d <= outer + 0.5) & (d > outer + 0.5 - max(1.0, side / 8))
    elif name == "X":
        if side <= 8:
            ink = (r == c) | (r + c == side - 1)
        else:
            w = side // 12
            inside = (r >= 1) & (r <= side - 2) & (c >= 1) & (c <= side - 2)
            ink = inside & ((np.abs(r - c) <= w) | (np.abs(r + c - (side - 1)) <= w))
    else:
        raise ValueError(f"no letter {name!r} (known: {', '.join(LETTERS)})")
    return ink.astype(np.float64)


def shifted(image: Array, rows: int, cols: int) -> Array:
    """``image`` moved down ``rows`` and right ``cols`` pixels (negative: up, left); pixels
    pushed past an edge are lost and blank ones come in."""
    out = np.zeros_like(image)
    h, w = image.shape[-2:]
    src_r = slice(max(0, -rows), h - max(0, rows))
    dst_r = slice(max(0, rows), h - max(0, -rows))
    src_c = slice(max(0, -cols), w - max(0, cols))
    dst_c = slice(max(0, cols), w - max(0, -cols))
    out[..., dst_r, dst_c] = image[..., src_r, src_c]
    return out


def stroke(kind: str, side: int, row: int, col: int, length: int) -> Array:
    """A stroke of ``length`` pixels starting at (row, col): along the row, down the column,
    down to the right ("diagonal") or down to the left ("anti-diagonal")."""
    img = np.zeros((side, side))
    k = np.arange(length)
    dr, dc = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1),
              "anti-diagonal": (1, -1)}[kind]
    img[row + dr * k, col + dc * k] = 1.0
    return img


def flip(rng: np.random.Generator, images: Array, noise: float) -> Array:
    """``images`` with every pixel flipped (0 ↔ 1) with probability ``noise``."""
    if noise <= 0:
        return images
    mask = rng.random(images.shape) < noise
    return np.where(mask, 1.0 - images, images)


def o_vs_x(rng: np.random.Generator, size: int, side: int,
           noise: float) -> tuple[Array, Array]:
    """``size`` images (size, 1, side, side) and their classes (0 = O, 1 = X): O and X
    alternate; the first O and X are centred, every later one is shifted by one of
    :data:`SHIFTS`, drawn from ``rng``; then the noise."""
    glyphs = np.stack([letter("O", side), letter("X", side)])
    classes = np.arange(size) % 2
    picks = rng.integers(0, len(SHIFTS), size)
    images = np.empty((size, 1, side, side))
    for i in range(size):   # (one small drawing per image: a dataset is made once, not trained)
        g = glyphs[classes[i]]
        images[i, 0] = g if i < 2 else shifted(g, *SHIFTS[picks[i]])
    return flip(rng, images, noise), classes


def strokes(rng: np.random.Generator, size: int, side: int,
            noise: float) -> tuple[Array, Array]:
    """``size`` images (size, 1, side, side) of strokes and their classes (the index in
    :data:`STROKES`, taking turns), each at a random place where it fits; then the noise."""
    length = max(3, (2 * side) // 3)
    classes = np.arange(size) % len(STROKES)
    free = side - length + 1
    images = np.empty((size, 1, side, side))
    starts = rng.integers(0, [side, free, free, free], size=(size, 4))
    for i in range(size):
        kind = STROKES[classes[i]]
        a, b, c, _ = starts[i]
        if kind == "horizontal":
            row, col = a, b
        elif kind == "vertical":
            row, col = b, a
        elif kind == "diagonal":
            row, col = b, c
        else:
            row, col = b, side - 1 - c
        images[i, 0] = stroke(kind, side, int(row), int(col), length)
    return flip(rng, images, noise), classes
