"""An .xlsx package read and patched at the zip and XML level, trusting nothing in it.

Branch workbooks come back from clerks with things openpyxl would drop on save
(images, charts, comments, text boxes, sparklines, a VBA project...). So cells are
read straight from the sheet XML, and writing edits only the ``<c>`` elements that
change inside a sheet part; every other zip entry is copied with its raw compressed
bytes untouched.

- ``guards``: limits and proofs before anything is parsed (zip bombs, DTDs,
  encodings, sheet extents, part names);
- ``markup``: XML text helpers shared by the scans and the splices;
- ``package``: ``BookFile``, one proved reading of a package;
- ``patch``: ``write_patched`` and ``sheet_xml``, the only ways a package is written;
- ``zipcopy``: the zip writer that copies untouched entries raw.
"""

from xlsheets.ooxml.guards import (
    CFB_MAGIC,
    MAX_RATIO,
    RATIO_MIN_SIZE,
    BookError,
    Forbidden,
    check_zip_directory,
    guard_members,
    part_key,
    read_error,
    safe_parser,
)
from xlsheets.ooxml.package import BookFile, Cell
from xlsheets.ooxml.patch import Formula, sheet_xml, write_patched

__all__ = ["CFB_MAGIC", "MAX_RATIO", "RATIO_MIN_SIZE", "BookError", "BookFile", "Cell",
           "Forbidden", "Formula", "check_zip_directory", "guard_members", "part_key",
           "read_error", "safe_parser", "sheet_xml", "write_patched"]
