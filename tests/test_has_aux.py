"""``has_aux=True`` (as in JAX): ``f`` returns ``(value, aux)``; the derivative is
of ``value``, and ``aux`` comes back as ``f`` computed it.

Oracles: central differences of ``f(...)[0]`` for the gradient, and ``f``
itself (called on a copy of the inputs) for the auxiliary result.
"""

import numpy as np
import pytest

import srcad
from helpers import assert_close, assert_tree_close, numerical_grad


def sin_pair(x):
    y = np.sin(x)
    return np.sum(y * y), y


def loop_with_list(x):
    values = []
    s = 0.0
    for i in range(3):
        values.append(x[i] * 2.0)
        s = s + values[i] ** 2
    return s, {"values": values, "last": s}


def updated_in_place(x):
    h = np.zeros(3)
    for t in range(2):
        h[t + 1] = np.tanh(h[t] + x[t])
    return np.sum(h ** 2), h


def two_params(w, b, x):
    pred = x @ w + b
    loss = np.mean((pred - 1.0) ** 2)
    return loss, (pred, 3)


def branch_aux(x):
    if np.sum(x) > 0:
        out = np.sum(np.exp(x))
        note = "positive"
    else:
        out = np.sum(x ** 2)
        note = "not positive"
    return out, note


def helper(x):
    return np.sum(x ** 3), x * 2.0


def calls_helper(x):
    v, a = helper(x)
    return v * 2.0, a


X = np.array([0.3, 1.2, -0.5])

CASES = [
    (sin_pair, (X,), 0),
    (loop_with_list, (X,), 0),
    (updated_in_place, (X,), 0),
    (two_params, (np.array([0.5, -1.0]), 0.25, np.array([[1.0, 2.0], [0.5, -1.5], [2.0, 0.1]])), (0, 1)),
    (branch_aux, (X,), 0),
    (branch_aux, (-X - 1.0,), 0),
    (calls_helper, (X,), 0),
]


def _copies(args):
    return tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in args)


def _expected(f, args, wrt):
    value = lambda *a: f(*a)[0]        # noqa: E731
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    grads = tuple(numerical_grad(value, _copies(args), i) for i in indices)
    return grads if isinstance(wrt, tuple) else grads[0]


def _assert_grads(actual, expected, wrt):
    if isinstance(wrt, tuple):
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=1e-5, atol=1e-7)
    else:
        assert_close(actual, expected, rtol=1e-5, atol=1e-7)


def _assert_aux(actual, expected):
    if isinstance(expected, str) or isinstance(expected, int):
        assert actual == expected
    elif isinstance(expected, (tuple, list, dict)):
        assert type(actual) is type(expected)
        items = expected.items() if isinstance(expected, dict) else enumerate(expected)
        for k, e in items:
            _assert_aux(actual[k], e)
    else:
        assert_tree_close(actual, expected)


@pytest.mark.parametrize("f, args, wrt", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_grad_has_aux(f, args, wrt):
    grads, aux = srcad.grad(f, wrt=wrt, has_aux=True)(*_copies(args))
    _assert_grads(grads, _expected(f, args, wrt), wrt)
    _assert_aux(aux, f(*_copies(args))[1])


@pytest.mark.parametrize("f, args, wrt", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_value_and_grad_has_aux(f, args, wrt):
    (value, aux), grads = srcad.value_and_grad(f, wrt=wrt, has_aux=True)(*_copies(args))
    expected_value, expected_aux = f(*_copies(args))
    assert_close(value, expected_value)
    _assert_aux(aux, expected_aux)
    _assert_grads(grads, _expected(f, args, wrt), wrt)


def test_vjp_has_aux():
    grads, aux = srcad.vjp(sin_pair, has_aux=True)(np.copy(X), 2.0)
    assert_close(grads, 2.0 * numerical_grad(lambda x: sin_pair(x)[0], (np.copy(X),), 0))
    assert_close(aux, np.sin(X))


def test_decorator_form():
    @srcad.grad(has_aux=True)
    def f(x):
        return x * x, "aux"

    assert f(3.0) == (6.0, "aux")


def test_inputs_unchanged():
    x = np.copy(X)
    srcad.grad(updated_in_place, has_aux=True)(x)
    np.testing.assert_array_equal(x, X)


def test_tuple_return_without_has_aux_suggests_it():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(sin_pair)(X)
    text = str(info.value)
    assert "has_aux=True" in text


def test_tuple_literal_return_is_refused_at_transformation():
    def f(x):
        return x * 2.0, x * 3.0

    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)
    assert "has_aux=True" in str(info.value) and "return x * 2.0, x * 3.0" in str(info.value)


def test_has_aux_needs_a_pair():
    def f(x):
        return x * 2.0

    with pytest.raises(srcad.SrcadError, match="return a pair"):
        srcad.grad(f, has_aux=True)


def test_has_aux_only_for_reverse_modes():
    # not in the forward transforms' signatures (issue 15): Python refuses it
    with pytest.raises(TypeError, match="has_aux"):
        srcad.jvp(sin_pair, has_aux=True)


def test_vjp_of_a_function_with_defaults_takes_every_argument():
    """f's default must not slide onto the cotangent (vjp_f(x, s, dout=2.0))."""
    def scaled(x, s=2.0):
        return x * s

    v = srcad.vjp(scaled, wrt=(0, 1))
    assert v(3.0, 2.0, 10.0) == (20.0, 30.0)          # d/dx = s * dout, d/ds = x * dout
    with pytest.raises(TypeError):
        v(3.0, 10.0)
