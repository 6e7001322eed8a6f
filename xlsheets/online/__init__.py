"""Ballots collected online: 问卷星 and 腾讯问卷 downloads into the entry sheets.

``download`` reads the files, ``headers`` places the columns, ``importer``
writes the ballots (``import_file``), ``record`` keeps the salted hashes that
recognise an answer imported before, ``survey`` writes the question list a
clerk pastes into the survey service.
"""

from xlsheets.online.importer import Imported, ImportRefused, find_group, import_file

__all__ = ["Imported", "ImportRefused", "find_group", "import_file"]
