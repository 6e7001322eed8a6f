"""The file system, portable across Windows, macOS and Linux.

``fileio``: atomic replace of one file or several together, the private copy compute
works from, open-in-Excel detection; ``locks``: one writer per workbook; ``debris``: the
temporary files a dead run leaves and their sweeping; ``crypto``: password-protected workbooks; ``terminal``: text from files made safe
to print.
"""
