"""The clean-up passes of srcad/passes: gradients through the code they
rewrite match central finite differences, the code is shorter, and nothing
that may raise is dropped.

Each pass's own before/after example is a doctest (tests/test_doctests.py).
"""

import math

import numpy as np
import pytest

import srcad
from srcad import passes
import srcad.reverse

from helpers import assert_close, check_case, numerical_grad

RNG = np.random.default_rng(14)


def copies_and_negations(x, y):
    a = x + y                 # dx = da, dy = da: copies
    b = a - x * y             # dmul = -db: a negation read in a sum
    c = b - (x - y)
    return c * a + x ** 2 - y ** 3


def copies_in_loop(x, y):
    s = x
    for i in range(4):
        t = s + y             # dt copies ds inside the reversed loop
        s = t * 0.5 - y
    return s * s


def copies_in_branch(x, y):
    if x > 0.0:
        z = x + y
    else:
        z = y - x
    return z * z - x


def fan_out(x):
    a = x * x
    return a * a + x * x


def negation_reused(x, y):
    n = -x                    # read in a sum and outside one
    return (y + n) * n + np.sin(n)


@pytest.mark.parametrize("f, args", [
    (copies_and_negations, (0.7, -1.3)),
    (copies_in_loop, (0.4, 1.1)),
    (copies_in_branch, (0.4, 1.1)),
    (copies_in_branch, (-0.4, 1.1)),
    (fan_out, (0.9, )),
    (negation_reused, (0.3, 0.8)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_gradients_match_finite_differences_on_floats(f, args):
    d = srcad.grad(f, wrt=tuple(range(len(args))))
    got = d(*args)
    got = got if isinstance(got, tuple) else (got,)
    for i, g in enumerate(got):
        assert_close(g, numerical_grad(f, args, i))


@pytest.mark.parametrize("f", [copies_and_negations, copies_in_loop, negation_reused])
def test_gradients_match_finite_differences_on_arrays(f):
    args = (RNG.standard_normal(5), RNG.uniform(0.5, 1.5, 5))
    check_case(lambda x, y: np.sum(f(x, y)), args, (0, 1))


def test_hessian_through_cleaned_code():
    """forward over reverse reads the cleaned gradient code"""
    x = np.array([0.7, -0.2])
    h = srcad.hessian(hess_target)(x)
    g = srcad.grad(hess_target)
    expected = np.array([numerical_grad(lambda v: g(v)[j], (x,), 0) for j in range(2)])
    assert_close(h, expected, rtol=1e-5, atol=1e-6)


def hess_target(v):
    a = v[0] + v[1]
    b = a - v[0] * v[1]
    return b * a + v[0] ** 2


def test_seed_example_reads_like_the_hand_written_gradient():
    source = srcad.grad(copies_and_negations, wrt=(0, 1)).source
    assert "np.where" not in source and "2 - 1" not in source      # x ** 2 folded
    assert "= dc\n" not in source                                    # no plain copies


def test_constant_exponents_are_folded():
    source = srcad.grad(square_of).source
    assert "np.where" not in source
    assert_close(srcad.grad(square_of)(1.7), numerical_grad(square_of, (1.7,), 0))


def square_of(x):
    return x ** 2 + x ** 1


def dead_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + 1.0           # inactive, and its value is never read
    return x * x


def test_dead_loop_over_a_parameter_still_raises():
    """``for i in range(n)`` with a float n raises in f, so in grad(f) too"""
    with pytest.raises(TypeError):
        dead_loop(1.0, 2.5)
    with pytest.raises(TypeError):
        srcad.grad(dead_loop)(1.0, 2.5)
    assert_close(srcad.grad(dead_loop)(1.5, 3), 3.0)


def log_of(x):
    return math.log(x) * 0.0 + x


def test_dead_value_that_may_raise_still_raises():
    with pytest.raises(ValueError):
        srcad.grad(log_of)(-1.0)


def test_pass_order_is_one_list():
    # dead code runs after the passes that shorten; only the two that need each
    # adjoint's final reads in a reversed loop come after it
    assert passes.PASSES[-3:] == (passes.dead_code.eliminate_dead_code,
                                  passes.owned.own_accumulators,
                                  passes.last_adjoint.skip_dead_last_adjoints)
    assert not hasattr(srcad.reverse.ReverseGenerator, "_own_accumulators")
    assert not hasattr(srcad.reverse, "skip_dead_last_adjoints")


# --- repeat_to left to broadcasting (passes/repeat.py) ----------------------------

def log_sum_exp_rows(a):
    m = np.max(a, axis=1, keepdims=True)
    z = a - m
    return np.sum(z - np.log(np.sum(np.exp(z), axis=1, keepdims=True)))


def mean_of_logaddexp(w, X):
    return np.mean(np.logaddexp(0.0, X @ w))


def reduced_in_loop(a):
    s = 0.0
    for i in range(3):
        a = np.tanh(a) * np.sum(a, axis=0, keepdims=True)
        s = s + np.sum(a * a)
    return s


def sum_times_other(a, b):
    return np.sum(np.sum(a, axis=1, keepdims=True) * b)      # b broadcasts: the spread stays


@pytest.mark.parametrize("f, shapes", [
    (log_sum_exp_rows, [(4, 5)]),
    (mean_of_logaddexp, [(3,), (6, 3)]),
    (reduced_in_loop, [(3, 2)]),
    (sum_times_other, [(3, 4), (3, 1)]),
    (sum_times_other, [(3, 1), (3, 4)]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_reduction_adjoints_match_finite_differences(f, shapes):
    args = tuple(RNG.standard_normal(s) for s in shapes)
    check_case(f, args, range(len(args)))


def test_max_with_ties_matches_the_tie_rule():
    """ties share the cotangent equally (the rule's m_hit / count, now broadcast)"""
    a = np.array([[1.0, 3.0, 3.0], [2.0, 0.5, 2.0]])
    got = srcad.grad(lambda_max)(a)
    assert_close(got, np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]) * 2.0)


def lambda_max(a):
    return np.sum(np.max(a, axis=1, keepdims=True) * 2.0)


def test_spreads_are_gone_where_broadcasting_does_it():
    source = srcad.grad(log_sum_exp_rows).source
    assert "repeat_to(dsum" not in source and "repeat_to(m," not in source
    source = srcad.grad(sum_times_other, wrt=(0, 1)).source
    assert "repeat_to(" in source


# --- dead values that cannot raise go; those that may raise stay ----------------

def dead_division(x, n):
    q = x / n                 # ZeroDivisionError on Python floats
    return x * x


def dead_numpy_division(x, n):
    q = np.sum(x) / n         # a NumPy scalar: inf and a warning, never an error
    return np.sum(x * x)


def mean_loss(x):
    return -np.sum(x * x) / x.shape[0]


def test_dead_python_division_still_raises():
    with pytest.raises(ZeroDivisionError):
        dead_division(1.5, 0.0)
    with pytest.raises(ZeroDivisionError):
        srcad.grad(dead_division)(1.5, 0.0)


def test_dead_numpy_division_goes():
    x = RNG.standard_normal(3)
    source = srcad.grad(dead_numpy_division).source
    assert "/ n" not in source
    assert_close(srcad.grad(dead_numpy_division)(x, 0.0), numerical_grad(lambda v: np.sum(v * v), (x,), 0))


def test_an_output_divided_by_a_shape_entry_is_a_proven_scalar():
    """-np.sum(...) / x.shape[0]: no output check, and the output is not computed"""
    x = RNG.standard_normal(4)
    code = "\n".join(line for line in srcad.grad(mean_loss).source.splitlines()
                     if not line.strip().startswith("#"))
    assert "check_scalar" not in code and "np.sum(" not in code and "repeat_to" not in code
    assert_close(srcad.grad(mean_loss)(x), numerical_grad(mean_loss, (x,), 0))
