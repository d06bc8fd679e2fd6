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

IDS = [c.id for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reverse_rule_matches_finite_differences(case):
    test_rules.test_rule_matches_finite_differences(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
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
