"""The town office: many branch workbooks at once.

``split`` makes one workbook per branch from a town roster, ``inbox`` lists and unpacks
what arrived (.xlsx, .zip, .eml), ``collect`` examines every file in parallel and picks
one per branch, ``archive`` keeps the figures in SQLite, ``town_book`` writes the town
summary workbook.
"""
