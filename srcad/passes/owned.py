"""In-place list adjoints: a reversed loop owns the list adjoint it only
accumulates into.

In a reversed loop, ``dL = add_at(dL, g, L, i)`` (the adjoint of a read
``L[i]``) and ``dL = Adjoints(dL[:-1])`` (of an ``L.append``) each copy the T
references of a T-long list adjoint: quadratic in the loop's length.  Where
the body touches ``dL`` in no other way than these and reads of ``dL[-1]``,
nothing but those statements can see ``dL`` during the loop: it becomes a
private copy before the loop (``owned``), is updated in place (``add_into``,
``drop_last``) and turned back after it (``released``, where read later).
Per element read, O(1) (see :func:`srcad.runtime.owned`)::

    >>> from srcad.passes import demo, Context
    >>> import gast
    >>> def run(body):
    ...     body[1].srcad_reverse = True        # the generator marks reversed loops
    ...     return own_accumulators(body, Context())
    >>> demo(run, '''
    ... dxs = zeros_like(xs)
    ... for t in reversed(range(n)):
    ...     dh = dh + dhs[-1]
    ...     dhs = Adjoints(dhs[:-1])
    ...     dxs = add_at(dxs, dh * w, xs, t)
    ... return dxs''')
    dxs = zeros_like(xs)
    dhs = owned(dhs)
    dxs = owned(dxs)
    for t in reversed(range(n)):
        dh = dh + dhs[-1]
        dhs = drop_last(dhs)
        dxs = add_into(dxs, dh * w, xs, t)
    dxs = released(dxs)
    return dxs

(``dhs`` is read no more after the loop, so it stays owned.)
"""

import gast

from srcad.builders import assign, call, name
from srcad.passes._blocks import assigned_call, load
from srcad.runtime import Adjoints, add_at, add_into, drop_last, owned, released
from srcad.trees import loaded, name_nodes, stored


def own_accumulators(stmts, context, nested=False):
    """``stmts`` with each reversed loop's only-accumulated list adjoints owned
    (``nested``: inside a loop, where every owned adjoint is released after)."""
    names = (context.name_of(add_at), context.name_of(Adjoints))
    if names == (None, None):
        return stmts

    def ref(obj, wanted):
        return load(context.ref(obj, wanted))

    out = []
    for pos, stmt in enumerate(stmts):
        for field in ("body", "orelse"):
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                setattr(stmt, field, own_accumulators(
                    getattr(stmt, field), context, nested or isinstance(stmt, (gast.For, gast.While))))
        if not (isinstance(stmt, gast.For) and getattr(stmt, "srcad_reverse", False)):
            out.append(stmt)
            continue
        owned_names = _accumulated_only(stmt.body, *names)
        if not owned_names:
            out.append(stmt)
            continue
        later = _reads(stmts[pos + 1:])
        comment = out.pop() if out and not isinstance(out[-1], gast.AST) else None
        for d in owned_names:
            if not _still_owned(out, d, context.name_of(released)):
                out.append(assign(d, call(ref(owned, "owned"), name(d))))
        if comment is not None:
            out.append(comment)
        _rewrite_accumulations(stmt.body, owned_names, *names,
                               lambda: ref(add_into, "add_into"), lambda: ref(drop_last, "drop_last"))
        out.append(stmt)
        for d in owned_names:
            if nested or d in later:
                out.append(assign(d, call(ref(released, "released"), name(d))))
    return out


def _reads(stmts):
    return loaded([s for s in stmts if isinstance(s, gast.AST)])


def _still_owned(out, d, released_name):
    """Whether ``d`` is still the private list a previous reversed loop owned:
    its ``d = released(d)`` is the last statement of ``out`` that touches ``d``.
    That release is then dropped, and the next loop needs no ``owned(d)``
    (``dv = released(dv); dx = zeros_like(x); dv = owned(dv)`` between two loops)."""
    if released_name is None:
        return False
    for j in range(len(out) - 1, -1, -1):
        stmt = out[j]
        if not isinstance(stmt, gast.AST):
            continue
        if assigned_call(stmt, d, released_name) is not None:
            del out[j]
            return True
        if any(n.id == d for n in name_nodes(stmt)):
            return False
    return False


def _is_minus_one(node):
    if isinstance(node, gast.Constant):
        return node.value == -1 and type(node.value) is int
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and \
        isinstance(node.operand, gast.Constant) and node.operand.value == 1 and type(node.operand.value) is int


def _accumulation(stmt, add_name, adjoints_name):
    """``("add", d)`` for ``d = add_at(d, g, x, i)`` (d not in g, x, i),
    ``("drop", d)`` for ``d = Adjoints(d[:-1])``, else None."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Name) and not stmt.value.keywords):
        return None
    d, value = stmt.targets[0].id, stmt.value
    args = value.args
    if value.func.id == add_name and len(args) == 4 and isinstance(args[0], gast.Name) \
            and args[0].id == d and d not in loaded(args[1:]):
        return "add", d
    if value.func.id == adjoints_name and len(args) == 1 and isinstance(args[0], gast.Subscript) \
            and isinstance(args[0].value, gast.Name) and args[0].value.id == d \
            and isinstance(args[0].slice, gast.Slice) and args[0].slice.lower is None \
            and args[0].slice.step is None and args[0].slice.upper is not None \
            and _is_minus_one(args[0].slice.upper):
        return "drop", d
    return None


def _last_reads(tree, d):
    """The number of ``d[-1]`` reads in ``tree``."""
    return sum(1 for n in gast.walk(tree) if isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name)
               and n.value.id == d and type(n.ctx) is gast.Load and _is_minus_one(n.slice))


def _accumulated_only(body, add_name, adjoints_name):
    """The adjoints a loop body only accumulates into, drops the last entry of,
    or reads the last entry of (each statement at the top of the body)."""
    kinds = {}
    for stmt in body:
        if isinstance(stmt, gast.AST):
            acc = _accumulation(stmt, add_name, adjoints_name)
            if acc is not None:
                kinds.setdefault(acc[1], set()).add(acc[0])
    found = []
    for d, seen in sorted(kinds.items()):
        ok = True
        for stmt in body:
            if not isinstance(stmt, gast.AST) or _accumulation(stmt, add_name, adjoints_name) is not None \
                    and _accumulation(stmt, add_name, adjoints_name)[1] == d:
                continue
            uses = sum(1 for n in gast.walk(stmt) if isinstance(n, gast.Name) and n.id == d)
            if uses and (uses != _last_reads(stmt, d) or "drop" not in seen or d in stored([stmt])):
                ok = False
                break
        if ok:
            found.append(d)
    return found


def _rewrite_accumulations(body, names, add_name, adjoints_name, add_into_ref, drop_ref):
    """``add_at`` -> ``add_into`` and ``Adjoints(d[:-1])`` -> ``drop_last(d)`` for ``names``."""
    for stmt in body:
        acc = _accumulation(stmt, add_name, adjoints_name) if isinstance(stmt, gast.AST) else None
        if acc is None or acc[1] not in names:
            continue
        if acc[0] == "add":
            stmt.value = gast.Call(func=add_into_ref(), args=stmt.value.args, keywords=[])
        else:
            stmt.value = gast.Call(func=drop_ref(), args=[name(acc[1])], keywords=[])
