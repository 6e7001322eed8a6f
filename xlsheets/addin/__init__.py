"""The Excel add-in: a 民主评议 ribbon tab whose buttons run the package on the open workbook.

Data workbooks stay macro-free .xlsx; the buttons live in ``xlsheets.xlam``, installed
once per PC. ``build`` makes the add-in from the VBA and ribbon sources in ``macros/``
(on any OS, byte for byte reproducibly); ``install`` copies it where Excel loads
add-ins at start-up and checks xlwings' interpreter setting.
"""
