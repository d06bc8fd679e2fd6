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


# -- map, sorted(key=...), min/max(key=...) -------------------------------------------------

def maps_user(x, w):
    return sum(map(cube, [x, w * x])) @ w


def maps_numpy_over_a_list_parameter(x, w):
    rows = [x, w, x * w]
    return np.sum(np.stack(list(map(np.sin, rows))))


def maps_lambda_two_sequences(x, w):
    return np.sum(sum(map(lambda a, b: a * np.exp(b), [x, w], [w, x * x])))


def sorted_by_user_key(x, w):
    items = [x * w, np.sin(x), w]
    ordered = sorted(items, key=lambda t: np.sum(t * t))
    return np.sum(ordered[0] * 1.0 + ordered[1] * 2.0 + ordered[2] * 3.0)


def sorted_literal_reverse(x, w):
    ordered = sorted([x, w * 2.0, x * w], key=np.sum, reverse=True)
    return np.sum(ordered[0] * 3.0 - ordered[2])


def min_max_by_key(x, w):
    items = [x, 2.0 * w, x - w]
    return np.sum(min(items, key=np.sum) * max(items, key=lambda t: np.max(t)))


@pytest.mark.parametrize("f", [maps_user, maps_numpy_over_a_list_parameter, maps_lambda_two_sequences,
                               sorted_by_user_key, sorted_literal_reverse, min_max_by_key],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("i", [0, 1])
def test_map_and_sorted_with_functions(f, i):
    # lists grown in loops: second derivatives go through hessian (forward over reverse)
    check_all(f, (X, W), i)


def test_sorted_follows_the_order_of_each_call():
    """The order is recomputed when the code runs: a key that swaps the
    elements moves each derivative with its element."""
    def f(x, w):
        items = [x, w]
        return np.sum(sorted(items, key=np.sum)[0] * np.array([1.0, 2.0, 3.0]))
    for a, b in ((X, W), (W, X), (X + 5.0, W)):
        assert_close(srcad.grad(f)(a, b), numerical_grad(f, (a, b), 0))


# -- functools.partial ---------------------------------------------------------------------

def loss_terms(x, w, scale=1.0, power=2.0):
    return np.sum(np.cosh(x - w) * power) * scale


def partial_of_user(x, w):
    term = functools.partial(loss_terms, w=w, power=3.0)
    return term(x) + term(x * 2.0, scale=0.5)


def partial_of_numpy(x, w):
    weighted = functools.partial(np.dot, w)
    return np.sin(weighted(x)) + weighted(x * x)


def partial_holds_its_arguments(x, w):
    """The partial keeps the value w had when it was made."""
    term = functools.partial(loss_terms, w=w * 1.0)
    w = w * 3.0
    return term(x) + np.sum(w * x)


GLOBAL_TERM = functools.partial(loss_terms, scale=2.0, power=0.5)
GLOBAL_DOT = functools.partial(functools.partial(np.dot), np.arange(3.0))


def partial_at_module_level(x, w):
    return GLOBAL_TERM(x, w) + GLOBAL_DOT(x * w)


def partial_through_map(x, w):
    term = functools.partial(loss_terms, w=w)
    return sum(map(term, [x, x * w]))


@pytest.mark.parametrize("f", [partial_of_user, partial_of_numpy, partial_holds_its_arguments,
                               partial_at_module_level, partial_through_map], ids=lambda f: f.__name__)
@pytest.mark.parametrize("i", [0, 1])
def test_functools_partial(f, i):
    check_all(f, (X + 0.1, W), i)


# -- nested functions and lambdas as values --------------------------------------------------

def nested_through_map(x, w):
    def layer(t):
        return np.tanh(t * w)
    return np.sum(sum(map(layer, [x, x * x])))


def nested_as_sort_key(x, w):
    def energy(t):
        return np.sum(t * w)
    items = [x, w, x * w]
    return np.sum(sorted(items, key=energy)[0] + max(items, key=energy))


def nested_passed_to_a_function(x, w):
    def square(t):                     # reads no variable of the function: a value like any other
        return t * t
    return np.sum(apply_twice(square, x * w)) + np.sum(apply_twice(lambda t: np.sin(t), x))


@pytest.mark.parametrize("f", [nested_through_map, nested_as_sort_key, nested_passed_to_a_function],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("i", [0, 1])
def test_nested_functions_as_values(f, i):
    check_all(f, (X, W), i)


def test_a_closure_passed_to_a_function_is_refused_clearly():
    def f(x, w):
        def scaled(t):
            return t * w               # reads w: srcad passes w at each call it makes
        return np.sum(apply_twice(scaled, x))
    with pytest.raises(srcad.UnsupportedSyntaxError, match="scaled") as info:
        srcad.grad(f)(X, W)
    assert "apply_twice(scaled, x)" in str(info.value)


def test_sort_keys_carry_no_derivative():
    """The keys decide an order, a constant: they are computed as written,
    with no split of the key function and no tangents."""
    def f(x, w):
        items = [x, w]
        return np.sum(sorted(items, key=cube_sum)[0])
    assert "forward_cube_sum" not in srcad.grad(f).source
    assert "jvp_cube_sum" not in srcad.jvp(f).source
    check_all(f, (X, W), 0)


def cube_sum(t):
    return np.sum(cube(t))


# -- srcad.grad(functools.partial(f, ...)) ---------------------------------------------------

def regression_loss(w, X, y, lam=0.1):
    return np.mean((X @ w - y) ** 2) + lam * np.sum(w ** 2)


def test_transforms_of_a_partial():
    rng = np.random.default_rng(3)
    A, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
    f = functools.partial(regression_loss, X=A, y=y, lam=0.5)
    plain = lambda w: regression_loss(w, A, y, 0.5)              # noqa: E731
    assert_close(srcad.grad(f)(X), numerical_grad(plain, (X,), 0))
    _, t = srcad.jvp(f)(X, V)
    assert_close(t, fd_jvp(plain, (X,), 0, V))
    assert_close(srcad.vjp(f)(X, 2.0), 2.0 * numerical_grad(plain, (X,), 0))
    H = np.stack([numerical_grad(lambda w: srcad.grad(f)(w)[k], (X,), 0) for k in range(3)])
    assert_close(srcad.hessian(f)(X), H, rtol=1e-5, atol=1e-6)
    g = functools.partial(regression_loss, X)                      # wrt=0 is now X
    assert_close(srcad.grad(g)(A, y), numerical_grad(lambda a: regression_loss(X, a, y), (A,), 0))


def test_scipy_minimize_with_a_partial():
    from scipy import optimize
    rng = np.random.default_rng(4)
    A, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    f = functools.partial(regression_loss, X=A, y=y)
    result = optimize.minimize(f, np.zeros(3), jac=srcad.grad(f), hess=srcad.hessian(f),
                               method="trust-exact")
    assert result.success
    assert_close(numerical_grad(f, (result.x,), 0), np.zeros(3), atol=1e-6)


# -- a lambda passed to a function is hoisted under a name that is not a keyword --------------

def _apply(fn, x):
    return fn() * x + fn() * x * x


def calls_with_a_constant_lambda(x):
    return _apply(lambda: 2.0, x)


def test_a_lambda_without_parameters_is_hoisted_under_a_valid_name():
    x = 3.0
    expected = (calls_with_a_constant_lambda(x + 1e-6) - calls_with_a_constant_lambda(x - 1e-6)) / 2e-6
    assert srcad.grad(calls_with_a_constant_lambda)(x) == pytest.approx(expected, rel=1e-6)
    assert srcad.jvp(calls_with_a_constant_lambda)(x, 1.0)[1] == pytest.approx(expected, rel=1e-6)
