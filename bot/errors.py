"""Library errors. The library raises these; the CLI and the app turn them into one clear line."""


class BotError(Exception):
    """Base class of every error the library raises on purpose."""


class IndexNotFound(BotError):
    """No index folder (or an incomplete one) where one was expected."""


class IndexIncompatible(BotError):
    """The index was built with another model, dimension or format version."""


class ModelNotFound(BotError):
    """The embedding model folder is missing or incomplete."""


class BadDocument(BotError):
    """A corpus file could not be read or parsed."""


class BadQuestion(BotError, ValueError):
    """A question is empty, too long, not text or otherwise unusable."""


class BadArgument(BotError, ValueError):
    """An argument of ``Bot.ask``/``Bot.search`` other than the question has the wrong type or range
    (``k``, ``mode``, ``filters``, a turn of ``history``)."""


class BadSettings(BotError):
    """A setting has a value the product cannot work with."""


class IndexBackendUnavailable(BotError):
    """The configured search server (``index_backend = milvus``) cannot be reached or refused a request."""


class ClusterUnavailable(BotError):
    """The Dask cluster of a parallel ingestion (``bot ingest --workers/--scheduler``) cannot be
    started or reached, or has no worker."""
