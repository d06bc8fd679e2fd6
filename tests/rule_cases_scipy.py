"""The rule cases of SciPy's functions: ``CASES``, like ``rule_cases.CASES``.

Empty when SciPy does not import (its rules are not registered then).  The
cases use the :class:`rule_cases.Case` form and its seeded input generators,
so the tests of ``test_rules`` and ``test_forward`` run on them unchanged
(``test_scipy_rules`` does that): central finite differences for every
reverse and forward rule, and the transpose check between the two.
Inputs keep away from domain edges, poles and kinks.
"""

import numpy as np

from rule_cases import (RNG, Case, above_one, fmt, fmt_kwargs, nonzero, positive, real, unit)

CASES = []

try:
    import scipy  # noqa: F401
except ImportError:            # pragma: no cover - SciPy is in the test extra
    scipy = None


def case(primitive, *args, diff=(0,), tag="", name=None, **kwargs):
    id_ = (name or primitive.__name__) + (f"-{tag}" if tag else "")
    if kwargs:
        id_ += "-" + fmt_kwargs(kwargs)
    CASES.append(Case(primitive, args, kwargs, tuple(diff), id_))


def _draw(shape, low, high):
    values = RNG.uniform(low, high, () if shape is None else shape)
    return float(values) if shape is None else values


def interval(low, high):
    return lambda shape: _draw(shape, low, high)


UNARY_SHAPES = [None, (), (3,), (3, 2)]
BINARY_SHAPES = [(None, None), ((), ()), ((3,), (3,)), ((3, 2), (3, 2)),
                 ((3, 2), (2,)), ((3, 1), (1, 2)), ((), (3,)), (None, (3,))]


def _special_cases():
    from scipy import special as sp

    from srcad.rules.scipy_special import logsumexp_float64
    unary = [
        (sp.expit, real), (sp.log_expit, real), (sp.logit, interval(0.05, 0.95)),
        (sp.erf, real), (sp.erfc, real), (sp.erfinv, unit), (sp.erfcinv, interval(0.1, 1.9)),
        (sp.ndtr, real), (sp.log_ndtr, real), (sp.ndtri, interval(0.05, 0.95)),
        (sp.gamma, positive), (sp.gammaln, positive), (sp.digamma, positive),
        (sp.rgamma, positive), (sp.j0, real), (sp.j1, real), (sp.y0, positive), (sp.y1, positive),
        (sp.i0, real), (sp.i1, real),
    ]
    for prim, domain in unary:
        for shape in UNARY_SHAPES:
            case(prim, domain(shape), tag=fmt(shape), name="special." + prim.__name__)
    case(sp.gamma, interval(-0.9, -0.1)((3,)), tag="negative", name="special.gamma")
    case(sp.gammaln, interval(-0.9, -0.1)((3,)), tag="negative", name="special.gammaln")
    binary = [(sp.beta, positive, positive), (sp.betaln, positive, positive),
              (sp.xlogy, real, positive), (sp.xlog1py, real, interval(-0.5, 2.0))]
    for prim, d1, d2 in binary:
        for s1, s2 in BINARY_SHAPES:
            case(prim, d1(s1), d2(s2), diff=(0, 1), tag=f"{fmt(s1)}-{fmt(s2)}",
                 name="special." + prim.__name__)
    # an order or shape parameter first, the argument x second (differentiated)
    second = [(sp.gammainc, positive, positive), (sp.gammaincc, positive, positive),
              (sp.jv, lambda s: RNG.choice([0.0, 1.0, 2.0, 3.0], () if s is None else s) * 1.0, real),
              (sp.jv, lambda s: 1.5, positive), (sp.yv, lambda s: 1.5, positive),
              (sp.yn, lambda s: RNG.integers(0, 4, () if s is None else s), positive),
              (sp.iv, lambda s: 2.5, positive), (sp.iv, lambda s: 2.0, real),
              (sp.ive, lambda s: 1.0, nonzero), (sp.kv, lambda s: 0.5, positive),
              (sp.polygamma, lambda s: RNG.integers(0, 3, () if s is None else s), positive)]
    for prim, d1, d2 in second:
        for s1, s2 in [(None, None), ((3,), (3,)), ((3, 2), (2,)), ((), (3, 2)), ((3, 1), (1, 2))]:
            case(prim, d1(s1), d2(s2), diff=(1,), tag=f"{fmt(s1)}-{fmt(s2)}",
                 name="special." + prim.__name__)
    for shapes in [(None, None, None), ((3,), (3,), (3,)), ((), (), (3, 2)), ((2,), (3, 1), (2,))]:
        a, b, x = positive(shapes[0]), positive(shapes[1]), interval(0.1, 0.9)(shapes[2])
        case(sp.betainc, a, b, x, diff=(2,), tag="-".join(map(fmt, shapes)), name="special.betainc")
    for d in (1, 2, 3):
        for shape in (None, (), (3,)):
            case(sp.multigammaln, above_one(shape) + 0.5, d, tag=f"{fmt(shape)}-d{d}",
                 name="special.multigammaln")

    # logsumexp_float64: what generated forward sweeps call for it (same rules)
    for lse, name in ((sp.logsumexp, "special.logsumexp"), (logsumexp_float64, "logsumexp_float64")):
        for shape in UNARY_SHAPES:
            case(lse, real(shape), tag=fmt(shape), name=name)
        x = real((3, 2))
        for kwargs in [{"axis": 0}, {"axis": -1}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)},
                       {"keepdims": True}]:
            case(lse, x, tag="(3,2)", name=name, **kwargs)
        case(lse, real((2, 3, 2)), (0, 2), tag="(2,3,2)", name=name)
    name = "special.logsumexp"
    # weights b: positional (a, axis, b) so that both are differentiated
    for sa, sb, axis in [((3,), (3,), None), ((3, 2), (3, 2), 0), ((3, 2), (2,), -1),
                         ((3, 2), (3, 1), None), ((), (), None), ((3,), (), 0), ((2,), (3, 2), 0)]:
        case(sp.logsumexp, real(sa), axis, positive(sb), diff=(0, 2),
             tag=f"{fmt(sa)}-b{fmt(sb)}-axis{axis}", name=name)
    case(sp.logsumexp, real((3, 2)), 1, positive((3, 2)), True, diff=(0, 2), tag="b-keepdims",
         name=name)
    for prim in (sp.softmax, sp.log_softmax):
        for shape in [None, (), (3,)]:
            case(prim, real(shape), tag=fmt(shape), name="special." + prim.__name__)
        for kwargs in [{}, {"axis": 0}, {"axis": 1}, {"axis": -1}, {"axis": (0, 1)}]:
            case(prim, real((3, 2)), tag="(3,2)", name="special." + prim.__name__, **kwargs)


def _location_scale_cases():
    """Each method of norm, t, gamma, beta, chi2 over broadcasting shapes, positionally:
    (x, *shape parameters, loc, scale).  x is drawn inside the support: x = loc + scale z."""
    from scipy import stats
    families = [  # name, shape parameter domains, standardized z domain
        ("norm", [], real), ("t", [interval(1.0, 5.0)], real),
        ("gamma", [interval(0.8, 3.0)], interval(0.5, 3.0)),
        ("beta", [interval(0.8, 3.0), interval(0.8, 3.0)], interval(0.1, 0.9)),
        ("chi2", [interval(1.5, 5.0)], interval(0.5, 3.0)),
    ]
    layouts = [  # shapes of (x, shape parameters, loc, scale)
        (None, None, None, None), ((3,), (), (), ()), ((3, 2), (2,), (3, 1), ()),
        ((3,), (3,), None, (3,)), ((2, 3), None, (3,), (2, 1)),
    ]
    for name, shape_domains, z_domain in families:
        dist = getattr(stats, name)
        n = len(shape_domains)
        for sx, sp_, sl, ss in layouts:
            loc, scale = interval(-0.5, 0.5)(sl), interval(0.6, 1.8)(ss)
            zs = z_domain(sx)
            # x shaped sx; z from its own draw, so broadcasting keeps x inside the support
            shapes = [d(sp_) for d in shape_domains]
            x = np.asarray(loc + scale * np.ones(np.shape(zs)) * zs)
            if np.shape(x) != (() if sx is None else sx):
                loc = float(np.min(loc)) if np.ndim(loc) else loc
                scale = float(np.min(scale)) if np.ndim(scale) else scale
                x = loc + scale * zs
            x = float(x) if sx is None else np.asarray(x, dtype=float)
            args = (x, *shapes, loc, scale)
            tag = "-".join(map(fmt, (sx, sp_, sl, ss)))
            for method in ("logpdf", "pdf"):
                case(getattr(dist, method), *args, diff=tuple(range(n + 3)), tag=tag,
                     name=f"stats.{name}.{method}")
            for method in ("cdf", "sf", "logcdf", "logsf"):
                case(getattr(dist, method), *args, diff=(0, n + 1, n + 2), tag=tag,
                     name=f"stats.{name}.{method}")
            q = interval(0.05, 0.95)(sx)
            for method in ("ppf", "isf"):
                case(getattr(dist, method), q, *args[1:], diff=(0, n + 1, n + 2), tag=tag,
                     name=f"stats.{name}.{method}")
        # the standard form: x and shape parameters only
        x = z_domain((3,))
        for method in ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf", "ppf", "isf"):
            diff = tuple(range(n + 1)) if "pdf" in method else (0,)
            first = interval(0.05, 0.95)((3,)) if method in ("ppf", "isf") else x
            case(getattr(dist, method), first, *[d((3,)) for d in shape_domains], diff=diff,
                 tag="standard", name=f"stats.{name}.{method}")


def _discrete_and_multivariate_cases():
    from scipy import stats
    for method in ("logpmf", "pmf", "cdf", "sf", "logcdf", "logsf"):
        prim = getattr(stats.poisson, method)
        name = f"stats.poisson.{method}"
        for sk, smu in [(None, None), ((3,), (3,)), ((3, 2), (2,)), ((), (3,))]:
            k = RNG.integers(0, 5, () if sk is None else sk)
            k = int(k) if sk is None else k
            case(prim, k, interval(0.5, 4.0)(smu), diff=(1,), tag=f"{fmt(sk)}-{fmt(smu)}", name=name)
        if "pmf" not in method:        # the pmf is 0 at a non-integer k, the cdf a step
            case(prim, np.array([2.5, 0.3, 4.7]), interval(0.5, 4.0)((3,)), diff=(1,), tag="real-k",
                 name=name)
        case(prim, np.array([3, 4, 6]), interval(0.5, 4.0)((3,)), 2, diff=(1,), tag="loc", name=name)
    for method in ("logpdf", "pdf"):
        prim = getattr(stats.dirichlet, method)
        for shape in [(3,), (3, 4)]:
            x = RNG.uniform(0.2, 1.0, shape)
            x = x / np.sum(x, axis=0)
            # x must stay on the simplex: finite differences w.r.t. alpha only here
            case(prim, x, interval(0.8, 3.0)((3,)), diff=(1,), tag=fmt(shape),
                 name=f"stats.dirichlet.{method}")
    from rule_cases import spd
    for method in ("logpdf", "pdf"):
        prim = getattr(stats.multivariate_normal, method)
        for shape in [(2,), (4, 2), (2, 3, 2), (3,)]:
            d = shape[-1]
            x = 0.5 * real(shape)
            # cov only along symmetric directions: test_scipy_rules
            case(prim, x, 0.3 * real((d,)), 0.5 * spd((d, d)), diff=(0, 1), tag=fmt(shape),
                 name=f"stats.multivariate_normal.{method}")
    # cov only along symmetric directions (test_scipy_rules); the mean has no gradient
    case(stats.multivariate_normal.entropy, np.zeros(3), spd((3, 3)), diff=(), tag="(3,3)",
         name="stats.multivariate_normal.entropy")


def _signal_and_linalg_cases():
    from scipy import linalg, signal
    from rule_cases import spd
    for s1, s2 in [((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((1,), (3,)), ((4, 3), (2, 2)),
                   ((2, 3), (3, 4)), ((3, 4, 2), (2, 2, 2))]:
        for mode in ("full", "same", "valid"):
            if mode == "valid" and not (all(a >= b for a, b in zip(s1, s2))
                                        or all(a <= b for a, b in zip(s1, s2))):
                continue                      # SciPy refuses such a valid convolution
            for prim in (signal.convolve, signal.correlate):
                case(prim, real(s1), real(s2), mode, diff=(0, 1),
                     tag=f"{fmt(s1)}-{fmt(s2)}-{mode}", name="signal." + prim.__name__)
    case(signal.convolve, real((6,)), real((3,)), diff=(0, 1), tag="direct", name="signal.convolve",
         method="direct")
    case(signal.convolve, real((6, 2)), real((3, 2)), diff=(0, 1), tag="fft", name="signal.convolve",
         mode="same", method="fft")
    case(signal.correlate, real((3, 5)), real((2, 3)), diff=(0, 1), tag="fft", name="signal.correlate",
         mode="same", method="fft")
    case(signal.correlate, real((3,)), real((5,)), diff=(0, 1), tag="direct", name="signal.correlate",
         mode="valid", method="direct")

    from srcad.rules.scipy_other import full_cotangent
    for sg, s1, s2 in [((3,), (4,), (2,)), ((4,), (4,), (2,)), ((2, 2), (3, 2), (2, 3)), ((5,), (4,), (2,))]:
        case(full_cotangent, real(sg), real(s1), real(s2), tag=f"{fmt(sg)}-{fmt(s1)}-{fmt(s2)}",
             name="scipy_other.full_cotangent")

    def triangular(n, lower):
        m = RNG.uniform(-0.5, 0.5, (n, n)) + 2.0 * np.eye(n)
        return np.tril(m) if lower else np.triu(m)

    for lower in (False, True):
        for trans in (0, 1, "T"):
            for unit in (False, True):
                for sb in [(3,), (3, 2)]:
                    a = triangular(3, lower)
                    case(linalg.solve_triangular, a, real(sb), trans, lower, unit, diff=(0, 1),
                         tag=f"{fmt(sb)}-lower{lower}-trans{trans}-unit{unit}",
                         name="linalg.solve_triangular")
    case(linalg.solve_triangular, RNG.uniform(-0.5, 0.5, (3, 3)) + 2 * np.eye(3), real((3,)),
         diff=(0, 1), tag="full-matrix", name="linalg.solve_triangular", lower=True)
    for lower in (True, False):
        for sb in [(3,), (3, 2)]:
            c = np.linalg.cholesky(spd((3, 3)))
            c = c if lower else c.T
            # the factor is a tuple (c, lower): its gradient is checked in test_scipy_rules
            case(linalg.cho_solve, (c, lower), real(sb), diff=(1,), tag=f"{fmt(sb)}-lower{lower}",
                 name="linalg.cho_solve")
    for n in (1, 2, 3):
        case(linalg.sqrtm, spd((n, n)), tag=f"spd{n}", name="linalg.sqrtm")
    case(linalg.sqrtm, np.array([[4.0, 1.0], [0.5, 3.0]]), tag="nonsymmetric", name="linalg.sqrtm")
    for n, m in [(2, 2), (3, 2), (1, 3)]:
        a = RNG.uniform(-0.5, 0.5, (n, n)) + 2 * np.eye(n)
        b = RNG.uniform(-0.5, 0.5, (m, m)) + 1.5 * np.eye(m)
        case(linalg.solve_sylvester, a, b, real((n, m)), diff=(0, 1, 2), tag=f"{n}x{m}",
             name="linalg.solve_sylvester")


def decay(y, t, k):
    """A linear right-hand side: y(t) = y0 exp(-k (t - t0))."""
    return -k * y


def damped_pendulum(y, t, b, c):
    return np.stack([y[1], -b * y[1] - c * np.sin(y[0]) + 0.1 * np.cos(t)])


def _odeint_cases():
    from scipy import integrate
    tight = {"rtol": 1e-13, "atol": 1e-13}
    case(integrate.odeint, decay, np.array([1.0, 2.0]), np.array([0.0, 0.5, 1.0, 2.0]), (0.7,),
         diff=(1, 2, 3), tag="decay", name="integrate.odeint", **tight)
    case(integrate.odeint, damped_pendulum, np.array([0.5, 0.1]), np.linspace(0.2, 2.0, 4),
         (0.25, np.float64(5.0)), diff=(1, 2, 3), tag="pendulum", name="integrate.odeint", **tight)
    # integrating backwards in time: test_scipy_rules (the solver's noise needs a larger step)


def _array_api_cases():
    try:                              # a private helper of recent SciPy releases
        from scipy._lib._array_api import array_namespace, xp_promote
    except ImportError:
        return
    xp = array_namespace(np.ones(2))
    from rule_cases import VarargsCase
    for tag, arrays, kwargs in [("one", (real((3, 2)),), {"force_floating": True}),
                                ("broadcast", (real((3, 2)), real((2,))), {"broadcast": True})]:
        CASES.append(VarargsCase(xp_promote, (arrays,), {**kwargs, "xp": xp}, (0,), f"xp_promote-{tag}"))


def _check_unique_ids():
    seen = {}
    for c in CASES:
        n = seen.get(c.id, 0)
        seen[c.id] = n + 1
        if n:
            c.id = f"{c.id}#{n + 1}"


if scipy is not None:
    _special_cases()
    _location_scale_cases()
    _discrete_and_multivariate_cases()
    _signal_and_linalg_cases()
    _odeint_cases()
    _array_api_cases()
    _check_unique_ids()
