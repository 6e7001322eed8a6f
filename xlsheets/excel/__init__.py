"""The Excel shell: ribbon buttons of the add-in, run by xlwings' ``RunPython``.

- ``handlers``: one function per button (``new_book``, ``validate``,
  ``compute``, ``clear_marks``, ``consolidate``, ``export_opinions``,
  ``show_help``) and their cores ``*_book(book, ...)`` that take any
  ``xw.Book``, a desktop one or one of xlwings' remote engine (tests).
- ``sheets``: the xlwings adapter: one read per region, one write per block,
  calls counted; ``ArraySheet`` gives the arrays ``reader.grids_from``'s
  sheet interface, so both shells run the same reader and checks.
- ``marks``: which cells get a fill and a note, and the record that lets
  清除标记 undo exactly those (pure, no xlwings).

Importing this package does not import xlwings; ``handlers`` does when a
button runs.
"""
