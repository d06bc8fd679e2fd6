"""Adversarial construct families for the fuzzer in ``test_fuzz.py``.

Each family is one method of :class:`Families` (a mixin of the fuzzer's
``Generator``) that emits a few statements at the current indentation, over
the generator's variables (``self.vars``: name -> shape), and keeps
``self.vars`` true to what Python computes.  The families are the shapes of
program that broke in issue 10 -- every one uses only constructs that
README.md's "What srcad differentiates" lists:

=====================  ==================================================
``swap``               ``a, b = b, a`` and rotations, next to a loop or a
                       branch that reassigns one of the names
``alias``              a second name or a view (slice, row, ``reshape``,
                       ``.T``, a loop over rows) of an array made inside
                       the function, written through
``param_reshape``      a parameter reassigned, in a loop or a branch, to a
                       value of another shape
``concat``             ``+`` on tuples and lists, also ``t += (a,)`` and in
                       a ``*args`` callee
``container_mutation`` an array stored in a list, tuple or dict, then
                       written to (or written through the container)
``dict_overwrite``     dict entries overwritten in branches and loops,
                       around early returns
``where``              ``np.where`` whose branches broadcast (a branch
                       smaller than the result, scalar branches)
``decorator``          a call of a helper wrapped by a decorator (with and
                       without ``functools.wraps``)
``rebind``             a helper, or a global holding a NumPy function,
                       rebound after srcad transformed ``f`` (the checker
                       rebinds it and checks again)
``input_view_write``   a write through a view of a parameter (README: an
                       error; srcad must refuse it, never modify the input)
``call_effect``        calls that write into an argument (a helper that
                       writes into its parameter, directly, through a view
                       or with ``op=``; ``out=``; ``.sort()``/``.fill()``),
                       on arrays that carry derivatives (README: refused)
                       and on constant buffers (differentiated); helpers
                       with an integer loop bound; a helper's fresh result
                       next to ``+=`` on a float (F24, F26)
=====================  ==================================================

Where README says a construct is refused, the family records the line it
emits and the kind of refusal (``Families.document``); a refusal counts as
"refused as documented" in ``benchmarks/fuzz_long.py`` only when it is on
such a line with that kind's message (``DOCUMENTED_REFUSALS``).

Hessians through branches and loops are not a family: every program's
``hvp`` (and, for small inputs, ``hessian``) is checked.
"""

import re

STATEMENT_FAMILIES = ("swap", "alias", "param_reshape", "concat", "container_mutation",
                      "dict_overwrite", "where", "decorator", "rebind", "input_view_write",
                      "call_effect")

# families where a clean SrcadError is an acceptable answer (issue 10 allows
# "track it correctly or refuse it clearly"; for input_view_write it is the
# only right answer)
REFUSAL_OK = frozenset({"alias", "container_mutation", "decorator", "input_view_write",
                        "call_effect"})

#: the refusals README.md documents ("In-place updates" and "Calls that write
#: into their arguments"), by kind: the message each must start with (or contain)
DOCUMENTED_REFUSALS = {
    # a write another live name, view or container sees (also op= on an array)
    "alias": re.compile(r"^this line updates '[^']+' in place \((an element or slice assignment|"
                        r"an augmented assignment|a list append)\), but .+ may share memory with "
                        r"it and is read again"),
    # L[0][0] = v, d['w'][0] = v
    "element write": re.compile(r"^srcad does not differentiate a write into an element of '[^']+'"),
    # a call that writes into an argument that carries a derivative
    "call effect": re.compile(r"^this call (may write into|updates) '[^']+' in place"),
    # a call made as a statement, on a value that carries a derivative
    "statement call": re.compile(r"^srcad cannot follow the side effect of [\w.]+\(\.\.\.\) on a "
                                 r"value that depends on"),
    # a write into (a view of) a parameter: the caller's data must not change
    "input": re.compile(r"which is \(or may share memory with\) the argument '[^']+': the "
                        r"caller's data must not change"),
}


def documented(refusals, message, line):
    """Is a refusal with ``message`` on source ``line`` one that README
    documents and the program really makes there?  ``refusals``: the
    (kind, line) pairs the generator recorded."""
    line = (line or "").strip()
    if any(text == line and DOCUMENTED_REFUSALS[kind].search(message) for kind, text in refusals):
        return True
    # a call of a helper that writes into its parameter on a documented line
    # (a family emitted in the helper): refused at the call, quoting that line
    return bool(DOCUMENTED_REFUSALS["call effect"].search(message)) and any(
        kind in ("input", "alias") and f"`{text}`" in message for kind, text in refusals)

DECORATORS = '''
def twice(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def shifted(fn):
    def shifted_fn(*args, **kwargs):
        return fn(*args, **kwargs) + 1.0
    return shifted_fn
'''


class Families:
    """One method per construct family (see the module docstring)."""

    def family(self, name, loop_index=None):
        """Emit one statement group of family ``name``."""
        self.feature(name)
        getattr(self, "family_" + name)(loop_index)

    def document(self, kind, line):
        """Record that README says srcad refuses ``line`` (just emitted) with a
        ``kind`` refusal of DOCUMENTED_REFUSALS, when it refuses it."""
        self.root.__dict__.setdefault("documented", []).append((kind, line.strip()))

    # -- helpers shared by the families ---------------------------------------
    def _emit_refusable(self, kind, line):
        """Emit ``line``, which README says is refused (``kind``) where it writes
        memory another live name, or the caller, sees."""
        self.emit(line)
        self.document(kind, line)

    def _distinct(self, k, names=None):
        """``k`` distinct variable names (fewer if there are fewer)."""
        pool = list(self.vars if names is None else names)
        out = []
        while pool and len(out) < k:
            name = self.c.choice(pool)
            pool.remove(name)
            out.append(name)
        return out

    def _array_var(self):
        """A variable holding an array, made if there is none."""
        arrays = [n for n, s in self.vars.items() if s]
        if arrays:
            return self.c.choice(arrays)
        name = self.fresh()
        scalar = self.pick_var()
        shape = self.c.choice([(3,), (2, 3)])
        self.emit(f"{name} = np.ones({shape}) * {scalar}")
        self.vars[name] = shape
        return name

    def _index_for(self, shape):
        """An index into ``shape`` and the shape of the element it selects."""
        if shape == (3,):
            return self.c.choice([("0", ()), ("-1", ()), ("1:", (2,)), ("::2", (2,))])
        return self.c.choice([("0", (3,)), ("1, 2", ()), (":, 0", (2,)), ("-1, 1:", (2,))])

    def _value_for(self, shape):
        """An expression that fits into ``shape`` (scalars fit everywhere)."""
        if shape in ((), (3,), (2, 3)):
            text, _ = self.expression_into(shape)
            return text
        scalar = [n for n, s in self.vars.items() if s == ()]
        if scalar:
            return f"np.tanh({self.c.choice(scalar)})"
        return self._const()

    def _reassign(self, target, source):
        """``target = <from source>`` keeping ``target``'s shape."""
        if self.vars[source] == self.vars[target]:
            return f"{target} = {source} * {self._const()}"
        return f"{target} = {target} * {self._const()} + np.sum({source})"

    def _block(self, lines, kind=None):
        """Emit ``lines`` (assignments) inside a loop or a branch, or plainly;
        an ``else`` reassigns the first line's target.  Returns the kind."""
        kind = kind or self.c.choice(["for", "for", "if", "ifelse", "while", "plain"])
        body = list(lines)
        if kind == "for":
            self.emit(f"for {self.fresh('i')} in range({self.c.integer(1, 2)}):")
        elif kind in ("if", "ifelse"):
            self.emit(f"if {self.condition()} > 0:")
        elif kind == "while":
            counter = self.fresh("n")
            self.emit(f"{counter} = 0")
            self.emit(f"while {counter} < {self.c.integer(1, 2)}:")
            body.insert(0, f"{counter} = {counter} + 1")
        for line in body:
            self.emit(("" if kind == "plain" else "    ") + line)
        if kind == "ifelse":
            target = lines[0].split(" = ")[0]
            self.emit("else:")
            self.emit(f"    {target} = {target} * {self._const()}")
        return kind

    # -- the families -------------------------------------------------------------
    def family_swap(self, loop_index=None):
        """Swaps and rotations, then a loop or branch reassigning a swapped name."""
        if len(self.vars) < 2:
            self.assign()
        pool = None
        if self.indent > 1:                 # in a loop or branch: shapes must not depend on it
            shape = self.vars[self.pick_var()]
            pool = [n for n, s in self.vars.items() if s == shape]
            if len(pool) < 2:
                name = self.fresh()
                self.emit(f"{name} = {pool[0]} * {self._const()}")
                self.vars[name] = shape
                pool.append(name)
        names = self._distinct(3 if len(pool or self.vars) >= 3 and self.c.chance(40) else 2, pool)
        rotated = names[1:] + names[:1]
        self.emit(f"{', '.join(names)} = {', '.join(rotated)}")
        shapes = [self.vars[n] for n in rotated]
        for name, shape in zip(names, shapes):
            self.vars[name] = shape
        self.feature("swap/rotation" if len(names) == 3 else "swap/pair")
        if self.c.chance(80):
            target, source = names[0], names[1]
            lines = [self._reassign(target, source)]
            if self.c.chance(40):
                lines.append(self._reassign(source, target))
            self.feature("swap/then " + self._block(lines))

    def family_alias(self, loop_index=None):
        """A second name or a view of a local array, written through."""
        source = self._array_var()
        shape = self.vars[source]
        buf = self.fresh("buf")
        self.emit(f"{buf} = np.zeros({shape})" if self.c.chance(40) else f"{buf} = {source} * 1.0")
        self.vars[buf] = shape
        kind = self.c.choice(["name", "slice", "row", "reshape", "transpose", "rows", "augmented"])
        view = self.fresh("view")
        if kind == "rows" and shape == (2, 3):
            row = self.fresh("row")
            self.emit(f"for {row} in {buf}:")
            self._emit_refusable("alias", f"    {row}[0] = {row}[1] * {self._const()} + {self._value_for(())}")
        elif kind == "row" and shape == (2, 3):
            self.emit(f"{view} = {buf}[0]")
            self._emit_refusable("alias", f"{view}[1] = {self._value_for(())}")
        elif kind == "reshape":
            self.emit(f"{view} = {buf}.reshape(-1)")
            self._emit_refusable("alias", f"{view}[0] = {self._value_for(())}")
        elif kind == "transpose" and shape == (2, 3):
            self.emit(f"{view} = {buf}.T")
            self._emit_refusable("alias", f"{view}[0] = {self._value_for((2,))}")
        elif kind in ("slice", "augmented"):
            self.emit(f"{view} = {buf}[1:]")
            if kind == "augmented":
                self._emit_refusable("alias", f"{view} *= {self._const()}")
            else:
                self._emit_refusable("alias", f"{view}[0] = {self._value_for(())}")
        else:
            kind = "name"
            self.emit(f"{view} = {buf}")
            index, element = self._index_for(shape)
            self._emit_refusable("alias", f"{view}[{index}] = {self._value_for(element)}")
            self.vars[view] = shape
        self.feature("alias/" + kind)

    def family_param_reshape(self, loop_index=None):
        """A parameter reassigned to a value of another shape in a loop or branch."""
        params = [p for p in self.params if p in self.vars]
        if not params or self.indent > 1:   # in a loop or branch the shape would depend on it
            return self.assign()
        param = self.c.choice(params)
        others = [n for n, s in self.vars.items() if s != self.vars[param]]
        if not others:
            shape = self.c.choice([s for s in ((), (3,), (2, 3)) if s != self.vars[param]])
            line = f"{param} = np.ones({shape}) * np.sum({param})"
        else:
            source = self.c.choice(others)
            shape = self.vars[source]
            line = f"{param} = {source} * {self._const()}"
        kind = self.c.choice(["for", "ifelse", "while"])
        if kind == "ifelse":
            self.emit(f"if {self.condition()} > 0:")
            self.emit("    " + line)
            self.emit("else:")
            self.emit(f"    {param} = np.zeros({shape}) + {self._const()}")
        else:
            self._block([line], kind)
        self.vars[param] = shape
        self.feature("param_reshape/" + kind)

    def family_concat(self, loop_index=None):
        """``+`` on tuples and lists (and ``+=``, and in a ``*args`` callee)."""
        a, b = self.pick_var(), self.pick_var()
        kind = self.c.choice(["tuple", "list", "augmented", "loop", "varargs"])
        name, t = self.fresh(), self.fresh("t")
        if kind == "tuple":
            self.emit(f"{t} = ({a},) + ({b}, {self._const()})")
            self.emit(f"{name} = {t}[0] * {t}[1] + {t}[2]")
            shape = self._broadcast(self.vars[a], self.vars[b])
        elif kind == "list":
            self.emit(f"{t} = [{a}] + [{b} * {self._const()}, {self._const()}]")
            self.emit(f"{name} = sum({t}) + {t}[1]")
            shape = self._broadcast(self.vars[a], self.vars[b])
        elif kind == "augmented":
            self.emit(f"{t} = ({a},)")
            self.emit(f"{t} += ({b},)")
            self.emit(f"{name} = {t}[-1] * {t}[0]")
            shape = self._broadcast(self.vars[a], self.vars[b])
        elif kind == "loop":
            e = self.fresh("e")
            self.emit(f"{name} = 0.0")
            self.emit(f"for {e} in ({a}, {b}) + ({a} * {self._const()},):")
            self.emit(f"    {name} = {name} + np.sum({e})")
            shape = ()
        else:
            helper = self._varargs_helper()
            self.emit(f"{name} = {helper}({a}, {b})")
            shape = ()
        self.vars[name] = shape
        self.feature("concat/" + kind)

    def _varargs_helper(self):
        """A new ``*args`` helper that concatenates a tuple onto its ``xs``."""
        root = self.root
        name = f"h{next(root._helpers)}"
        text = (f"def {name}(*xs):\n"
                f"    ys = xs + (xs[0] * {self._const()},)\n"
                f"    total = 0.0\n"
                f"    for e in ys:\n"
                f"        total = total + np.sum(np.tanh(e))\n"
                f"    return total\n")
        root.helper_texts.append((name, text))
        return name

    @staticmethod
    def _broadcast(*shapes):
        import numpy as np
        return tuple(np.broadcast_shapes(*shapes))

    def family_container_mutation(self, loop_index=None):
        """An array stored in a list, tuple or dict, then written to."""
        source = self._array_var()
        shape = self.vars[source]
        buf, box, name = self.fresh("buf"), self.fresh("box"), self.fresh()
        self.emit(f"{buf} = {source} * 1.0")
        kind = self.c.choice(["append", "list", "tuple", "dict", "through list", "through dict"])
        if kind == "append":
            self.emit(f"{box} = []")
            self.emit(f"{box}.append({buf})")
            ref = f"{box}[0]"
        elif kind in ("list", "through list"):
            self.emit(f"{box} = [{buf}, {source}]")
            ref = f"{box}[0]"
        elif kind == "tuple":
            self.emit(f"{box} = ({buf}, {source})")
            ref = f"{box}[0]"
        else:
            self.emit(f"{box} = {{'w': {buf}, 'v': {source}}}")
            ref = f"{box}['w']"
        index, element = self._index_for(shape)
        target = ref if kind.startswith("through") else buf
        self._emit_refusable("element write" if kind.startswith("through") else "alias",
                             f"{target}[{index}] = {self._value_for(element)}")
        self.emit(f"{name} = np.sum({ref} * {self._const()}) + np.sum({buf})")
        self.vars[name] = ()
        self.feature("container_mutation/" + kind)

    def family_dict_overwrite(self, loop_index=None):
        """Dict entries overwritten in a branch or loop, around early returns."""
        a, b = self.pick_var(), self.pick_var()
        d, name = self.fresh("d"), self.fresh()
        self.emit(f"{d} = {{'k1': {a} * {self._const()}, 'k2': {b}}}")
        kind = self.c.choice(["branch", "branch", "loop", "new key", "items"])
        if kind == "branch":
            self.emit(f"if {self.condition()} > 0:")
            value, value_shape = self.c.choice([
                (self._const(), ()), (f"{d}['k1'] * {self._const()}", self.vars[a]),
                (f"{d}['k2'] * {self._const()}", self.vars[b])])
            self.emit(f"    {d}['k1'] = {value}")
            if self.depth == 0 and self.c.chance(50):
                self.emit(f"    return np.sum({d}['k1']) * {self._const()}")
                self.feature("dict_overwrite/early return")
            if value_shape == self.vars[a]:
                self.emit(f"{name} = {d}['k1'] * 1.0")
                shape = value_shape
            else:                       # d['k1'] has one shape or the other: reduce it
                self.emit(f"{name} = np.sum({d}['k1']) * 1.0")
                shape = ()
        elif kind == "loop":
            self.emit(f"for {self.fresh('i')} in range({self.c.integer(1, 3)}):")
            self.emit(f"    {d}['k1'] = {d}['k1'] * {self._const()} + np.sum({d}['k2'])")
            self.emit(f"{name} = {d}['k1'] + {d}.get('k3', 0.0)")
            shape = self.vars[a]
        elif kind == "new key":
            self.emit(f"if {self.condition()} > 0:")
            self.emit(f"    {d}['k3'] = np.sum({d}['k2']) * {self._const()}")
            self.emit(f"{d}['k2'] = {d}['k1'] * {self._const()}")
            self.emit(f"{name} = {d}.get('k3', 1.0) * np.sum({d}['k2'])")
            shape = ()
        else:
            key, value = self.fresh("k"), self.fresh("val")
            self.emit(f"{d}['k1'] = {self._const()}")
            self.emit(f"{name} = 0.0")
            self.emit(f"for {key}, {value} in {d}.items():")
            self.emit(f"    {name} = {name} + np.sum({value})")
            shape = ()
        self.vars[name] = shape
        self.feature("dict_overwrite/" + kind)

    def family_where(self, loop_index=None):
        """``np.where`` with branches that broadcast against the condition."""
        a = self.pick_var()
        sa = self.vars[a]
        test = self.fresh("c")
        self.emit(f"{test} = {a} - {self._const()}")       # an array test: margins per element
        b = self.pick_var()
        shapes = [s for s in ((), (3,), (2, 3)) if s != sa]
        small = self.c.choice(shapes) if shapes else ()
        kind = self.c.choice(["ones branch", "scalar branch", "zeros branch", "both vars"])
        if kind == "ones branch":
            first, second = f"np.ones({small})", b
            branch_shapes = [small, self.vars[b]]
        elif kind == "scalar branch":
            first, second = self._const(), f"{b} * {self._const()}"
            branch_shapes = [(), self.vars[b]]
        elif kind == "zeros branch":
            first, second = f"np.tanh({b})", f"np.zeros({small})"
            branch_shapes = [self.vars[b], small]
        else:
            other = self.pick_var()
            first, second = f"{b} * {self._const()}", other
            branch_shapes = [self.vars[b], self.vars[other]]
        if self.c.chance(50):
            first, second = second, first
        shape = self._broadcast(sa, *branch_shapes)
        name = self.fresh()
        self.emit(f"{name} = np.where({test} > 0, {first}, {second})")
        self.vars[name] = shape
        if shape and self.c.chance(40):
            element = self.fresh()
            self.emit(f"{element} = {name}[0]")
            self.vars[element] = shape[1:]
            self.feature("where/indexed")
        self.feature("where/" + kind)

    def family_decorator(self, loop_index=None):
        """A call of a helper wrapped by ``@twice`` (functools.wraps) or ``@shifted``."""
        if not (self.allow_helpers and self.depth < 2):
            return self.assign(loop_index)
        root = self.root
        arg = self.pick_var()
        helper = self._new_helper((self.vars[arg],))
        decorator = self.c.choice(["twice", "shifted"])
        index = [n for n, _ in root.helper_texts].index(helper)
        root.helper_texts[index] = (helper, f"@{decorator}\n" + root.helper_texts[index][1])
        root.module_header.append(DECORATORS)
        name = self.fresh()
        self.emit(f"{name} = {helper}({arg})")
        self.vars[name] = root.helper_shapes[helper][1]
        self.feature("decorator/" + decorator)

    def family_rebind(self, loop_index=None):
        """A global NumPy function or a helper that the checker rebinds later."""
        root = self.root
        arg = self.pick_var()
        name = self.fresh()
        if self.c.chance(50) or not (self.allow_helpers and self.depth < 2):
            act = f"act{next(root._helpers)}"
            old, new = self.c.choice([("np.tanh", "np.sin"), ("np.sin", "np.cos"),
                                      ("np.exp", "np.square"), ("np.square", "np.tanh")])
            root.module_header.append(f"{act} = {old}\n")
            root.rebind.append(f"{act} = {new}")
            self.emit(f"{name} = {act}({arg} * 0.5)")
            self.vars[name] = self.vars[arg]
            self.feature("rebind/global numpy function")
            return
        shapes = (self.vars[arg],)
        helper = self._new_helper(shapes)
        entry = root.helper_shapes.pop(helper)     # the alternative must not call it
        out = entry[1]
        for _ in range(6):                          # an alternative of the same result shape
            alt = self._new_helper(shapes)
            if root.helper_shapes[alt][1] == out:
                break
        else:
            alt = None
        root.helper_shapes[helper] = entry
        if alt is None:
            self.emit(f"{name} = {helper}({arg})")
        else:
            new = "g" + alt[1:]
            del root.helper_shapes[alt]             # not to be called by its old name
            root.helper_texts = [(n if n != alt else new,
                                  t.replace(f"def {alt}(", f"def {new}(") if n == alt else t)
                                 for n, t in root.helper_texts]
            root.rebind.append(f"{helper} = {new}")
            root.rebind.append(f"{helper}_probe = {new}_probe")
            self.emit(f"{name} = {helper}({arg})")
            self.feature("rebind/helper")
        self.vars[name] = out

    def family_input_view_write(self, loop_index=None):
        """A write through a view of a parameter: README says srcad refuses it."""
        # the parameter may have been reassigned before: then the write is legal
        # and must not be refused (the checker tells the two cases apart)
        params = [p for p in self.params if self.vars.get(p) in ((3,), (2, 3))]
        if not params:
            return self.assign(loop_index)
        param = self.c.choice(params)
        shape = self.vars[param]
        view = self.fresh("view")
        form = self.c.choice(["np.asarray({})", "{}.reshape(-1)", "np.ravel({})", "{}.ravel()",
                              "np.flip({})", "np.atleast_1d({})", "{}[1:]", "{}.squeeze()",
                              "np.moveaxis({}, 0, -1)", "{}.T", "np.reshape({}, (-1,))",
                              "np.squeeze({})", "np.transpose({})",
                              "np.atleast_2d({})", "{}.view()"])
        self.emit(f"{view} = {form.format(param)}")
        if len(shape) == 1 or "reshape" in form or "ravel" in form:
            element = ()
        elif "T" in form or "transpose" in form or "moveaxis" in form:
            element = (2,)
        else:
            element = (3,)
        line = f"{view}[0] = {self._value_for(element)}"
        self._emit_refusable("input", line)
        self.document("alias", line)        # when the parameter now names a local
        self.feature("input_view_write/" + form.format("x"))

    def family_call_effect(self, loop_index=None):
        """Calls that write into their arguments, and calls that must not be taken to.

        Refused (README): a helper that writes into its parameter (directly, or
        through a view), ``out=`` and ``.sort()``/``.fill()`` on an array that
        carries a derivative, and a helper's ``p += ...`` on an array argument
        read again.  Differentiated: the same writes into a constant buffer,
        ``p += ...`` on a float argument, a helper with an integer loop bound,
        ``+=`` on a float next to a helper's fresh result (F26)."""
        helpers = self.allow_helpers and self.depth < 2
        kinds = ["out", "method", "constant buffer"]
        if helpers:
            kinds += ["writes", "writes via view", "augments", "int bound", "fresh result"]
        kind = self.c.choice(kinds)
        if kind == "augments" and self.c.chance(50):
            kind = "augments a float"
        source = self.pick_var(()) if kind in ("augments a float", "fresh result") \
            else self._array_var()
        if source is None:
            return self.assign(loop_index)
        shape = self.vars[source]
        buf, name = self.fresh("buf"), self.fresh()
        if kind in ("writes", "writes via view", "augments", "augments a float"):
            helper = self._writing_helper(kind)
            self.emit(f"{buf} = {source} * 1.0")
            statement = self.c.chance(30) and kind != "augments a float"   # README: a call
            line = f"{helper}({buf})" if statement else f"{self.fresh('t')} = {helper}({buf})"
            if kind == "augments a float":
                self.emit(line)                     # p += ... on a float: a new value
            else:
                self._emit_refusable("call effect", line)
                if statement:
                    self.document("statement call", line)
            self.emit(f"{name} = np.sum({buf} * {self._const()})")
            self.vars[buf], self.vars[name] = shape, ()
        elif kind == "out":
            self.emit(f"{buf} = np.zeros({shape})")
            fn = self.c.choice(["np.multiply({}, {}, out={})", "np.add({}, {}, out={})"])
            call = fn.format(source, self._const(), buf)
            line = call if self.c.chance(50) else f"{self.fresh('t')} = {call}"
            self._emit_refusable("call effect", line)
            self.emit(f"{name} = {buf} * {self._const()}")
            self.vars[name] = shape
        elif kind == "method":
            self.emit(f"{buf} = {source} * 1.0")
            method = self.c.choice(["sort()", f"fill({self._const()})"])
            self._emit_refusable("call effect", f"{buf}.{method}")
            self.emit(f"{name} = {buf} * {self._const()}")
            self.vars[name] = shape
        elif kind == "constant buffer":
            self.emit(f"{buf} = np.ones({shape})")
            how = self.c.choice(["out", "fill", "helper"] if helpers else ["out", "fill"])
            if how == "out":
                self.emit(f"np.multiply({buf}, {self._const()}, out={buf})")
            elif how == "fill":
                self.emit(f"{buf}.fill({self._const()})")
            else:
                self.emit(f"{self._writing_helper('writes')}({buf})")
            self.emit(f"{name} = {source} * {buf}")
            self.vars[name] = shape
        elif kind == "int bound":
            helper = self._int_bound_helper()
            self.emit(f"{name} = {helper}({source}, {self.c.integer(0, 3)})")
            self.vars[name] = shape
        else:                                       # fresh result next to += on a float
            helper = self._fresh_result_helper()
            self.emit(f"{name} = {helper}({source})")
            self.emit(f"{source} += np.cos({name})")
            self.vars[name] = ()
        self.feature("call_effect/" + kind)

    def _helper_name(self):
        return f"h{next(self.root._helpers)}"

    def _writing_helper(self, kind):
        """A helper that writes into its parameter (or ``p += ...`` on it)."""
        name, c = self._helper_name(), self._const()
        if kind == "writes":
            body = f"    p0[0] = {c}\n"
        elif kind == "writes via view":
            view = self.c.choice(["p0[1:]", "np.flip(p0)", "p0.reshape(-1)"])
            body = f"    v = {view}\n    v[0] = {c}\n"
        else:
            body = f"    p0 += {c}\n"
        ret = "    return np.sum(p0 * p0) * 0.5\n" if self.c.chance(70) else ""
        self.root.helper_texts.append((name, f"def {name}(p0):\n{body}{ret}"))
        return name

    def _int_bound_helper(self):
        """A helper whose integer parameter is a loop bound (constant at the call)."""
        name = self._helper_name()
        self.root.helper_texts.append((name, (
            f"def {name}(p0, n, scale=1.0):\n"
            f"    s = p0 * 0.0\n"
            f"    for i in range(n):\n"
            f"        s = s + np.tanh(p0 * {self._const()}) * (i + 1)\n"
            f"    return s * scale\n")))
        return name

    def _fresh_result_helper(self):
        """A helper whose result is a new value (or its own argument, a float here)."""
        name = self._helper_name()
        body = self.c.choice([f"    v = np.where(p0 > 0, np.ones(3), p0 * {self._const()})\n"
                              f"    return v[0]\n",
                              f"    return p0 * {self._const()}\n",
                              "    return p0\n"])
        self.root.helper_texts.append((name, f"def {name}(p0):\n{body}"))
        return name
