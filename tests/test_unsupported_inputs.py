"""Complex and masked arguments are refused, never differentiated silently wrong
(docs/conventions.md).  Real arguments of every kind still work."""

import math

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad


def sum_abs_exp(z):
    return np.sum(np.abs(np.exp(z)))


def mean_square(x):
    return np.mean(x * x)


def scalar_abs(z):
    return abs(z) * 2.0


def vector_out(x):
    return np.sin(x) * 2.0


def list_sum(xs):
    return np.sum(xs[0] * xs[1])


def loop_reassigns(x, w):
    for i in range(2):
        x = x * w
    return x


COMPLEX = np.array([1 + 2j, 0.5 - 1j])
MASKED = np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0])

REFUSED = [
    ("grad-complex-array", lambda: srcad.grad(sum_abs_exp)(COMPLEX)),
    ("value_and_grad-complex-array", lambda: srcad.value_and_grad(sum_abs_exp)(COMPLEX)),
    ("vjp-complex-array", lambda: srcad.vjp(vector_out)(COMPLEX, np.ones(2))),
    ("grad-python-complex", lambda: srcad.grad(scalar_abs)(1 + 2j)),
    ("grad-complex-in-list", lambda: srcad.grad(list_sum)([np.ones(2), COMPLEX])),
    ("grad-complex-reassigned-param", lambda: srcad.grad(loop_reassigns)(1 + 1j, 0.5)),
    ("hessian-complex", lambda: srcad.hessian(sum_abs_exp)(COMPLEX)),
    ("grad-masked", lambda: srcad.grad(mean_square)(MASKED)),
    ("vjp-masked", lambda: srcad.vjp(vector_out)(MASKED, np.ones(3))),
]


@pytest.mark.parametrize("call", [c for _, c in REFUSED], ids=[n for n, _ in REFUSED])
def test_refused_with_a_clear_error(call):
    with pytest.raises(srcad.UnsupportedInputError) as info:
        call()
    assert info.value.hint


def test_masked_message_names_the_problem():
    with pytest.raises(srcad.UnsupportedInputError, match="masked"):
        srcad.grad(mean_square)(MASKED)


def test_complex_message_names_the_problem():
    with pytest.raises(srcad.UnsupportedInputError, match="complex"):
        srcad.grad(sum_abs_exp)(COMPLEX)


@pytest.mark.parametrize("x", [0.7, -1.3, np.float64(0.4), np.array([0.3, -2.0]), np.float32(1.5)],
                         ids=["float", "negative", "float64", "array", "float32"])
def test_real_arguments_still_differentiate(x):
    f = lambda v: np.sum(np.abs(np.exp(v)) * np.sin(v))     # noqa: E731
    assert_close(srcad.grad(f)(x), numerical_grad(f, (x,), 0), rtol=1e-5)


def test_python_float_abs_still_differentiates():
    assert_close(srcad.grad(scalar_abs)(-1.5), -2.0)
    assert_close(srcad.grad(scalar_abs)(math.pi), 2.0)
