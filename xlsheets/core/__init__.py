"""The pure core: rules and figures on plain values, the same for every shell.

Inputs are ``workbook.grids.Grids`` and a loaded ``definitions.Definitions``; outputs
are findings, figures and the cells to write. Nothing here opens a file or an Excel
book. ``checks`` runs every rule, ``figures`` gives what each formula shows, ``cells``
says which cells hold formulas and what they should show, ``steps`` runs the work
plan's steps beyond the ballots (``schedule``, ``opinions``, ``talks``, ``materials``,
``meetings``, ``checklist``), ``scoring``, ``lookback``, ``satisfaction`` and
``grading`` hold the arithmetic of the forms.
"""
