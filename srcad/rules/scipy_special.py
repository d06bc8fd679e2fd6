"""Reverse and forward rules of ``scipy.special`` (registered only when SciPy imports).

Most of these functions are ufuncs: elementwise, positional-only, and every
binary rule reduces its gradients with ``unbroadcast``.  Parameter names are
SciPy's where the function has a Python signature (``logsumexp``,
``softmax``, ``log_softmax``, ``polygamma``, ``multigammaln``), so keyword
calls bind.  Orders and degrees (``n`` of ``polygamma``, ``v`` of ``jv``) and
the shape parameters of the incomplete gamma and beta functions carry no rule
(``None``): srcad refuses an active value there rather than drop its gradient.

Conventions at points where the derivative does not exist or is not finite:

    primitive          at                 gradient
    -----------------  -----------------  ------------------------------------------
    xlogy, xlog1py     x == 0             0 to y (the function is 0 for every y)
    gammasgn           any                a constant (piecewise constant)
    logsumexp          return_sign=True   refused (UnsupportedArgumentError)
"""

import numpy as np
from scipy import special

from srcad.rules.registry import adjoint, computed_by, nondifferentiable, tangent
from srcad.runtime import UnsupportedArgumentError, unbroadcast

TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
HALF_SQRT_PI = np.sqrt(np.pi) / 2.0


# --- helpers the rules call ----------------------------------------------------------

def expanded(value, ndim, axis=None, keepdims=False):
    """``value``, a reduction over ``axis`` of an ``ndim``-d array, with the
    reduced axes put back as length-1 axes so that it broadcasts against the
    array (the reductions' ``keepdims=True`` form)."""
    value = np.asarray(value)
    if keepdims or ndim == 0:
        return value
    if axis is None:
        return np.reshape(value, (1,) * ndim)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    for a in sorted(a % ndim for a in axes):
        value = np.expand_dims(value, a)
    return value


def logsumexp_share(a, ans, axis=None, b=None, keepdims=False, return_sign=False):
    """``exp(a - ans)`` broadcast over the summed elements: the derivative of
    ``log(sum(b * exp(a)))`` w.r.t. ``b`` (times ``b``, w.r.t. ``a``)."""
    if return_sign:
        raise UnsupportedArgumentError(
            "srcad differentiates scipy.special.logsumexp without return_sign: with "
            "return_sign=True it returns a pair",
            hint="differentiate logsumexp(a, b=b) for positive weighted sums, or register "
                 "a rule for a function of your own that returns one value")
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    return np.broadcast_to(np.exp(a - expanded(ans, len(shape), axis, keepdims)), shape)


def weighted(x, w):
    """``x * w``, or ``x`` itself where the weights ``w`` are None (unweighted)."""
    return x if w is None else x * w


# --- log-sum-exp and softmax ----------------------------------------------------------

def logsumexp_float64(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``scipy.special.logsumexp`` of a float64 array, as generated forward
    sweeps compute it: the max-shifted sum in four NumPy calls.  SciPy's own
    goes through its array-API layer and costs several times more on the
    small arrays of a model's inner loop (autograd's own logsumexp is the
    same four calls).  Whatever this does not cover -- weights, signs, other
    dtypes, empty arrays, an infinite or NaN maximum -- is SciPy's."""
    if (b is not None or return_sign or type(a) is not np.ndarray or a.dtype != np.float64
            or a.size == 0):
        return special.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    m = np.max(a, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        return special.logsumexp(a, axis=axis, keepdims=keepdims)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    out += m
    if keepdims:
        return out
    out = np.squeeze(out, axis=axis)
    return out[()] if out.ndim == 0 else out


computed_by(special.logsumexp, logsumexp_float64)


@adjoint(special.logsumexp, logsumexp_float64)
def logsumexp(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
    """ans = log sum(b exp(a)): d/da = b exp(a - ans), d/db = exp(a - ans)."""
    share = logsumexp_share(a, ans, axis, b, keepdims, return_sign)
    spread = expanded(g, np.ndim(share), axis, keepdims) * share
    return unbroadcast(weighted(spread, b), a), None, unbroadcast(spread, b)


@tangent(special.logsumexp, logsumexp_float64)
def logsumexp_tangent(a_dot, axis_dot, b_dot, ans, a, axis=None, b=None, keepdims=False,
                      return_sign=False):
    share = logsumexp_share(a, ans, axis, b, keepdims, return_sign)
    return (np.sum(weighted(share, b) * a_dot, axis=axis, keepdims=keepdims), None,
            np.sum(weighted(share, b_dot), axis=axis, keepdims=keepdims))


@adjoint(special.softmax)
def softmax(g, ans, x, axis=None):
    """d softmax = s * (dx - sum(s dx)) over ``axis``; the Jacobian is symmetric."""
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


@tangent(special.softmax)
def softmax_tangent(x_dot, ans, x, axis=None):
    return ans * (x_dot - np.sum(x_dot * ans, axis=axis, keepdims=True))


@adjoint(special.log_softmax)
def log_softmax(g, ans, x, axis=None):
    """ans = x - logsumexp(x): d/dx = g - softmax(x) sum(g)."""
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


@tangent(special.log_softmax)
def log_softmax_tangent(x_dot, ans, x, axis=None):
    return x_dot - np.sum(np.exp(ans) * x_dot, axis=axis, keepdims=True)


# --- logistic -------------------------------------------------------------------------

@adjoint(special.expit)
def expit(g, ans, x):
    return g * ans * (1.0 - ans)


@tangent(special.expit)
def expit_tangent(x_dot, ans, x):
    return x_dot * ans * (1.0 - ans)


@adjoint(special.log_expit)
def log_expit(g, ans, x):
    """d log(expit(x)) = 1 - expit(x) = expit(-x)."""
    return g * special.expit(-x)


@tangent(special.log_expit)
def log_expit_tangent(x_dot, ans, x):
    return x_dot * special.expit(-x)


@adjoint(special.logit)
def logit(g, ans, x):
    return g / (x * (1.0 - x))


@tangent(special.logit)
def logit_tangent(x_dot, ans, x):
    return x_dot / (x * (1.0 - x))


# --- error functions and the normal distribution function ------------------------------

@adjoint(special.erf)
def erf(g, ans, x):
    return g * TWO_OVER_SQRT_PI * np.exp(-x * x)


@tangent(special.erf)
def erf_tangent(x_dot, ans, x):
    return x_dot * TWO_OVER_SQRT_PI * np.exp(-x * x)


@adjoint(special.erfc)
def erfc(g, ans, x):
    return -g * TWO_OVER_SQRT_PI * np.exp(-x * x)


@tangent(special.erfc)
def erfc_tangent(x_dot, ans, x):
    return -x_dot * TWO_OVER_SQRT_PI * np.exp(-x * x)


@adjoint(special.erfinv)
def erfinv(g, ans, y):
    """The inverse function's derivative: 1 / erf'(ans)."""
    return g * HALF_SQRT_PI * np.exp(ans * ans)


@tangent(special.erfinv)
def erfinv_tangent(y_dot, ans, y):
    return y_dot * HALF_SQRT_PI * np.exp(ans * ans)


@adjoint(special.erfcinv)
def erfcinv(g, ans, y):
    return -g * HALF_SQRT_PI * np.exp(ans * ans)


@tangent(special.erfcinv)
def erfcinv_tangent(y_dot, ans, y):
    return -y_dot * HALF_SQRT_PI * np.exp(ans * ans)


@adjoint(special.ndtr)
def ndtr(g, ans, x):
    """The standard normal CDF: its derivative is the density."""
    return g * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


@tangent(special.ndtr)
def ndtr_tangent(x_dot, ans, x):
    return x_dot * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


@adjoint(special.log_ndtr)
def log_ndtr(g, ans, x):
    """pdf(x) / cdf(x), computed as exp(log pdf - log cdf) so that it stays finite far left."""
    return g * np.exp(-0.5 * x * x - 0.5 * np.log(2.0 * np.pi) - ans)


@tangent(special.log_ndtr)
def log_ndtr_tangent(x_dot, ans, x):
    return x_dot * np.exp(-0.5 * x * x - 0.5 * np.log(2.0 * np.pi) - ans)


@adjoint(special.ndtri)
def ndtri(g, ans, y):
    return g * np.sqrt(2.0 * np.pi) * np.exp(0.5 * ans * ans)


@tangent(special.ndtri)
def ndtri_tangent(y_dot, ans, y):
    return y_dot * np.sqrt(2.0 * np.pi) * np.exp(0.5 * ans * ans)


# --- gamma and beta functions ---------------------------------------------------------

@adjoint(special.gamma)
def gamma(g, ans, x):
    return g * ans * special.digamma(x)


@tangent(special.gamma)
def gamma_tangent(x_dot, ans, x):
    return x_dot * ans * special.digamma(x)


@adjoint(special.gammaln)
def gammaln(g, ans, x):
    """d log|Gamma(x)| = digamma(x), also where Gamma(x) < 0."""
    return g * special.digamma(x)


@tangent(special.gammaln)
def gammaln_tangent(x_dot, ans, x):
    return x_dot * special.digamma(x)


@adjoint(special.digamma)          # also special.psi, the same ufunc
def digamma(g, ans, x):
    return g * special.polygamma(1, x)


@tangent(special.digamma)
def digamma_tangent(x_dot, ans, x):
    return x_dot * special.polygamma(1, x)


@adjoint(special.polygamma)
def polygamma(g, ans, n, x):
    return None, unbroadcast(g * special.polygamma(n + 1, x), x)


@tangent(special.polygamma)
def polygamma_tangent(n_dot, x_dot, ans, n, x):
    return None, x_dot * special.polygamma(n + 1, x)


@adjoint(special.rgamma)
def rgamma(g, ans, x):
    """d (1 / Gamma(x)) = -digamma(x) / Gamma(x)."""
    return -g * ans * special.digamma(x)


@tangent(special.rgamma)
def rgamma_tangent(x_dot, ans, x):
    return -x_dot * ans * special.digamma(x)


@adjoint(special.multigammaln)
def multigammaln(g, ans, a, d):
    """log Gamma_d(a) = const + sum_{j<d} gammaln(a - j/2)."""
    return g * np.sum(special.digamma(np.expand_dims(a, -1) - 0.5 * np.arange(d)), axis=-1)


@tangent(special.multigammaln)
def multigammaln_tangent(a_dot, ans, a, d):
    return a_dot * np.sum(special.digamma(np.expand_dims(a, -1) - 0.5 * np.arange(d)), axis=-1)


@adjoint(special.beta)
def beta(g, ans, a, b):
    """B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)."""
    both = special.digamma(a + b)
    return (unbroadcast(g * ans * (special.digamma(a) - both), a),
            unbroadcast(g * ans * (special.digamma(b) - both), b))


@tangent(special.beta)
def beta_tangent(a_dot, b_dot, ans, a, b):
    both = special.digamma(a + b)
    return a_dot * ans * (special.digamma(a) - both), b_dot * ans * (special.digamma(b) - both)


@adjoint(special.betaln)
def betaln(g, ans, a, b):
    both = special.digamma(a + b)
    return unbroadcast(g * (special.digamma(a) - both), a), unbroadcast(g * (special.digamma(b) - both), b)


@tangent(special.betaln)
def betaln_tangent(a_dot, b_dot, ans, a, b):
    both = special.digamma(a + b)
    return a_dot * (special.digamma(a) - both), b_dot * (special.digamma(b) - both)


@adjoint(special.gammainc)
def gammainc(g, ans, a, x):
    """The regularized lower incomplete gamma function: d/dx = x^(a-1) e^-x / Gamma(a)."""
    return None, unbroadcast(g * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a)), x)


@tangent(special.gammainc)
def gammainc_tangent(a_dot, x_dot, ans, a, x):
    return None, x_dot * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a))


@adjoint(special.gammaincc)
def gammaincc(g, ans, a, x):
    return None, unbroadcast(-g * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a)), x)


@tangent(special.gammaincc)
def gammaincc_tangent(a_dot, x_dot, ans, a, x):
    return None, -x_dot * np.exp((a - 1.0) * np.log(x) - x - special.gammaln(a))


@adjoint(special.betainc)
def betainc(g, ans, a, b, x):
    """The regularized incomplete beta function: d/dx = x^(a-1) (1-x)^(b-1) / B(a, b)."""
    density = np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - special.betaln(a, b))
    return None, None, unbroadcast(g * density, x)


@tangent(special.betainc)
def betainc_tangent(a_dot, b_dot, x_dot, ans, a, b, x):
    density = np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - special.betaln(a, b))
    return None, None, x_dot * density


# --- x log y ---------------------------------------------------------------------------

@adjoint(special.xlogy)
def xlogy(g, ans, x, y):
    """x log(y), 0 where x == 0: the derivative w.r.t. y is 0 there too."""
    return (unbroadcast(g * np.log(y), x),
            unbroadcast(g * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y)), y))


@tangent(special.xlogy)
def xlogy_tangent(x_dot, y_dot, ans, x, y):
    return x_dot * np.log(y), y_dot * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y))


@adjoint(special.xlog1py)
def xlog1py(g, ans, x, y):
    """x log(1 + y), 0 where x == 0."""
    return (unbroadcast(g * np.log1p(y), x),
            unbroadcast(g * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, 1.0 + y)), y))


@tangent(special.xlog1py)
def xlog1py_tangent(x_dot, y_dot, ans, x, y):
    return x_dot * np.log1p(y), y_dot * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, 1.0 + y))


# --- Bessel functions, w.r.t. the argument x (the order carries no rule) -----------------

@adjoint(special.j0)
def j0(g, ans, x):
    return -g * special.j1(x)


@tangent(special.j0)
def j0_tangent(x_dot, ans, x):
    return -x_dot * special.j1(x)


@adjoint(special.j1)
def j1(g, ans, x):
    return g * 0.5 * (special.j0(x) - special.jv(2, x))


@tangent(special.j1)
def j1_tangent(x_dot, ans, x):
    return x_dot * 0.5 * (special.j0(x) - special.jv(2, x))


@adjoint(special.y0)
def y0(g, ans, x):
    return -g * special.y1(x)


@tangent(special.y0)
def y0_tangent(x_dot, ans, x):
    return -x_dot * special.y1(x)


@adjoint(special.y1)
def y1(g, ans, x):
    return g * 0.5 * (special.y0(x) - special.yn(2, x))


@tangent(special.y1)
def y1_tangent(x_dot, ans, x):
    return x_dot * 0.5 * (special.y0(x) - special.yn(2, x))


@adjoint(special.i0)
def i0(g, ans, x):
    return g * special.i1(x)


@tangent(special.i0)
def i0_tangent(x_dot, ans, x):
    return x_dot * special.i1(x)


@adjoint(special.i1)
def i1(g, ans, x):
    return g * 0.5 * (special.i0(x) + special.iv(2, x))


@tangent(special.i1)
def i1_tangent(x_dot, ans, x):
    return x_dot * 0.5 * (special.i0(x) + special.iv(2, x))


@adjoint(special.jv)
def jv(g, ans, v, x):
    """J_v' = (J_{v-1} - J_{v+1}) / 2, and the same recurrence for Y_n."""
    return None, unbroadcast(g * 0.5 * (special.jv(v - 1, x) - special.jv(v + 1, x)), x)


@tangent(special.jv)
def jv_tangent(v_dot, x_dot, ans, v, x):
    return None, x_dot * 0.5 * (special.jv(v - 1, x) - special.jv(v + 1, x))


@adjoint(special.yv)
def yv(g, ans, v, x):
    return None, unbroadcast(g * 0.5 * (special.yv(v - 1, x) - special.yv(v + 1, x)), x)


@tangent(special.yv)
def yv_tangent(v_dot, x_dot, ans, v, x):
    return None, x_dot * 0.5 * (special.yv(v - 1, x) - special.yv(v + 1, x))


@adjoint(special.yn)
def yn(g, ans, n, x):
    return None, unbroadcast(g * 0.5 * (special.yn(n - 1, x) - special.yn(n + 1, x)), x)


@tangent(special.yn)
def yn_tangent(n_dot, x_dot, ans, n, x):
    return None, x_dot * 0.5 * (special.yn(n - 1, x) - special.yn(n + 1, x))


@adjoint(special.iv)
def iv(g, ans, v, x):
    """I_v' = (I_{v-1} + I_{v+1}) / 2."""
    return None, unbroadcast(g * 0.5 * (special.iv(v - 1, x) + special.iv(v + 1, x)), x)


@tangent(special.iv)
def iv_tangent(v_dot, x_dot, ans, v, x):
    return None, x_dot * 0.5 * (special.iv(v - 1, x) + special.iv(v + 1, x))


@adjoint(special.ive)
def ive(g, ans, v, x):
    """ive = iv exp(-|x|): the recurrence of iv, minus sign(x) ive."""
    return None, unbroadcast(g * (0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x))
                                  - np.sign(x) * ans), x)


@tangent(special.ive)
def ive_tangent(v_dot, x_dot, ans, v, x):
    return None, x_dot * (0.5 * (special.ive(v - 1, x) + special.ive(v + 1, x)) - np.sign(x) * ans)


@adjoint(special.kv)
def kv(g, ans, v, x):
    """K_v' = -(K_{v-1} + K_{v+1}) / 2."""
    return None, unbroadcast(-g * 0.5 * (special.kv(v - 1, x) + special.kv(v + 1, x)), x)


@tangent(special.kv)
def kv_tangent(v_dot, x_dot, ans, v, x):
    return None, -x_dot * 0.5 * (special.kv(v - 1, x) + special.kv(v + 1, x))


nondifferentiable(special.gammasgn)
