"""One primitive's adjoint: its rule inlined with the cotangent of its
output, each contribution added to the adjoint of an argument (spread
over containers, scattered into entries)."""

import gast

from srcad.ir import Kind
from srcad.passes.unbroadcast import drop_unbroadcast
from srcad.graph import atom_names
from srcad.builders import assign, call, name, store
from srcad.runtime import add_at, checked, scatter_add, unbroadcast
from srcad.reverse.support import _copy, _is_name, rule_argument


class Statements:
    """The :class:`~srcad.reverse.core.ReverseGenerator`'s primitives: rules inlined, adjoints contributed."""

    def node_adjoint(self, node):
        """The statements that add ``node``'s contributions to its arguments' adjoints."""
        g, ans = name(self.adjoint(node.target)), name(node.target)
        if node.kind == Kind.PACK:
            stmts = []
            for key, elt in node.parts():
                if self._varied(elt):
                    index = gast.Subscript(value=g, slice=_copy(key), ctx=gast.Load())
                    stmts.append(self.contribute(elt.id, index))
            self.defined.discard(node.target)
            return stmts
        if node.kind == Kind.USERCALL:
            stmts = self.reverse_call(node, g)
            self.defined.discard(node.target)
            return stmts
        tmpl = node.rule
        mapping = {p: self._expression(a) for p, a in node.binding.items()}
        wanted = {}
        for param, atom in node.binding.items():
            if isinstance(atom, gast.AST) and self._varied(atom) and not tmpl.is_zero(param):
                wanted[tmpl.index(param)] = atom   # (a zeros_like output: shape only)
        prelude, outs = tmpl.instantiate(
            [g, ans], mapping, sorted(wanted),
            fresh=lambda base: self.names.fresh(f"{node.target}_{base}"),
            reference=self.refs)
        stmts = list(prelude)
        unbroadcast_name = self.refs("unbroadcast", unbroadcast)
        # An in-place update (x[i] = v) reads and redefines x: the other
        # contributions read dx first, then dx becomes the old x's adjoint.
        order = sorted(wanted.items(), key=lambda kv: (_is_name(kv[1], node.target), kv[0]))
        for index, atom in order:
            expr = drop_unbroadcast(outs[index], node, self.graph.shape_class,
                                             unbroadcast_name)
            if not tmpl.rule.__module__.startswith("srcad."):
                expr = call(self.ref(checked, "checked"), expr, _copy(atom),
                            gast.Constant(value=tmpl.name, kind=None))
            if _is_name(atom, node.target):
                self.defined.discard(node.target)
            if isinstance(atom, gast.Name):
                stmts.append(self.contribute(atom.id, expr))
            else:
                stmts.extend(self._spread(atom, expr, f"d{node.target}_parts"))
        if not any(_is_name(a, node.target) for a in wanted.values()):
            self.defined.discard(node.target)
        return stmts

    def _spread(self, atom, expr, holder):
        """Contributions of ``expr``, the adjoint of ``atom``: a name, or a
        literal sequence of atoms (``np.stack([a, b])``, the arguments bound to
        a callee's ``*args``, the gradients of a callee's parameters).  Fresh
        names are bound by unpacking; otherwise the adjoint is held in a
        temporary named after ``holder`` and split up by index."""
        if isinstance(atom, gast.Name):
            return [self.contribute(atom.id, expr)]
        leaves = _leaves(atom)
        ids = {leaf.id for leaf in leaves if isinstance(leaf, gast.Name)}
        if len(ids) == len(leaves) and all(map(self._varied, leaves)) and not ids & self.defined:
            self.defined.update(ids)
            return [gast.Assign(targets=[self._unpack_target(atom)], value=expr, type_comment=None)]
        holder = self.names.fresh(holder)
        return [assign(holder, expr)] + self._distribute(atom, name(holder))

    def _unpack_target(self, atom):
        """``da, (db, dc)`` for the literal ``(a, (b, c))``."""
        if isinstance(atom, gast.Name):
            return store(self.adjoint(atom.id))
        return gast.Tuple(elts=[self._unpack_target(e) for e in atom.elts], ctx=gast.Store())

    def _distribute(self, atom, expr):
        """``expr[i]`` (recursively) to every varied element of a literal sequence."""
        if isinstance(atom, gast.Name):
            return [self.contribute(atom.id, expr)]
        stmts = []
        for i, elt in enumerate(atom.elts):
            if self._varied(elt):
                part = gast.Subscript(value=_copy(expr), slice=gast.Constant(value=i, kind=None),
                                      ctx=gast.Load())
                stmts += self._distribute(elt, part)
        return stmts

    def contribute(self, primal, expr):
        """``dprimal = expr`` for the first contribution, else accumulate."""
        d = self.adjoint(primal)
        if primal in self.defined:
            expr = self._scattered(d, expr) or gast.BinOp(left=name(d), op=gast.Add(), right=expr)
        self.defined.add(primal)
        return assign(d, expr)

    def _scattered(self, d, expr):
        """``add_at(dx, g, x, i)`` for ``dx + scatter_add(g, x, i)``: one entry
        added, not a whole adjoint of zeros (O(1) per read of a list element
        instead of O(len)); None for any other contribution."""
        if not (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name)
                and len(expr.args) == 3 and not expr.keywords
                and expr.func.id == self.refs.name_of(scatter_add)):
            return None
        index = expr.args[2]
        if isinstance(index, gast.Constant) and isinstance(index.value, str):
            return None                  # a dict's entry: dd + scatter_add(...) adds one entry already
        return call(self.ref(add_at, "add_at"), name(d), *expr.args)

    def _varied(self, atom):
        return any(n in self.graph.varied for n in atom_names(atom))

    def _expression(self, atom):
        return rule_argument(atom, self.ref)


def _leaves(atom):
    """The atoms inside a (nested) literal sequence, in order."""
    if isinstance(atom, (gast.Tuple, gast.List)):
        return [leaf for elt in atom.elts for leaf in _leaves(elt)]
    return [atom]
