"""Variadic functions specialised on the shape of a call.

A function with ``*args`` or ``**kwargs`` parameters (a decorator's
``wrapper(*args, **kwargs)``, SciPy's ``f(x, *args)``) cannot be given seed or
tangent parameters after its own, and its body reads ``args`` and ``kwargs``
whose length and keys are only known when it is called.  Once the call is
known, though, the function is an ordinary one.  :func:`specialise` writes
that ordinary function: for a call with two extra positional arguments and
the keyword ``s``, ::

    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)

becomes ::

    def wrapper(args_0, args_1, *, s):
        args = (args_0, args_1)
        kwargs = {'s': s}
        return 2.0 * fn(*args, **kwargs)

and the normalizer expands ``fn(*args, **kwargs)`` over the literals it now
sees (``fn(args_0, args_1, s=s)``).  The specialised function is compiled
over the original's globals and closure cells (so ``fn`` is the same cell),
keeps its tree for :func:`srcad.parse.parse_function` like a lifted nested
function, and is cached on the original per call shape, so each shape is
transformed once.  ``srcad.grad(wrapper)`` of such a function is a small
dispatcher (:func:`dispatcher`) that picks the derivative of the
specialisation for each call; a called function with ``**kwargs`` is
specialised at its call site (``graph._attach_callee``).
"""

import inspect
import threading
import types

import gast

from srcad import caches, parse
from srcad.errors import UnsupportedSyntaxError
from srcad.trees import name_nodes, parameters

_lock = threading.RLock()


def is_variadic(func):
    """True when ``func`` (a Python function) takes ``*args`` or ``**kwargs``."""
    code = getattr(func, "__code__", None)
    return code is not None and bool(code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))


def forwards_varargs(func):
    """True when ``func``'s body spreads its own ``*args`` (``fn(*args)``):
    then a call site specialises it, since the tuple's length is known there."""
    with _lock:
        table = caches.table(func, "specialised")
        found = table.get("forwards")
        if found is None or found[0] is not func.__code__:
            node = parse.parse_function(func).node
            star = node.args.vararg.id if node.args.vararg is not None else None
            spreads = any(isinstance(n, gast.Starred) and isinstance(n.value, gast.Name)
                          and n.value.id == star for n in gast.walk(node))
            found = table["forwards"] = (func.__code__, spreads)
        return found[1]


def specialise(func, n_extra, kw_names):
    """``func`` with its ``*args`` replaced by ``n_extra`` positional
    parameters and its ``**kwargs`` by keyword-only parameters named
    ``kw_names`` (``None`` keeps that one as it is); cached on ``func``."""
    kw_names = None if kw_names is None else tuple(sorted(kw_names))
    key = (n_extra, kw_names)
    with _lock:
        table = caches.table(func, "specialised")
        found = table.get(key)
        if found is not None and found[0] is func.__code__:
            return found[1]
        spec = _build(func, n_extra, kw_names)
        table[key] = (func.__code__, spec)
        return spec


def _build(func, n_extra, kw_names):
    parsed = parse.parse_function(func)
    node, source = parsed.node, parsed.source
    args = node.args
    taken = {n.id for n in name_nodes(node)} | set(func.__code__.co_names)
    prologue = []
    defaults = func.__defaults__
    if args.vararg is not None and n_extra is not None:
        star = args.vararg
        names = _fresh_names(star.id, n_extra, taken)
        args.args.extend(_param(n, star) for n in names)
        args.vararg = None
        if n_extra:
            defaults = None                  # every named positional was passed
        prologue.append(_assign(star.id, gast.Tuple(elts=[_load(n, star) for n in names],
                                                    ctx=gast.Load()), star))
    if args.kwarg is not None and kw_names is not None:
        double = args.kwarg
        own = {p.id for p in parameters(args)}
        for key in kw_names:
            if key in taken and key not in own or not key.isidentifier():
                raise source.error(
                    UnsupportedSyntaxError,
                    f"srcad cannot differentiate {func.__qualname__} called with the keyword "
                    f"{key!r}, a name its body also uses", double,
                    hint=f"rename the variable {key!r} in {func.__qualname__}, or pass the "
                         f"value under another keyword")
        args.kwonlyargs.extend(_param(k, double) for k in kw_names)
        args.kw_defaults.extend(None for _ in kw_names)
        args.kwarg = None
        keys = [gast.copy_location(gast.Constant(value=k, kind=None), double) for k in kw_names]
        prologue.append(_assign(double.id, gast.Dict(keys=keys, values=[_load(k, double) for k in kw_names]),
                                double))
    node.body[:0] = prologue
    node.returns = None                      # annotations would be evaluated when compiled
    for param in parameters(args):
        param.annotation = None
    return _compile(func, node, source, defaults)


def _compile(func, node, source, defaults):
    from srcad.lift import _code
    cells = dict(zip(func.__code__.co_freevars, func.__closure__ or ()))
    code = _code(node, sorted(cells), func.__name__, source.filename)
    closure = tuple(cells[n] for n in code.co_freevars)
    fn = types.FunctionType(code, func.__globals__, func.__name__, defaults, closure or None)
    fn.__kwdefaults__ = dict(func.__kwdefaults__) if func.__kwdefaults__ else None
    fn.__qualname__ = func.__qualname__
    fn.__module__ = func.__module__
    fn.srcad_nested = (node, source)
    fn.srcad_specialised = func
    return fn


def _fresh_names(base, n, taken):
    out = []
    i = 0
    while len(out) < n:
        name = f"{base}_{i}"
        if name not in taken:
            out.append(name)
            taken.add(name)
        i += 1
    return out


def _param(name, origin):
    return gast.copy_location(gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None),
                              origin)


def _load(name, origin):
    return gast.copy_location(gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None),
                              origin)


def _assign(name, value, origin):
    target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
    stmt = gast.Assign(targets=[gast.copy_location(target, origin)],
                       value=gast.copy_location(value, origin), type_comment=None)
    return gast.copy_location(stmt, origin)


# -- the derivative of a variadic function ----------------------------------------

#: how many trailing positional arguments each mode's derivative takes after
#: the function's own (seeds default to 1.0 and are passed by keyword)
def _trailing(mode, wrt):
    k = len(wrt) if isinstance(wrt, (tuple, list)) else 1
    return {"vjp": 1, "jvp": k, "hvp": k, "hessp": 1}.get(mode, 0)


def dispatcher(func, wrt, mode, make):
    """The derivative of a variadic ``func``: at each call, the derivative
    (``make(spec)``) of ``func`` specialised on that call's number of extra
    positional arguments and its extra keywords."""
    sig = inspect.signature(func, follow_wrapped=False)
    params = list(sig.parameters.values())
    named = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    own_keywords = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    has_star = any(p.kind is p.VAR_POSITIONAL for p in params)
    has_double = any(p.kind is p.VAR_KEYWORD for p in params)
    trailing = _trailing(mode, wrt)
    seeds = {"dout"} if mode in ("grad", "value_and_grad") else set()

    def shape(args, kwargs):
        n_extra = max(len(args) - trailing - len(named), 0) if has_star else None
        kw = tuple(k for k in kwargs if k not in own_keywords and k not in seeds) if has_double else None
        return n_extra, kw

    def for_call(*args, **kwargs):
        """The generated derivative this call runs (its ``.source``, ``.graph``)."""
        return make(specialise(func, *shape(args, kwargs)))

    def derivative(*args, **kwargs):
        return make(specialise(func, *shape(args, kwargs)))(*args, **kwargs)

    derivative.for_call = for_call
    derivative.__wrapped__ = func
    derivative.srcad_mode = mode
    derivative.__qualname__ = f"srcad.{mode}({func.__qualname__})"
    derivative.__doc__ = (f"srcad.{mode} of {func.__qualname__}, which takes *args or **kwargs: each "
                          f"call runs the derivative of {func.__qualname__} specialised on that call's "
                          f"arguments (.for_call(*args) gives it, with its .source).")
    return derivative
