"""The public transforms: grad, value_and_grad, vjp, check_grad, graph.

Each transform runs the pipeline once per (function, wrt, mode) and hands back
the generated function itself, with attributes attached (``source``,
``graph``, ``__wrapped__``): calling it costs exactly what calling the
generated code costs, with no wrapper in between.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import threading
import types
from typing import Callable, Optional, Sequence, Union

import gast
import numpy as np

from srcad import caches, calls, debug, display, pipeline
from srcad.passes import arrays as passes_arrays
from srcad.errors import (GradientCheckError, NonDifferentiableError, SourceUnavailableError, SrcadError,
                          WrtError)
from srcad.normalize import check_signature, param_names
from srcad.aux import refuse_tuple_output, split_aux
from srcad.builders import forwarding_call

_lock = threading.RLock()


def derivative(f, wrt, mode, check_finite=False, has_aux=False):
    """The cached generated function for ``f`` in ``mode`` w.r.t. ``wrt``.

    ``has_aux``: ``f`` returns ``(value, aux)``; the derivative is of
    ``value`` and ``aux`` comes back alongside, as in JAX.
    """
    with _collector_paused():            # from the first read of f's body on
        return _derivative(f, wrt, mode, check_finite, has_aux)


def _derivative(f, wrt, mode, check_finite, has_aux):
    if isinstance(f, functools.partial) and inspect.isfunction(_innermost(f)):
        return calls.partial_derivative(f, wrt, mode,
                                        lambda g, w: derivative(g, w, mode, check_finite, has_aux))
    target = f.__func__ if inspect.ismethod(f) else f
    if inspect.ismethod(f):
        wrt = _skip_self(wrt)                 # wrt counts the arguments after self
    if not inspect.isfunction(target):
        raise SourceUnavailableError(
            f"srcad transforms Python functions; {getattr(f, '__name__', f)!r} is a "
            f"{type(f).__name__}, whose source srcad does not read",
            hint="wrap it in a def (def f(x): return np.sum(x)) and transform that")
    if calls.needs_dispatch(target):
        return _variadic(f, target, wrt, mode, check_finite, has_aux)
    key = (_wrt_key(wrt), mode)
    if check_finite:                          # see srcad/debug.py
        if mode not in ("grad", "value_and_grad", "vjp"):
            raise SrcadError(f"check_finite is not available for srcad.{mode}",
                             hint="use it with grad, value_and_grad or vjp")
        key += ("check_finite",)
    if has_aux:
        if mode not in ("grad", "value_and_grad", "vjp"):
            raise SrcadError(f"has_aux is not available for srcad.{mode}",
                             hint="use it with grad, value_and_grad or vjp")
        key += ("has_aux",)
    with _lock:
        per_function = caches.table(target, "derivative")
        found = per_function.get(key)
        if found is None or not caches.is_current(found):   # a name was rebound since
            def again(*args, **kwargs):
                """Called by a stale derivative's entry guard: transform anew."""
                with _lock:
                    if per_function.get(key) is fn_cell[0]:
                        del per_function[key]
                return derivative(target, wrt, mode, check_finite, has_aux)(*args, **kwargs)

            fn_cell = [None]
            found = per_function[key] = fn_cell[0] = _generate(
                target, wrt, mode, check_finite, has_aux, again=again)
    if inspect.ismethod(f):
        return found.__get__(f.__self__)
    return found


def _variadic(f, target, wrt, mode, check_finite, has_aux):
    """The derivative of a function with ``*args``/``**kwargs`` (srcad/calls.py):
    a dispatcher, cached like a derivative, over the derivatives of the
    function specialised on each call's arguments."""
    key = (_wrt_key(wrt), mode, "variadic", check_finite, has_aux)
    with _lock:
        per_function = caches.table(target, "derivative")
        found = per_function.get(key)
        if found is None:
            def make(spec):
                return derivative(spec, wrt, mode, check_finite, has_aux)
            found = per_function[key] = calls.dispatcher(target, wrt, mode, make)
        found.refresh()
    if inspect.ismethod(f):
        return found.__get__(f.__self__)
    return found


def _innermost(p):
    """The function a (possibly nested) functools.partial calls."""
    while isinstance(p, functools.partial):
        p = p.func
    return p


@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector while a transformation runs.

    A transformation allocates tens of thousands of AST nodes that all stay
    alive until it ends, and the collector's full passes walk every one of
    them: on a 5,000-statement function that doubled the time and made it
    grow faster than the function.  Nothing cyclic needs collecting midway,
    so the collector runs again (on what is garbage by then) afterwards.
    Nested transformations (callees) leave it to the outermost.

    What the transformation keeps (the graph, the generated function, a
    float copy's plan) is long-lived; left in the youngest generation, the
    first collection after it walked all of it (0.2 s of a 5,000-statement
    transformation) only to promote it.  ``gc.freeze()`` then
    ``gc.unfreeze()`` moves every tracked object to the oldest generation,
    where the next full collection sees it anyway; a transformation leaves
    almost no cyclic garbage (about 600 objects at 5,000 statements), so
    nothing waits long for collection.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():   # (the user's frozen objects stay frozen)
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def _skip_self(wrt):
    """Integer positions of a bound method's arguments, counted after ``self``."""
    shift = lambda w: w + 1 if isinstance(w, int) and not isinstance(w, bool) and w >= 0 else w  # noqa: E731
    return tuple(shift(w) for w in wrt) if isinstance(wrt, (tuple, list)) else shift(wrt)


def _wrt_key(wrt):
    """A cache key that tells 1, 1.0 and True apart (only 1 is a valid wrt)."""
    items = tuple(wrt) if isinstance(wrt, (tuple, list)) else (wrt,)
    return (isinstance(wrt, (tuple, list)),) + tuple((type(w).__name__, w) for w in items)


def _generate(f, wrt, mode, check_finite=False, has_aux=False, again=None):
    if mode in FORWARD_MODES:
        return _generate_forward(f, wrt, mode)
    parsed = pipeline.parse(f)
    anf = pipeline.front_end(parsed)
    names, is_tuple = resolve_wrt(f, param_names(anf), wrt, parsed)
    scalar = mode in ("grad", "value_and_grad")
    prepare = split_aux if has_aux else refuse_tuple_output if scalar else None
    graph = pipeline.build(parsed, anf, names, is_tuple, prepare=prepare, scalar_output=scalar)
    fdef, seed, gen = pipeline.reverse(graph, mode, splitter=split)
    if check_finite:
        debug.insert_finite_checks(fdef, parsed.source, gen._adjoints.values(), gen.refs,
                                   span=_span(parsed))
    floats = None if check_finite else pipeline.floats(fdef, parsed, gen, mode, span=_span(parsed))
    arrays = None if check_finite else pipeline.arrays(
        fdef, parsed, gen, mode, seed if mode in ("grad", "value_and_grad") else None, span=_span(parsed))
    facts = caches.record_function(parsed.namespace.facts, f)
    guard = _insert_guard(fdef, facts.guards(f), gen.refs, again)
    # the seed follows f's parameters: grad's defaults to 1.0, so f's defaults
    # stay in place before it; vjp's cotangent has none, and no parameter before
    # a required one can keep a default (f's would slide onto the cotangent)
    defaults = () if mode == "vjp" else tuple(f.__defaults__ or ()) + (1.0,)
    fn, source = pipeline.emit(fdef, parsed, gen.refs.cells, mode, defaults=defaults or None,
                               span=_span(parsed))
    own = len(source)
    source += "".join("\n" + text for text in _callee_sources(gen.callees))
    _label(fn, f, mode, names, is_tuple,
           f"{_describe_mode(mode)} of {{}}, generated by srcad.\nPrint .source to read the code.")
    fn.source = source
    fn.graph = graph
    fn.__signature__ = _own_signature(fn)
    display.attach(fn)
    calls.inherit_known(fn, f)
    fn.srcad_facts, fn.srcad_depends, fn.srcad_guard = facts, gen.callees, guard
    fn.srcad_floats = fn.srcad_arrays = None
    if floats is not None:
        fn.srcad_floats, cell, write = floats
        cell.cell_contents = _first_call_on_floats(fn, cell, write, own)
    if arrays is not None:
        fn.srcad_arrays, cells, params, write = arrays
        cells[2].cell_contents = _copies_for_shapes(fn, cells, params, write)
    return fn


def _first_call_on_floats(fn, cell, write, at):
    """What ``cell`` (the float copy of the generated ``fn``) holds until
    ``fn`` is first called on floats: a function that writes the copy
    (``write()``), puts it in ``cell`` for every later call, shows its code
    in ``fn.source`` (after ``fn``'s own, which ends at ``at``) and runs it.
    A gradient of arrays never pays for the copy, and a long function's
    transformation costs what it did without copies."""
    def first_call(*args, **kwargs):
        cell.cell_contents, text = write()
        fn.source = fn.source[:at] + "\n" + text + fn.source[at:]
        return cell.cell_contents(*args, **kwargs)
    return first_call


def _copies_for_shapes(fn, cells, params, write):
    """What the last of ``cells`` (copy, shapes, writer) holds for the generated
    ``fn``: the function its guard calls on float64 arrays of shapes other
    than the current copy's.  It finds, or writes (up to
    ``passes.arrays.COPIES``), the copy for the call's shapes, makes it the
    current one (the guard's cells) and runs it; the first copy's code is
    added to ``fn.source``.  Past the limit it empties its cell and the
    generic code runs for other shapes.  Should writing a copy fail (a bug of
    srcad's: ``passes.arrays.STRICT``, which the tests set, raises it), the
    generic code runs, now and from then on."""
    copy_cell, shapes_cell, own_cell = cells
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    written = {}

    def other_shapes(*args):
        values = dict(zip(names, args))
        kinds = passes_arrays.kinds_of({p: values[p] for p in params})
        shapes = tuple(kinds[p][0] for p in params if kinds[p] != passes_arrays.FLOAT)
        if shapes not in written:
            if len(written) >= passes_arrays.COPIES:
                own_cell.cell_contents = None           # enough copies: the generic code
                return fn(*args)
            try:
                copy, text = write(kinds)
            except Exception:
                if passes_arrays.STRICT:
                    raise
                own_cell.cell_contents = shapes_cell.cell_contents = None
                return fn(*args)
            if not written:
                fn.source = fn.source + "\n" + text
            written[shapes] = copy
        copy_cell.cell_contents, shapes_cell.cell_contents = written[shapes], shapes
        return written[shapes](*args)
    return other_shapes


def _label(fn, f, mode, names, is_tuple, doc):
    """Name the generated ``fn`` after the transform (``srcad.grad(f, wrt='x')``)
    and give it its docstring (``doc``, whose ``{}`` says of what), its
    ``__wrapped__`` (the original), ``srcad_mode`` and ``wrt``."""
    wrt_repr = repr(tuple(names)) if is_tuple else repr(names[0])
    fn.__qualname__ = f"srcad.{mode}({f.__qualname__}, wrt={wrt_repr})"
    fn.__doc__ = doc.format(f"{f.__qualname__} with respect to {', '.join(names)}")
    fn.__wrapped__ = f
    fn.srcad_mode = mode
    fn.wrt = tuple(names) if is_tuple else names[0]


def _insert_guard(fdef, guards, refs, again):
    """Put ``if h is not h_seen: return transform_again(x, dg)`` first in
    ``fdef``, for the names of the user's function that resolved to functions
    (see srcad/caches.py): a derivative kept by the user and called after
    ``h`` was rebound transforms anew instead of using the old ``h``'s code.
    Returns the name of ``transform_again`` (parse drops the guard when
    generated code is differentiated again), or None without guards."""
    if not guards or again is None:
        return None
    from srcad.reverse import Comment
    tests = []
    for path, obj in guards:
        seen = refs.allocator.fresh(path.replace(".", "_") + "_seen")
        refs.cells[seen] = obj
        tests.append(gast.Compare(left=gast.parse(path, mode="eval").body, ops=[gast.IsNot()],
                                  comparators=[gast.Name(id=seen, ctx=gast.Load(), annotation=None,
                                                         type_comment=None)]))
    name = refs.allocator.fresh("transform_again")
    refs.cells[name] = again
    retry = forwarding_call(name, fdef.args)
    test = tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.Or(), values=tests)
    stmt = gast.If(test=test, body=[gast.Return(value=retry)], orelse=[])
    stmt.srcad_no_origin = True
    names = ", ".join(path for path, _ in guards)
    fdef.body[:0] = [Comment(f"this code is for the {names} srcad read: if rebound, transform again"),
                     stmt]
    return name


class _CalleeEntry:
    """What srcad generates for a called user function w.r.t. some parameters:
    its code, the entries of the functions it calls, and the facts it relied
    on (srcad/caches.py)."""

    def __init__(self, func, wrt):
        self.func, self.wrt = func, wrt
        self.source = ""
        self.callees = []
        self.srcad_facts = None           # set once generated (srcad/caches.py)

    @property
    def srcad_depends(self):
        return self.callees


class Split(_CalleeEntry):
    """The forward and reverse functions of a called user function.

    They live in closure cells so that a recursive function can refer to its
    own pair while the pair is still being generated.
    """

    def __init__(self, func, wrt):
        super().__init__(func, wrt)
        self.forward = types.CellType()
        self.reverse = types.CellType()


def split(func, wrt):
    """The cached :class:`Split` of ``func`` differentiated w.r.t. ``wrt``."""
    return _entry("split", Split, _generate_split, func, wrt)


def _entry(kind, make, generate, func, wrt):
    """``func``'s ``kind`` table entry for ``wrt``, made and generated on
    first use, and again when a name it relied on was rebound.  The entry is
    in the table while it is generated, so a recursive function finds its
    own (and does not check it: its facts are not complete yet)."""
    with _lock:
        per_function = caches.table(func, kind)
        found = per_function.get(wrt)
        if found is not None and (found.srcad_facts is None or caches.is_current(found)):
            return found
        found = per_function[wrt] = make(func, wrt)
        try:
            with _collector_paused():
                generate(found)
        except BaseException:
            del per_function[wrt]
            raise
        return found


def _callee_graph(func, wrt, prepare=None, forward=False):
    """The analyzed graph of a called function (or of the function jvp
    transforms, whose signature ``_generate_forward`` checks), w.r.t. ``wrt``."""
    return pipeline.graph_of(func, wrt, len(wrt) > 1, callee=True, prepare=prepare, forward=forward)


def _generate_split(entry):
    func = entry.func
    parsed, graph = _callee_graph(func, entry.wrt)
    fdef, rdef, gen = pipeline.split(graph, splitter=split, own=entry)
    entry.callees = gen.callees
    sources = []
    for tree, cell, defaults in ((fdef, entry.forward, func.__defaults__), (rdef, entry.reverse, None)):
        cell.cell_contents, text = pipeline.emit(
            tree, parsed, gen.refs.cells, "split", defaults=defaults,
            reverse=tree is rdef, context=[fdef], span=_span(parsed))
        cell.cell_contents.srcad_mode = "split"     # generated code: parse reads its text
        if tree is rdef:                            # what differentiating it again needs
            cell.cell_contents.srcad_saved = rdef.args.args[0].id
            cell.cell_contents.srcad_constant = gen.constant_saved
        calls.inherit_known(cell.cell_contents, func)
        sources.append(text)
    entry.source = "\n".join(sources)
    entry.srcad_facts = caches.record_function(parsed.namespace.facts, func)


def _span(parsed):
    """The first and last line of the user's function (for codegen's annotations)."""
    node = parsed.node
    return getattr(node, "lineno", None), getattr(node, "end_lineno", None)


def _callee_sources(callees, seen=None):
    """The generated code of every function a derivative calls, each once."""
    seen = set() if seen is None else seen
    for entry in callees:
        if id(entry) in seen:
            continue
        seen.add(id(entry))
        yield entry.source
        yield from _callee_sources(entry.callees, seen)


def _describe_mode(mode):
    return {"grad": "Gradient", "value_and_grad": "Value and gradient",
            "vjp": "Vector-Jacobian product"}[mode]


def resolve_wrt(f, params, wrt, parsed=None):
    """Parameter names for ``wrt`` (an index, a name, or a tuple of them)."""
    is_tuple = isinstance(wrt, (tuple, list))
    items = list(wrt) if is_tuple else [wrt]
    if is_tuple and not items:
        raise WrtError("wrt is an empty tuple", hint="name at least one parameter")
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str, np.integer)):
            raise WrtError(
                f"wrt must be a parameter index or name (or a tuple of them), got {item!r}",
                hint=f"the parameters of {f.__qualname__} are: {', '.join(params)}")
        if isinstance(item, str):
            if item not in params:
                raise WrtError(f"{f.__qualname__} has no parameter named {item!r}",
                               hint=f"its parameters are: {', '.join(params)}")
            names.append(item)
        else:
            index = int(item)
            if not -len(params) <= index < len(params):
                raise WrtError(f"wrt={index} is out of range: {f.__qualname__} has "
                               f"{len(params)} parameter(s)",
                               hint=f"its parameters are: {', '.join(params)}")
            names.append(params[index])
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise WrtError(f"wrt names {', '.join(duplicates)} more than once",
                       hint="list each parameter once")
    return names, is_tuple


Wrt = Union[int, str, Sequence[Union[int, str]]]
"""What ``wrt`` (or JAX's ``argnums``) accepts: a parameter's index or name, or
a tuple of them (then the derivative is a tuple, one entry per parameter)."""


def _transform(mode, f, wrt, argnums, **options):
    """``transform(f, wrt=...)``, ``@transform`` and ``@transform(wrt=...)`` in one.

    ``argnums`` is JAX's name for ``wrt``; an int gives one derivative, a tuple
    a tuple of them, as in JAX.
    """
    if argnums is not None:
        if not (isinstance(wrt, int) and not isinstance(wrt, bool) and wrt == 0):
            raise WrtError(f"srcad.{mode} got both wrt={wrt!r} and argnums={argnums!r}",
                           hint="argnums is JAX's name for wrt: pass one of them")
        wrt = argnums
    if f is None:
        return lambda g: derivative(g, wrt, mode, **options)
    if not callable(f):                       # @grad("w") or grad(("w", "b"))
        if isinstance(f, (int, str, tuple)):
            return lambda g: derivative(g, f, mode, **options)
        raise WrtError(f"srcad.{mode} expects a function, got {type(f).__name__}")
    return derivative(f, wrt, mode, **options)


def grad(f: Optional[Callable] = None, wrt: Wrt = 0, *, argnums: Optional[Wrt] = None,
         has_aux: bool = False, check_finite: bool = False) -> Callable:
    """The gradient of a scalar-valued function, as generated Python code.

    ``srcad.grad(f, wrt=0)`` returns a function with ``f``'s parameters plus an
    optional trailing output cotangent (``dout=1.0``) that returns the
    gradient of ``f``'s output with respect to ``wrt``:

    - ``wrt`` is a parameter's index (``0``), its name (``"W"``), or a tuple
      of them (``("W", "b")``), which gives a tuple of gradients.  Each
      gradient has its parameter's shape (a dict of gradients for a dict, a
      list for a list).  ``argnums`` is JAX's name for it.
    - ``has_aux=True``: ``f`` returns ``(value, aux)``; the result is
      ``(gradient, aux)``.
    - ``check_finite=True`` checks every adjoint as it is computed and raises
      :class:`srcad.NonFiniteGradientError` naming the line of ``f`` where a
      gradient first becomes NaN or infinite.

    The result *is* the generated function: ``.source`` is its code (callees
    included), ``.graph`` the computational graph, ``.__wrapped__`` is ``f``.
    Also a decorator: ``@srcad.grad`` or ``@srcad.grad(wrt="w")``.  Other
    transforms: ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``,
    ``hessian``, ``hvp``, ``hessp``.

    Example::

        def f(x, y):
            return x * y + np.sin(x)

        df = srcad.grad(f, wrt=(0, 1))
        df(1.0, 2.0)          # (2.0 + cos(1.0), 1.0)
        print(df.source)      # def grad_f(x, y, dout=1.0): ...

    Raises :class:`srcad.SrcadError` (with file, line and a caret) for code
    srcad cannot differentiate, :class:`srcad.WrtError` for a bad ``wrt``.
    """
    try:
        return _transform("grad", f, wrt, argnums, check_finite=check_finite, has_aux=has_aux)
    except NonDifferentiableError as error:
        if not getattr(error, "loop_stacks", False) or check_finite or has_aux or argnums is not None \
                or not isinstance(wrt, (int, str)) or isinstance(wrt, bool):
            raise
        return _grad_by_tangents(f, wrt)


def _grad_by_tangents(f, wrt):
    """``grad`` of a generated gradient whose loops reverse mode cannot replay
    (autograd's ``grad(grad(f))`` of a Taylor series with a ``break``): forward
    over reverse, one tangent of the gradient per element of ``wrt``.  The
    gradient of a gradient is a second derivative, so the outer function's
    output is a scalar only for a scalar (or small) ``wrt``; one element costs
    one tangent sweep.  The seed ``dout`` scales the result, as in ``grad``."""
    push = derivative(f, wrt, "jvp")
    signature = inspect.signature(f)
    index = wrt if isinstance(wrt, int) else list(signature.parameters).index(wrt)

    def grad_of_gradient(*args, dout=1.0):
        bound = signature.bind(*args)
        bound.apply_defaults()                 # the tangent follows every parameter
        args = bound.args
        x = args[index]
        out = np.zeros(np.shape(x))
        checked = False
        for idx, e in _basis(x):
            value, tangent = push(*args, e)      # the value comes with each tangent
            if not checked:
                check(value)
                checked = True
            out[idx] = np.sum(tangent)
        if not checked:                          # no element: f still runs once
            check(f(*args))
        return dout * (float(out) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else out)

    def check(value):
        if np.size(value) != 1:
            raise SrcadError(f"srcad.grad needs a scalar output, but {f.__name__} returned shape "
                             f"{np.shape(value)}", hint="use srcad.jacobian or srcad.vjp")

    grad_of_gradient.source = push.source
    grad_of_gradient.__wrapped__ = f
    grad_of_gradient.__name__ = grad_of_gradient.__qualname__ = f"grad_{f.__name__}"
    return grad_of_gradient


def value_and_grad(f: Optional[Callable] = None, wrt: Wrt = 0, *, argnums: Optional[Wrt] = None,
                   has_aux: bool = False, check_finite: bool = False) -> Callable:
    """Like :func:`grad`, but the generated function returns ``(value, gradient)``.

    One forward sweep gives both.  With ``has_aux=True`` it returns
    ``((value, aux), gradient)``, as JAX does.

    Example::

        value, dW = srcad.value_and_grad(loss, wrt="W")(W, x)
    """
    return _transform("value_and_grad", f, wrt, argnums, check_finite=check_finite, has_aux=has_aux)


def vjp(f: Optional[Callable] = None, wrt: Wrt = 0, *, argnums: Optional[Wrt] = None,
        has_aux: bool = False, check_finite: bool = False) -> Callable:
    """The vector-Jacobian product (pull-back) of any function.

    ``srcad.vjp(f, wrt=0)(*args, v)`` takes ``f``'s parameters plus one
    trailing cotangent ``v`` shaped like ``f``'s output, and returns the
    gradient of ``sum(v * f(*args))`` with respect to ``wrt`` (a tuple for a
    tuple ``wrt``).  Unlike JAX's ``vjp`` it does not return ``f``'s value;
    use :func:`value_and_grad` for a scalar ``f``.

    Example::

        def f(x):
            return np.sin(x) * 2.0

        srcad.vjp(f)(np.zeros(3), np.ones(3))      # 2 cos(0) = array([2., 2., 2.])
    """
    return _transform("vjp", f, wrt, argnums, check_finite=check_finite, has_aux=has_aux)


def graph(f: Callable, wrt: Optional[Wrt] = None, *, sweep: str = "forward",
          expand: Union[bool, int] = True):
    """The computational graph of ``f`` (printable; ``.to_dot()`` for Graphviz).

    With ``wrt`` (default: every parameter) the graph also marks the active
    nodes: those that depend on ``wrt`` and reach the output.  ``expand``
    (True, False or a number of levels) draws a call of one of your own
    functions as a cluster holding the callee's graph.  ``sweep="reverse"``
    is the adjoint graph instead: the reverse sweep's statements and the
    adjoints flowing between them (docs/graphs.md).
    """
    if sweep not in ("forward", "reverse"):
        raise SrcadError(f"srcad.graph draws sweep='forward' or sweep='reverse', not {sweep!r}",
                         hint="sweep='reverse' draws the adjoint graph (backpropagation)")
    if not isinstance(expand, (bool, int)) or expand < 0:
        raise SrcadError(f"srcad.graph's expand is True, False or a number of levels, not {expand!r}",
                         hint="expand=False draws each call of your functions as one box")
    if calls.is_variadic(f):
        raise SrcadError(
            f"srcad.graph shows a function with named parameters; {f.__qualname__} takes "
            f"*args or **kwargs, whose graph depends on the call",
            hint="show the graph of one call: srcad.grad(f).for_call(*args).graph")
    parsed = pipeline.parse(f)
    anf = pipeline.front_end(parsed)
    params = param_names(anf)
    names, _ = resolve_wrt(f, params, tuple(range(len(params))) if wrt is None else wrt)
    g = pipeline.build(parsed, anf, names, wrt_is_tuple=True)
    g.expand = expand
    if sweep == "reverse":
        from srcad.adjoint_graph import adjoint_graph  # noqa: PLC0415
        return adjoint_graph(g, split)
    return g


def check_grad(f, *args, wrt=0, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0):
    """Compare srcad's gradient of ``f`` at ``args`` with central differences.

    Works in float64.  For non-scalar outputs a random cotangent is used (a
    VJP check).  Returns a dict of the largest absolute error per parameter;
    raises :class:`GradientCheckError` with a readable report on mismatch.
    """
    if calls.needs_dispatch(f):               # *args, function parameters: this call's function
        f = calls.dispatcher(f, wrt, "grad", lambda spec: spec).for_call(*args)
    params = pipeline.parameter_names(f)
    names, _ = resolve_wrt(f, params, wrt)
    fresh = lambda: [a.copy() if isinstance(a, np.ndarray) else a for a in args]  # noqa: E731
    out = f(*fresh())
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(np.shape(out)) if np.ndim(out) else 1.0
    pullback = derivative(f, tuple(names), "vjp")
    grads = pullback(*fresh(), v)
    report, errors = [], {}
    for name, g, fx, x in _entries(names, grads, params, f, args):
        x = np.asarray(x, dtype=float)
        numeric = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            numeric[idx] = (_project(fx, [x], 0, x, idx, eps, v)
                            - _project(fx, [x], 0, x, idx, -eps, v)) / (2 * eps)
        g = np.asarray(g, dtype=float)
        if g.shape != numeric.shape:
            report.append(f"  {name}: srcad's gradient has shape {g.shape}, expected {numeric.shape}")
            continue
        err = np.abs(g - numeric)
        errors[name] = float(err.max()) if err.size else 0.0
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            worst = np.unravel_index(np.argmax(err - rtol * np.abs(numeric)), err.shape) if err.ndim else ()
            report.append(f"  {name}{list(worst) if worst else ''}: srcad {g[worst]:.10g}, "
                          f"finite differences {numeric[worst]:.10g} "
                          f"({int(bad.sum())} of {err.size} entries differ)")
    if report:
        raise GradientCheckError(
            f"srcad's gradient of {f.__qualname__} disagrees with central finite differences "
            f"(eps={eps}, rtol={rtol}, atol={atol}):\n" + "\n".join(report),
            hint="if f is not differentiable at this point, move the point away from kinks; "
                 "otherwise please report the function")
    return errors


def _entries(names, grads, params, f, args):
    """``(label, gradient, f as a function of one leaf, leaf)`` for every array
    or float the gradients cover: an argument, or each entry of a dict or list
    argument (``params['W']``)."""
    for name, g in zip(names, grads):
        i = params.index(name)

        def at(value, i=i):          # fresh copies: f may update its arrays in place
            new = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            new[i] = value
            return f(*new)

        yield from _leaf_entries(name, g, args[i], at)


def _leaf_entries(label, g, x, at):
    """The leaves of ``x``; ``at(value)`` is f's output with ``x`` replaced."""
    from srcad import objects
    if objects.is_object(x):
        yield from _attribute_entries(label, g, x, at)
        return
    if not isinstance(x, (dict, list, tuple)):
        yield label, g, at, x
        return
    for key in (list(x) if isinstance(x, dict) else range(len(x))):
        def at_key(value, key=key):
            new = dict(x) if isinstance(x, dict) else list(x)
            new[key] = value
            if objects.is_namedtuple(x):
                return at(type(x)(*new))
            return at(new if not isinstance(x, tuple) else tuple(new))

        shown = f".{x._fields[key]}" if objects.is_namedtuple(x) else f"[{key!r}]"
        yield from _leaf_entries(label + shown, g[key], x[key], at_key)


def _attribute_entries(label, g, x, at):
    """The leaves of an object's data attributes (``p.W``), for check_grad."""
    import copy
    from srcad import objects
    for name in objects.data_attributes(x):
        def at_attr(value, name=name):
            new = copy.copy(x)
            object.__setattr__(new, name, value)
            return at(new)

        yield from _leaf_entries(f"{label}.{name}", objects.attribute_tangent(g, x, name),
                                 getattr(x, name), at_attr)


def check_rule(fn, *args, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0, **kwargs):
    """Check the reverse rule registered for ``fn`` against central differences.

    Calls the rule directly, as generated code would, with a random cotangent
    ``g``; checks it returns one gradient per differentiable parameter, each
    shaped like its argument, and that ``<g, J u>`` matches finite differences
    for every differentiable argument.  Returns the largest error per
    parameter; raises :class:`GradientCheckError` with a report otherwise.
    """
    from srcad import rules
    from srcad.rules.template import template
    from srcad.errors import RuleError
    rule = rules.lookup(fn)
    if rule is None:
        raise RuleError(f"no reverse rule is registered for {getattr(fn, '__qualname__', fn)!r}",
                        hint="register one with @srcad.adjoint(fn)")
    tmpl = template(rule)
    fresh = lambda: [a.copy() if isinstance(a, np.ndarray) else a for a in args]  # noqa: E731
    ans = fn(*fresh(), **kwargs)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(np.shape(ans)) if np.ndim(ans) else float(rng.standard_normal())
    grads = rule(g, ans, *fresh(), **kwargs)
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(tmpl.outputs):
        raise RuleError(f"rule {tmpl.name} returned {len(grads)} gradients; its return "
                        f"statement lists {len(tmpl.outputs)}")
    report, errors = [], {}
    for i, grad in enumerate(grads):
        if grad is None or i >= len(args):
            continue
        pname = tmpl.primal[i].name
        if np.shape(grad) != np.shape(args[i]):
            report.append(f"  {pname}: the rule's gradient has shape {np.shape(grad)}, "
                          f"the argument {np.shape(args[i])}")
            continue
        x = np.asarray(args[i], dtype=float)
        numeric = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            numeric[idx] = (_project(fn, args, i, x, idx, eps, g, kwargs)
                            - _project(fn, args, i, x, idx, -eps, g, kwargs)) / (2 * eps)
        err = np.abs(np.asarray(grad, dtype=float) - numeric)
        errors[pname] = float(err.max()) if err.size else 0.0
        if (err > atol + rtol * np.abs(numeric)).any():
            report.append(f"  {pname}: largest difference {err.max():.3g} between the rule "
                          f"and finite differences")
    if report:
        raise GradientCheckError(f"the rule {tmpl.name} of {getattr(fn, '__qualname__', fn)} "
                                 f"disagrees with central finite differences:\n" + "\n".join(report),
                                 hint="fix the rule; srcad inlines it exactly as written")
    return errors


def _project(f, args, i, x, idx, step, v, kwargs=None):
    """``<v, f(args with args[i][idx] shifted by step)>``, on copies of the arrays."""
    shifted = x.copy()
    shifted[idx] += step
    new = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    new[i] = shifted if np.ndim(args[i]) else float(shifted)
    return float(np.sum(np.asarray(f(*new, **(kwargs or {}))) * v))


# --------------------------------------------------------------------------
# forward mode and higher derivatives: jvp, jacobian, hessian, hvp
# --------------------------------------------------------------------------

#: modes that :func:`derivative` hands to :func:`_generate_forward`
FORWARD_MODES = ("jvp", "jacobian", "hessian", "hvp", "hessp")


class Forward(_CalleeEntry):
    """The tangent function of a (called) user function w.r.t. some parameters.

    It lives in a closure cell so that a recursive function can call its own
    tangent function while that is still being generated.
    """

    def __init__(self, func, wrt):
        super().__init__(func, wrt)
        self.cell = types.CellType()
        self.graph = None


def forward_entry(func, wrt):
    """The cached :class:`Forward` of ``func`` w.r.t. the parameter names ``wrt``."""
    return _entry("forward", Forward, _generate_tangent, func, wrt)


def _generate_tangent(entry):
    from srcad.forward import mark_stacks
    f = entry.func
    parsed, graph = _callee_graph(f, entry.wrt, prepare=mark_stacks, forward=True)
    fdef, gen = pipeline.tangent(graph, callee=forward_entry)
    entry.cell.cell_contents, source = pipeline.emit(fdef, parsed, gen.refs.cells, "jvp")
    entry.cell.cell_contents.srcad_mode = "jvp"
    calls.inherit_known(entry.cell.cell_contents, f)
    entry.source, entry.callees, entry.graph = source, gen.callees, graph
    entry.srcad_facts = caches.record_function(parsed.namespace.facts, f)


def _generate_forward(f, wrt, mode):
    params = _signature_params(f)
    if len(params) < len(inspect.signature(f, follow_wrapped=False).parameters):
        check_signature(pipeline.parse(f))   # *args/**kwargs: refused, as by grad
    names, is_tuple = resolve_wrt(f, params, wrt)
    if mode == "jvp":
        entry = forward_entry(f, tuple(names))
        fn = entry.cell.cell_contents
        fn.source = entry.source + "".join("\n" + text for text in _callee_sources(entry.callees))
        fn.graph = entry.graph
        fn.srcad_depends = [entry]
        fn.__signature__ = _own_signature(fn)
    else:
        make = {"jacobian": _jacobian, "hessian": _hessian, "hvp": _hvp, "hessp": _hessp}[mode]
        fn = make(f, names, is_tuple)
        fn.__signature__ = _closure_signature(f, names, mode)
    display.attach(fn)
    _label(fn, f, mode, names, is_tuple, f"{_FORWARD_DOCS[mode]} of {{}}, generated by srcad.")
    return fn


_FORWARD_DOCS = {"jvp": "Jacobian-vector product (value, tangent)", "jacobian": "Jacobian",
                 "hessian": "Hessian", "hvp": "Hessian-vector product",
                 "hessp": "Hessian-vector product (SciPy's hessp(x, p, *args))"}


def _closure_signature(f, names, mode):
    """The signature the Python closures of jacobian/hessian/hvp/hessp accept
    (they take ``*args``): ``f``'s, with the vectors where they go, so that
    ``help()`` and notebooks show how to call them."""
    params = list(inspect.signature(f, follow_wrapped=False).parameters.values())
    vector = lambda name: inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY)  # noqa: E731
    plain = lambda p: p.replace(kind=p.POSITIONAL_ONLY, default=p.empty)  # noqa: E731
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keywords = [p for p in params if p.kind == p.KEYWORD_ONLY]
    if mode == "hvp":
        return inspect.Signature([plain(p) for p in positional]
                                 + [vector(f"v_{n}") for n in names] + keywords)
    if mode == "hessp":
        at = next((i for i, p in enumerate(positional) if p.name == names[0]), len(positional) - 1)
        head = [plain(p) for p in positional[:at + 1]]
        tail = [p.replace(kind=p.POSITIONAL_ONLY) for p in positional[at + 1:]]
        return inspect.Signature(head + [vector("p")] + tail + keywords)
    return inspect.Signature(params)


def _own_signature(fn):
    """The generated function's own signature (with ``dout=1.0`` or the
    tangents), not ``f``'s, which ``__wrapped__`` would make help() show."""
    return inspect.signature(fn, follow_wrapped=False)


def _signature_params(f):
    """``f``'s parameter names (those the normalizer would list)."""
    return [p.name for p in inspect.signature(f, follow_wrapped=False).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


class _Call:
    """Binds the arguments of a call of ``f`` once: positional values for the
    generated functions (whose parameters have no defaults), keywords for
    keyword-only parameters, and the values of the ``wrt`` parameters."""

    def __init__(self, f, names, args, kwargs):
        bound = inspect.signature(f, follow_wrapped=False).bind(*args, **kwargs)
        bound.apply_defaults()
        self.args, self.kwargs = bound.args, bound.kwargs
        self.inputs = [bound.arguments[n] for n in names]
        for name, x in zip(names, self.inputs):
            if isinstance(x, (dict, list, tuple)):
                raise SrcadError(
                    f"Jacobians and Hessians need array or float arguments, but {name!r} is a "
                    f"{type(x).__name__}", hint="use srcad.grad, srcad.vjp or srcad.jvp, which take "
                    "dicts and lists, or pass the entries as separate arguments")


def _basis(x):
    """The unit tangents of ``x`` (a float or an array), one per element, with
    the element's index."""
    shape = np.shape(x)
    if not shape:
        yield (), 1.0
        return
    for index in np.ndindex(shape):
        e = np.zeros(shape)
        e[index] = 1.0
        yield index, e


def _jacobian(f, names, is_tuple):
    """Jacobians by forward mode (one JVP per input element) or reverse mode
    (one VJP per output element), whichever needs fewer sweeps."""

    def jacobian(*args, **kwargs):
        call = _Call(f, names, args, kwargs)
        n_in = sum(int(np.size(x)) for x in call.inputs)
        value = f(*args, **kwargs)                # its shape decides the mode
        _check_array_output(f, value, "jacobian")
        if n_in <= max(int(np.size(value)), 1):
            blocks = [_forward_columns(f, name, x, call, value) for name, x in zip(names, call.inputs)]
        else:
            blocks = _reverse_rows(f, names, call, value)
        return tuple(blocks) if is_tuple else blocks[0]

    return jacobian


def _check_array_output(f, value, what):
    if isinstance(value, (tuple, list)):
        raise SrcadError(f"srcad.{what} needs a function that returns one array, but "
                         f"{f.__qualname__} returned a {type(value).__name__}",
                         hint="return np.concatenate or np.stack of the parts, or take the "
                              "Jacobian of each part")


def _forward_columns(f, name, x, call, value):
    """``d value / d x`` one column (input element) at a time: ``out.shape + x.shape``."""
    push = derivative(f, name, "jvp")
    J = _block(np.shape(value), value, x)
    for index, e in _basis(x):
        _, t = push(*call.args, e, **call.kwargs)
        J[(Ellipsis,) + index] = t
    return _finish(J, value, x)


def _reverse_rows(f, names, call, value):
    """The Jacobians of ``value`` w.r.t. every ``names`` one row (output
    element) at a time, from one VJP per row."""
    pull = derivative(f, tuple(names), "vjp")
    blocks = [_block(np.shape(value), value, x) for x in call.inputs]
    for index, e in _basis(value):
        grads = pull(*call.args, e, **call.kwargs)
        for J, g in zip(blocks, grads):
            J[index] = g
    return [_finish(J, value, x) for J, x in zip(blocks, call.inputs)]


def _block(out_shape, out, x):
    """Zeros for the block ``d out / d x``, in the dtype a gradient of ``x``
    would have (float32 stays float32)."""
    dtypes = [np.result_type(v) for v in (out, x) if isinstance(v, (np.ndarray, np.generic))]
    floating = [d for d in dtypes if d.kind in "fc"]
    return np.zeros(tuple(out_shape) + np.shape(x),
                    dtype=np.result_type(*floating) if floating else float)


def _finish(block, out, x):
    """A block between two Python floats is a Python float, as JAX gives."""
    if isinstance(out, float) and isinstance(x, float) and block.ndim == 0:
        return float(block)
    return block


def _hessian(f, names, is_tuple):
    """The Hessian, forward over reverse: for each input element, the JVP of
    the generated gradient function along that element's unit vector."""
    gradient = derivative(f, tuple(names) if is_tuple else names[0], "grad")
    pushes = [derivative(gradient, name, "jvp") for name in names]

    def hessian(*args, **kwargs):
        call = _Call(f, names, args, kwargs)
        rows = []
        for i, x_i in enumerate(call.inputs):
            rows.append([_block(np.shape(x_i), x_i, x_j) for x_j in call.inputs])
        for j, (push, x_j) in enumerate(zip(pushes, call.inputs)):
            for index, e in _basis(x_j):
                _, column = push(*call.args, 1.0, e, **call.kwargs)
                for i, part in enumerate(column if is_tuple else (column,)):
                    rows[i][j][(Ellipsis,) + index] = part
        rows = [[_finish(block, x_i, x_j) for block, x_j in zip(row, call.inputs)]
                for row, x_i in zip(rows, call.inputs)]
        if is_tuple:
            return tuple(tuple(row) for row in rows)
        return rows[0][0]

    hessian.source = "\n".join(push.source for push in pushes)
    hessian.srcad_depends = [gradient, *pushes]
    return hessian


def _hvp(f, names, is_tuple):
    """``hvp(*args, *vectors)``: the Hessian times one vector per ``wrt``
    parameter, forward over reverse (one sweep, no Hessian)."""
    gradient = derivative(f, tuple(names) if is_tuple else names[0], "grad")
    push = derivative(gradient, tuple(names), "jvp")
    k = len(names)
    simple = _is_simple(f)

    def hvp(*args, **kwargs):
        primal, vectors = args[:-k], args[-k:]
        if simple and not kwargs:
            pos = primal
        else:
            call = _Call(f, names, primal, kwargs)
            pos, kwargs = call.args, call.kwargs
        return push(*pos, 1.0, *vectors, **kwargs)[1]

    hvp.source = push.source
    hvp.srcad_depends = [gradient, push]
    return hvp


def _hessp(f, names, is_tuple):
    """``hessp(x, p, *args)``: :func:`_hvp` with the vector right after the
    parameter it multiplies, as ``scipy.optimize.minimize`` passes it."""
    if is_tuple:
        raise WrtError("srcad.hessp multiplies the Hessian of one parameter, got a tuple wrt",
                       hint="SciPy optimizes one array x: pass wrt as one index or name, or use "
                            "srcad.hvp, which takes one vector per parameter of a tuple wrt")
    product = derivative(f, names[0], "hvp")
    at = _signature_params(f).index(names[0])

    def hessp(*args, **kwargs):
        if len(args) < at + 2:
            raise TypeError(f"{f.__qualname__}'s hessp takes its arguments up to {names[0]}, "
                            f"then the vector p, then the rest: got {len(args)} positional")
        return product(*args[:at + 1], *args[at + 2:], args[at + 1], **kwargs)

    hessp.source = product.source
    return hessp


def _is_simple(f):
    """True when every parameter of ``f`` is positional and has no default."""
    params = inspect.signature(f, follow_wrapped=False).parameters.values()
    return all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in params)


def jvp(f: Optional[Callable] = None, wrt: Wrt = 0, *, argnums: Optional[Wrt] = None) -> Callable:
    """Forward mode: the Jacobian-vector product, as generated tangent code.

    ``srcad.jvp(f, wrt=0)`` returns a function taking ``f``'s parameters
    followed by one tangent per ``wrt`` parameter (shaped like it), which
    returns ``(f(*args), tangent of the output)``.  Every statement of the
    generated code is followed by its tangent statement (``y_dot`` for
    ``y``); print ``.source``.  JAX's ``jax.jvp(f, primals, tangents)`` is
    ``srcad.jvp(f, wrt=...)(*primals, *tangents)``.

    Example::

        def f(x):
            return np.sin(x) * x

        value, tangent = srcad.jvp(f)(1.0, 1.0)    # tangent = cos(1) + sin(1)
    """
    return _transform("jvp", f, wrt, argnums)


def jacobian(f: Optional[Callable] = None, wrt: Wrt = 0, *, argnums: Optional[Wrt] = None) -> Callable:
    """The full Jacobian, shaped ``output.shape + input.shape``.

    The returned function takes ``f``'s arguments.  It runs one forward sweep
    (JVP) per input element or one reverse sweep (VJP) per output element,
    whichever is fewer, so it is JAX's ``jacfwd`` and ``jacrev`` in one.  A
    tuple ``wrt`` gives a tuple of Jacobians.  The arguments must be floats
    or arrays and ``f`` must return one array.

    Example::

        def f(x):
            return x ** 2

        srcad.jacobian(f)(np.array([1.0, 2.0]))    # array([[2., 0.], [0., 4.]])
    """
    return _transform("jacobian", f, wrt, argnums)


def hessian(f: Optional[Callable] = None, wrt: Wrt = 0, *, argnums: Optional[Wrt] = None) -> Callable:
    """The Hessian of a scalar function, shaped ``input.shape + input.shape``.

    The returned function takes ``f``'s arguments.  Forward over reverse: the
    tangent (JVP) of srcad's generated gradient code, one sweep per input
    element; loops and branches are fine.  A tuple ``wrt`` gives a tuple of
    tuples of blocks, ``H[i][j]`` shaped ``x_i.shape + x_j.shape``.  For
    ``scipy.optimize.minimize(..., hess=srcad.hessian(f))``.

    Example::

        def f(x):
            return np.sum(x ** 3)

        srcad.hessian(f)(np.array([1.0, 2.0]))     # array([[6., 0.], [0., 12.]])
    """
    return _transform("hessian", f, wrt, argnums)


def hvp(f: Optional[Callable] = None, wrt: Wrt = 0, *, argnums: Optional[Wrt] = None) -> Callable:
    """The Hessian-vector product of a scalar function, forward over reverse.

    ``srcad.hvp(f, wrt=0)(*args, v)`` returns ``H @ v`` without forming ``H``
    (one sweep of the tangent of the gradient code): ``f``'s arguments, then
    one vector per ``wrt`` parameter, *last*.  A tuple ``wrt`` takes one
    vector per parameter and returns a tuple.  For SciPy's order, where the
    vector comes right after ``x`` (``hessp(x, p, *args)``), use
    :func:`hessp`.

    Example::

        def f(x):
            return np.sum(x ** 3)

        srcad.hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 1.0]))   # array([ 6., 12.])
    """
    return _transform("hvp", f, wrt, argnums)


def hessp(f: Optional[Callable] = None, wrt: Union[int, str] = 0, *,
          argnums: Optional[Union[int, str]] = None) -> Callable:
    """The Hessian-vector product in SciPy's argument order: ``hessp(x, p, *args)``.

    The vector ``p`` comes right after the parameter it multiplies (``wrt``,
    one parameter), then the rest of ``f``'s arguments: what
    ``scipy.optimize.minimize(f, x0, args=..., hessp=srcad.hessp(f))``
    calls.  Same computation as :func:`hvp` (whose vectors come last).

    Example::

        def f(x, a):
            return np.sum(a * x ** 3)

        srcad.hessp(f)(np.array([1.0, 2.0]), np.array([1.0, 1.0]), 2.0)   # array([12., 24.])
    """
    return _transform("hessp", f, wrt, argnums)
