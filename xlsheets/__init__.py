"""xlsheets: the Guanba town democratic evaluation of Party members, in Excel."""

__version__ = "0.1.0"
