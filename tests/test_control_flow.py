"""Reverse mode through control flow, against central finite differences.

Every construct srcad's reverse mode supports (if/elif/else, conditional
expressions, and/or/not, for over range/arrays/lists/enumerate/zip/reversed,
while, break, continue, for-else, while-else, early and multiple returns) is
differentiated here at points away from branch boundaries, on the paths
where a branch or jump is taken and where it is not.  Expected gradients come
from ``tests/helpers.py`` (central differences, float64), never from srcad.

The second half is a property test: hypothesis writes small random programs
mixing arithmetic, ``if``, ``for``, ``while``, ``break`` and ``continue`` to a
real module file (srcad reads source), and compares srcad's gradient with
central differences at points where no branch test is near its threshold.
"""

import importlib.util
import itertools
import math
import sys

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(31337)
TOL = dict(rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------
# functions under test (module level: srcad reads their source)
# --------------------------------------------------------------------------

# -- branches ---------------------------------------------------------------

def if_elif_else_nested(x, y):
    if x > 1.0:
        if y > 0.0:
            z = x * y
        else:
            z = x - y * y
    elif x > -1.0:
        z = np.sin(x) * y
    else:
        z = x * x * y
    return z


def if_without_else(x, y):
    z = x * y
    if x > 0.0:
        z = np.sin(z) + x
    return z * y


def if_reassigns_its_test(x):
    c = x > 0.0
    if c:
        c = x * 2.0
        x = c * c
    return x


def branch_on_array(x, w):
    if np.sum(x) > 0.0:
        y = x * w
    else:
        y = np.tanh(x) - w
    return np.sum(y * y)


def conditional_expression(x, y):
    z = x * y if x > y else x / y
    return np.sin(x if x > 0.0 else -x) + z


def nested_conditional_expression(x):
    return x * x if x > 1.0 else (np.exp(x) if x > -1.0 else -x * 3.0)


def and_or_not(x, y):
    if x > 0.0 and y > 0.0:
        z = x * y
    elif x > 0.0 or not y < 1.0:
        z = x + y * y
    else:
        z = np.tanh(x * y)
    return z


def bool_value_in_arithmetic(x, y):
    pos = x > 0.0 and y > 0.0
    return x * y * pos + (x - y) * (not pos)


# -- for loops over ranges -----------------------------------------------------

def for_range(x, n):
    s = 0.0
    for i in range(n):
        s = np.sin(s) * x + i * x
    return s


def for_range_start_stop_step(x, start, stop, step):
    s = x
    for i in range(start, stop, step):
        s = np.sin(s) * x + i * 0.1
    return s


def for_range_negative_step(x):
    s = x
    for i in range(7, 0, -2):
        s = np.tanh(s * i) + x
    return s


def for_range_computed_bounds(x, v):
    n = len(v) * 2 - 1
    s = x
    for i in range(1, n, len(v) // 2):
        s = s * v[i % len(v)] + np.sin(x * i)
    return s


def for_range_bound_changes_in_loop(x, n):
    s = x
    for i in range(n):
        n = n - 1                      # the loop's bound was fixed when it started
        s = s * x + n
    return s


def for_over_array_rows(X, w):
    s = 0.0
    for row in X:
        s = np.tanh(s + np.sum(row * w))
    return s


def for_over_constant_list(x):
    for c in [0.5, 1.5, -2.0]:
        x = np.sin(x * c)
    return x


def for_over_constant_tuple(x):
    s = 0.0
    for c in (2.0, -1.0, 0.25):
        s = s * x + c
    return s


def for_over_list_of_arrays(x, w):
    for m in [w, 2.0 * w, w * w]:
        x = np.tanh(x * m)
    return np.sum(x)


def for_enumerate(X, w):
    s = 0.0
    for i, row in enumerate(X):
        s = np.sin(s) + i * np.sum(row * w)
    return s


def for_zip(xs, ys):
    s = 1.0
    for a, b in zip(xs, ys):
        s = s * a + np.sin(b)
    return s


def for_zip_three(xs, ys, zs):
    s = 0.0
    for a, b, c in zip(xs, ys, zs):
        s = np.tanh(s * a + b) * c
    return s


def for_reversed(X, h):
    for row in reversed(X):
        h = np.tanh(h * row + 0.1)
    return np.sum(h)


def for_reversed_range(x, n):
    s = x
    for i in reversed(range(n)):
        s = np.sin(s) * (i + 1.0) + x
    return s


# -- while loops ---------------------------------------------------------------

def while_data_dependent(x):
    s = 1.0
    while s < 10.0:
        s = s * x + 0.5
    return s


def while_counter(x, n):
    i = 0
    s = x
    while i < n:
        s = np.sin(s) + x * i
        i = i + 1
    return s


def while_and_condition(x, y):
    i = 0
    s = x
    while i < 20 and s < 50.0:
        s = s * y + x
        i = i + 1
    return s


def while_on_array(v, w):
    while np.sum(v * v) < 20.0:
        v = v * w + 0.25
    return np.sum(v)


# -- nesting -------------------------------------------------------------------

def nested_loops(x, w):
    s = x
    for i in range(3):
        for j in range(i + 1):
            s = np.sin(s * w) + x * j
    return s


def nested_loops_inner_bound_from_state(x):
    m = 1
    s = x
    for i in range(3):
        m = m + i
        for j in range(m):
            s = s * 0.9 + np.sin(x + j)
    return s


def nested_while_in_for(x):
    s = x
    for i in range(3):
        t = 0.5
        while t < 4.0:
            t = t * 2.0 + x * x
            s = s + t * i
    return s


def while_in_for_varying_trips(x):
    s = x
    for i in range(3):
        t = 0.5 + i                    # the inner loop runs 3, 2, then 1 times
        while t < 4.0:
            t = t * 2.0 + x * x
            s = s + t * i
    return s


def branch_in_loop(x, n):
    s = 0.0
    for i in range(n):
        if x > 0.0 and i < 3:
            s = s + x * i
        else:
            s = s - x
    return s


def data_dependent_branch_in_loop(x, y):
    s = x
    for i in range(6):
        if s > 0.0:
            s = s - y * 1.5
        else:
            s = s + x * x
    return s


def loop_in_branch(x, y):
    if x > 0.0:
        for i in range(4):
            x = x * y + 0.1
    else:
        while x < 3.0:
            x = x + y * y
    return x


# -- break and continue --------------------------------------------------------

def for_break(x, limit):
    s = x
    for i in range(10):
        s = s * x + 0.5
        if s > limit:
            break
    return s


def while_break(x):
    s = x
    i = 0
    while i < 10:
        s = np.sin(s) + x
        if s > 2.5:
            break
        i = i + 1
    return s * x


def for_continue(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            continue
        s = s + x * i
        s = np.sin(s)
    return s


def data_dependent_continue(x, y):
    s = x
    for i in range(6):
        t = np.sin(s * (i + 1))
        if t < 0.0:
            continue
        s = s + t * y
    return s


def while_continue(x):
    i = 0
    s = x
    while i < 6:
        i = i + 1
        if i == 3:
            continue
        s = s * x + np.sin(s)
    return s


def break_in_inner_loop(x):
    s = x
    for i in range(3):
        for j in range(5):
            s = s * 1.1 + x
            if s > 4.0 * (i + 1):
                break
        s = s / 3.0
    return s


def break_and_continue(x, y):
    s = x
    for i in range(8):
        if i == 1:
            continue
        s = s * y + np.tanh(x)
        if s > 6.0:
            break
    return s


def for_else(x, limit):
    s = x
    for i in range(5):
        s = s * x
        if s > limit:
            break
    else:
        s = s * 100.0 + x
    return s


def for_else_without_break(x):
    s = x
    for i in range(3):
        s = np.sin(s) + x
    else:
        s = s * s
    return s


def while_else(x, limit):
    s = x
    i = 0
    while i < 5:
        s = s * x + 0.1
        if s > limit:
            break
        i = i + 1
    else:
        s = -s * x
    return s


# -- returns -------------------------------------------------------------------

def early_return(x, y):
    if x < 0.0:
        return x * y
    z = np.sin(x) * y
    return z * z


def multiple_returns(x):
    if x > 2.0:
        return x * x
    elif x > 0.0:
        return np.sin(x) * 3.0
    elif x > -2.0:
        return np.exp(x)
    return -x


def return_in_loop(x, y):
    s = x
    for i in range(10):
        s = s * y + x
        if s > 5.0:
            return s * x
    return -s


def return_in_while(x):
    s = x
    while True:
        s = s * 1.5 + x
        if s > 7.0:
            return s * s
        if s < -7.0:
            return x


def return_in_nested_loops(x):
    s = x
    for i in range(4):
        for j in range(4):
            s = np.sin(s) + x * (j + 1)
            if s > 6.0:
                return s * x
    return s + 1.0


def return_in_for_else(x):
    for i in range(3):
        x = x * 1.5
        if x > 10.0:
            break
    else:
        return x * x
    return x


# -- overwriting and accumulation ---------------------------------------------

def sin_repeated(x):
    for i in range(6):
        x = np.sin(x)
    return x


def sin_repeated_array(x):
    for i in range(6):
        x = np.sin(x) * 1.5 + x * x * 0.1
    return np.sum(x)


def overwrite_two_names(x, y):
    for i in range(4):
        t = x * y
        x = np.sin(t) + y
        y = np.cos(t) * x
    return x * y


def shared_weight(x, w):
    for i in range(5):
        x = np.tanh(w * x + 0.1)
    return np.sum(x * x)


def rnn_bptt(W, U, xs, h):
    for t in range(len(xs)):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)


def rnn_with_outputs(W, V, xs, h):
    loss = 0.0
    for x in xs:
        h = np.tanh(W @ h + x)
        y = V @ h
        loss = loss + np.sum(y * y)
    return loss


def accumulate_into_array(x, w):
    total = np.zeros(3)
    for i in range(4):
        total = total + w * x ** i
    return np.sum(total * total)


# --------------------------------------------------------------------------
# cases: (id, function, args, wrt)
# --------------------------------------------------------------------------

def rand(*shape, scale=1.0):
    return scale * RNG.standard_normal(shape)


X34 = rand(3, 4)
W4 = rand(4, scale=0.5)

CASES = [
    # if / elif / else, nested: every leaf
    ("if-outer-inner-then", if_elif_else_nested, (2.0, 0.7), (0, 1)),
    ("if-outer-inner-else", if_elif_else_nested, (2.0, -0.7), (0, 1)),
    ("if-elif", if_elif_else_nested, (0.3, 0.7), (0, 1)),
    ("if-else", if_elif_else_nested, (-2.0, 0.7), (0, 1)),
    ("if-no-else-taken", if_without_else, (0.8, 1.3), (0, 1)),
    ("if-no-else-not-taken", if_without_else, (-0.8, 1.3), (0, 1)),
    ("if-reassigns-test-taken", if_reassigns_its_test, (0.7,), (0,)),
    ("if-reassigns-test-not-taken", if_reassigns_its_test, (-0.7,), (0,)),
    ("if-array-then", branch_on_array, (np.abs(rand(4)) + 0.1, rand(4)), (0, 1)),
    ("if-array-else", branch_on_array, (-np.abs(rand(4)) - 0.1, rand(4)), (0, 1)),
    # conditional expressions
    ("ifexp-then", conditional_expression, (1.5, 0.5), (0, 1)),
    ("ifexp-else", conditional_expression, (-1.5, 0.5), (0, 1)),
    ("ifexp-nested-1", nested_conditional_expression, (1.7,), (0,)),
    ("ifexp-nested-2", nested_conditional_expression, (0.4,), (0,)),
    ("ifexp-nested-3", nested_conditional_expression, (-1.6,), (0,)),
    # and / or / not
    ("and-true", and_or_not, (0.6, 0.8), (0, 1)),
    ("and-false-or-left", and_or_not, (0.6, -0.8), (0, 1)),
    ("or-right-not", and_or_not, (-0.6, 1.8), (0, 1)),
    ("and-or-all-false", and_or_not, (-0.6, 0.3), (0, 1)),
    ("bool-value-true", bool_value_in_arithmetic, (0.6, 0.8), (0, 1)),
    ("bool-value-false", bool_value_in_arithmetic, (0.6, -0.8), (0, 1)),
    # for over range
    ("range-n", for_range, (0.7, 5), (0,)),
    ("range-zero-trips", for_range, (0.7, 0), (0,)),
    ("range-start-stop-step", for_range_start_stop_step, (0.9, 2, 11, 3), (0,)),
    ("range-negative-step-args", for_range_start_stop_step, (0.9, 9, -2, -3), (0,)),
    ("range-empty", for_range_start_stop_step, (0.9, 5, 1, 2), (0,)),
    ("range-negative-step-literal", for_range_negative_step, (0.3,), (0,)),
    ("range-computed-bounds", for_range_computed_bounds,
     (0.4, np.array([2.0, 0.9, -0.7, 1.1])), (0, 1)),
    ("range-bound-changes-in-loop", for_range_bound_changes_in_loop, (0.8, 4), (0,)),
    ("reversed-range", for_reversed_range, (0.4, 4), (0,)),
    # for over sequences
    ("array-rows", for_over_array_rows, (X34, W4), (0, 1)),
    ("constant-list", for_over_constant_list, (0.8,), (0,)),
    ("constant-tuple", for_over_constant_tuple, (1.3,), (0,)),
    ("list-of-arrays", for_over_list_of_arrays, (rand(4), rand(4)), (0, 1)),
    ("enumerate", for_enumerate, (X34, W4), (0, 1)),
    ("zip", for_zip, (rand(5), rand(5)), (0, 1)),
    ("zip-unequal", for_zip, (rand(5), rand(3)), (0, 1)),
    ("zip-three", for_zip_three, (rand(4), rand(4), rand(4)), (0, 1, 2)),
    ("reversed-rows", for_reversed, (X34, rand(4)), (0, 1)),
    # while
    ("while-data-dependent-few", while_data_dependent, (3.0,), (0,)),
    ("while-data-dependent-many", while_data_dependent, (1.3,), (0,)),
    ("while-counter", while_counter, (0.6, 5), (0,)),
    ("while-counter-zero-trips", while_counter, (0.6, 0), (0,)),
    ("while-and-counter-stops", while_and_condition, (0.1, 1.02), (0, 1)),
    ("while-and-value-stops", while_and_condition, (0.5, 1.7), (0, 1)),
    ("while-array", while_on_array, (np.array([0.5, -0.3, 0.8]), np.array([1.6, 1.3, 1.45])), (0, 1)),
    # nesting
    ("nested-loops", nested_loops, (0.6, 1.2), (0, 1)),
    ("nested-inner-bound-from-state", nested_loops_inner_bound_from_state, (0.35,), (0,)),
    ("while-in-for", nested_while_in_for, (0.3,), (0,)),
    ("while-in-for-varying-trips", while_in_for_varying_trips, (0.3,), (0,)),
    ("branch-in-loop-pos", branch_in_loop, (1.5, 5), (0,)),
    ("branch-in-loop-neg", branch_in_loop, (-1.5, 5), (0,)),
    ("data-branch-in-loop", data_dependent_branch_in_loop, (0.7, 0.4), (0, 1)),
    ("loop-in-branch-for", loop_in_branch, (0.5, 1.3), (0, 1)),
    ("loop-in-branch-while", loop_in_branch, (-0.5, 1.1), (0, 1)),
    # break / continue
    ("break-taken", for_break, (1.5, 4.0), (0,)),
    ("break-not-taken", for_break, (0.5, 4.0), (0,)),
    ("while-break-taken", while_break, (1.3,), (0,)),
    ("while-break-not-taken", while_break, (0.4,), (0,)),
    ("continue-static", for_continue, (0.4, 6), (0,)),
    ("continue-data", data_dependent_continue, (0.9, 0.7), (0, 1)),
    ("continue-while", while_continue, (0.7,), (0,)),
    ("break-inner-loop", break_in_inner_loop, (0.8,), (0,)),
    ("break-and-continue-taken", break_and_continue, (0.8, 1.9), (0, 1)),
    ("break-and-continue-not-taken", break_and_continue, (0.2, 0.5), (0, 1)),
    # for-else / while-else
    ("for-else-broke", for_else, (1.5, 3.0), (0,)),
    ("for-else-ran", for_else, (1.1, 3.0), (0,)),
    ("for-else-no-break", for_else_without_break, (0.6,), (0,)),
    ("while-else-broke", while_else, (1.6, 3.0), (0,)),
    ("while-else-ran", while_else, (0.5, 3.0), (0,)),
    # returns
    ("early-return-taken", early_return, (-0.6, 1.4), (0, 1)),
    ("early-return-not-taken", early_return, (0.6, 1.4), (0, 1)),
    ("multiple-returns-1", multiple_returns, (2.5,), (0,)),
    ("multiple-returns-2", multiple_returns, (1.2,), (0,)),
    ("multiple-returns-3", multiple_returns, (-1.2,), (0,)),
    ("multiple-returns-4", multiple_returns, (-2.5,), (0,)),
    ("return-in-loop-taken", return_in_loop, (1.2, 1.5), (0, 1)),
    ("return-in-loop-not-taken", return_in_loop, (0.1, 0.5), (0, 1)),
    ("return-in-while-first", return_in_while, (1.3,), (0,)),
    ("return-in-while-second", return_in_while, (-1.3,), (0,)),
    ("return-in-nested-loops-taken", return_in_nested_loops, (0.7,), (0,)),
    ("return-in-nested-loops-not-taken", return_in_nested_loops, (0.2,), (0,)),
    ("return-in-for-else-ran", return_in_for_else, (0.9,), (0,)),
    ("return-in-for-else-broke", return_in_for_else, (4.5,), (0,)),
    # overwriting and accumulation
    ("sin-repeated", sin_repeated, (1.1,), (0,)),
    ("sin-repeated-array", sin_repeated_array, (rand(5),), (0,)),
    ("overwrite-two-names", overwrite_two_names, (0.4, 0.9), (0, 1)),
    ("shared-weight-scalar", shared_weight, (0.5, 0.8), (0, 1)),
    ("shared-weight-array", shared_weight, (rand(4), rand(4)), (0, 1)),
    ("rnn-bptt", rnn_bptt, (rand(4, 4, scale=0.5), rand(4, 3, scale=0.5), rand(6, 3), rand(4)),
     (0, 1, 2, 3)),
    ("rnn-with-outputs", rnn_with_outputs, (rand(3, 3, scale=0.5), rand(2, 3), rand(5, 3), rand(3)),
     (0, 1, 2, 3)),
    ("accumulate-into-array", accumulate_into_array, (0.7, rand(3)), (0, 1)),
]


# Bugs found while writing these tests, now fixed; the minimal reproductions stay below.
TRIPS_NOT_SAVED = ("srcad bug: the trip counter of an inner loop with a break (or an inner while) "
                   "is a plain variable overwritten by every outer iteration, not saved on a stack; "
                   "the reverse sweep replays every outer iteration with the last inner trip count "
                   "(wrong gradient, or 'pop from empty list')")
LIST_OF_VARIED = ("srcad bug: for over a list literal whose elements depend on wrt calls "
                  "zeros_like(list) -> np.result_type(list, float) -> TypeError "
                  "'Field elements must be 2- or 3-tuples'")
VALUE_RESTORED = ("srcad bug: value_and_grad returns the output variable after the reverse sweep "
                  "popped its saved values, i.e. the value before its first save (often the input, "
                  "or None) whenever the returned name is assigned in a branch or loop")

GRAD_BUGS = {}   # fixed: trip counts saved per outer iteration, lists of varied values
VALUE_BUGS = set()   # fixed: value_and_grad captures its value before the reverse sweep


def _params(bugs):
    """The cases as pytest params; those in ``bugs`` are strict xfails."""
    out = []
    for case_id, f, args, wrt in CASES:
        marks = []
        if case_id in bugs:
            reason = bugs[case_id] if isinstance(bugs, dict) else VALUE_RESTORED
            marks = [pytest.mark.xfail(strict=True, reason=reason)]
        out.append(pytest.param(f, args, wrt, id=case_id, marks=marks))
    return out


def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("f, args, wrt", _params(GRAD_BUGS))
def test_gradient_matches_finite_differences(f, args, wrt):
    originals = [_copy(a) for a in args]
    given = [_copy(a) for a in args]
    grads = srcad.grad(f, wrt=wrt)(*given)
    assert isinstance(grads, tuple) and len(grads) == len(wrt)
    for i, g in zip(wrt, grads):
        expected = numerical_grad(f, args, i)
        # the point must be away from any branch boundary: a coarser step agrees
        coarse = numerical_grad(f, args, i, eps=1e-4)
        assert_close(coarse, expected, rtol=1e-3, atol=1e-5)
        assert_close(g, expected, **TOL)
    for a, b in zip(given, originals):        # inputs are never modified
        assert type(a) is type(b)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("f, args, wrt", _params(VALUE_BUGS))
def test_value_and_grad_value_is_the_functions_value(f, args, wrt):
    value, grads = srcad.value_and_grad(f, wrt=wrt)(*[_copy(a) for a in args])
    assert_close(value, f(*[_copy(a) for a in args]), rtol=1e-12, atol=0)


def test_paths_of_the_cases_are_distinct():
    """The taken / not-taken pairs above really take different paths: the
    function's value would be a different formula otherwise, so spot-check a few."""
    assert for_else(1.5, 3.0) < 100.0 < for_else(1.1, 3.0)
    assert while_else(1.6, 3.0) > 0 > while_else(0.5, 3.0)
    assert return_in_loop(1.2, 1.5) > 0 > return_in_loop(0.1, 0.5)
    assert return_in_for_else(0.9) == pytest.approx((0.9 * 1.5 ** 3) ** 2)
    assert return_in_for_else(4.5) == pytest.approx(4.5 * 1.5 ** 2)
    assert return_in_while(-1.3) == -1.3
    assert for_break(0.5, 4.0) < 4.0 < for_break(1.5, 4.0)


def test_reversed_rows_gradient_rows_are_in_the_right_order():
    """A wrong iteration order in the reverse sweep of ``reversed(X)`` would
    swap rows of dX; a non-symmetric point catches it."""
    X = np.array([[0.1, 0.2], [0.9, -0.4], [-0.3, 0.5]])
    h = np.array([0.7, -1.2])
    dX, dh = srcad.grad(for_reversed, wrt=(0, 1))(X, h)
    assert_close(dX, numerical_grad(for_reversed, (X, h), 0), **TOL)


def test_scalar_input_gives_scalar_gradient_through_loops():
    g = srcad.grad(sin_repeated)(1.1)
    assert np.ndim(g) == 0
    g = srcad.grad(while_data_dependent)(3.0)
    assert np.ndim(g) == 0


def test_array_gradient_shapes_through_loops():
    X = rand(3, 4)
    dX, dw = srcad.grad(for_over_array_rows, wrt=(0, 1))(X, W4)
    assert dX.shape == X.shape and dw.shape == W4.shape


# --------------------------------------------------------------------------
# once-known bugs, minimal reproductions (regression tests)
# --------------------------------------------------------------------------

def sum_sin_over_list(x):
    s = 0.0
    for c in [x, 2.0 * x]:
        s = s + np.sin(c)
    return s


def test_bug_for_over_list_literal_of_varied_scalars():
    assert_close(srcad.grad(sum_sin_over_list)(0.3), numerical_grad(sum_sin_over_list, (0.3,), 0), **TOL)


def test_bug_inner_while_trip_count_not_saved_per_outer_iteration():
    # the inner loop runs 3, 2, 1 times; srcad's reverse sweep replays it once for every i
    assert_close(srcad.grad(while_in_for_varying_trips)(0.3),
                 numerical_grad(while_in_for_varying_trips, (0.3,), 0), **TOL)


def test_bug_inner_for_with_break_trip_count_not_saved():
    srcad.grad(break_in_inner_loop)(0.8)      # IndexError: pop from empty list


def test_bug_value_and_grad_returns_restored_value():
    value, _ = srcad.value_and_grad(sin_repeated)(1.1)
    assert value == sin_repeated(1.1)         # srcad returns 1.1, the input


def test_bug_value_and_grad_returns_none_after_branch():
    value, _ = srcad.value_and_grad(multiple_returns)(2.5)
    assert value == 6.25                      # srcad returns None


# --------------------------------------------------------------------------
# property test: random programs with branches, loops, break and continue
# --------------------------------------------------------------------------

from hypothesis import HealthCheck, Phase, assume, given, note, settings  # noqa: E402
from hypothesis import strategies as st                       # noqa: E402

LOCALS = ("a", "b", "c")
PARAMS = ("x", "y")
CONSTANTS = (-0.7, -0.2, 0.3, 0.8, 1.3)
MARGIN = 1e-3          # skip examples whose branch tests come this close to a threshold


class Cond:
    """``u > k`` or ``u < k``; renders plainly for srcad, or as a recording
    call (``_gt(u, k)``) for the probe that measures distances to thresholds."""

    def __init__(self, var, op, k):
        self.var, self.op, self.k = var, op, k

    def render(self, probe):
        if probe:
            return f"_{'gt' if self.op == '>' else 'lt'}({self.var}, {self.k})"
        return f"{self.var} {self.op} {self.k}"


class BranchTest:
    """A branch test: one comparison, or two joined by and/or, maybe negated."""

    def __init__(self, parts, joiner=None, negate=False):
        self.parts, self.joiner, self.negate = parts, joiner, negate

    def render(self, probe):
        text = f" {self.joiner} ".join(p.render(probe) for p in self.parts)
        if self.negate:
            text = f"not ({text})"
        return text


@st.composite
def conditions(draw):
    def one():
        return Cond(draw(st.sampled_from(LOCALS * 3 + PARAMS)), draw(st.sampled_from("<>")),
                    draw(st.sampled_from(CONSTANTS)))
    shape = draw(st.sampled_from(["one", "one", "and", "or", "not"]))
    if shape == "one":
        return BranchTest([one()])
    if shape == "not":
        return BranchTest([one()], negate=True)
    return BranchTest([one(), one()], joiner=shape)


@st.composite
def expressions(draw, loop_vars):
    u = draw(st.sampled_from(LOCALS + PARAMS))
    w = draw(st.sampled_from(LOCALS + PARAMS))
    k = draw(st.sampled_from(CONSTANTS))
    forms = [f"{u} + {w}", f"{u} - {w}", f"{u} * {w}", f"{u} * {k}", f"{u} - {k} * {w}",
             f"{u} / (1.5 + np.sin({w}))",          # denominator in [0.5, 2.5]
             f"{u} / {k}",
             f"np.sin({u})", f"np.tanh({u} * {w})", f"np.exp(np.tanh({u}))",
             f"np.sin({u}) * {w} + {k}"]
    if loop_vars:
        i = draw(st.sampled_from(loop_vars))
        forms += [f"{u} + {i} * {w}", f"{u} * ({i} + {k})"]
    return draw(st.sampled_from(forms))


class Program:
    """Unique names for loop counters while drawing statements."""

    def __init__(self, draw, max_depth=2):
        self.draw = draw
        self.max_depth = max_depth
        self.counter = 0

    def fresh(self, base):
        self.counter += 1
        return f"{base}{self.counter}"

    def block(self, depth, loop_vars, in_loop):
        n = self.draw(st.integers(1, 4 if depth == 0 else 3))
        return [self.statement(depth, loop_vars, in_loop) for _ in range(n)]

    def statement(self, depth, loop_vars, in_loop):
        kinds = ["assign", "assign", "assign"]
        if depth < self.max_depth:
            kinds += ["if", "for", "while"]
        if in_loop:
            kinds += ["break", "continue"]
        kind = self.draw(st.sampled_from(kinds))
        draw = self.draw
        if kind == "assign":
            return ("assign", draw(st.sampled_from(LOCALS)), draw(expressions(loop_vars)))
        if kind == "if":
            orelse = self.block(depth + 1, loop_vars, in_loop) if draw(st.booleans()) else []
            return ("if", draw(conditions()), self.block(depth + 1, loop_vars, in_loop), orelse)
        if kind == "for":
            i = self.fresh("i")
            bounds = draw(st.sampled_from(["3", "1, 4", "4, 0, -2", "2"]))
            return ("for", i, bounds, self.block(depth + 1, loop_vars + (i,), True))
        if kind == "while":
            k = self.fresh("k")
            bound = draw(st.integers(1, 3))
            return ("while", k, bound, draw(conditions()), self.block(depth + 1, loop_vars, True))
        jump = kind
        if loop_vars and draw(st.booleans()):
            return ("jump-on-index", loop_vars[-1], draw(st.integers(0, 2)), jump)
        return ("jump", draw(conditions()), jump)


def render(stmts, probe, indent=1):
    pad = "    " * indent
    lines = []
    for s in stmts:
        kind = s[0]
        if kind == "assign":
            lines.append(f"{pad}{s[1]} = {s[2]}")
        elif kind == "if":
            lines.append(f"{pad}if {s[1].render(probe)}:")
            lines += render(s[2], probe, indent + 1)
            if s[3]:
                lines.append(f"{pad}else:")
                lines += render(s[3], probe, indent + 1)
        elif kind == "for":
            lines.append(f"{pad}for {s[1]} in range({s[2]}):")
            lines += render(s[3], probe, indent + 1)
        elif kind == "while":
            _, k, bound, test, body = s
            lines.append(f"{pad}{k} = 0")
            lines.append(f"{pad}while {k} < {bound} and ({test.render(probe)}):")
            lines.append(f"{pad}    {k} = {k} + 1")
            lines += render(body, probe, indent + 1)
        elif kind == "jump-on-index":
            lines.append(f"{pad}if {s[1]} == {s[2]}:")
            lines.append(f"{pad}    {s[3]}")
        elif kind == "jump":
            lines.append(f"{pad}if {s[1].render(probe)}:")
            lines.append(f"{pad}    {s[2]}")
    return lines


@st.composite
def programs(draw):
    body = Program(draw).block(0, (), False)
    ret = draw(st.sampled_from(["a + 0.5 * b + np.sin(c)", "a * b + c", "np.tanh(a) * c + b"]))
    head = ["    a = x", "    b = y", "    c = x * y"]

    def fn(name, probe):
        return "\n".join([f"def {name}(x, y):"] + head + render(body, probe) + [f"    return {ret}"])

    probe_helpers = ("_margins = []\n\n\ndef _gt(u, k):\n    _margins.append(abs(u - k))\n"
                     "    return u > k\n\n\ndef _lt(u, k):\n    _margins.append(abs(u - k))\n"
                     "    return u < k\n")
    return ("import numpy as np\n\n" + probe_helpers + "\n\n" + fn("f", False) + "\n\n\n"
            + fn("f_probe", True) + "\n")


_module_count = itertools.count()


def load_module(directory, source):
    """Write ``source`` to a new .py file and import it (srcad reads real source)."""
    name = f"srcad_random_program_{next(_module_count)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def min_margin(module, x, y):
    """The closest any branch or loop test came to its threshold in ``f(x, y)``."""
    del module._margins[:]
    value = module.f_probe(x, y)
    return min(module._margins, default=math.inf), value


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("random_programs")


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate, Phase.shrink),   # no slow 'explain' phase
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(source=programs(),
       x=st.floats(-2.0, 2.0, allow_nan=False), y=st.floats(-2.0, 2.0, allow_nan=False))
def test_random_programs_match_finite_differences(program_dir, source, x, y):
    note(source.split("\n\n\ndef f_probe")[0].split("\n\n\n")[-1])   # the program, readable
    module = load_module(program_dir, source)
    margin, value = min_margin(module, x, y)
    assume(margin > MARGIN)                     # away from every branch boundary
    assume(math.isfinite(value) and abs(value) < 1e4)
    assert module.f(x, y) == value              # the probe runs the same program
    grads = srcad.grad(module.f, wrt=(0, 1))(x, y)
    for i, g in enumerate(grads):
        expected = numerical_grad(module.f, (x, y), i)
        coarse = numerical_grad(module.f, (x, y), i, eps=1e-4)
        assume(abs(coarse - expected) <= 1e-3 * (1.0 + abs(expected)))   # smooth around (x, y)
        assert_close(g, expected, rtol=1e-4, atol=1e-6)
    value_srcad, grads_again = srcad.value_and_grad(module.f, wrt=(0, 1))(x, y)
    assert value_srcad == pytest.approx(value, rel=1e-15, abs=1e-300)   # math may round the last bit apart from NumPy
    assert grads_again == grads
