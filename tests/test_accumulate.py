"""Shared-weight accumulation (srcad/passes/accumulate.py): the adjoint of a
weight a loop does not assign is summed once after the loop.  Gradients and
Hessians through such loops match central finite differences, with break,
continue, while, branches, zero iterations and rows whose shape changes.
"""

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(1411)
W = 0.5 * RNG.standard_normal((4, 4))
U = RNG.standard_normal((4, 3))
XS = RNG.standard_normal((6, 3))
H0 = 0.1 * RNG.standard_normal(4)


def rnn(W, U, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + U @ x)
    return np.sum(h * h)


def rnn_right(W, U, xs, h0):
    """row vectors: the weight is the right operand (h @ W)"""
    h = h0
    for x in xs:
        h = np.tanh(h @ W + x @ U.T)
    return np.sum(h * h)


def rnn_break(W, U, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + U @ x)
        if np.sum(x) > 1.5:
            break
    return np.sum(h * h)


def rnn_continue(W, U, xs, h0):
    h = h0
    for x in xs:
        if np.sum(x) < -0.5:
            continue
        h = np.tanh(W @ h + U @ x)
    return np.sum(h * h)


def rnn_branch(W, U, xs, h0):
    h = h0
    for x in xs:
        if np.sum(x) > 0.0:
            h = np.tanh(W @ h + U @ x)
        else:
            h = np.sin(W @ h)
    return np.sum(h * h)


def rnn_while(W, U, xs, h0):
    h = h0
    t = 0
    while t < 4:
        h = np.tanh(W @ h + U @ xs[t])
        t = t + 1
    return np.sum(h * h)


def batch_rnn(W, U, xs, h0):
    """matrices: the rows are joined side by side"""
    h = np.stack([h0, 2.0 * h0], axis=1)
    for x in xs:
        h = np.tanh(W @ h + U @ np.stack([x, -x], axis=1))
    return np.sum(h * h)


def growing(W, U, xs, h0):
    """a row whose shape changes between iterations: summed one by one"""
    h = np.stack([h0], axis=1)
    for k in range(3):
        h = np.tanh(W @ h)
        h = np.concatenate([h, h * 0.5], axis=1)
    return np.sum(h * h) + 0.0 * np.sum(U) + 0.0 * np.sum(xs)


CASES = [rnn, rnn_right, rnn_break, rnn_continue, rnn_branch, rnn_while, batch_rnn, growing]


def args_for(f):
    if f is rnn_right:
        return (W, U, XS, H0)
    return (W, U, XS, H0)


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_gradient_matches_finite_differences(f):
    args = args_for(f)
    dW, dU = srcad.grad(f, wrt=(0, 1))(*args)
    assert_close(dW, numerical_grad(f, args, 0))
    assert_close(dU, numerical_grad(f, args, 1))


def test_zero_iterations_give_zero():
    args = (W, U, XS[:0], H0)
    dW, dU = srcad.grad(rnn, wrt=(0, 1))(*args)
    assert np.array_equal(dU, np.zeros_like(U)) and dU.shape == U.shape
    assert_close(dW, numerical_grad(rnn, args, 0))


def test_the_loop_no_longer_accumulates_outer_products():
    source = srcad.grad(rnn, wrt=(0, 1)).source
    loop = source.split("for i in reversed")[1].split("return")[0]
    assert "dW = dW +" not in loop and "dU = dU +" not in loop
    assert "matmul_adjoint_x_rows(" in source


@pytest.mark.parametrize("f", [rnn, rnn_break, rnn_right], ids=lambda f: f.__name__)
def test_hessian_through_the_rows_matches_finite_differences(f):
    xs = XS[:3]
    g = srcad.grad(f, wrt=1)
    hess = srcad.hessian(f, wrt=1)(W, U, xs, H0)
    expected = np.empty(U.shape + U.shape)
    for idx in np.ndindex(U.shape):
        expected[idx] = numerical_grad(lambda u: g(W, u, xs, H0)[idx], (U,), 0)
    assert_close(hess, expected, rtol=1e-5, atol=1e-6)


def test_rows_are_contracted_a_few_at_a_time(monkeypatch):
    """long loops stack their rows ROWS_PER_MATMUL at a time"""
    from srcad import runtime
    monkeypatch.setattr(runtime, "ROWS_PER_MATMUL", 4)
    xs = RNG.standard_normal((11, 3))
    args = (W, U, xs, H0)
    for f in (rnn, rnn_right, batch_rnn):
        dW, dU = srcad.grad(f, wrt=(0, 1))(*args)
        assert_close(dW, numerical_grad(f, args, 0))
        assert_close(dU, numerical_grad(f, args, 1))


def test_the_loop_saves_only_the_shape_of_values_read_for_their_shape():
    """``W @ h`` and ``U @ x`` are read by ``unbroadcast`` only: their stacks keep shapes"""
    source = srcad.grad(rnn, wrt=(0, 1)).source
    assert "matmul_W_stack.push(shape_of(matmul_W))" in source
    assert "h_stack.push(h)" in source


def test_shape_saves_keep_scalars_and_hessians_right():
    args = (0.7, np.float64(1.3))
    got = srcad.grad(loop_of_scalars, wrt=(0, 1))(*args)
    for i, g in enumerate(got):
        assert_close(g, numerical_grad(loop_of_scalars, args, i))
    x = np.array([0.7, 1.3])
    hess = srcad.hessian(loop_of_vector)(x)
    g = srcad.grad(loop_of_vector)
    expected = np.array([numerical_grad(lambda v: g(v)[j], (x,), 0) for j in range(2)])
    assert_close(hess, expected, rtol=1e-5, atol=1e-6)


def loop_of_scalars(a, b):
    for i in range(3):
        a = a * b + np.sin(a)
    return a


def loop_of_vector(v):
    s = v
    for i in range(3):
        s = np.tanh(v * s + s)
    return np.sum(s * s)


def rnn_states(W, U, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(W @ h + U @ x)
    return h


def calls_rnn(W, U, xs, h0):
    h = rnn_states(W, U, xs, h0)
    return np.sum(h * h) + np.sum(rnn_states(W, U, xs[:3], h) ** 2)


def test_vjp_value_and_grad_and_callees_through_the_rows():
    args = (W, U, XS, H0)
    v = np.arange(4.0)
    got = srcad.vjp(rnn_states, wrt=(0, 1))(*args, v)
    for i in (0, 1):
        assert_close(got[i], numerical_grad(rnn_states, args, i, cotangent=v))
    value, got = srcad.value_and_grad(rnn, wrt=(0, 1))(*args)
    assert_close(value, rnn(*args))
    for i in (0, 1):
        assert_close(got[i], numerical_grad(rnn, args, i))
    got = srcad.grad(calls_rnn, wrt=(0, 1))(*args)
    for i in (0, 1):
        assert_close(got[i], numerical_grad(calls_rnn, args, i))


def test_hvp_through_the_rows():
    xs, ones = XS[:3], np.ones_like(U)
    g = srcad.grad(rnn, wrt=1)
    expected = numerical_grad(lambda u: np.sum(g(W, u, xs, H0) * ones), (U,), 0)
    assert_close(srcad.hvp(rnn, wrt=1)(W, U, xs, H0, ones), expected, rtol=1e-5, atol=1e-6)
