"""One exception hierarchy. The CLI turns each into a one-line message and an exit code.

Every error carries the fields a caller may want to act on: ``path`` (the file concerned) and
``prompt_id`` where there is one; some subclasses add more (who locked a record, what is
missing). ``str(err)`` is the one-line message.
"""

from __future__ import annotations

from typing import Any


class KitError(Exception):
    """Base class. ``exit_code`` 2 = bad usage or input, 1 = any other failure."""

    exit_code = 1

    def __init__(self, message: str, *, path: Any = None, prompt_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.prompt_id = prompt_id


class InputError(KitError):
    """Bad argument, value or file given by the user (exit 2)."""

    exit_code = 2


class PromptSetError(InputError):
    """A prompt set or other template data (framework, requirement, vignette) is invalid."""


class WorkbookError(InputError):
    """A workbook or journal is missing, corrupt, not a regular file, too large or not ours."""


class FormatError(WorkbookError):
    """The workbook was made by a newer supervision-kit (its ``format`` is unknown here)."""

    def __init__(self, message: str, *, path: Any = None, found: Any = None,
                 supported: int = 0) -> None:
        super().__init__(message, path=path)
        self.found, self.supported = found, supported


class IncompleteError(InputError):
    """A role tried to sign while required answers are missing (exit 2)."""

    def __init__(self, message: str, *, path: Any = None,
                 missing: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message, path=path)
        self.missing = missing or []  # [(prompt id, label)]


class ConflictError(KitError):
    """The action would overwrite or clash with existing work (exit 1)."""


class LockedError(ConflictError):
    """The workbook is signed by both roles and locked: only addenda are accepted."""

    def __init__(self, message: str, *, path: Any = None, locked_by: dict[str, Any] | None = None,
                 locked_at: str = "") -> None:
        super().__init__(message, path=path)
        self.locked_by = locked_by or {}  # role -> signer name
        self.locked_at = locked_at


class BusyError(ConflictError):
    """Another process held the workbook's lock for longer than the wait allows."""

    def __init__(self, message: str, *, path: Any = None, holder: dict[str, Any] | None = None
                 ) -> None:
        super().__init__(message, path=path)
        self.holder = holder or {}


class IdentityError(ConflictError):
    """The person signing is not the one the record names for that role."""


class VerificationFailed(KitError):
    """The record was altered after signing (exit 1)."""


class FindingsFound(KitError):
    """``scan`` found likely identifiers (exit 1)."""


class ExportError(KitError):
    """An export (HTML/PDF) could not be made."""
