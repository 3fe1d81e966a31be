"""The rhbench exception hierarchy.

Every error raised on bad input is a subclass of :class:`RhbenchError` and its message
names the source, the file, the variable, what was found and what was expected, and,
where rhbench can tell, what to do (``hint``, written last as ``to fix: ...``), so that
a user can fix the input without reading the code.
"""

from __future__ import annotations


class RhbenchError(Exception):
    """Base class of every error rhbench raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        file: str | None = None,
        variable: str | None = None,
        found: object | None = None,
        expected: object | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.hint = hint
        self.source = source
        self.file = file
        self.variable = variable
        self.found = found
        self.expected = expected
        super().__init__(self._format(message))

    def add_context(
        self, *, source: str | None = None, file: str | None = None, variable: str | None = None
    ) -> RhbenchError:
        """Fill in the source, file and variable where they are still unknown; return ``self``.

        Lets a caller that knows the context (e.g. the loader) complete an error raised by a
        helper that did not, keeping its type and traceback.
        """
        for label, value in (("source", source), ("file", file), ("variable", variable)):
            if getattr(self, label) is None and value is not None:
                setattr(self, label, value)
        self.args = (self._format(self.message),)
        return self

    def _format(self, message: str) -> str:
        parts = [message]
        for label, value in (
            ("source", self.source),
            ("file", self.file),
            ("variable", self.variable),
            ("found", self.found),
            ("expected", self.expected),
            ("to fix", self.hint),
        ):
            if value is not None:
                parts.append(f"{label}: {value}")
        return "; ".join(parts)


class ConfigError(RhbenchError):
    """An unusable configuration, command line or catalog (exit code 2)."""


class PluginError(RhbenchError):
    """A plugin failed to import, raised in its hook, or returned an invalid descriptor."""


class CatalogError(RhbenchError):
    """A catalog file is unreadable, malformed, or an entry is missing or escapes the data root."""


class DataError(RhbenchError):
    """A data file is missing, corrupt, empty, or its contents are unusable."""


class MissingVariableError(DataError):
    """A variable a source declares is absent from its file."""


class CoordinateError(DataError):
    """Coordinates are missing, misnamed, non-monotonic, duplicated or of an odd convention."""


class TimeAxisError(DataError):
    """The time axis cannot be decoded, is non-monotonic, or has duplicated steps."""


class UnitsError(DataError):
    """Units are missing, unparseable, or of the wrong dimension for the variable."""


class ValueRangeError(DataError):
    """Values are all missing, negative where impossible, or far outside plausible ranges."""


class SiteDataError(DataError):
    """A site-data table (e.g. SRDB) is unreadable or lacks required columns."""


class ChecksumError(DataError):
    """A downloaded or cached file does not match its recorded checksum."""


class CacheError(RhbenchError, OSError):
    """The cache folder (``RHBENCH_CACHE``) cannot be created or is not a folder. Also an
    :class:`OSError`, so every stage that treats the cache as optional (the products, the
    reference, the unit memo, the catalog parse) goes on without it, saying why; a stage that
    needs it (the demo root, a decompressed ``.nc.gz``) fails with this message."""


class OutputExistsError(RhbenchError):
    """The output folder exists and overwriting was not allowed (use --force)."""


class OutputError(RhbenchError):
    """The output cannot be written: read-only or full disk, no permission (exit code 2)."""
