"""Tuple, list and dict displays, ``dict(...)`` calls and spreads: the
containers whose elements the graph follows one by one."""

import copy

import gast

from srcad.errors import UnsupportedSyntaxError
from srcad.builders import assign as _assign_stmt
from srcad.trees import name_nodes
from srcad.normalize.names import _dict_view


class Containers:
    """The :class:`~srcad.normalize.core.Normalizer`'s container expressions."""

    def _zip_literal(self, func, args, keywords):
        """``zip(a, b)`` of tuple or list literals (``zip(*pairs)`` too) as
        the list of tuples it yields, so each element's derivative is followed;
        None for any other call."""
        if keywords or not args or self._builtin(func) is not zip:
            return None
        parts = []
        for atom in args:
            literal = self._literal_of(atom) if isinstance(atom, gast.Name) else None
            if literal is None or literal[0] != "seq":
                return None
            parts.append(literal[1])
        rows = [self._assign_new_rhs("zip_row", gast.Tuple(elts=[copy.deepcopy(p[i]) for p in parts],
                                                           ctx=gast.Load()))
                for i in range(min(len(p) for p in parts))]
        return gast.List(elts=rows, ctx=gast.Load())

    def _spread(self, value, kind):
        """``f(*t)``: the atoms of the tuple or list literal ``t`` was
        assigned in straight-line code (or a literal written in the call);
        ``f(**d)``: keywords from a dict literal with constant string keys.
        Otherwise the length is unknown here: the call keeps ``*t`` (or
        ``**d``), fine while it carries no derivative (``rs.randn(*shape)``);
        the graph refuses it where it does."""
        literal = self._literal_of(value)
        if kind == "seq" and literal is not None and literal[0] == "seq":
            return list(literal[1])
        if kind == "dict" and literal is not None and literal[0] == "dict":
            return [gast.keyword(arg=k, value=v) for k, v in literal[1]]
        atom = self.atom(value)
        if kind == "seq":
            return [gast.copy_location(gast.Starred(value=atom, ctx=gast.Load()), value)]
        return gast.keyword(arg=None, value=atom)

    def _literal_of(self, value):
        """``("seq", atoms)`` or ``("dict", [(key, atom)])`` for a literal, or a
        name bound to one that is still current, else None."""
        if isinstance(value, (gast.Tuple, gast.List)) and not any(isinstance(x, gast.Starred)
                                                                 for x in value.elts):
            return "seq", [self._call_arg(x) for x in value.elts]
        if isinstance(value, gast.Dict) and all(isinstance(k, gast.Constant) and isinstance(k.value, str)
                                                for k in value.keys):
            return "dict", [(k.value, self._call_arg(v)) for k, v in zip(value.keys, value.values)]
        if isinstance(value, gast.Name) and getattr(value, "srcad_resolved", False):
            return self._literals.get(value.id)        # already read: its version's name
        if isinstance(value, gast.Name) and value.id in self.locals and value.id in self.version:
            return self._literals.get(self.version[value.id])
        return None

    def _remember_literal(self, name, rhs):
        """Record ``name = (a, b)`` / ``{'k': v}`` for :meth:`_spread`, when
        ``name`` and every element keep their value (straight-line names)."""
        if name in self.in_compound:
            return
        if isinstance(rhs, (gast.Tuple, gast.List)):
            parts = list(rhs.elts)
        elif isinstance(rhs, gast.Dict) and all(isinstance(k, gast.Constant) and isinstance(k.value, str)
                                                for k in rhs.keys):
            parts = list(rhs.values)
        else:
            return
        if any(n.id in self.in_compound for p in parts for n in name_nodes(p)):
            return
        if isinstance(rhs, gast.Dict):
            self._literals[name] = ("dict", [(k.value, v) for k, v in zip(rhs.keys, rhs.values)])
        else:
            self._literals[name] = ("seq", parts)

    def rhs_Tuple(self, e):
        return gast.Tuple(elts=self._display_elements(e), ctx=gast.Load())

    def rhs_List(self, e):
        return gast.List(elts=self._display_elements(e), ctx=gast.Load())

    def _display_elements(self, e):
        """The atoms of a tuple or list display; ``(*t, x)`` spreads a literal
        ``t`` holds (:meth:`_literal_of`); any other ``*t`` is refused."""
        out = []
        for x in e.elts:
            if isinstance(x, gast.Starred):
                literal = self._literal_of(x.value)
                if literal is None or literal[0] != "seq":
                    self._refuse_expression(x)
                out.extend(copy.deepcopy(a) for a in literal[1])
            else:
                out.append(self.atom(x))
        return out

    def rhs_Dict(self, e):
        """``{k: v, ...}`` over atoms.  Computed keys could coincide when the
        function runs, and then no one could say which value an entry's adjoint
        belongs to: a literal with a computed key has that entry only."""
        if e.keys and e.keys[0] is None and None not in e.keys[1:] \
                and all(isinstance(k, gast.Constant) for k in e.keys[1:]):
            return self._dict_update(e, e.values[0], e.keys[1:], e.values[1:])   # {**d, 'b': y}
        for key, value in zip(e.keys, e.values):
            if key is None:
                raise self.source.error(
                    UnsupportedSyntaxError, "srcad cannot differentiate ** unpacking in a dict display",
                    value, hint="copy the dict (d = other.copy()) and set entries one by one")
            if not isinstance(key, gast.Constant) and len(e.keys) > 1:
                raise self.source.error(
                    UnsupportedSyntaxError, "srcad needs constant keys in a dict display with "
                    "several entries", key,
                    hint="start from a dict with constant keys (or {}) and set computed keys "
                         "one by one: d[k] = v")
        return gast.Dict(keys=[self.atom(k) for k in e.keys], values=[self.atom(v) for v in e.values])

    def _dict_call(self, e):
        """``dict(a=x, b=y)`` as the literal ``{'a': x, 'b': y}``, or None.
        ``dict(m, b=y)`` copies ``m`` (a dict or pairs) and sets the keywords
        (:meth:`_dict_update`)."""
        func = e.func
        if not (isinstance(func, gast.Name) and func.id not in self.locals
                and self.parsed.namespace.lookup(func.id, None) is dict):
            return None
        if len(e.args) == 1 and all(kw.arg is not None for kw in e.keywords):
            keys = [gast.copy_location(gast.Constant(value=kw.arg, kind=None), kw.value) for kw in e.keywords]
            return self._dict_update(e, e.args[0], keys, [kw.value for kw in e.keywords])
        if e.args or any(kw.arg is None for kw in e.keywords):
            return None
        keys = [gast.copy_location(gast.Constant(value=kw.arg, kind=None), kw.value) for kw in e.keywords]
        return self.rhs_Dict(gast.Dict(keys=keys, values=[kw.value for kw in e.keywords]))

    def _dict_update(self, e, mapping, keys, values):
        """``dict(m, b=y)`` or ``{**m, 'b': y}`` -> ``t = dict(m)``, then
        ``t['b'] = y``: a copy (whose rule sends each entry's adjoint back to
        ``m``, a dict or a list of pairs) and entries set one by one.  Pairs
        that an iterator yields (``zip``, ``enumerate``, ``d.items()``) are
        first collected into a list, which the reverse sweep can read again."""
        pairs = self._as_pair_list(mapping)
        name = self._compound_temp(f"{pairs.id if isinstance(pairs, gast.Name) else 'dict'}_copy")
        copied = gast.copy_location(self._call_builtin("dict", [pairs], e), e)
        self._emit(_assign_stmt(name, copied, e), self._stmt)
        self.version[name] = name
        for key, value in zip(keys, values):
            target = gast.copy_location(gast.Subscript(value=self._load(name, e), slice=key, ctx=gast.Store()),
                                        value)
            self._setitem(target, value)
        return self._load(name, e)

    def _as_pair_list(self, mapping):
        """The atom of ``dict(mapping)``'s argument; an iterator of pairs
        becomes a list comprehension."""
        it = mapping
        width = None
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id not in self.locals:
            found = self.parsed.namespace.lookup(it.func.id, None)
            width = len(it.args) if found is zip and it.args and not it.keywords else \
                2 if found is enumerate else None
        elif _dict_view(it, self.locals) == "items":
            width = 2
        if width is None:
            return self.atom(mapping)
        names = [self.names.fresh(f"item{k}") for k in range(width)]
        load = gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Load(), annotation=None, type_comment=None)
                                for n in names], ctx=gast.Load())
        store = gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Store(), annotation=None, type_comment=None)
                                 for n in names], ctx=gast.Store())
        comp = gast.ListComp(elt=load, generators=[gast.comprehension(target=store, iter=it, ifs=[],
                                                                      is_async=0)])
        return self.atom(gast.copy_location(comp, mapping))
