"""One family of errors a user can cause or fix; their messages say what happened and what to do.

Every message is one line: ``THING: what happened; what to do``, where THING is the file (or setting,
server...) concerned, named once. ``IngestReport.failed`` holds these messages per file; the CLI prints
``error: MESSAGE`` (exit 2) or ``  skipped MESSAGE`` for a file an ``add`` refused (exit 1). An error of a
library becomes one of these only when that library raised it (``raised_by``); anything else is a bug (exit 3).
"""

_OURS = ("index", "rag", "ui")


class RagError(Exception):
    """Base of every error shown to users (CLI, UI, API) as a message instead of a traceback."""


class InputError(RagError):
    """A document or question that cannot be used as given (bad file, empty question...)."""


class UnsupportedFileError(InputError):
    """A file whose type the loaders do not handle."""


class BackendError(RagError):
    """An external system (Chroma server, embedding or LLM endpoint) failed or is unreachable."""


class ConfigError(RagError):
    """Settings that contradict each other or name something missing."""


def raised_by(exc: BaseException, package: str) -> bool:
    """Whether ``package``'s code raised ``exc``: of the frames of its traceback that are ``package``'s or ours
    (index, rag, ui), the innermost is ``package``'s. Libraries it calls (httpx, sqlite3, zlib) raise on its
    behalf, as those our code calls raise on ours."""
    owner = None
    tb = exc.__traceback__
    while tb is not None:
        top = str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0]
        if top == package or top in _OURS:
            owner = top
        tb = tb.tb_next
    return owner == package
