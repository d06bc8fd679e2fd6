"""What a called function's forward half hands its reverse half: no more than
the reverse half reads.

A user function called from the differentiated one is split in two:
``forward_h(*args) -> (value, saved)`` and ``reverse_h(saved, dvalue)``.  The
caller keeps ``saved`` from its forward sweep to its reverse sweep (on a stack,
when the call is in a loop), so everything in it stays alive meanwhile.  Two
things need less than the value:

* a saved value, or a value of a loop stack, that the reverse half reads only
  for its shape (``unbroadcast(g, m)``, ``repeat_to(g, m)``: the readers of
  :data:`srcad.passes.shapes.SHAPE_READERS`) is handed over as
  ``shape_of(m)``, a few bytes;
* a saved value nothing in the reverse half reads (clean-up dropped its
  reads) is not handed over at all.

Before and after (the forward half, then the reverse half)::

    >>> from srcad.passes import demo_pair, Context
    >>> demo_pair(trim_saves, '''
    ... def forward_h(W, h):
    ...     m = W @ h
    ...     out = np.tanh(m)
    ...     return (out, (W, h, m, out))''', '''
    ... def reverse_h(saved, dout):
    ...     W, h, m, out = saved
    ...     dm = unbroadcast(dout * (1.0 - out * out), m)
    ...     return matmul_adjoint_x(dm, W, h)''')
    def forward_h(W, h):
        m = W @ h
        out = np.tanh(m)
        return (out, (W, h, shape_of(m), out))
    <BLANKLINE>
    def reverse_h(saved, dout):
        W, h, m, out = saved
        dm = unbroadcast(dout * (1.0 - out * out), m)
        return matmul_adjoint_x(dm, W, h)

(The main function's own loop stacks are :mod:`srcad.passes.shapes`'s; this
pass is for the pair, which that pass, seeing one function, cannot join.)
"""

import copy
from collections import Counter

import gast
import numpy as np

from srcad.passes._blocks import all_nodes, load
from srcad.passes.shapes import shape_readers, shape_reads_only
from srcad.reverse.support import Comment
from srcad.runtime import shape_of


def trim_saves(fdef, rdef, context=None, made_by=None):
    """The pair ``(fdef, rdef)`` handing over no more than ``rdef`` reads (in
    place).  ``made_by`` maps names ``fdef`` binds once, outside loops and
    branches, to the primitive that computes them (the graph's nodes)."""
    handover = _handover(fdef, rdef)
    if handover is None or context is None:
        return fdef, rdef
    pack, unpack = handover
    _recompute_copies(fdef, rdef, pack, unpack, made_by or {})
    readers = shape_readers(context)
    rest = rdef.body[1:]
    read = {n.id for n in all_nodes(rest) if isinstance(n, gast.Name) and type(n.ctx) is gast.Load}
    stacks = _restoring_stacks(rest)
    forward_name = {u.id: p.id for p, u in zip(pack, unpack) if isinstance(p, gast.Name)}
    helper = None
    for k in reversed(range(len(unpack))):
        var = unpack[k].id
        if var not in read:
            del pack[k], unpack[k]
        elif isinstance(pack[k], gast.Name) and shape_reads_only(rest, var, readers):
            helper = helper or context.ref(shape_of, "shape_of")
            pack[k] = _shape_of(helper, pack[k])
            mine = {forward_name.get(s) for s, v in stacks.items() if v == var}
            for push in _pushes(fdef.body, mine):
                push.args = [_shape_of(helper, push.args[0])]
    if not unpack:
        del rdef.body[0]
    return fdef, rdef


def _recompute_copies(fdef, rdef, pack, unpack, made_by):
    """Saved concatenations (:data:`RECOMPUTED`) are made again by the reverse
    half from their parts, which it keeps anyway (or keeps instead: the parts
    of a concatenation are no bigger than it).  Only where the parts cannot
    have changed: ``fdef`` writes into nothing in place, and each part is a
    parameter it never rebinds or a name it binds once."""
    if not any(made_by.get(getattr(p, "id", None)) in RECOMPUTED for p in pack) or _writes_in_place(fdef):
        return
    a = fdef.args
    stores = _stores(fdef.body)
    params = {p.id for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p is not None}
    top = {s.targets[0].id: s for s in fdef.body if isinstance(s, gast.Assign) and len(s.targets) == 1
           and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Call)}
    remade = []
    for k in reversed(range(len(pack))):
        var = getattr(pack[k], "id", None)
        stmt = top.get(var)
        if made_by.get(var) not in RECOMPUTED or stmt is None or stores[var] != 1 \
                or var != unpack[k].id or stores_of(rdef.body[1:], var):
            continue
        parts = [n.id for n in all_nodes([stmt.value]) if isinstance(n, gast.Name) and n.id in stores.keys() | params]
        if not all(_unchanged(fdef, p, p in params) and not stores_of(rdef.body[1:], p) for p in parts):
            continue
        del pack[k], unpack[k]
        for part in parts:
            if part not in {u.id for u in unpack}:
                pack.append(gast.Name(id=part, ctx=gast.Load(), annotation=None, type_comment=None))
                unpack.append(gast.Name(id=part, ctx=gast.Store(), annotation=None, type_comment=None))
        remade.insert(0, gast.copy_location(copy.deepcopy(stmt), stmt))
    if remade:
        rdef.body[1:1] = [Comment("made again from its parts: cheaper than keeping it"), *remade]


#: the primitives whose saved results the reverse half makes again: copies of
#: their arguments side by side, as cheap as the copy that saving them costs
#: in page faults, and (their arguments kept anyway) half the memory
RECOMPUTED = frozenset({np.concatenate, np.hstack, np.vstack, np.stack, np.column_stack, np.dstack})


def _unchanged(fdef, var, param):
    """``var`` keeps one value through ``fdef``: a parameter it never binds, or
    a name one top-level statement binds; and no method is called on it
    (``parts.append(x)``)."""
    if stores_of(fdef.body, var) != (0 if param else 1):
        return False
    if not param and not any(isinstance(s, gast.Assign) and stores_of([s], var) for s in fdef.body):
        return False
    return not any(isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute)
                   and isinstance(n.func.value, gast.Name) and n.func.value.id == var
                   for n in all_nodes(fdef.body))


def _writes_in_place(fdef):
    """``fdef`` writes into an object (``x[i] = v``, ``x.a = v``, ``x += v``)."""
    return any(isinstance(n, gast.AugAssign)
               or (isinstance(n, (gast.Subscript, gast.Attribute)) and type(n.ctx) is gast.Store)
               for n in all_nodes(fdef.body))


def _stores(stmts):
    """name -> how often ``stmts`` bind it."""
    out = Counter()
    for n in all_nodes(stmts):
        if isinstance(n, gast.Name) and type(n.ctx) is not gast.Load:
            out[n.id] += 1
    return out


def stores_of(stmts, var):
    """How often ``stmts`` bind ``var``."""
    return _stores(stmts)[var]


def _handover(fdef, rdef):
    """(the names ``fdef`` packs, the targets ``rdef`` unpacks them into), when
    both are the plain tuples the split generator writes."""
    ret, first = fdef.body[-1] if fdef.body else None, rdef.body[0] if rdef.body else None
    if not (isinstance(ret, gast.Return) and isinstance(ret.value, gast.Tuple)
            and len(ret.value.elts) == 2 and isinstance(ret.value.elts[1], gast.Tuple)):
        return None
    if not (isinstance(first, gast.Assign) and len(first.targets) == 1
            and isinstance(first.targets[0], gast.Tuple) and isinstance(first.value, gast.Name)):
        return None
    pack, unpack = ret.value.elts[1].elts, first.targets[0].elts
    if len(pack) != len(unpack) or not all(isinstance(t, gast.Name) for t in unpack):
        return None
    return pack, unpack


def _restoring_stacks(stmts):
    """stack name -> the one name its pops restore in ``stmts``; a stack
    pushed there too, or popped into other targets, is left out."""
    found, bad = {}, set()
    for node in all_nodes(stmts):
        if isinstance(node, gast.Attribute) and node.attr == "push" and isinstance(node.value, gast.Name):
            bad.add(node.value.id)
        if isinstance(node, gast.Assign) and _is_pop(node.value):
            stack = node.value.func.value.id
            if len(node.targets) != 1 or not isinstance(node.targets[0], gast.Name):
                bad.add(stack)
            elif found.setdefault(stack, node.targets[0].id) != node.targets[0].id:
                bad.add(stack)
        elif _is_pop(node):
            found.setdefault(node.func.value.id, None)
    return {s: v for s, v in found.items() if s not in bad and v is not None}


def _is_pop(node):
    return (isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and node.func.attr == "pop" and isinstance(node.func.value, gast.Name)
            and not node.args and not node.keywords)


def _pushes(stmts, stacks):
    """The one-argument ``push`` calls onto ``stacks`` in ``stmts``."""
    return [node for node in all_nodes(stmts)
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute)
            and node.func.attr == "push" and isinstance(node.func.value, gast.Name)
            and node.func.value.id in stacks and len(node.args) == 1 and not node.keywords]


def _shape_of(helper, value):
    return gast.Call(func=load(helper), args=[value], keywords=[])
