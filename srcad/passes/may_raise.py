"""May-raise marks: forward statements dead-code elimination must keep.

``grad(f)`` must raise whatever ``f`` raises; a forward statement the reverse
sweep does not need is otherwise dropped (the output itself, in ``grad``), and
``grad(lambda x: math.log(x))(-1.0)`` returned -1.0.  :func:`mark_may_raise`
runs on the graph before generation and sets ``stmt.srcad_may_raise`` on the
statements whose primitive may raise for the values it is given; the dead-code
pass keeps those::

    >>> import math, operator
    >>> from types import SimpleNamespace as N
    >>> may_raise(N(kind="call", primitive=math.log))
    True
    >>> may_raise(N(kind="call", primitive=operator.add))
    False
    >>> a = N(id="total")                 # total = np.sum(x): a NumPy scalar
    >>> may_raise(N(kind="op", primitive=operator.truediv, args=[a, N(id="n")]), {"total"})
    False
"""

import builtins
import operator

from srcad.ir import Kind
import gast
import numpy as np

#: division-like operators: ZeroDivisionError on Python numbers (NumPy only warns)
_DIVIDING = {operator.truediv, operator.floordiv, operator.mod, operator.pow}
#: builtins that raise for some values of the right type (int(nan), float('x'))
_RAISING_BUILTINS = {float, int, divmod, pow, round}


def mark_may_raise(graph):
    """Mark (``stmt.srcad_may_raise``) the statements of ``graph`` whose
    primitive may raise for the values it is given, so that dead-code
    elimination keeps them even when no one reads their value.

    Keeping every statement would make ``grad`` compute values nobody reads,
    so the line is drawn by what an error depends on:

    * kept: errors that depend on values -- ``math`` functions (domain,
      overflow), ``/ // % **`` (ZeroDivisionError on Python numbers; on
      arrays NumPy only warns, but nothing proves a value is an array);
      ``np.linalg`` (a singular matrix); subscripts (an index or key that is
      missing); ``float()``/``int()``; calls of user functions, unknown
      callables and user-registered primitives (which may ``raise``).  These
      are scalar operations or rare; the cost is small.
    * dropped: NumPy's elementwise functions, reductions and shape functions
      and the arithmetic operators ``+ - * @``: on floats and arrays of the
      types and shapes ``f`` receives they raise only for a shape mismatch,
      which ``grad`` then reports from the statements it keeps (a dead
      ``x + y`` of incompatible shapes is the one error ``grad`` may miss;
      NumPy's invalid-value warnings are not errors).
    """
    numpy_valued = _numpy_valued(graph)
    for node in graph.nodes:
        stmt = node.stmt
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) and may_raise(node, numpy_valued):
            stmt.srcad_may_raise = True


#: NumPy functions whose result is always a NumPy array or scalar
_NUMPY_RESULTS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.var, np.std, np.dot,
                  np.matmul, np.exp, np.log, np.tanh}
#: operators whose result is a NumPy value when an operand is one
_ARITHMETIC = {operator.add, operator.sub, operator.mul, operator.neg, operator.truediv, operator.pos}


def _numpy_valued(graph):
    """Names bound once (and not parameters) to a NumPy array or scalar: results of ufuncs and
    reductions, and arithmetic with such an operand (NumPy's reflected
    operators win over Python's, so ``1.0 / np.float64(0.0)`` is inf, with a
    warning, not ZeroDivisionError)."""
    defs = {p: 1 for p in graph.params}         # a parameter is a second binding: in a loop,
    for node in graph.nodes:                    # its first iteration reads the argument
        if node.target is not None:
            defs[node.target] = defs.get(node.target, 0) + 1
    found = set()
    for node in graph.nodes:
        prim = node.primitive
        if node.target is None or defs.get(node.target) != 1 or node.kind == Kind.USERCALL:
            continue
        if isinstance(prim, np.ufunc) or any(prim is p for p in _NUMPY_RESULTS) or (
                prim in _ARITHMETIC and any(getattr(a, "id", None) in found for a in node.args)):
            found.add(node.target)
    return found


def may_raise(node, numpy_valued=frozenset()):
    """True when the primitive of ``node`` may raise for some values of its
    arguments (``numpy_valued``: names known to hold NumPy values)."""
    if node.kind in (Kind.CONST, Kind.COPY, Kind.PACK, Kind.STACK, Kind.PUSH, Kind.POP):
        return False
    if node.kind == Kind.USERCALL:
        return True
    prim = node.primitive
    if prim is None:
        return node.kind == Kind.CALL               # an unknown callable; attributes are reads
    if prim is operator.getitem:
        return True
    if prim in _DIVIDING and any(getattr(a, "id", None) in numpy_valued for a in node.args):
        return False                              # NumPy divides by zero with a warning
    if prim in _DIVIDING or prim in _RAISING_BUILTINS:
        return True
    module = getattr(prim, "__module__", None) or ""
    if module == "math":
        return True
    if isinstance(prim, np.ufunc) or module.startswith("srcad") or prim in vars(builtins).values():
        return False
    if module.startswith("numpy"):
        return module.startswith("numpy.linalg")
    if getattr(prim, "__objclass__", None) in (np.ndarray, dict, list, tuple):
        return False                              # array and container methods
    return not module.startswith(("operator", "_operator"))
