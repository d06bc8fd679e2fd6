"""The few helpers that generated code calls.

They are small on purpose: generated code should read like hand-written NumPy,
and each helper here stands for one idea a reader already knows (summing a
broadcast cotangent back to its operand's shape, scattering into zeros, a stack
for values a loop overwrites).
"""

import numpy as np

from srcad.errors import NonDifferentiableError, UnsupportedArgumentError


def identity(x):
    """The primitive of a plain copy ``y = x``: its adjoint passes ``g`` on."""
    return x


def stop_gradient(x):
    """``x`` itself, as a constant for differentiation (like JAX's stop_gradient).

    For a value whose derivative cancels out, such as the max subtracted for
    numerical stability in log-sum-exp, it saves the work of computing zero.
    """
    return x


def setitem(x, index, value):
    """The primitive of ``x[index] = value`` (an in-place update of ``x``).
    (On the tangent of a list, an immutable :class:`Adjoints`, a copy; a
    user's tuple still raises, as it does in Python.)"""
    if isinstance(x, Adjoints):           # the tangent of a list (rules build Adjoints)
        return x.replace(index, value)
    x[index] = value
    return x


def without(g, index, primal=None):
    """A copy of the cotangent ``g`` with zeros at ``index``: what flows to the
    old value of ``x`` through ``x[index] = value``, whose entries there were
    overwritten.  For a dict, ``primal`` is the dict whose entry the missing
    one reads as zeros shaped like: a tangent passes the updated dict, since a
    tangent made from a literal or passed by the user knows no primal."""
    if isinstance(g, dict):               # a missing entry of a DictAdjoints is zero
        out = DictAdjoints(primal if primal is not None else getattr(g, "primal", None), g)
        out.pop(index, None)
        return out
    if isinstance(g, (tuple, list)):      # (a list: a tangent made from a literal)
        return Adjoints(g).replace(index, zeros_like(g[index] if primal is None else primal[index]))
    out = np.array(g, dtype=np.result_type(g, float))
    out[index] = 0.0
    return out


def checked(grad, x, rule):
    """The gradient a user-registered rule gave for ``x``, if shaped like ``x``."""
    if np.shape(grad) != np.shape(x):
        from srcad.errors import RuleError
        raise RuleError(f"the derivative rule {rule} returned a gradient of shape "
                        f"{np.shape(grad)} for an argument of shape {np.shape(x)}",
                        hint="check it with srcad.check_rule(fn, *example_args)")
    return grad


class NotAnArray:
    """``not_an_array(v)``: the guard of an ``op=`` (or of a call whose callee
    makes one on a parameter) that another live name may see.

    On a float or NumPy scalar ``v += 1.0`` makes a new value, which is what
    the derivative computes; on an array (or a list) it writes in place, which
    the other name would see and the derivative would not.  Which one it is shows only
    when the function runs, so the alias analysis (srcad/alias.py) leaves this
    guard in the forward sweep instead of refusing every such line: it raises
    the refusal, with the user's line, when ``v`` is an array."""

    def __init__(self, error):
        self.error = error

    #: values that ``op=`` cannot change in place (it makes a new one)
    IMMUTABLE = (int, float, complex, np.generic, tuple, str, bytes)

    def __call__(self, value):
        if not isinstance(value, self.IMMUTABLE):        # an array, a list (+= extends it), ...
            error = self.error
            raise type(error)(error.message, filename=error.filename, lineno=error.lineno,
                              col=error.col, source_line=error.source_line, hint=error.hint)

    def __repr__(self):
        return f"not_an_array({self.error.message!r})"


def float_sign(x):
    """``np.sign`` of a Python float, as a float and without NumPy: ``-0.0``
    gives ``0.0`` and nan gives nan, as NumPy does (``math.copysign`` would
    give ``-1.0`` and ``1.0``).  The float copy of a gradient calls it."""
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else x - x


def check_inputs(*values):
    """Refuse the inputs srcad's rules do not differentiate correctly.

    Complex numbers: the rules are written for real values (``abs``'s is
    ``g * sign(x)``, which is not the derivative of ``|z|``); rather than
    return a silently wrong gradient, srcad refuses them.  Masked arrays:
    ``np.ma`` operations skip masked entries, which the rules (``unbroadcast``,
    ``mean``'s ``1 / n``) do not know.  Containers are checked entry by entry.
    """
    for value in values:
        kind = type(value)
        if kind is float or kind is np.float64 or (kind is np.ndarray and value.dtype.kind in "fiub"):
            continue                      # the common cases, one or two type tests
        if isinstance(value, (list, tuple)):
            check_inputs(*value)
        elif isinstance(value, dict):
            check_inputs(*value.values())
        elif isinstance(value, np.ma.MaskedArray):
            from srcad.errors import UnsupportedInputError
            raise UnsupportedInputError(
                "srcad does not differentiate NumPy masked arrays: the rules do not skip "
                "masked entries, so the gradient would be wrong",
                hint="pass the data and the mask as plain arrays, e.g. x.filled(0.0) and "
                     "the weights (~x.mask), and write the masking in the function")
        elif np.iscomplexobj(value):
            from srcad.errors import UnsupportedInputError
            raise UnsupportedInputError(
                "srcad differentiates real-valued inputs; this argument is complex "
                f"({type(value).__name__}{'' if not hasattr(value, 'dtype') else ' of ' + str(value.dtype)})",
                hint="split it into real and imaginary parts (two real arguments) and build "
                     "the complex value inside the function")
        elif type(value) is not np.ndarray and _is_object(value):   # a dataclass: its attributes
            from srcad.objects import object_values
            check_inputs(*object_values(value))


def _is_object(value):
    from srcad.objects import is_object
    return is_object(value)


def real_sign(x):
    """``np.sign(x)``, refusing a Python ``complex``: the one argument whose
    ``abs`` gives a Python float, which skips ``check_inputs``."""
    if type(x) is complex:
        check_inputs(x)
    return np.sign(x)


def check_scalar(value):
    """``grad`` differentiates scalar outputs only; refuse anything else."""
    if type(value) is np.float64:        # the common case: np.sum(...), a float times one
        return value
    if isinstance(value, (tuple, list, dict)):
        from srcad.errors import NonScalarOutputError
        raise NonScalarOutputError(
            f"grad needs a function with a scalar output, but it returned a "
            f"{type(value).__name__}",
            hint="if its first element is the value to differentiate and the rest is "
                 "auxiliary, pass has_aux=True (srcad.grad(f, has_aux=True) returns "
                 "(gradient, aux)); for several outputs use srcad.vjp or srcad.jacobian")
    if type(value) is not float and np.ndim(value) != 0:
        from srcad.errors import NonScalarOutputError
        raise NonScalarOutputError(
            f"grad needs a function with a scalar output, but it returned an "
            f"array of shape {np.shape(value)}",
            hint="use srcad.vjp for a vector-Jacobian product or "
                 "srcad.jacobian for the full Jacobian")
    return value


def unbroadcast(g, x):
    """Sum the cotangent ``g`` down to the shape of ``x``.

    NumPy broadcasting copies ``x`` along new leading axes and along axes where
    ``x`` has length 1; the adjoint of a copy is a sum over those axes.
    """
    if type(g) is float:          # the common scalar case, without NumPy calls
        return g
    if type(x) in (float, int):   # a Python scalar operand: sum whatever broadcast
        return g if getattr(g, "ndim", 0) == 0 else g.sum()
    try:                          # arrays and NumPy scalars: attribute reads only
        shape = x.shape
        if g.shape == shape:
            return g
    except AttributeError:
        if isinstance(x, (list, tuple)):  # the adjoints of a list add elementwise
            if isinstance(g, tuple) and len(g) != len(x):
                raise _concatenated(x, g)
            return g
        shape = np.shape(x)
        if np.shape(g) == shape:
            return g
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:          # x was a smaller-rank scalar shape, e.g. ()
        g = g.reshape(shape)
    return g


def _concatenated(x, g):
    """The error for an adjoint longer than the sequence it belongs to: a ``+``
    or ``*`` that concatenated or repeated sequences srcad could not tell were
    sequences (parameters), differentiated as elementwise arithmetic."""
    return NonDifferentiableError(
        f"an adjoint of length {len(g)} reached a sequence of length {len(x)}: a `+` or `*` "
        "concatenated or repeated tuples or lists that srcad took for arrays (their type is "
        "known only when the function runs)",
        hint="build the sequence inside the function (list(xs) + list(ys), or a literal), "
             "or use np.concatenate for arrays")


def repeat_to(g, x, axis=None, keepdims=False):
    """Spread the cotangent of a reduction of ``x`` back over ``x``'s shape.

    ``g`` has the reduced shape; when the reduction dropped axes, they are put
    back as length-1 axes so the result broadcasts against ``x``.
    """
    shape = np.shape(x)
    g = np.asarray(g)
    if not shape:                 # NumPy reduces a scalar over axis 0 to itself
        return g.astype(np.result_type(g, float)) + 0.0
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = sorted(a % len(shape) for a in axes)
        for a in axes:
            g = np.expand_dims(g, a)
    if not shape:
        return g.astype(np.result_type(g, float)) + 0.0
    return np.array(np.broadcast_to(g, shape), dtype=np.result_type(g, float))


def reduced_count(x, axis=None):
    """How many elements of ``x`` each output of a reduction over ``axis`` sums,
    but at least 1.  When it sums none, ``x`` is empty and so is its gradient,
    whatever the factor (as in JAX, ``grad(mean)(zeros(0))`` is ``zeros(0)``);
    1 keeps ``g / reduced_count(x)`` from raising ZeroDivisionError on a float ``g``."""
    shape = np.shape(x)
    if axis is None:
        return max(1, int(np.prod(shape, dtype=np.int64)))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return max(1, int(np.prod([shape[a] for a in axes], dtype=np.int64)))


class Adjoints(tuple):
    """The adjoint of a list or tuple: one adjoint per element.

    ``+`` adds elementwise, so generated code accumulates ``dL = dL + ...`` for
    lists exactly as it does for arrays (plain sequences would concatenate).
    Being a tuple subclass, its ``__radd__`` also wins over ``tuple + ...``.
    """

    def __add__(self, other):
        return Adjoints([_plus(a, b) for a, b in zip(self, other, strict=True)])

    __radd__ = __add__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Adjoints(item) if isinstance(index, slice) else item

    def replace(self, index, value):
        """A copy with ``value`` at ``index``."""
        items = list(self)
        items[index] = value
        return Adjoints(items)


# --- zeros that cost nothing: the untouched elements of a list's adjoint -------------
# A list's adjoint needs an entry for every element, but most entries of the
# adjoint of one element read out of a long list (``o[t]``, a layer's
# ``params[i]``) stay zero.  Those entries are read-only zero-strided views of
# one 0-d zero (one per shape, cached): creating them allocates nothing, and
# adding one is skipped (``_plus``).  Every view of them is still all zeros, so
# whatever reads one reads zeros; ``like`` hands dense zeros to the user.
_ZERO = np.zeros(())
_ZERO.flags.writeable = False
_lazy_zeros = {}


def lazy_zeros(shape):
    """A read-only float64 zero of ``shape`` that allocates no memory."""
    z = _lazy_zeros.get(shape)
    if z is None:
        if len(_lazy_zeros) > 256:
            _lazy_zeros.clear()
        z = _lazy_zeros[shape] = np.broadcast_to(_ZERO, shape)
    return z


def is_lazy_zero(a):
    """True for a zero made by :func:`lazy_zeros` (or any view of one)."""
    return type(a) is np.ndarray and a.base is _ZERO


def _plus(a, b):
    """``a + b`` for two entries of a list's adjoint, skipping a lazy zero."""
    if type(a) is np.ndarray and a.base is _ZERO and np.shape(b) == a.shape:
        return b
    if type(b) is np.ndarray and b.base is _ZERO and np.shape(a) == b.shape:
        return a
    return a + b


def _zero_entry(x):
    """The zero entry of a list's adjoint for element ``x``."""
    if type(x) is np.ndarray and x.ndim and x.dtype.kind != "c":
        return lazy_zeros(x.shape)
    return zeros_like(x)


class _Owned(list):
    """A list's adjoint that one reversed loop accumulates into in place.

    ``owned(d)`` makes it (a copy) before the loop, ``add_into`` and
    ``drop_last`` update it in the loop, ``released`` turns it back into an
    :class:`Adjoints` after it.  The generator uses them only where the loop
    body reads the adjoint in no other way (``passes/owned.py``), so
    nothing else ever sees the list change: each read of an element of a
    T-long list costs O(1), not a copy of T references.
    """

    __slots__ = ()

    def __add__(self, other):                # a tangent's contributions (forward over reverse)
        return Adjoints(self) + other

    __radd__ = __add__


class _OwnedArray(np.ndarray):
    """An array adjoint that one reversed loop accumulates into in place (see
    :class:`_Owned`); ``released`` hands back a plain array."""


def owned(d):
    """A private copy of ``d`` that ``add_into`` may update in place."""
    if type(d) is Adjoints:
        return _Owned(d)
    if type(d) is np.ndarray and d.dtype.kind == "f":
        return np.array(d).view(_OwnedArray)
    return d


def released(d):
    """``d`` as the plain adjoint it was before :func:`owned`."""
    if type(d) is _Owned:
        return Adjoints(d)
    if type(d) is _OwnedArray:
        return d.view(np.ndarray)
    return d


def add_into(d, g, x, index):
    """:func:`add_at` that updates a private :func:`owned` adjoint in place."""
    if type(d) is _Owned:
        d[index] = _plus(list.__getitem__(d, index), g)
        return d
    if type(d) is _OwnedArray and np.can_cast(np.result_type(g), d.dtype) and d.shape == np.shape(x):
        _add_at_index(d, index, g)
        return d
    return add_at(released(d), g, x, index)


def drop_last(d):
    """``Adjoints(d[:-1])``, the adjoint of a list before its last append;
    in place for an :func:`owned` adjoint."""
    if type(d) is _Owned:
        d.pop()
        return d
    return Adjoints(tuple.__getitem__(d, slice(None, -1)) if isinstance(d, tuple) else d[:-1])


def readonly(x):
    """``x`` for a function called for its effect (a plot): arrays as read-only
    views, so writing into them raises instead of changing values the gradient
    depends on.  Lists and dicts could be mutated: refused."""
    if type(x) is np.ndarray:
        view = x.view()
        view.flags.writeable = False
        return view
    if isinstance(x, tuple):
        return type(x)(*map(readonly, x)) if hasattr(x, "_fields") else tuple(map(readonly, x))
    if isinstance(x, (list, dict)) or (hasattr(x, "__dict__") and not callable(x)):
        raise NonDifferentiableError(
            f"srcad cannot hand a {type(x).__name__} that carries derivatives to a function "
            "called for its effect: it could be changed there",
            hint="pass the arrays themselves, or call the function outside the differentiated one")
    return x


def add_at(dx, g, x, index):
    """``dx + scatter_add(g, x, index)`` without building the zeros.

    The reverse sweep accumulates the adjoint of ``x[index]`` into ``dx`` once
    per read; over a loop that reads every element of a list of T items that
    is T additions of a T-long adjoint.  Here it is one addition at ``index``
    and, for a list, one copy of T references: the gradient's cost per step no
    longer grows with the list (``benchmarks/bench_examples.py --sweep``).
    ``dx`` is never changed: generated code never updates an adjoint in place.
    """
    if type(dx) is Adjoints and isinstance(x, (list, tuple)):
        return dx.replace(index, _plus(tuple.__getitem__(dx, index), g))
    if type(dx) is np.ndarray and type(x) is np.ndarray and dx.shape == x.shape:
        out = np.array(dx, dtype=np.result_type(dx, np.asarray(g), float))
        _add_at_index(out, index, g)
        return out
    return dx + scatter_add(g, x, index)


class DictAdjoints(dict):
    """The adjoint (or tangent) of a dict: one per entry that has received one.

    An entry without one reads as zeros shaped like the entry of ``primal``
    (the dict it is the adjoint of), so ``dp = scatter_add(dW, p, 'W')`` stores
    one entry instead of allocating zeros for every other one, and generated
    code still reads ``dp['b']`` as a dense adjoint.  ``+`` merges entries,
    adding where both have one; :func:`complete` fills in the zeros at the API
    boundary, where users expect every key (like JAX's pytrees).
    """

    __slots__ = ("primal",)

    def __init__(self, primal, entries=()):
        super().__init__(entries)
        self.primal = primal

    def __missing__(self, key):
        if self.primal is None:
            raise KeyError(key)
        return zeros_like(self.primal[key])

    def __add__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        primal = self.primal if self.primal is not None else getattr(other, "primal", None)
        out = DictAdjoints(primal, self)
        for key, value in other.items():
            out[key] = dict.__getitem__(out, key) + value if key in out else value
        return out

    __radd__ = __add__

    def __reduce__(self):
        return DictAdjoints, (self.primal, dict(self))


def complete(g):
    """``g`` with every entry of every dict adjoint in it present (zeros where
    none was received): what a gradient w.r.t. a dict argument returns."""
    if type(g) is DictAdjoints and g.primal is not None:     # (an object's: like() completes it)
        return DictAdjoints(g.primal, {key: complete(g[key]) for key in g.primal})
    if isinstance(g, Adjoints):
        return Adjoints(complete(e) for e in g)
    return g


def like(g, x):
    """The gradient ``g`` in the structure and dtype of the argument ``x``: what
    a transform returns for ``x`` (JAX's convention).

    Inside generated code a list's adjoint is an :class:`Adjoints` and a dict's
    a sparse :class:`DictAdjoints`, and rules may promote float32 to float64;
    at the API boundary a list argument gets a list, a tuple a tuple, a dict a
    dict with every key, a float32 array a float32 array, a Python float a
    Python float.  Cheap when nothing changes (one type test and a dtype test
    for an array), so it costs nothing measurable next to the gradient.
    """
    kind = type(x)
    if kind is np.ndarray:
        if type(g) is np.ndarray and g.base is _ZERO:        # a lazy zero: dense for the user
            return np.zeros(g.shape, dtype=x.dtype if x.dtype.kind in "fc" else g.dtype)
        if type(g) is np.ndarray and (g.dtype is x.dtype or not _casts(g.dtype, x.dtype)):
            return g
        if x.ndim and np.ndim(g) == 0:    # a scalar that broadcasts (a seed 1.0)
            return g
        return _as_array_like(g, x)
    if kind is float:
        return g if type(g) is float else _as_float(g)
    if kind is list or kind is Adjoints or kind is tuple or \
            (isinstance(x, tuple) and hasattr(kind, "_fields")):
        items = [like(gi, xi) for gi, xi in zip(g, x)]
        if kind is list:
            return items
        return kind(*items) if hasattr(kind, "_fields") else kind(items)
    if kind is dict or kind is DictAdjoints:
        entries = {k: like(g[k] if k in g else zeros_like(v), v) for k, v in x.items()}
        return entries if kind is dict else DictAdjoints(x.primal, entries)
    if isinstance(x, np.generic) and x.dtype.kind in "fc":       # np.float32(2.0)
        if type(g) is kind or np.ndim(g) or (np.iscomplexobj(g) and x.dtype.kind != "c"):
            return g
        return kind(g)
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return g if type(g) is float else _as_float(g)
    return _other_like(g, x)


def _other_like(g, x):
    """``like`` for a dataclass or another object: an object of its type."""
    from srcad import objects
    if objects.is_object(x) and (isinstance(g, dict) or type(g) is type(x)):
        return objects.object_like(g, x, like)
    return g


def _casts(have, want):
    """True when a gradient of dtype ``have`` is converted to ``want``: the
    argument is floating (or complex) and the dtypes differ, and a cast would
    not drop an imaginary part."""
    return have != want and want.kind in "fc" and (have.kind != "c" or want.kind == "c")


def _as_array_like(g, x):
    """``g`` as an array of ``x``'s dtype (when floating), e.g. a Python float
    for a 0-d array argument."""
    dtype = x.dtype if x.dtype.kind in "fc" else None
    if dtype is not None and np.iscomplexobj(g) and dtype.kind != "c":
        dtype = None
    return np.asarray(g, dtype=dtype)


def _as_float(g):
    """A Python float for a 0-d gradient (never drops an imaginary part)."""
    return g if np.ndim(g) or np.iscomplexobj(g) else float(g)


def dict_values(g, d):
    """Adjoint of ``d.values()``: the adjoints of the values, keyed back."""
    return DictAdjoints(d, zip(d, g))


def values_of(tangent, d):
    """Tangent of ``d.values()``: the entries of a dict tangent in ``d``'s
    order, zeros for those a sparse one lacks."""
    return Adjoints(tangent[key] for key in d)


def saved_entry(x, index):
    """What ``x[index] = value`` is about to overwrite: a copy of the part of an
    array, the old entry of a list, or of a dict (``MISSING`` if it had none)."""
    if isinstance(x, dict):
        return x.get(index, MISSING)
    return np.copy(x[index]) if isinstance(x, np.ndarray) else x[index]


def restore_entry(x, index, old):
    """Undo ``x[index] = value`` with the value :func:`saved_entry` kept."""
    if old is MISSING:
        x.pop(index, None)        # (a tangent's sparse entry may be absent already)
    else:
        x[index] = old


class _Missing:
    """The old entry of a dict key that an assignment created."""

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


def _add_at_index(out, index, g):
    """``out[index] += g`` in place, with repeated indices adding up
    (``np.add.at``) where the index is not a basic one."""
    if _is_basic_index(index):
        out[index] += g
    else:
        np.add.at(out, index, g)


def _is_basic_index(index):
    """True for ints, slices, None and Ellipsis: no position can repeat."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def scatter_add(g, x, index):
    """Adjoint of ``x[index]``: zeros shaped like ``x`` with ``g`` added at ``index``.

    ``np.add.at`` accumulates where an integer-array index repeats, which plain
    ``zeros[index] += g`` would not; basic indices cannot repeat and take the
    fast path.  For a list or tuple ``x`` the result is an :class:`Adjoints`.
    """
    if isinstance(x, dict):
        return DictAdjoints(x, {index: g})
    if isinstance(x, (list, tuple)):
        out = [_zero_entry(e) for e in x]
        out[index] = _plus(out[index], g)
        return Adjoints(out)
    # np.asarray: result_type would read a tuple g (an Adjoints) as a dtype spec
    out = np.zeros(np.shape(x), dtype=np.result_type(np.asarray(g), float))
    _add_at_index(out, index, g)
    return out


def unarray(g, obj):
    """Adjoint of ``np.array(obj)``: ``g`` split back into ``obj``'s nesting."""
    if isinstance(obj, (list, tuple)):
        return Adjoints(unarray(g[k], item) for k, item in enumerate(obj))
    return np.reshape(g, np.shape(obj)) if np.ndim(obj) else np.asarray(g, dtype=float)[()]


def spread(g, items):
    """Adjoint of ``sum(items)``: ``g`` for every element, reduced to its shape."""
    return Adjoints(unbroadcast(g, item) for item in items)


def snapshot(value):
    """A copy of ``value`` that later in-place updates cannot reach: lists,
    tuples and dicts copied recursively, arrays copied, anything else as is.
    (A ``has_aux`` result the reverse sweep would otherwise undo.)"""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [snapshot(v) for v in value]
    if isinstance(value, tuple):
        copied = [snapshot(v) for v in value]
        return type(value)(*copied) if hasattr(value, "_fields") else type(value)(copied)
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def list_append(items, value):
    """The primitive of ``items.append(value)`` (an in-place update of a list)."""
    items.append(value)
    return items


def zeros_like(x):
    """A float zero shaped like ``x``: a dense zero gradient at the API boundary."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return 0.0
    if x is Ellipsis or x is None or isinstance(x, str):   # in einsum's sublists, np.r_'s directives
        return 0.0
    if isinstance(x, Stack):               # the tangent of a loop stack is a stack
        return Stack(zeros_like(e) for e in x)
    if isinstance(x, (list, tuple)):
        return Adjoints([_zero_entry(e) for e in x])       # lazy zeros: like() makes them dense
    if isinstance(x, dict):
        # the zero of a dict's adjoint (a tangent of it) reads its missing entries
        # like the adjoint does: shaped like the entries of the same primal dict
        primal = getattr(x, "primal", None)
        return DictAdjoints(x if primal is None else primal,
                            {key: zeros_like(value) for key, value in x.items()})
    if not isinstance(x, (np.ndarray, np.generic)):
        from srcad import objects
        if objects.is_object(x):          # a dataclass or another object: no attribute yet
            return objects.object_zeros(x)
    return np.zeros(np.shape(x), dtype=np.result_type(x, float))


class Stack(list):
    """Values a loop overwrites: pushed in the forward sweep, popped in reverse."""

    push = list.append


def matmul_adjoint_x(g, x, y):
    """Cotangent of ``x`` in ``x @ y``, for every rank combination ``@`` allows."""
    x, y = _array(x), _array(y)
    nx, ny = x.ndim, y.ndim
    if nx == 2 and ny == 2:                       # the common cases, fast
        return g @ y.T
    if nx == 2 and ny == 1:
        return np.outer(g, y)
    if np.ndim(y) == 1:
        return g * y if np.ndim(x) == 1 else unbroadcast(np.multiply.outer(g, y), x)
    if np.ndim(x) == 1:
        return unbroadcast((y @ np.expand_dims(g, -1))[..., 0], x)
    return unbroadcast(g @ np.swapaxes(y, -1, -2), x)


def _array(a):
    """``a`` as an ndarray (an operand of ``@`` may be a list: ``.T`` needs an array)."""
    return a if type(a) is np.ndarray else np.asarray(a)


def _ndim(a):
    try:
        return a.ndim
    except AttributeError:
        return np.ndim(a)


def matmul_adjoint_y(g, x, y):
    """Cotangent of ``y`` in ``x @ y``, for every rank combination ``@`` allows."""
    x, y = _array(x), _array(y)
    nx, ny = x.ndim, y.ndim
    if nx == 2 and ny == 2:
        return x.T @ g
    if nx == 2 and ny == 1:
        return x.T @ g
    if np.ndim(x) == 1:
        return g * x if np.ndim(y) == 1 else unbroadcast(
            np.expand_dims(x, -1) * np.expand_dims(g, -2), y)
    if np.ndim(y) == 1:
        return unbroadcast((np.swapaxes(x, -1, -2) @ np.expand_dims(g, -1))[..., 0], y)
    return unbroadcast(np.swapaxes(x, -1, -2) @ g, y)


class Shape:
    """What a loop stack keeps of an array the reverse sweep reads for its
    shape only (``unbroadcast(g, v)``): its ``.shape``, not its elements."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def shape_of(v):
    """``v`` as ``unbroadcast`` reads it: a :class:`Shape` for an array, ``v``
    itself for anything else (numbers and NumPy scalars are small already)."""
    return Shape(v.shape) if type(v) is np.ndarray else v


def dot_self_adjoint(g, x):
    """``dot_adjoint_a(g, x, x) + dot_adjoint_b(g, x, x)``: the cotangent of
    ``x`` in ``np.dot(x, x)`` (an L2 penalty).  For a vector the two terms are
    the same product ``g * x``, so it is made once (one array, not three)."""
    if np.ndim(x) == 1:
        return (g + g) * x
    return dot_adjoint_a(g, x, x) + dot_adjoint_b(g, x, x)


def matmul_self_adjoint(g, x):
    """``matmul_adjoint_x(g, x, x) + matmul_adjoint_y(g, x, x)``: the same for
    ``x @ x``."""
    if np.ndim(x) == 1:
        return (g + g) * x
    return matmul_adjoint_x(g, x, x) + matmul_adjoint_y(g, x, x)


def matmul_adjoint_x_rows(gs, x, ys):
    """``sum(matmul_adjoint_x(g, x, y) for g, y in zip(gs, ys))``, a few matmuls.

    The adjoint of a loop-invariant ``x`` in ``x @ y`` accumulates one outer
    product per iteration; a hand-written BPTT stores the rows and contracts
    them once after the loop (``G.T @ Y``).  Rows of other ranks, or whose
    shapes change between iterations, are summed one by one.  The rows are
    stacked :data:`ROWS_PER_MATMUL` at a time, so stacking them costs little
    memory on long loops.  (No rules: differentiated again, as in
    ``hessian``, srcad reads this source, with the stacks' twin stacks of
    tangents for ``gs`` and ``ys``.)"""
    if not gs:
        return zeros_like(x)
    if _ndim(x) == 2 and _stackable(gs, ys):
        return _sum_of_products(gs, ys, side_by_side=True)
    total = matmul_adjoint_x(gs[0], x, ys[0])
    for g, y in zip(gs[1:], ys[1:]):
        total = total + matmul_adjoint_x(g, x, y)
    return total


def matmul_adjoint_y_rows(gs, xs, y):
    """``sum(matmul_adjoint_y(g, x, y) for g, x in zip(gs, xs))``: the same for
    a loop-invariant right operand ``y``; ``xs`` holds the left operands."""
    if not gs:
        return zeros_like(y)
    if _ndim(y) == 2 and _stackable(xs, gs):
        return _sum_of_products(xs, gs, side_by_side=False)
    total = matmul_adjoint_y(gs[0], xs[0], y)
    for g, x in zip(gs[1:], xs[1:]):
        total = total + matmul_adjoint_y(g, x, y)
    return total


#: rows stacked per matmul by the rows helpers (a bound on their extra memory)
ROWS_PER_MATMUL = 128


def _sum_of_products(lefts, rights, side_by_side):
    """The rows helpers' contraction, :data:`ROWS_PER_MATMUL` rows per matmul:
    vectors give ``A.T @ B`` (a sum of outer products); matrices are put side
    by side (``A @ B.T``: the adjoint of a left operand) or stacked row-wise
    (``A.T @ B``: of a right operand)."""
    total = None
    for k in range(0, len(lefts), ROWS_PER_MATMUL):
        a, b = lefts[k:k + ROWS_PER_MATMUL], rights[k:k + ROWS_PER_MATMUL]
        if _ndim(a[0]) == 1:
            term = np.array(a).T @ np.array(b)
        elif side_by_side:
            term = np.concatenate(a, axis=-1) @ np.concatenate(b, axis=-1).T
        else:
            term = np.concatenate(a, axis=0).T @ np.concatenate(b, axis=0)
        total = term if total is None else total + term
    return total


class OuterProducts:
    """``sum(np.outer(a, b))`` over vector pairs given one at a time
    (:meth:`left`, :meth:`right`: one of each per iteration), contracted
    :data:`ROWS_PER_MATMUL` pairs per matmul as they come: what
    :func:`_sum_of_products` computes, in the same chunks and order (so to
    the same bits), without keeping every row until the end.  The rows are
    copied into two buffers of ``ROWS_PER_MATMUL`` rows (the arrays given can
    go at once: an RNN's reverse sweep frees each state as it passes it).
    Array copies of gradients (srcad/passes/arrays.py) use it for
    ``matmul_adjoint_x_rows`` of 1-D rows.  (Not differentiated again:
    ``hessian`` reads the generic code.)"""

    __slots__ = ("a", "b", "na", "nb", "sum")

    def __init__(self):
        self.a = self.b = self.sum = None
        self.na = self.nb = 0

    def left(self, row):
        self.a = _room(self.a, self.na, row)
        self.a[self.na] = row
        self.na += 1
        if self.na == ROWS_PER_MATMUL == self.nb:
            self._contract()

    def right(self, row):
        self.b = _room(self.b, self.nb, row)
        self.b[self.nb] = row
        self.nb += 1
        if self.nb == ROWS_PER_MATMUL == self.na:
            self._contract()

    def _contract(self):
        k = self.na
        term = self.a[:k].T @ self.b[:k]
        if self.sum is None:
            self.sum = term
        else:
            np.add(self.sum, term, out=self.sum)      # (its own array: nothing else holds it)
        self.na = self.nb = 0

    def total(self, shape):
        """The sum (zeros of ``shape`` when no pair came)."""
        if self.na:
            self._contract()
        return np.zeros(shape) if self.sum is None else self.sum


def _room(buffer, used, row):
    """``buffer`` with room for one more row after ``used``: 8 rows at first,
    then twice as many, up to :data:`ROWS_PER_MATMUL` (a short loop keeps a
    short buffer)."""
    if buffer is None:
        return np.empty((min(8, ROWS_PER_MATMUL), row.shape[0]))
    if used < len(buffer):
        return buffer
    grown = np.empty((min(2 * len(buffer), ROWS_PER_MATMUL), buffer.shape[1]))
    grown[:used] = buffer[:used]
    return grown


def _stackable(first, second):
    """Both lists hold vectors (or matrices) of one shape each."""
    nd = _ndim(first[0])
    if nd not in (1, 2) or _ndim(second[0]) != nd:
        return False
    shape_a, shape_b = np.shape(first[0]), np.shape(second[0])
    return all(np.shape(v) == shape_a for v in first) and all(np.shape(v) == shape_b for v in second)


# --- helpers of the NumPy and linalg rules -----------------------------------


def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None or ndim == 0:         # NumPy accepts axis=0 or -1 on a 0-d array: no axes
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


def prod_others(a, axis=None):
    """For each element of ``a``, the product of the *other* elements of its
    reduction slice: the derivative of ``np.prod(a, axis)``.

    Computed from exclusive left and right running products, so it is exact
    where ``a`` has zeros (``ans / a`` would divide by zero).
    """
    a = np.asarray(a, dtype=np.result_type(a, float))
    axes = _axes(axis, a.ndim)
    if not axes:
        return np.ones_like(a)
    if a.size == 0:
        return np.zeros_like(a)
    inner = list(range(a.ndim - len(axes), a.ndim))
    moved = np.moveaxis(a, axes, inner)
    flat = moved.reshape(moved.shape[:a.ndim - len(axes)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    reverse = flat[..., ::-1]
    right = np.cumprod(np.concatenate([ones, reverse[..., :-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis((left * right).reshape(moved.shape), inner, axes)


def within(a, lo=None, hi=None):
    """1.0 where ``lo <= a <= hi`` (bounds inclusive; None is unbounded), else 0.0."""
    inside = True
    if lo is not None:
        inside = inside & (np.asarray(a) >= lo)
    if hi is not None:
        inside = inside & (np.asarray(a) <= hi)
    return np.where(inside, 1.0, 0.0)


def inverse_permutation(axes, ndim):
    """The axes that undo ``np.transpose(x, axes)`` for an ``ndim``-d ``x``
    (None, the reversal, is its own inverse)."""
    if axes is None:
        return None
    return tuple(int(i) for i in np.argsort([int(a) % ndim for a in axes]))


def packed(args):
    """The one sequence argument of an ndarray method that also takes it
    unpacked: ``x.transpose(1, 0)`` and ``x.transpose((1, 0))`` give ``(1, 0)``,
    ``x.transpose()`` gives None."""
    if not args:
        return None
    if len(args) == 1 and (args[0] is None or np.ndim(args[0]) > 0):
        return args[0]
    return args


def dot_adjoint_a(g, a, b):
    """Cotangent of ``a`` in ``np.dot(a, b)``, every rank combination.

    ``dot`` multiplies when either operand is 0-d, and otherwise sums the last
    axis of ``a`` against the second-to-last axis of ``b`` (the only axis of a
    1-d ``b``).
    """
    na, nb = _ndim(a), _ndim(b)
    if na == 2 and nb == 2:                       # the common case, fast (BLAS reads b.T as is)
        return g @ b.T
    if na == 0 or nb == 0:
        return unbroadcast(g * b, a)
    if nb == 1:                                   # g has a's leading axes (none for a vector)
        return g * b if na == 1 else np.multiply.outer(g, b)
    g_axes = list(range(na - 1, na - 1 + nb - 1))      # the axes b contributed
    b_axes = list(range(nb - 2)) + [nb - 1]             # all but b's summed axis
    return np.tensordot(g, b, axes=(g_axes, b_axes))


def dot_adjoint_b(g, a, b):
    """Cotangent of ``b`` in ``np.dot(a, b)``, every rank combination."""
    na, nb = _ndim(a), _ndim(b)
    if na == 2 and nb == 2:                       # the common case, fast
        return a.T @ g
    if na == 0 or nb == 0:
        return unbroadcast(g * a, b)
    if na == 1 and nb <= 2:                       # a vector: a 0-d g, or g of b's last axis
        return g * a if nb == 1 else np.multiply.outer(a, g)
    lead = list(range(na - 1))                          # the axes a contributed
    gb = np.tensordot(a, g, axes=(lead, lead))          # (k,) + b's other axes
    return gb if nb == 1 else np.moveaxis(gb, 0, -2)


def inner_adjoint_a(g, a, b):
    """Cotangent of ``a`` in ``np.inner(a, b)`` (sums the last axes of both)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    na, nb = np.ndim(a), np.ndim(b)
    return np.tensordot(g, b, axes=(list(range(na - 1, na + nb - 2)), list(range(nb - 1))))


def inner_adjoint_b(g, a, b):
    """Cotangent of ``b`` in ``np.inner(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    lead = list(range(np.ndim(a) - 1))
    return np.tensordot(g, a, axes=(lead, lead))


def unconcatenate(g, arrays, axis=0):
    """Adjoint of ``np.concatenate(arrays, axis)``: ``g`` cut back into pieces
    shaped like ``arrays``, as a tuple (one gradient per array)."""
    if axis is None:
        pieces = _split(np.ravel(g), [np.size(x) for x in arrays], 0)
        return Adjoints([np.reshape(p, np.shape(x)) for p, x in zip(pieces, arrays)])
    return Adjoints(_split(g, [np.shape(x)[axis] for x in arrays], axis))


def _split(g, sizes, axis):
    """``np.split(g, np.cumsum(sizes)[:-1], axis)`` as basic slices (views):
    np.split's Python machinery cost more than the slicing in an RNN step."""
    g = np.asarray(g)
    lead = (slice(None),) * (axis % g.ndim)
    out, at = [], 0
    for n in sizes:
        out.append(g[lead + (slice(at, at + n),)])
        at += n
    return out


def unstack(g, axis=0):
    """Adjoint of ``np.stack(arrays, axis)``: the slices of ``g`` along ``axis``."""
    return Adjoints(np.moveaxis(np.asarray(g), axis, 0))


def _unconcatenate_promoted(g, arrays, promote, axis):
    blocks = [promote(x) for x in arrays]
    pieces = unconcatenate(g, blocks, axis)
    return Adjoints([p if p.shape == np.shape(x) else np.reshape(p, np.shape(x))
                     for p, x in zip(pieces, arrays)])


def unhstack(g, tup):
    """Adjoint of ``np.hstack(tup)``: concatenation along axis 1, or along axis 0
    of 1-d arrays, after promoting 0-d inputs to 1-d."""
    axis = 0 if np.ndim(np.atleast_1d(tup[0])) == 1 else 1
    return _unconcatenate_promoted(g, tup, np.atleast_1d, axis)


def unvstack(g, tup):
    """Adjoint of ``np.vstack(tup)``: concatenation along axis 0 after promoting
    inputs to 2-d (a 1-d array is one row)."""
    return _unconcatenate_promoted(g, tup, np.atleast_2d, 0)


def solve_is_vector(a, b):
    """Whether ``np.linalg.solve(a, b)`` treats ``b`` as a vector (else as a
    stack of matrices), by the rule of the installed NumPy."""
    if int(np.__version__.split(".")[0]) >= 2:
        return np.ndim(b) == 1
    return np.ndim(b) == np.ndim(a) - 1


def norm_divisor(ans, x, ord=None, axis=None):
    """``ans`` as the divisor of the gradient ``x / |x|`` of a Euclidean
    (vector 2-) or Frobenius norm, with 0 replaced by 1 so the gradient at
    ``x = 0`` is 0 (as ``abs'(0) = 0``).

    Raises :class:`UnsupportedArgumentError` for other norms or an ``axis``.
    """
    euclidean = (ord is None or (ord == 2 and np.ndim(x) == 1)
                 or (isinstance(ord, str) and ord == "fro" and np.ndim(x) == 2))
    if axis is not None or not euclidean:
        raise UnsupportedArgumentError(
            f"srcad differentiates np.linalg.norm only as the Euclidean or "
            f"Frobenius norm of the whole array, not ord={ord!r}, axis={axis!r} "
            f"on a {np.ndim(x)}-d array",
            hint="write the norm out with NumPy (e.g. np.sqrt(np.sum(x * x, axis=0)) "
                 "or np.max(np.abs(x))), or register your own rule with @srcad.adjoint")
    return np.where(ans == 0, 1.0, ans)


def cholesky_adjoint(g, L, upper=False):
    """Cotangent of ``a`` in ``L = np.linalg.cholesky(a)``.

    NumPy reads only the lower triangle of ``a`` (the upper one when
    ``upper=True``), so the gradient is zero on the other triangle; an
    off-diagonal entry it reads stands for both ``a[i, j]`` and ``a[j, i]``
    and gets both halves of the symmetric gradient.  The symmetric gradient is
    ``S + S^T`` halved, ``S = L^-T Phi(L^T g) L^-1`` with ``Phi`` the lower
    triangle with a halved diagonal (I. Murray, arXiv:1602.07527).
    """
    if upper:
        return np.swapaxes(cholesky_adjoint(np.swapaxes(g, -1, -2),
                                            np.swapaxes(L, -1, -2)), -1, -2)
    n = np.shape(L)[-1]
    Lt = np.swapaxes(L, -1, -2)
    phi = np.tril(Lt @ g) * (1.0 - 0.5 * np.eye(n))
    right = np.swapaxes(np.linalg.solve(Lt, np.swapaxes(phi, -1, -2)), -1, -2)  # phi L^-1
    S = np.linalg.solve(Lt, right)                                               # L^-T phi L^-1
    return np.tril(S + np.swapaxes(S, -1, -2)) * (1.0 - 0.5 * np.eye(n))


# --- helpers of the forward rules ------------------------------------------


def broadcast_like(value, like):
    """``value`` broadcast to the shape of ``like``, as a fresh array.

    The tangent of a broadcasting operation has the result's shape: in
    ``x + y`` with a larger ``y``, ``x``'s contribution is ``x_dot`` spread
    over that shape (forward mode's twin of :func:`unbroadcast`).
    """
    if type(value) is float and type(like) is float:
        return value
    if isinstance(like, dict):            # a dict's tangent may be sparse: entries merge
        return value
    if isinstance(like, (tuple, list)) and isinstance(value, (tuple, list)) and len(value) == len(like):
        # the tangent of a list or tuple (an Adjoints, whose + adds elementwise): element by element
        return Adjoints(broadcast_like(v, e) for v, e in zip(value, like))
    if isinstance(value, (tuple, list, dict)):
        return value                       # (a list's or dict's tangent: entries are shaped)
    shape = np.shape(like)
    if np.shape(value) == shape:
        return value
    return np.array(np.broadcast_to(value, shape), dtype=np.result_type(value, float))


def prod_others_tangent(a, t, axis=None):
    """The derivative of :func:`prod_others` along ``t``: for each element
    ``i`` of a slice, the sum over ``j != i`` of ``t[j]`` times the product of
    the elements other than ``i`` and ``j``.

    That matrix of products is symmetric, so the same function gives the
    cotangent of ``a`` for a cotangent ``t`` of the result.  Running products
    from both ends, as in :func:`prod_others`, keep it exact where ``a`` has
    zeros.
    """
    a = np.asarray(a, dtype=np.result_type(a, t, float))
    t = np.broadcast_to(np.asarray(t, dtype=a.dtype), a.shape)
    axes = _axes(axis, a.ndim)
    if not axes or a.size == 0:
        return np.zeros_like(a)
    inner = list(range(a.ndim - len(axes), a.ndim))
    moved_a, moved_t = np.moveaxis(a, axes, inner), np.moveaxis(t, axes, inner)
    lead = moved_a.shape[:a.ndim - len(axes)]
    A, T = moved_a.reshape(lead + (-1,)), moved_t.reshape(lead + (-1,))
    n = A.shape[-1]
    left, dleft = np.ones(A.shape, a.dtype), np.zeros(A.shape, a.dtype)
    right, dright = np.ones(A.shape, a.dtype), np.zeros(A.shape, a.dtype)
    for k in range(1, n):        # left[k] = prod A[:k], dleft[k] its tangent
        left[..., k] = left[..., k - 1] * A[..., k - 1]
        dleft[..., k] = dleft[..., k - 1] * A[..., k - 1] + left[..., k - 1] * T[..., k - 1]
        j = n - 1 - k            # right[j] = prod A[j + 1:]
        right[..., j] = right[..., j + 1] * A[..., j + 1]
        dright[..., j] = dright[..., j + 1] * A[..., j + 1] + right[..., j + 1] * T[..., j + 1]
    out = (dleft * right + left * dright).reshape(moved_a.shape)
    return np.moveaxis(out, inner, axes)


def cholesky_tangent(t, L, upper=False):
    """Tangent of ``L = np.linalg.cholesky(a)`` along ``t``.

    NumPy reads only the lower triangle of ``a`` (the upper one when
    ``upper=True``), so ``t`` counts through the symmetric matrix built from
    that triangle; then ``dL = L Phi(L^-1 dA L^-T)`` with ``Phi`` the lower
    triangle with a halved diagonal.
    """
    if upper:
        return np.swapaxes(cholesky_tangent(np.swapaxes(t, -1, -2), np.swapaxes(L, -1, -2)), -1, -2)
    n = np.shape(L)[-1]
    lower = np.tril(t)
    sym = lower + np.swapaxes(np.tril(t, -1), -1, -2)
    inner = np.linalg.solve(L, np.swapaxes(np.linalg.solve(L, sym), -1, -2))   # L^-1 dA L^-T
    return L @ (np.tril(inner) * (1.0 - 0.5 * np.eye(n)))


# --- tuple and list concatenation (x + y) and repetition (x * n) ----------------------
# The graph gives `+` and `*` these primitives where an operand is known to be a tuple
# or list (srcad/sequences.py); each still decides at run time, as Python does, whether
# it concatenates (two sequences; an Adjoints adds elementwise) or is NumPy's
# elementwise operation (a list and an array), so a wrong guess cannot give a wrong
# derivative.  The forward sweep keeps the user's `x + y`.

def _is_sequence(x):
    return isinstance(x, (list, tuple)) and not isinstance(x, Adjoints)


def concatenates(x, y):
    """True when ``x + y`` is Python's concatenation of two sequences."""
    return _is_sequence(x) and _is_sequence(y)


def repeats(x, n):
    """True when ``x * n`` is Python's repetition of a sequence by an integer."""
    return _is_sequence(x) and isinstance(n, (int, np.integer)) and not isinstance(n, bool)


def seq_add(x, y):
    """``x + y`` where ``x`` or ``y`` is a tuple or list."""
    return x + y


def seq_mul(x, y):
    """``x * y`` where ``x`` or ``y`` is a tuple or list."""
    return x * y


def _elementwise_adjoint(g, x):
    """``unbroadcast(g, x)``, and for a list or tuple operand of NumPy's
    elementwise operation, split back into one adjoint per element."""
    if _is_sequence(x):
        return unarray(unbroadcast(g, np.broadcast_to(0.0, np.shape(x))), x)
    return unbroadcast(g, x)


def concat_adjoint_x(g, x, y):
    """The adjoint of ``x`` in ``x + y``: the first ``len(x)`` adjoints of a
    concatenation, else the elementwise rule's ``unbroadcast(g, x)``."""
    if concatenates(x, y):
        return Adjoints(tuple.__getitem__(g, slice(0, len(x))))
    return _elementwise_adjoint(g, x)


def concat_adjoint_y(g, x, y):
    """The adjoint of ``y`` in ``x + y`` (the adjoints after the first ``len(x)``)."""
    if concatenates(x, y):
        return Adjoints(tuple.__getitem__(g, slice(len(x), None)))
    return _elementwise_adjoint(g, y)


def _values(t):
    """A tangent as NumPy sees it in an elementwise operation (a list's tangent
    is an Adjoints tuple)."""
    return np.asarray(t, dtype=float) if isinstance(t, (list, tuple)) else t


def concat_tangent_x(x_dot, x, y):
    """The contribution of ``x_dot`` to the tangent of ``x + y``: ``x_dot``
    then zeros for ``y`` (contributions add elementwise, as Adjoints)."""
    if concatenates(x, y):
        return Adjoints((*x_dot, *zeros_like(y)))
    return broadcast_like(_values(x_dot), x + y)


def concat_tangent_y(y_dot, x, y):
    """The contribution of ``y_dot`` to the tangent of ``x + y``."""
    if concatenates(x, y):
        return Adjoints((*zeros_like(x), *y_dot))
    return broadcast_like(_values(y_dot), x + y)


def repeat_adjoint(g, x, n):
    """The adjoint of ``x`` in ``x * n`` (or ``n * x``): the adjoints of the
    ``n`` copies of a sequence, summed; zero for the integer ``n`` of a
    repetition; else the elementwise rule's ``unbroadcast(g * n, x)``."""
    if repeats(x, n):
        m, total = len(x), zeros_like(x)
        for k in range(int(n)):
            total = total + Adjoints(tuple.__getitem__(g, slice(k * m, (k + 1) * m)))
        return total
    if repeats(n, x):
        return zeros_like(x)
    return _elementwise_adjoint(g * np.asarray(n) if _is_sequence(n) else g * n, x)


def repeat_tangent(x_dot, x, n):
    """The contribution of ``x_dot`` to the tangent of ``x * n`` (or ``n * x``)."""
    if repeats(x, n):
        return Adjoints(tuple(x_dot) * int(n))
    if repeats(n, x):
        return zeros_like(n * x)
    return broadcast_like(_values(x_dot) * n, x * n)


def unlist(g, iterable):
    """Adjoint of ``list(iterable)`` or ``tuple(iterable)``: one adjoint per
    element, gathered back into an array when ``iterable`` was one (its rows);
    for a list, a tuple or a dict's ``values()`` view, one per element."""
    if not isinstance(iterable, np.ndarray):
        return Adjoints(g)
    rows = [np.broadcast_to(gi, np.shape(xi)) for gi, xi in zip(g, iterable)]
    return np.reshape(np.array(rows, dtype=float), np.shape(iterable))


def dict_adjoint(cotangent, iterable):
    """Adjoint of ``dict(iterable)``, a copy of a dict or a dict built from
    ``(key, value)`` pairs: each entry's adjoint goes back to where the entry
    came from (the pair that set it last; the others get zeros).  ``g`` may be
    sparse, or a plain dict lacking entries."""
    g = cotangent
    if isinstance(iterable, dict):
        return DictAdjoints(iterable, {k: v for k, v in g.items() if k in iterable})
    last = {pair[0]: i for i, pair in enumerate(iterable)}
    return Adjoints(Adjoints((zeros_like(k), g[k] if last[k] == i and k in g else zeros_like(v)))
                    for i, (k, v) in enumerate(iterable))


def dict_tangent(tangent, primal, iterable):
    """Tangent of ``primal = dict(iterable)`` from the tangent of a dict or of a
    list of pairs (the pair that sets an entry last gives its tangent).  A
    ``primal`` of None is rebuilt (the transpose of :func:`dict_adjoint` has none)."""
    primal = dict(iterable) if primal is None else primal
    if isinstance(iterable, dict):
        return DictAdjoints(primal, {k: _entry_or_zeros(tangent, k, v) for k, v in iterable.items()})
    return DictAdjoints(primal, {pair[0]: t[1] for pair, t in zip(iterable, tangent)})


def _entry_or_zeros(d, key, like):
    """``d[key]``, or zeros like ``like`` when a plain dict lacks the entry."""
    try:
        return d[key]
    except KeyError:
        return zeros_like(like)


def sort_order(keys, reverse=False):
    """The positions of ``keys`` in sorted order (stable, like ``sorted``):
    ``sorted(xs, key=f)`` is ``[xs[i] for i in sort_order([f(t) for t in xs])]``
    (srcad/calls.py), so each element's derivative goes back to its position."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)
