"""Small helpers over gast trees, written for speed.

``ast.walk`` visits every node through generic field iteration; collecting
names is what the pipeline does most (liveness, activity, free variables), so
it gets a dedicated loop, several times faster.  Order is not preserved: use
:func:`walk` where the first occurrence matters.
"""

from collections import deque

import gast

_Name = gast.Name
_AST = gast.AST


def name_nodes(tree):
    """Every ``gast.Name`` node in ``tree`` (a node or a list of nodes)."""
    out = []
    stack = list(tree) if isinstance(tree, list) else [tree]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if type(node) is _Name:
            out.append(node)
            continue
        if not isinstance(node, _AST):
            continue
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, _AST):
                        push(item)
            elif isinstance(value, _AST):
                push(value)
    return out


def walk(tree):
    """Every node of ``tree``, in the order of ``ast.walk`` (breadth first,
    fields in order), without the two generators ``ast.walk`` makes per node."""
    todo = deque([tree])
    pop, push = todo.popleft, todo.append
    while todo:
        node = pop()
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, _AST):
                        push(item)
            elif isinstance(value, _AST):
                push(value)
        yield node


def loaded(tree):
    """Names read in ``tree``."""
    return {n.id for n in name_nodes(tree) if type(n.ctx) is gast.Load}


def stored(tree):
    """Names bound in ``tree``."""
    return {n.id for n in name_nodes(tree) if type(n.ctx) is gast.Store}


def parameters(args):
    """The parameter nodes of a ``gast.arguments``: positional-only, ordinary,
    keyword-only, then ``*args`` and ``**kwargs``."""
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return list(getattr(args, "posonlyargs", [])) + list(args.args) + list(args.kwonlyargs) + extra
