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
import numpy as np

from srcad import caches, parse
from srcad.errors import SrcadError, UnsupportedSyntaxError
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


def is_function_value(value):
    """True for a value a parameter can be specialised on: a Python or
    NumPy function, a builtin, a ufunc, a bound method (not a class, whose
    call builds an object, nor data)."""
    return (isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                               np.ufunc))
            and not getattr(value, "srcad_mode", None))


def specialise(func, n_extra, kw_names, known=None):
    """``func`` with its ``*args`` replaced by ``n_extra`` positional
    parameters and its ``**kwargs`` by keyword-only parameters named
    ``kw_names`` (``None`` keeps that one as it is), and the parameters of
    ``known`` (a dict) calling the function given there; cached on ``func``."""
    kw_names = None if kw_names is None else tuple(sorted(kw_names))
    known = _unassigned(func, known or {})
    key = (n_extra, kw_names, tuple(sorted((k, id(v)) for k, v in known.items())))
    with _lock:
        table = caches.table(func, "specialised")
        found = table.get(key)
        if found is not None and found[0] is func.__code__ and found[2] == known:
            return found[1]
        spec = _build(func, n_extra, kw_names, known)
        table[key] = (func.__code__, spec, known)
        return spec


def _unassigned(func, known):
    """The entries of ``known`` whose parameter the body never assigns (an
    assigned one may hold another function by the time it is called)."""
    if not known:
        return known
    stored = {n.id for n in name_nodes(parse.parse_function(func).node)
              if isinstance(n.ctx, gast.Store)}
    return {k: v for k, v in known.items() if k not in stored}


def _build(func, n_extra, kw_names, known):
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
    spec = _compile(func, node, source, defaults)
    spec.srcad_known = dict(known)            # also marks it as a specialisation
    return spec


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

def function_parameters(func):
    """``{name: default}`` for ``func``'s parameters whose default is a
    function (``nonlinearity=np.tanh``) or that its body calls (``fn(x)``):
    each call's value is specialised on (the default is ``Parameter.empty``
    where there is none)."""
    try:
        params = inspect.signature(func, follow_wrapped=False).parameters.values()
    except (TypeError, ValueError):
        return {}
    called = called_parameters(func)
    return {p.name: p.default for p in params
            if is_function_value(p.default) or p.name in called}


def called_parameters(func):
    """The parameters ``func``'s body calls (``def apply(fn, x): return fn(x)``),
    read once per code object."""
    if not inspect.isfunction(func) or parse.is_library_function(func):
        return frozenset()
    with _lock:
        table = caches.table(func, "specialised")
        found = table.get("called")
        if found is None or found[0] is not func.__code__:
            try:
                node = parse.parse_function(func).node
            except SrcadError:
                called = frozenset()
            else:
                own = {p.id for p in parameters(node.args)}
                called = frozenset(n.func.id for n in gast.walk(node) if isinstance(n, gast.Call)
                                   and isinstance(n.func, gast.Name) and n.func.id in own)
            found = table["called"] = (func.__code__, called)
        return found[1]


def needs_dispatch(func):
    """True when the derivative of ``func`` depends on more than its code:
    ``*args``/``**kwargs`` or function-valued defaults."""
    return getattr(func, "srcad_mode", None) is None and not hasattr(func, "srcad_known") and (
        is_variadic(func) or bool(function_parameters(func)))


def inherit_known(generated, func):
    """Generated code of a specialised ``func`` calls the same parameters:
    a derivative of it (hessian, grad of grad) knows them too."""
    known = getattr(func, "srcad_known", None)
    if known:
        generated.srcad_known = known


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

    valued = function_parameters(func)
    where = {p: named.index(p) if p in named else None for p in valued}

    def shape(args, kwargs):
        n_extra = max(len(args) - trailing - len(named), 0) if has_star else None
        kw = tuple(k for k in kwargs if k not in own_keywords and k not in seeds) if has_double else None
        known = {}
        for p, default in valued.items():
            at = where[p]
            value = args[at] if at is not None and at < len(args) - trailing else kwargs.get(p, default)
            if is_function_value(value):
                known[p] = value
        return n_extra, kw, known

    def for_call(*args, **kwargs):
        """The generated derivative this call runs (its ``.source``, ``.graph``)."""
        return make(specialise(func, *shape(complete(args, kwargs), kwargs)))

    defaults = {p.name: p.default for p in params if p.default is not p.empty}

    def complete(args, kwargs):
        """A derivative with trailing seeds or tangents (vjp, jvp) takes every
        positional parameter: the defaults the call leaves out are filled in."""
        if not trailing or has_star:
            return args
        primal, tail = list(args[:len(args) - trailing]), list(args[len(args) - trailing:])
        for name in named[len(primal):]:
            if name in kwargs or name not in defaults:
                break
            primal.append(defaults[name])
        return tuple(primal + tail)

    def derivative(*args, **kwargs):
        args = complete(args, kwargs)
        return make(specialise(func, *shape(args, kwargs)))(*args, **kwargs)

    derivative.for_call = for_call
    derivative.__wrapped__ = func
    derivative.srcad_mode = mode
    derivative.__qualname__ = f"srcad.{mode}({func.__qualname__})"
    derivative.__doc__ = (f"srcad.{mode} of {func.__qualname__}, which takes *args or **kwargs: each "
                          f"call runs the derivative of {func.__qualname__} specialised on that call's "
                          f"arguments (.for_call(*args) gives it, with its .source).")
    return derivative
