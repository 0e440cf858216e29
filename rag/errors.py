"""Typed errors raised by the library; only the CLI and the API translate them."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the library raises on purpose."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class ParseError(RagError):
    """A transcript could not be read; names the file and, where known, the line.

    `key` is the dotted path of the value at fault inside a structured transcript (`turns.2.end`), where
    there is one: the field of a JSON request body that sent it.
    """

    def __init__(self, path: str, message: str, line: int | None = None, key: str | None = None):
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}", field="file")
        self.path = path
        self.line = line
        self.key = key


class NoIndexError(RagError):
    """There is no index at the directory yet."""

    def __init__(self, directory: str):
        super().__init__(f"no index at {directory}: run rag ingest")
        self.directory = directory


class IndexMismatchError(RagError):
    """The index was built differently (another model, format version) from what is asked."""


class ModelChangedError(IndexMismatchError):
    """Vectors were made by a model the collection no longer uses (a reindex switched since): embed again."""


class NotFoundError(RagError):
    """A document or speaker that does not exist was named."""


class InvalidInputError(RagError):
    """A request is well-formed but its values cannot be used."""


class IndexBusyError(RagError):
    """Another process is writing to the collection and the write could not wait for it."""


class StorageUnavailableError(RagError):
    """The collection's storage cannot be reached (a database down); worth trying again later."""


class TooLargeError(RagError):
    """An input is larger than the configured limit."""
