"""Issue 10, forward mode: Hessians through loop stacks (item 5), forward rules
and broadcasting (item 6), internal errors turned into answers or refusals
(item 14).

Every expected value comes from central differences of the user's function in
float64 (second-order differences for Hessians), never from srcad.
"""

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad


def fd_hessian(f, x, h=1e-4):
    """The Hessian of scalar ``f`` at ``x`` by second-order central differences
    of ``f`` itself (no first derivative involved)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    H = np.zeros((n, n))

    def at(step):
        y = (x.ravel() + step).reshape(x.shape)
        return float(f(y if x.ndim else float(y)))

    for i in range(n):
        for j in range(n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = h, h
            H[i, j] = (at(ei + ej) - at(ei - ej) - at(ej - ei) + at(-ei - ej)) / (4 * h * h)
    return H.reshape(x.shape + x.shape)


def assert_hessian(f, x, rtol=1e-4, atol=1e-5):
    """srcad.hessian and srcad.hvp (with two directions) against fd_hessian."""
    expected = fd_hessian(f, x)
    assert_close(srcad.hessian(f)(x), expected, rtol, atol)
    rng = np.random.default_rng(0)
    for _ in range(2):
        v = rng.normal(size=np.shape(x)) if np.ndim(x) else float(rng.normal())
        assert_close(srcad.hvp(f)(x, v), np.tensordot(expected, v, axes=np.ndim(x)), rtol, atol)


# -- item 5: the twin tangent stack is popped with every pop of its stack --------------

def branch_then_scale(a):
    if a > 0:
        a = a * a
    a = 2.0 * a
    return a


def square_then_loop(a):
    a = a * a
    for i in range(1):
        a = a * 3.0
    return a


def nested_loops(x):
    s = 0.0
    for i in range(3):
        for j in range(2):
            s = s + np.sin(x[i] * x[j])
            x = x * 1.1
    return s


def while_with_break(x):
    s = x[0]
    i = 0
    while i < 5:
        s = s * x[1] + np.cos(s)
        if s > 3.0:
            break
        i = i + 1
    return s


def while_condition(x):
    s = x[0]
    while s < 10.0:
        s = s * 1.5 + x[1] * x[1]
    return s * x[0]


def branch_in_loop(x):
    y = x
    for i in range(4):
        if y[0] > 0.5:
            y = y * y
        else:
            y = np.exp(-y)
    return np.sum(y)


def looping_callee(x):
    for i in range(2):
        x = np.sin(x) * x
    return x


def calls_looping_callee(x):
    y = looping_callee(x)
    y = looping_callee(y * 2.0)
    return np.sum(y * y)


def callee_in_loop(x):
    y = x[0]
    for i in range(3):
        y = looping_callee(y * x[1])
    return y


def swap_in_loop(x):
    a = x[0]
    b = x[1]
    for i in range(2):
        a, b = b, a * b
        if a > 0.1:
            a = a * 2.0
    return a + b * b


def accumulate_powers(x):
    s = 0.0
    for i in range(3):
        x = x * x
        s = s + np.sum(x)
    return s


def iterate_elements(x):
    s = 0.0
    for v in x:
        s = s + v * v * v
        if s > 0.2:
            s = np.sqrt(s)
    return s


def popped_for_shape_only(x):
    y = x * x
    for i in range(2):
        y = y * 3.0           # the reverse reads y only for its shape
    z = np.sum(y) * x[0]
    return z


HESSIAN_CASES = [
    (branch_then_scale, 2.0), (branch_then_scale, -2.0), (square_then_loop, 2.0),
    (nested_loops, np.array([0.3, 0.5, 0.7])), (while_with_break, np.array([0.4, 1.3])),
    (while_with_break, np.array([1.4, 1.9])), (while_condition, np.array([1.2, 0.8])),
    (branch_in_loop, np.array([0.7, 0.2])), (branch_in_loop, np.array([0.3, 0.2])),
    (calls_looping_callee, np.array([0.3, 0.6])), (callee_in_loop, np.array([0.5, 0.9])),
    (swap_in_loop, np.array([0.5, 0.7])), (accumulate_powers, np.array([0.9, 1.1])),
    (iterate_elements, np.array([0.5, 0.4, 0.3])), (popped_for_shape_only, np.array([0.5, 1.5])),
]


@pytest.mark.parametrize("f, x", HESSIAN_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_hessian_through_loop_stacks(f, x):
    assert_hessian(f, x)


def test_hvp_reproducers_exact():
    """The issue's reproducers, with the exact second derivatives."""
    assert srcad.hvp(branch_then_scale)(2.0, 1.0) == pytest.approx(4.0)     # d2(2a^2) = 4
    assert srcad.hvp(branch_then_scale)(-2.0, 1.0) == pytest.approx(0.0)    # 2a is linear
    assert srcad.hvp(square_then_loop)(2.0, 1.0) == pytest.approx(6.0)      # d2(3a^2) = 6


def test_hessian_of_list_in_loop_is_a_clear_refusal():
    """A list a loop appends to and a dict entry a loop overwrites are undone
    in the gradient by ``L.pop()`` / ``restore_entry``: not followed yet by
    forward-over-reverse, so refused with srcad's error, not a wrong answer."""
    def appends(x):
        L = []
        for i in range(3):
            L.append(x * i)
            x = np.sin(x)
        return np.sum(L[0] * L[1] + L[2] * x)

    def overwrites(x):
        d = {'a': x * 1.0, 'b': x[0]}
        for i in range(3):
            d['a'] = d['a'] * d['b']
            d['b'] = np.sum(np.tanh(d['a']))
        return d['b']

    for f in (appends, overwrites):
        with pytest.raises(srcad.SrcadError, match="hessian"):
            srcad.hessian(f)(np.array([0.3, 0.2]))


# -- item 14: internal errors ----------------------------------------------------------

def mean(x):
    return np.mean(x)


def mean_axis0(x):
    return np.sum(np.mean(x, axis=0))


def variance(x):
    return np.var(x)


@pytest.mark.parametrize("f, shape", [(mean, (0,)), (mean_axis0, (0, 3)), (mean_axis0, (3, 0)),
                                      (variance, (0,))])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gradient_of_an_empty_reduction_is_empty(f, shape):
    """f of an empty array is nan (or 0.0), like NumPy; its gradient has the
    input's (empty) shape, as JAX returns, instead of ZeroDivisionError."""
    x = np.zeros(shape)
    value, grad = srcad.value_and_grad(f)(x)
    assert np.array_equal(value, f(x), equal_nan=True)
    assert grad.shape == shape
    assert srcad.hessian(f)(x).shape == shape + shape


def comprehension_squared(x):
    return np.sum([xi * 3 for xi in x]) ** 2


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_vjp_of_grad_of_a_comprehension_any_length(n):
    """Reverse over reverse through the list a comprehension builds: the
    Hessian is 18 * ones((n, n)) exactly (was a crash for every n but 3)."""
    x = np.linspace(0.5, 2.0, n)
    u = np.linspace(-1.0, 1.0, n) + 0.3
    assert_close(srcad.vjp(srcad.grad(comprehension_squared))(x, 1.0, u), 18 * np.sum(u) * np.ones(n))
    assert_close(srcad.hvp(comprehension_squared)(x, u), 18 * np.sum(u) * np.ones(n))
    assert_close(srcad.hessian(comprehension_squared)(x), fd_hessian(comprehension_squared, x),
                 rtol=1e-4, atol=1e-4)
