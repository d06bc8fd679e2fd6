"""Array-API style code: ``xp = np`` or ``xp = array_namespace(x)``, then
``xp.sum(...)``; and SciPy's own ``scipy.optimize.rosen``, written that way,
differentiated from its published source.  Expected values: central finite
differences (and SciPy's hand-written ``rosen_der`` / ``rosen_hess`` as a
second, independent reference).
"""

import numpy as np
import pytest

import srcad
from helpers import assert_close, numerical_grad

optimize = pytest.importorskip("scipy.optimize")
from scipy._lib._array_api import array_namespace  # noqa: E402

RNG = np.random.default_rng(19)


def local_numpy(x, w):
    xp = np
    return xp.sum(xp.tanh(x * w) ** 2) + xp.mean(xp.exp(-x))


def namespace_of_argument(x, w):
    xp = array_namespace(x, w)
    h = xp.tanh(xp.matmul(w, x))
    return xp.sum(h ** 2) / xp.asarray(2.0)


@pytest.mark.parametrize("f", [local_numpy, namespace_of_argument], ids=lambda f: f.__name__)
def test_namespace_reads_as_numpy(f):
    x, w = RNG.standard_normal(3), RNG.standard_normal((3, 3)) if f is namespace_of_argument \
        else RNG.standard_normal(3)
    g = srcad.grad(f, wrt=(0, 1))(x, w)
    assert_close(g[0], numerical_grad(f, (x, w), 0))
    assert_close(g[1], numerical_grad(f, (x, w), 1))
    t = RNG.standard_normal(3)
    value, tangent = srcad.jvp(f)(x, w, t)
    assert_close(tangent, numerical_grad(f, (x, w), 0) @ t)
    H = srcad.hessian(f)(x, w)
    grad = srcad.grad(f)
    expected = np.array([numerical_grad(lambda x: grad(x, w)[k], (x,), 0) for k in range(3)])
    assert_close(H, expected, 1e-5, 1e-7)


def test_generated_code_says_np():
    source = srcad.grad(namespace_of_argument).source
    code = [line for line in source.splitlines() if not line.strip().startswith("#")]
    assert any("np.tanh(" in line for line in code) and not any("xp" in line for line in code)


def test_rosen_as_published():
    x = RNG.standard_normal(5)
    rosen = optimize.rosen
    g = srcad.grad(rosen)(x)
    assert_close(g, numerical_grad(rosen, (x,), 0), 1e-6, 1e-6)
    assert_close(g, optimize.rosen_der(x))
    t = RNG.standard_normal(5)
    assert_close(srcad.jvp(rosen)(x, t)[1], optimize.rosen_der(x) @ t)
    assert_close(srcad.hessian(rosen)(x), optimize.rosen_hess(x), 1e-9, 1e-9)
    assert_close(srcad.hessp(rosen)(x, t), optimize.rosen_hess_prod(x, t), 1e-9, 1e-9)


def test_rosen_called_from_user_code_and_minimized():
    def loss(x, scale):
        return scale * optimize.rosen(x) + np.sum(x ** 2)

    x = RNG.standard_normal(4)
    assert_close(srcad.grad(loss)(x, 0.5), numerical_grad(loss, (x, 0.5), 0), 1e-6, 1e-6)
    res = optimize.minimize(optimize.rosen, np.zeros(4), jac=srcad.grad(optimize.rosen),
                            hessp=srcad.hessp(optimize.rosen), method="trust-ncg")
    assert_close(res.x, np.ones(4), 1e-5, 1e-5)


def test_a_namespace_name_assigned_twice_is_left_alone():
    def f(x):
        xp = np
        if x[0] > 0:
            xp = np
        return xp.sum(x)

    with pytest.raises(srcad.SrcadError):
        srcad.grad(f)(np.ones(2))


def test_xp_promote_returns_its_argument_so_writing_to_it_is_refused():
    xp_promote = pytest.importorskip("scipy._lib._array_api").__dict__.get("xp_promote")
    if xp_promote is None:
        pytest.skip("this SciPy has no xp_promote")

    def f(x):
        xp = array_namespace(x)
        y = xp_promote(x, force_floating=True, xp=xp)
        y[0] = 5.0
        return xp.sum(y ** 2)

    x = np.ones(3)
    with pytest.raises(srcad.NonDifferentiableError, match="caller's data"):
        srcad.grad(f)(x)
    assert np.array_equal(x, np.ones(3))
