"""Float64 arrays of known shapes: a copy of a gradient for the shapes of its first call.

A rule cannot know the shapes it is inlined at, so generic reverse code
reads ``unbroadcast(g * y, x)`` (sum ``g * y`` down to ``x``'s shape),
``like(dW, W)`` (the gradient in ``W``'s type and dtype), ``check_inputs``,
``matmul_adjoint_x(g, h, W)`` (``@`` of any ranks) and ``repeat_to(g, x)``
(a reduction's cotangent spread over ``x``).  Where shapes agree each is the
identity, yet costs a call, and ``repeat_to`` keeps forward values alive only
for their shape (the MLP's ``Y * logp``, ``logp`` and ``log(sum)``).

When every parameter the gradient reads is a float64 ``ndarray`` (the seed
of ``grad`` a Python float), the first call with a set of shapes writes a
copy of the gradient for them: :func:`plan` decides, at transformation,
whether the code has helpers a copy could remove; :func:`dispatch` puts the
call of the copy first, behind a guard that tests the types, dtypes and
shapes (those of the current copy; other shapes get their own, up to
:data:`COPIES`, then the generic code); the ``write(kinds)`` that
:func:`plan` returns writes a copy.
The copy knows what every name holds (:class:`srcad.passes.array_kinds.Kinds`: an array of a shape,
a NumPy scalar, a float, an int, or not known) and writes each helper as
what it returns for those values, so nothing is refused: a helper whose
operands it does not know stays as it is.  The gradient of ``(x + y) * z``
for a cotangent ``dg``, all of shape ``(3,)``::

    >>> from srcad.passes import demo
    >>> demo(lambda body: specialise_body(body, {p: ((3,), "f") for p in "xyz"} | {"dg": ((3,), "f")}), '''
    ... check_inputs(x, y, z)
    ... p = x + y
    ... dp = unbroadcast(dg * z, p)
    ... dz = unbroadcast(dg * p, z)
    ... dx = unbroadcast(dp, x)
    ... dy = unbroadcast(dp, y)
    ... return (like(dx, x), like(dy, y), like(dz, z))''')
    p = x + y
    dp = dg * z
    dz = dg * p
    return (dp, dp, dz)

The copy must compute what the generic code computes: each rewriting below
is what the helper does for the kinds it is given (see srcad/runtime.py), and
a forward value left unread is one the generic code read only for its shape.
"""

import copy

import gast
import numpy as np

from srcad import runtime
from srcad.builders import call, const, forwarding_call, name
from srcad.passes import copies, dead_code
from srcad.passes.array_kinds import _GAINS, F64, FLOAT, Kinds, attribute, hashable
from srcad.passes.floats import resolver, without_locals
from srcad.passes.array_stacks import paired_stacks, without_unread_placeholders, without_unread_stacks
from srcad.trees import clone, name_nodes, parameters

#: False: no array copies (the tests compare the copies with the generic code)
ENABLED = True

#: True: an error while writing a copy is raised (the tests); False: the
#: generic code runs instead (a user's gradient does not fail for a copy)
STRICT = False

#: how many sets of shapes get a copy each (then the generic code runs for others)
COPIES = 8


def plan(fdef, seed, resolve, ref):
    """The copy of the generated function ``fdef`` for float64 arrays, planned:
    None when its code has no helper a copy could remove (then a guard would
    only cost), else ``(params, write)``: the parameters the guard tests
    (those ``fdef`` reads; ``seed``, grad's, is a Python float) and
    ``write(kinds)``, which writes the copy (``<name>_arrays``) for the
    parameters' ``kinds`` (``{param: (shape, "f") or FLOAT}``).
    ``resolve(expr)``: the object a name of generated code refers to;
    ``ref(obj, wanted)``: the name generated code uses for ``obj``.  Deciding
    reads ``fdef`` and changes nothing (its statements must not change until
    the copy is written; statements put before them do not matter)."""
    args = fdef.args
    if not ENABLED or args.vararg is not None or args.kwarg is not None or args.kwonlyargs:
        return None
    body = [s for s in fdef.body if not getattr(s, "srcad_dispatch", False)]
    names = name_nodes([s for s in body if isinstance(s, gast.AST)])
    read = {n.id for n in names if type(n.ctx) is gast.Load}
    bound = {n.id for n in names if type(n.ctx) is gast.Store} | {a.id for a in parameters(args)}
    local_resolve = without_locals(resolve, bound)
    if not any(hashable(local_resolve(name(n))) in _GAINS for n in read - bound):
        return None
    params = [a.id for a in parameters(args) if a.id in read]
    if all(p == seed for p in params):
        return None
    own_args = clone(args)
    own_args.defaults, own_args.kw_defaults = [], []
    shell = copy.copy(fdef)
    shell.body = shell.args = None

    def write(kinds):
        spec = copy.copy(shell)
        spec.name, spec.args = shell.name + "_arrays", own_args
        spec.body = _specialised(clone(body), kinds, local_resolve, ref)
        return spec
    return params, write


def specialise_body(body, kinds, resolve=None, ref=None):
    """A new body: ``body``'s statements for parameters of ``kinds``
    (``{name: (shape, "f")}`` for float64 arrays, ``FLOAT``); ``body`` is
    left alone."""
    from srcad.passes.floats import _DEMO_NAMES
    names = {**_DEMO_NAMES, **{f.__name__: f for f in (runtime.matmul_adjoint_x, runtime.matmul_adjoint_y,
                                                        runtime.matmul_adjoint_x_rows, runtime.matmul_adjoint_y_rows,
                                                        runtime.OuterProducts, len)}}
    resolve = resolve or resolver(names.get)
    bound = {n.id for n in name_nodes([s for s in body if isinstance(s, gast.AST)])
             if type(n.ctx) is gast.Store} | set(kinds)
    return _specialised(clone(body), kinds, without_locals(resolve, bound), ref or (lambda obj, wanted: wanted))


def kinds_of(values):
    """``{param: kind}`` for the guard's arguments at the first call: float64
    arrays as ``(shape, "f")``, Python floats as FLOAT."""
    return {p: FLOAT if type(v) is float else (v.shape, "f") for p, v in values.items()}


def _specialised(body, params, resolve, ref):
    kinds = Kinds(params, resolve, ref)
    kinds.pairs = paired_stacks(body, kinds.resolve)
    kinds.infer(body)
    body = kinds.stream_products(kinds.rewrite(body))
    kinds.spread_scalars(body)
    body = without_unread_placeholders(without_unread_stacks(body, kinds.resolve))
    body = copies.propagate_copies(body)
    return dead_code.eliminate_dead_code(body)


_DISPATCH_NOTE = ("on float64 arrays: this code for their shapes, written at the first call "
                  "with them (the copy for the first shapes is shown below)")


def dispatch(fdef, spec_name, shapes_name, other_name, params, seed, ref):
    """Put the call of the array copy ``spec_name`` first in ``fdef`` (after
    the float copy's), for ``params`` that are float64 arrays (``seed`` a
    Python float) whose shapes equal the tuple in ``shapes_name``; for other
    shapes, the call of ``other_name`` (which writes or finds their copy and
    makes it the current one), unless it is None (enough copies)."""
    kind = ref(type, "type")
    arrays = [p for p in params if p != seed]
    tests = [_chain([call(name(kind), name(p)) for p in arrays] + [name(ref(np.ndarray, "ndarray"))])]
    if seed in params:
        tests.append(gast.Compare(left=call(name(kind), name(seed)), ops=[gast.Is()],
                                  comparators=[name(ref(float, "float"))]))
    tests.append(_chain([attribute(p, "dtype") for p in arrays] + [name(ref(F64, "float64"))]))
    shapes = gast.Tuple(elts=[attribute(p, "shape") for p in arrays], ctx=gast.Load())
    same = gast.If(test=gast.Compare(left=shapes, ops=[gast.Eq()], comparators=[name(shapes_name)]),
                   body=[gast.Return(value=forwarding_call(spec_name, fdef.args))], orelse=[])
    other = gast.If(test=gast.Compare(left=name(other_name), ops=[gast.IsNot()], comparators=[const(None)]),
                    body=[gast.Return(value=forwarding_call(other_name, fdef.args))], orelse=[])
    stmt = gast.If(test=gast.BoolOp(op=gast.And(), values=tests), body=[same, other], orelse=[])
    from srcad.reverse import Comment
    note = Comment(_DISPATCH_NOTE)
    for node in (stmt, same, other):
        node.srcad_no_origin = True
    stmt.srcad_dispatch = note.srcad_dispatch = True
    at = 0
    while at < len(fdef.body) and getattr(fdef.body[at], "srcad_dispatch", False):
        at += 1
    fdef.body[at:at] = [note, stmt]


def _chain(operands):
    return gast.Compare(left=operands[0], ops=[gast.Is()] * (len(operands) - 1), comparators=operands[1:])
