"""The file system, portable across Windows, macOS and Linux.

``fileio``: atomic replace of one file or several together, the private copy compute
works from; ``locks``: one writer per workbook, open-in-Excel detection, debris of dead
runs; ``crypto``: password-protected workbooks; ``terminal``: text from files made safe
to print.
"""
