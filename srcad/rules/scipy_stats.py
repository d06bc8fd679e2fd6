"""Reverse and forward rules of ``scipy.stats`` distributions (registered only
when SciPy imports).

``scipy.stats.norm.logpdf`` is a bound method of the ``norm`` distribution
object; the rule tables are keyed by it (bound methods of the same object and
function compare equal), so ``norm.logpdf(x, 0.0, s)``, ``stats.norm.logpdf(x,
loc=0.0, scale=s)`` and ``from scipy.stats import norm`` all hit the rule.
Parameter names are SciPy's: keyword calls bind to them.

Continuous distributions (``norm``, ``t``, ``gamma``, ``beta``, ``chi2``) are
location-scale families: with ``z = (x - loc) / scale``, each method's
derivative w.r.t. ``x`` is a factor ``w`` (``pdf`` for ``cdf``, ``-pdf`` for
``sf``, ``pdf / cdf`` for ``logcdf``, ``-pdf / sf`` for ``logsf``, the score of
the standard density over ``scale`` for ``logpdf``), that w.r.t. ``loc`` is
``-w`` and w.r.t. ``scale`` is ``-w z`` (``logpdf`` adds ``-1 / scale``).
``pdf`` and ``logpdf`` are differentiated w.r.t. their shape parameters
(``df``, ``a``, ``b``) as well; the distribution functions (``cdf``, ``sf``
and their logs) are not (their derivatives w.r.t. a shape parameter have no
closed form): an active shape parameter there is refused at the call.
The quantile functions ``ppf`` and ``isf`` are the inverses of ``cdf`` and
``sf``: ``d ppf / dq = 1 / pdf(ppf(q))``, ``d/dloc = 1`` and ``d/dscale = (ans -
loc) / scale`` (not w.r.t. shape parameters either).

``poisson``: ``pmf``, ``logpmf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``
w.r.t. ``mu`` (``k`` and ``loc`` are integers).  ``dirichlet``: ``pdf`` and
``logpdf`` w.r.t. ``x`` (the partial derivatives of the density's formula, as
if ``x`` were not constrained to the simplex) and ``alpha``.
``multivariate_normal``: ``pdf`` and ``logpdf`` w.r.t. ``x``, ``mean`` and
``cov``, ``entropy`` w.r.t. ``cov``; the gradient w.r.t. ``cov`` is the
symmetric one (SciPy reads one triangle of ``cov``; along symmetric
perturbations every reading agrees).
Frozen distributions (``norm(0, 1).logpdf``) have no rules.
"""

import string

import numpy as np
from scipy import special, stats

from srcad.rules.families import elementwise, family
from srcad.rules.registry import adjoint, tangent
from srcad.runtime import UnsupportedArgumentError, broadcast_like, unbroadcast


# --- norm, t, gamma, beta, chi2: location-scale families ---------------------------

#: For each continuous distribution: the score ``d/dz log p(z)`` of its standard
#: density (loc 0, scale 1) and, for each shape parameter in SciPy's order,
#: ``d log p / d shape``, in terms of ``z = (x - loc) / scale``.  The rules of
#: its methods below are written from these.
LOCATION_SCALE = {
    "norm":  {"score": "-z"},
    "t":     {"score": "-(df + 1.0) * z / (df + z * z)",
              "df": "0.5 * (special.digamma(0.5 * (df + 1.0)) - special.digamma(0.5 * df) - 1.0 / df"
                    " - np.log1p(z * z / df) + (df + 1.0) * z * z / (df * (df + z * z)))"},
    "gamma": {"score": "(a - 1.0) / z - 1.0",
              "a": "np.log(z) - special.digamma(a)"},
    "beta":  {"score": "(a - 1.0) / z - (b - 1.0) / (1.0 - z)",
              "a": "np.log(z) - special.digamma(a) + special.digamma(a + b)",
              "b": "np.log1p(-z) - special.digamma(b) + special.digamma(a + b)"},
    "chi2":  {"score": "(0.5 * df - 1.0) / z - 0.5",
              "df": "0.5 * (np.log(0.5 * z) - special.digamma(0.5 * df))"},
}


def _location_scale_rows(methods):
    """The placeholders of the templates below, for each distribution and each of
    ``methods`` (dicts of the method's own placeholders, which may use the
    distribution's: ``$dist``, ``$shapes``...)."""
    for dist, formulas in LOCATION_SCALE.items():
        shapes = [p for p in formulas if p != "score"]
        for method in methods:
            seed, times_ans = method.get("seed", "g"), method.get("times_ans", "")
            row = {"dist": dist, "score": formulas["score"], "seed": seed, "times_ans": times_ans,
                   "shapes": "".join(f"{p}, " for p in shapes),
                   "shape_dots": "".join(f"{p}_dot, " for p in shapes),
                   "nones": "None, " * len(shapes),
                   "shape_terms": "".join(f"\n    d_{p} = {formulas[p]}" for p in shapes),
                   "shape_grads": "".join(f"unbroadcast({seed} * d_{p}, {p}), " for p in shapes),
                   "shape_tangents": "".join(f"{p}_dot * {times_ans}d_{p}, " for p in shapes)}
            yield {**row, **{k: string.Template(v).substitute(row) for k, v in method.items()}}


# logpdf and pdf = exp(logpdf), w.r.t. x, the shape parameters, loc and scale:
# the score over scale for x, minus that for loc, minus z times it (and minus
# 1 / scale, the log density's own term) for scale; pdf's are ans times logpdf's
family(globals(), """
    @adjoint(stats.$dist.$method)
    def ${dist}_$method(g, ans, x, ${shapes}loc=0.0, scale=1.0):
        \"\"\"$doc\"\"\"
        z = (x - loc) / scale
        score = $score$shape_terms$seed_line
        gx = $seed * score / scale
        return (unbroadcast(gx, x), ${shape_grads}unbroadcast(-gx, loc),
                unbroadcast(-(gx * z + $seed / scale), scale))


    @tangent(stats.$dist.$method)
    def ${dist}_${method}_tangent(x_dot, ${shape_dots}loc_dot, scale_dot, ans, x, ${shapes}loc=0.0, scale=1.0):
        z = (x - loc) / scale
        score = $score$shape_terms
        dx = ${times_ans}score / scale
        return x_dot * dx, ${shape_tangents}-loc_dot * dx, -scale_dot * (dx * z + $one / scale)
""", _location_scale_rows([
    {"method": "logpdf", "seed_line": "", "one": "1.0",
     "doc": "The log density: d/dx = score / scale, the score d/dz log p(z) being\n"
            "    $score; d/dloc = -d/dx, d/dscale = -(z d/dx + 1 / scale)."},
    {"method": "pdf", "doc": "The density exp(logpdf): ans times the derivatives of ${dist}_logpdf.",
     "seed_line": "\n    g_ans = g * ans", "seed": "g_ans", "times_ans": "ans * ", "one": "ans"},
]))


# cdf, sf and their logs, w.r.t. x, loc and scale (not the shape parameters):
# w = d/dx, then d/dloc = -w and d/dscale = -z w
family(globals(), """
    @adjoint(stats.$dist.$method)
    def ${dist}_$method(g, ans, x, ${shapes}loc=0.0, scale=1.0):
        \"\"\"$doc; d/dloc = -d/dx, d/dscale = -z d/dx.\"\"\"
        gx = g * $w
        return (unbroadcast(gx, x), ${nones}unbroadcast(-gx, loc),
                unbroadcast(-gx * (x - loc) / scale, scale))


    @tangent(stats.$dist.$method)
    def ${dist}_${method}_tangent(x_dot, ${shape_dots}loc_dot, scale_dot, ans, x, ${shapes}loc=0.0, scale=1.0):
        dx = $w
        return x_dot * dx, ${nones}-loc_dot * dx, -scale_dot * dx * (x - loc) / scale
""", _location_scale_rows([
    {"method": "cdf", "doc": "d cdf / dx = pdf", "w": "stats.$dist.pdf(x, ${shapes}loc, scale)"},
    {"method": "sf", "doc": "sf = 1 - cdf", "w": "-stats.$dist.pdf(x, ${shapes}loc, scale)"},
    {"method": "logcdf", "doc": "d log cdf / dx = pdf / cdf",
     "w": "np.exp(stats.$dist.logpdf(x, ${shapes}loc, scale) - ans)"},
    {"method": "logsf", "doc": "d log sf / dx = -pdf / sf",
     "w": "-np.exp(stats.$dist.logpdf(x, ${shapes}loc, scale) - ans)"},
]))


# the quantile functions ppf and isf, inverses of cdf and sf, w.r.t. q, loc and scale
family(globals(), """
    @adjoint(stats.$dist.$method)
    def ${dist}_$method(g, ans, q, ${shapes}loc=0.0, scale=1.0):
        \"\"\"$doc; d/dloc = 1, d/dscale = (ans - loc) / scale.\"\"\"
        gq = ${sign}g / stats.$dist.pdf(ans, ${shapes}loc, scale)
        return (unbroadcast(gq, q), ${nones}unbroadcast(g, loc),
                unbroadcast(g * (ans - loc) / scale, scale))


    @tangent(stats.$dist.$method)
    def ${dist}_${method}_tangent(q_dot, ${shape_dots}loc_dot, scale_dot, ans, q, ${shapes}loc=0.0, scale=1.0):
        return (${sign}q_dot / stats.$dist.pdf(ans, ${shapes}loc, scale), ${nones}broadcast_like(loc_dot, ans),
                scale_dot * (ans - loc) / scale)
""", _location_scale_rows([
    {"method": "ppf", "doc": "ans = loc + scale ppf(q; 0, 1): d/dq = 1 / pdf(ans)", "sign": ""},
    {"method": "isf", "doc": "isf(q) = ppf(1 - q): d/dq = -1 / pdf(ans)", "sign": "-"},
]))


# --- poisson: w.r.t. mu (k and loc are integers) -----------------------------------------

@elementwise(stats.poisson.logpmf)
def poisson_logpmf(g, ans, k, mu, loc=0):
    """log p = (k - loc) log mu - mu - log((k - loc)!): d/dmu = (k - loc) / mu - 1."""
    return None, unbroadcast(g * ((k - loc) / mu - 1.0), mu), None


@elementwise(stats.poisson.pmf)
def poisson_pmf(g, ans, k, mu, loc=0):
    return None, unbroadcast(g * ans * ((k - loc) / mu - 1.0), mu), None


@elementwise(stats.poisson.cdf)
def poisson_cdf(g, ans, k, mu, loc=0):
    """cdf = gammaincc(floor(k - loc) + 1, mu): d/dmu = -pmf(floor(k))."""
    return None, unbroadcast(-g * stats.poisson.pmf(np.floor(k), mu, loc), mu), None


@elementwise(stats.poisson.sf)
def poisson_sf(g, ans, k, mu, loc=0):
    return None, unbroadcast(g * stats.poisson.pmf(np.floor(k), mu, loc), mu), None


@elementwise(stats.poisson.logcdf)
def poisson_logcdf(g, ans, k, mu, loc=0):
    return None, unbroadcast(-g * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - ans), mu), None


@elementwise(stats.poisson.logsf)
def poisson_logsf(g, ans, k, mu, loc=0):
    return None, unbroadcast(g * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - ans), mu), None


# --- dirichlet: x is (K,) or (K, N) points, alpha is (K,) ----------------------------------

def by_component(v, x):
    """A (K,) vector shaped to broadcast against x, whose first axis is the component."""
    return np.reshape(v, np.shape(v) + (1,) * (np.ndim(x) - 1))


def dirichlet_alpha_terms(x, alpha):
    """d log p / d alpha_k = log x_k - digamma(alpha_k) + digamma(sum(alpha)), per point."""
    return np.log(x) - by_component(special.digamma(alpha) - special.digamma(np.sum(alpha)), x)


def per_component(terms):
    """Sum over the points (every axis after the first): a (K,) gradient."""
    return np.sum(np.reshape(terms, (np.shape(terms)[0], -1)), axis=1)


# pdf = exp(logpdf): its derivatives are ans times logpdf's
PDF_OF_LOGPDF = [{"method": "logpdf", "seed_line": "", "seed": "g", "times_ans": ""},
                 {"method": "pdf", "seed_line": "\n    g_ans = g * ans", "seed": "g_ans", "times_ans": "ans * "}]

family(globals(), """
    @adjoint(stats.dirichlet.$method)
    def dirichlet_$method(g, ans, x, alpha):
        \"\"\"log p = sum((alpha - 1) log x) - log B(alpha).\"\"\"$seed_line
        return $seed * by_component(alpha - 1.0, x) / x, per_component($seed * dirichlet_alpha_terms(x, alpha))


    @tangent(stats.dirichlet.$method)
    def dirichlet_${method}_tangent(x_dot, alpha_dot, ans, x, alpha):
        return (${times_ans}np.sum(x_dot * by_component(alpha - 1.0, x) / x, axis=0),
                ${times_ans}np.tensordot(alpha_dot, dirichlet_alpha_terms(x, alpha), 1))
""", PDF_OF_LOGPDF)


# --- multivariate_normal: x is (..., d), mean (d,), cov (d, d) -------------------------------

def precision_residual(x, mean, cov):
    """cov^-1 (x - mean) for each point (the last axis of x): the score is minus it."""
    if np.ndim(cov) != 2 or mean is None:
        raise UnsupportedArgumentError(
            "srcad differentiates scipy.stats.multivariate_normal with a mean vector and a "
            f"(d, d) covariance matrix, not mean={'None' if mean is None else '...'} and a "
            f"{np.ndim(cov)}-d cov",
            hint="pass mean= and cov= explicitly, e.g. cov=s**2 * np.eye(d)")
    residual = np.asarray(x, dtype=float) - mean
    return np.linalg.solve(cov, residual[..., None])[..., 0]


def weighted_points(g, s):
    """g (one weight per point) times s (one vector per point)."""
    return np.expand_dims(g, -1) * s


def mvn_cov_gradient(g, s, cov):
    """d log p / d cov = (s s^T - cov^-1) / 2, weighted by g and summed over the points."""
    d = np.shape(cov)[-1]
    outer = np.reshape(weighted_points(g, s), (-1, d)).T @ np.reshape(s, (-1, d))
    return 0.5 * (outer - np.sum(g) * np.linalg.inv(cov))


def mvn_cov_tangent(cov_dot, s, cov):
    """(s^T dcov s - trace(cov^-1 dcov)) / 2 for each point."""
    return 0.5 * (np.sum(s * (s @ np.swapaxes(cov_dot, -1, -2)), axis=-1)
                  - np.trace(np.linalg.solve(cov, cov_dot)))


family(globals(), """
    @adjoint(stats.multivariate_normal.$method)
    def multivariate_normal_$method(g, ans, x, mean=None, cov=1, allow_singular=False):
        s = precision_residual(x, mean, cov)$seed_line
        return (-weighted_points($seed, s), unbroadcast(weighted_points($seed, s), mean),
                mvn_cov_gradient($seed, s, cov))


    @tangent(stats.multivariate_normal.$method)
    def multivariate_normal_${method}_tangent(x_dot, mean_dot, cov_dot, ans, x, mean=None, cov=1,
                                              allow_singular=False):
        s = precision_residual(x, mean, cov)
        return (-${times_ans}np.sum(x_dot * s, axis=-1), ${times_ans}np.sum(mean_dot * s, axis=-1),
                ${times_ans}mvn_cov_tangent(cov_dot, s, cov))
""", PDF_OF_LOGPDF)


@adjoint(stats.multivariate_normal.entropy)
def multivariate_normal_entropy(g, ans, mean=None, cov=1):
    """(log det(2 pi e cov)) / 2: d/dcov = cov^-1 / 2 (symmetric); the mean does not matter."""
    return None, 0.5 * g * np.linalg.inv(cov)


@tangent(stats.multivariate_normal.entropy)
def multivariate_normal_entropy_tangent(mean_dot, cov_dot, ans, mean=None, cov=1):
    return None, 0.5 * np.trace(np.linalg.solve(cov, cov_dot))
