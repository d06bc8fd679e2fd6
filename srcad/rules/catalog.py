"""The catalogue of differentiable functions, written from the rule tables.

``docs/rules.md`` is this module's output, and a test checks that the two
agree, so the list a user reads is the list srcad has::

    python3 -m srcad.rules.catalog > docs/rules.md

Each primitive is named by where a user reaches it (``numpy.linalg.inv``,
``scipy.stats.norm.logpdf``, ``numpy.ndarray.sum``); srcad's own runtime
helpers (the rules that let generated code be differentiated again) are left
out.  SciPy's rows appear when SciPy is installed.
"""

import builtins
import importlib
import math
import operator
import sys

from srcad.rules import registry

#: the namespaces a user calls rules through, in the order they are listed
NAMESPACES = ["builtins", "math", "operator", "numpy", "numpy.ndarray", "numpy.linalg",
              "scipy.special", "scipy.stats", "scipy.linalg", "scipy.signal", "scipy.integrate"]


def _namespace(name):
    if name == "numpy.ndarray":
        import numpy
        return numpy.ndarray
    if name == "builtins":
        return builtins
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _public_names():
    """id(object) -> (namespace, name) for every public object of NAMESPACES."""
    found = {}
    for space in NAMESPACES:
        module = _namespace(space)
        if module is None:
            continue
        for attr in sorted(dir(module)):
            if attr.startswith("_"):
                continue
            try:
                obj = getattr(module, attr)
            except Exception:                 # pragma: no cover - lazy attributes
                continue
            found.setdefault(id(obj), (space, attr))
    return found


def _name(primitive, public):
    """``(namespace, name)`` of a primitive, or None for srcad's own helpers."""
    if id(primitive) in public:
        return public[id(primitive)]
    owner = getattr(primitive, "__self__", None)
    if owner is not None and type(owner).__module__.startswith("scipy.stats"):
        dist = getattr(owner, "name", None) or type(owner).__name__.removesuffix("_gen")
        return "scipy.stats", f"{dist}.{primitive.__name__}"
    module = getattr(primitive, "__module__", "") or ""
    qualname = getattr(primitive, "__qualname__", repr(primitive))
    if module.startswith("srcad"):
        return None
    if qualname.split(".")[0] in ("dict", "list", "tuple"):
        return "builtins", qualname                   # methods of the containers
    return module or "other", qualname


def primitives():
    """``{namespace: {name: (reverse, forward)}}`` over every registered rule."""
    registry.load_pending()
    public = _public_names()
    rules = [r for r in list(registry.ADJOINTS.values()) + list(registry.TANGENTS.values())
             if r.__module__.startswith("srcad.rules.")]          # shipped, not the user's
    seen, table = set(), {}
    for rule in rules:
        for primitive in getattr(rule, "srcad_primitives", ()):
            if id(primitive) in seen:
                continue
            seen.add(id(primitive))
            named = _name(primitive, public)
            if named is None:
                continue
            space, name = named
            table.setdefault(space, {})[name] = (registry.lookup(primitive) is not None,
                                                 registry.lookup_tangent(primitive) is not None)
    return table


def versions():
    """The line naming the NumPy and SciPy the catalogue was written with
    (names and signatures differ between releases)."""
    import numpy
    try:
        import scipy
        scipy_version = scipy.__version__
    except ImportError:                   # pragma: no cover - SciPy is optional
        scipy_version = "not installed"
    return f"Written with NumPy {numpy.__version__} and SciPy {scipy_version}."


def markdown():
    """The text of docs/rules.md."""
    table = primitives()
    spaces = [s for s in NAMESPACES if s in table] + sorted(set(table) - set(NAMESPACES))
    both = sum(r and f for rows in table.values() for r, f in rows.values())
    total = sum(len(rows) for rows in table.values())
    out = ["# Functions srcad differentiates", "",
           "Written by `python3 -m srcad.rules.catalog > docs/rules.md` from the rule tables "
           "(`tests/test_catalog.py` checks that it is current).", "",
           versions(), "",
           f"{total} functions, operators and methods; {both} in both reverse and forward mode.", ""]
    for space in spaces:
        rows = table[space]
        out += [f"## `{space}` ({len(rows)})", "", "| function | reverse | forward |", "|---|---|---|"]
        for name in sorted(rows):
            reverse, forward = rows[name]
            out.append(f"| `{name}` | {'yes' if reverse else '-'} | {'yes' if forward else '-'} |")
        out.append("")
    return "\n".join(out)


def _import_optional():
    """Import SciPy's namespaces if installed, so that their rules load."""
    for name in NAMESPACES:
        if name.startswith("scipy"):
            try:
                importlib.import_module(name)
            except ImportError:
                pass


if __name__ == "__main__":
    _import_optional()
    sys.stdout.write(markdown())
