"""Default keywords: ``k=v`` arguments where ``v`` is the callee's own default.

Rules pass every keyword they were given (``np.sum(t, axis=None,
keepdims=False)``); where it equals the callee's default it says nothing.
:class:`DropDefaults` is built with a ``resolve`` function that maps a callee
expression of generated code to the object it names::

    >>> from srcad.passes import demo
    >>> def total(a, axis=None, scale=1.0): ...
    >>> demo(lambda body: [DropDefaults(lambda e: total).visit(s) for s in body],
    ...      "t = total(g, axis=None, scale=2.0)")
    t = total(g, scale=2.0)
"""

import inspect

import gast
import numpy as np


class DropDefaults(gast.NodeTransformer):
    """Drops ``k=v`` keyword arguments where ``v`` is the callee's own default."""

    def __init__(self, resolve):
        self.resolve = resolve

    def visit_Call(self, node):
        self.generic_visit(node)
        if node.args and _is_none(node.args[-1]) and not node.keywords:
            # a trailing positional None that is the default: without(t, k, None) -> without(t, k)
            positional = _positional_defaults(self.resolve(node.func))
            while node.args and _is_none(node.args[-1]) and len(node.args) <= len(positional) \
                    and positional[len(node.args) - 1] is None:
                node.args.pop()
        if not any(isinstance(k.value, gast.Constant) for k in node.keywords):
            return node
        defaults = _defaults(self.resolve(node.func))
        node.keywords = [k for k in node.keywords
                         if not (isinstance(k.value, gast.Constant) and k.arg in defaults
                                 and _same(defaults[k.arg], k.value.value))]
        return node


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _positional_defaults(func):
    """The defaults of ``func``'s positional parameters in order (``inspect``'s
    ``empty`` where there is none)."""
    try:
        params = inspect.signature(func, follow_wrapped=False).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.default for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _defaults(func):
    try:
        params = inspect.signature(func, follow_wrapped=False).parameters.values()  # what is called
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not p.empty}


def _same(default, value):
    if default is np._NoValue:            # NumPy's "not given": keepdims=False
        return value is False
    return type(default) is type(value) and default == value
