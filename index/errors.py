"""One family of errors a user can cause or fix; their messages say what happened and what to do.

Every message is one line: ``THING: what happened; what to do``, where THING is the file (or setting,
server...) concerned, named once. ``IngestReport.failed`` holds these messages per file; the CLI prints
``error: MESSAGE`` (exit 2) or ``  skipped MESSAGE`` for a file an ``add`` refused (exit 1).
"""


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
