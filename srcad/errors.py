"""Every error srcad raises on purpose.

Each error points at the user's code: file, line, column, the source line and a
caret under the column, then a hint that says what to do.  Errors raised before
a location is known (bad ``wrt``, missing source) carry only the hint.
"""


class SrcadError(Exception):
    """Base class of every error srcad raises on purpose."""

    def __init__(self, message, *, filename=None, lineno=None, col=None,
                 source_line=None, hint=None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.source_line = source_line
        self.hint = hint
        super().__init__(self._render())

    def _render(self):
        parts = [self.message]
        if self.filename is not None and self.lineno is not None:
            where = f"  File \"{self.filename}\", line {self.lineno}"
            if self.col is not None:
                where += f", column {self.col + 1}"
            parts.append(where)
            if self.source_line is not None:
                text = self.source_line.rstrip("\n")
                stripped = text.lstrip()
                indent = len(text) - len(stripped)
                parts.append("    " + stripped)
                if self.col is not None and self.col >= indent:
                    parts.append("    " + " " * (self.col - indent) + "^")
        if self.hint:
            parts.append("hint: " + self.hint)
        return "\n".join(parts)


class UnsupportedSyntaxError(SrcadError):
    """A Python construct srcad cannot differentiate (try, with, yield, ...)."""


class UnknownPrimitiveError(SrcadError):
    """A call to something that has no derivative rule and no source."""


class NonDifferentiableError(SrcadError):
    """A value that depends on the inputs flows where srcad cannot follow it."""


class SourceUnavailableError(SrcadError):
    """The function's source code cannot be found (REPL, exec, C function)."""


class WrtError(SrcadError):
    """A ``wrt`` argument that does not name parameters of the function."""


class NonScalarOutputError(SrcadError):
    """``grad`` of a function whose output is not a scalar."""


class UnsupportedInputError(SrcadError):
    """An argument of a kind srcad does not differentiate (complex, masked)."""


class RuleError(SrcadError):
    """A derivative rule that is malformed or returns the wrong gradients."""


class GradientCheckError(SrcadError):
    """srcad's gradient and central finite differences disagree (``check_grad``)."""


class NonFiniteGradientError(SrcadError):
    """A gradient became NaN or infinite (raised with ``check_finite=True``)."""


class UnsupportedArgumentError(SrcadError, NotImplementedError):
    """A primitive srcad knows, called with arguments its rule does not cover
    (``np.linalg.norm(x, ord=1)``).  Also a ``NotImplementedError``."""
