"""Objects as values that carry derivatives: namedtuples, dataclasses and
plain objects whose attributes hold arrays.

``p.W`` on a local value that is not an array is the primitive
:func:`attribute`.  Its adjoint is :func:`attribute_adjoint`: for a namedtuple
the tuple adjoint (an :class:`~srcad.runtime.Adjoints`, as ``p[0]`` gives), for
any other object an :class:`AttrAdjoints` that holds the attributes that
received an adjoint and reads the others as zeros.  At the API boundary
:func:`object_like` turns that into an object of the argument's own type (as
JAX does for registered pytrees): a shallow copy of the argument whose
differentiable attributes hold their gradients.  Attributes that carry no
derivative (ints, bools, strings, None, functions, modules, classes) keep the
argument's values, like the static fields of a JAX pytree.
"""

import copy
import dataclasses
import types

import numpy as np

from srcad.runtime import DictAdjoints, scatter_add, zeros_like

#: attribute values that are configuration, not differentiable data
_STATIC = (bool, int, str, bytes, type(None), type, types.FunctionType, types.BuiltinFunctionType,
           types.MethodType, types.ModuleType, np.ufunc, np.dtype)


def attribute(obj, name):
    """The primitive of ``obj.name`` when ``obj`` is a local value: a field of
    a namedtuple, an attribute of a dataclass or of any other object."""
    return getattr(obj, name)


def is_object(x):
    """True for a value srcad differentiates through its attributes: an
    instance with a ``__dict__`` or dataclass fields that is neither a number,
    an array, a container, nor a function, module or class."""
    if isinstance(x, (np.ndarray, np.generic, float, complex, list, tuple, dict, set, frozenset)):
        return False
    if isinstance(x, _STATIC) or callable(x) and not dataclasses.is_dataclass(x):
        return False
    return dataclasses.is_dataclass(x) or hasattr(x, "__dict__") or bool(_slots(type(x)))


def _slots(cls):
    """The ``__slots__`` names of ``cls`` and its bases."""
    names = []
    for base in cls.__mro__:
        slots = base.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else [n for n in slots if n not in ("__dict__", "__weakref__")]
    return names


def is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class AttrAdjoints(DictAdjoints):
    """The adjoint (or tangent) of an object: one entry per attribute that has
    received one; the others read as zeros shaped like the primal attribute.
    ``+`` merges, as for dicts."""

    __slots__ = ()

    def __missing__(self, key):
        return zeros_like(getattr(self.primal, key))

    def __add__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        out = AttrAdjoints(self.primal, self)
        for key, value in other.items():
            out[key] = dict.__getitem__(out, key) + value if key in out else value
        return out

    __radd__ = __add__

    def __getattr__(self, name):        # a tangent reads like the object: p_dot.W
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __reduce__(self):
        return AttrAdjoints, (self.primal, dict(self))


def attribute_adjoint(cotangent, obj, name):
    """Adjoint of ``obj.name``: the cotangent at that field or attribute, zeros elsewhere."""
    if is_namedtuple(obj):
        return scatter_add(cotangent, obj, type(obj)._fields.index(name))
    return AttrAdjoints(obj, {name: cotangent})


def attribute_tangent(t, obj, name):
    """Tangent of ``obj.name`` from the tangent ``t`` of ``obj``: an object of
    the same type (what the user passes to ``jvp``), or srcad's own zeros
    (:class:`~srcad.runtime.Adjoints` for a namedtuple, :class:`AttrAdjoints`)."""
    if is_namedtuple(obj) and isinstance(t, tuple):     # Adjoints, or the namedtuple itself
        return t[type(obj)._fields.index(name)]
    if isinstance(t, dict):
        return t[name]
    return getattr(t, name)


def data_attributes(x):
    """The attribute names of ``x`` that hold data (not configuration)."""
    if dataclasses.is_dataclass(x):
        names = [f.name for f in dataclasses.fields(x)]
    else:
        names = list(getattr(x, "__dict__", ())) + [n for n in _slots(type(x)) if n not in getattr(x, "__dict__", ())]
    return [n for n in names if hasattr(x, n) and not isinstance(getattr(x, n), _STATIC)]


def object_zeros(x):
    """A zero adjoint of an object (no attribute has one yet)."""
    return AttrAdjoints(x, {})


def object_like(g, x, like):
    """The gradient ``g`` of the object ``x`` as an object of ``x``'s type: a
    shallow copy of ``x`` whose data attributes hold their gradients (``like``
    gives each one its argument's structure and dtype).  ``g`` may be an
    :class:`AttrAdjoints` or an object of ``x``'s type (a tangent)."""
    out = copy.copy(x)
    for name in data_attributes(x):
        value = getattr(x, name)
        grad = g[name] if isinstance(g, dict) else getattr(g, name)
        object.__setattr__(out, name, like(grad, value))   # frozen dataclasses too
    return out


def object_values(x):
    """The data attributes' values (for ``check_inputs``)."""
    return [getattr(x, name) for name in data_attributes(x)]
