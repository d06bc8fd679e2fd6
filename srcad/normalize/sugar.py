"""Syntactic sugar lowered to plain statements: conditional expressions,
``and``/``or`` chains, list and dict comprehensions."""


import gast

from srcad.errors import UnsupportedSyntaxError
from srcad.builders import assign as _assign_stmt
from srcad.normalize.names import _Renamer


class Sugar:
    """The :class:`~srcad.normalize.core.Normalizer`'s sugared expressions."""

    def rhs_IfExp(self, e):
        """``a if c else b`` -> an if statement that assigns one temporary."""
        test = self.atom(e.test)
        name = self._compound_temp(self._describe(e))
        body = self.block([_assign_stmt(name, e.body, e)])
        orelse = self.block([_assign_stmt(name, e.orelse, e)])
        self._branch(test, body, orelse, self._stmt)
        return self._load(name, e)

    def rhs_BoolOp(self, e):
        """``a and b`` -> ``t = a; if a: t = b`` (``or``: ``if not a``): short-circuit kept."""
        name = self._compound_temp(self._describe(e))
        self._bool_chain(e, list(e.values), name)
        return self._load(name, e)

    def _bool_chain(self, e, values, name):
        first = self.atom(values[0])
        self.statement(_assign_stmt(name, first, e))
        if len(values) > 1:
            test = first
            if isinstance(e.op, gast.Or):
                test = self.atom(gast.copy_location(gast.UnaryOp(op=gast.Not(), operand=first), e))
            saved, self.out = self.out, []
            try:
                self._bool_chain(e, values[1:], name)
                body = self.out
            finally:
                self.out = saved
            self._branch(test, body, [], self._stmt)

    def rhs_ListComp(self, e):
        """``[f(x) for x in xs if c]`` -> a list grown by a loop::

            f_list = []
            for x_2 in xs:
                if c:
                    f_list.append(f(x_2))

        The comprehension's own variables get fresh names (they are local to
        the comprehension in Python)."""
        name = self._compound_temp(f"{self._describe(e.elt)}_list")
        self.statement(_assign_stmt(name, gast.List(elts=[], ctx=gast.Load()), e))
        renames = {}
        for gen in e.generators:
            if getattr(gen, "is_async", 0):
                raise self.source.error(UnsupportedSyntaxError, "srcad cannot differentiate "
                                        "an async comprehension", gen)
            for target in gast.walk(gen.target):
                if isinstance(target, gast.Name):
                    renames[target.id] = self._compound_temp(target.id)
        rename = _Renamer(renames)
        append = gast.Attribute(value=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                                type_comment=None), attr="append", ctx=gast.Load())
        body = [gast.copy_location(gast.Expr(value=gast.Call(func=append, args=[rename.copy(e.elt)],
                                                             keywords=[])), e)]
        for gen in reversed(e.generators):
            for cond in reversed(gen.ifs):
                body = [gast.copy_location(gast.If(test=rename.copy(cond), body=body, orelse=[]), e)]
            iter_ = gen.iter if gen is e.generators[0] else rename.copy(gen.iter)
            body = [gast.copy_location(gast.For(target=rename.copy(gen.target), iter=iter_, body=body,
                                                orelse=[], type_comment=None), e)]
        for stmt in body:
            self.statement(stmt)
        return self._load(name, e)

    def rhs_DictComp(self, e):
        """``{k: v for k, v in pairs if c}`` -> ``dict([(k, v) for k, v in pairs if c])``:
        a list of pairs grown by a loop, then ``dict`` (whose rule sends each
        value's adjoint back to the pair that set the entry last), so keys may
        come out of a container that also holds differentiated values."""
        pair = gast.copy_location(gast.Tuple(elts=[e.key, e.value], ctx=gast.Load()), e)
        pairs = gast.copy_location(gast.ListComp(elt=pair, generators=e.generators), e)
        return self._call_builtin("dict", [self.atom(pairs)], e)

    rhs_GeneratorExp = rhs_ListComp          # materialized: sum(x * x for x in xs)

    def _compound_temp(self, base):
        name = self.names.fresh(base)
        self.locals.add(name)
        self.in_compound.add(name)
        return name
