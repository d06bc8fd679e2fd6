"""SciPy's rules, reverse and forward, against central finite differences.

Every case of ``rule_cases_scipy.CASES`` runs through the checks that
``test_rules`` and ``test_forward`` apply to the NumPy table (imported, not
copied): the reverse rule against finite differences, the forward rule
against finite differences and as the transpose of the reverse rule.  Then
whole functions that call SciPy go through ``srcad.grad`` and ``srcad.jvp``
in the forms users write (``logsumexp(x, axis=0)``, ``norm.logpdf(x,
loc=0.0, scale=s)``, ``stats.norm.logpdf``).
"""

import numpy as np
import pytest

pytest.importorskip("scipy")

import srcad  # noqa: E402
from scipy import special  # noqa: E402

import test_forward  # noqa: E402
import test_rules  # noqa: E402
from helpers import assert_close, numerical_grad  # noqa: E402
from rule_cases_scipy import CASES  # noqa: E402

# A case without differentiable positions only registers its rule as covered: its
# argument (a covariance matrix) is checked along symmetric directions below.
WALKED = [c for c in CASES if c.diff]
IDS = [c.id for c in WALKED]


@pytest.mark.parametrize("case", WALKED, ids=IDS)
def test_reverse_rule_matches_finite_differences(case):
    test_rules.test_rule_matches_finite_differences(case)


@pytest.mark.parametrize("case", WALKED, ids=IDS)
def test_forward_rule_matches_finite_differences_and_the_reverse_rule(case):
    test_forward.test_forward_rule_matches_finite_differences_and_the_reverse_rule(case)


# --- whole functions through srcad.grad and srcad.jvp -----------------------------------

RNG = np.random.default_rng(12)


def _jvp_by_differences(f, args, wrt, tangents, h=1e-6):
    def at(step):
        shifted = list(args)
        for i, t in zip(wrt, tangents):
            shifted[i] = args[i] + step * t
        return np.asarray(f(*shifted), dtype=np.float64)
    return (at(h) - at(-h)) / (2 * h)


def check_both_modes(f, args, wrt):
    """srcad.grad against central differences, srcad.jvp against differences along
    a random direction, for every argument in ``wrt``."""
    wrt = tuple(wrt)
    grads = srcad.grad(f, wrt=wrt)(*args)
    for i, grad in zip(wrt, grads):
        assert_close(grad, numerical_grad(f, args, i), rtol=1e-6, atol=1e-8)
    tangents = [RNG.standard_normal(np.shape(args[i])) for i in wrt]
    tangents = [float(t) if not np.shape(args[i]) else t for i, t in zip(wrt, tangents)]
    value, tangent = srcad.jvp(f, wrt=wrt)(*args, *tangents)
    assert_close(value, f(*args), rtol=1e-12, atol=0)
    assert_close(tangent, _jvp_by_differences(f, args, wrt, tangents), rtol=1e-5, atol=1e-7)


def lse_rows(X):
    return np.sum(special.logsumexp(X, axis=1))


def lse_weighted(X, w):
    return np.sum(special.logsumexp(X, axis=0, b=w, keepdims=True) ** 2)


def lse_positional_weights(a, w):
    return special.logsumexp(a, None, w)


def softmax_loss(W, x, y):
    p = special.softmax(W @ x, axis=0)
    return -np.sum(y * np.log(p))


def log_softmax_loss(W, x, y):
    return -np.sum(y * special.log_softmax(W @ x, axis=-1))


def gamma_mix(a, b, x):
    return np.sum(special.gammaln(a) - special.betaln(a, b) + special.xlogy(a - 1.0, x)
                  + special.digamma(b) * special.expit(x))


def bessel_mix(x):
    return np.sum(special.jv(1.5, x) * special.i0(x) + special.yn(2, x) - special.ive(1.0, x))


def incomplete(x, s):
    return np.sum(special.gammainc(2.5, x * s) + special.betainc(2.0, 3.0, x / 4.0)
                  + special.polygamma(1, x) * special.erf(s) + special.multigammaln(x + 2.0, 3))


PIPELINE = [
    (lse_rows, (RNG.standard_normal((3, 4)),), (0,)),
    (lse_weighted, (RNG.standard_normal((3, 2)), RNG.uniform(0.5, 2.0, (3, 2))), (0, 1)),
    (lse_weighted, (RNG.standard_normal((3, 2)), RNG.uniform(0.5, 2.0, (2,))), (0, 1)),
    (lse_positional_weights, (RNG.standard_normal(4), RNG.uniform(0.5, 2.0, 4)), (0, 1)),
    (softmax_loss, (RNG.standard_normal((3, 2)), RNG.standard_normal(2), np.array([0.0, 1.0, 0.0])), (0,)),
    (log_softmax_loss, (RNG.standard_normal((3, 2)), RNG.standard_normal(2), np.array([0.0, 1.0, 0.0])),
     (0,)),
    (gamma_mix, (RNG.uniform(0.5, 2.0, 3), RNG.uniform(0.5, 2.0, 3), RNG.uniform(0.5, 2.0, 3)), (0, 1, 2)),
    (gamma_mix, (1.3, RNG.uniform(0.5, 2.0, (2, 3)), 0.7), (0, 1, 2)),
    (bessel_mix, (RNG.uniform(0.5, 2.0, 4),), (0,)),
    (incomplete, (RNG.uniform(0.5, 2.0, 3), 0.8), (0, 1)),
]


@pytest.mark.parametrize("f, args, wrt", PIPELINE,
                         ids=[f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(PIPELINE)])
def test_functions_calling_scipy_differentiate_in_both_modes(f, args, wrt):
    check_both_modes(f, args, wrt)


def test_logsumexp_gradient_reads_like_hand_written_code():
    source = srcad.grad(lse_rows).source
    assert "logsumexp_share(X, " in source and "unbroadcast" in source
    assert "_logsumexp.py" not in source


def test_second_derivatives_through_special_rules():
    def f(x):
        return special.logsumexp(x) + np.sum(special.gammaln(x) * special.expit(x))

    x = np.array([0.7, 1.3, 2.1])
    gradient = srcad.grad(f)
    expected = np.column_stack([numerical_grad(lambda v: gradient(v)[k], (x,), 0) for k in range(3)]).T
    assert_close(srcad.hessian(f)(x), expected, rtol=1e-5, atol=1e-7)


def test_logsumexp_with_return_sign_is_refused():
    def f(x):
        value = special.logsumexp(x, return_sign=True)
        return value

    from srcad.runtime import UnsupportedArgumentError
    with pytest.raises(UnsupportedArgumentError, match="return_sign"):
        srcad.vjp(f)(np.ones(3), (1.0, 1.0))


def test_an_active_order_is_refused_at_the_call():
    def f(v, x):
        return special.jv(v, x)

    with pytest.raises(srcad.NonDifferentiableError, match="'v'") as info:
        srcad.grad(f, wrt=0)
    assert info.value.lineno is not None and "special.jv(v, x)" in str(info.value)


def test_gammasgn_is_a_constant():
    def f(x):
        return special.gammasgn(x) * x

    assert srcad.grad(f)(-0.5) == special.gammasgn(-0.5)


def test_xlogy_at_zero_follows_the_convention():
    """x log y is 0 for every y where x == 0: the derivative w.r.t. y is 0 there (also at y == 0)."""
    def f(x, y):
        return np.sum(special.xlogy(x, y) + special.xlog1py(x, y))

    with np.errstate(divide="ignore"):         # d/dx = log(0) at y == 0
        dx, dy = srcad.grad(f, wrt=(0, 1))(np.array([0.0, 2.0]), np.array([0.0, 3.0]))
    assert dy[0] == 0.0 and dy[1] == pytest.approx(2.0 / 3.0 + 2.0 / 4.0)
    assert dx[1] == pytest.approx(np.log(3.0) + np.log(4.0))


# --- scipy.stats: the forms users write ------------------------------------------------

from scipy import stats  # noqa: E402
from scipy.stats import norm  # noqa: E402


def normal_nll(mu, sigma, x):
    return -np.sum(norm.logpdf(x, loc=mu, scale=sigma))


def normal_nll_module(mu, sigma, x):
    return -np.sum(stats.norm.logpdf(x, mu, sigma))


def normal_nll_standardized(x):
    return -np.sum(stats.norm.logpdf(x))


def student_nll(mu, df, x):
    return -np.sum(stats.t.logpdf(x, df=df, loc=mu, scale=1.5))


def gamma_beta_chi2(a, b, s, x):
    return np.sum(stats.gamma.logpdf(x, a, scale=s) + stats.beta.pdf(x / 4.0, a, b)
                  + stats.chi2.logpdf(x, df=a + 1.0))


def tails(mu, s, x):
    return np.sum(norm.cdf(x, mu, s) * norm.logsf(x, loc=mu, scale=s) + stats.t.logcdf(x, 4.0, mu, s)
                  + stats.gamma.sf(x + 1.0, 2.0, loc=mu, scale=s)
                  + norm.ppf(norm.cdf(x) * 0.9 + 0.05, loc=mu, scale=s) + stats.t.isf(0.3, 3.0, mu, s))


def poisson_regression(w, X, k):
    return np.sum(stats.poisson.logpmf(k, np.exp(X @ w))) + stats.poisson.logcdf(3, np.exp(w[0]))


def dirichlet_prior(alpha, p):
    return stats.dirichlet.logpdf(p, alpha) + stats.dirichlet.pdf(p, alpha * 2.0)


def mvn_fit(mean, L, X):
    cov = L @ L.T + 0.5 * np.eye(2)
    return np.sum(stats.multivariate_normal.logpdf(X, mean=mean, cov=cov)) \
        + stats.multivariate_normal.pdf(X[0], mean, cov)


X23 = RNG.standard_normal((5, 2))
STATS_PIPELINE = [
    (normal_nll, (0.3, 1.4, RNG.standard_normal(5)), (0, 1, 2)),
    (normal_nll, (RNG.standard_normal(3), RNG.uniform(0.5, 2.0, (2, 1)), RNG.standard_normal(3)), (0, 1)),
    (normal_nll_module, (0.3, 1.4, RNG.standard_normal(5)), (0, 1)),
    (normal_nll_standardized, (RNG.standard_normal(4),), (0,)),
    (student_nll, (0.2, 3.5, RNG.standard_normal(6)), (0, 1, 2)),
    (gamma_beta_chi2, (1.7, 2.2, 1.3, RNG.uniform(0.5, 3.0, 4)), (0, 1, 2, 3)),
    (tails, (0.1, 1.2, RNG.standard_normal(4)), (0, 1, 2)),
    (poisson_regression, (0.3 * RNG.standard_normal(2), X23, RNG.integers(0, 5, 5)), (0,)),
    (dirichlet_prior, (np.array([1.5, 2.0, 3.0]), np.array([0.2, 0.5, 0.3])), (0,)),
    (mvn_fit, (0.3 * RNG.standard_normal(2), np.array([[1.0, 0.0], [0.3, 0.8]]), X23), (0, 1, 2)),
]


@pytest.mark.parametrize("f, args, wrt", STATS_PIPELINE,
                         ids=[f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(STATS_PIPELINE)])
def test_functions_calling_scipy_stats_differentiate_in_both_modes(f, args, wrt):
    check_both_modes(f, args, wrt)


def test_normal_nll_gradient_matches_the_hand_derived_one():
    mu, sigma, x = 0.3, 1.4, np.array([0.5, -1.0, 2.0])
    dmu, dsigma, dx = srcad.grad(normal_nll, wrt=(0, 1, 2))(mu, sigma, x)
    z = (x - mu) / sigma
    assert dmu == pytest.approx(-np.sum(z) / sigma)
    assert dsigma == pytest.approx(np.sum(1.0 - z * z) / sigma)
    np.testing.assert_allclose(dx, z / sigma)


def test_second_derivatives_through_stats_rules():
    def f(mu, x):
        return np.sum(norm.logpdf(x, mu, 1.5) + stats.gamma.logpdf(x + 3.0, 2.0, scale=mu + 2.0))

    mu, x = 0.3, RNG.standard_normal(3)
    gradient = srcad.grad(f, wrt=1)
    expected = np.column_stack([numerical_grad(lambda v: gradient(mu, v)[k], (x,), 0)
                                for k in range(3)]).T
    assert_close(srcad.hessian(f, wrt=1)(mu, x), expected, rtol=1e-5, atol=1e-7)


def test_a_shape_parameter_of_a_cdf_is_refused_at_the_call():
    def f(df, x):
        return np.sum(stats.t.cdf(x, df))

    with pytest.raises(srcad.NonDifferentiableError, match="'df'") as info:
        srcad.grad(f)
    assert "stats.t.cdf(x, df)" in str(info.value)


def test_a_frozen_distribution_is_refused_at_the_users_line():
    def f(x):
        return np.sum(norm(0.0, 1.0).logpdf(x))

    for mode in ("grad", "jvp"):
        with pytest.raises(srcad.UnknownPrimitiveError, match="method .logpdf") as info:
            getattr(srcad, mode)(f)
        assert info.value.filename == __file__ and "norm(0.0, 1.0)" in str(info.value)
        assert "stats.norm.logpdf(x, loc, scale)" in info.value.hint


def _symmetric_direction(d, seed):
    m = np.random.default_rng(seed).standard_normal((d, d))
    return m + m.T


@pytest.mark.parametrize("method", ["logpdf", "pdf"])
@pytest.mark.parametrize("shape", [(2,), (4, 2), (2, 3, 3)])
def test_multivariate_normal_covariance_along_symmetric_directions(method, shape):
    """SciPy reads one triangle of cov: finite differences along symmetric
    directions are the oracle, for the gradient (paired with the direction) and the JVP."""
    d = shape[-1]
    rng = np.random.default_rng(len(shape) + d)
    a = rng.standard_normal((d, d))
    cov = a @ a.T + d * np.eye(d)
    x, mean = 0.5 * rng.standard_normal(shape), 0.3 * rng.standard_normal(d)
    prim = getattr(stats.multivariate_normal, method)

    def f(cov):
        return np.sum(prim(x, mean, cov) * np.arange(1.0, 1.0 + np.size(prim(x, mean, cov))).reshape(
            np.shape(prim(x, mean, cov))))

    v = _symmetric_direction(d, d)
    h = 1e-6
    expected = (f(cov + h * v) - f(cov - h * v)) / (2 * h)
    gradient = srcad.grad(f)(cov)
    assert np.allclose(gradient, gradient.T)
    assert np.sum(gradient * v) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    _, tangent = srcad.jvp(f)(cov, v)
    assert tangent == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_multivariate_normal_entropy_along_symmetric_directions():
    a = np.random.default_rng(3).standard_normal((3, 3))
    cov = a @ a.T + 3.0 * np.eye(3)

    def f(cov):
        return stats.multivariate_normal.entropy(np.zeros(3), cov) ** 2

    v = _symmetric_direction(3, 5)
    h = 1e-6
    expected = (f(cov + h * v) - f(cov - h * v)) / (2 * h)
    assert np.sum(srcad.grad(f)(cov) * v) == pytest.approx(expected, rel=1e-6)
    assert srcad.jvp(f)(cov, v)[1] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("method", ["logpdf", "pdf"])
@pytest.mark.parametrize("shape", [(3,), (3, 4)])
def test_dirichlet_x_along_the_simplex(method, shape):
    """x must stay on the simplex: the oracle is finite differences along directions
    whose components sum to zero."""
    rng = np.random.default_rng(len(shape))
    x = rng.uniform(0.3, 1.0, shape)
    x = x / np.sum(x, axis=0)
    alpha = np.array([1.5, 2.5, 0.9])
    prim = getattr(stats.dirichlet, method)

    def f(x):
        return np.sum(prim(x, alpha))

    v = rng.standard_normal(shape)
    v = v - np.mean(v, axis=0)
    h = 1e-6
    expected = (f(x + h * v) - f(x - h * v)) / (2 * h)
    assert np.sum(srcad.grad(f)(x) * v) == pytest.approx(expected, rel=1e-6)
    assert srcad.jvp(f)(x, v)[1] == pytest.approx(expected, rel=1e-6)
    # the partial derivatives of the formula: (alpha - 1) / x, times the density for pdf
    factor = prim(x, alpha) if method == "pdf" else 1.0
    np.testing.assert_allclose(srcad.grad(f)(x), factor * (alpha - 1.0).reshape((3,) + (1,) * (x.ndim - 1)) / x)


def test_multivariate_normal_without_a_matrix_cov_is_refused():
    def f(x):
        return stats.multivariate_normal.logpdf(x, np.zeros(2), 2.0)

    from srcad.runtime import UnsupportedArgumentError
    with pytest.raises(UnsupportedArgumentError, match="covariance matrix"):
        srcad.grad(f)(np.ones(2))


# --- scipy.signal and scipy.linalg in user functions ------------------------------------

from scipy import linalg, signal  # noqa: E402


def smooth(x, k):
    return np.sum(signal.convolve(x, k, mode="same") ** 2) + np.sum(signal.convolve(x, k) * 0.5)


def image_filter(img, k):
    return np.sum(np.tanh(signal.convolve(img, k, mode="valid")))


def triangular_solve(L, b):
    x = linalg.solve_triangular(L, b, lower=True)
    y = linalg.solve_triangular(L, x, trans="T", lower=True)
    return np.sum(y ** 2)


def cholesky_solve(L, b):
    x = linalg.cho_solve((L, True), b)
    return np.sum(x * b) + np.sum(x ** 2)


def cholesky_solve_upper(U, b):
    return np.sum(linalg.cho_solve((U, False), b) ** 2)


def square_root(A):
    return np.sum(linalg.sqrtm(A @ A.T + np.eye(2)) ** 2)


def sylvester(a, b, q):
    return np.sum(linalg.solve_sylvester(a, b, q) ** 2)


_L = np.tril(RNG.uniform(-0.5, 0.5, (3, 3))) + 2.0 * np.eye(3)
OTHER_PIPELINE = [
    (smooth, (RNG.standard_normal(6), RNG.standard_normal(3)), (0, 1)),
    (image_filter, (RNG.standard_normal((5, 4)), RNG.standard_normal((2, 3))), (0, 1)),
    (triangular_solve, (_L, RNG.standard_normal(3)), (0, 1)),
    (cholesky_solve, (_L, RNG.standard_normal((3, 2))), (0, 1)),
    (cholesky_solve_upper, (_L.T, RNG.standard_normal(3)), (0, 1)),
    (square_root, (RNG.standard_normal((2, 2)),), (0,)),
    (sylvester, (RNG.uniform(-0.5, 0.5, (2, 2)) + 2 * np.eye(2), RNG.uniform(-0.5, 0.5, (3, 3)) + np.eye(3),
                 RNG.standard_normal((2, 3))), (0, 1, 2)),
]


@pytest.mark.parametrize("f, args, wrt", OTHER_PIPELINE,
                         ids=[f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(OTHER_PIPELINE)])
def test_functions_calling_scipy_signal_and_linalg_differentiate_in_both_modes(f, args, wrt):
    check_both_modes(f, args, wrt)


def test_cho_solve_gradient_keeps_to_the_triangle_it_reads():
    L = _L.copy()
    L_garbage = L + np.triu(np.full((3, 3), 7.0), 1)     # cho_factor leaves such entries
    b = RNG.standard_normal(3)
    grad = srcad.grad(cholesky_solve)(L_garbage, b)
    np.testing.assert_array_equal(np.triu(grad, 1), 0.0)
    assert_close(grad, numerical_grad(cholesky_solve, (L_garbage, b), 0), rtol=1e-6, atol=1e-8)


# --- scipy.integrate.odeint ------------------------------------------------------------

from scipy.integrate import odeint  # noqa: E402

from rule_cases_scipy import damped_pendulum, decay  # noqa: E402

TIGHT = {"rtol": 1e-12, "atol": 1e-12}
WEIGHTS = np.arange(8.0).reshape(4, 2)


def decay_loss(y0, k, t):
    y = odeint(decay, y0, t, args=(k,), rtol=1e-12, atol=1e-12)
    return np.sum(WEIGHTS * y)


def test_odeint_matches_the_exact_solution_in_both_modes():
    """y(t) = y0 exp(-k (t - t0)): every derivative by hand."""
    y0, k, t = np.array([1.0, 2.0]), 0.7, np.array([0.0, 0.5, 1.0, 2.0])
    e = np.exp(-k * (t - t[0]))
    rows = WEIGHTS @ y0                        # W[i] . y0
    exact_y0 = WEIGHTS.T @ e
    exact_k = -np.sum(rows * (t - t[0]) * e)
    exact_t = -k * rows * e
    exact_t[0] = k * np.sum(rows[1:] * e[1:])   # y[0] = y0 does not move with t0; the rest do
    dy0, dk, dt = srcad.grad(decay_loss, wrt=(0, 1, 2))(y0, k, t)
    assert_close(dy0, exact_y0, rtol=1e-8, atol=1e-10)
    assert_close(dk, exact_k, rtol=1e-8, atol=1e-10)
    assert_close(dt, exact_t, rtol=1e-8, atol=1e-10)
    u = (np.array([0.3, -1.0]), 0.4, np.array([0.1, -0.2, 0.5, 1.0]))
    _, tangent = srcad.jvp(decay_loss, wrt=(0, 1, 2))(y0, k, t, *u)
    expected = np.dot(exact_y0, u[0]) + exact_k * u[1] + np.dot(exact_t, u[2])
    assert tangent == pytest.approx(expected, rel=1e-8)


def pendulum_loss(y0, b, t):
    y = odeint(damped_pendulum, y0, t, (b, 5.0), rtol=1e-12, atol=1e-12)
    return np.sum(y[-1] ** 2) + np.sum(np.sin(y[:, 0]))


@pytest.mark.parametrize("t", [np.linspace(0.0, 2.0, 5), np.array([1.0, 0.3]), np.array([0.0, 1.5])],
                         ids=["forwards", "backwards-in-time", "two-times"])
def test_odeint_of_a_nonlinear_system_matches_finite_differences(t):
    """A larger step than usual: the solver's own error (1e-12) makes 1e-6 steps noisy."""
    args = (np.array([0.5, 0.1]), 0.25, t)
    grads = srcad.grad(pendulum_loss, wrt=(0, 1, 2))(*args)
    for i, grad in enumerate(grads):
        assert_close(grad, numerical_grad(pendulum_loss, args, i, eps=1e-4), rtol=1e-5, atol=1e-7)
    u = (np.array([1.0, -0.5]), 0.3, np.linspace(-0.2, 0.4, len(t)))
    _, tangent = srcad.jvp(pendulum_loss, wrt=(0, 1, 2))(*args, *u)
    assert tangent == pytest.approx(sum(np.sum(g * v) for g, v in zip(grads, u)), rel=1e-7)


def decay_time_first(t, y, k):
    return -k * y


def test_odeint_refuses_tfirst():
    def f(y0):
        return np.sum(odeint(decay_time_first, y0, np.array([0.0, 1.0]), args=(0.5,), tfirst=True))

    from srcad.runtime import UnsupportedArgumentError
    with pytest.raises(UnsupportedArgumentError, match="tfirst"):
        srcad.grad(f)(np.ones(2))


def _hessian_by_differences(f, x):
    gradient = srcad.grad(f)
    columns = [numerical_grad(lambda v, k=k: np.ravel(gradient(v))[k], (x,), 0)
               for k in range(np.size(x))]
    return np.reshape(np.stack(columns), np.shape(x) + np.shape(x))


def convolve_energy(x):
    return np.sum(signal.convolve(x, x[::-1] * 0.5, mode="same") ** 2) + np.sum(signal.correlate(x, x))


def sqrtm_energy(A):
    return np.sum(linalg.sqrtm(A @ A.T + np.eye(2)) ** 2)


@pytest.mark.parametrize("f, x", [(convolve_energy, RNG.standard_normal(4)),
                                  (sqrtm_energy, RNG.standard_normal((2, 2)))],
                         ids=["convolve", "sqrtm"])
def test_second_derivatives_through_signal_and_linalg(f, x):
    assert_close(srcad.hessian(f)(x), _hessian_by_differences(f, x), rtol=1e-5, atol=1e-7)


def test_a_second_derivative_of_odeint_is_refused_not_guessed():
    with pytest.raises(srcad.UnknownPrimitiveError, match="odeint_adjoint.*helper of a derivative rule"):
        srcad.hessian(decay_loss, wrt=1)(np.array([1.0, 2.0]), 0.7, np.array([0.0, 1.0, 2.0, 3.0]))


# -- the faster logsumexp generated forward sweeps call -------------------------------
def test_generated_code_computes_logsumexp_as_scipy_does():
    """logsumexp_float64 (registry.computed_by) gives SciPy's values to rounding
    on what it computes, and SciPy's exactly (the same types too) on what it
    hands to SciPy: weights, signs, other dtypes, empty and non-finite input."""
    from srcad.rules.scipy_special import logsumexp_float64
    rng = np.random.default_rng(3)
    for shape in [(), (5,), (3, 4), (2, 3, 4)]:
        a = rng.standard_normal(shape) * 30
        axes = [None] + list(range(-len(shape), len(shape))) + ([(0, len(shape) - 1)] if len(shape) > 1 else [])
        for axis in axes:
            for keepdims in (False, True):
                ours = logsumexp_float64(a, axis=axis, keepdims=keepdims)
                theirs = special.logsumexp(a, axis=axis, keepdims=keepdims)
                assert type(ours) is type(theirs) and np.shape(ours) == np.shape(theirs)
                np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)
    handed_over = [(np.array([1.0, -np.inf]),), (np.full(3, -np.inf),), (np.array([np.inf, 1.0]),),
                   (np.array([np.nan, 1.0]),), (np.zeros((0, 3)), 0), (np.ones(3, np.float32),),
                   ([1.0, 2.0],), (np.arange(4),), (np.ones(3), None, np.arange(3.0))]
    with np.errstate(all="ignore"):
        for args in handed_over:
            ours, theirs = logsumexp_float64(*args), special.logsumexp(*args)
            assert type(ours) is type(theirs)
            np.testing.assert_array_equal(ours, theirs)


def test_forward_sweeps_call_the_faster_logsumexp():
    source = srcad.grad(lse_rows).source
    assert "logsumexp_float64(X, axis=1)" in source


def test_tangent_code_calls_the_faster_logsumexp_too():
    jvp = srcad.jvp(lse_rows)
    assert "logsumexp_float64(X, axis=1)" in jvp.source
    X, V = np.random.default_rng(5).standard_normal((2, 3, 4))
    value, tangent = jvp(X, V)
    eps = 1e-6
    assert_close(value, lse_rows(X))
    assert_close(tangent, (lse_rows(X + eps * V) - lse_rows(X - eps * V)) / (2 * eps), rtol=1e-6)
