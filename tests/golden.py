"""Compare two .xlsx files part by part, showing an XML diff of what differs."""

import difflib
import re
import zipfile
from xml.dom import minidom


def parts(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _pretty(data):
    try:
        return minidom.parseString(data).toprettyxml(indent=" ").splitlines()
    except Exception:
        return data.decode("utf-8", "replace").splitlines()


def differences(expected, actual, ignore=()):
    """A list of readable differences between two workbooks (empty when equal).

    ``ignore`` names parts to skip; part names and every part's bytes are
    compared, and a differing XML part is shown as an indented unified diff.
    """
    a, b = parts(expected), parts(actual)
    out = []
    names_a = sorted(n for n in a if n not in ignore)
    names_b = sorted(n for n in b if n not in ignore)
    if names_a != names_b:
        out.append(f"parts differ: only expected {sorted(set(names_a) - set(names_b))}, "
                   f"only actual {sorted(set(names_b) - set(names_a))}")
    for name in names_a:
        if name in b and a[name] != b[name]:
            diff = difflib.unified_diff(_pretty(a[name]), _pretty(b[name]), "expected/" + name,
                                        "actual/" + name, lineterm="", n=2)
            out.append("\n".join(list(diff)[:60]))
    return out


def normalise_core(data):
    """docProps/core.xml without its timestamps."""
    return re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", data)
