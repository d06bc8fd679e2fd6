"""Where srcad keeps derivatives, and how it knows one is out of date.

**Tables live on the function.**  Each function's derivatives (and its
split and tangent callees, and its lifted nested functions) are kept in a
dict stored on the function object itself (``f.__srcad_cache__``).  A
generated function refers back to its user function (``__wrapped__``, closure
cells), so a module-level ``WeakKeyDictionary`` from functions to derivatives
could never drop an entry: the value kept its key alive.  Stored on the
function, the whole group is one cycle that the garbage collector frees with
the function.  ``functools.wraps`` copies ``__dict__`` onto a wrapper, so a
table remembers its owner and a wrapper never uses the wrapped function's.

**Facts.**  A transformation resolves names once: ``h`` is a user function
(its split is compiled in), ``act`` is ``np.tanh`` (its rule is inlined),
``f.__code__`` is the code that was parsed.  :class:`Facts` records each such
reading as (where, name, what it was); a cached derivative is current while
every fact still holds and every callee entry it uses is current
(:func:`is_current`, checked on every ``srcad.grad(f)`` lookup: a few dict
reads).  A derivative the user keeps and calls again is guarded at its entry
for the names of its own function that resolve to functions (``if h is not
h_seen: return transform_again(...)``), so that call is right too; names read
only through callees are checked at lookup.
"""

import inspect
import types

#: what a fact records for a name that was not bound
MISSING = type("Missing", (), {"__repr__": lambda self: "MISSING"})()

_ATTR = "__srcad_cache__"


class _Tables(dict):
    """The per-kind tables of one function (see the module docstring)."""

    __slots__ = ("owner",)


def table(func, kind):
    """``func``'s own dict of cached ``kind`` entries ('derivative', 'split',
    'forward', 'lifted').  A function that takes no attributes gets a fresh
    dict every time (nothing is cached for it)."""
    tables = getattr(func, "__dict__", {}).get(_ATTR)
    if tables is None or tables.owner != id(func):
        tables = _Tables()
        tables.owner = id(func)          # an id, not a reference: no extra cycle
        try:
            setattr(func, _ATTR, tables)
        except (AttributeError, TypeError):
            return {}
    return tables.setdefault(kind, {})


def _key(obj):
    """What must stay the same about a value a transformation read: the
    object itself for functions, modules, classes and other callables (their
    code was compiled in or their rule inlined); the function of a bound
    method (its object is read when called); only the type of data, whose
    value generated code reads when it runs (so a global array may change)."""
    if obj is MISSING:
        return MISSING
    if isinstance(obj, types.MethodType):
        return ("method", obj.__func__)
    if callable(obj) or isinstance(obj, types.ModuleType):
        return obj
    return type(obj)


def _same(a, b):
    return a is b or (type(a) is tuple and type(b) is tuple and a == b)


def _read(kind, holder, name):
    if kind == "cell":
        try:
            return holder.cell_contents
        except ValueError:
            return MISSING
    if kind == "entry":
        return holder.get(name, MISSING)
    return getattr(holder, name, MISSING)


class Facts:
    """The readings a transformation relied on, each once."""

    __slots__ = ("items", "_seen")

    def __init__(self):
        self.items = []                  # (kind, holder, name, key, path)
        self._seen = set()

    def _add(self, kind, holder, name, value, path):
        if holder is None:
            return
        marker = (kind, id(holder), name)
        if marker in self._seen:
            return
        self._seen.add(marker)
        self.items.append((kind, holder, name, value if kind == "is" else _key(value), path))

    def cell(self, name, cell, value):
        """A closure variable ``name`` (in ``cell``) held ``value``."""
        self._add("cell", cell, name, value, name)

    def entry(self, name, namespace, value):
        """``namespace[name]`` (globals or builtins) was ``value`` (or MISSING)."""
        self._add("entry", namespace, name, value, name)

    def attribute(self, path, base, attr, value):
        """``base.attr`` (written ``path`` in the user's code) was ``value``."""
        self._add("attr", base, attr, MISSING if value is None else value, path)

    def identity(self, obj, attr):
        """``obj.attr`` must stay the very same object (``f.__code__``)."""
        self._add("is", obj, attr, getattr(obj, attr, None), None)

    def hold(self):
        """True while every reading would give the same answer today (a dict
        read or an attribute read and an ``is`` per fact, in the common case)."""
        for kind, holder, name, key, _ in self.items:
            if kind == "entry":
                now = holder.get(name, MISSING)
            elif kind == "cell":
                now = _read(kind, holder, name)
            else:
                now = getattr(holder, name, MISSING)
            if now is key:
                continue
            if kind == "is":
                if key is None and now is MISSING:
                    continue
                return False
            if not _same(_key(now), key):
                return False
        return True

    def guards(self, func):
        """``(expression text, object)`` for the readings a generated function
        of ``func`` can re-check at its entry for the cost of a name lookup:
        names of ``func``'s globals or closure bound to functions or other
        callables (not modules), and attribute chains that end at a Python
        function (``mod.h``).  Bound methods and NumPy's attributes are only
        checked at lookup."""
        out = []
        cells = set(map(id, func.__closure__ or ()))
        for kind, holder, name, key, path in self.items:
            if path is None or key is MISSING or isinstance(key, (tuple, type, types.ModuleType)):
                continue
            if kind == "cell" and id(holder) in cells or \
                    kind == "entry" and holder is func.__globals__:
                if callable(key):
                    out.append((path, key))
            elif kind == "attr" and "." in path and inspect.isfunction(key):
                out.append((path, key))
        return out


def is_current(obj, seen=None):
    """True while ``obj`` (a generated function or a callee entry) and every
    callee entry it depends on were made from what their names mean today."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return True
    seen.add(id(obj))
    facts = getattr(obj, "srcad_facts", None)
    if facts is not None and not facts.hold():
        return False
    return all(is_current(dep, seen) for dep in getattr(obj, "srcad_depends", ()))


def record_function(facts, func):
    """The function itself: its code and defaults are compiled in."""
    for attr in ("__code__", "__defaults__", "__kwdefaults__"):
        facts.identity(func, attr)
    return facts
