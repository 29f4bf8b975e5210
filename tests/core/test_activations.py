"""Activations: values and derivatives against closed forms, stability, display formulas."""

import math

import numpy as np
import pytest

from nnstudio.core import activations as acts

Z = np.array([-7.5, -2.0, -0.3, 0.2, 1.0, 4.0, 9.0])

CLOSED = {
    "identity": (lambda z, s: z, lambda z, s: np.ones_like(z)),
    "binary_step": (lambda z, s: (z > 0) * 1.0, lambda z, s: np.zeros_like(z)),
    "sigmoid": (lambda z, s: 1 / (1 + np.exp(-z)),
                lambda z, s: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (lambda z, s: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
             lambda z, s: 4 / (np.exp(z) + np.exp(-z)) ** 2),
    "relu": (lambda z, s: np.array([max(0.0, v) for v in z]), lambda z, s: (z > 0) * 1.0),
    "leaky_relu": (lambda z, s: np.array([v if v > 0 else s * v for v in z]),
                   lambda z, s: np.array([1.0 if v > 0 else s for v in z])),
    "softplus": (lambda z, s: np.log(1 + np.exp(z)), lambda z, s: 1 / (1 + np.exp(-z))),
}


def test_the_table_has_every_activation_of_the_issue():
    assert set(acts.NAMES) == {"identity", "binary_step", "sigmoid", "tanh", "relu",
                               "leaky_relu", "softplus", "softmax"}
    for name, a in acts.ACTIVATIONS.items():
        assert a.name == name
        assert a.title and a.note
        assert a.formula.startswith("a") and "z" in a.formula, name
        assert a.derivative_formula.startswith("da"), name
        assert a.has_slope == (name == "leaky_relu")
        assert a.elementwise == (name != "softmax")
    assert acts.ACTIVATIONS["relu"].kinks == (0.0,)
    assert acts.ACTIVATIONS["sigmoid"].kinks == ()


@pytest.mark.parametrize("name", sorted(CLOSED))
@pytest.mark.parametrize("slope", [0.01, 0.3])
def test_values_and_derivatives_match_closed_forms(name, slope):
    f, df = CLOSED[name]
    np.testing.assert_allclose(acts.apply(name, Z, slope), f(Z, slope), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(acts.derivative(name, Z, slope), df(Z, slope), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "identity", "leaky_relu"])
def test_derivatives_match_finite_differences(name):
    z = np.linspace(-6, 6, 41) + 0.013  # never exactly on the kink at 0
    h = 1e-6
    num = (acts.apply(name, z + h, 0.2) - acts.apply(name, z - h, 0.2)) / (2 * h)
    np.testing.assert_allclose(acts.derivative(name, z, 0.2), num, rtol=1e-7, atol=1e-9)


def test_sigmoid_and_softplus_are_finite_and_correct_at_plus_minus_1000():
    z = np.array([-1000.0, -745.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow at all
        s = acts.apply("sigmoid", z)
        sp = acts.apply("softplus", z)
        ds = acts.derivative("sigmoid", z)
        dsp = acts.derivative("softplus", z)
    for arr in (s, sp, ds, dsp):
        assert np.all(np.isfinite(arr))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    # the tails keep their relative accuracy
    assert s[2] == pytest.approx(math.exp(-40) / (1 + math.exp(-40)), rel=1e-14)
    assert s[1] == pytest.approx(math.exp(-745), rel=1e-6) or s[1] > 0
    assert sp[0] == 0.0
    assert sp[-1] == 1000.0
    assert sp[2] == pytest.approx(math.log1p(math.exp(-40)), rel=1e-14)
    assert sp[4] == pytest.approx(40.0 + math.log1p(math.exp(-40)), rel=1e-15)
    assert sp[3] == pytest.approx(math.log(2))
    assert dsp[0] == 0.0 and dsp[-1] == 1.0
    assert ds[0] == 0.0 and ds[-1] == 0.0 and ds[3] == 0.25
    # tanh saturates cleanly too
    assert np.array_equal(acts.apply("tanh", np.array([-1000.0, 1000.0])), [-1.0, 1.0])


def test_scalar_and_list_inputs_work():
    assert float(acts.apply("sigmoid", 0.0)) == 0.5
    assert acts.apply("relu", [-1.0, 2.0]).tolist() == [0.0, 2.0]
    assert float(acts.apply("identity", 3.5)) == 3.5


def test_softmax_example_from_seed_000():
    """Raw outputs [34, 32, 25] give 0.12 for the middle one (seed 000)."""
    a = acts.softmax(np.array([34.0, 32.0, 25.0]))
    assert round(float(a[1]), 2) == 0.12
    expect = np.exp([34.0, 32.0, 25.0]) / np.exp([34.0, 32.0, 25.0]).sum()
    np.testing.assert_allclose(a, expect, rtol=1e-14)
    assert a.sum() == pytest.approx(1.0, abs=1e-15)
    # the same through the table and row-wise on a batch
    np.testing.assert_allclose(acts.apply("softmax", [[34.0, 32.0, 25.0]])[0], a)


def test_softmax_with_huge_raw_values_is_finite_and_exact():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = acts.softmax(np.array([[1000.0, 999.0, -1000.0], [1e300, 0.0, -1e300]]))
        ls = acts.log_softmax(np.array([[1000.0, 999.0, -1000.0]]))
    assert np.all(np.isfinite(a))
    e = math.exp(-1)
    np.testing.assert_allclose(a[0], [1 / (1 + e), e / (1 + e), 0.0], rtol=1e-15, atol=1e-300)
    np.testing.assert_array_equal(a[1], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(ls[0, :2], [-math.log1p(e), -1 - math.log1p(e)], rtol=1e-15)
    assert np.isfinite(ls).all()


def test_softmax_derivative_is_the_jacobian_diagonal():
    z = np.array([0.3, -1.2, 2.0])
    a = acts.softmax(z)
    h = 1e-6
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        num = (acts.softmax(z + e)[i] - acts.softmax(z - e)[i]) / (2 * h)
        assert acts.derivative("softmax", z)[i] == pytest.approx(num, rel=1e-8)
        assert acts.derivative("softmax", z)[i] == pytest.approx(a[i] * (1 - a[i]))


def test_unknown_activation_is_refused_by_name():
    with pytest.raises(KeyError, match="unknown activation 'swish'"):
        acts.get("swish")
