"""What a called function's forward half hands its reverse half
(srcad/passes/split_saves.py): shapes instead of values read only for their
shape, concatenations made again from their parts, nothing unread -- and
every gradient still equal to central differences, including where the pass
must hold back (a part written in place, rebound, appended to after the
concatenation) and under ``hessian``, which differentiates the halves again.
"""

import re

import numpy as np
import pytest

import srcad

from helpers import assert_close, check_case, numerical_grad

RNG = np.random.default_rng(14)


def halves(d, name):
    """The source of the forward and the reverse half made for callee ``name``."""
    src = d.source
    fwd = re.search(rf"def forward_{name}\(.*?(?=\ndef |\Z)", src, re.S).group(0)
    rev = re.search(rf"def reverse_{name}\(.*?(?=\ndef |\Z)", src, re.S).group(0)
    return fwd, rev


def saved_names(forward_source):
    """The names the forward half hands over (its last line's second element)."""
    last = forward_source.strip().splitlines()[-1]
    return last[last.index("(out, (") + len("(out, ("):].rstrip(")")


# -- concatenations made again -------------------------------------------------------
def cat_mul(W, *parts):
    cat = np.hstack(parts + (np.ones((parts[0].shape[0], 1)),))
    return np.dot(cat, W)


def gated(params, x, h):
    a = np.tanh(cat_mul(params["a"], x, h))
    b = np.tanh(cat_mul(params["b"], x, h))
    return a * h + b


def unroll(params, xs, h):
    total = 0.0
    for x in xs:
        h = gated(params, x, h)
        total = total + np.sum(h * h)
    return total


def lstm_like_args():
    params = {"a": RNG.standard_normal((6, 3)), "b": RNG.standard_normal((6, 3))}
    xs = [RNG.standard_normal((4, 2)) for _ in range(3)]
    return params, xs, RNG.standard_normal((4, 3))


def test_a_concatenation_is_made_again_and_the_gradient_matches():
    params, xs, h = lstm_like_args()
    d = srcad.grad(unroll, wrt=(0, 2))
    fwd, rev = halves(d, "cat_mul")
    assert "cat" not in saved_names(fwd).split(", ")
    assert "cat = np.hstack(" in rev
    dparams, dh = d(params, xs, h)
    for key in params:
        entry = lambda v, key=key: unroll({**params, key: v}, xs, h)   # noqa: E731
        assert_close(dparams[key], numerical_grad(entry, (params[key],), 0))
    assert_close(dh, numerical_grad(unroll, (params, xs, h), 2))


def test_hessian_through_a_concatenation_made_again():
    def loss(W, x):
        return np.sum(np.tanh(cat_mul(W, x, x * x)) ** 2)
    W, x = RNG.standard_normal((5, 2)), RNG.standard_normal((3, 2))
    h = srcad.hessian(loss)(W, x)
    step = 1e-4
    grad = lambda v: numerical_grad(loss, (v, x), 0, eps=1e-5)      # noqa: E731
    expected = np.stack([(grad(W + step * e) - grad(W - step * e)) / (2 * step)
                         for e in np.eye(W.size).reshape((W.size,) + W.shape)], axis=-1)
    assert_close(h.reshape(W.size, W.size), expected.reshape(W.size, W.size), rtol=1e-4, atol=1e-5)


def written_after(a, b):
    a2 = a * 2.0
    c = np.concatenate([a2, b])
    a2[0] = 5.0                                 # a part changes after the concatenation
    return np.sum(c * np.sin(c)) + np.sum(a2 * b[0])


def rebound_after(a, b):
    c = np.hstack((a, b))
    a = a * 3.0                                 # the name, not the array, changes
    return np.sum(c * np.sin(c)) + np.sum(a * a)


def appended_after(a, b):
    parts = [a]
    c = np.concatenate(parts)
    parts.append(b)                             # the list part grows after the concatenation
    return np.sum(c * np.sin(c)) + np.sum(parts[1] * parts[1])


def stacked_in_a_loop(a, b):
    rows = []
    for i in range(3):
        rows.append(a * i)
    c = np.stack(rows + [b])
    return np.sum(c * np.cos(c))


@pytest.mark.parametrize("callee", [written_after, rebound_after, appended_after, stacked_in_a_loop],
                         ids=lambda f: f.__name__)
def test_parts_that_may_change_keep_the_concatenation_right(callee):
    def caller(a, b):
        return callee(a, b) * 2.0
    args = (RNG.standard_normal(3), RNG.standard_normal(3))
    check_case(caller, args, (0, 1))
    if callee is written_after:             # changed in place: the value itself is handed over
        fwd, _ = halves(srcad.grad(caller, wrt=(0, 1)), callee.__name__)
        assert "c" in saved_names(fwd).split(", ")


def test_a_concatenation_in_a_loop_of_the_callee_is_kept():
    def callee(a, b):
        total = 0.0
        for i in range(3):
            c = np.hstack((a * i, b))
            total = total + np.sum(c * np.sin(c))
        return total

    def caller(a, b):
        return callee(a, b) + callee(b, a)
    check_case(caller, (RNG.standard_normal(2), RNG.standard_normal(2)), (0, 1))


# -- shapes instead of values --------------------------------------------------------
def summed_products(x, ys):
    total = 0.0
    for y in ys:
        total = total + np.sum(x * y)          # x * y is read for its shape only
    return total


def calls_summed_products(x, ys):
    return summed_products(np.sin(x), ys) ** 2


def test_values_read_for_their_shape_are_handed_over_as_shapes():
    x = RNG.standard_normal((3, 4))
    ys = [RNG.standard_normal((3, 4)) for _ in range(4)]
    d = srcad.grad(calls_summed_products, wrt=(0, 1))
    fwd, _ = halves(d, "summed_products")
    assert re.search(r"_stack\.push\(shape_of\(mul_\w*\)\)", fwd)
    dx, dys = d(x, ys)
    assert_close(dx, numerical_grad(calls_summed_products, (x, ys), 0))
    for k in range(len(ys)):
        entry = lambda v, k=k: calls_summed_products(x, ys[:k] + [v] + ys[k + 1:])   # noqa: E731
        assert_close(dys[k], numerical_grad(entry, (ys[k],), 0))


def test_shapes_handed_over_survive_hessian():
    def loss(x):
        return summed_products(x * x, [x, 2.0 * x]) ** 2
    x = RNG.standard_normal(3)
    step = 1e-4
    grad = lambda v: numerical_grad(loss, (v,), 0, eps=1e-5)          # noqa: E731
    expected = np.stack([(grad(x + step * e) - grad(x - step * e)) / (2 * step) for e in np.eye(3)], axis=1)
    assert_close(srcad.hessian(loss)(x), expected, rtol=1e-4, atol=1e-5)


def test_value_and_grad_and_vjp_of_the_same_programs():
    params, xs, h = lstm_like_args()
    value, (dh,) = srcad.value_and_grad(unroll, wrt=(2,))(params, xs, h)
    assert_close(value, unroll(params, xs, h))
    assert_close(dh, numerical_grad(unroll, (params, xs, h), 2))

    def states(h):
        return gated(params, xs[0], gated(params, xs[1], h))
    v = RNG.standard_normal(h.shape)
    assert_close(srcad.vjp(states)(h, v), numerical_grad(states, (h,), 0, cotangent=v))


def hstack_sum(x, buf):
    c = np.hstack((x, buf))
    return np.sum(np.sin(c) * c)


def writes_a_part_between_calls(x):
    buf = np.zeros(2)
    total = 0.0
    for i in range(3):
        buf[0] = x[i] * 2.0                 # the caller changes a part in place between calls
        total = total + hstack_sum(x, buf)
    return total


def test_a_caller_writing_into_a_part_between_calls():
    """The caller's reverse sweep undoes its writes before each callee's
    reverse half runs, so the concatenation made again is the one made then."""
    x = RNG.standard_normal(3)
    _, rev = halves(srcad.grad(writes_a_part_between_calls), "hstack_sum")
    assert "c = np.hstack((x, buf))" in rev
    check_case(writes_a_part_between_calls, (x,), (0,))
