"""Stage 6, codegen: gast tree -> source text -> a real Python function.

The tree is printed with the standard library's ``ast.unparse`` (see
docs/architecture.md for why not astunparse), comments are put in, and the
text is compiled inside a small factory function whose parameters are the
names the generated code needs from outside: the user's closure variables
(bound to the user's own cells, so they stay live) and srcad's helpers.  The
result is an ordinary function whose globals are the user's module globals,
so reading a global costs what it costs in the user's code and sees its
current value.  The source is registered with ``linecache`` so tracebacks,
``inspect.getsource`` and debuggers show the generated lines.

Where each generated line comes from.  :func:`render` also produces an
*annotated* copy of the text, identical line for line, in which every
generated statement ends with a comment quoting the user's line it comes from::

    dp = dg * z  # <- model.py:6: g = p * z

That copy is what is compiled and registered with ``linecache``, so an error
raised inside generated code (a shape mismatch, a domain error) shows, in the
traceback, the generated line *and* the user's line next to it, at no cost
at run time.  ``.source`` keeps the clean text.  The origin of a statement is
its ``lineno`` in the forward sweep (normalized statements keep the location
of the user's statement) and, in the reverse sweep, the block comment it
follows (each block says which user line it reverses); see :class:`Origins`.
"""

import ast
import itertools
import linecache
import os
import types
import weakref

import gast

_counter = itertools.count(1)

_COMMENT = "srcad_comment_"
_QUOTE_WIDTH = 80          # longer user lines are shortened in annotations


def to_source(fdef):
    """The source text of a generated gast FunctionDef, with its comments."""
    return render(fdef)[0]


def render(fdef, source=None, *, reverse=False, context=(), span=None):
    """``(text, annotated)``: the source of a generated gast FunctionDef.

    ``source`` (a :class:`srcad.parse.Source`, the user's file) turns on the
    annotations; without it both texts are the same.  ``reverse``: the body
    is a reverse sweep from its first line (the reverse half of a split
    callee); ``context``: other generated trees of the same user function
    (its forward half), whose user lines help place the reverse blocks;
    ``span``: the first and last line of the user's function, searched for a
    block's text when no generated statement comes from that line.
    ``fdef`` is not modified: compound statements whose bodies are rewritten
    are copied shallowly.
    """
    quotes = {}
    if source is not None:
        quotes = Origins(fdef, source, context, span).annotations(fdef.body, reverse=reverse)
    comments, notes = [], []

    def marker(prefix, index):
        return gast.Expr(value=gast.Name(id=f"{prefix}{index}", ctx=gast.Load(),
                                         annotation=None, type_comment=None))

    def lower(stmts, in_orelse=False):
        out = []
        for stmt in stmts:
            original = stmt
            if not isinstance(stmt, gast.AST):          # a Comment
                comments.append(stmt.text)
                out.append(marker(_COMMENT, len(comments) - 1))
                continue
            quote = None if getattr(stmt, "srcad_no_origin", False) else quotes.get(id(stmt))
            if any(isinstance(getattr(stmt, f, None), list) for f in ("body", "orelse")):
                stmt = _shallow(stmt)
                stmt.body = lower(stmt.body)
                if isinstance(getattr(stmt, "orelse", None), list):
                    stmt.orelse = lower(stmt.orelse, in_orelse=len(stmt.orelse) == 1)
                if isinstance(stmt, (gast.If, gast.For, gast.While)) and not stmt.body:
                    stmt.body = [gast.Pass()]
            # an If alone in an else prints as ``elif``: it takes no note.  A
            # note travels as a negative lineno on a copy of the statement:
            # nothing reads linenos when printing, and no marker node costs time.
            if quote is not None and not (in_orelse and isinstance(stmt, gast.If)):
                notes.append(quote)
                if stmt is original:
                    stmt = _shallow(stmt)
                stmt.lineno = -len(notes)
            out.append(stmt)
        return out

    tree = _shallow(fdef)
    tree.body = lower(fdef.body)
    module = gast.Module(body=[tree], type_ignores=[])
    printer = _Printer(comments, notes)
    lines = printer.visit(to_ast(module)).split("\n")
    text = "\n".join(lines) + "\n"
    for index, note in printer.line_notes.items():
        lines[index] += f"  # <- {note}"
    return text, "\n".join(lines) + "\n"


try:
    _Unparser, _Precedence = ast._Unparser, ast._Precedence     # Python 3.9 - 3.13
except AttributeError:                              # pragma: no cover - 3.14 moved them
    from _ast_unparse import Unparser as _Unparser, _Precedence


class _Printer(_Unparser):
    """``ast.unparse`` that prints comment markers as comments and records
    which output line each annotated statement starts on (``line_notes``).

    Every output line starts with ``fill`` (the generated code has no
    multi-line strings), so counting the newlines ``fill`` writes gives the
    line number of each statement at no extra cost.  A statement with a
    negative ``lineno`` ``-k`` carries note ``k - 1``.  Generated code has no
    type comments, so no location is ever read otherwise (and the tree needs
    no ``fix_missing_locations``).
    """

    def __init__(self, comments=(), notes=(), **options):
        super().__init__(**options)     # (ast's f-string printing makes inner printers)
        self._comments, self._notes = comments, notes
        self._line = 0
        self._pending = None
        self.line_notes = {}

    def maybe_newline(self):
        if self._source:
            self._line += 1
        super().maybe_newline()

    def fill(self, text=""):
        self.maybe_newline()
        if self._pending is not None:
            self.line_notes[self._line] = self._pending
            self._pending = None
        self.write("    " * self._indent + text)

    def get_type_comment(self, node):
        return None

    # Python 3.11's tuple printing, also on 3.10: ``a, b = f(x)`` and
    # ``for i, x in ...`` without parentheses (3.10 wraps every tuple).
    def visit_Tuple(self, node):
        bare = node.elts and self.get_precedence(node) <= _Precedence.TUPLE
        with self.delimit_if("(", ")", not bare):
            self.items_view(self.traverse, node.elts)

    def visit_Assign(self, node):
        for target in node.targets:
            self.set_precedence(_Precedence.TUPLE, target)
        super().visit_Assign(node)

    def _for_helper(self, fill, node):
        self.set_precedence(_Precedence.TUPLE, node.target)
        super()._for_helper(fill, node)

    def traverse(self, node):
        if isinstance(node, list):
            for item in node:
                self.traverse(item)
            return
        if isinstance(node, ast.stmt):
            lineno = getattr(node, "lineno", None)
            if lineno is not None and lineno < 0:
                self._pending = self._notes[-lineno - 1]
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Name):
                marker = node.value.id
                if marker.startswith(_COMMENT):
                    self.fill("# " + self._comments[int(marker[len(_COMMENT):])])
                    return
        # _Unparser.traverse and then NodeVisitor.visit, in one call: a
        # long gradient has hundreds of thousands of nodes to print
        getattr(self, "visit_" + type(node).__name__, self.generic_visit)(node)


_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
#: the nodes without fields (contexts, operators) -> one ast node of each,
#: shared by every place that has one (as in the trees ``ast.parse`` makes)
_CONTEXTS = {getattr(gast, name): getattr(ast, name)() for name in (
    "Load", "Store", "Del", "And", "Or", "Add", "Sub", "Mult", "MatMult", "Div", "Mod", "Pow",
    "LShift", "RShift", "BitOr", "BitXor", "BitAnd", "FloorDiv", "Invert", "Not", "UAdd", "USub",
    "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is", "IsNot", "In", "NotIn")}
_AST_CLASSES = {}
_Name, _Param, _AST = gast.Name, gast.Param, gast.AST


def to_ast(node):
    """The standard-library ``ast`` tree of a gast tree, for printing.

    Does what ``gast.gast_to_ast`` does for the trees srcad generates (gast
    nodes are ast nodes with a few more fields; a parameter is a ``Name``
    with a ``Param`` context, an ``ExceptHandler`` names a ``Name``), in one
    loop over each node's fields instead of a visitor method per node, and
    without ``ast``'s constructors (a new node gets its fields as its
    ``__dict__``, as :func:`srcad.trees.to_gast` makes gast nodes): printing a
    long gradient spent more time converting than printing.
    """
    if type(node) is list:
        return [to_ast(item) if isinstance(item, _AST) else item for item in node]
    if not isinstance(node, _AST):
        return node
    kind = type(node)
    if kind in _CONTEXTS:
        return _CONTEXTS[kind]
    found = node.__dict__
    if kind is _Name:
        if type(node.ctx) is _Param:
            cls, fields = ast.arg, {"arg": node.id, "annotation": to_ast(node.annotation),
                                    "type_comment": node.type_comment}
        else:
            cls, fields = ast.Name, {"id": node.id, "ctx": _CONTEXTS[type(node.ctx)]}
    else:
        cls = _AST_CLASSES.get(kind)
        if cls is None:
            cls = _AST_CLASSES[kind] = getattr(ast, kind.__name__)
        fields = {}
        for f in cls._fields:
            value = getattr(node, f, None)
            fields[f] = to_ast(value) if type(value) is list or isinstance(value, _AST) else value
        if kind is gast.ExceptHandler and isinstance(node.name, _Name):
            fields["name"] = node.name.id
    for attr in _LOCATION:
        if attr in found:
            fields[attr] = found[attr]
    new = cls.__new__(cls)
    new.__dict__ = fields
    return new


def _shallow(node):
    """A copy of ``node`` sharing its children (and its extra attributes),
    made without gast's constructor (render copies every annotated statement)."""
    cls = type(node)
    new = cls.__new__(cls)
    attrs = new.__dict__
    attrs.update(node.__dict__)
    for f in cls._fields:
        if f not in attrs:
            attrs[f] = None
    return new


class Origin:
    """A place in the user's code: file, line number(s) and the line's text.

    ``lines`` holds several numbers when a reverse block quotes a text that
    appears on several lines of the function and the block carries no line
    number: the annotation then says ``line 6 or 9`` rather than guess.
    """

    def __init__(self, filename, lines, text):
        self.filename = filename
        self.lines = tuple(lines)
        self.text = text

    @property
    def lineno(self):
        """The line number, or None when unknown or ambiguous."""
        return self.lines[0] if len(self.lines) == 1 else None

    def _where(self):
        return " or ".join(str(n) for n in self.lines) or "?"

    def __str__(self):
        """Short form for annotations: ``model.py:6: g = p * z``."""
        text = self.text
        if len(text) > _QUOTE_WIDTH:
            text = text[:_QUOTE_WIDTH - 3] + "..."
        return f"{os.path.basename(self.filename)}:{self._where()}: {text}"

    def location(self):
        """Long form for messages: ``/path/to/model.py:6: g = p * z``."""
        return f"{self.filename}:{self._where()}: {self.text}"


class Origins:
    """Finds the user line each statement of a generated function comes from.

    * A statement of the forward sweep keeps the ``lineno`` (and
      ``end_lineno``) of the user statement the normalizer made it from.
    * A statement of the reverse sweep belongs to the block comment before it,
      which quotes the user's line (``# g = p * z``).  A comment with a
      ``lineno`` attribute gives the number directly; otherwise the quoted
      text is looked up among the user lines the forward sweep comes from,
      then among the lines of the function (``span``).
      Inside a reversed branch or loop, statements before the first block
      comment belong to the branch or loop, and so do those after its end
      until the next comment.
    * Helper statements (stacks, ``check_scalar``) have no origin.
    """

    def __init__(self, fdef, source, context=(), span=None):
        self.source = source
        self.span = span
        self._texts = {}                  # (first, last) -> text: a user line makes several statements
        self.by_text = {}                 # user text -> line numbers
        for stmt in _statements([s for tree in (fdef, *context) for s in tree.body]):
            lineno = getattr(stmt, "lineno", None)
            if isinstance(lineno, int):
                for text in {self.text(lineno, _end(stmt)), self.text(lineno, lineno)}:
                    if text:
                        self.by_text.setdefault(text, set()).add(lineno)

    def text(self, first, last):
        """The user's lines ``first``..``last`` on one line, stripped."""
        found = self._texts.get((first, last))
        if found is None:
            lines = [self.source.line(n) or "" for n in range(first, last + 1)]
            found = self._texts[first, last] = " ".join(line.strip() for line in lines).strip()
        return found

    def of_comment(self, comment):
        text = comment.text.strip()
        lineno = getattr(comment, "lineno", None)
        if isinstance(lineno, int):
            lines = [lineno]
        else:
            lines = sorted(self.by_text.get(text, ())) or self._search(text)
        return Origin(self.source.filename, lines, text)

    def _search(self, text):
        """The lines of the user's function that read ``text`` (first lines
        of multi-line statements included)."""
        if not self.span or None in self.span:
            return []
        first, last = self.span
        exact, starts = [], []
        for n in range(first, last + 1):
            line = (self.source.line(n) or "").strip()
            if line and line == text:
                exact.append(n)
            elif line and text.startswith(line + " "):
                starts.append(n)
        return exact or starts

    def of_statement(self, stmt):
        lineno = getattr(stmt, "lineno", None)
        if not isinstance(lineno, int):
            return None
        text = self.text(lineno, _end(stmt))
        return Origin(self.source.filename, [lineno], text) if text else None

    def walk(self, stmts, reverse=False):
        """``(item, origin or None, in_reverse_sweep)`` for every statement
        and comment of ``stmts`` and of the bodies nested in them, in order;
        ``reverse``: ``stmts`` start in a reverse sweep."""
        state = {"current": None, "reverse": reverse}
        yield from self._walk(stmts, state)

    def _walk(self, stmts, state):
        for stmt in stmts:
            if not isinstance(stmt, gast.AST):                # a Comment
                if getattr(stmt, "header", False):
                    state["reverse"] = stmt.text.strip() == "reverse sweep"
                    state["current"] = None
                else:
                    state["current"] = self.of_comment(stmt)
                yield stmt, state["current"], state["reverse"]
                continue
            reverse = state["reverse"]
            if isinstance(stmt, gast.Return):
                origin = None if reverse else self.of_statement(stmt)
            else:
                origin = state["current"] if reverse else self.of_statement(stmt)
            yield stmt, origin, reverse
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    state["current"] = origin
                    yield from self._walk(inner, state)
            if reverse:
                state["current"] = origin

    def annotations(self, stmts, reverse=False):
        """``{id(stmt): "file:line: text"}`` for every statement with an origin
        (each origin written once: the statements of a user line share it)."""
        notes, written = {}, {}
        for stmt, origin, _ in self.walk(stmts, reverse):
            if isinstance(stmt, gast.AST) and origin is not None:
                key = (origin.lines, origin.text)
                note = written.get(key)
                if note is None:
                    note = written[key] = str(origin)
                notes[id(stmt)] = note
        return notes


def _end(stmt):
    if isinstance(stmt, (gast.If, gast.For, gast.While)):
        return stmt.lineno                # the header line only
    end = getattr(stmt, "end_lineno", None)
    return end if isinstance(end, int) and end >= stmt.lineno else stmt.lineno


def _statements(stmts):
    for stmt in stmts:
        if isinstance(stmt, gast.AST):
            yield stmt
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    yield from _statements(inner)


def _cell(obj):
    """A closure cell holding ``obj``; a cell is passed on as is (it may be
    filled later, for a recursive function's own forward/reverse pair)."""
    return obj if isinstance(obj, types.CellType) else types.CellType(obj)


def compile_function(source, name, *, user_globals, user_cells, helpers,
                     defaults=None, kwdefaults=None, origin="", annotated=None):
    """Compile ``source`` (one def named ``name``) into a function.

    ``user_cells``: the differentiated function's closure cells by name;
    ``helpers``: other objects the code reads by name, given fresh cells;
    ``annotated``: the same code with user-line comments (from :func:`render`),
    compiled and registered with ``linecache`` in place of ``source`` so that
    tracebacks quote the user's lines.
    """
    if annotated is not None:
        if annotated.count("\n") != source.count("\n"):
            raise ValueError("annotated source must have the lines of the source")
        source = annotated
    free = sorted((set(user_cells) | set(helpers)) - {name})
    header = f"# srcad generated from {origin}\n" if origin else ""
    module_text = (header + f"def srcad_factory({', '.join(free)}):\n"
                   + "".join("    " + line if line.strip() else line
                             for line in source.splitlines(True))
                   + f"    return {name}\n")
    filename = f"<srcad {name} #{next(_counter)}>"
    code = compile(module_text, filename, "exec")
    factory = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    inner = next(c for c in factory.co_consts
                 if isinstance(c, types.CodeType) and c.co_name == name)
    closure = tuple(user_cells[n] if n in user_cells else _cell(helpers[n])
                    for n in inner.co_freevars)
    fn = types.FunctionType(inner, user_globals, name, defaults, closure or None)
    if kwdefaults:
        fn.__kwdefaults__ = dict(kwdefaults)
    linecache.cache[filename] = (len(module_text), None, module_text.splitlines(True), filename)
    weakref.finalize(fn, linecache.cache.pop, filename, None)   # dies with the function
    return fn
