"""Errors that reach a clerk: each carries one message in Chinese.

Clerks' data never raises: checks yield findings. These exceptions are for
inputs the tool cannot use at all (a broken definition file, an unreadable
roster); the command line prints ``str(error)`` and exits, never a traceback.
"""


class XlsheetsError(Exception):
    """An input the tool cannot use; ``str()`` is the clerk's message."""

    exit_code = 2


class DefinitionError(XlsheetsError):
    """A form definition file is broken: names the file and the key."""

    def __init__(self, path, key, problem):
        self.path, self.key, self.problem = str(path), key, problem
        super().__init__(f"定义文件 {self.path} 的 {key}:{problem}")


class RosterError(XlsheetsError):
    """A roster cannot be used: names the file and, where known, the row."""

    def __init__(self, path, problem, row=None):
        self.path, self.problem, self.row = str(path), problem, row
        where = f"第 {row} 行" if row is not None else ""
        super().__init__(f"名册文件 {self.path} {where}:{problem}".replace(" :", ":"))


class UsageError(XlsheetsError):
    """A command was asked for something that does not exist (a unit, a file)."""
