"""Rules for ``scipy._lib._array_api.xp_promote``, the dtype promotion (and
broadcast) SciPy's array-API functions (``scipy.optimize.rosen``) call on
their inputs.  A private SciPy helper of recent releases (1.17 has it, 1.15 not): on older
releases this module does not import and its rules are not registered
(``rules._load_scipy_rules``)."""

from scipy._lib._array_api import xp_promote

from srcad.rules.registry import adjoint, tangent, views
from srcad.runtime import Adjoints, broadcast_like, unbroadcast, zeros_like


def unpromote(g, args):
    """Adjoint of ``xp_promote(*args)``: each cotangent summed back to its
    argument's shape (one argument gives one array, several a tuple)."""
    pieces = (g,) if len(args) == 1 else g
    return Adjoints(zeros_like(a) if a is None else unbroadcast(p, a) for p, a in zip(pieces, args))


def promote_tangent(args_dot, ans):
    """Tangent of ``xp_promote(*args)``: each tangent broadcast to its result."""
    results = (ans,) if len(args_dot) == 1 else ans
    out = [broadcast_like(t, r) if r is not None else 0.0 for t, r in zip(args_dot, results)]
    return out[0] if len(out) == 1 else Adjoints(out)


views(xp_promote, every_argument=True)      # an argument already of the promoted dtype, itself
views(unpromote, promote_tangent)           # g itself where no axis is summed


@adjoint(xp_promote)
def xp_promote_(g, ans, *args, broadcast=False, force_floating=False, xp=None):
    return unpromote(g, args)


@tangent(xp_promote)
def xp_promote_tangent(args_dot, ans, *args, broadcast=False, force_floating=False, xp=None):
    return promote_tangent(args_dot, ans)
