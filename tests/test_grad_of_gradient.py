"""``srcad.grad(srcad.grad(f))`` where f has a loop (issue 13: autograd's
sinusoid.py, a Taylor series with a ``break``).  Reverse mode cannot replay
the loop stacks of a generated gradient, so grad of a gradient is computed
forward over reverse; checked against central second differences of f."""

import numpy as np
import pytest

import srcad


def taylor_sin(x):
    term = x
    total = term
    for i in range(1000):
        term = -term * x ** 2 / ((2 * i + 3) * (2 * i + 2))
        total = total + term
        if np.abs(term) < 1e-3:
            break
    return total


def second_difference(f, x, h=1e-4):
    return (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2


@pytest.mark.parametrize("x", [0.3, 1.7, -2.5])
def test_second_derivative_of_a_loop_with_break(x):
    dd = srcad.grad(srcad.grad(taylor_sin))
    assert dd(x) == pytest.approx(second_difference(taylor_sin, x), rel=1e-5, abs=1e-6)
    assert dd(x, dout=2.0) == pytest.approx(2 * dd(x))


def damped(x, w):
    total = 0.0
    for k in range(3):
        total = total + np.sum(np.sin(w * x * (k + 1)))
    return total


def test_mixed_partials_with_respect_to_an_array():
    x, w = 0.7, np.array([0.3, -1.2, 0.5])
    mixed = srcad.grad(srcad.grad(damped, wrt=0), wrt=1)(x, w)
    h = 1e-5
    expected = np.zeros(3)
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        expected[j] = ((damped(x + h, w + e) - damped(x + h, w - e))
                       - (damped(x - h, w + e) - damped(x - h, w - e))) / (4 * h * h)
    assert np.allclose(mixed, expected, rtol=1e-5, atol=1e-6)


def test_grad_of_an_array_gradient_is_refused():
    def f(x):
        total = 0.0
        for k in range(2):
            total = total + np.sum(np.sin(x * k))
        return total
    with pytest.raises(srcad.SrcadError, match="scalar"):
        srcad.grad(srcad.grad(f))(np.ones(3))
