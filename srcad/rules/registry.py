"""The rule tables and the decorators that fill them.

A reverse rule is an ordinary Python function ``rule(g, ans, *primal_args)``:
``g`` is the cotangent of ``ans = primitive(*primal_args)``.  It returns the
gradient for its first primal parameter, or a tuple with one entry for each of
its first N primal parameters (``None`` where that parameter is not
differentiable).  Parameters after the N-th are static (``axis``, ``keepdims``,
shapes): srcad refuses an active value there instead of dropping its gradient.

A forward (tangent) rule is ``rule(x_dot, y_dot, ..., ans, *primal_args)``:
one tangent parameter for each of the first N primal parameters, named after
it with ``_dot``, then ``ans``, then the primal parameters as in the reverse
rule.  It returns one *contribution* to the tangent of ``ans`` per tangent
parameter, each linear in its own tangent and shaped like ``ans``::

    @tangent(operator.mul, np.multiply)
    def multiply_tangent(x_dot, y_dot, ans, x, y):
        return x_dot * y, x * y_dot

The forward generator inlines only the contributions of arguments whose
tangent is not (symbolically) zero and sums them, so ``p = x * w`` with
constant ``w`` gives ``p_dot = x_dot * w``.  Statements before the ``return``
compute factors shared by the contributions and must not read a tangent.
Called directly with every tangent, the rule returns the terms of the
Jacobian-vector product (their sum), which is how each rule is tested.
Broadcasting needs no unbroadcast in forward mode, but a contribution that
would be smaller than ``ans`` (``x_dot`` in ``x + y`` when ``y`` is larger) is
wrapped in :func:`~srcad.runtime.broadcast_like`, which the generator drops
where shapes provably agree.

In both kinds of rule an output ``zeros_like(p)`` for a parameter ``p`` (or
``zeros_like(ans)``) declares a derivative that is exactly zero: the value is
read for its shape only (``x`` in ``unbroadcast(g, x)``).  The generators
skip it, where ``None`` (not differentiable) makes an active argument an error.

The body is a *template*: the generators parse it once and inline it,
substituting the cotangent or tangents, the result and the arguments of each
call site.  So a rule may use only its parameters, names of its own module
(``np``, runtime helpers) and local names it assigns before its ``return``.
Because it is plain Python it can also be called directly, which is how every
rule is checked against finite differences.
"""

import inspect
import sys

#: primitive -> reverse rule.  Keyed by the primitive object itself
#: (``np.sin``, ``operator.add``, ``np.ndarray.sum``); see :func:`key`.
ADJOINTS = {}
#: primitive -> forward (tangent) rule; filled by the forward-mode tables.
TANGENTS = {}
#: primitives whose outputs carry no derivative (integer, boolean or
#: piecewise-constant results, shapes, constructors of constants).
NONDIFFERENTIABLE = {}
#: primitives whose result may share memory with their first argument (a view):
#: an in-place write to the result would change the argument.  Declared next
#: to each rule with :func:`views`; the graph reads it to refuse writes that
#: would reach the caller's data.
VIEWS = set()
#: primitives whose result may share memory with any of their arguments
#: (``max(a, b)`` returns one of them)
VIEWS_OF_ALL = set()
#: primitive -> a faster function of the same values that generated forward
#: sweeps call instead (declared with :func:`computed_by`)
FASTER = {}


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
    return _registrar("adjoint", ADJOINTS, _check_rule_signature, primitives)


def tangent(*primitives):
    """Register the decorated function as the forward rule of ``primitives``.

    ``@tangent(np.multiply, operator.mul)`` over
    ``def multiply_tangent(x_dot, y_dot, ans, x, y)``.
    """
    return _registrar("tangent", TANGENTS, _check_tangent_signature, primitives)


def _registrar(decorator, table, check, primitives):
    """The decorator that checks a rule's signature and files it in ``table``
    under each of ``primitives`` (which then have a derivative)."""
    if not primitives:
        raise TypeError(f"{decorator}() needs at least one primitive to register")

    def register(rule):
        check(rule)
        for primitive in primitives:
            table[key(primitive)] = rule
            NONDIFFERENTIABLE.pop(key(primitive), None)
        rule.srcad_primitives = primitives
        return rule

    return register


def nondifferentiable(*primitives):
    """Mark ``primitives`` as having no derivative: their results are constants."""
    for primitive in primitives:
        NONDIFFERENTIABLE[key(primitive)] = primitive
    return primitives[0] if len(primitives) == 1 else primitives


def views(*primitives, every_argument=False):
    """Declare that ``primitives`` may return a view of their first argument
    (of any argument with ``every_argument``).

    ``views(np.reshape, np.ndarray.reshape)`` next to the reshape rule.
    """
    for primitive in primitives:
        (VIEWS_OF_ALL if every_argument else VIEWS).add(key(primitive))
    return primitives[0] if len(primitives) == 1 else primitives


def computed_by(primitive, implementation):
    """Declare that generated code may compute ``primitive`` with
    ``implementation``: a function of the same signature that returns the
    same values (to rounding), faster, and calls ``primitive`` itself for any
    argument it does not handle.  ``implementation`` must carry the
    primitive's rules too, since generated code is differentiated again."""
    FASTER[key(primitive)] = implementation
    return implementation


#: (module name, loader) of rule tables for an optional library, loaded the
#: first time a look-up happens while that library is imported (see
#: :func:`load_with`)
_PENDING = []


def load_with(module, loader):
    """Run ``loader`` (which registers rules) once ``module`` is imported.

    Importing SciPy costs seconds, so ``import srcad`` must not do it; but a
    user whose function calls SciPy has imported it, so the first look-up
    made while it is in ``sys.modules`` loads its rules.
    """
    _PENDING.append((module, loader))
    load_pending()


def load_pending():
    """Load the pending tables whose library is imported by now (code that walks
    every rule, like the tests and docs/rules.md, calls it first)."""
    if not _PENDING:
        return
    for entry in list(_PENDING):
        if entry[0] in sys.modules:
            _PENDING.remove(entry)
            entry[1]()


def _key_now(primitive):
    """``key(primitive)``, once any pending tables it may be in are loaded."""
    load_pending()
    return key(primitive)


def returns_view(primitive):
    """True when ``primitive`` was declared with :func:`views`."""
    return _key_now(primitive) in VIEWS


def returns_view_of_all(primitive):
    """True when ``primitive`` was declared with ``views(..., every_argument=True)``."""
    return _key_now(primitive) in VIEWS_OF_ALL


def faster(primitive):
    """The function declared with :func:`computed_by` for ``primitive``, or None."""
    return FASTER.get(_key_now(primitive))


def lookup(primitive):
    """The reverse rule of ``primitive``, or None."""
    return ADJOINTS.get(_key_now(primitive))


def lookup_tangent(primitive):
    """The forward rule of ``primitive``, or None."""
    return TANGENTS.get(_key_now(primitive))


def is_nondifferentiable(primitive):
    return _key_now(primitive) in NONDIFFERENTIABLE


def _check_rule_signature(rule):
    params = list(inspect.signature(rule).parameters)
    if params[:2] != ["g", "ans"]:
        from srcad.errors import RuleError
        raise RuleError(
            f"rule {rule.__qualname__} must start with the parameters (g, ans, ...), "
            f"got ({', '.join(params)})",
            hint="g is the cotangent of the result ans; the primitive's own "
                 "parameters follow in its order")


def _check_tangent_signature(rule):
    params = list(inspect.signature(rule).parameters)
    from srcad.errors import RuleError
    hint = ("a forward rule is `def rule(x_dot, y_dot, ans, x, y)`: one tangent per "
            "differentiable parameter, named after it, then ans, then the primitive's parameters")
    if "ans" not in params or params.index("ans") == 0:
        raise RuleError(f"forward rule {rule.__qualname__} must have tangent parameters "
                        f"followed by ans, got ({', '.join(params)})", hint=hint)
    split = params.index("ans")
    tangents, primal = params[:split], params[split + 1:]
    expected = [f"{p}_dot" for p in primal[:len(tangents)]]
    if tangents != expected:
        raise RuleError(f"forward rule {rule.__qualname__} must name its tangent parameters "
                        f"({', '.join(expected) or 'none'}) after the primal ones, "
                        f"got ({', '.join(tangents)})", hint=hint)
