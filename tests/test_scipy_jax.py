"""SciPy's and JAX's conventions: hessp(x, p, *args), argnums=, real signatures.

Oracles: hand-derived derivatives of Rosenbrock, finite differences
(tests/helpers.py), and SciPy reaching the known minimum.
"""

import inspect

import numpy as np
import pytest

import srcad

from helpers import assert_close, numerical_grad

scipy_optimize = pytest.importorskip("scipy.optimize")


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_scaled(x, a, b):
    """Rosenbrock with SciPy-style extra arguments: minimum at x = a."""
    return np.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)


def logistic_loss(w, X, y, lam):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w * w)


def rosen_hessian_exact(x):
    """Hand-derived Hessian of rosen (for n = 3)."""
    H = np.zeros((3, 3))
    for i in range(2):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i, i + 1] += -400.0 * x[i]
        H[i + 1, i] += -400.0 * x[i]
        H[i + 1, i + 1] += 200.0
    return H


X0 = np.array([-1.2, 1.0, 0.8])


def test_hessp_takes_scipys_order_and_matches_the_exact_hessian():
    p = np.array([0.3, -1.0, 2.0])
    assert_close(srcad.hessp(rosen)(X0, p), rosen_hessian_exact(X0) @ p)
    assert_close(srcad.hessian(rosen)(X0), rosen_hessian_exact(X0))


def test_hessp_with_extra_arguments_puts_the_vector_second():
    p = np.array([0.3, -1.0, 2.0])
    a, b = 1.5, 30.0
    H = np.column_stack([numerical_grad(lambda x: srcad.grad(rosen_scaled)(x, a, b), (X0 + 0.0,), 0,
                                        cotangent=e) for e in np.eye(3)])
    assert_close(srcad.hessp(rosen_scaled)(X0, p, a, b), H.T @ p, rtol=1e-5, atol=1e-6)
    assert_close(srcad.hvp(rosen_scaled)(X0, a, b, p), H.T @ p, rtol=1e-5, atol=1e-6)


def test_hessp_of_a_later_parameter_and_its_signature():
    def f_of(a, x, b):
        return rosen_scaled(x, a, b)
    del f_of                     # functions must come from a file: use the module-level one
    h = srcad.hessp(rosen_scaled, wrt="a")
    # d2/da2 of sum (a - x_i)^2 over the first n-1 entries = 2 (n - 1)
    assert_close(h(X0, 1.5, 2.0, 30.0), 2.0 * 2 * 2.0)
    assert str(inspect.signature(h)) == "(x, a, p, b, /)"
    assert str(inspect.signature(srcad.hessp(rosen_scaled))) == "(x, p, a, b, /)"


def test_hessp_refuses_a_tuple_wrt():
    with pytest.raises(srcad.WrtError, match="one parameter"):
        srcad.hessp(rosen_scaled, wrt=(0, 1))


@pytest.mark.parametrize("method, kind", [("Newton-CG", "hess"), ("Newton-CG", "hessp"),
                                          ("trust-ncg", "hessp"), ("trust-exact", "hess")])
def test_scipy_minimize_rosenbrock_with_srcad_derivatives(method, kind):
    a, b = 1.0, 100.0
    extra = {kind: srcad.hessian(rosen_scaled) if kind == "hess" else srcad.hessp(rosen_scaled)}
    result = scipy_optimize.minimize(rosen_scaled, X0, args=(a, b), jac=srcad.grad(rosen_scaled),
                                     method=method, options={"maxiter": 500}, **extra)
    # with a = 1 every term vanishes at x = (1, 1, 1): Rosenbrock's minimum
    assert_close(result.x, np.ones(3), rtol=1e-4, atol=1e-5)


def test_scipy_minimize_logistic_regression_with_args():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(40) > 0).astype(float)
    args = (X, y, 0.1)
    w0 = np.zeros(3)
    results = [scipy_optimize.minimize(logistic_loss, w0, args=args, jac=srcad.grad(logistic_loss),
                                       method="Newton-CG", **{kind: make(logistic_loss)})
               for kind, make in (("hess", srcad.hessian), ("hessp", srcad.hessp))]
    reference = scipy_optimize.minimize(logistic_loss, w0, args=args, method="BFGS",
                                        options={"gtol": 1e-10})      # no srcad at all
    for result in results:
        assert result.success
        assert_close(result.x, reference.x, rtol=1e-4, atol=1e-6)
    # the gradient is zero there, by finite differences
    assert np.max(np.abs(numerical_grad(logistic_loss, (results[1].x,) + args, 0))) < 1e-5


# -- argnums, JAX's name for wrt ---------------------------------------------

def three(x, y, z):
    return x * y * y + np.sin(z)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp", "jvp", "hessian", "hvp"])
def test_argnums_is_wrt(transform):
    t = getattr(srcad, transform)
    assert t(three, argnums=1).wrt == "y"
    assert t(three, argnums=(0, 2)).wrt == ("x", "z")
    assert t(argnums=(1,))(three).wrt == ("y",)


def test_argnums_follows_jax_int_versus_tuple():
    args = (2.0, 3.0, 0.5)
    dy = srcad.grad(three, argnums=1)(*args)
    assert dy == pytest.approx(2 * 2.0 * 3.0)
    (dx, dz) = srcad.grad(three, argnums=(0, 2))(*args)
    assert (dx, dz) == pytest.approx((9.0, np.cos(0.5)))
    assert srcad.grad(three, argnums=(1,))(*args) == pytest.approx((12.0,))


def test_wrt_and_argnums_together_are_refused():
    with pytest.raises(srcad.WrtError, match="both wrt=1 and argnums=2"):
        srcad.grad(three, wrt=1, argnums=2)


# -- signatures and help --------------------------------------------------------

@pytest.mark.parametrize("name", ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian",
                                  "hvp", "hessp"])
def test_each_transform_shows_only_the_options_it_supports(name):
    params = inspect.signature(getattr(srcad, name)).parameters
    assert list(params)[:3] == ["f", "wrt", "argnums"]
    supports = name in ("grad", "value_and_grad", "vjp")
    assert ("check_finite" in params) == supports and ("has_aux" in params) == supports


def test_help_of_grad_explains_wrt_modes_and_returns():
    doc = inspect.getdoc(srcad.grad)
    for words in ("wrt", "argnums", "has_aux", "check_finite", ".source", "Example", "tuple"):
        assert words in doc
    assert "transform(" not in str(inspect.signature(srcad.grad))


def test_generated_functions_show_the_signature_they_take():
    assert str(inspect.signature(srcad.grad(three))) == "(x, y, z, dout=1.0)"
    assert str(inspect.signature(srcad.hvp(three, wrt=(0, 1)))) == "(x, y, z, v_x, v_y, /)"
    assert str(inspect.signature(srcad.hessian(three))) == "(x, y, z)"
