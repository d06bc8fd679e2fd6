"""The product of a value with itself (``np.dot(w, w)``, ``x @ x``): both
cotangents made by one helper (passes/fanout.merge_self_products), checked
against central differences in grad, hessian and a gradient of a gradient."""

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(21)


def l2_penalty(w, x):
    return 0.5 * np.dot(w, w) + np.sum(np.tanh(w * x))


def square_matmul(A):
    return np.sum(np.sin(A @ A))


def vector_matmul(w):
    return np.cos(w @ w) * np.sum(w)


def hessian_by_differences(f, x, step=1e-4):
    grad = lambda v: numerical_grad(f, (v,), 0, eps=1e-5)          # noqa: E731
    cols = [(grad(x + step * e) - grad(x - step * e)) / (2 * step) for e in np.eye(x.size).reshape((x.size,) + x.shape)]
    return np.stack([c.reshape(-1) for c in cols], axis=1)


@pytest.mark.parametrize("f, shape, helper", [
    (lambda w: l2_penalty(w, np.linspace(0.5, 1.5, w.size)), (4,), "dot_self_adjoint"),
    (square_matmul, (3, 3), "matmul_self_adjoint"),
    (vector_matmul, (4,), "matmul_self_adjoint"),
], ids=["dot-vector", "matmul-matrix", "matmul-vector"])
def test_one_helper_for_both_cotangents(f, shape, helper):
    x = RNG.standard_normal(shape) * 0.5
    d = srcad.grad(f)
    assert f"{helper}(" in d.source
    assert_close(d(x), numerical_grad(f, (x,), 0))
    h = srcad.hessian(f)(x).reshape(x.size, x.size)
    assert_close(h, hessian_by_differences(f, x), rtol=1e-4, atol=1e-5)


def test_a_dot_of_two_values_keeps_both_helpers():
    def f(w, v):
        return np.dot(w, v) * np.dot(w, w)
    w, v = RNG.standard_normal(3), RNG.standard_normal(3)
    d = srcad.grad(f, wrt=(0, 1))
    assert "dot_adjoint_b(" in d.source
    for i, g in enumerate(d(w, v)):
        assert_close(g, numerical_grad(f, (w, v), i))


def norm_of_gradient(w):
    x = np.linspace(0.5, 1.5, w.size)
    g = srcad.grad(l2_penalty)(w, x)
    return np.dot(g, g)


def test_gradient_of_a_gradient_through_the_helper():
    w = RNG.standard_normal(4) * 0.5
    assert_close(srcad.grad(norm_of_gradient)(w), numerical_grad(norm_of_gradient, (w,), 0), rtol=1e-5)
