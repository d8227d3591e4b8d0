"""One exception hierarchy. The CLI turns each into a one-line message and an exit code."""


class KitError(Exception):
    """Base class. ``exit_code`` 2 = bad usage or input, 1 = any other failure."""

    exit_code = 1


class InputError(KitError):
    """Bad argument, value or file given by the user (exit 2)."""

    exit_code = 2


class PromptSetError(InputError):
    """A prompt set (template data) is invalid."""


class WorkbookError(InputError):
    """A workbook or journal is missing, corrupt or not ours."""


class ConflictError(KitError):
    """The action would overwrite or clash with existing work (exit 1)."""


class LockedError(ConflictError):
    """The workbook is signed by both roles and locked."""
