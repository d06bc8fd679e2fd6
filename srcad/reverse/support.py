"""Comment and save/restore markers, the helper-name table (References),
and the small functions the generator's parts share."""

import gast
import numpy as np

from srcad.graph import IndexAtom
from srcad.trees import clone
from srcad.builders import call, name
from srcad.trees import all_nodes, stored


MODES = ("grad", "value_and_grad", "vjp")


class Comment:
    """A comment line for the generated source (codegen turns it into ``# text``)."""

    def __init__(self, text, header=False, lineno=None):
        self.text = text
        self.header = header      # a section header stays even before other comments
        self.lineno = lineno      # the user's line it quotes (for traceback annotations)


APPEND = "append"     # marker index: the definition was L.append(v)


class Save:
    """Marker: the forward sweep is about to overwrite ``var`` (or ``var[index]``)."""

    def __init__(self, var, index=None):
        self.var = var
        self.index = index


class Restore:
    """Marker: the reverse sweep has reversed a definition of ``var`` (or ``var[index]``)."""

    def __init__(self, var, index=None):
        self.var = var
        self.index = index


class References:
    """How generated code names the objects a rule uses (``np``, ``unbroadcast``).

    When the user's own namespace already binds the name to the same object,
    generated code uses it as is; otherwise the object is handed to the
    generated function as a closure cell under a name that clashes with
    nothing in it.
    """

    def __init__(self, namespace, allocator, local_names):
        self.namespace = namespace
        self.allocator = allocator
        self.local_names = local_names
        self.cells = {}
        self._names = {}

    def __call__(self, wanted, obj):
        key = id(obj)
        if key in self._names:
            return self._names[key]
        if self.namespace.lookup(wanted, None, record_missing=False) is obj and \
                wanted not in self.local_names:
            chosen = wanted
        else:
            chosen = self.allocator.fresh(wanted)
            self.cells[chosen] = obj
        self._names[key] = chosen
        return chosen

    def ref(self, obj, wanted):
        """``self(wanted, obj)`` in the order the clean-up passes call it
        (``ref(obj, wanted)``: :class:`srcad.passes.Context`)."""
        return self(wanted, obj)

    def bind(self, chosen, obj):
        """Refer to ``obj`` as ``chosen`` (a name already taken from the allocator)."""
        self._names[id(obj)] = chosen
        self.cells[chosen] = obj

    def name_of(self, obj):
        """The name ``obj`` was handed out under, or None."""
        return self._names.get(id(obj))

    def snapshot(self):
        """The references handed out so far, for :meth:`restore` after a
        discarded trial (the reverse loop's fixpoint)."""
        return dict(self.cells), dict(self._names)

    def restore(self, state):
        cells, names = state
        self.cells, self._names = dict(cells), dict(names)


def guard_statements(node, ref):
    """``not_an_array(v)`` before an ``op=`` that is right only on floats
    (``alias.py`` attaches them; ``runtime.NotAnArray``); both generators emit them."""
    return [gast.Expr(value=call(ref(guard, "not_an_array"), name(v)))
            for v, guard in getattr(node, "srcad_guards", ())]


def rule_argument(atom, ref):
    """An atom as an expression a rule template can use: an index with slices
    becomes ``np.s_[...]`` (``ref(obj, name)`` names ``np`` in generated code)."""
    if isinstance(atom, IndexAtom) or _has_slice(atom):
        index = atom.index if isinstance(atom, IndexAtom) else atom
        if not _has_slice(index):
            return _copy(index)
        return gast.Subscript(value=gast.Attribute(value=ref(np, "np"), attr="s_", ctx=gast.Load()),
                              slice=_copy(index), ctx=gast.Load())
    return atom


def _is_name(atom, id_):
    return isinstance(atom, gast.Name) and atom.id == id_


def _stored(stmts):
    return stored([s for s in stmts if isinstance(s, gast.AST)])


def _has_slice(tree):
    return isinstance(tree, gast.AST) and any(isinstance(n, gast.Slice) for n in all_nodes([tree]))


def _targets(graph):
    """The names the graph's nodes assign."""
    return {n.target for n in graph.nodes if n.target is not None}


def _identifier(text):
    return "".join(c if c.isalnum() or c == "_" else "_" for c in text) or "f"


def _copy(tree):
    return clone(tree)
