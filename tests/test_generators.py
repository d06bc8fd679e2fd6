"""Generators (``yield``) called from a differentiated function and consumed
whole: by ``sum``, ``list``, a comprehension or a for loop.  The generator is
differentiated as the function that returns the list of its values
(srcad/generators.py).  Expected values: central finite differences.
"""

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(31)


def taylor_terms(x, n):
    term = x
    for k in range(n):
        yield term
        term = -term * x * x / ((2 * k + 2) * (2 * k + 3))


def sine(x):
    return sum(taylor_terms(x, 6))


def layers(params, h):
    for W, b in params:
        h = np.tanh(h @ W + b)
        yield h


def deep(params, x):
    states = list(layers(params, x))
    return np.sum(states[-1] ** 2) + 0.1 * sum(np.sum(s) for s in states)


def evens_and_odds(x):
    for i in range(4):
        if i % 2 == 0:
            yield x * i
        else:
            yield np.sin(x) * i
    yield from taylor_terms(x, 2)


def consume_in_loop(x):
    total = 0.0
    for v in evens_and_odds(x):
        total = total + np.sum(v ** 2)
    return total


def early_return(x):
    for k in range(5):
        if k == 3:
            return
        yield x ** (k + 1)


def test_sum_of_a_generator():
    x = 0.8
    assert_close(srcad.grad(sine)(x), numerical_grad(sine, (x,), 0))
    assert_close(srcad.grad(sine)(x), np.cos(x), 1e-6, 1e-6)
    _, t = srcad.jvp(sine)(x, 1.0)
    assert_close(t, numerical_grad(sine, (x,), 0))
    slope = srcad.grad(sine)
    assert_close(srcad.hessian(sine)(x), numerical_grad(slope, (x,), 0), 1e-5, 1e-7)


def test_list_of_a_generator_with_parameters():
    params = [(RNG.standard_normal((3, 3)), RNG.standard_normal(3)) for _ in range(2)]
    x = RNG.standard_normal(3)
    g = srcad.grad(deep, wrt=1)(params, x)
    assert_close(g, numerical_grad(deep, (params, x), 1))
    v = RNG.standard_normal(3)
    _, t = srcad.jvp(deep, wrt=1)(params, x, v)
    assert_close(t, numerical_grad(deep, (params, x), 1) @ v)


def test_loop_over_a_generator_with_branches_and_yield_from():
    x = RNG.standard_normal(3)
    assert_close(srcad.grad(consume_in_loop)(x), numerical_grad(consume_in_loop, (x,), 0))
    _, t = srcad.jvp(consume_in_loop)(x, np.ones(3))
    assert_close(t, numerical_grad(consume_in_loop, (x,), 0) @ np.ones(3))


def test_bare_return_ends_the_values():
    def f(x):
        return sum(early_return(x))

    assert_close(srcad.grad(f)(1.3), numerical_grad(f, (1.3,), 0))


def returns_a_value(x):
    yield x
    return x * 2


def uses_sent_value(x):
    y = yield x
    yield y


@pytest.mark.parametrize("gen", [returns_a_value, uses_sent_value], ids=lambda g: g.__name__)
def test_generators_srcad_cannot_read_as_lists_are_refused(gen):
    def f(x):
        return sum(gen(x))

    with pytest.raises(srcad.UnsupportedSyntaxError):
        srcad.grad(f)(1.0)


def test_differentiating_a_generator_itself_is_refused():
    with pytest.raises(srcad.UnsupportedSyntaxError, match="yield"):
        srcad.grad(taylor_terms)(1.0, 3)
