"""Writing files safely: a temporary file beside the target, then one atomic rename.

A clerk's file is never left half-written: on any error the temporary file is
removed and the original, if any, is untouched. ``os.replace`` is atomic on
Windows, macOS and Linux when both paths are on one volume, hence "beside".
"""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path; on success move it over ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~xlsheets-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
