"""Errors that reach a clerk: each carries one message in Chinese.

Clerks' data never raises: checks yield findings. These exceptions are for
inputs the tool cannot use at all (a broken definition file, an unreadable
roster); the command line prints ``str(error)`` and exits, never a traceback.

Where a raise site names its problem, ``code`` is a stable kebab-case name for
it (as finding codes are): tests and callers ask ``error.code``, so the Chinese
wording is free to change. ``code`` is None where a problem has no name yet.
"""


class XlsheetsError(Exception):
    """An input the tool cannot use; ``str()`` is the clerk's message."""

    exit_code = 2
    code = None  # the problem's stable name, e.g. "roster-file-missing" (see above)

    def __init__(self, *args, code=None):
        super().__init__(*args)
        if code is not None:
            self.code = code


class DefinitionError(XlsheetsError):
    """A form definition file is broken: names the file and the key."""

    def __init__(self, path, key, problem, code=None):
        self.path, self.key, self.problem = str(path), key, problem
        super().__init__(f"定义文件 {self.path} 的 {key}:{problem}", code=code)


class RosterError(XlsheetsError):
    """A roster cannot be used: names the file and, where known, the row."""

    def __init__(self, path, problem, row=None, code=None):
        self.path, self.problem, self.row = str(path), problem, row
        where = f"第 {row} 行" if row is not None else ""
        super().__init__(f"名册文件 {self.path} {where}:{problem}".replace(" :", ":"), code=code)


class UsageError(XlsheetsError):
    """A command was asked for something that does not exist (a unit, a file)."""
