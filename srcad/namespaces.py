"""Array-API style code: ``xp = array_namespace(x)`` (or ``xp = np``), then
``xp.sum(...)``, as SciPy writes ``scipy.optimize.rosen``.

srcad differentiates NumPy arrays, whose namespace is NumPy.  This pre-pass
of normalization (next to lambda lifting) drops such an assignment at the top
level of the body and reads the name as NumPy: every ``xp`` becomes a global
name of the function's module bound to ``numpy`` (``np``), so that
``xp.sum`` resolves to ``np.sum`` and its rules, and generated code reads as
NumPy code.  Before::

    def rosen(x):
        xp = array_namespace(x)
        return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

After::

    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

A name assigned anywhere else in the function, or a parameter, is left alone.
"""

import types

import gast
import numpy as np

from srcad.errors import UnsupportedSyntaxError
from srcad.trees import parameters

#: functions that return the array namespace of their arguments (SciPy's,
#: array_api_compat's, scikit-learn's)
NAMESPACE_FUNCTIONS = {"array_namespace", "get_namespace"}
#: modules that are NumPy's namespace for NumPy arrays
NUMPY_MODULES = {"numpy", "scipy._lib.array_api_compat.numpy", "array_api_compat.numpy"}


def resolve_namespaces(parsed):
    """Rewrite ``parsed.node`` in place: namespace names read as NumPy."""
    fdef = parsed.node
    found = {}
    for stmt in fdef.body:
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name) and _is_namespace(parsed, stmt.value):
            found.setdefault(stmt.targets[0].id, []).append(stmt)
    if not found:
        return
    stores = {}
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
    params = {a.id for a in parameters(fdef.args)}
    names = {n for n, stmts in found.items() if stores.get(n) == len(stmts) == 1 and n not in params}
    if not names:
        return
    numpy_name = _numpy_name(parsed, stores)
    if numpy_name is None:
        first = found[sorted(names)[0]][0]
        raise parsed.source.error(
            UnsupportedSyntaxError, "srcad reads this array namespace as NumPy, but the function's "
            "module has no global name bound to numpy", first,
            hint="import numpy as np at module level")
    fdef.body = [s for s in fdef.body if not any(s is t for n in names for t in found[n])]
    for node in gast.walk(fdef):
        if isinstance(node, gast.Name) and node.id in names and isinstance(node.ctx, gast.Load):
            node.id = numpy_name


def _is_namespace(parsed, value):
    """``np`` (or NumPy's array-API module), or a call of ``array_namespace``."""
    if isinstance(value, gast.Call):
        func = _resolve(parsed, value.func)
        return callable(func) and getattr(func, "__name__", None) in NAMESPACE_FUNCTIONS
    found = _resolve(parsed, value)
    return isinstance(found, types.ModuleType) and found.__name__ in NUMPY_MODULES


def _resolve(parsed, expr):
    if isinstance(expr, gast.Name):
        return parsed.namespace.lookup(expr.id, None)
    if isinstance(expr, gast.Attribute):
        base = _resolve(parsed, expr.value)
        if base is None:
            return None
        return parsed.namespace.attribute(base, expr.attr, f"{_dotted(expr.value)}.{expr.attr}")
    return None


def _dotted(expr):
    if isinstance(expr, gast.Attribute):
        return f"{_dotted(expr.value)}.{expr.attr}"
    return getattr(expr, "id", "?")


def _numpy_name(parsed, stores):
    """A global of the function's module bound to ``numpy`` that no local shadows."""
    glob = parsed.namespace.globals
    others = sorted(n for n, v in glob.items() if v is np and n not in ("np", "numpy"))
    for name in ["np", "numpy"] + others:
        if not stores.get(name) and parsed.namespace.lookup(name, None, record_missing=False) is np:
            return name
    return None
