"""One table of test cases, ``CASES``, that covers every derivative rule srcad ships.

A :class:`Case` is one call of a primitive with concrete inputs::

    case = Case(np.sum, (x,), {"axis": 0}, diff=(0,), id="np.sum-(3,2)-axis=0")
    case.call()              # np.sum(x, axis=0)
    case.call(other_args)    # the same call with other positional arguments

``diff`` holds the positions of the differentiable arguments: Python floats,
float64 arrays, or -- for ``np.concatenate``, ``np.stack``, ``np.hstack``,
``np.vstack`` -- a tuple of them, whose gradient is a tuple too.  Every other
argument, and every keyword argument, is static (an axis, a shape, a bound
used as a constant, the condition of ``np.where``).

Inputs come from one seeded generator, in the domain of each primitive, and
keep clear of kinks, ties and domain edges by at least 0.1, so that central
finite differences are accurate.  Shapes run over a Python float (``None``
below), ``()``, ``(3,)``, ``(3, 2)`` and, for binary elementwise primitives,
broadcasting pairs; reductions run over ``axis``/``keepdims`` variants; ndarray
methods are called in their function form, ``np.ndarray.sum(x, axis=0)``.

The table is plain data: other test modules import it to run each case through
the whole pipeline (``srcad.grad`` of a function that makes the same call).
"""

import math
import operator
from dataclasses import dataclass, field

import numpy as np

from srcad.runtime import identity

#: the installed NumPy's (major, minor): a few cases use arguments only some versions take
NUMPY = tuple(int(part) for part in np.__version__.split(".")[:2])

RNG = np.random.default_rng(20261122)


@dataclass(eq=False)
class Case:
    """``primitive(*args, **kwargs)``; ``diff``: positions of differentiable args."""

    primitive: object
    args: tuple
    kwargs: dict = field(default_factory=dict)
    diff: tuple = (0,)
    id: str = ""

    def call(self, args=None):
        """Run the primitive, on ``args`` instead of ``self.args`` if given."""
        return self.primitive(*(self.args if args is None else args), **self.kwargs)

    def rule_args(self):
        """The positional arguments as the rule receives them."""
        return self.args

    def replace(self, index, value):
        """``self.args`` with the argument at ``index`` replaced by ``value``."""
        args = list(self.args)
        args[index] = value
        return tuple(args)

    def __repr__(self):
        return f"Case({self.id})"


def _fresh(a):
    if isinstance(a, np.ndarray):
        return np.copy(a)
    if isinstance(a, list):
        return [_fresh(x) for x in a]
    return a


class CopyingCase(Case):
    """A case whose primitive updates its first argument in place (``setitem``):
    every call works on copies, so the case's own arrays never change."""

    def call(self, args=None):
        args = self.args if args is None else args
        return self.primitive(*[_fresh(a) for a in args], **self.kwargs)

    def __repr__(self):
        return f"CopyingCase({self.id})"


class VarargsCase(Case):
    """A case of a primitive with ``*args`` (``np.einsum(subscripts, *operands)``,
    ``np.meshgrid(*xi)``): its last argument holds the arguments bound to
    ``*args`` as one tuple, whose gradient (and tangent) is a tuple too, as
    for ``np.concatenate``'s sequence."""

    def call(self, args=None):
        args = self.args if args is None else args
        return self.primitive(*args[:-1], *args[-1], **self.kwargs)

    def rule_args(self):
        return (*self.args[:-1], *self.args[-1])

    def __repr__(self):
        return f"VarargsCase({self.id})"


def name_of(primitive):
    """A short readable name: ``np.sin``, ``ndarray.sum``, ``math.log``, ``operator.add``."""
    if isinstance(primitive, np.ufunc):       # scipy.special's ufuncs are not NumPy's
        numpy_own = getattr(np, primitive.__name__, None) is primitive
        return ("np." if numpy_own else "special.") + primitive.__name__
    if getattr(primitive, "__objclass__", None) is np.ndarray:
        return "ndarray." + primitive.__name__
    module = getattr(primitive, "__module__", None) or ""
    prefix = {"numpy": "np.", "numpy.linalg": "np.linalg.", "math": "math.",
              "_operator": "operator.", "operator": "operator.", "builtins": ""}.get(module)
    if prefix is None:
        prefix = module.rsplit(".", 1)[-1] + "."
    return prefix + primitive.__name__


# --- inputs ----------------------------------------------------------------------
# A shape of None stands for a Python float.

def _draw(shape, values):
    values = np.asarray(values, dtype=np.float64)
    return float(values) if shape is None else values


def _size(shape):
    return () if shape is None else shape


def real(shape):
    return _draw(shape, RNG.uniform(-2.0, 2.0, _size(shape)))


def positive(shape):
    return _draw(shape, RNG.uniform(0.5, 2.0, _size(shape)))


def unit(shape):
    """Inside (-1, 1), away from the ends: arcsin, arccos, arctanh."""
    return _draw(shape, RNG.uniform(-0.9, 0.9, _size(shape)))


def above_one(shape):
    return _draw(shape, RNG.uniform(1.2, 3.0, _size(shape)))


def nonzero(shape):
    """Away from 0: abs, reciprocal, denominators."""
    sign = RNG.choice([-1.0, 1.0], _size(shape))
    return _draw(shape, sign * RNG.uniform(0.5, 2.0, _size(shape)))


def grid(shape, offset):
    """Values offset + k/2: two grids with offsets 0.25 apart never tie."""
    return _draw(shape, RNG.integers(-4, 4, _size(shape)) * 0.5 + offset)


def distinct(shape):
    """All elements at least 0.2 apart: no ties in max/min, no zero spread in std."""
    n = int(np.prod(_size(shape), dtype=int))
    values = (RNG.permutation(n) - n / 2) * 0.3 + RNG.uniform(-0.05, 0.05, n)
    return _draw(shape, values.reshape(_size(shape)))


def spd(shape):
    """A well-conditioned symmetric positive definite matrix (or stack of them)."""
    m = RNG.uniform(-1.0, 1.0, shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


def well_conditioned(shape):
    return RNG.uniform(-0.5, 0.5, shape) + 2.0 * np.eye(shape[-1])


def fmt(shape):
    return "float" if shape is None else str(shape).replace(" ", "")


def fmt_kwargs(kwargs):
    return ",".join(f"{k}={v}".replace(" ", "") for k, v in kwargs.items())


CASES = []


def case(primitive, *args, diff=(0,), tag="", **kwargs):
    id_ = name_of(primitive) + (f"-{tag}" if tag else "")
    if kwargs:
        id_ += "-" + fmt_kwargs(kwargs)
    CASES.append(Case(primitive, args, kwargs, tuple(diff), id_))


# --- elementwise, one argument -------------------------------------------------------

UNARY_SHAPES = [None, (), (3,), (3, 2)]

NUMPY_UNARY = [
    (np.sin, real), (np.cos, real), (np.tan, unit), (np.arcsin, unit), (np.arccos, unit),
    (np.arctan, real), (np.sinh, real), (np.cosh, real), (np.tanh, real),
    (np.arcsinh, real), (np.arccosh, above_one), (np.arctanh, unit),
    (np.exp, real), (np.exp2, real), (np.expm1, real), (np.log, positive), (np.log1p, positive),
    (np.log2, positive), (np.log10, positive), (np.sqrt, positive), (np.cbrt, nonzero),
    (np.square, real), (np.absolute, nonzero), (np.fabs, nonzero), (np.reciprocal, nonzero),
    (np.negative, real), (np.positive, real), (operator.neg, real), (operator.pos, real),
    (identity, real),
]
for prim, domain in NUMPY_UNARY:
    for shape in UNARY_SHAPES:
        case(prim, domain(shape), tag=fmt(shape))

MATH_UNARY = [
    (math.sin, real), (math.cos, real), (math.tan, unit), (math.asin, unit), (math.acos, unit),
    (math.atan, real), (math.sinh, real), (math.cosh, real), (math.tanh, real),
    (math.asinh, real), (math.acosh, above_one), (math.atanh, unit), (math.exp, real),
    (math.expm1, real), (math.log, positive), (math.log1p, positive), (math.log2, positive),
    (math.log10, positive), (math.sqrt, positive), (math.erf, real), (math.erfc, real),
    (math.fabs, nonzero), (abs, nonzero), (float, real),
]
for prim, domain in MATH_UNARY:
    case(prim, domain(None), tag="float")
    case(prim, domain(()), tag="0d")
case(abs, nonzero((3, 2)), tag="(3,2)")

# --- elementwise, two arguments --------------------------------------------------------

BINARY_SHAPES = [(None, None), ((), ()), ((3,), (3,)), ((3, 2), (3, 2)),
                 ((3, 2), (2,)), ((3, 1), (1, 2)), ((), (3,)), (None, (3,))]


def _mod_pair(s1, s2):
    """x, y with x / y at least 0.05 away from an integer (floor does not jump)."""
    y = positive(s2)
    while True:
        x = real(s1)
        ratio = np.asarray(x / y)
        frac = ratio - np.floor(ratio)
        if np.all((frac > 0.05) & (frac < 0.95)):
            return x, y


def _apart_pair(s1, s2):
    return grid(s1, 0.25), grid(s2, 0.0)


BINARY = [
    (operator.add, real, real), (np.add, real, real),
    (operator.sub, real, real), (np.subtract, real, real),
    (operator.mul, real, real), (np.multiply, real, real),
    (operator.truediv, real, nonzero), (np.divide, real, nonzero), (np.true_divide, real, nonzero),
    (operator.pow, positive, real), (np.power, positive, real),
    (np.arctan2, real, nonzero), (np.hypot, nonzero, real),
    (np.logaddexp, real, real), (np.logaddexp2, real, real),
    (np.maximum, _apart_pair), (np.minimum, _apart_pair),
    (np.fmax, _apart_pair), (np.fmin, _apart_pair),
    (operator.mod, _mod_pair), (np.mod, _mod_pair), (np.remainder, _mod_pair),
]
for prim, *domains in BINARY:
    for s1, s2 in BINARY_SHAPES:
        args = domains[0](s1, s2) if len(domains) == 1 else (domains[0](s1), domains[1](s2))
        case(prim, *args, diff=(0, 1), tag=f"{fmt(s1)}-{fmt(s2)}")

# x ** y for negative x needs an integer y; d/dy is taken as 0 there, so only x is checked.
for prim in (operator.pow, np.power):
    case(prim, -positive((3, 2)), np.array([2.0, 3.0]), diff=(0,), tag="negative-base")
case(math.pow, 1.3, 0.7, diff=(0, 1), tag="float")
case(math.pow, -1.3, 3.0, diff=(0,), tag="negative-base")
case(math.atan2, 0.7, -1.2, diff=(0, 1), tag="float")
case(math.atan2, -0.4, 0.3, diff=(0, 1), tag="float2")
case(math.hypot, 0.7, -1.2, diff=(0, 1), tag="float")
case(math.log, 1.7, 3.0, diff=(0, 1), tag="base")
case(math.log, 0.6, 0.5, diff=(0, 1), tag="base<1")
case(max, 0.3, -1.2, diff=(0, 1), tag="first")
case(max, 0.3, 1.2, diff=(0, 1), tag="second")
case(min, 0.3, -1.2, diff=(0, 1), tag="second")
case(min, 0.3, 1.2, diff=(0, 1), tag="first")

# --- where and clip -------------------------------------------------------------------

for sc, sx, sy in [((3, 2), (3, 2), (3, 2)), ((3, 2), (2,), ()), ((3, 1), (1, 2), (3, 2)),
                   ((), None, None), ((3,), None, (3,))]:
    condition = RNG.random(_size(sc)) > 0.5
    case(np.where, condition, real(sx), real(sy), diff=(1, 2), tag=f"{fmt(sc)}-{fmt(sx)}-{fmt(sy)}")


def clipped(shape):
    """Values (2k + 1) / 8: at least 1/8 away from any bound that is a multiple of 1/4."""
    return _draw(shape, (RNG.integers(-4, 4, _size(shape)) + 0.5) * 0.25)


def low_bound(shape):
    return _draw(shape, -0.25 * RNG.integers(1, 3, _size(shape)))


def high_bound(shape):
    return _draw(shape, 0.25 * RNG.integers(1, 3, _size(shape)))


case(np.clip, clipped((3, 2)), -0.5, 0.5, diff=(0, 1, 2), tag="floats")
case(np.clip, clipped((3, 2)), low_bound((2,)), high_bound((3, 1)), diff=(0, 1, 2), tag="arrays")
case(np.clip, clipped((3,)), None, 0.25, diff=(0, 2), tag="no-min")
case(np.clip, clipped((3,)), -0.25, None, diff=(0, 1), tag="no-max")
case(np.clip, clipped(None), -0.25, 0.25, diff=(0, 1, 2), tag="float")
case(np.clip, clipped((3, 2)), diff=(0,), a_min=-0.5, a_max=0.25)
case(np.ndarray.clip, clipped((3, 2)), -0.5, 0.5, diff=(0, 1, 2), tag="positional")
case(np.ndarray.clip, clipped((3, 2)), low_bound((3, 1)), None, diff=(0, 1), tag="arrays")
case(np.ndarray.clip, clipped((3, 2)), diff=(0,), min=-0.25)

# --- reductions ---------------------------------------------------------------------------

REDUCTIONS = [
    ((3, 2), {}), ((3, 2), {"axis": 0}), ((3, 2), {"axis": -1}), ((3, 2), {"axis": (0, 1)}),
    ((3, 2), {"keepdims": True}), ((3, 2), {"axis": 0, "keepdims": True}),
    ((3, 2), {"axis": -1, "keepdims": True}), ((3, 2), {"axis": (0, 1), "keepdims": True}),
    ((2, 3, 2), {"axis": (0, -1)}), ((2, 3, 2), {"axis": 1, "keepdims": True}),
    ((3,), {}), ((3,), {"axis": 0}), ((), {}), (None, {}),
]
METHOD_REDUCTIONS = [((3, 2), {}), ((3, 2), {"axis": 0}), ((3, 2), {"axis": -1, "keepdims": True}),
                     ((2, 3, 2), {"axis": (0, 2)}), ((), {})]

for prims, domain in [((np.sum, np.mean, np.prod), real), ((np.max, np.amax, np.min, np.amin), distinct),
                      ((np.var, np.std), distinct)]:
    for prim in prims:
        for shape, kwargs in REDUCTIONS:
            if prim is np.std and not shape:
                continue                    # the std of one number is 0, where sqrt has no derivative
            case(prim, domain(shape), tag=fmt(shape), **kwargs)
for prim, domain in [(np.ndarray.sum, real), (np.ndarray.mean, real), (np.ndarray.prod, real),
                     (np.ndarray.max, distinct), (np.ndarray.min, distinct),
                     (np.ndarray.var, distinct), (np.ndarray.std, distinct)]:
    for shape, kwargs in METHOD_REDUCTIONS:
        if prim is np.ndarray.std and not shape:
            continue
        case(prim, domain(shape), tag=fmt(shape), **kwargs)
for prim in (np.var, np.std, np.ndarray.var, np.ndarray.std):
    case(prim, distinct((3, 2)), tag="(3,2)", ddof=1)
    case(prim, distinct((3, 2)), tag="(3,2)", axis=0, ddof=1, keepdims=True)
    case(prim, distinct((4,)), tag="(4,)", ddof=2)

# products with zeros: the gradient is the product of the others, exact without division
case(np.prod, np.array([[1.5, 0.0], [-0.7, 1.2], [0.0, 0.0]]), tag="zeros", axis=1)
case(np.prod, np.array([[1.5, 0.0], [-0.7, 1.2], [0.9, 1.1]]), tag="one-zero")
case(np.prod, np.array([[1.5, 0.0], [-0.7, 0.0], [0.9, 1.1]]), tag="two-zeros")

for shape, kwargs in [((3, 2), {}), ((3, 2), {"axis": 0}), ((3, 2), {"axis": -1}), ((3,), {}),
                      (None, {}), ((2, 3, 2), {"axis": 1})]:
    case(np.cumsum, real(shape), tag=fmt(shape), **kwargs)
case(np.ndarray.cumsum, real((3, 2)), tag="(3,2)", axis=0)
case(np.ndarray.cumsum, real((3, 2)), tag="(3,2)")

# --- products ------------------------------------------------------------------------------

DOT_SHAPES = [((), (3,)), ((3,), ()), ((), ()), ((3,), (3,)), ((3, 2), (2,)), ((3,), (3, 2)),
              ((2, 3), (3, 4)), ((2, 2, 3), (3, 2)), ((2, 3), (4, 3, 2)), ((3,), (2, 3, 4)),
              ((2, 3, 4), (4,))]
for s1, s2 in DOT_SHAPES:
    case(np.dot, real(s1), real(s2), diff=(0, 1), tag=f"{s1}-{s2}".replace(" ", ""))
for s1, s2 in [((3, 2), (2,)), ((2, 3), (3, 4)), ((3,), (3,))]:
    case(np.ndarray.dot, real(s1), real(s2), diff=(0, 1), tag=f"{s1}-{s2}".replace(" ", ""))
case(np.dot, 1.5, real((3,)), diff=(0, 1), tag="float-(3,)")

for s1, s2 in [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 3), (4, 3)), ((), (3,)),
               ((2, 2, 3), (2, 3)), ((2, 3), ())]:
    case(np.inner, real(s1), real(s2), diff=(0, 1), tag=f"{s1}-{s2}".replace(" ", ""))

for s1, s2 in [((3,), (2,)), ((2, 2), (3,)), ((), (2,)), (None, (2,))]:
    case(np.outer, real(s1), real(s2), diff=(0, 1), tag=f"{fmt(s1)}-{fmt(s2)}")

for prim in (operator.matmul, np.matmul):
    for s1, s2 in [((3,), (3,)), ((3, 2), (2,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                   ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)),
                   ((2, 3, 4), (4,))]:
        case(prim, real(s1), real(s2), diff=(0, 1), tag=f"{s1}-{s2}".replace(" ", ""))

case(np.trace, real((3, 3)), tag="(3,3)")
case(np.trace, real((3, 2)), tag="(3,2)", offset=1)
case(np.trace, real((2, 3, 3)), tag="(2,3,3)", offset=-1, axis1=1, axis2=2)
case(np.trace, real((3, 2, 3)), tag="(3,2,3)", axis1=0, axis2=2)
case(np.trace, real((3, 2, 3)), tag="(3,2,3)", axis1=-1, axis2=0)
case(np.ndarray.trace, real((3, 3)), tag="(3,3)")
case(np.ndarray.trace, real((2, 3, 3)), tag="(2,3,3)", axis1=1, axis2=2)

for prim in (np.tril, np.triu):
    case(prim, real((3, 3)), tag="(3,3)")
    case(prim, real((2, 3, 4)), -1, tag="(2,3,4)")
    case(prim, real((3, 2)), tag="(3,2)", k=1)
case(np.linspace, 0.5, 2.0, 5, diff=(0, 1), tag="floats")
case(np.linspace, -0.5, 2.0, diff=(0, 1), tag="floats", num=4, endpoint=False)
case(np.linspace, 0.5, 2.0, 1, diff=(0, 1), tag="num=1")
case(np.linspace, real((2,)), 1.5, 4, diff=(0, 1), tag="(2,)-float")
case(np.linspace, real((2,)), real((3, 1)), 4, diff=(0, 1), tag="(2,)-(3,1)", axis=-1)
case(np.linspace, real(()), real((2,)), 3, diff=(0, 1), tag="()-(2,)", axis=1)

# --- shapes ---------------------------------------------------------------------------------

case(np.transpose, real((3, 2)), tag="(3,2)")
case(np.transpose, real((2, 3, 4)), tag="(2,3,4)")
case(np.transpose, real((2, 3, 4)), (1, 0, 2), tag="(2,3,4)")
case(np.transpose, real((2, 3, 4)), tag="(2,3,4)", axes=(-1, 0, 1))
case(np.ndarray.transpose, real((3, 2)), tag="(3,2)")
case(np.ndarray.transpose, real((2, 3, 4)), 2, 0, 1, tag="(2,3,4)-unpacked")
case(np.ndarray.transpose, real((2, 3, 4)), (1, 2, 0), tag="(2,3,4)-packed")
case(np.ndarray.transpose, real((3,)), 0, tag="(3,)")

case(np.reshape, real((3, 2)), (2, 3), tag="(3,2)")
case(np.reshape, real((3, 2)), (-1,), tag="(3,2)")
case(np.reshape, real((3, 2)), (2, 3), tag="(3,2)", order="F")
if NUMPY >= (2, 1):                      # shape= is newshape= before NumPy 2.1
    case(np.reshape, real((6,)), tag="(6,)", shape=(3, 1, 2))
else:
    case(np.reshape, real((6,)), tag="(6,)", newshape=(3, 1, 2))
case(np.reshape, real(()), (1, 1), tag="()")
case(np.ndarray.reshape, real((3, 2)), 2, 3, tag="(3,2)-unpacked")
case(np.ndarray.reshape, real((3, 2)), (6,), tag="(3,2)-packed")
case(np.ndarray.reshape, real((3, 2)), -1, tag="(3,2)")
case(np.ndarray.reshape, real((3, 2)), 2, 3, tag="(3,2)", order="F")

for prim in (np.ravel, np.ndarray.ravel, np.ndarray.flatten):
    case(prim, real((3, 2)), tag="(3,2)")
    case(prim, real((3, 2)), tag="(3,2)", order="F")
case(np.ravel, real(()), tag="()")

case(np.squeeze, real((3, 1, 2)), tag="(3,1,2)")
case(np.squeeze, real((1, 3, 1)), tag="(1,3,1)", axis=0)
case(np.squeeze, real((1,)), tag="(1,)")
case(np.ndarray.squeeze, real((3, 1, 2)), tag="(3,1,2)")
case(np.ndarray.squeeze, real((3, 1, 1)), tag="(3,1,1)", axis=(1, 2))

case(np.expand_dims, real((3, 2)), 0, tag="(3,2)")
case(np.expand_dims, real((3, 2)), -1, tag="(3,2)")
case(np.expand_dims, real((3, 2)), (0, 2), tag="(3,2)")
case(np.expand_dims, real(()), 0, tag="()")

case(np.swapaxes, real((3, 2)), 0, 1, tag="(3,2)")
case(np.swapaxes, real((2, 3, 2)), 0, -1, tag="(2,3,2)")
case(np.ndarray.swapaxes, real((2, 3, 2)), 1, 2, tag="(2,3,2)")

case(np.moveaxis, real((2, 3, 2)), 0, -1, tag="(2,3,2)")
case(np.moveaxis, real((2, 3, 2)), (0, 1), (2, 0), tag="(2,3,2)")

case(np.flip, real((3, 2)), tag="(3,2)")
case(np.flip, real((3, 2)), 0, tag="(3,2)")
case(np.flip, real((2, 3, 2)), tag="(2,3,2)", axis=(0, 2))
case(np.flip, real(()), tag="()")

case(np.broadcast_to, real((2,)), (3, 2), tag="(2,)")
case(np.broadcast_to, real((3, 1)), (3, 2), tag="(3,1)")
case(np.broadcast_to, real(()), (3,), tag="()")
case(np.broadcast_to, real(None), (2,), tag="float")
case(np.broadcast_to, real((3, 2)), tag="(3,2)", shape=(3, 2))

for prim in (np.copy, np.ndarray.copy):
    case(prim, real((3, 2)), tag="(3,2)")
    case(prim, real(()), tag="()")
case(np.copy, real(None), tag="float")

# getitem: the adjoint scatters, accumulating where an index repeats
for index, tag in [(1, "int"), (slice(0, 2), "slice"), ((slice(None), 1), "column"),
                   (np.array([0, 2, 0]), "repeated"), ((np.array([0, 1, 2]), np.array([1, 1, 0])), "pairs"),
                   (np.array([[True, False], [False, True], [True, True]]), "mask"),
                   ((-1, -1), "element"), (Ellipsis, "ellipsis")]:
    case(operator.getitem, real((3, 2)), index, tag=tag)
case(operator.getitem, real((3,)), np.array([2, 2, 2]), tag="(3,)-repeated")

# setitem: x[index] = value, in place; the old x gets no gradient where it was overwritten
from srcad.runtime import setitem  # noqa: E402
for index, value_shape, tag in [(1, (2,), "row"), ((slice(None), 0), (3,), "column"),
                                (slice(0, 2), (2, 2), "slice"), ((0, 1), (), "element"),
                                (slice(0, 2), (2,), "broadcast-value")]:
    CASES.append(CopyingCase(setitem, (real((3, 2)), index, real(value_shape)), {}, (0, 2),
                             f"runtime.setitem-{tag}"))

# --- sequences of arrays: the one argument is a tuple (or list), its gradient a tuple -------

case(np.concatenate, (real((3, 2)), real((1, 2))), tag="2")
case(np.concatenate, (real((3, 2)), real((3, 1)), real((3, 3))), tag="3", axis=1)
case(np.concatenate, [real((3, 2)), real((3, 1))], tag="list", axis=-1)
case(np.concatenate, (real((3, 2)), real((2,))), tag="flat", axis=None)
case(np.concatenate, (real((3,)),), tag="1")

case(np.stack, (real((3,)), real((3,))), tag="(3,)")

# lists: np.array / np.asarray of a list, sum of a list, appending (in place)
case(np.array, [real((3,)), real((3,))], tag="rows")
case(np.array, [real(None), real(()), real(None)], tag="scalars")
case(np.array, real((3, 2)), tag="array")
case(np.asarray, [real((2,)), real((2,))], tag="rows")
import builtins  # noqa: E402
case(builtins.sum, [real((3,)), real((3,)), real((3,))], tag="arrays")
case(builtins.sum, [real((3, 2)), real((2,))], tag="broadcast")
case(builtins.sum, (real(None), real(None)), tag="floats")
from srcad.runtime import list_append  # noqa: E402
CASES.append(CopyingCase(list_append, ([real((2,)), real((2,))], real((2,))), {}, (0, 1),
                         "runtime.list_append-(2,)"))
case(np.stack, (real((3,)), real((3,))), tag="(3,)", axis=1)
case(np.stack, [real((3, 2)), real((3, 2)), real((3, 2))], tag="(3,2)", axis=-1)
case(np.stack, (real(()), real(None)), tag="scalars")

case(np.hstack, (real((3,)), real((2,))), tag="1d")
case(np.hstack, (real((3, 2)), real((3, 1))), tag="2d")
case(np.hstack, (real(()), real((2,)), real(None)), tag="scalars")

case(np.vstack, (real((3,)), real((3,))), tag="1d")
case(np.vstack, (real((3, 2)), real((1, 2))), tag="2d")
case(np.vstack, (real((2,)), real((1, 2))), tag="mixed")

# --- np.linalg ------------------------------------------------------------------------------

for shape in [(3, 3), (2, 3, 3), (1, 1)]:
    case(np.linalg.inv, well_conditioned(shape), tag=fmt(shape))
    case(np.linalg.det, well_conditioned(shape), tag=fmt(shape))
# NumPy 2 reads a 1-d b as one vector; NumPy 1 reads b of a.ndim - 1 dimensions as vectors
SOLVE_VECTORS = ((2, 3, 3), (3,)) if NUMPY >= (2, 0) else ((2, 3, 3), (2, 3))
for sa, sb in [((3, 3), (3,)), ((3, 3), (3, 2)), SOLVE_VECTORS, ((2, 3, 3), (2, 3, 2)),
               ((3, 3), (2, 3, 2))]:
    case(np.linalg.solve, well_conditioned(sa), real(sb), diff=(0, 1), tag=f"{fmt(sa)}-{fmt(sb)}")
for shape, kwargs in [((3,), {}), ((3, 2), {}), ((3, 2), {"ord": "fro"}), ((3,), {"ord": 2}),
                      ((2, 3, 2), {}), ((), {}), ((3, 2), {"keepdims": True})]:
    case(np.linalg.norm, real(shape), tag=fmt(shape), **kwargs)
for shape in [(3, 3), (2, 3, 3)]:
    case(np.linalg.cholesky, spd(shape), tag=fmt(shape))
if NUMPY >= (2, 0):                      # upper= is new in NumPy 2.0
    case(np.linalg.cholesky, spd((3, 3)), tag="(3,3)", upper=True)


# --- runtime helpers: generated gradient code calls them, so differentiating it again
# (srcad.hessian, srcad.grad(srcad.grad(f))) needs their rules.  Only the cotangent and
# the operands they multiply it with are differentiable; shape arguments are not.

from srcad import runtime as rt  # noqa: E402

case(np.float64, real(None), tag="float")
case(np.float64, real(()), tag="0d")
case(np.float64, real((3,)), tag="(3,)")
case(rt.check_scalar, real(None), tag="float")
case(rt.check_scalar, real(()), tag="0d")
case(rt.checked, real((3,)), real((3,)), "rule", tag="(3,)")
for gs, xs in [((3, 2), (2,)), ((3, 2), (3, 1)), ((3, 2), ()), ((), ()), (None, None), ((3,), (3,))]:
    case(rt.unbroadcast, real(gs), real(xs), tag=f"{fmt(gs)}-{fmt(xs)}")
for vs, ls in [((2,), (3, 2)), (None, (3,)), ((3, 1), (3, 2)), ((3,), (3,)), (None, None)]:
    case(rt.broadcast_like, real(vs), real(ls), tag=f"{fmt(vs)}-{fmt(ls)}")
case(rt.repeat_to, real(()), real((3, 2)), tag="all")
case(rt.repeat_to, real((2,)), real((3, 2)), 0, tag="axis0")
case(rt.repeat_to, real((3,)), real((3, 2)), -1, tag="axis-1")
case(rt.repeat_to, real((1, 2)), real((3, 2)), 0, True, tag="keepdims")
case(rt.repeat_to, real((3,)), real((2, 3, 2)), (0, 2), tag="axes")
case(rt.scatter_add, real((2,)), real((3, 2)), 1, tag="row")
case(rt.scatter_add, real((2, 2)), real((3, 2)), slice(0, 2), tag="slice")
case(rt.scatter_add, real((3,)), real((3,)), np.array([0, 2, 0]), tag="repeated")
case(rt.without, real((3, 2)), 1, tag="row")

def _dict(**shapes):
    return {k: real(v) for k, v in shapes.items()}


case(rt.complete, real((3,)), tag="array")
case(rt.complete, rt.DictAdjoints(_dict(a=(2,), b=None), _dict(a=(2,))), tag="sparse-dict")
case(rt.like, real((3,)), real((3,)), tag="array")
case(rt.like, real(None), real(None), tag="float")
case(rt.like, rt.DictAdjoints(_dict(a=(2,), b=None), _dict(a=(2,))), _dict(a=(2,), b=None), tag="dict")
case(rt.dict_values, rt.Adjoints((real((2,)), real(None))), _dict(a=(2,), b=None))
case(rt.values_of, _dict(a=(2,), b=None), _dict(a=(2,), b=None))
case(rt.saved_entry, real((3, 2)), 1, tag="row")
case(rt.saved_entry, _dict(a=(2,), b=None), "a", tag="dict")
case(dict.get, _dict(a=(2,), b=None), "a", tag="present")
case(dict.get, _dict(a=(2,)), "z", real((2,)), diff=(0, 2), tag="default")
case(dict.values, _dict(a=(2,), b=None, c=(3, 2)))
case(rt.without, real((3, 2)), (slice(None), 0), tag="column")


def _product_cases(helper, product, shapes, other):
    """``helper(g, a, b)``, the cotangent of ``a`` or ``b`` in ``product(a, b)``:
    differentiable in ``g`` and in the other operand."""
    for sa, sb in shapes:
        a, b = real(sa), real(sb)
        case(helper, real(np.shape(product(a, b))), a, b, diff=(0, other),
             tag=f"{sa}-{sb}".replace(" ", ""))


MATMUL_SHAPES = [((3,), (3,)), ((3, 2), (2,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((2, 3), (4, 3, 2))]
_product_cases(rt.matmul_adjoint_x, np.matmul, MATMUL_SHAPES, 2)
_product_cases(rt.matmul_adjoint_y, np.matmul, MATMUL_SHAPES, 1)
_product_cases(rt.dot_adjoint_a, np.dot, DOT_SHAPES, 2)
_product_cases(rt.dot_adjoint_b, np.dot, DOT_SHAPES, 1)
for shape in [(3,), (3, 3), (2, 3, 3), ()]:             # np.dot(x, x): both cotangents at once
    x = real(shape)
    case(rt.dot_self_adjoint, real(np.shape(np.dot(x, x))), x, diff=(0, 1), tag=str(shape).replace(" ", ""))
for shape in [(3,), (3, 3), (2, 3, 3)]:
    x = real(shape)
    case(rt.matmul_self_adjoint, real(np.shape(x @ x)), x, diff=(0, 1), tag=str(shape).replace(" ", ""))
INNER_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 3), (4, 3)), ((), (3,)),
                ((2, 2, 3), (2, 3)), ((2, 3), ())]
_product_cases(rt.inner_adjoint_a, np.inner, INNER_SHAPES, 2)
_product_cases(rt.inner_adjoint_b, np.inner, INNER_SHAPES, 1)
for axis in (None, 0, 1, (0, 1)):
    case(rt.prod_others, real((3, 2)), axis, tag=f"axis={axis}".replace(" ", ""))
case(rt.prod_others, np.array([[1.5, 0.0, 0.7], [0.0, 0.0, 1.2]]), 1, tag="zeros")
case(rt.norm_divisor, positive(None), real((3,)), tag="float")
case(rt.norm_divisor, positive(()), real((3, 2)), None, None, tag="0d")
case(rt.unconcatenate, real((4, 2)), (real((3, 2)), real((1, 2))), tag="axis0")
case(rt.unconcatenate, real((3, 3)), (real((3, 2)), real((3, 1))), 1, tag="axis1")
case(rt.unconcatenate, real((8,)), (real((3, 2)), real((2,))), None, tag="flat")
case(rt.unstack, real((2, 3)), tag="axis0")
case(rt.unstack, real((2, 3)), 1, tag="axis1")
case(rt.unhstack, real((5,)), (real((3,)), real((2,))), tag="1d")
case(rt.unhstack, real((3, 3)), (real((3, 2)), real((3, 1))), tag="2d")
case(rt.unvstack, real((2, 3)), (real((3,)), real((3,))), tag="1d")
case(rt.unarray, real((2, 3)), [real((3,)), real((3,))], tag="rows")
case(rt.unarray, real((3,)), [real(None), real(()), real(None)], tag="scalars")
case(rt.spread, real((3, 2)), [real((3, 2)), real((2,))], tag="broadcast")
case(rt.Adjoints, (real((2,)), real(None)), tag="pair")


# --- issue 12: NumPy rearrangements, einsum, casts, reductions, np.linalg decompositions ----
# (srcad/rules/numpy_shapes.py, numpy_einsum.py, linalg_decomp.py)


def vcase(primitive, *args, diff=None, tag="", **kwargs):
    """A case of a primitive with ``*args``: ``args[-1]`` is the tuple bound to it;
    by default every argument in it is differentiable (``diff`` = its position)."""
    id_ = name_of(primitive) + (f"-{tag}" if tag else "")
    if kwargs:
        id_ += "-" + fmt_kwargs(kwargs)
    diff = (len(args) - 1,) if diff is None else diff
    CASES.append(VarargsCase(primitive, args, kwargs, tuple(diff), id_))


for shape, repeats, kwargs in [((3,), 2, {}), ((3, 2), 2, {}), ((3, 2), 3, {"axis": 0}),
                               ((3, 2), [1, 0, 2], {"axis": 0}), ((3, 2), [2, 1], {"axis": -1}),
                               ((), 3, {}), (None, 2, {})]:
    case(np.repeat, real(shape), repeats, tag=fmt(shape), **kwargs)
for shape, reps in [((3,), 2), ((3, 2), (2, 1)), ((3, 2), (2, 1, 2)), ((2,), (3, 1)), ((), 3)]:
    case(np.tile, real(shape), reps, tag=f"{fmt(shape)}-{reps}".replace(" ", ""))
for shape, width, kwargs in [((3,), 2, {}), ((3, 2), ((1, 0), (2, 1)), {}),
                             ((3, 2), 1, {"mode": "constant", "constant_values": 2.5}),
                             ((4,), (2, 3), {"mode": "edge"}), ((3, 2), ((1, 2), (1, 1)), {"mode": "edge"}),
                             ((4,), (2, 3), {"mode": "reflect"}), ((4, 3), ((3, 1), (2, 2)), {"mode": "reflect"}),
                             ((4,), 3, {"mode": "symmetric"}), ((3, 2), 2, {"mode": "wrap"})]:
    case(np.pad, real(shape), width, tag=f"{fmt(shape)}-{width}".replace(" ", ""), **kwargs)
for shape, shift, kwargs in [((5,), 2, {}), ((3, 2), 1, {}), ((3, 2), -1, {"axis": 0}),
                             ((3, 4), (1, 2), {"axis": (0, 1)})]:
    case(np.roll, real(shape), shift, tag=fmt(shape), **kwargs)
for shape, k in [((3,), 0), ((3,), 1), ((3,), -2), ((3, 3), 0), ((3, 4), 1), ((4, 3), -1)]:
    case(np.diag, real(shape), k, tag=f"{fmt(shape)}-k={k}")
case(np.diagonal, real((3, 3)), tag="(3,3)")
case(np.diagonal, real((3, 4)), 1, tag="(3,4)")
case(np.diagonal, real((2, 3, 3)), tag="(2,3,3)", axis1=1, axis2=2)
case(np.diagonal, real((3, 2, 3)), -1, 0, 2, tag="(3,2,3)")
case(np.ndarray.diagonal, real((3, 3)), tag="(3,3)")
case(np.take, real((3, 2)), [0, 4, 4], tag="flat")
case(np.take, real((3, 2)), np.array([[0, 2], [2, 2]]), tag="(3,2)", axis=0)
case(np.take, real((3, 2)), [1, 5], tag="(3,2)-wrap", axis=1, mode="wrap")
case(np.take, real((4,)), 2, tag="scalar-index")
case(np.ndarray.take, real((3, 2)), [1, 1], tag="(3,2)", axis=0)
case(np.take_along_axis, real((3, 2)), np.array([[1, 0], [0, 0], [1, 1]]), 1, tag="(3,2)-axis1")
case(np.take_along_axis, real((3, 2)), np.array([[2, 0], [2, 1]]), tag="(3,2)-axis0", axis=0)
case(np.take_along_axis, real((5,)), np.array([4, 0, 0]), None, tag="flat")
for shape, kwargs in [((5,), {}), ((3, 4), {}), ((3, 4), {"axis": 0}), ((3, 4), {"axis": None}),
                      ((2, 3, 2), {"axis": 1}), ((4,), {"kind": "stable"})]:
    case(np.sort, distinct(shape), tag=fmt(shape), **kwargs)
for shape, kth, kwargs in [((5,), 2, {}), ((5,), (1, 3), {}), ((3, 4), 1, {"axis": 0}), ((3, 4), 2, {}),
                           ((3, 4), 5, {"axis": None})]:
    case(np.partition, distinct(shape), kth, tag=fmt(shape), **kwargs)

for prim in (np.flipud, np.fliplr):
    case(prim, real((3, 2)), tag="(3,2)")
    case(prim, real((2, 3, 2)), tag="(2,3,2)")
case(np.flipud, real((3,)), tag="(3,)")
for shape, kwargs in [((3, 2), {}), ((3, 2), {"k": 2}), ((3, 2), {"k": -1}), ((2, 3, 4), {"axes": (1, 2)}),
                      ((2, 3, 4), {"k": 3, "axes": (2, 0)})]:
    case(np.rot90, real(shape), tag=fmt(shape), **kwargs)
for axis, start in [(2, 0), (0, 3), (1, -1), (-1, 1), (0, 0)]:
    case(np.rollaxis, real((2, 3, 4)), axis, start, tag=f"{axis}-{start}")
for prim in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    for shapes in [(None,), ((),), ((3,),), ((3, 2),), ((2, 3, 2),), ((3,), (), (2, 2))]:
        vcase(prim, tuple(real(s) for s in shapes), tag="-".join(fmt(s) for s in shapes))

case(np.append, real((3,)), real((2,)), diff=(0, 1), tag="1d")
case(np.append, real((3, 2)), real((2,)), diff=(0, 1), tag="flat")
case(np.append, real((3, 2)), real((1, 2)), diff=(0, 1), tag="axis0", axis=0)
case(np.append, real((3, 2)), real((3, 3)), diff=(0, 1), tag="axis1", axis=1)
case(np.append, real(()), real(None), diff=(0, 1), tag="scalars")
case(np.column_stack, (real((3,)), real((3, 2)), real((3,))), tag="mixed")
case(np.column_stack, [real((2,)), real((2,))], tag="1d")
if hasattr(np, "row_stack"):
    case(np.row_stack, (real((3,)), real((2, 3))), tag="mixed")
for prim, shape, sections, kwargs in [(np.split, (6,), 3, {}), (np.split, (5, 2), [1, 3], {}),
                                      (np.split, (3, 4), 2, {"axis": 1}), (np.split, (3, 4), [1, 1], {"axis": -1}),
                                      (np.array_split, (5,), 3, {}), (np.array_split, (3, 5), 2, {"axis": 1}),
                                      (np.hsplit, (3, 4), 2, {}), (np.hsplit, (6,), [2, 5], {}),
                                      (np.vsplit, (4, 3), [1], {}), (np.dsplit, (2, 2, 4), 2, {})]:
    case(prim, real(shape), sections, tag=f"{fmt(shape)}-{sections}".replace(" ", ""), **kwargs)
for xs, kwargs in [([(3,), (2,)], {}), ([(3,), (2,)], {"indexing": "ij"}), ([(2,), (3,), (2,)], {}),
                   ([(2,), (3,), (2,)], {"indexing": "ij"}), ([(3,), (2,)], {"sparse": True}), ([(3,)], {}),
                   ([(2, 2), (3,)], {})]:
    vcase(np.meshgrid, tuple(real(s) for s in xs), tag="-".join(fmt(s) for s in xs), **kwargs)

x_sel = real((3, 2))
conds = [x_sel > 0.5, x_sel < -0.5]
case(np.select, conds, (real((3, 2)), real((2,))), real((3, 2)), diff=(1, 2), tag="arrays")
case(np.select, conds, [real((3, 2)), real(None)], diff=(1,), tag="default-0")
case(np.select, [real((3,)) > 0], [real((3,))], real(None), diff=(1, 2), tag="float-default")
case(np.nan_to_num, real((3, 2)), tag="(3,2)")
case(np.nan_to_num, real((3,)), tag="finite", nan=1.0, posinf=3.0)

for dtype in (float, np.float64, "float64"):
    case(np.ndarray.astype, real((3, 2)), dtype, tag=getattr(dtype, "__name__", str(dtype)))
case(np.ndarray.astype, grid((3,), 0.25), int, tag="int")
case(np.ndarray.astype, real(()), "f8", tag="()")

for prim in (np.cumprod, np.ndarray.cumprod):
    for shape, kwargs in [((4,), {}), ((3, 2), {}), ((3, 2), {"axis": 0}), ((3, 2), {"axis": -1}),
                          ((2, 3, 2), {"axis": 1})]:
        case(prim, nonzero(shape), tag=fmt(shape), **kwargs)
case(np.cumprod, np.array([[1.5, 0.0, 0.7], [0.0, 0.0, 1.2], [0.9, -1.1, 0.0]]), tag="zeros", axis=1)
case(np.cumprod, np.array([1.5, 0.0, 0.7, 2.0]), tag="zero")
for prim in (np.nansum, np.nanmean):     # NaN elements: tests/test_numpy_rules.py
    for kwargs in [{}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)}]:
        case(prim, real((3, 4)), tag="(3,4)", **kwargs)
    case(prim, real((3,)), tag="(3,)")
for shape, kwargs, wshape in [((3, 2), {}, None), ((3, 2), {"axis": 0}, None), ((3, 2), {}, (3, 2)),
                              ((3, 2), {"axis": 0}, (3,)), ((3, 2), {"axis": 1}, (2,)),
                              ((3, 2), {"axis": 1, "keepdims": True}, (3, 2)),
                              ((2, 3, 2), {"axis": 1}, (3,)), ((4,), {}, (4,))]:
    if wshape is None:
        case(np.average, real(shape), tag=fmt(shape), **kwargs)
    else:
        case(np.average, real(shape), kwargs.pop("axis", None), positive(wshape), diff=(0, 2),
             tag=f"{fmt(shape)}-w{fmt(wshape)}", **kwargs)

for shape in UNARY_SHAPES:
    case(np.sinc, nonzero(shape), tag=fmt(shape))
case(np.sinc, np.array([0.0, 0.3, -1.5]), tag="zero")
for prim in (np.deg2rad, np.radians, np.rad2deg, np.degrees, np.real, np.conjugate, np.imag, np.angle):
    for shape in UNARY_SHAPES:
        case(prim, nonzero(shape), tag=fmt(shape))
case(np.angle, nonzero((3,)), tag="deg", deg=True)

for s1, s2 in [((2,), (3,)), ((2, 2), (3, 2)), ((2,), (3, 2)), ((2, 1, 2), (3, 2)), ((), (3,)), ((2, 3), ())]:
    case(np.kron, real(s1), real(s2), diff=(0, 1), tag=f"{fmt(s1)}-{fmt(s2)}")
try:                                   # 2-element vectors: deprecated in NumPy 2.0, gone in 2.5
    np.cross(np.ones(2), np.ones(2))
    _CROSS_2D = True
except ValueError:
    _CROSS_2D = False
for s1, s2, kwargs in [((3,), (3,), {}), ((4, 3), (4, 3), {}), ((4, 3), (3,), {}), ((2,), (2,), {}),
                       ((4, 2), (4, 2), {}), ((3, 4), (4, 3), {"axisa": 0, "axisb": 1, "axisc": 0}),
                       ((3, 4), (3, 4), {"axis": 0}), ((2,), (3,), {}), ((4, 3), (4, 2), {})]:
    a, b = real(s1), real(s2)          # drawn either way: later cases keep their random values
    if _CROSS_2D or 2 not in (s1[-1], s2[-1]):
        case(np.cross, a, b, diff=(0, 1), tag=f"{fmt(s1)}-{fmt(s2)}", **kwargs)
for n, m in [(5, 3), (3, 5), (4, 4), (1, 3), (5, 2)]:
    for mode in ("full", "same", "valid"):
        case(np.convolve, real((n,)), real((m,)), mode, diff=(0, 1), tag=f"{n}-{m}")
for shape, kwargs in [((5,), {}), ((5,), {"n": 2}), ((3, 4), {}), ((3, 4), {"axis": 0}),
                      ((4, 3), {"n": 3, "axis": 0}), ((4,), {"prepend": 0.5}),
                      ((3, 4), {"append": np.ones((3, 2)), "prepend": 1.0})]:
    case(np.diff, real(shape), tag=fmt(shape), **kwargs)
vcase(np.gradient, real((5,)), (), diff=(0,), tag="(5,)")
vcase(np.gradient, real((5,)), (0.5,), diff=(0,), tag="(5,)-spacing")
vcase(np.gradient, real((5,)), (np.array([0.0, 0.3, 1.0, 1.2, 2.0]),), diff=(0,), tag="(5,)-coordinates", edge_order=2)
vcase(np.gradient, real((4, 3)), (), diff=(0,), tag="(4,3)")
vcase(np.gradient, real((4, 3)), (1.5, 0.5), diff=(0,), tag="(4,3)-spacings")
vcase(np.gradient, real((4, 3)), (), diff=(0,), tag="(4,3)", axis=1, edge_order=2)
vcase(np.gradient, real((2, 4, 3)), (), diff=(0,), tag="(2,4,3)", axis=(0, 2))

EINSUM = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("i,i", [(3,), (3,)]),
          ("i,i->", [(3,), (3,)]), ("i,j->ij", [(3,), (2,)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
          ("ij->", [(3, 2)]), ("ij->j", [(3, 2)]), ("ji", [(3, 2)]), ("ij->ji", [(3, 2)]),
          ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]), ("...ij,...jk", [(5, 2, 3), (5, 3, 2)]),
          ("...i,...i->...", [(2, 3), (3,)]), ("i...->...", [(3, 2, 2)]), ("...", [(2, 3)]),
          ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("ij,ij,ij->i", [(3, 2), (3, 2), (3, 2)]),
          ("iij->j", [(2, 2, 3)]), ("ij,i->j", [(3, 2), (3,)]), ("i,jk", [(2,), (2, 2)]),
          ("ab,ab->", [(3, 1), (3, 2)]), ("i,i->i", [(1,), (3,)]), ("ijk,kj->i", [(2, 3, 4), (4, 3)]),
          (" ij , jk -> ik ", [(2, 3), (3, 2)])]
for subscripts, shapes in EINSUM:
    vcase(np.einsum, subscripts, tuple(real(s) for s in shapes), tag=subscripts.replace(" ", "_"))
vcase(np.einsum, "ij,jk->ik", (real((2, 3)), real((3, 2))), tag="optimize", optimize=True)
vcase(np.einsum, real((2, 3)), ([0, 1], real((3, 4)), [1, 2], [0, 2]), diff=(0,), tag="sublists")
for s1, s2, axes in [((3, 4), (4, 2), 1), ((2, 3, 4), (3, 4, 2), 2), ((3,), (3,), 1), ((2, 3), (3, 2), 0),
                     ((3, 4, 2), (4, 3), ([0, 1], [1, 0])), ((3, 4), (2, 4), (1, 1)), ((2, 3), (3,), ([1], [0]))]:
    case(np.tensordot, real(s1), real(s2), axes, diff=(0, 1), tag=f"{fmt(s1)}-{fmt(s2)}-{axes}".replace(" ", ""))


def symmetric(shape):
    """A symmetric matrix (or stack) with well-separated eigenvalues."""
    n = shape[-1]
    q, _ = np.linalg.qr(RNG.standard_normal(shape))
    w = np.arange(1, n + 1) * 1.0 + RNG.uniform(-0.2, 0.2, shape[:-1])
    return q @ (w[..., :, None] * np.swapaxes(q, -1, -2))


def real_spectrum(shape):
    """A non-symmetric matrix with distinct, well-separated real eigenvalues."""
    n = shape[-1]
    s = RNG.uniform(-1.0, 1.0, shape) + 2.0 * np.eye(n)
    w = np.arange(1, n + 1) * 1.5 - 0.4 * n
    return s @ (w[:, None] * np.linalg.inv(s))


def distinct_singular(shape):
    """Full rank, singular values 1, 2, ... (well separated)."""
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(RNG.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(RNG.standard_normal(shape[:-2] + (n, k)))
    s = np.arange(1, k + 1) * 1.0
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


for shape in [(3, 3), (2, 3, 3), (1, 1)]:
    case(np.linalg.slogdet, well_conditioned(shape), tag=fmt(shape))
case(np.linalg.slogdet, -well_conditioned((3, 3)), tag="negative")
for shape in [(3, 3), (2, 3, 3), (1, 1)]:
    for kwargs in [{}, {"UPLO": "U"}]:
        case(np.linalg.eigh, symmetric(shape), tag=fmt(shape), **kwargs)
        case(np.linalg.eigvalsh, symmetric(shape), tag=fmt(shape), **kwargs)
not_symmetric = symmetric((3, 3)) + np.triu(RNG.uniform(-0.3, 0.3, (3, 3)), 1)
case(np.linalg.eigh, not_symmetric, tag="reads-lower")
case(np.linalg.eigh, not_symmetric, tag="reads-upper", UPLO="U")
for shape in [(3, 3), (2, 3, 3)]:
    case(np.linalg.eig, real_spectrum(shape), tag=fmt(shape))
    case(np.linalg.eigvals, real_spectrum(shape), tag=fmt(shape))
for shape, kwargs in [((3, 3), {}), ((4, 2), {"full_matrices": False}), ((2, 4), {"full_matrices": False}),
                      ((3, 3), {"compute_uv": False}), ((4, 2), {"compute_uv": False}),
                      ((2, 3, 3), {}), ((2, 4, 3), {"full_matrices": False}), ((2, 3), {"compute_uv": False})]:
    case(np.linalg.svd, distinct_singular(shape), tag=fmt(shape), **kwargs)
for shape, kwargs in [((3, 3), {}), ((4, 2), {}), ((2, 4, 3), {}), ((4, 3), {"mode": "r"}),
                      ((3, 3), {"mode": "complete"})]:
    case(np.linalg.qr, well_conditioned(shape[:-2] + (shape[-1], shape[-1])) if shape[-2] == shape[-1]
         else distinct_singular(shape), tag=fmt(shape), **kwargs)
for shape in [(3, 3), (4, 2), (2, 4), (2, 4, 3)]:
    case(np.linalg.pinv, distinct_singular(shape), tag=fmt(shape))
for n in (0, 1, 2, 3, -1, -2):
    case(np.linalg.matrix_power, well_conditioned((3, 3)) / 2.0, n, tag=f"n={n}")
case(np.linalg.matrix_power, well_conditioned((2, 3, 3)) / 2.0, 3, tag="(2,3,3)")
for sa, sb in [((4, 2), (4,)), ((4, 2), (4, 3)), ((3, 3), (3,)), ((2, 4), (2,))]:
    case(np.linalg.lstsq, distinct_singular(sa), real(sb), diff=(0, 1), tag=f"{fmt(sa)}-{fmt(sb)}", rcond=None)

from srcad.rules import _np_helpers as nph  # noqa: E402
case(nph.unindex, real((4, 2)), real((3, 2)), np.array([[1, 0], [6, 6], [2, 3], [5, 1]]), tag="(3,2)")
case(nph.unindex, real(()), real((3,)), np.array(2), tag="0d")
case(nph.gather, real((3, 2)), np.array([[1, 0], [6, 6], [2, 3], [5, 1]]), tag="(3,2)")
case(nph.gather, real(None), np.array([1, 0, 1]), tag="float")

# np.linalg.norm: every ord, axis and keepdims (srcad/rules/linalg_decomp.py)
for shape, kwargs in [((4,), {"ord": 1}), ((4,), {"ord": 3}), ((4,), {"ord": 0.5}), ((4,), {"ord": np.inf}),
                      ((4,), {"ord": -np.inf}), ((4,), {"ord": -1.5}), ((4,), {"ord": 0}),
                      ((3, 4), {"axis": 0}), ((3, 4), {"axis": -1, "keepdims": True}),
                      ((3, 4), {"ord": 1, "axis": 1}), ((3, 4), {"ord": np.inf, "axis": 0}),
                      ((2, 3, 4), {"axis": (0, 2)}), ((3, 4), {"ord": "fro", "axis": (1, 0)}),
                      ((3, 4), {"ord": "nuc"}), ((3, 4), {"ord": 2}), ((4, 3), {"ord": -2}),
                      ((3, 4), {"ord": 1}), ((3, 4), {"ord": -1}), ((3, 4), {"ord": np.inf}),
                      ((3, 4), {"ord": -np.inf}), ((2, 3, 4), {"ord": "nuc", "axis": (1, 2)}),
                      ((2, 3, 4), {"ord": 2, "axis": (2, 0), "keepdims": True}),
                      ((2, 3, 4), {"ord": 1, "axis": (0, 1)}), ((3, 4), {"ord": 3, "axis": 1}),
                      ((3, 4), {"keepdims": True}), ((2, 3, 2), {"ord": None, "keepdims": True})]:
    x_norm = distinct_singular(shape) if kwargs.get("ord") in ("nuc", 2, -2) and len(shape) > 1 else distinct(shape)
    case(np.linalg.norm, x_norm, tag=fmt(shape), **kwargs)

vcase(nph.r_concat, (real((3,)), real(None), real((2,))), tag="mixed")
vcase(nph.r_concat, (real((2, 2)), real((1, 2))), tag="2d")
vcase(nph.c_concat, (real((3,)), real((3, 2))), tag="mixed")
vcase(nph.c_concat, (real((2,)), real((2,))), tag="1d")
for shape in UNARY_SHAPES:
    case(np.real_if_close, real(shape), tag=fmt(shape))

# batched (stacked) forms of the np.linalg rules of srcad/rules/linalg.py
for shape in [(2, 2, 3, 3), (4, 2, 2)]:
    case(np.linalg.inv, well_conditioned(shape), tag=fmt(shape))
    case(np.linalg.det, well_conditioned(shape), tag=fmt(shape))
    case(np.linalg.cholesky, spd(shape), tag=fmt(shape))
case(np.linalg.solve, well_conditioned((2, 2, 3, 3)), real((2, 2, 3, 1)), diff=(0, 1), tag="(2,2,3,3)-(2,2,3,1)")
case(np.linalg.solve, well_conditioned((2, 1, 3, 3)), real((4, 3, 2)), diff=(0, 1), tag="(2,1,3,3)-(4,3,2)")


# tuple/list `+` and `*` (srcad/sequences.py): concatenation, repetition, and the
# elementwise operation NumPy makes of a list and an array
case(rt.seq_add, (real(None), real((2,))), (real(()),), diff=(0, 1), tag="tuples")
case(rt.seq_add, [real(None), real(None)], real((2,)), diff=(0, 1), tag="list-array")
case(rt.seq_mul, (real(None), real((2,))), 2, tag="tuple*2")
case(rt.seq_mul, 3, [real(None), real(None)], diff=(1,), tag="3*list")
case(rt.seq_mul, [real(None), real(None)], real((3, 2)), diff=(0, 1), tag="list-array")
case(builtins.list, (real(None), real((2,))), tag="tuple")
case(builtins.tuple, real((2, 3)), tag="rows")
case(rt.concat_adjoint_x, rt.Adjoints((real(None), real((2,)), real(None))), (1.0,), (np.ones(2), 2.0),
     tag="tuples")
case(rt.concat_adjoint_y, rt.Adjoints((real(None), real((2,)), real(None))), (1.0,), (np.ones(2), 2.0),
     tag="tuples")
case(rt.concat_adjoint_x, real((2,)), [1.0, 2.0], np.ones(2), tag="list-array")
case(rt.concat_tangent_x, (real(None),), (1.0,), (1.0, np.ones(2)), tag="tuples")
case(rt.concat_tangent_y, (real(None), real((2,))), (1.0,), (1.0, np.ones(2)), tag="tuples")
case(rt.repeat_adjoint, rt.Adjoints((real(None), real((2,)), real(None), real((2,)))),
     (1.0, np.ones(2)), 2, tag="tuple*2")
case(rt.repeat_adjoint, real((3, 2)), [1.0, 2.0], real((3, 2)), diff=(0, 2), tag="list-array")
case(rt.repeat_tangent, (real(None), real((2,))), (1.0, np.ones(2)), 3, tag="tuple*3")
case(rt.unlist, rt.Adjoints((real((3,)), real((3,)))), np.ones((2, 3)), tag="rows")
case(rt.unlist, rt.Adjoints((real((3,)), real(None))), (np.ones(3), 1.0), tag="tuple")

# --- issue 13's helpers, last: cases above keep the random values they were drawn with ----
if hasattr(np, "astype"):          # NumPy 2.1 and later
    case(np.astype, real((3, 2)), np.float64, tag="float64")
case(rt.add_at, real((3, 2)), real((2,)), real((3, 2)), 1, tag="row")
case(rt.add_at, real((3,)), real((3,)), real((3,)), np.array([0, 2, 0]), tag="repeated")
case(rt.readonly, real((3, 2)), tag="array")
case(rt.owned, real((3, 2)), tag="array")
case(rt.released, real((3, 2)), tag="array")
case(rt.add_into, real((3, 2)), real((2,)), real((3, 2)), 1, tag="row")
case(rt.drop_last, (real((2,)), real((3,)), real(())), tag="tuple")


def _check_unique_ids():
    seen = {}
    for c in CASES:
        n = seen.get(c.id, 0)
        seen[c.id] = n + 1
        if n:
            c.id = f"{c.id}#{n + 1}"


_check_unique_ids()


# objects (srcad/objects.py): a namedtuple's field, its adjoint and its tangent
from srcad import objects as _objects  # noqa: E402
from collections import namedtuple as _namedtuple  # noqa: E402

_Pair = _namedtuple("_Pair", "W b")
case(_objects.attribute, _Pair(real((3, 2)), real(None)), "W", tag="namedtuple")
case(_objects.attribute_adjoint, real((3, 2)), _Pair(real((3, 2)), real(None)), "W", tag="namedtuple")
case(_objects.attribute_tangent, _Pair(real((3, 2)), real(None)), _Pair(real((3, 2)), real(None)), "b",
     tag="namedtuple")

# dict(m): a copy of a dict (pairs, whose later key wins: tests/test_pytrees.py)
case(builtins.dict, _dict(a=(2,), b=None), tag="copy")
case(rt.dict_adjoint, rt.DictAdjoints(_dict(a=(2,), b=None), _dict(a=(2,))), _dict(a=(2,), b=None), tag="copy")
case(rt.dict_tangent, _dict(a=(2,), b=None), _dict(a=(2,), b=None), _dict(a=(2,), b=None), tag="copy")
