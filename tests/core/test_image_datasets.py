"""Datasets of images: image columns, CSV import and export of image rows, and the O-vs-X and
strokes generators (seed 001's 6 × 6 letters, shifts, noise, sides 5 to 28)."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core import datasets, image_datasets
from nnstudio.core.datasets import Dataset, DatasetError, ImageColumns

SEED_O = [[0, 0, 1, 1, 0, 0],
          [0, 1, 0, 0, 1, 0],
          [1, 0, 0, 0, 0, 1],
          [1, 0, 0, 0, 0, 1],
          [0, 1, 0, 0, 1, 0],
          [0, 0, 1, 1, 0, 0]]


def image_dataset(rows: int = 3, shape=(1, 2, 3), named=("a",)) -> Dataset:
    img = ImageColumns("pixels", shape, 0)
    width = img.size + len(named)
    X = np.arange(rows * width, dtype=float).reshape(rows, width)
    return Dataset(img.column_names() + list(named), ["y"], X, np.zeros((rows, 1)),
                   images=(img,))


# ---------------------------------------------------------------------- image columns
def test_image_columns_are_named_and_read_channel_by_channel_row_by_row():
    ds = image_dataset()
    assert ds.input_names[:3] == ["pixels[0][0][0]", "pixels[0][0][1]", "pixels[0][0][2]"]
    assert ds.input_names[3] == "pixels[0][1][0]" and ds.named_inputs == ["a"]
    assert ds.image_columns == 6 and ds.n_inputs == 7
    img = ds.image_data(0)
    assert img.shape == (3, 1, 2, 3) and img[1, 0, 1, 2] == ds.X[1, 5]
    assert np.shares_memory(img, ds.X)   # a view


def test_image_columns_survive_every_copy_and_the_dict_form():
    ds = image_dataset()
    for other in (ds.copy(), ds.rows(np.array([0, 2])), ds.with_rows(ds.X[:1], ds.Y[:1]),
                  Dataset.from_dict(ds.to_dict())):
        assert other.images == ds.images and other.input_names == ds.input_names
    d = ds.to_dict()
    assert d["inputs"] == [{"image": "pixels", "shape": [1, 2, 3]}, "a"]
    assert Dataset.from_dict(d) == ds
    assert ds != Dataset(ds.input_names, ds.target_names, ds.X, ds.Y)   # no image: another set


@pytest.mark.parametrize("make, message", [
    (lambda: Dataset(["p[0][0][0]", "x"], ["y"], [[1, 2]], [[0]],
                     images=(ImageColumns("pixels", (1, 1, 1), 0),)), "must be named"),
    (lambda: Dataset(["a", "pixels[0][0][0]"], ["y"], [[1, 2]], [[0]],
                     images=(ImageColumns("pixels", (1, 1, 1), 1),)), "must start at column 1"),
    (lambda: Dataset.from_dict({"inputs": [{"image": "pixels", "shape": [1, 200, 100]}],
                                "targets": ["y"], "X": [], "Y": []}), "more than the limit"),
    (lambda: Dataset.from_dict({"inputs": ["a", {"image": "pixels", "shape": [1, 2, 2]}],
                                "targets": ["y"], "X": [], "Y": []}), "before the named"),
    (lambda: Dataset.from_dict({"inputs": [{"image": "p[1]", "shape": [1, 2, 2]}],
                                "targets": ["y"], "X": [], "Y": []}), "without '\\['"),
    (lambda: Dataset.from_dict({"inputs": [{"image": "p", "shape": [1, 0, 2]}],
                                "targets": ["y"], "X": [], "Y": []}), "at least 1"),
    (lambda: Dataset.from_dict({"inputs": [{"image": "p", "shape": [1, 2, 2], "x": 1}],
                                "targets": ["y"], "X": [], "Y": []}), "exactly 'image'"),
])
def test_bad_image_columns_are_refused(make, message):
    with pytest.raises(DatasetError, match=message):
        make()


def test_named_columns_keep_their_limit_and_images_have_their_own():
    img = ImageColumns("pixels", (1, 40, 40), 0)   # 1,600 columns: more than MAX_COLUMNS
    ds = Dataset(img.column_names(), ["y"], np.zeros((2, 1600)), np.zeros((2, 1)),
                 images=(img,))
    assert ds.n_inputs == 1600 > datasets.MAX_COLUMNS


# ---------------------------------------------------------------------- CSV
def test_image_rows_round_trip_through_csv():
    ds = datasets.generate("o_vs_x", size=6, noise=0.2, seed=4)
    text = datasets.format_csv(ds)
    assert text.splitlines()[0].startswith("pixels[0][0][0],pixels[0][0][1],")
    again = datasets.parse_csv(text, labels=True, image=("pixels", (1, 6, 6)))
    assert again == ds
    plain = datasets.parse_csv(text, labels=True)   # without the image: 36 named columns
    assert plain.images == () and plain.n_inputs == 36


def test_a_csv_with_too_few_columns_for_the_image_is_refused():
    ds = datasets.generate("o_vs_x", size=2)
    text = datasets.format_csv(ds)
    with pytest.raises(DatasetError, match=r"the CSV has 36 input column\(s\) before the "
                       r"class label column; an image of 1 × 6 × 7 needs 42"):
        datasets.parse_csv(text, labels=True, image=("pixels", (1, 6, 7)))


def test_a_big_image_csv_is_read_past_the_named_column_limit():
    ds = datasets.generate("strokes", size=4, side=28)
    big = Dataset(ds.input_names + ["z"], ds.target_names,
                  np.c_[ds.X, np.ones(4)], ds.Y, ds.class_names, ds.images)
    img = ImageColumns("pixels", (1, 28, 28), 0)
    text = datasets.format_csv(big)
    again = datasets.parse_csv(text, labels=True, image=("pixels", img.shape))
    assert again == big and again.named_inputs == ["z"]


# ---------------------------------------------------------------------- generators
def test_o_vs_x_draws_seed_001s_letters_at_6_by_6():
    ds = datasets.generate("o_vs_x")
    assert len(ds) == 16 and ds.class_names == ["O", "X"] and ds.target_names == ["O", "X"]
    assert ds.images == (ImageColumns("pixels", (1, 6, 6), 0),)
    imgs = ds.image_data()[:, 0]
    assert imgs[0].tolist() == SEED_O
    assert imgs[0][:3, :3].tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]   # the seed's curve
    x = imgs[1]
    assert x.sum() == 12 and np.array_equal(x, x.T) and np.array_equal(x, x[:, ::-1])
    assert ds.labels().tolist() == [0, 1] * 8
    # every later image is the letter shifted by one pixel in some direction
    for k in range(2, 16):
        letter = imgs[k % 2]
        assert any(np.array_equal(imgs[k], image_datasets.shifted(letter, *s))
                   for s in image_datasets.SHIFTS), k
    assert set(np.unique(ds.X)) == {0.0, 1.0}


@pytest.mark.parametrize("side", [5, 7, 8, 12, 28])
def test_o_vs_x_draws_both_letters_at_every_side(side):
    ds = datasets.generate("o_vs_x", size=2, side=side)
    o, x = ds.image_data()[:, 0]
    assert o.shape == (side, side) and o.sum() > side and x.sum() >= 2 * (side - 2)
    assert not np.array_equal(o, x)
    assert o[side // 2, side // 2] == 0   # a ring: empty in the middle
    assert x[side // 2, side // 2] == 1 or x[(side - 1) // 2, (side - 1) // 2] == 1


def test_noise_flips_that_share_of_the_pixels():
    clean = datasets.generate("o_vs_x", size=400, seed=1)
    noisy = datasets.generate("o_vs_x", size=400, seed=1, noise=0.1)
    flipped = np.mean(clean.X != noisy.X)
    assert 0.08 < flipped < 0.12 and set(np.unique(noisy.X)) == {0.0, 1.0}
    with pytest.raises(DatasetError, match="from 0 to 1"):
        datasets.generate("o_vs_x", noise=2)


def test_strokes_are_four_kinds_of_line_that_fit():
    ds = datasets.generate("strokes", size=40, seed=2)
    assert ds.class_names == list(image_datasets.STROKES) and ds.images[0].shape == (1, 8, 8)
    length = (2 * 8) // 3
    for img, kind in zip(ds.image_data()[:, 0], ds.class_names_of(ds.Y), strict=True):
        r, c = np.nonzero(img)
        assert len(r) == length
        if kind == "horizontal":
            assert len(set(r)) == 1 and np.all(np.diff(c) == 1)
        elif kind == "vertical":
            assert len(set(c)) == 1 and np.all(np.diff(r) == 1)
        elif kind == "diagonal":
            assert np.all(np.diff(r) == 1) and np.all(np.diff(c) == 1)
        else:
            assert np.all(np.diff(r) == 1) and np.all(np.diff(c) == -1)


def test_sides_are_checked_and_only_image_generators_take_one():
    for side in (4, 29, 6.5, True):
        with pytest.raises(DatasetError, match="side must be a whole number from 5 to 28"):
            datasets.generate("o_vs_x", side=side)
    with pytest.raises(DatasetError, match="makes no images"):
        datasets.generate("xor", side=6)
    assert datasets.GENERATORS["o_vs_x"].side == 6 and datasets.GENERATORS["xor"].side is None
    assert datasets.generate("strokes", side=12, size=4).images[0].shape == (1, 12, 12)
