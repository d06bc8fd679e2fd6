"""Which values of a graph are tuples or lists, so that ``+`` and ``*`` on them
are differentiated as concatenation and repetition, not as NumPy's
elementwise arithmetic.

``t = (x,) + (y,)`` concatenates: the adjoint of ``t`` has two entries, the
first is ``x``'s and the second ``y``'s.  Under the elementwise rule both
operands would receive the whole of it.  Python decides at run time which
operation ``+`` is; srcad cannot know the type of a parameter, but it knows
the values built as tuples or lists inside the function:

* tuple and list literals, ``list(...)``, ``tuple(...)``, ``sorted(...)``,
  and a callee's ``*args`` parameter;
* copies, slices (``t[1:]``), appends and item updates of those;
* concatenations and repetitions of those.

A name is a sequence when every definition of it gives one (a fixpoint, since
loops carry values around).  An ``op`` node ``a + b`` or ``a * b`` with an
operand known to be a sequence gets the primitive ``runtime.seq_add`` or
``runtime.seq_mul``: the forward sweep keeps the user's ``a + b``, and the
rules (rules/containers.py) still test at run time what the operation was
(``[x, y] + np.ones(2)`` is elementwise in NumPy).  Operands of unknown type
(parameters) keep the arithmetic rules; where a list parameter does meet
concatenation there, ``unbroadcast`` refuses an adjoint of the wrong length.
"""

import operator

import gast

from srcad.ir import Kind
from srcad.runtime import list_append, seq_add, seq_mul, setitem

#: calls whose result is always a list or a tuple
SEQUENCE_CALLS = {list, tuple, sorted}


def mark_sequence_ops(nodes, fdef, generated=False):
    """Give ``+`` and ``*`` nodes with a tuple or list operand the container
    primitives (see the module docstring); returns the names found to be sequences.

    In ``generated`` code (a gradient differentiated again), ``v = v_stack.pop()``
    and the ``v = None`` before a loop restore or stand for values defined
    elsewhere, so they do not count as definitions."""
    defs = {}
    for node in nodes:
        if node.target is not None and not (generated and _restores(node)):
            defs.setdefault(node.target, []).append(node)
    params = {a.id for a in fdef.args.args + fdef.args.posonlyargs + fdef.args.kwonlyargs}
    known = set(defs) - params                 # optimistic, then refined
    if fdef.args.vararg is not None:
        known.add(fdef.args.vararg.id)         # *args is a tuple (if reassigned: see below)
    changed = True
    while changed:                             # drop names with a definition that is not one
        changed = False
        for name in sorted(known):
            if not all(_gives_sequence(node, known) for node in defs.get(name, [])):
                known.discard(name)
                changed = True
    for node in nodes:
        if node.kind == Kind.OP and node.primitive in (operator.add, operator.mul) \
                and any(_is_sequence(a, known) for a in node.args):
            node.primitive = seq_add if node.primitive is operator.add else seq_mul
            node.label = "concatenate" if node.primitive is seq_add else "repeat"
    return known


def _restores(node):
    value = getattr(node.stmt, "value", None)
    if isinstance(value, gast.Constant) and value.value is None:
        return True
    return (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
            and value.func.attr == "pop" and not value.args and not value.keywords)


def _is_sequence(atom, known):
    if isinstance(atom, (gast.Tuple, gast.List)):
        return True                             # a static literal such as (2.0,)
    return isinstance(atom, gast.Name) and getattr(atom, "srcad_local", False) and atom.id in known


def _gives_sequence(node, known):
    """True when ``node`` always produces a tuple or list, given ``known``."""
    if node.kind == Kind.PACK:
        return node.keys is None and node.label in ("tuple", "list")
    if node.kind == Kind.COPY:
        return _is_sequence(node.args[0], known)
    if node.kind == Kind.CALL:
        return node.primitive in SEQUENCE_CALLS
    if node.primitive in (list_append, setitem):
        return _is_sequence(node.args[0], known)
    if node.primitive is operator.getitem:
        return _is_sequence(node.args[0], known) and isinstance(node.args[1].index, gast.Slice)
    if node.primitive in (operator.add, seq_add):
        return all(_is_sequence(a, known) for a in node.args)
    if node.primitive in (operator.mul, seq_mul):
        a, b = node.args
        return (_is_sequence(a, known) and _is_int(b)) or (_is_int(a) and _is_sequence(b, known))
    return False


def _is_int(atom):
    return isinstance(atom, gast.Constant) and type(atom.value) is int
