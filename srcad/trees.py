"""Small helpers over gast trees, written for speed.

``ast.walk`` visits every node through generic field iteration; collecting
names is what the pipeline does most (liveness, activity, free variables), so
it gets a dedicated loop, several times faster.  Order is not preserved: use
:func:`walk` where the first occurrence matters.
"""

import ast
from collections import deque

import gast

_Name = gast.Name
_AST = gast.AST


def name_nodes(tree):
    """Every ``gast.Name`` node in ``tree`` (a node or a list of nodes; not
    those inside a ``Name``, a parameter's annotation)."""
    return _depth_first(list(tree) if isinstance(tree, list) else [tree], True)


def all_nodes(stmts):
    """Every node in the statements ``stmts`` (comments skipped), in no
    particular order, except contexts and operators (``Load``, ``Add``): no
    caller looks for those, and they are most of a tree's leaves."""
    return _depth_first([s for s in stmts if isinstance(s, _AST)], False)


#: fields that hold no node, or only contexts and operators (leaves)
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "kind", "type_comment", "conversion",
                          "is_async", "level", "module", "asname", "tag", "kwd_attrs"})
_CHILD_FIELDS = {gast.Constant: ()}


def _child_fields(kind):
    """The fields of the node class ``kind`` that may hold nodes to visit."""
    found = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
    return found


def _depth_first(stack, names_only):
    """The nodes under those in ``stack`` (depth first, last root first):
    only the ``Name`` nodes when ``names_only``, which are not entered.
    Each class's fields that can hold nodes are looked up once, so a
    context or an operator is never visited: half the calls of a walk."""
    out = []
    pop, push, append = stack.pop, stack.append, out.append
    fields_of = _CHILD_FIELDS.get
    while stack:
        node = pop()
        kind = type(node)
        if kind is _Name:
            append(node)
            if names_only:
                continue
        elif not names_only:
            append(node)
        fields = fields_of(kind)
        if fields is None:
            if not isinstance(node, _AST):
                continue
            fields = _child_fields(kind)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, _AST):
                        push(item)
            elif isinstance(value, _AST):
                push(value)
    return out


class Transformer(gast.NodeTransformer):
    """``gast.NodeTransformer`` whose ``generic_visit`` enters only the fields
    that can hold nodes (:func:`_child_fields`): contexts and operators, a
    third of a tree's nodes, are never visited, which no transformer of srcad
    needs (none has a ``visit_Load`` or ``visit_Add``).  What it visits, in
    what order, and what it does with the results are ``NodeTransformer``'s."""

    def generic_visit(self, node):
        fields = _CHILD_FIELDS.get(type(node))
        for field in _child_fields(type(node)) if fields is None else fields:
            old = getattr(node, field, None)
            if type(old) is list:
                new = []
                for value in old:
                    if isinstance(value, _AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, _AST):
                            new.extend(value)
                            continue
                    new.append(value)
                old[:] = new
            elif isinstance(old, _AST):
                value = self.visit(old)
                if value is None:
                    delattr(node, field)
                else:
                    setattr(node, field, value)
        return node


def walk(tree):
    """Every node of ``tree``, in the order of ``ast.walk`` (breadth first,
    fields in order), without the two generators ``ast.walk`` makes per node."""
    return _breadth_first(tree, _AST)


def statements(tree):
    """The statements in ``tree`` (and its except handlers and match cases),
    in :func:`walk`'s order, without walking any expression: Python has no
    statement inside an expression, so a search for statements (the fence,
    nested defs) need not look there."""
    return _breadth_first(tree, _BLOCKS)


_BLOCKS = tuple(getattr(gast, name) for name in ("stmt", "excepthandler", "match_case")
                if hasattr(gast, name))


def _breadth_first(tree, kinds):
    """``tree`` and the descendants reached through nodes of ``kinds``."""
    todo = deque([tree])
    pop, push = todo.popleft, todo.append
    while todo:
        node = pop()
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is not list:
                value = (value,)
            for item in value:
                if isinstance(item, kinds):
                    push(item)
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


_GAST_CLASSES = {}
_NO_TYPE_PARAMS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def to_gast(node):
    """The gast tree of a standard-library ``ast`` tree (what parse reads).

    Does what ``gast.ast_to_gast`` does (a parameter becomes a ``Name`` with a
    ``Param`` context, ``Name`` gains ``annotation`` and ``type_comment``, an
    ``ExceptHandler``'s name a ``Name``, definitions an empty ``type_params``
    before Python 3.12) with one loop over each node's fields and no gast
    constructor calls: parsing a long function spent most of its time in
    gast's visitor.
    """
    if type(node) is list:
        return [to_gast(item) if isinstance(item, ast.AST) else item for item in node]
    kind = type(node)
    if kind is ast.Name:
        new = _node(gast.Name, node, id=node.id, ctx=to_gast(node.ctx), annotation=None,
                    type_comment=None)
    elif kind is ast.arg:
        new = _node(gast.Name, node, id=node.arg, ctx=gast.Param(),
                    annotation=_field(node.annotation), type_comment=node.type_comment)
    else:
        cls = _GAST_CLASSES.get(kind)
        if cls is None:
            cls = _GAST_CLASSES[kind] = getattr(gast, kind.__name__)
        fields = {f: _field(getattr(node, f)) for f in node._fields if hasattr(node, f)}
        if kind is ast.ExceptHandler and node.name:
            fields["name"] = _node(gast.Name, None, id=node.name, ctx=gast.Store(),
                                   annotation=None, type_comment=None)
        elif kind in _NO_TYPE_PARAMS and "type_params" not in fields:
            fields["type_params"] = []
        new = _node(cls, node, **fields)
    return new


def _field(value):
    if type(value) is list or isinstance(value, ast.AST):
        return to_gast(value)
    return value


def _node(cls, origin, **fields):
    """A ``cls`` node with ``fields`` and the locations of ``origin``, made
    without gast's constructor."""
    new = cls.__new__(cls)
    attrs = new.__dict__
    attrs.update(fields)
    if origin is not None:
        found = origin.__dict__
        for attr in origin._attributes:
            if attr in found:
                attrs[attr] = found[attr]
    return new


def clone(node):
    """A deep copy of a gast tree, several times faster than copy.deepcopy."""
    if type(node) is list:
        return [clone(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    return copy_node(node, clone)


def copy_node(node, copy, **fields):
    """A new node like ``node``: its fields ``copy``-ed (or given in
    ``fields``), its other attributes (locations, srcad's marks) shared.

    Made without calling the node's class: gast's constructor is Python code
    that checks its arguments, and copying trees is most of what inlining a
    rule costs."""
    cls = type(node)
    new = cls.__new__(cls)
    attrs = new.__dict__
    attrs.update(node.__dict__)
    for f in cls._fields:
        if f in fields:
            attrs[f] = fields[f]
        else:
            value = attrs.get(f)
            if type(value) is list or isinstance(value, gast.AST):
                attrs[f] = copy(value)
            elif f not in attrs:
                attrs[f] = None
    return new


def map_children(node, fn):
    """``node`` with each child expression ``e`` (a field, or an item of a
    list field) replaced by ``fn(e)``, in place: a rewriting's default for
    the nodes it does not rewrite itself."""
    for field in node._fields:
        value = getattr(node, field)
        if isinstance(value, gast.expr):
            setattr(node, field, fn(value))
        elif type(value) is list:
            setattr(node, field, [fn(v) if isinstance(v, gast.expr) else v for v in value])
    return node
