"""The rule tables and the decorators that fill them.

A reverse rule is an ordinary Python function ``rule(g, ans, *primal_args)``:
``g`` is the cotangent of ``ans = primitive(*primal_args)``.  It returns the
gradient for its first primal parameter, or a tuple with one entry for each of
its first N primal parameters (``None`` where that parameter is not
differentiable).  Parameters after the N-th are static (``axis``, ``keepdims``,
shapes): srcad refuses an active value there instead of dropping its gradient.

The body is a *template*: the reverse generator parses it once and inlines it,
substituting the cotangent, the result and the arguments of each call site.
So a rule may use only its parameters, names of its own module (``np``,
runtime helpers) and local names it assigns before its ``return``.
Because it is plain Python it can also be called directly, which is how every
rule is checked against finite differences.
"""

import inspect

#: primitive -> reverse rule.  Keyed by the primitive object itself
#: (``np.sin``, ``operator.add``, ``np.ndarray.sum``); see :func:`key`.
ADJOINTS = {}
#: primitive -> forward (tangent) rule; filled by the forward-mode tables.
TANGENTS = {}
#: primitives whose outputs carry no derivative (integer, boolean or
#: piecewise-constant results, shapes, constructors of constants).
NONDIFFERENTIABLE = {}


def key(obj):
    """The table key of a primitive: the object when hashable, else its id."""
    try:
        hash(obj)
    except TypeError:
        return ("id", id(obj))
    return obj


def adjoint(*primitives):
    """Register the decorated function as the reverse rule of ``primitives``.

    ``@adjoint(np.multiply, operator.mul)`` over ``def multiply(g, ans, x, y)``.
    """
    if not primitives:
        raise TypeError("adjoint() needs at least one primitive to register")

    def register(rule):
        _check_rule_signature(rule)
        for primitive in primitives:
            ADJOINTS[key(primitive)] = rule
            NONDIFFERENTIABLE.pop(key(primitive), None)
        rule.srcad_primitives = primitives
        return rule

    return register


def tangent(*primitives):
    """Register the decorated function as the forward rule of ``primitives``."""

    def register(rule):
        for primitive in primitives:
            TANGENTS[key(primitive)] = rule
        return rule

    return register


def nondifferentiable(*primitives):
    """Mark ``primitives`` as having no derivative: their results are constants."""
    for primitive in primitives:
        NONDIFFERENTIABLE[key(primitive)] = primitive
    return primitives[0] if len(primitives) == 1 else primitives


def lookup(primitive):
    """The reverse rule of ``primitive``, or None."""
    try:
        return ADJOINTS.get(key(primitive))
    except TypeError:
        return None


def is_nondifferentiable(primitive):
    return key(primitive) in NONDIFFERENTIABLE


def _check_rule_signature(rule):
    params = list(inspect.signature(rule).parameters)
    if params[:2] != ["g", "ans"]:
        from srcad.errors import RuleError
        raise RuleError(
            f"rule {rule.__qualname__} must start with the parameters (g, ans, ...), "
            f"got ({', '.join(params)})",
            hint="g is the cotangent of the result ans; the primitive's own "
                 "parameters follow in its order")
