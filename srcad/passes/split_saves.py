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

import gast
import numpy as np

from srcad.builders import call
from srcad.passes._blocks import counts, load, writes_in_place
from srcad.passes.shapes import loop_pushes, restoring_pops, shape_readers, shape_reads_only
from srcad.reverse.support import Comment
from srcad.runtime import shape_of
from srcad.trees import all_nodes, parameters, stored


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
    stacks = restoring_pops(rest)
    pushes = loop_pushes(fdef.body)
    forward_name = {u.id: p.id for p, u in zip(pack, unpack) if isinstance(p, gast.Name)}
    helper = None
    for k in reversed(range(len(unpack))):
        var = unpack[k].id
        if var not in read:
            del pack[k], unpack[k]
        elif isinstance(pack[k], gast.Name) and shape_reads_only(rest, var, readers):
            helper = helper or context.ref(shape_of, "shape_of")
            pack[k] = call(load(helper), pack[k])
            for stack in [s for s, v in stacks.items() if v == var]:
                for push in pushes.get(forward_name.get(stack), (None, []))[1]:
                    push.args = [call(load(helper), push.args[0])]
    if not unpack:
        del rdef.body[0]
    return fdef, rdef


def _recompute_copies(fdef, rdef, pack, unpack, made_by):
    """Saved concatenations (:data:`RECOMPUTED`) are made again by the reverse
    half from their parts, which it keeps anyway (or keeps instead: the parts
    of a concatenation are no bigger than it).  Only where the parts cannot
    have changed: ``fdef`` writes into nothing in place, and each part is a
    parameter it never rebinds or a name it binds once."""
    if not any(made_by.get(getattr(p, "id", None)) in RECOMPUTED for p in pack) or writes_in_place(fdef.body):
        return
    stores, reverse_stores = counts(fdef.body)[0], counts(rdef.body[1:])[0]
    params = {p.id for p in parameters(fdef.args)}
    methods_on = {n.func.value.id for n in all_nodes(fdef.body) if isinstance(n, gast.Call)
                  and isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name)}
    top = {s.targets[0].id: s for s in fdef.body if isinstance(s, gast.Assign) and len(s.targets) == 1
           and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Call)}
    remade = []
    for k in reversed(range(len(pack))):
        var = getattr(pack[k], "id", None)
        stmt = top.get(var)
        if made_by.get(var) not in RECOMPUTED or stmt is None or stores[var] != 1 \
                or var != unpack[k].id or reverse_stores[var]:
            continue
        parts = [n.id for n in all_nodes([stmt.value]) if isinstance(n, gast.Name) and n.id in stores.keys() | params]
        if not all(_unchanged(fdef, p, p in params, stores, methods_on) and not reverse_stores[p] for p in parts):
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


def _unchanged(fdef, var, param, stores, methods_on):
    """``var`` keeps one value through ``fdef``: a parameter it never binds, or
    a name one top-level statement binds (``stores``: how often ``fdef`` binds
    each name); and no method is called on it (``parts.append(x)``: ``var``
    not in ``methods_on``)."""
    if stores[var] != (0 if param else 1) or var in methods_on:
        return False
    return param or any(isinstance(s, gast.Assign) and var in stored(s) for s in fdef.body)


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
