"""Shape-only saves: a loop stack keeps the shape of a value the reverse sweep
reads only for its shape.

``add = Wh @ h + Wx @ x`` in a loop saves ``Wh @ h`` and ``Wx @ x`` every
iteration, but the reverse sweep reads them only as ``unbroadcast(g, v)``,
which needs ``v.shape``.  The stack then keeps :func:`srcad.runtime.shape_of`
of the value (a :class:`srcad.runtime.Shape`: a few bytes, not the array)::

    >>> from srcad.passes import demo, Context
    >>> from srcad.reverse import Comment
    >>> import gast
    >>> def run(body):
    ...     body.insert(1, Comment("reverse sweep", header=True))
    ...     return push_shapes(body, Context())
    >>> demo(run, '''
    ... for i in range(n):
    ...     m_stack.push(m)
    ...     m = W @ h
    ...     h = np.tanh(m + b)
    ... for i in reversed(range(n)):
    ...     dm = unbroadcast(dh * (1.0 - h * h), m)
    ...     m = m_stack.pop()''')
    for i in range(n):
        m_stack.push(shape_of(m))
        m = W @ h
        h = np.tanh(m + b)
    for i in reversed(range(n)):
        dm = unbroadcast(dh * (1.0 - h * h), m)
        m = m_stack.pop()

(The doctest places the reverse-sweep header itself: a pass sees the forward
and the reverse sweep of one function, split at that header.)
"""

import gast

from srcad.builders import call as call_
from srcad.passes._blocks import load
from srcad.runtime import Stack, reduced_count, repeat_to, shape_of, unbroadcast
from srcad.trees import all_nodes


def push_shapes(body, context=None):
    """``body`` with shape-only saves (in place)."""
    if context is None or context.name_of(Stack) is None:
        return body                                   # no loop stacks
    start = reverse_start(body)
    if start is None:
        return body
    readers = shape_readers(context)
    forward, reverse = body[:start], body[start:]
    pushes = loop_pushes(forward)
    pops = restoring_pops(reverse)
    for stack, (var, calls) in pushes.items():
        if pops.get(stack) != var or not shape_reads_only(reverse, var, readers):
            continue
        helper = context.ref(shape_of, "shape_of")
        for call in calls:
            call.args = [call_(load(helper), call.args[0])]
    return body


def reverse_start(body):
    """The index of the ``# reverse sweep`` header in ``body``, or None."""
    for i, stmt in enumerate(body):
        if not isinstance(stmt, gast.AST) and getattr(stmt, "header", False) \
                and stmt.text == "reverse sweep":
            return i
    return None


def _walk(stmts):
    return all_nodes(stmts)


def loop_pushes(forward):
    """stack -> (the one name pushed onto it, the push calls), for the stacks
    pushed in loops only (outside loops a value is saved once at most)."""
    found, bad = {}, set()
    in_loops = {id(n) for loop in _walk(forward) if isinstance(loop, (gast.For, gast.While))
                for n in _walk(loop.body)}
    for node in _walk(forward):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "push" and id(node) not in in_loops:
            if isinstance(node.func.value, gast.Name):
                bad.add(node.func.value.id)
            continue
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "push" and isinstance(node.func.value, gast.Name):
            stack = node.func.value.id
            if len(node.args) != 1 or not isinstance(node.args[0], gast.Name) or node.keywords:
                bad.add(stack)
                continue
            var, calls = found.setdefault(stack, (node.args[0].id, []))
            if var != node.args[0].id:
                bad.add(stack)
            calls.append(node)
    return {s: v for s, v in found.items() if s not in bad}


def restoring_pops(reverse):
    """stack -> the one name its pops restore (a stack pushed in ``reverse``
    too, or popped into other targets, is left out)."""
    found, bad = {}, set()
    for node in _walk(reverse):
        if isinstance(node, gast.Attribute) and node.attr == "push" and isinstance(node.value, gast.Name):
            bad.add(node.value.id)                    # pushed in the reverse sweep too
        if isinstance(node, gast.Assign) and isinstance(node.value, gast.Call) \
                and isinstance(node.value.func, gast.Attribute) and node.value.func.attr == "pop" \
                and isinstance(node.value.func.value, gast.Name):
            stack = node.value.func.value.id
            if len(node.targets) != 1 or not isinstance(node.targets[0], gast.Name):
                bad.add(stack)
            elif found.setdefault(stack, node.targets[0].id) != node.targets[0].id:
                bad.add(stack)
    return {s: v for s, v in found.items() if s not in bad}


#: the runtime helpers that read an argument only for its shape: helper ->
#: the argument's position (each reads it with ``np.shape``, which a
#: :class:`srcad.runtime.Shape` answers)
SHAPE_READERS = ((unbroadcast, 1), (repeat_to, 1), (reduced_count, 0))


def shape_readers(context):
    """helper name in generated code -> the position of its shape-only argument."""
    return {context.name_of(helper): position for helper, position in SHAPE_READERS
            if context.name_of(helper) is not None}


def shape_reads_only(stmts, var, readers):
    """Every read of ``var`` in ``stmts`` is a shape-only argument of one of
    ``readers`` (as :func:`shape_readers` gives them)."""
    reads = shape_reads = 0
    for node in all_nodes(stmts):
        if isinstance(node, gast.Name) and node.id == var and type(node.ctx) is gast.Load:
            reads += 1
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in readers:
            position = readers[node.func.id]
            arg = node.args[position] if len(node.args) > position else None
            if isinstance(arg, gast.Name) and arg.id == var:
                shape_reads += 1
    return reads == shape_reads


def stack_call(node):
    """``(stack, "push" or "pop")`` for the call ``s.push(...)`` or ``s.pop()``
    on a name ``s``, else None."""
    if type(node) is gast.Call and type(node.func) is gast.Attribute and node.func.attr in ("push", "pop") \
            and type(node.func.value) is gast.Name:
        return node.func.value.id, node.func.attr
    return None


def without_stacks(stmts, dead):
    """``stmts`` without the construction, pushes and pops of the ``dead`` stacks."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.AST):
            if _uses_stack(stmt, dead):
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, without_stacks(getattr(stmt, field), dead))
        out.append(stmt)
    return out


def _uses_stack(stmt, dead):
    if type(stmt) is gast.Assign and type(stmt.targets[0]) is gast.Name and stmt.targets[0].id in dead:
        return True
    found = stack_call(stmt.value) if type(stmt) in (gast.Assign, gast.Expr) else None
    return found is not None and found[0] in dead
