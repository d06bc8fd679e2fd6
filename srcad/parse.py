"""Stage 1, parse: a Python function -> its gast tree, names and locations.

``parse_function(f)`` finds ``f``'s source, parses it with gast, strips
decorators, turns a lambda into an equivalent ``def``, and shifts line and
column numbers so that every node points at the user's real file (a function
lifted out of another by srcad/lift.py brings its tree along instead).  The
:class:`Namespace` resolves the names the body reads (closure, globals,
builtins) so later stages can tell ``np.sin`` from a local variable.
:class:`Source` renders errors with the source line and a caret.
"""

import ast
import builtins
import copy
import functools
import inspect
import linecache
import os
import site
import sysconfig
import textwrap
import threading
import weakref

import gast

from srcad import caches
from srcad.errors import SourceUnavailableError, UnsupportedSyntaxError
from srcad.trees import to_gast, walk


class Source:
    """Where a function's code lives, for error messages that point at it."""

    def __init__(self, filename, name):
        self.filename = filename
        self.name = name

    def line(self, lineno):
        return linecache.getline(self.filename, lineno) or None

    def error(self, cls, message, node=None, hint=None):
        """An error of class ``cls`` located at ``node`` (a gast node or None)."""
        lineno = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        return cls(message, filename=self.filename, lineno=lineno, col=col,
                   source_line=self.line(lineno) if lineno else None, hint=hint)


class Namespace:
    """Resolves the free names of a function: closure cells, globals, builtins.

    Globals and closure variables are constants for differentiation; they are
    looked up here only to find out *what* a name is (a module, a NumPy
    function, a user function), never to freeze its value into generated code.
    Every lookup is recorded in ``facts`` (see srcad/caches.py): what a name
    was when srcad read it, so a cached derivative can tell that the name was
    rebound since.
    """

    _missing = object()

    def __init__(self, func):
        self.globals = func.__globals__
        self.closure = {}
        self.cells = {}
        self.facts = caches.Facts()
        code = func.__code__
        for name, cell in zip(code.co_freevars, func.__closure__ or ()):
            self.cells[name] = cell
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:       # a cell not yet filled (defined later)
                pass

    def lookup(self, name, default=_missing, record_missing=True):
        """What ``name`` is bound to (``default`` if nothing).  ``record_missing``:
        also record that the name was unbound (srcad's own helper names, which
        generated code reads from cells when the user binds nothing, need not)."""
        if name in self.closure:
            found = self.closure[name]
            self.facts.cell(name, self.cells.get(name), found)
            return found
        if name in self.globals:
            found = self.globals[name]
            self.facts.entry(name, self.globals, found)
            return found
        if name in vars(builtins):
            found = vars(builtins)[name]
            self.facts.entry(name, self.globals, caches.MISSING)
            self.facts.entry(name, vars(builtins), found)
            return found
        if record_missing:
            self.facts.entry(name, self.globals, caches.MISSING)
        if default is self._missing:
            raise KeyError(name)
        return default

    def attribute(self, base, attr, path):
        """``getattr(base, attr, None)``, recorded (``path``: ``np.tanh``)."""
        found = getattr(base, attr, None)
        self.facts.attribute(path, base, attr, found)
        return found

    def has(self, name):
        return self.lookup(name, None) is not None or name in self.globals


#: top-level packages whose functions are library code wherever they are installed
LIBRARY_PACKAGES = {"numpy", "scipy"}
#: library functions whose published source srcad reads and differentiates like
#: the user's (plain array-API code, srcad/namespaces.py), by (module, qualname)
READ_LIBRARY_FUNCTIONS = {("scipy.optimize._optimize", "rosen")}


@functools.cache
def _library_directories():
    """The standard library and site-packages directories: code there is not the user's."""
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    try:
        dirs.update(site.getsitepackages())
        dirs.add(site.getusersitepackages())
    except AttributeError:              # a virtualenv's old site.py
        pass
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs if d)


def is_library_function(func):
    """True for a Python function of NumPy, SciPy, the standard library or an
    installed package.  srcad differentiates the user's source only: such a
    function is a primitive, which needs a rule, and its source is never read
    (it may use constructs srcad refuses, and an error would point into it).
    srcad's own runtime helpers are not library code: generated gradients call
    them, and higher derivatives read their source."""
    func = getattr(func, "__func__", func)
    if getattr(func, "srcad_opaque", False):    # a helper of srcad's whose source is no model
        return True
    module = getattr(func, "__module__", None) or ""
    top = module.partition(".")[0]
    if top == "srcad" or getattr(func, "srcad_mode", None) is not None \
            or getattr(func, "srcad_nested", None) is not None:
        return False
    if (module, getattr(func, "__qualname__", None)) in READ_LIBRARY_FUNCTIONS:
        return False
    if top in LIBRARY_PACKAGES:
        return True
    code = getattr(func, "__code__", None)
    if code is None or code.co_filename.startswith("<"):
        return False
    return os.path.realpath(code.co_filename).startswith(_library_directories())


class ParsedFunction:
    """The parsed ``def`` of a function together with its context."""

    def __init__(self, func, node, source, namespace):
        self.func = func
        self.node = node            # gast.FunctionDef, locations in the real file
        self.source = source        # Source, for errors
        self.namespace = namespace  # Namespace, for name resolution


def parse_function(func):
    """Parse ``func`` into a :class:`ParsedFunction`: its own tree, which the
    caller may rewrite (the tree :func:`read_function` kept, if it kept one)."""
    with _kept_lock:
        kept = _kept[0]
        if kept is not None and kept[0]() is func and kept[1] is func.__code__:
            _kept[0] = None
        else:
            kept = None
    node, source = kept[2:] if kept is not None else _read_tree(func, copy.deepcopy)
    return ParsedFunction(func, node, source, Namespace(func))


#: the one tree :func:`read_function` parsed last, for the next parse of its
#: function: ``(weak reference to the function, its code, tree, Source)``
_kept = [None]
_kept_lock = threading.Lock()


def read_function(func):
    """``func``'s gast FunctionDef for a caller that only reads it and must
    not change it (which parameters the body calls, srcad/calls.py).

    ``srcad.grad(f)`` asks that before it parses ``f`` for the pipeline, and
    reading, parsing and locating a long function's source costs a tenth of
    its transformation: so the tree is kept for the next
    :func:`parse_function` of ``func``, which takes it (once) instead of
    parsing again.  A nested function's stored tree is handed out as it is.
    """
    node, source = _read_tree(func, lambda tree: tree)
    if getattr(func, "srcad_nested", None) is None:
        with _kept_lock:
            _kept[0] = (weakref.ref(func), func.__code__, node, source)
    return node


def _read_tree(func, copy_nested):
    """``(gast FunctionDef, Source)`` of ``func``; ``copy_nested`` copies the
    stored tree of a function lifted from another (srcad/lift.py)."""
    # No inspect.unwrap: a decorator made with functools.wraps sets __wrapped__
    # to the function it wraps, but the name calls the wrapper, which is what
    # must be differentiated (its closure holds the wrapped function, a callee).
    if not inspect.isfunction(func):
        raise SourceUnavailableError(
            f"srcad can only transform Python functions, not {type(func).__name__} "
            f"{getattr(func, '__name__', func)!r}",
            hint="pass a function defined with def or lambda; for a callable "
                 "without Python source (a builtin or C extension) register a "
                 "rule with @srcad.adjoint")
    if is_library_function(func):
        raise SourceUnavailableError(
            f"srcad does not transform {func.__module__}.{func.__qualname__}: it is a function "
            f"of an installed library, whose source srcad does not read",
            hint="call it from a function of your own (def f(x): return logsumexp(x)) and "
                 "transform that; it needs a derivative rule (@srcad.adjoint) unless srcad has one")
    nested = getattr(func, "srcad_nested", None)
    if nested is not None:               # lifted from an enclosing function (srcad/lift.py)
        node, parent = nested
        return copy_nested(node), Source(parent.filename, func.__name__)
    code = func.__code__
    filename = code.co_filename
    source = Source(filename, func.__name__)
    try:
        lines, first, guessed = _source_lines(func)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot find the source code of {func.__qualname__!r} "
            f"(defined in {filename!r})",
            hint="srcad reads a function's source: define it in a file (a "
                 "module or a script), or at a prompt that keeps what you type: "
                 "Python 3.13's REPL, IPython and Jupyter do; the plain python3 "
                 "prompt before 3.13 and exec/eval do not") from exc
    if guessed:
        try:
            tree, shift = _parse_lines(lines, source, first)
        except SourceUnavailableError:      # the guess cut a string or brackets short
            lines, first = inspect.getsourcelines(code)
            tree, shift = _parse_lines(lines, source, first)
    else:
        tree, shift = _parse_lines(lines, source, first)
    node = _find_function(tree, func, source, first)
    if shift:                            # a dedented method or nested def
        for sub in walk(node):
            if hasattr(sub, "lineno"):
                for field in ("col_offset", "end_col_offset"):
                    if getattr(sub, field, None) is not None:
                        setattr(sub, field, getattr(sub, field) + shift)
    if isinstance(node, gast.AsyncFunctionDef):
        uses = " (async def, await)" if any(isinstance(n, gast.Await) for n in gast.walk(node)) \
            else " (async def)"
        raise source.error(
            UnsupportedSyntaxError, f"cannot differentiate async function {func.__name__!r}{uses}",
            node, hint="srcad differentiates ordinary (synchronous) functions")
    if isinstance(node, gast.Lambda):
        node = lambda_to_def(node)
    node.decorator_list = []
    # generated code: its entry guard and the call of its copy for floats are not part of it
    entries = {getattr(func, "srcad_guard", None), getattr(func, "srcad_floats", None),
               *(getattr(func, "srcad_arrays", None) or ())} - {None}
    if entries:
        node.body = [stmt for stmt in node.body if not _enters(stmt, entries)]
    return node, source


def _enters(stmt, names):
    """``if ...: return f(...)``, ``if ...: try: return f(...)``, or an ``if``
    of such ``if`` statements, for ``f`` in ``names``: the entry guard
    (api._insert_guard) and the calls of the float and array copies
    (passes.floats.dispatch, passes.arrays.dispatch) of generated code."""
    body = getattr(stmt, "body", None)
    if not isinstance(stmt, gast.If) or not body or stmt.orelse:
        return False
    if len(body) > 1 or isinstance(body[0], gast.If):
        return all(_enters(inner, names) for inner in body)
    first = body[0].body[0] if isinstance(body[0], gast.Try) else body[0]
    return isinstance(first, gast.Return) and isinstance(first.value, gast.Call) \
        and getattr(first.value.func, "id", None) in names


def _source_lines(func):
    """``(lines, first line number, guessed)`` of ``func``'s source.

    A function srcad generated is read from the text it was compiled from
    (registered with ``linecache`` under its ``co_filename``), not through
    ``inspect``, which would follow ``__wrapped__`` to the original function.
    ``guessed``: the lines are :func:`_top_level_block`'s, which the caller
    checks by parsing them.
    """
    if getattr(func, "srcad_mode", None) is None:
        # the code object, not the function: inspect would follow __wrapped__
        lines, start = inspect.findsource(func.__code__)
        block = _top_level_block(lines, start)
        if block is not None:
            return block, start + 1, True
        return inspect.getblock(lines[start:]), start + 1, False
    code = func.__code__
    if not code.co_filename.startswith("<srcad "):
        raise SourceUnavailableError(
            f"{func.__qualname__} is a Python wrapper around generated functions, not generated "
            f"code itself, so srcad does not transform it",
            hint="compose the transforms instead: srcad.jvp(srcad.grad(f)) for "
                 "Hessian-vector products, srcad.grad(srcad.grad(f)) for scalar functions")
    lines = linecache.getlines(code.co_filename)
    if not lines:
        raise OSError(f"the generated code of {func.__qualname__} is no longer in linecache")
    # the file is a factory: its last line returns the generated function
    return lines[code.co_firstlineno - 1:-1], code.co_firstlineno, False


def _top_level_block(lines, start):
    """The lines of the ``def`` at column 0 (no decorator) on ``lines[start]``,
    or None for any other function: up to the next line that starts at column
    0 with code, which ends the def's block unless it is inside a string or
    brackets that the def opened.  Then the lines parse only as a truncated
    string or unclosed brackets do, not at all; :func:`_read_tree` reads
    ``inspect``'s block instead (which tokenizes the lines, a tenth of the
    transformation of a long function).  Blank and comment lines after the
    block may come with it: they change no node."""
    if not lines[start].startswith(("def ", "async def ")):
        return None
    for end in range(start + 1, len(lines)):
        head = lines[end][:1]
        if head and not head.isspace() and head != "#":
            return lines[start:end]
    return lines[start:]


def _parse_lines(lines, source, first):
    """``(tree, shift)``: the gast tree of ``lines`` (the source from line
    ``first`` on) and the indentation dedenting removed from them."""
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    shift = _indent_of(lines) if dedented != text else 0
    return _parse_snippet(dedented, source, first), shift


def _indent_of(lines):
    for line in lines:
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _parse_snippet(text, source, first):
    """The gast tree of ``text``, the lines of ``source`` from line ``first``
    on.  The text is parsed after ``first - 1`` empty lines, so that its nodes
    get their line numbers in the file without a walk that shifts them."""
    above = "\n" * (first - 1)
    try:
        return to_gast(ast.parse(above + text))
    except SyntaxError:
        pass
    # A lambda inside a larger expression: its lines are not a statement alone.
    # Retry with the text wrapped in parentheses, which keeps line numbers.
    try:
        return to_gast(ast.parse(above + "(" + text.strip() + "\n)"))
    except SyntaxError as exc:
        raise SourceUnavailableError(
            f"cannot parse the source of {source.name!r} at {source.filename}:{first}",
            hint="define the function with a plain def statement") from exc


def _find_function(tree, func, source, first):
    name = func.__code__.co_name          # functools.wraps copies __name__, not the code's
    if name == "<lambda>":
        lambdas = [n for n in gast.walk(tree) if isinstance(n, gast.Lambda)]
        want = func.__code__.co_varnames[:func.__code__.co_argcount]
        match = [n for n in lambdas
                 if tuple(a.id for a in n.args.args) == tuple(want)]
        if len(match) == 1:
            return match[0]
        raise SourceUnavailableError(
            f"cannot tell which lambda on line {first} of {source.filename} is "
            f"the one to transform ({len(match) or len(lambdas)} candidates)",
            hint="bind the function with def, or put the lambda on a line of its own")
    for node in gast.walk(tree):
        if isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef)) and node.name == name:
            return node                 # an async def is refused once located
    raise SourceUnavailableError(
        f"cannot find the definition of {name!r} in its source at "
        f"{source.filename}:{first}",
        hint="define the function with a plain def statement")


def lambda_to_def(node, name="lambda", origin=None):
    """``def name(args): return body`` for a gast Lambda, located at ``origin``
    (by default the lambda itself)."""
    ret = gast.Return(value=node.body)
    gast.copy_location(ret, node.body)
    fdef = gast.FunctionDef(name=name, args=node.args, body=[ret],
                            decorator_list=[], returns=None, type_comment=None,
                            type_params=[])
    return gast.copy_location(fdef, origin or node)
