"""Loop lowering: ``for`` over ranges, sequences, ``zip``/``enumerate`` and
dict views becomes an index loop over a counted range; ``while`` keeps its
test in a variable."""

import copy

import gast

from srcad.errors import UnsupportedSyntaxError
from srcad.structure import attach
from srcad.trees import parameters
from srcad.normalize.names import _dict_view, _identifier_of, _is_name, _text


class Loops:
    """The :class:`~srcad.normalize.core.Normalizer`'s loop statements."""

    def visit_For(self, stmt):
        header, element = self._iteration(stmt)
        self.version[header.target.id] = header.target.id
        self._loop_test.append([])
        body = self.block(element + list(stmt.body))
        self._loop_test.pop()
        loop = gast.For(target=header.target, iter=header.iter, body=body, orelse=[],
                        type_comment=None)
        self._emit(loop, stmt)

    def visit_While(self, stmt):
        pre, test = self.capture(lambda: self.atom(stmt.test))
        self.out.extend(pre)
        self._loop_test.append(pre)
        body = self.block(stmt.body)
        self._loop_test.pop()
        if pre:
            body = attach(body, copy.deepcopy(pre))   # recompute the test on every path
        self._emit(gast.While(test=test, body=body, orelse=[]), stmt)

    def _iteration(self, stmt):
        """Every for loop becomes ``for i in range(...)`` plus element reads.

        ``for row in X`` -> ``for i in range(len(X)): row = X[i]``, so that the
        reverse sweep can replay the iterations backwards with the same index
        and the adjoint of ``X`` gathers the adjoints of its rows.
        """
        target, it = stmt.target, stmt.iter
        func = it.func if isinstance(it, gast.Call) else None
        kind = self._builtin(func)
        assigned_in_body = {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)
                            and isinstance(n.ctx, gast.Store)}
        if kind is range and not it.keywords and isinstance(target, gast.Name):
            args = [self._loop_bound(a, assigned_in_body) for a in it.args]
            return _Header(target, self._range(args, it)), []
        if kind is enumerate and len(it.args) == 1 and isinstance(target, gast.Tuple) \
                and len(target.elts) == 2 and isinstance(target.elts[0], gast.Name):
            source = self._dict_source(it.args[0], stmt)
            if source is not None:        # for i, (k, v) in enumerate(d.items())
                d, view, order = source
                return self._dict_iteration(stmt, target.elts[1], view,
                                            self._loop_bound(d, assigned_in_body), order,
                                            index=target.elts[0])
            seq = self._loop_bound(it.args[0], assigned_in_body)
            index = target.elts[0]
            return (_Header(index, self._range([self._len(seq, it)], it)),
                    [self._element(target.elts[1], seq, index.id, stmt)])
        if kind is zip and any(isinstance(a, gast.Starred) for a in it.args):
            it = self._zip_spread(it, target)
        if kind is zip and it.args and not it.keywords and isinstance(target, gast.Tuple) \
                and len(target.elts) == len(it.args):
            seqs = [self._loop_bound(self._listed_view(a), assigned_in_body) for a in it.args]
            index = self._index_name(stmt)
            lengths = [self._len(q, it) for q in seqs]
            n = lengths[0] if len(lengths) == 1 else self._call_builtin("min", lengths, it)
            return (_Header(index, self._range([n], it)),
                    [self._element(t, q, index.id, stmt) for t, q in zip(target.elts, seqs)])
        if kind is reversed and len(it.args) == 1:
            seq = self._loop_bound(it.args[0], assigned_in_body)
            index = self._index_name(stmt)
            last = self._assign_new("last", gast.BinOp(left=self._len(seq, it), op=gast.Sub(),
                                                       right=gast.Constant(value=1, kind=None)))
            bounds = [last, gast.Constant(value=-1, kind=None), gast.Constant(value=-1, kind=None)]
            return _Header(index, self._range(bounds, it)), [self._element(target, seq, index.id, stmt)]
        source = self._dict_source(it, stmt)
        if source is not None:
            d, view, order = source
            return self._dict_iteration(stmt, target, view, self._loop_bound(d, assigned_in_body), order)
        seq = self._loop_bound(it, assigned_in_body)
        index = self._index_name(stmt)
        return _Header(index, self._range([self._len(seq, it)], it)), [self._element(target, seq, index.id, stmt)]

    def _zip_spread(self, it, target=None):
        """``zip(*pairs)`` in a loop header with the elements of ``pairs`` spread.

        When ``pairs`` is not a literal srcad can see (``zip(*unpack(params))``,
        as autograd's gmm example writes it) but the loop unpacks ``n`` names
        and ``zip`` has no other argument, each step's tuple has ``n`` elements,
        so ``pairs`` holds ``n`` sequences: ``pairs[0]``, ..., ``pairs[n - 1]``
        (read like the elements of ``a, b = pairs``)."""
        if (target is not None and isinstance(target, gast.Tuple) and len(it.args) == 1
                and isinstance(it.args[0], gast.Starred) and not it.keywords
                and not any(isinstance(e, gast.Starred) for e in target.elts)):
            value = it.args[0].value
            literal = self._literal_of(value)
            if literal is None or literal[0] != "seq":
                whole = self.atom(value)
                args = [self._assign_new(f"{_identifier_of(whole)}_{i}", gast.copy_location(
                    gast.Subscript(value=whole, slice=gast.Constant(value=i, kind=None), ctx=gast.Load()),
                    value)) for i in range(len(target.elts))]
                return gast.copy_location(gast.Call(func=it.func, args=args, keywords=[]), it)
        args = []
        for a in it.args:
            if not isinstance(a, gast.Starred):
                args.append(a)
                continue
            spread = self._spread(a.value, "seq")
            if any(isinstance(x, gast.Starred) for x in spread):
                raise self.source.error(
                    UnsupportedSyntaxError, f"srcad cannot loop over zip(*{_text(a.value)}): "
                    f"it cannot tell how many sequences {_text(a.value)} holds", a,
                    hint=f"build {_text(a.value)} in this function as a list or tuple literal, "
                         "or pass the sequences to zip explicitly")
            args.extend(spread)
        return gast.copy_location(gast.Call(func=it.func, args=args, keywords=it.keywords), it)

    def _dict_iteration(self, stmt, target, view, d, order="list", index=None):
        """``for k, v in d.items()`` -> ``keys_d = list(d.keys())``, then
        ``for i in range(len(keys_d)): k = keys_d[i]; v = d[k]``.  The keys
        are constants; each value is read like any other entry, so the adjoint
        of ``d`` gathers the adjoints of the values.  ``order`` is ``"sorted"``
        for ``sorted(d.items())`` (items sort by their unique keys); ``index``
        is the counter of ``enumerate(d.items())``, which becomes the loop's."""
        root = d.id if isinstance(d, gast.Name) else "d"
        it = stmt.iter
        keys_view = self._assign_new(f"{root}_keys", gast.copy_location(gast.Call(
            func=gast.Attribute(value=d, attr="keys", ctx=gast.Load()), args=[], keywords=[]), it))
        keys = self._assign_new(f"keys_{root}", self._call_builtin(order, [keys_view], it))
        index = index if index is not None else self._index_name(stmt)
        if view == "keys":
            key_target, value_target = target, None
        elif view == "values":
            key_target, value_target = None, target
        elif isinstance(target, gast.Tuple) and len(target.elts) == 2:
            key_target, value_target = target.elts
        else:
            raise self.source.error(UnsupportedSyntaxError, "srcad needs `for key, value in d.items()`",
                                    target, hint="unpack each item into two names")
        if not isinstance(key_target, gast.Name):
            key = gast.Name(id=self._compound_temp(f"key_{root}"), ctx=gast.Store(), annotation=None,
                            type_comment=None)
            element = [self._element(gast.copy_location(key, stmt), keys, index.id, stmt)]
            if key_target is not None:
                element.append(_assign_target(key_target, self._load(key.id, stmt), stmt))
        else:
            key = key_target
            element = [self._element(key, keys, index.id, stmt)]
        if value_target is not None:
            entry = gast.Subscript(value=d, slice=self._load(key.id, stmt), ctx=gast.Load())
            element.append(_assign_target(value_target, gast.copy_location(entry, stmt), stmt))
        return _Header(index, self._range([self._len(keys, it)], it)), element

    def _listed_view(self, expr):
        """``list(d.keys())`` for a dict view zipped with something (a view
        cannot be indexed by the loop)."""
        if _dict_view(expr, self.locals) is not None:
            return gast.copy_location(self._call_builtin("list", [expr], expr), expr)
        return expr

    def _dict_source(self, it, stmt):
        """``(d, view, order)`` when the loop iterates a dict's keys, values or
        items: ``d.items()`` and the like, ``sorted(d)``, ``sorted(d.items())``,
        ``sorted(d.keys())``, or ``d`` itself when the function shows that ``d``
        is a dict (:meth:`_is_dict_like`).  None otherwise."""
        view = _dict_view(it, self.locals)
        if view is not None:
            return it.func.value, view, "list"
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id not in self.locals \
                and self.parsed.namespace.lookup(it.func.id, None) is sorted \
                and len(it.args) == 1 and not it.keywords:
            inner = it.args[0]
            view = _dict_view(inner, self.locals)
            if view in ("keys", "items"):
                return inner.func.value, view, "sorted"
            if self._is_dict_like(inner, stmt):
                return inner, "keys", "sorted"
            return None
        if self._is_dict_like(it, stmt):
            return it, "keys", "list"
        return None

    def _is_dict_like(self, d, stmt):
        """``for k in d`` iterates keys when ``d`` is a dict, which the loop
        cannot tell from a list by its syntax.  Decided from how the function
        uses ``d``: the loop indexes ``d`` by its own variable (``d[k]``), the
        function reads ``d["W"]`` with a string key, calls a dict method on ``d`` (``d.items()``, ``.keys()``,
        ``.values()``, ``.get()``), builds ``d`` as a dict (a literal, a
        comprehension, ``dict(...)``), or annotates the parameter as one."""
        if not (isinstance(d, gast.Name) and d.id in self.locals):
            return False
        key = stmt.target.id if isinstance(stmt.target, gast.Name) else None
        for node in gast.walk(stmt):
            if isinstance(node, gast.Subscript) and _is_name(node.value, d.id) and key is not None \
                    and _is_name(node.slice, key):
                return True
        for node in gast.walk(self.fdef):
            if isinstance(node, gast.Attribute) and _is_name(node.value, d.id) \
                    and node.attr in ("items", "keys", "values", "get"):
                return True
            if isinstance(node, gast.Subscript) and _is_name(node.value, d.id) \
                    and isinstance(node.slice, gast.Constant) and isinstance(node.slice.value, str):
                return True                  # d["W"]: a string key
            if isinstance(node, gast.Assign) and any(_is_name(t, d.id) for t in node.targets) \
                    and self._builds_dict(node.value):
                return True
        for arg in parameters(self.fdef.args):
            if arg.id == d.id and arg.annotation is not None:
                text = _text(arg.annotation)
                return text.split("[")[0].split(".")[-1] in ("dict", "Dict", "Mapping", "MutableMapping")
        return False

    def _builds_dict(self, value):
        if isinstance(value, (gast.Dict, gast.DictComp)):
            return True
        return isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id not in self.locals and self.parsed.namespace.lookup(value.func.id, None) is dict

    def _loop_bound(self, expr, assigned_in_body):
        """An atom evaluated once before the loop that the loop cannot change."""
        atom = self.atom(expr)
        if isinstance(atom, gast.Name) and atom.id in assigned_in_body:
            return self._assign_new(f"{atom.id}_start", atom)
        return atom

    def _len(self, seq, origin):
        root = seq.id if isinstance(seq, gast.Name) else "seq"
        return self._assign_new(f"len_{root}", self._call_builtin("len", [seq], origin))

    def _range(self, args, origin):
        return self._call_builtin("range", args, origin)

    def _index_name(self, stmt):
        name = self.names.fresh("i")
        self.locals.add(name)
        self.in_compound.add(name)
        node = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
        return gast.copy_location(node, stmt)

    def _element(self, target, seq, index, stmt):
        load = gast.Name(id=index, ctx=gast.Load(), annotation=None, type_comment=None)
        item = gast.copy_location(gast.Subscript(value=seq, slice=load, ctx=gast.Load()), stmt)
        return _assign_target(target, item, stmt)


class _Header:
    """The ``target`` and ``iter`` of a normalized for loop."""

    def __init__(self, target, iter_):
        self.target = target
        self.iter = iter_


def _assign_target(target, value, origin):
    stmt = gast.copy_location(gast.Assign(targets=[target], value=value, type_comment=None), origin)
    stmt.end_lineno = stmt.lineno           # it quotes the loop's header line only
    return stmt
