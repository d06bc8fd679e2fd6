"""``srcad.grad(h)(x)`` written inside a differentiated function (a Newton
step, a gradient penalty): the inner derivative is generated code, which srcad
differentiates again.  Expected values: central finite differences.
"""

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad

RNG = np.random.default_rng(23)


def energy(z):
    return z * z * z + np.sin(z)


def newton_step(x):
    return x - srcad.grad(energy)(x) / 2.0


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def gradient_penalty(w, x, lam):
    g = srcad.grad(loss, wrt=0)(w, x)
    return loss(w, x) + lam * np.sum(g ** 2)


def value_and_slope(x):
    value, slope = srcad.value_and_grad(energy)(x)
    return value * slope


def directional(w, x, v):
    value, tangent = srcad.jvp(loss)(w, x, v)
    return tangent ** 2 + value


def test_newton_step_scalar():
    x = 0.7
    assert_close(srcad.grad(newton_step)(x), numerical_grad(newton_step, (x,), 0))
    _, t = srcad.jvp(newton_step)(x, 1.0)
    assert_close(t, numerical_grad(newton_step, (x,), 0))
    slope = srcad.grad(newton_step)
    assert_close(srcad.hessian(newton_step)(x), numerical_grad(slope, (x,), 0), 1e-5, 1e-7)


def test_gradient_penalty_arrays():
    w, x = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    g = srcad.grad(gradient_penalty, wrt=(0, 1))(w, x, 0.3)
    assert_close(g[0], numerical_grad(gradient_penalty, (w, x, 0.3), 0))
    assert_close(g[1], numerical_grad(gradient_penalty, (w, x, 0.3), 1))
    v = RNG.standard_normal(3)
    _, t = srcad.jvp(gradient_penalty)(w, x, 0.3, v)
    assert_close(t, numerical_grad(gradient_penalty, (w, x, 0.3), 0) @ v)
    H = srcad.hessian(gradient_penalty)(w, x, 0.3)
    grad = srcad.grad(gradient_penalty)
    expected = np.array([numerical_grad(lambda w: grad(w, x, 0.3)[k], (w,), 0) for k in range(3)])
    assert_close(H, expected, 1e-5, 1e-6)


@pytest.mark.parametrize("f, args", [(value_and_slope, (0.4,)),
                                     (directional, (RNG.standard_normal(3), RNG.standard_normal((4, 3)),
                                                    RNG.standard_normal(3)))],
                         ids=["value_and_grad", "jvp"])
def test_other_transforms_inline(f, args):
    g = srcad.grad(f)(*args)
    assert_close(g, numerical_grad(f, args, 0))
    t = np.ones_like(args[0]) if np.ndim(args[0]) else 1.0
    _, tangent = srcad.jvp(f)(*args, t)
    assert_close(tangent, np.sum(numerical_grad(f, args, 0) * t))


def test_inline_transform_in_a_loop():
    def descend(x):
        for _ in range(3):
            x = x - 0.1 * srcad.grad(energy)(x)
        return x

    assert_close(srcad.grad(descend)(0.3), numerical_grad(descend, (0.3,), 0))


def test_inline_grad_of_constants_runs_as_written():
    def f(x):
        return x * srcad.grad(energy)(2.0)

    assert_close(srcad.grad(f)(1.5), numerical_grad(f, (1.5,), 0))


def test_rebinding_the_inner_function_transforms_again(tmp_path, monkeypatch):
    import importlib
    (tmp_path / "inner_mod.py").write_text(
        "import srcad\n\n\ndef h(z):\n    return z * z\n\n\n"
        "def cube(z):\n    return z * z * z\n\n\n"
        "def step(x):\n    return srcad.grad(h)(x) * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("inner_mod")
    d = srcad.grad(mod.step)
    assert_close(d(1.5), numerical_grad(mod.step, (1.5,), 0))
    mod.h = mod.cube                         # the derivative kept must follow
    assert_close(d(1.5), numerical_grad(mod.step, (1.5,), 0))
    assert_close(srcad.grad(mod.step)(1.5), numerical_grad(mod.step, (1.5,), 0))


def where_in_callee(p):
    v = np.where(p > 0.5, p, p * 2.0)
    return np.sum(v * v * v)


def calls_where(y):
    return where_in_callee(y)


def test_hvp_through_np_where_in_a_callee():
    # FUZZ_FINDINGS F20: the condition, a saved value of the split callee, was refused
    y, v = np.array([0.2, 0.9, 1.4]), RNG.standard_normal(3)
    grad, eps = srcad.grad(calls_where), 1e-6
    expected = (grad(y + eps * v) - grad(y - eps * v)) / (2 * eps)
    assert_close(srcad.hvp(calls_where)(y, v), expected, 1e-5, 1e-7)


def test_newton_fit_with_closures_as_autograd_negative_binomial_writes_it():
    special = pytest.importorskip("scipy.special")
    data = np.array([3.0, 7.0, 1.0, 12.0, 5.0, 9.0, 0.0, 4.0])

    def loglike_terms(r, p, x):
        return special.gammaln(r + x) - special.gammaln(r) + x * np.log(p) + r * np.log(1 - p)

    loglike = lambda r, p: np.sum(loglike_terms(r, p, data))      # noqa: E731
    p_of = lambda r: np.sum(data) / np.sum(r + data)              # noqa: E731
    slope = lambda r: srcad.grad(loglike)(r, p_of(r))             # noqa: E731
    r = 2.5
    d_slope = srcad.grad(slope)
    assert_close(d_slope(r), numerical_grad(slope, (r,), 0), 1e-6, 1e-7)
    assert_close(srcad.grad(d_slope)(r), numerical_grad(d_slope, (r,), 0), 1e-5, 1e-7)
