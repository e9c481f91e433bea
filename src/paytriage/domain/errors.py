"""One error hierarchy for the whole product.

    PaytriageError
    ├── InputError            bad user input; names the line and/or field
    │   └── RowError          one bad row in an ingest file
    ├── NotFoundError         an id that does not exist
    ├── InvalidTransitionError  a case status change the workflow forbids
    └── ConfigurationError    an editable config file that does not validate

The CLI maps these to a one-line message and exit code 1; the API to a 4xx JSON body.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "InputError",
    "InvalidTransitionError",
    "NotFoundError",
    "PaytriageError",
    "RowError",
]


class PaytriageError(Exception):
    """Base of every error paytriage raises on purpose."""


class InputError(PaytriageError):
    """Bad input. ``line`` is 1-based in the input file, ``field`` the column or key."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None) -> None:
        self.message = message
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class RowError(InputError):
    """One rejected row of an ingest file."""


class NotFoundError(PaytriageError):
    """The requested object does not exist."""


class InvalidTransitionError(PaytriageError):
    """A case workflow transition that is not allowed."""


class ConfigurationError(PaytriageError):
    """An editable configuration file is invalid."""
