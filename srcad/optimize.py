"""Stage 5, optimize: clean-up passes on the generated function body.

* ``eliminate_dead_code`` drops every assignment whose value nothing reads:
  forward values the reverse sweep does not need (the output itself, in
  ``grad``) and rule temporaries of inactive branches.  Before::

      p = x + y
      g = p * z          # only the reverse sweep's inputs are kept
      dp = dg * z

  after (in ``grad`` mode, where ``g`` is checked but never returned, it stays
  for the check; in ``vjp`` mode it goes).
* ``mark_may_raise`` marks the forward statements that may raise for the
  values they are given, which dead-code elimination keeps: ``grad`` raises
  whatever ``f`` raises (``math.log(-1.0)``), even where the reverse sweep does
  not need the value.
* ``drop_unbroadcast`` replaces ``unbroadcast(e, x)`` by ``e`` where shape
  classes prove ``x`` has the shape of the primitive's result, so the common
  same-shape case costs nothing at run time.
"""

import builtins
import operator

import gast
import numpy as np

from srcad.trees import loaded, stored


def _reads(stmt):
    return loaded(stmt)


def eliminate_dead_code(body, live_out=()):
    """Backward liveness over a statement list; keeps effects and comments."""
    kept, _ = _dce(body, set(live_out))
    return _drop_empty_comments(kept)


def live_in(body):
    """The names ``body`` may read before binding them: what a function made
    of ``body`` must be given.  (Drops dead statements inside its compound
    statements on the way, as :func:`eliminate_dead_code` would.)"""
    return _dce(body, set())[1]


def _dce(stmts, live):
    """(kept statements, names live before them) given ``live`` after them."""
    live = set(live)
    kept = []
    for stmt in reversed(stmts):
        if not isinstance(stmt, gast.AST):
            kept.append(stmt)                         # a comment
            continue
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name):
            target = stmt.targets[0].id
            if target not in live and not getattr(stmt, "srcad_effect", False) \
                    and not getattr(stmt, "srcad_may_raise", False):
                continue
            live.discard(target)
            live |= _reads(stmt.value)
        elif isinstance(stmt, gast.If):
            stmt.body, live_body = _dce(stmt.body, live)
            stmt.orelse, live_else = _dce(stmt.orelse, live)
            live = live_body | live_else | _reads(stmt.test)
        elif isinstance(stmt, (gast.For, gast.While)):
            around = live | _reads(stmt)              # a later iteration may read anything
            stmt.body, live_body = _dce(stmt.body, around)
            if isinstance(stmt, gast.For):            # but the header binds the target first
                live |= _reads(stmt.iter) | ((around | live_body) - stored(stmt.target))
            else:
                live = around | live_body
        else:
            live |= _reads(stmt)
        kept.append(stmt)
    kept.reverse()
    return kept, live


#: division-like operators: ZeroDivisionError on Python numbers (NumPy only warns)
_DIVIDING = {operator.truediv, operator.floordiv, operator.mod, operator.pow}
#: builtins that raise for some values of the right type (int(nan), float('x'))
_RAISING_BUILTINS = {float, int, divmod, pow, round}


def mark_may_raise(graph):
    """Mark (``stmt.srcad_may_raise``) the statements of ``graph`` whose
    primitive may raise for the values it is given, so that dead-code
    elimination keeps them even when no one reads their value.

    ``grad(f)`` must raise whatever ``f`` raises; a forward statement the
    reverse sweep does not need is otherwise dropped (the output itself, in
    ``grad``), and ``grad(lambda x: math.log(x))(-1.0)`` returned -1.0.
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
    for node in graph.nodes:
        stmt = node.stmt
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) and _may_raise(node, graph.shape_class):
            stmt.srcad_may_raise = True


def _may_raise(node, shape_class=None):
    if node.kind in ("const", "copy", "pack", "stack", "push", "pop"):
        return False
    if node.kind == "usercall":
        return True
    prim = node.primitive
    if prim is None:
        return node.kind == "call"               # an unknown callable; attributes are reads
    if prim is operator.getitem:
        return True
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


def _drop_empty_comments(body):
    """A comment followed by another comment (or nothing) introduced nothing."""
    out = []
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            stmt.body = _drop_empty_comments(stmt.body)
            stmt.orelse = _drop_empty_comments(stmt.orelse)
    for i, stmt in enumerate(body):
        if not isinstance(stmt, gast.AST) and not stmt.header:
            nxt = body[i + 1] if i + 1 < len(body) else None
            if nxt is None or not isinstance(nxt, gast.AST) or isinstance(nxt, gast.Return):
                continue
        out.append(stmt)
    return out


def drop_unbroadcast(expr, node, shape_class, unbroadcast_name):
    """``unbroadcast(e, x)`` -> ``e`` where ``x`` provably has the result's shape."""
    result_class = shape_class.get(node.target)
    if result_class is None:
        return expr

    class Drop(gast.NodeTransformer):
        def visit_Call(self, call):
            self.generic_visit(call)
            if (isinstance(call.func, gast.Name) and call.func.id == unbroadcast_name
                    and len(call.args) == 2 and _class_of(call.args[1], shape_class) == result_class):
                return call.args[0]
            return call

    return Drop().visit(expr)


def _class_of(atom, shape_class):
    from srcad.graph import SCALAR
    if isinstance(atom, gast.Name):
        return shape_class.get(atom.id)
    if isinstance(atom, gast.Constant) and type(atom.value) in (int, float):
        return SCALAR
    return None
