"""Stage 1, parse: a Python function -> its gast tree, names and locations.

``parse_function(f)`` finds ``f``'s source, parses it with gast, strips
decorators, turns a lambda into an equivalent ``def``, and shifts line and
column numbers so that every node points at the user's real file (a function
lifted out of another by srcad/lift.py brings its tree along instead).  The
:class:`Namespace` resolves the names the body reads (closure, globals,
builtins) so later stages can tell ``np.sin`` from a local variable.
:class:`Source` renders errors with the source line and a caret.
"""

import builtins
import copy
import inspect
import linecache
import textwrap

import gast

from srcad.errors import SourceUnavailableError, UnsupportedSyntaxError


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
    """

    _missing = object()

    def __init__(self, func):
        self.globals = func.__globals__
        self.closure = {}
        self.cells = {}
        code = func.__code__
        for name, cell in zip(code.co_freevars, func.__closure__ or ()):
            self.cells[name] = cell
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:       # a cell not yet filled (defined later)
                pass

    def lookup(self, name, default=_missing):
        for scope in (self.closure, self.globals, vars(builtins)):
            if name in scope:
                return scope[name]
        if default is self._missing:
            raise KeyError(name)
        return default

    def has(self, name):
        return self.lookup(name, None) is not None or name in self.globals


class ParsedFunction:
    """The parsed ``def`` of a function together with its context."""

    def __init__(self, func, node, source, namespace):
        self.func = func
        self.node = node            # gast.FunctionDef, locations in the real file
        self.source = source        # Source, for errors
        self.namespace = namespace  # Namespace, for name resolution


def is_numpy_function(obj):
    """True for NumPy's own Python functions (``np.sum`` and ``np.fft.fft``
    before NumPy 1.25 are plain ``def``s): srcad uses rules for them and
    never reads NumPy's source."""
    module = getattr(obj, "__module__", None) or ""
    return module == "numpy" or module.startswith("numpy.")


def parse_function(func):
    """Parse ``func`` into a :class:`ParsedFunction`."""
    func = inspect.unwrap(func, stop=lambda f: hasattr(f, "srcad_mode"))
    if not inspect.isfunction(func):
        raise SourceUnavailableError(
            f"srcad can only transform Python functions, not {type(func).__name__} "
            f"{getattr(func, '__name__', func)!r}",
            hint="pass a function defined with def or lambda; for a callable "
                 "without Python source (a builtin or C extension) register a "
                 "rule with @srcad.adjoint")
    nested = getattr(func, "srcad_nested", None)
    if nested is not None:               # lifted from an enclosing function (srcad/lift.py)
        node, parent = nested
        return ParsedFunction(func, copy.deepcopy(node), Source(parent.filename, func.__name__),
                              Namespace(func))
    code = func.__code__
    filename = code.co_filename
    source = Source(filename, func.__name__)
    try:
        lines, first = _source_lines(func)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"cannot find the source code of {func.__qualname__!r} "
            f"(defined in {filename!r})",
            hint="srcad reads a function's source: define it in a file (a "
                 "module or a script), or at a prompt that keeps what you type: "
                 "Python 3.13's REPL, IPython and Jupyter do; the plain python3 "
                 "prompt before 3.13 and exec/eval do not") from exc
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    shift = _indent_of(lines) if dedented != text else 0
    tree = _parse_snippet(dedented, source, first)
    node = _find_function(tree, func, source, first)
    for sub in gast.walk(node):
        if hasattr(sub, "lineno"):
            sub.lineno += first - 1
            if getattr(sub, "end_lineno", None) is not None:
                sub.end_lineno += first - 1
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
    return ParsedFunction(func, node, source, Namespace(func))


def _source_lines(func):
    """``(lines, first line number)`` of ``func``'s source.

    A function srcad generated is read from the text it was compiled from
    (registered with ``linecache`` under its ``co_filename``), not through
    ``inspect``, which would follow ``__wrapped__`` to the original function.
    """
    if getattr(func, "srcad_mode", None) is None:
        return inspect.getsourcelines(func)
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
    return lines[code.co_firstlineno - 1:-1], code.co_firstlineno


def _indent_of(lines):
    for line in lines:
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _parse_snippet(text, source, first):
    try:
        return gast.parse(text)
    except SyntaxError:
        pass
    # A lambda inside a larger expression: its lines are not a statement alone.
    # Retry with the text wrapped in parentheses, which keeps line numbers.
    try:
        return gast.parse("(" + text.strip() + "\n)")
    except SyntaxError as exc:
        raise SourceUnavailableError(
            f"cannot parse the source of {source.name!r} at {source.filename}:{first}",
            hint="define the function with a plain def statement") from exc


def _find_function(tree, func, source, first):
    name = func.__name__
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
