"""NaN debugging: find the line where a gradient first stops being finite.

``srcad.grad(f, check_finite=True)`` (also ``value_and_grad`` and ``vjp``)
generates the usual code plus, after every adjoint assignment of the reverse
sweep, one call::

    # y = np.sqrt(x)
    dx = dy * (0.5 / y)
    check_finite(dx, "/home/me/model.py:7: y = np.sqrt(x)", "dx")

``check_finite`` raises :class:`NonFiniteGradientError` naming the user's
line as soon as an adjoint holds a NaN or an infinity.  The reverse sweep runs
from the output back to the inputs, so the first check that fails is the line
(closest to the output) whose derivative rule produced the first non-finite
value.  The checks are inserted by :func:`insert_finite_checks`, a pass over
the generated gast tree that :mod:`srcad.api` runs only when the option is on:
the default code path is untouched and costs nothing.
"""

import math
import re

import gast
import numpy as np

from srcad.codegen import Origins
from srcad.errors import NonFiniteGradientError


_WHERE = re.compile(r"^(?P<file>.*):(?P<line>\d+): (?P<text>.*)$", re.DOTALL)


def check_finite(value, where, name):
    """Raise :class:`NonFiniteGradientError` if ``value`` holds a NaN or an inf.

    ``where`` is ``"<file>:<line>: <user source line>"``, ``name`` the
    adjoint's name in the generated code.  Floats, NumPy scalars and arrays
    are checked, lists and tuples (adjoints of sequences) element by element;
    anything else (integers, object arrays) passes.
    """
    if type(value) is float:
        if value - value == 0.0:           # false exactly for nan and +-inf
            return
    problem = _problem(value)
    if problem is None:
        return
    match = _WHERE.match(where)
    filename, lineno, text = ((match["file"], int(match["line"]), match["text"]) if match
                              else (None, None, where))
    place = f"line {lineno}" if lineno is not None else where
    raise NonFiniteGradientError(
        f"the gradient became non-finite at {place}: {name} {problem}",
        filename=filename, lineno=lineno, source_line=text if match else None,
        hint="this is the first line, going back from the output, where a gradient holds "
             "nan or inf: the derivative of this line is not finite at these inputs "
             "(sqrt or a fractional power at 0, log of 0, a division by 0, arcsin at +-1, "
             "or a value that is already nan or inf in the forward computation). "
             "Print .source of the derivative to see the generated code of this line; "
             "see docs/debugging.md")


def _problem(value, index=()):
    """A description of the first non-finite part of ``value``, or None."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _problem(item, index + (i,))
            if found is not None:
                return found
        return None
    if isinstance(value, (float, np.floating, np.complexfloating, complex)):
        if np.isfinite(value):
            return None
        where = f" at element {list(index)}" if index else ""
        return f"is {_kind(value)}{where}"
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc":
        return None
    finite = np.isfinite(value)
    if finite.all():
        return None
    bad = np.argwhere(~finite)
    first = tuple(int(i) for i in bad[0])
    kinds = sorted({_kind(v) for v in value[~finite].ravel()[:1000]})
    where = f" of element {list(index)}" if index else ""
    return (f"holds {' and '.join(kinds)} in {len(bad)} of {value.size} entries{where} "
            f"(the first at index {first})")


def _kind(v):
    if isinstance(v, (complex, np.complexfloating)):
        return "nan" if (math.isnan(v.real) or math.isnan(v.imag)) else "inf"
    return "nan" if math.isnan(v) else ("-inf" if v < 0 else "inf")


def insert_finite_checks(fdef, source, adjoints, reference, span=None):
    """Insert ``check_finite(d, where, "d")`` after each adjoint assignment.

    ``fdef``: a generated FunctionDef (with its comment markers), changed in
    place; ``source``: the user's :class:`srcad.parse.Source`; ``adjoints``:
    the names of the adjoints in the generated code; ``reference(name, obj)``
    gives the name under which the generated code reaches ``obj`` (the
    generator's :class:`srcad.reverse.References`); ``span``: the first and
    last line of the user's function (see :class:`srcad.codegen.Origins`).
    Only the reverse sweep
    is touched; adjoints initialised with ``zeros_like`` are not checked.
    """
    adjoints = set(adjoints)
    checks = {}
    for stmt, origin, in_reverse in Origins(fdef, source, span=span).walk(fdef.body):
        if in_reverse and isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) \
                and stmt.targets[0].id in adjoints and not _is_zeros(stmt.value):
            where = origin.location() if origin is not None else "an unknown line"
            checks[id(stmt)] = (stmt.targets[0].id, where)
    if not checks:
        return fdef
    helper = reference("check_finite", check_finite)

    def rewrite(stmts):
        out = []
        for stmt in stmts:
            out.append(stmt)
            if not isinstance(stmt, gast.AST):
                continue
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and _contains(inner, checks):
                    setattr(stmt, field, rewrite(inner))
            if id(stmt) in checks:
                target, where = checks[id(stmt)]
                out.append(_quiet(gast.Expr(value=gast.Call(
                    func=gast.Name(id=helper, ctx=gast.Load(), annotation=None, type_comment=None),
                    args=[gast.Name(id=target, ctx=gast.Load(), annotation=None, type_comment=None),
                          gast.Constant(value=where, kind=None),
                          gast.Constant(value=target, kind=None)],
                    keywords=[]))))
        return out

    fdef.body = rewrite(fdef.body)
    return fdef


def _quiet(stmt):
    """A check quotes its line itself: codegen adds no origin comment to it."""
    stmt.srcad_no_origin = True
    return stmt


def _contains(stmts, checks):
    for stmt in stmts:
        if isinstance(stmt, gast.AST):
            if id(stmt) in checks:
                return True
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and _contains(inner, checks):
                    return True
    return False


def _is_zeros(value):
    return (isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and value.func.id.startswith("zeros_like"))
