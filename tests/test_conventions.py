"""Every row of docs/conventions.md, through srcad.grad.

Expected values are written from the documented convention (``g / 2`` to each
side of a tie, ``g / k`` to each of ``k`` tied maxima, ...), never copied from
srcad's output.  ``g`` is 1 for a scalar output and ``G`` (a non-uniform
cotangent) where a VJP makes the split visible.
"""

import math
import pathlib

import numpy as np
import pytest

import srcad

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "conventions.md"

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def close(actual, expected):
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0)


# --- abs at 0: 0 ------------------------------------------------------------------

def np_abs(x):
    return np.abs(x)


def np_absolute_sum(x):
    return np.sum(np.absolute(x))


def np_fabs(x):
    return np.fabs(x)


def builtin_abs(x):
    return abs(x)


def math_fabs(x):
    return math.fabs(x)


@pytest.mark.parametrize("f", [np_abs, np_fabs, builtin_abs, math_fabs], ids=lambda f: f.__name__)
def test_abs_at_zero_is_zero(f):
    close(srcad.grad(f)(0.0), 0.0)
    close(srcad.grad(f)(-2.0), -1.0)            # away from 0, the sign
    close(srcad.grad(f)(3.0), 1.0)


def test_abs_elementwise_at_zero():
    close(srcad.grad(np_absolute_sum)(np.array([0.0, -1.0, 2.0])), [0.0, -1.0, 1.0])


# --- ties of maximum / minimum: g / 2 to each ----------------------------------------

def np_maximum(x, y):
    return np.maximum(x, y)


def np_minimum(x, y):
    return np.minimum(x, y)


def np_fmax(x, y):
    return np.fmax(x, y)


def np_fmin(x, y):
    return np.fmin(x, y)


def builtin_max(x, y):
    return max(x, y)


def builtin_min(x, y):
    return min(x, y)


PAIRWISE = [np_maximum, np_minimum, np_fmax, np_fmin, builtin_max, builtin_min]


@pytest.mark.parametrize("f", PAIRWISE, ids=lambda f: f.__name__)
def test_pairwise_tie_splits_gradient_in_halves(f):
    g = 1.0
    close(srcad.grad(f, wrt=(0, 1))(1.5, 1.5), (g / 2, g / 2))


@pytest.mark.parametrize("f, winner", [(np_maximum, 0), (np_minimum, 1), (np_fmax, 0),
                                       (np_fmin, 1), (builtin_max, 0), (builtin_min, 1)],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_pairwise_without_tie_gives_all_to_the_winner(f, winner):
    expected = [0.0, 0.0]
    expected[winner] = 1.0
    close(srcad.grad(f, wrt=(0, 1))(2.0, 1.0), expected)


def test_elementwise_maximum_tie_with_cotangent():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 5.0, 0.0])
    G = np.array([4.0, 6.0, 8.0])
    dx, dy = srcad.vjp(np_maximum, wrt=(0, 1))(x, y, G)
    close(dx, [G[0] / 2, 0.0, G[2]])
    close(dy, [G[0] / 2, G[1], 0.0])


@pytest.mark.parametrize("f", [np_fmax, np_fmin], ids=lambda f: f.__name__)
def test_fmax_fmin_send_gradient_past_nan(f):
    close(srcad.grad(f, wrt=(0, 1))(np.nan, 1.0), (0.0, 1.0))
    close(srcad.grad(f, wrt=(0, 1))(1.0, np.nan), (1.0, 0.0))


# --- relu: np.maximum(x, 0) at 0 is a tie: g / 2 -----------------------------------------

def relu(x):
    return np.sum(np.maximum(x, 0.0))


def relu_int_zero(x):
    return np.sum(np.maximum(x, 0))


def relu_where_strict(x):
    return np.sum(np.where(x > 0, x, 0.0))


def relu_where_inclusive(x):
    return np.sum(np.where(x >= 0, x, 0.0))


@pytest.mark.parametrize("f", [relu, relu_int_zero], ids=lambda f: f.__name__)
def test_relu_at_zero_is_one_half(f):
    g = 1.0
    close(srcad.grad(f)(np.array([-1.0, 0.0, 2.0])), [0.0, g / 2, g])


def test_relu_alternatives_from_the_docs():
    x = np.array([-1.0, 0.0, 2.0])
    close(srcad.grad(relu_where_strict)(x), [0.0, 0.0, 1.0])        # relu'(0) = 0
    close(srcad.grad(relu_where_inclusive)(x), [0.0, 1.0, 1.0])     # relu'(0) = 1


# --- max / min reductions: g / k to each of k tied elements --------------------------

def np_max(x):
    return np.max(x)


def np_amax(x):
    return np.amax(x)


def np_min(x):
    return np.min(x)


def np_amin(x):
    return np.amin(x)


def method_max(x):
    return x.max()


def method_min(x):
    return x.min()


def max_over_rows(x):
    return np.max(x, axis=1)


@pytest.mark.parametrize("f, x, extreme", [
    (np_max, [1.0, 3.0, 3.0, 2.0], 3.0),
    (np_amax, [3.0, 3.0, 3.0, 2.0], 3.0),
    (method_max, [5.0, 1.0, 5.0, 5.0, 5.0], 5.0),
    (np_min, [1.0, 1.0, 1.0, 2.0], 1.0),
    (np_amin, [0.0, 4.0, 0.0], 0.0),
    (method_min, [2.0, 7.0, 9.0], 2.0),
], ids=["max-2-ties", "amax-3-ties", "method-max-4-ties", "min-3-ties", "amin-2-ties",
        "method-min-no-tie"])
def test_reduction_ties_share_the_gradient(f, x, extreme):
    x = np.array(x)
    k = np.count_nonzero(x == extreme)
    g = 1.0
    close(srcad.grad(f)(x), np.where(x == extreme, g / k, 0.0))


def test_reduction_ties_along_an_axis():
    x = np.array([[1.0, 1.0, 0.0],
                  [2.0, 2.0, 2.0],
                  [0.0, 3.0, 1.0]])
    G = np.array([6.0, 9.0, 4.0])
    k = (x == x.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
    expected = np.where(x == x.max(axis=1, keepdims=True), G[:, None] / k, 0.0)
    close(srcad.vjp(max_over_rows)(x, G), expected)


# --- where: g to x where the condition holds, else to y ----------------------------------

def where_sum(c, x, y):
    return np.sum(np.where(c, x, y))


def where_weighted(c, x, y):
    return np.where(c, x, y)


def test_where_routes_the_gradient():
    c = np.array([True, False, True])
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 2.0, 3.0])                    # equal values: the condition decides
    G = np.array([2.0, 3.0, 5.0])
    dx, dy = srcad.vjp(where_weighted, wrt=(1, 2))(c, x, y, G)
    close(dx, np.where(c, G, 0.0))
    close(dy, np.where(c, 0.0, G))


def test_where_with_scalar_branch():
    c = np.array([True, False])
    dx, dy = srcad.grad(where_sum, wrt=(1, 2))(c, np.array([1.0, 2.0]), 0.5)
    close(dx, [1.0, 0.0])
    close(dy, 1.0)                                   # a broadcast scalar collects the rest


# --- sqrt / cbrt at 0: inf; arcsin / arccos at +-1: +-inf ---------------------------------

def np_sqrt(x):
    return np.sqrt(x)


def np_cbrt(x):
    return np.cbrt(x)


def math_sqrt(x):
    return math.sqrt(x)


def np_arcsin(x):
    return np.arcsin(x)


def np_arccos(x):
    return np.arccos(x)


def sqrt_times_zero(x):
    return np.sqrt(x) * 0.0


@pytest.mark.parametrize("f", [np_sqrt, np_cbrt, math_sqrt], ids=lambda f: f.__name__)
def test_infinite_slope_at_zero_is_inf(f):
    assert srcad.grad(f)(0.0) == math.inf


def test_sqrt_at_zero_times_zero_gradient_is_nan():
    assert math.isnan(srcad.grad(sqrt_times_zero)(0.0))      # 0 * inf


@pytest.mark.parametrize("x", [1.0, -1.0])
def test_arcsin_arccos_at_the_ends(x):
    assert srcad.grad(np_arcsin)(x) == math.inf
    assert srcad.grad(np_arccos)(x) == -math.inf


# --- clip: bounds inclusive ----------------------------------------------------------

def clip_sum(a, lo, hi):
    return np.sum(np.clip(a, lo, hi))


def method_clip_sum(a):
    return np.sum(a.clip(0.0, 1.0))


def test_clip_at_and_outside_the_bounds():
    lo, hi = 0.0, 1.0
    a = np.array([lo, 0.5, hi, -1.0, 2.0])
    da, dlo, dhi = srcad.grad(clip_sum, wrt=(0, 1, 2))(a, lo, hi)
    inside = (a >= lo) & (a <= hi)                   # bounds inclusive
    close(da, np.where(inside, 1.0, 0.0))
    close(dlo, np.count_nonzero(a < lo))             # only values clipped up move lo
    close(dhi, np.count_nonzero(a > hi))
    close(srcad.grad(method_clip_sum)(a), np.where(inside, 1.0, 0.0))


# --- hypot at the origin, std of equal elements ----------------------------------------

def np_hypot(x, y):
    return np.hypot(x, y)


def math_hypot(x, y):
    return math.hypot(x, y)


def np_std(x):
    return np.std(x)


@pytest.mark.parametrize("f", [np_hypot, math_hypot], ids=lambda f: f.__name__)
def test_hypot_at_the_origin_is_zero(f):
    close(srcad.grad(f, wrt=(0, 1))(0.0, 0.0), (0.0, 0.0))
    close(srcad.grad(f, wrt=(0, 1))(3.0, 4.0), (3.0 / 5.0, 4.0 / 5.0))


def np_std_axis0(x):
    return np.sum(np.std(x, axis=0))


def test_std_of_equal_elements_is_zero():
    close(srcad.grad(np_std)(np.ones(3)), np.zeros(3))
    close(srcad.grad(np_std_axis0)(np.ones((1, 3))), np.zeros((1, 3)))   # identically 0


# --- the document and the rules' comment agree ----------------------------------------------

def test_conventions_document_lists_every_rule_comment_row():
    import srcad.rules.numpy as rules
    text = DOC.read_text()
    table = rules.__doc__.split("Conventions at points")[1]
    for line in table.splitlines():
        parts = line.split()
        if not parts or set(parts[0]) <= {"-"} or parts[0] == "primitive" or ":" in line:
            continue
        first = parts[0].rstrip(",")
        assert f"np.{first}" in text or f"`{first}" in text, first
