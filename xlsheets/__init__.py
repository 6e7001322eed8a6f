"""xlsheets: the Guanba town democratic evaluation of Party members, in Excel.

The folders follow the data, and each imports only from those listed before it
(``tests/test_architecture.py`` holds them to it):

- ``errors``: the exceptions a clerk can meet, each with a stable code.
- ``workbook/``: the workbook's anatomy, stated once: sheet names, rows and columns,
  defined names, A1 addresses, and the typed values (``Grids``) writer and readers share.
- ``core/``: pure rules on ``Grids``: numbers, dates, findings, checks, figures, scores,
  the steps of the work plan. No file, no xlwings.
- ``definitions`` and ``data/``: the form set as data (items, weights, texts, schedules),
  loaded by the shells and handed to the core as a value.
- ``ooxml/``: reading and patching an .xlsx package without trusting it.
- ``disk/``: the file system: atomic replace, locks, encryption, debris of dead runs,
  text made safe to print.
- ``writer/``: builds a new branch workbook with XlsxWriter.
- ``files/``: the file shell: read, validate and compute a workbook on disk.
- ``online/``: ballots downloaded from 问卷星 and 腾讯问卷 into a workbook.
- ``town/``: the town office: split, inbox, collect, archive, the town summary.
- ``excel/``, ``addin/``: the Excel shell (ribbon buttons through xlwings) and its add-in.
- ``demo``, ``cli``: the sample run and the ``xlsheets`` command.
"""

__version__ = "0.1.0"
