"""Builders of the gast nodes the stages write, and small name helpers.

gast's constructors want every field (``annotation`` and ``type_comment`` on
a ``Name``); these spell them once, so the stages write ``name("x")`` and
``assign("y", value)`` instead of the full constructors.  ``origin`` gives a
node the location of the user's node it comes from (errors and traceback
annotations quote that line).
"""

import gast


def make(cls, **fields):
    """A gast ``cls`` node with ``fields``, without gast's constructor (Python
    code that sets one attribute at a time; generators make many nodes)."""
    node = cls.__new__(cls)
    node.__dict__.update(fields)
    return node


def name(id_, ctx=None, origin=None):
    """``id_`` read (or with ``ctx``: stored, a parameter)."""
    node = make(gast.Name, id=id_, ctx=ctx or make(gast.Load), annotation=None, type_comment=None)
    return node if origin is None else gast.copy_location(node, origin)


def store(id_, origin=None):
    """``id_`` as an assignment target."""
    return name(id_, make(gast.Store), origin)


def param(id_, origin=None):
    """``id_`` as a parameter of a function."""
    return name(id_, make(gast.Param), origin)


def const(value):
    return make(gast.Constant, value=value, kind=None)


def assign(target, value, origin=None):
    """``target = value`` for a name ``target``."""
    stmt = make(gast.Assign, targets=[store(target)], value=value, type_comment=None)
    return stmt if origin is None else gast.copy_location(stmt, origin)


def call(func, *args):
    """``func(*args)`` without keywords."""
    return make(gast.Call, func=func, args=list(args), keywords=[])


def forwarding_call(func, args):
    """``func(a, b, *, k=k)``: the call of the function named ``func`` that
    hands on the parameters ``args`` (a ``gast.arguments`` without ``*``/``**``)
    of the function it is written in."""
    return make(gast.Call, func=name(func), args=[name(a.id) for a in list(args.posonlyargs) + list(args.args)],
                keywords=[gast.keyword(arg=a.id, value=name(a.id)) for a in args.kwonlyargs])


def is_local(expr):
    """True when ``expr`` is a name of the function's own (the graph builder
    marks them ``srcad_local``), not a global, builtin or closure variable."""
    return isinstance(expr, gast.Name) and getattr(expr, "srcad_local", False)
