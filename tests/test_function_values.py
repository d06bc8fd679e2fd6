"""Functions as values: function-valued parameters and defaults, functions
passed to user functions, functools.partial, map and sorted(key=...),
lambdas and nested functions passed to them.

Expected values are central finite differences (tests/helpers.py) in grad,
jvp and hessian.
"""

import functools

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad
from test_calls_starred import check_all, fd_jvp

RNG = np.random.default_rng(11)
X = RNG.standard_normal(3)
W = RNG.standard_normal(3)
V = RNG.standard_normal(3)


def cube(z):
    return z ** 3 - z


def softplus(z):
    return np.log1p(np.exp(z))


# -- function-valued parameters and defaults ---------------------------------------------

def nn_predict(params, inputs, nonlinearity=np.tanh):
    return np.sum(nonlinearity(inputs * params))


def uses_default(x, w):
    return nn_predict(x, w)


def passes_numpy(x, w):
    return nn_predict(x, w, np.sin) + nn_predict(w, x, nonlinearity=np.exp)


def passes_user(x, w):
    return nn_predict(x, w, cube) + nn_predict(x * w, w, softplus)


def apply_twice(fn, x):
    return fn(fn(x))


def passes_through(x, w):
    """A known function passed on by a callee that received it."""
    return np.sum(apply_twice(np.sin, x * w)) + np.sum(apply_twice(cube, x))


@pytest.mark.parametrize("f", [uses_default, passes_numpy, passes_user, passes_through],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("i", [0, 1])
def test_function_valued_arguments_of_callees(f, i):
    check_all(f, (X, W), i)


def test_top_level_function_valued_default_and_argument():
    d = srcad.grad(nn_predict)
    for fn in (np.tanh, np.sin, cube):
        f = lambda p, q: nn_predict(p, q, fn)            # noqa: E731 the expected values
        assert_close(d(X, W, fn), numerical_grad(f, (X, W), 0))
        assert_close(d(X, W, nonlinearity=fn), numerical_grad(f, (X, W), 0))
        _, t = srcad.jvp(nn_predict)(X, W, fn, V)
        assert_close(t, fd_jvp(f, (X, W), 0, V))
    assert_close(d(X, W), numerical_grad(nn_predict, (X, W), 0))
    assert_close(srcad.vjp(nn_predict)(X, W, 2.0), 2.0 * numerical_grad(nn_predict, (X, W), 0))


def test_top_level_function_parameter_without_default():
    def total(fn, x):
        return np.sum(fn(x) * x)
    for fn in (np.sin, cube, softplus):
        f = lambda x: total(fn, x)                      # noqa: E731
        assert_close(srcad.grad(total, wrt=1)(fn, X), numerical_grad(f, (X,), 0))
        assert_close(srcad.hessian(total, wrt=1)(fn, X),
                     np.array([numerical_grad(lambda x: srcad.grad(total, wrt=1)(fn, x)[k], (X,), 0)
                               for k in range(3)]), rtol=1e-5, atol=1e-6)


def test_the_default_is_read_as_written():
    """The generated code calls the parameter, which holds the default."""
    code = srcad.grad(nn_predict).for_call(X, W).source
    assert "nonlinearity_inputs = nonlinearity(mul_inputs)" in code
    assert "(1.0 - nonlinearity_inputs * nonlinearity_inputs)" in code       # tanh's rule


def test_a_function_parameter_the_body_reassigns_is_refused():
    def f(x, act=np.tanh):
        if np.sum(x) > 0:
            act = np.sin
        return np.sum(act(x))
    with pytest.raises(srcad.UnsupportedSyntaxError, match="cannot tell which function 'act' is"):
        srcad.grad(f)(X)


def make_scaler(k):
    def scale(t):
        return k * t
    return scale


def test_a_function_returned_by_a_call_is_refused_clearly():
    def f(x):
        g = make_scaler(3.0)
        return np.sum(g(x))
    with pytest.raises(srcad.UnsupportedSyntaxError, match="cannot tell which function 'g' is") as info:
        srcad.grad(f)(X)
    assert "return np.sum(g(x))" in str(info.value) and "^" in str(info.value)


SCALE3 = make_scaler(3.0)


def test_a_returned_function_bound_at_module_level_is_a_callee():
    def f(x):
        return np.sum(SCALE3(x) * x)
    check_all(f, (X,), 0)
