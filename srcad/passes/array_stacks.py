"""Loop stacks in :mod:`srcad.passes.arrays`'s copies: the stacks of shapes
nothing reads once ``unbroadcast`` is gone, and the paired stacks of rows an
accumulation sums, which a copy hands to :class:`srcad.runtime.OuterProducts`
(contracted as they come, not kept to the end)."""

import gast

from srcad import runtime
from srcad.passes import shapes
from srcad.passes.shapes import stack_call, without_stacks
from srcad.passes.array_kinds import _ROWS, _method
from srcad.trees import all_nodes, loaded, name_nodes


def paired_stacks(body, resolve):
    """``{(a, b): True}`` (sorted names) for the stacks ``a = Stack()`` and
    ``b = Stack()`` bound once at the top of ``body`` whose only reads are one
    push each, side by side in one block, and one call of a rows helper of
    both (the accumulation pass's ``matmul_adjoint_x_rows(a, W, b)``)."""
    made = _made_stacks(body, resolve)
    if len(made) < 2:
        return {}
    loads, stores = _name_counts(body)
    pushes = {}                                     # stack -> the block (list) its push is in
    calls = []

    def walk(stmts):
        for stmt in stmts:
            if type(stmt) is gast.Expr and _method(stmt.value, "push") in made:
                pushes.setdefault(_method(stmt.value, "push"), []).append(id(stmts))
            elif type(stmt) is gast.Assign and type(stmt.value) is gast.Call and \
                    resolve(stmt.value.func) in _ROWS and len(stmt.value.args) == 3:
                calls.append(stmt.value)
            for field in ("body", "orelse"):
                if type(getattr(stmt, field, None)) is list:
                    walk(getattr(stmt, field))
    walk(body)
    pairs = {}
    for node in calls:
        a, b = (node.args[0], node.args[2]) if resolve(node.func) is runtime.matmul_adjoint_x_rows \
            else (node.args[1], node.args[0])
        if type(a) is not gast.Name or type(b) is not gast.Name or a.id == b.id:
            continue
        ok = all(n in made and stores.get(n) == 1 and loads.get(n) == 2 and len(pushes.get(n, ())) == 1
                 for n in (a.id, b.id))
        if ok and pushes[a.id] == pushes[b.id]:
            pairs[tuple(sorted((a.id, b.id)))] = True
    return pairs


def without_unread_stacks(body, resolve):
    """``body`` without the loop stacks whose pops nothing reads any more
    (they held the shapes ``unbroadcast`` read): the stack goes when the
    forward sweep pushes names or ``shape_of(name)`` onto it (no effect to
    keep), the reverse sweep only pops it, into names it does not read, and
    nothing else reads the stack."""
    start = shapes.reverse_start(body)
    if start is None:
        return body
    made = _made_stacks(body, resolve)
    if not made:
        return body
    forward, reverse = body[:start], body[start:]
    read, dead = loaded(reverse), set(made)
    uses = {}
    for node in all_nodes(forward):
        found = stack_call(node)
        if found is not None and found[1] == "push":
            uses[found[0]] = uses.get(found[0], 0) + 1
            arg = node.args[0] if len(node.args) == 1 and not node.keywords else None
            if type(arg) is gast.Call and resolve(arg.func) is runtime.shape_of and len(arg.args) == 1:
                arg = arg.args[0]
            if type(arg) is not gast.Name:
                dead.discard(found[0])
    nodes = all_nodes(reverse)
    popped = {id(n.value) for n in nodes if type(n) is gast.Assign}
    for node in nodes:
        if id(node) in popped:
            continue                    # (the call, seen with its assignment)
        if type(node) is gast.Assign and stack_call(node.value) is not None:
            stack, method = stack_call(node.value)
            uses[stack] = uses.get(stack, 0) + 1
            if method != "pop" or type(node.targets[0]) is not gast.Name or node.targets[0].id in read:
                dead.discard(stack)
        elif stack_call(node) is not None:
            stack = stack_call(node)[0]
            uses[stack] = uses.get(stack, 0) + 1
            dead.discard(stack)
    loads = _name_counts(body)[0]
    dead = {s for s in dead if loads.get(s, 0) == uses.get(s, 0)}    # read by nothing but its calls
    return without_stacks(body, dead) if dead else body


def _made_stacks(body, resolve):
    """The names ``s`` of ``s = Stack()`` statements at the top of ``body``."""
    return {s.targets[0].id for s in body if type(s) is gast.Assign and type(s.targets[0]) is gast.Name
            and type(s.value) is gast.Call and not s.value.args and resolve(s.value.func) is runtime.Stack}


def _name_counts(body):
    """``(loads, stores)``: how many times ``body`` reads and binds each name."""
    loads, stores = {}, {}
    for n in name_nodes([s for s in body if isinstance(s, gast.AST)]):
        table = loads if type(n.ctx) is gast.Load else stores
        table[n.id] = table.get(n.id, 0) + 1
    return loads, stores


def without_unread_placeholders(body):
    """``body`` without the top-level ``v = None`` placeholders (a loop
    stack's first entry) that nothing reads once their stacks are gone:
    every later statement either leaves ``v`` alone or is a loop whose body
    binds ``v`` (``v = ...``, not reading it) before anything else touches it."""
    out = []
    for i, stmt in enumerate(body):
        if type(stmt) is gast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is gast.Name \
                and type(stmt.value) is gast.Constant and stmt.value.value is None \
                and _unread_after(stmt.targets[0].id, body[i + 1:]):
            continue
        out.append(stmt)
    return out


def _unread_after(var, stmts):
    for stmt in stmts:
        if not isinstance(stmt, gast.AST) or var not in {n.id for n in name_nodes([stmt])}:
            continue
        if type(stmt) not in (gast.For, gast.While) or stmt.orelse or not _bound_first(var, stmt.body) \
                or var in {n.id for n in name_nodes([stmt.target, stmt.iter] if type(stmt) is gast.For
                                                   else [stmt.test])}:
            return False
    return True


def _bound_first(var, stmts):
    """The first statement of ``stmts`` that names ``var`` binds it, plainly."""
    for stmt in stmts:
        if not isinstance(stmt, gast.AST) or var not in {n.id for n in name_nodes([stmt])}:
            continue
        return type(stmt) is gast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is gast.Name \
            and stmt.targets[0].id == var and var not in loaded(stmt.value)
    return False
