"""Stage 4, forward: the computational graph -> the tangent (JVP) function.

Worked example.  For ``def f(x, y, z): p = x + y; g = p * z; return g``
differentiated with respect to all three parameters, each statement of the
normalized body is followed by the statement that carries its tangent, built
from the primitive's forward rule::

    def jvp_f(x, y, z, x_dot, y_dot, z_dot):
        p = x + y
        p_dot = x_dot + y_dot        # add rule: one contribution per argument
        g = p * z
        g_dot = p_dot * z + p * z_dot
        return (g, g_dot)

The tangent of a value is named after it (``p_dot`` for ``p``); the function
takes one tangent per ``wrt`` parameter after ``f``'s own parameters and
returns the value and its tangent.  A tangent that is zero is *symbolically*
zero: a constant input contributes no term (``p = x * w`` with constant ``w``
gives ``p_dot = x_dot * w``), and a value computed from constants only has no
tangent statement at all.  The output's tangent is a dense zero only when the
output does not depend on ``wrt``.

Control flow needs no stacks: branches and loops are emitted as in the
function, with tangent statements inside.  Where a variable's tangent is
nonzero on one path into a join (the end of an ``if``, the head of a loop) and
zero on another, the zero path holds a materialized ``v_dot = zeros_like(v)``,
assigned where ``v`` was assigned a constant; dead-code elimination removes
those nobody reads.  So ``v_dot`` is always in step with ``v``, and the
set ``defined`` of variables whose tangent may be nonzero is only an
optimization: it decides which terms are written.

Generated code can be differentiated again (``srcad.hessian`` is the tangent
of a gradient).  Its loop stacks are special-cased: a stack whose pushed
values carry tangents gets a twin stack of tangents (``x_stack_dot``) that is
pushed and popped alongside, and the reverse sweep's ``L.pop()`` and
``restore_entry(d, k, old)`` update the container's tangent too.
"""

import gast
import numpy as np

from srcad.passes.defaults import DropDefaults
from srcad.passes.negation import without_minus as _without_minus
from srcad.passes.fold import _number, fold_term
from srcad.passes.unbroadcast import drop_broadcasts
from srcad.errors import SrcadError
from srcad.graph import Node, readonly_effect, statement_of
from srcad.ir import Kind, Visitor
from srcad.normalize import NameAllocator, all_names, assigned_names
from srcad.reverse.support import _identifier
from srcad.reverse import (Comment, References, assign, call, guard_statements, name,
                           rule_argument, store)
from srcad.rules.template import Default
from srcad.trees import clone
from srcad.runtime import Stack, broadcast_like, readonly, restore_entry, without, zeros_like


class ForwardGenerator(Visitor):
    """Builds the gast FunctionDef of a Jacobian-vector product."""

    def __init__(self, graph, callee=None):
        self.graph = graph
        self.source = graph.parsed.source
        self.callee = callee              # (function, wrt) -> entry with a .cell (see api)
        self.callees = []                 # the entries of called user functions
        self.names = NameAllocator(all_names(graph.fdef))
        self.refs = References(graph.parsed.namespace, self.names, assigned_names(graph.fdef))
        self._tangents = {}
        self.defined = set()

    # -- names ---------------------------------------------------------------
    def tangent(self, primal):
        """The name of the tangent of ``primal``: ``x_dot`` for ``x``."""
        found = self._tangents.get(primal)
        if found is None:
            found = self._tangents[primal] = self.names.fresh(f"{primal}_dot")
        return found

    def ref(self, obj, wanted):
        return name(self.refs(wanted, obj))

    def needed(self, primal):
        """True when ``primal`` may carry a tangent the output depends on."""
        return primal in self.graph.varied and primal in self.graph.useful

    # -- the whole function ----------------------------------------------------
    def generate(self):
        graph = self.graph
        output = graph.output
        if output is None or (isinstance(output, gast.Constant) and output.value is None):
            raise self.source.error(
                SrcadError, f"{graph.name!r} returns None, so there is nothing to differentiate",
                graph.fdef, hint="return the value to differentiate")
        tangent_params = [self.tangent(w) for w in graph.wrt]
        self.defined = set(graph.wrt)
        body = [self._zeros(p) for p in graph.params if p not in graph.wrt and self.needed(p)]
        body += self.items(graph.body)
        body.append(gast.Return(value=gast.Tuple(elts=[clone(output), self._output_tangent(output)],
                                                 ctx=gast.Load())))
        args = clone(graph.fdef.args)
        args.defaults = []                # the tangents follow: every parameter is required
        if args.vararg is not None:       # *xs: one tuple, as call_node passes it
            args.args.append(args.vararg)
            args.vararg = None
        args.args += [gast.Name(id=t, ctx=gast.Param(), annotation=None, type_comment=None)
                      for t in tangent_params]
        fname = self.names.fresh(f"jvp_{_identifier(graph.name)}")
        return gast.FunctionDef(name=fname, args=args, body=body, decorator_list=[],
                                returns=None, type_comment=None, type_params=[])

    def _output_tangent(self, output):
        found = self.tangent_of(output)
        if found is not None:
            return found
        return call(self.ref(zeros_like, "zeros_like"), clone(output))   # a dense zero

    # -- statements ----------------------------------------------------------------
    def items(self, items):
        """The tangent code of ``items``: each line's nodes together, under a
        comment with the line when it becomes more than one statement per node."""
        out = []
        for group in _line_groups(items):
            if not isinstance(group, list):
                out.extend(self.visit("tangent", group))
                continue
            stmts = []
            for node in group:
                stmts.extend(guard_statements(node, self.ref))
                stmts.extend(self.tangent_node(node))
            if len(group) > 1 and len(stmts) > len(group):
                out.append(Comment(self.graph.source_text(group[0])))
            out.extend(stmts)
        return out

    def tangent_branch(self, branch):
        before = set(self.defined)
        body = self.items(branch.body)
        after_body, self.defined = self.defined, before
        orelse = self.items(branch.orelse)
        self.defined |= after_body
        return [gast.If(test=clone(branch.test), body=body, orelse=orelse)]

    def tangent_loop(self, loop):
        """The loop as written; tangents that the body makes nonzero are nonzero
        at its head from the first iteration on (a fixpoint)."""
        entry = self._loop_entry(loop, self.defined)
        self.defined = set(entry)
        body = self.items(loop.body)
        self.defined = entry
        new = gast.For(target=clone(loop.stmt.target), iter=clone(loop.stmt.iter), body=body,
                       orelse=[], type_comment=None) if loop.kind == "for" else \
            gast.While(test=clone(loop.stmt.test), body=body, orelse=[])
        return [gast.copy_location(new, loop.stmt)]

    def tangent_jump(self, jump):
        return [jump.stmt]                   # break / continue

    def tangent_node(self, node):
        kind, target = node.kind, node.target
        if kind == Kind.STACK:
            out = [node.stmt]
            if self.needed(target):        # its twin, which a callee's saved values may carry
                out.append(assign(self.tangent(target), call(self.ref(Stack, "Stack"))))
                self.defined.add(target)      # the twin stack, e.g. packed into saved values
            return out
        if kind == Kind.PUSH:
            out = [node.stmt]
            if self.needed(target):
                value = node.args[1]
                pushed = self.tangent_of(value) or call(self.ref(zeros_like, "zeros_like"), clone(value))
                push = gast.Attribute(value=name(self.tangent(target)), attr="push", ctx=gast.Load())
                out.append(gast.Expr(value=call(push, pushed)))
            return out
        if kind == Kind.USERCALL and node.active:
            return self.call_node(node)
        if kind == Kind.POP:
            return self.pop_node(node)
        if kind in (Kind.UNAPPEND, Kind.RESTORE):
            return self.undo_node(node)
        if getattr(node, "readonly", None):      # an effect on values with derivatives
            return [readonly_effect(node, lambda: self.ref(readonly, "readonly"))]
        out = [statement_of(node, self.ref)]
        if target is None:
            return out
        expr = self.tangent_expression(node, out) if node.active else None
        if expr is not None:
            out.append(assign(self.tangent(target), expr))
            self.defined.add(target)
            return out
        self.defined.discard(target)
        if self.needed(target):
            value = getattr(node.stmt, "value", None)
            if node.kind == Kind.CONST and _number(value):
                out.append(assign(self.tangent(target), gast.Constant(value=0.0, kind=None)))
            else:
                out.append(self._zeros(target))
        return out

    def pop_node(self, node):
        """``v = s.pop()`` and, since ``s`` has a twin, ``v_dot = s_dot.pop()``.
        The twin is popped even where ``v``'s tangent is not needed (``v`` read
        for its shape only): every push of the twin has its pop, or a later
        pop would return the tangent of another value.  Both pops are effects,
        which dead-code elimination keeps."""
        stack, target = node.args[0].id, node.target
        node.stmt.srcad_effect = True
        if stack not in self.defined:          # no twin: the popped tangents are zero
            self.defined.discard(target)
            return [node.stmt] + ([self._zeros(target)] if self.needed(target) else [])
        pop = call(gast.Attribute(value=name(self.tangent(stack)), attr="pop", ctx=gast.Load()))
        if node.active or self.needed(target):
            twin = assign(self.tangent(target), pop)
            twin.srcad_effect = True
            self.defined.add(target)
        else:
            twin = gast.Expr(value=pop)
            self.defined.discard(target)
        return [node.stmt, twin]

    def undo_node(self, node):
        """The tangent of a list or dict the reverse sweep restores, kept in
        step with it: ``L.pop()`` drops the last tangent (``L_dot =
        L_dot[:-1]``); ``restore_entry(d, k, old)`` zeroes the entry
        (``d_dot = without(d_dot, k, d)``) and, when ``old`` has a tangent
        (popped from the twin stack), restores that into it
        (``restore_entry(d_dot, k, old_dot)``, which also drops an entry that
        did not exist before)."""
        node.stmt.srcad_effect = True
        target, out = node.target, [node.stmt]
        tangent = self.tangent_of(node.args[0])
        old = self.tangent_of(node.args[2]) if node.kind == Kind.RESTORE else None
        if tangent is None and old is None:
            self.defined.discard(target)
            return out + ([self._zeros(target)] if self.needed(target) else [])
        if node.kind == Kind.UNAPPEND:
            value = gast.Subscript(value=tangent, slice=gast.Slice(
                lower=None, upper=gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=1, kind=None)),
                step=None), ctx=gast.Load())
            out.append(assign(self.tangent(target), value))
        else:
            index = clone(node.args[1])
            if tangent is None:
                out.append(self._zeros(target))
            else:
                out.append(assign(self.tangent(target), call(self.ref(without, "without"), tangent,
                                                             index, name(target))))
            if old is not None:
                restore = gast.Expr(value=call(self.ref(restore_entry, "restore_entry"),
                                               name(self.tangent(target)), clone(index), old))
                restore.srcad_effect = True
                out.append(restore)
        self.defined.add(target)
        return out

    def _zeros(self, primal):
        """``v_dot = zeros_like(v)``: a materialized zero, read only at joins."""
        return assign(self.tangent(primal), call(self.ref(zeros_like, "zeros_like"), name(primal)))

    # -- tangents of one primitive application -------------------------------------
    def tangent_of(self, atom, defined=None):
        """The tangent of an argument as an expression, or None where it is
        (symbolically) zero, given the ``defined`` tangents (by default those
        at this point of the code).  A literal tuple, list or dict gets one of
        tangents."""
        defined = self.defined if defined is None else defined
        if isinstance(atom, gast.Name):
            return name(self.tangent(atom.id)) if atom.id in defined else None
        if not isinstance(atom, (gast.Tuple, gast.List, gast.Dict)):
            return None
        elements = atom.values if isinstance(atom, gast.Dict) else atom.elts
        parts = [self.tangent_of(e, defined) for e in elements]
        if all(p is None for p in parts):
            return None
        tangents = [p if p is not None else self._zero_of(e) for p, e in zip(parts, elements)]
        if isinstance(atom, gast.Dict):
            return gast.Dict(keys=[clone(k) for k in atom.keys], values=tangents)
        return type(atom)(elts=tangents, ctx=gast.Load())

    def _zero_of(self, atom):
        """The zero tangent of an element of a literal: ``0.0`` for a number."""
        if isinstance(atom, gast.Constant) and type(atom.value) in (int, float):
            return gast.Constant(value=0.0, kind=None)
        return call(self.ref(zeros_like, "zeros_like"), clone(atom))

    def tangent_expression(self, node, out):
        """The tangent of ``node``'s result (appending rule temporaries to
        ``out``), or None when every contribution is zero."""
        if node.kind == Kind.PACK:
            return self.tangent_of(node.stmt.value)
        tmpl = node.rule
        tangents = self.input_tangents(node)
        if not tangents:
            return None
        leading = [tangents.get(i, gast.Constant(value=None, kind=None))
                   for i in range(len(tmpl.leading) - 1)] + [name(node.target)]
        mapping = {p: rule_argument(a, self.ref) for p, a in node.binding.items()}
        prelude, outs = tmpl.instantiate(
            leading, mapping, sorted(tangents),
            fresh=lambda base: self.names.fresh(f"{node.target}_{base}"), reference=self.refs)
        out.extend(prelude)
        atoms = {tmpl.index(p): a for p, a in node.binding.items()}
        terms = self._drop_broadcasts(node, {i: outs[i] for i in sorted(tangents)},
                                      {i: atoms[i] for i in tangents})
        return _sum([self._tidy(t) for t in terms])

    def input_tangents(self, node, defined=None):
        """The arguments of ``node`` whose tangent may be nonzero, as
        ``{key: tangent expression}``: keyed by rule output index, by element
        position (a tuple or list literal), or by callee parameter."""
        if node.kind == Kind.PACK:
            tangents = ((i, self.tangent_of(a, defined)) for i, a in enumerate(node.args))
        elif node.kind == Kind.USERCALL:
            tangents = ((p, self.tangent_of(node.binding[p], defined)) for p in node.callee_wrt)
        else:
            tmpl = node.rule
            tangents = ((tmpl.index(p), self.tangent_of(a, defined)) for p, a in node.binding.items()
                        if isinstance(a, gast.AST) and tmpl.differentiable(p) and not tmpl.is_zero(p))
        return {k: t for k, t in tangents if t is not None}

    def _tidy(self, expr):
        """Cosmetics on an inlined term: ``t[np.s_[1:]]`` -> ``t[1:]``, constant
        arithmetic folded (``x ** np.where(2, 2 - 1, 1.0)`` -> ``x``), keyword
        arguments equal to the callee's defaults dropped (``np.sum(t)``)."""
        expr = _plain_slices(expr, self.refs.name_of(np))
        expr = fold_term(expr)
        return DropDefaults(self._resolve).visit(expr)

    def _resolve(self, expr):
        """The object a callee expression of generated code names, or None."""
        if isinstance(expr, gast.Attribute):
            base = self._resolve(expr.value)
            if base is None:
                return None
            return self.graph.parsed.namespace.attribute(base, expr.attr, None)
        if isinstance(expr, gast.Name):
            if expr.id in self.refs.cells:
                return self.refs.cells[expr.id]
            return self.graph.parsed.namespace.lookup(expr.id, None)
        return None

    def _drop_broadcasts(self, node, outs, atoms):
        """See :func:`srcad.passes.unbroadcast.drop_broadcasts`."""
        return drop_broadcasts(node, outs, atoms, self.graph.shape_class,
                               self.refs.name_of(broadcast_like))

    # -- calls of user functions ------------------------------------------------------
    def call_node(self, node):
        """``y, y_dot = jvp_h(args..., tangents...)``: the callee's own tangent
        function, w.r.t. the arguments whose tangents are nonzero here."""
        import inspect
        tangents = list(self.input_tangents(node).items())
        if not tangents:
            node_stmts = [node.stmt]
            self.defined.discard(node.target)
            if self.needed(node.target):
                node_stmts.append(self._zeros(node.target))
            return node_stmts
        entry = self.callee(node.callee, tuple(p for p, _ in tangents))
        if entry not in self.callees:
            self.callees.append(entry)
        func = self.ref(entry.cell, f"jvp_{_identifier(node.callee.__name__)}")
        args, keywords = [], []
        for param in inspect.signature(node.callee, follow_wrapped=False).parameters.values():
            if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD, param.VAR_POSITIONAL):
                args.append(clone(node.arguments[param.name]) if param.name in node.arguments
                            else Default(param.default).expr(self.refs))
            elif param.kind == param.KEYWORD_ONLY and param.name in node.arguments:
                keywords.append(gast.keyword(arg=param.name, value=clone(node.arguments[param.name])))
        value = gast.Call(func=func, args=args + [t for _, t in tangents], keywords=keywords)
        targets = gast.Tuple(elts=[store(node.target), store(self.tangent(node.target))],
                             ctx=gast.Store())
        self.defined.add(node.target)
        return [gast.copy_location(gast.Assign(targets=[targets], value=value, type_comment=None),
                                   node.stmt)]

    # -- which tangents may be nonzero (dataflow, no code) ---------------------------
    def _nonzero(self, node, defined):
        if node.kind == Kind.STACK:
            return self.needed(node.target)
        if node.kind == Kind.POP:
            return node.args[0].id in defined and (node.active or self.needed(node.target))
        if node.kind in (Kind.UNAPPEND, Kind.RESTORE):
            return node.active and any(self.tangent_of(a, defined) is not None
                                       for a in node.args[::2])
        if not node.active or node.kind == Kind.PUSH:
            return False
        return bool(self.input_tangents(node, defined))

    def _flow(self, items, defined):
        for item in items:
            defined = self.visit("flow", item, defined)
        return defined

    def flow_node(self, node, defined):
        if node.target is not None and node.kind != Kind.PUSH:
            if self._nonzero(node, defined):
                defined.add(node.target)
            else:
                defined.discard(node.target)
        return defined

    def flow_branch(self, branch, defined):
        return self._flow(branch.body, set(defined)) | self._flow(branch.orelse, set(defined))

    def flow_loop(self, loop, defined):
        return self._loop_entry(loop, defined)

    def flow_jump(self, jump, defined):
        return defined

    def _loop_entry(self, loop, defined):
        entry = set(defined)
        while True:
            after = self._flow(loop.body, set(entry))
            if after <= entry:
                return entry
            entry |= after


def _line_groups(items):
    """Consecutive nodes from the same user line as lists; other items alone."""
    groups, current, key = [], None, None
    for item in items:
        if isinstance(item, Node):
            k = (item.lineno, item.end_lineno)
            if current is None or k != key:
                current, key = [], k
                groups.append(current)
            current.append(item)
        else:
            groups.append(item)
            current = None
    return groups


def _sum(terms):
    """``t1 + t2 - t3``: a term with a leading minus is subtracted."""
    total = terms[0]
    for term in terms[1:]:
        positive = _without_minus(term)
        total = gast.BinOp(left=total, op=gast.Sub() if positive is not None else gast.Add(),
                           right=positive if positive is not None else term)
    return total


def _plain_slices(expr, np_name):
    """``t[np.s_[1:]]`` -> ``t[1:]``: a slice argument can be written in place
    where the rule subscripts with it."""
    if np_name is None:
        return expr
    for node in gast.walk(expr):
        index = getattr(node, "slice", None) if isinstance(node, gast.Subscript) else None
        if (isinstance(index, gast.Subscript) and isinstance(index.value, gast.Attribute)
                and index.value.attr == "s_" and isinstance(index.value.value, gast.Name)
                and index.value.value.id == np_name):
            node.slice = index.slice
    return expr


def mark_stacks(graph):
    """Recognize the loop stacks of generated reverse code (``s = Stack()``,
    ``s.push(v)``, ``v = s.pop()``) so that activity analysis sees values flow
    through them: a push becomes a node that updates ``s`` from ``v``."""
    stacks = {n.target for n in graph.nodes
              if n.kind == Kind.CALL and n.primitive is Stack and not n.args and not n.kwargs}
    if getattr(graph.parsed.func, "srcad_mode", None) is not None:
        _mark_undos(graph)
        # generated code: a reverse function gets its stacks from its saved values
        stacks |= {_receiver(n.stmt) for n in graph.nodes if _receiver(n.stmt) is not None}
    if not stacks:
        return graph
    for node in graph.nodes:
        if node.target in stacks and node.primitive is Stack:
            node.refine(Kind.STACK)
            continue
        stack = _receiver(node.stmt)
        if stack not in stacks:
            continue
        name_ = node.stmt.value.func.value
        if isinstance(node.stmt, gast.Expr):                  # s.push(v)
            node.refine(Kind.PUSH, target=stack, args=[name_, node.stmt.value.args[0]])
        else:                                                  # v = s.pop()
            node.refine(Kind.POP, args=[name_])
    return graph


def _mark_undos(graph):
    """Recognize the statements of a generated reverse sweep that undo an
    update of a list or dict made in a loop or branch: ``L.pop()`` (undoes
    ``L.append(v)``) and ``restore_entry(d, k, old)`` (undoes ``d[k] = v``).
    Each becomes a node that updates its container (kind ``unappend`` or
    ``restore``), so activity analysis sees the container change and
    :meth:`ForwardGenerator.undo_node` keeps its tangent in step."""
    for node in graph.nodes:
        if node.kind != Kind.EFFECT:
            continue
        value = node.stmt.value if isinstance(node.stmt, gast.Expr) else None
        if not isinstance(value, gast.Call) or value.keywords:
            continue
        func = value.func
        if (isinstance(func, gast.Attribute) and func.attr == "pop" and not value.args
                and isinstance(func.value, gast.Name) and getattr(func.value, "srcad_local", False)):
            node.refine(Kind.UNAPPEND, target=func.value.id, args=[func.value])
        elif (len(value.args) == 3 and isinstance(value.args[0], gast.Name)
              and getattr(value.args[0], "srcad_local", False)
              and _resolve_static(graph, func) is restore_entry):
            node.refine(Kind.RESTORE, target=value.args[0].id, args=list(value.args))
        else:
            continue
        node.label = node.kind.value


def _resolve_static(graph, func):
    from srcad.graph import GraphBuilder
    return GraphBuilder._resolve_static(graph.parsed.namespace, func)


def _receiver(stmt):
    """``s`` for ``s.push(v)`` or ``v = s.pop()`` on a local name, else None."""
    value = getattr(stmt, "value", None)
    if not (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
            and isinstance(value.func.value, gast.Name) and not value.keywords):
        return None
    if value.func.attr == "push" and isinstance(stmt, gast.Expr) and len(value.args) == 1:
        return value.func.value.id
    if value.func.attr == "pop" and isinstance(stmt, gast.Assign) and not value.args:
        return value.func.value.id
    return None
