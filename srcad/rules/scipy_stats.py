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

import numpy as np
from scipy import special, stats

from srcad.rules.registry import adjoint, tangent
from srcad.runtime import UnsupportedArgumentError, broadcast_like, unbroadcast


# --- norm: the normal distribution -------------------------------------------

@adjoint(stats.norm.logpdf)
def norm_logpdf(g, ans, x, loc=0.0, scale=1.0):
    """log N(x; loc, scale): the score d/dz log N(z; 0, 1) = -z, over scale."""
    z = (x - loc) / scale
    score = -z
    gx = g * score / scale
    return unbroadcast(gx, x), unbroadcast(-gx, loc), unbroadcast(-(gx * z + g / scale), scale)


@tangent(stats.norm.logpdf)
def norm_logpdf_tangent(x_dot, loc_dot, scale_dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = -z
    dx = score / scale
    return x_dot * dx, -loc_dot * dx, -scale_dot * (dx * z + 1.0 / scale)


@adjoint(stats.norm.pdf)
def norm_pdf(g, ans, x, loc=0.0, scale=1.0):
    """N(x; loc, scale) = exp(logpdf): the score d/dz log N(z; 0, 1) = -z, over scale."""
    z = (x - loc) / scale
    score = -z
    g_ans = g * ans
    gx = g_ans * score / scale
    return unbroadcast(gx, x), unbroadcast(-gx, loc), unbroadcast(-(gx * z + g_ans / scale), scale)


@tangent(stats.norm.pdf)
def norm_pdf_tangent(x_dot, loc_dot, scale_dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = -z
    dx = ans * score / scale
    return x_dot * dx, -loc_dot * dx, -scale_dot * (dx * z + ans / scale)


@adjoint(stats.norm.cdf)
def norm_cdf(g, ans, x, loc=0.0, scale=1.0):
    """d cdf / dx = pdf; d/dloc = -d/dx, d/dscale = -z d/dx."""
    gx = g * stats.norm.pdf(x, loc, scale)
    return unbroadcast(gx, x), unbroadcast(-gx, loc), unbroadcast(-gx * (x - loc) / scale, scale)


@tangent(stats.norm.cdf)
def norm_cdf_tangent(x_dot, loc_dot, scale_dot, ans, x, loc=0.0, scale=1.0):
    dx = stats.norm.pdf(x, loc, scale)
    return x_dot * dx, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.norm.sf)
def norm_sf(g, ans, x, loc=0.0, scale=1.0):
    """sf = 1 - cdf; d/dloc = -d/dx, d/dscale = -z d/dx."""
    gx = g * -stats.norm.pdf(x, loc, scale)
    return unbroadcast(gx, x), unbroadcast(-gx, loc), unbroadcast(-gx * (x - loc) / scale, scale)


@tangent(stats.norm.sf)
def norm_sf_tangent(x_dot, loc_dot, scale_dot, ans, x, loc=0.0, scale=1.0):
    dx = -stats.norm.pdf(x, loc, scale)
    return x_dot * dx, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.norm.logcdf)
def norm_logcdf(g, ans, x, loc=0.0, scale=1.0):
    """d log cdf / dx = pdf / cdf; d/dloc = -d/dx, d/dscale = -z d/dx."""
    gx = g * np.exp(stats.norm.logpdf(x, loc, scale) - ans)
    return unbroadcast(gx, x), unbroadcast(-gx, loc), unbroadcast(-gx * (x - loc) / scale, scale)


@tangent(stats.norm.logcdf)
def norm_logcdf_tangent(x_dot, loc_dot, scale_dot, ans, x, loc=0.0, scale=1.0):
    dx = np.exp(stats.norm.logpdf(x, loc, scale) - ans)
    return x_dot * dx, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.norm.logsf)
def norm_logsf(g, ans, x, loc=0.0, scale=1.0):
    """d log sf / dx = -pdf / sf; d/dloc = -d/dx, d/dscale = -z d/dx."""
    gx = g * -np.exp(stats.norm.logpdf(x, loc, scale) - ans)
    return unbroadcast(gx, x), unbroadcast(-gx, loc), unbroadcast(-gx * (x - loc) / scale, scale)


@tangent(stats.norm.logsf)
def norm_logsf_tangent(x_dot, loc_dot, scale_dot, ans, x, loc=0.0, scale=1.0):
    dx = -np.exp(stats.norm.logpdf(x, loc, scale) - ans)
    return x_dot * dx, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.norm.ppf)
def norm_ppf(g, ans, q, loc=0.0, scale=1.0):
    """ans = loc + scale ppf(q; 0, 1): d/dq = 1 / pdf(ans); d/dloc = 1, d/dscale = (ans - loc) / scale."""
    gq = g / stats.norm.pdf(ans, loc, scale)
    return unbroadcast(gq, q), unbroadcast(g, loc), unbroadcast(g * (ans - loc) / scale, scale)


@tangent(stats.norm.ppf)
def norm_ppf_tangent(q_dot, loc_dot, scale_dot, ans, q, loc=0.0, scale=1.0):
    return (q_dot / stats.norm.pdf(ans, loc, scale), broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)


@adjoint(stats.norm.isf)
def norm_isf(g, ans, q, loc=0.0, scale=1.0):
    """isf(q) = ppf(1 - q): d/dq = -1 / pdf(ans); d/dloc = 1, d/dscale = (ans - loc) / scale."""
    gq = -g / stats.norm.pdf(ans, loc, scale)
    return unbroadcast(gq, q), unbroadcast(g, loc), unbroadcast(g * (ans - loc) / scale, scale)


@tangent(stats.norm.isf)
def norm_isf_tangent(q_dot, loc_dot, scale_dot, ans, q, loc=0.0, scale=1.0):
    return (-q_dot / stats.norm.pdf(ans, loc, scale), broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)



# --- t: Student's t distribution ---------------------------------------------

@adjoint(stats.t.logpdf)
def t_logpdf(g, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = -(df + 1.0) * z / (df + z * z)
    d_df = 0.5 * (special.digamma(0.5 * (df + 1.0)) - special.digamma(0.5 * df) - 1.0 / df
                  - np.log1p(z * z / df) + (df + 1.0) * z * z / (df * (df + z * z)))
    gx = g * score / scale
    return (unbroadcast(gx, x), unbroadcast(g * d_df, df), unbroadcast(-gx, loc),
            unbroadcast(-(gx * z + g / scale), scale))


@tangent(stats.t.logpdf)
def t_logpdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = -(df + 1.0) * z / (df + z * z)
    d_df = 0.5 * (special.digamma(0.5 * (df + 1.0)) - special.digamma(0.5 * df) - 1.0 / df
                  - np.log1p(z * z / df) + (df + 1.0) * z * z / (df * (df + z * z)))
    dx = score / scale
    return x_dot * dx, df_dot * d_df, -loc_dot * dx, -scale_dot * (dx * z + 1.0 / scale)


@adjoint(stats.t.pdf)
def t_pdf(g, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = -(df + 1.0) * z / (df + z * z)
    d_df = 0.5 * (special.digamma(0.5 * (df + 1.0)) - special.digamma(0.5 * df) - 1.0 / df
                  - np.log1p(z * z / df) + (df + 1.0) * z * z / (df * (df + z * z)))
    g_ans = g * ans
    gx = g_ans * score / scale
    return (unbroadcast(gx, x), unbroadcast(g_ans * d_df, df), unbroadcast(-gx, loc),
            unbroadcast(-(gx * z + g_ans / scale), scale))


@tangent(stats.t.pdf)
def t_pdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = -(df + 1.0) * z / (df + z * z)
    d_df = 0.5 * (special.digamma(0.5 * (df + 1.0)) - special.digamma(0.5 * df) - 1.0 / df
                  - np.log1p(z * z / df) + (df + 1.0) * z * z / (df * (df + z * z)))
    dx = ans * score / scale
    return x_dot * dx, df_dot * ans * d_df, -loc_dot * dx, -scale_dot * (dx * z + ans / scale)


@adjoint(stats.t.cdf)
def t_cdf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * stats.t.pdf(x, df, loc, scale)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.t.cdf)
def t_cdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = stats.t.pdf(x, df, loc, scale)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.t.sf)
def t_sf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * -stats.t.pdf(x, df, loc, scale)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.t.sf)
def t_sf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = -stats.t.pdf(x, df, loc, scale)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.t.logcdf)
def t_logcdf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * np.exp(stats.t.logpdf(x, df, loc, scale) - ans)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.t.logcdf)
def t_logcdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = np.exp(stats.t.logpdf(x, df, loc, scale) - ans)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.t.logsf)
def t_logsf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * -np.exp(stats.t.logpdf(x, df, loc, scale) - ans)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.t.logsf)
def t_logsf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = -np.exp(stats.t.logpdf(x, df, loc, scale) - ans)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.t.ppf)
def t_ppf(g, ans, q, df, loc=0.0, scale=1.0):
    gq = g / stats.t.pdf(ans, df, loc, scale)
    return (unbroadcast(gq, q), None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.t.ppf)
def t_ppf_tangent(q_dot, df_dot, loc_dot, scale_dot, ans, q, df, loc=0.0, scale=1.0):
    return (q_dot / stats.t.pdf(ans, df, loc, scale), None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)


@adjoint(stats.t.isf)
def t_isf(g, ans, q, df, loc=0.0, scale=1.0):
    gq = -g / stats.t.pdf(ans, df, loc, scale)
    return (unbroadcast(gq, q), None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.t.isf)
def t_isf_tangent(q_dot, df_dot, loc_dot, scale_dot, ans, q, df, loc=0.0, scale=1.0):
    return (-q_dot / stats.t.pdf(ans, df, loc, scale), None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)



# --- gamma: the gamma distribution -------------------------------------------

@adjoint(stats.gamma.logpdf)
def gamma_logpdf(g, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - 1.0
    d_a = np.log(z) - special.digamma(a)
    gx = g * score / scale
    return (unbroadcast(gx, x), unbroadcast(g * d_a, a), unbroadcast(-gx, loc),
            unbroadcast(-(gx * z + g / scale), scale))


@tangent(stats.gamma.logpdf)
def gamma_logpdf_tangent(x_dot, a_dot, loc_dot, scale_dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - 1.0
    d_a = np.log(z) - special.digamma(a)
    dx = score / scale
    return x_dot * dx, a_dot * d_a, -loc_dot * dx, -scale_dot * (dx * z + 1.0 / scale)


@adjoint(stats.gamma.pdf)
def gamma_pdf(g, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - 1.0
    d_a = np.log(z) - special.digamma(a)
    g_ans = g * ans
    gx = g_ans * score / scale
    return (unbroadcast(gx, x), unbroadcast(g_ans * d_a, a), unbroadcast(-gx, loc),
            unbroadcast(-(gx * z + g_ans / scale), scale))


@tangent(stats.gamma.pdf)
def gamma_pdf_tangent(x_dot, a_dot, loc_dot, scale_dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - 1.0
    d_a = np.log(z) - special.digamma(a)
    dx = ans * score / scale
    return x_dot * dx, a_dot * ans * d_a, -loc_dot * dx, -scale_dot * (dx * z + ans / scale)


@adjoint(stats.gamma.cdf)
def gamma_cdf(g, ans, x, a, loc=0.0, scale=1.0):
    gx = g * stats.gamma.pdf(x, a, loc, scale)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.gamma.cdf)
def gamma_cdf_tangent(x_dot, a_dot, loc_dot, scale_dot, ans, x, a, loc=0.0, scale=1.0):
    dx = stats.gamma.pdf(x, a, loc, scale)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.gamma.sf)
def gamma_sf(g, ans, x, a, loc=0.0, scale=1.0):
    gx = g * -stats.gamma.pdf(x, a, loc, scale)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.gamma.sf)
def gamma_sf_tangent(x_dot, a_dot, loc_dot, scale_dot, ans, x, a, loc=0.0, scale=1.0):
    dx = -stats.gamma.pdf(x, a, loc, scale)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.gamma.logcdf)
def gamma_logcdf(g, ans, x, a, loc=0.0, scale=1.0):
    gx = g * np.exp(stats.gamma.logpdf(x, a, loc, scale) - ans)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.gamma.logcdf)
def gamma_logcdf_tangent(x_dot, a_dot, loc_dot, scale_dot, ans, x, a, loc=0.0, scale=1.0):
    dx = np.exp(stats.gamma.logpdf(x, a, loc, scale) - ans)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.gamma.logsf)
def gamma_logsf(g, ans, x, a, loc=0.0, scale=1.0):
    gx = g * -np.exp(stats.gamma.logpdf(x, a, loc, scale) - ans)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.gamma.logsf)
def gamma_logsf_tangent(x_dot, a_dot, loc_dot, scale_dot, ans, x, a, loc=0.0, scale=1.0):
    dx = -np.exp(stats.gamma.logpdf(x, a, loc, scale) - ans)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.gamma.ppf)
def gamma_ppf(g, ans, q, a, loc=0.0, scale=1.0):
    gq = g / stats.gamma.pdf(ans, a, loc, scale)
    return (unbroadcast(gq, q), None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.gamma.ppf)
def gamma_ppf_tangent(q_dot, a_dot, loc_dot, scale_dot, ans, q, a, loc=0.0, scale=1.0):
    return (q_dot / stats.gamma.pdf(ans, a, loc, scale), None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)


@adjoint(stats.gamma.isf)
def gamma_isf(g, ans, q, a, loc=0.0, scale=1.0):
    gq = -g / stats.gamma.pdf(ans, a, loc, scale)
    return (unbroadcast(gq, q), None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.gamma.isf)
def gamma_isf_tangent(q_dot, a_dot, loc_dot, scale_dot, ans, q, a, loc=0.0, scale=1.0):
    return (-q_dot / stats.gamma.pdf(ans, a, loc, scale), None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)



# --- beta: the beta distribution ---------------------------------------------

@adjoint(stats.beta.logpdf)
def beta_logpdf(g, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - (b - 1.0) / (1.0 - z)
    d_a = np.log(z) - special.digamma(a) + special.digamma(a + b)
    d_b = np.log1p(-z) - special.digamma(b) + special.digamma(a + b)
    gx = g * score / scale
    return (unbroadcast(gx, x), unbroadcast(g * d_a, a), unbroadcast(g * d_b, b),
            unbroadcast(-gx, loc), unbroadcast(-(gx * z + g / scale), scale))


@tangent(stats.beta.logpdf)
def beta_logpdf_tangent(x_dot, a_dot, b_dot, loc_dot, scale_dot, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - (b - 1.0) / (1.0 - z)
    d_a = np.log(z) - special.digamma(a) + special.digamma(a + b)
    d_b = np.log1p(-z) - special.digamma(b) + special.digamma(a + b)
    dx = score / scale
    return x_dot * dx, a_dot * d_a, b_dot * d_b, -loc_dot * dx, -scale_dot * (dx * z + 1.0 / scale)


@adjoint(stats.beta.pdf)
def beta_pdf(g, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - (b - 1.0) / (1.0 - z)
    d_a = np.log(z) - special.digamma(a) + special.digamma(a + b)
    d_b = np.log1p(-z) - special.digamma(b) + special.digamma(a + b)
    g_ans = g * ans
    gx = g_ans * score / scale
    return (unbroadcast(gx, x), unbroadcast(g_ans * d_a, a), unbroadcast(g_ans * d_b, b),
            unbroadcast(-gx, loc), unbroadcast(-(gx * z + g_ans / scale), scale))


@tangent(stats.beta.pdf)
def beta_pdf_tangent(x_dot, a_dot, b_dot, loc_dot, scale_dot, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (a - 1.0) / z - (b - 1.0) / (1.0 - z)
    d_a = np.log(z) - special.digamma(a) + special.digamma(a + b)
    d_b = np.log1p(-z) - special.digamma(b) + special.digamma(a + b)
    dx = ans * score / scale
    return (x_dot * dx, a_dot * ans * d_a, b_dot * ans * d_b, -loc_dot * dx,
            -scale_dot * (dx * z + ans / scale))


@adjoint(stats.beta.cdf)
def beta_cdf(g, ans, x, a, b, loc=0.0, scale=1.0):
    gx = g * stats.beta.pdf(x, a, b, loc, scale)
    return (unbroadcast(gx, x), None, None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.beta.cdf)
def beta_cdf_tangent(x_dot, a_dot, b_dot, loc_dot, scale_dot, ans, x, a, b, loc=0.0, scale=1.0):
    dx = stats.beta.pdf(x, a, b, loc, scale)
    return x_dot * dx, None, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.beta.sf)
def beta_sf(g, ans, x, a, b, loc=0.0, scale=1.0):
    gx = g * -stats.beta.pdf(x, a, b, loc, scale)
    return (unbroadcast(gx, x), None, None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.beta.sf)
def beta_sf_tangent(x_dot, a_dot, b_dot, loc_dot, scale_dot, ans, x, a, b, loc=0.0, scale=1.0):
    dx = -stats.beta.pdf(x, a, b, loc, scale)
    return x_dot * dx, None, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.beta.logcdf)
def beta_logcdf(g, ans, x, a, b, loc=0.0, scale=1.0):
    gx = g * np.exp(stats.beta.logpdf(x, a, b, loc, scale) - ans)
    return (unbroadcast(gx, x), None, None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.beta.logcdf)
def beta_logcdf_tangent(x_dot, a_dot, b_dot, loc_dot, scale_dot, ans, x, a, b, loc=0.0, scale=1.0):
    dx = np.exp(stats.beta.logpdf(x, a, b, loc, scale) - ans)
    return x_dot * dx, None, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.beta.logsf)
def beta_logsf(g, ans, x, a, b, loc=0.0, scale=1.0):
    gx = g * -np.exp(stats.beta.logpdf(x, a, b, loc, scale) - ans)
    return (unbroadcast(gx, x), None, None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.beta.logsf)
def beta_logsf_tangent(x_dot, a_dot, b_dot, loc_dot, scale_dot, ans, x, a, b, loc=0.0, scale=1.0):
    dx = -np.exp(stats.beta.logpdf(x, a, b, loc, scale) - ans)
    return x_dot * dx, None, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.beta.ppf)
def beta_ppf(g, ans, q, a, b, loc=0.0, scale=1.0):
    gq = g / stats.beta.pdf(ans, a, b, loc, scale)
    return (unbroadcast(gq, q), None, None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.beta.ppf)
def beta_ppf_tangent(q_dot, a_dot, b_dot, loc_dot, scale_dot, ans, q, a, b, loc=0.0, scale=1.0):
    return (q_dot / stats.beta.pdf(ans, a, b, loc, scale), None, None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)


@adjoint(stats.beta.isf)
def beta_isf(g, ans, q, a, b, loc=0.0, scale=1.0):
    gq = -g / stats.beta.pdf(ans, a, b, loc, scale)
    return (unbroadcast(gq, q), None, None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.beta.isf)
def beta_isf_tangent(q_dot, a_dot, b_dot, loc_dot, scale_dot, ans, q, a, b, loc=0.0, scale=1.0):
    return (-q_dot / stats.beta.pdf(ans, a, b, loc, scale), None, None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)



# --- chi2: the chi-squared distribution --------------------------------------

@adjoint(stats.chi2.logpdf)
def chi2_logpdf(g, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (0.5 * df - 1.0) / z - 0.5
    d_df = 0.5 * (np.log(0.5 * z) - special.digamma(0.5 * df))
    gx = g * score / scale
    return (unbroadcast(gx, x), unbroadcast(g * d_df, df), unbroadcast(-gx, loc),
            unbroadcast(-(gx * z + g / scale), scale))


@tangent(stats.chi2.logpdf)
def chi2_logpdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (0.5 * df - 1.0) / z - 0.5
    d_df = 0.5 * (np.log(0.5 * z) - special.digamma(0.5 * df))
    dx = score / scale
    return x_dot * dx, df_dot * d_df, -loc_dot * dx, -scale_dot * (dx * z + 1.0 / scale)


@adjoint(stats.chi2.pdf)
def chi2_pdf(g, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (0.5 * df - 1.0) / z - 0.5
    d_df = 0.5 * (np.log(0.5 * z) - special.digamma(0.5 * df))
    g_ans = g * ans
    gx = g_ans * score / scale
    return (unbroadcast(gx, x), unbroadcast(g_ans * d_df, df), unbroadcast(-gx, loc),
            unbroadcast(-(gx * z + g_ans / scale), scale))


@tangent(stats.chi2.pdf)
def chi2_pdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    score = (0.5 * df - 1.0) / z - 0.5
    d_df = 0.5 * (np.log(0.5 * z) - special.digamma(0.5 * df))
    dx = ans * score / scale
    return x_dot * dx, df_dot * ans * d_df, -loc_dot * dx, -scale_dot * (dx * z + ans / scale)


@adjoint(stats.chi2.cdf)
def chi2_cdf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * stats.chi2.pdf(x, df, loc, scale)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.chi2.cdf)
def chi2_cdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = stats.chi2.pdf(x, df, loc, scale)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.chi2.sf)
def chi2_sf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * -stats.chi2.pdf(x, df, loc, scale)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.chi2.sf)
def chi2_sf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = -stats.chi2.pdf(x, df, loc, scale)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.chi2.logcdf)
def chi2_logcdf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * np.exp(stats.chi2.logpdf(x, df, loc, scale) - ans)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.chi2.logcdf)
def chi2_logcdf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = np.exp(stats.chi2.logpdf(x, df, loc, scale) - ans)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.chi2.logsf)
def chi2_logsf(g, ans, x, df, loc=0.0, scale=1.0):
    gx = g * -np.exp(stats.chi2.logpdf(x, df, loc, scale) - ans)
    return (unbroadcast(gx, x), None, unbroadcast(-gx, loc),
            unbroadcast(-gx * (x - loc) / scale, scale))


@tangent(stats.chi2.logsf)
def chi2_logsf_tangent(x_dot, df_dot, loc_dot, scale_dot, ans, x, df, loc=0.0, scale=1.0):
    dx = -np.exp(stats.chi2.logpdf(x, df, loc, scale) - ans)
    return x_dot * dx, None, -loc_dot * dx, -scale_dot * dx * (x - loc) / scale


@adjoint(stats.chi2.ppf)
def chi2_ppf(g, ans, q, df, loc=0.0, scale=1.0):
    gq = g / stats.chi2.pdf(ans, df, loc, scale)
    return (unbroadcast(gq, q), None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.chi2.ppf)
def chi2_ppf_tangent(q_dot, df_dot, loc_dot, scale_dot, ans, q, df, loc=0.0, scale=1.0):
    return (q_dot / stats.chi2.pdf(ans, df, loc, scale), None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)


@adjoint(stats.chi2.isf)
def chi2_isf(g, ans, q, df, loc=0.0, scale=1.0):
    gq = -g / stats.chi2.pdf(ans, df, loc, scale)
    return (unbroadcast(gq, q), None, unbroadcast(g, loc),
            unbroadcast(g * (ans - loc) / scale, scale))


@tangent(stats.chi2.isf)
def chi2_isf_tangent(q_dot, df_dot, loc_dot, scale_dot, ans, q, df, loc=0.0, scale=1.0):
    return (-q_dot / stats.chi2.pdf(ans, df, loc, scale), None, broadcast_like(loc_dot, ans),
            scale_dot * (ans - loc) / scale)


# --- poisson: w.r.t. mu (k and loc are integers) -----------------------------------------

@adjoint(stats.poisson.logpmf)
def poisson_logpmf(g, ans, k, mu, loc=0):
    """log p = (k - loc) log mu - mu - log((k - loc)!): d/dmu = (k - loc) / mu - 1."""
    return None, unbroadcast(g * ((k - loc) / mu - 1.0), mu), None


@tangent(stats.poisson.logpmf)
def poisson_logpmf_tangent(k_dot, mu_dot, loc_dot, ans, k, mu, loc=0):
    return None, mu_dot * ((k - loc) / mu - 1.0), None


@adjoint(stats.poisson.pmf)
def poisson_pmf(g, ans, k, mu, loc=0):
    return None, unbroadcast(g * ans * ((k - loc) / mu - 1.0), mu), None


@tangent(stats.poisson.pmf)
def poisson_pmf_tangent(k_dot, mu_dot, loc_dot, ans, k, mu, loc=0):
    return None, mu_dot * ans * ((k - loc) / mu - 1.0), None


@adjoint(stats.poisson.cdf)
def poisson_cdf(g, ans, k, mu, loc=0):
    """cdf = gammaincc(floor(k - loc) + 1, mu): d/dmu = -pmf(floor(k))."""
    return None, unbroadcast(-g * stats.poisson.pmf(np.floor(k), mu, loc), mu), None


@tangent(stats.poisson.cdf)
def poisson_cdf_tangent(k_dot, mu_dot, loc_dot, ans, k, mu, loc=0):
    return None, -mu_dot * stats.poisson.pmf(np.floor(k), mu, loc), None


@adjoint(stats.poisson.sf)
def poisson_sf(g, ans, k, mu, loc=0):
    return None, unbroadcast(g * stats.poisson.pmf(np.floor(k), mu, loc), mu), None


@tangent(stats.poisson.sf)
def poisson_sf_tangent(k_dot, mu_dot, loc_dot, ans, k, mu, loc=0):
    return None, mu_dot * stats.poisson.pmf(np.floor(k), mu, loc), None


@adjoint(stats.poisson.logcdf)
def poisson_logcdf(g, ans, k, mu, loc=0):
    return None, unbroadcast(-g * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - ans), mu), None


@tangent(stats.poisson.logcdf)
def poisson_logcdf_tangent(k_dot, mu_dot, loc_dot, ans, k, mu, loc=0):
    return None, -mu_dot * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - ans), None


@adjoint(stats.poisson.logsf)
def poisson_logsf(g, ans, k, mu, loc=0):
    return None, unbroadcast(g * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - ans), mu), None


@tangent(stats.poisson.logsf)
def poisson_logsf_tangent(k_dot, mu_dot, loc_dot, ans, k, mu, loc=0):
    return None, mu_dot * np.exp(stats.poisson.logpmf(np.floor(k), mu, loc) - ans), None


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


@adjoint(stats.dirichlet.logpdf)
def dirichlet_logpdf(g, ans, x, alpha):
    """log p = sum((alpha - 1) log x) - log B(alpha)."""
    return g * by_component(alpha - 1.0, x) / x, per_component(g * dirichlet_alpha_terms(x, alpha))


@tangent(stats.dirichlet.logpdf)
def dirichlet_logpdf_tangent(x_dot, alpha_dot, ans, x, alpha):
    return (np.sum(x_dot * by_component(alpha - 1.0, x) / x, axis=0),
            np.tensordot(alpha_dot, dirichlet_alpha_terms(x, alpha), 1))


@adjoint(stats.dirichlet.pdf)
def dirichlet_pdf(g, ans, x, alpha):
    g_ans = g * ans
    return g_ans * by_component(alpha - 1.0, x) / x, per_component(g_ans * dirichlet_alpha_terms(x, alpha))


@tangent(stats.dirichlet.pdf)
def dirichlet_pdf_tangent(x_dot, alpha_dot, ans, x, alpha):
    return (ans * np.sum(x_dot * by_component(alpha - 1.0, x) / x, axis=0),
            ans * np.tensordot(alpha_dot, dirichlet_alpha_terms(x, alpha), 1))


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


@adjoint(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf(g, ans, x, mean=None, cov=1, allow_singular=False):
    s = precision_residual(x, mean, cov)
    return (-weighted_points(g, s), unbroadcast(weighted_points(g, s), mean),
            mvn_cov_gradient(g, s, cov))


@tangent(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_tangent(x_dot, mean_dot, cov_dot, ans, x, mean=None, cov=1,
                                       allow_singular=False):
    s = precision_residual(x, mean, cov)
    return -np.sum(x_dot * s, axis=-1), np.sum(mean_dot * s, axis=-1), mvn_cov_tangent(cov_dot, s, cov)


@adjoint(stats.multivariate_normal.pdf)
def multivariate_normal_pdf(g, ans, x, mean=None, cov=1, allow_singular=False):
    s = precision_residual(x, mean, cov)
    g_ans = g * ans
    return (-weighted_points(g_ans, s), unbroadcast(weighted_points(g_ans, s), mean),
            mvn_cov_gradient(g_ans, s, cov))


@tangent(stats.multivariate_normal.pdf)
def multivariate_normal_pdf_tangent(x_dot, mean_dot, cov_dot, ans, x, mean=None, cov=1,
                                    allow_singular=False):
    s = precision_residual(x, mean, cov)
    return (-ans * np.sum(x_dot * s, axis=-1), ans * np.sum(mean_dot * s, axis=-1),
            ans * mvn_cov_tangent(cov_dot, s, cov))


@adjoint(stats.multivariate_normal.entropy)
def multivariate_normal_entropy(g, ans, mean=None, cov=1):
    """(log det(2 pi e cov)) / 2: d/dcov = cov^-1 / 2 (symmetric); the mean does not matter."""
    return None, 0.5 * g * np.linalg.inv(cov)


@tangent(stats.multivariate_normal.entropy)
def multivariate_normal_entropy_tangent(mean_dot, cov_dot, ans, mean=None, cov=1):
    return None, 0.5 * np.trace(np.linalg.solve(cov, cov_dot))
