"""XML text as sheet parts spell it: entities, _xHHHH_ escapes, attributes, rich text.

Plain text helpers for the regex scans of ``package`` and the splices of ``patch``:
nothing here parses a document.
"""

from __future__ import annotations

import functools
import math
import re

_MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "http://purl.oclc.org/ooxml/spreadsheetml/main")
_REL_NS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           "http://purl.oclc.org/ooxml/officeDocument/relationships")
_WORKSHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


_ENTITY = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(m):
    if m[3]:
        return _NAMED[m[3]]
    return chr(int(m[1], 16) if m[1] else int(m[2]))


def unescape(s):
    """XML text as a parser would give it: newlines normalised, references resolved."""
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in s:
        s = _ENTITY.sub(_entity, s)  # expat already proved no other entity occurs
    return s


def _unxstring(s):
    """Undo OOXML's ``_xHHHH_`` escapes (control characters, literal ``_x``)."""
    return _XESC.sub(lambda m: chr(int(m[1], 16)), s) if "_x" in s else s


def _number(v):
    """A cached number; whole numbers (exactly representable) as int."""
    if len(v) < 16 and "." not in v and "E" not in v and "e" not in v:
        return int(v)
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xstring(s):
    """Text for an OOXML string: ``_x`` runs and invalid/CR characters as ``_xHHHH_``."""
    if "_x" in s:
        s = _XESC.sub(lambda m: "_x005F" + m[0], s)
    if "\r" in s:
        s = s.replace("\r", "_x000D_")
    return _BAD_XML_CHARS.sub(lambda m: f"_x{ord(m[0]):04X}_", s)


def _esc_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_attr(s):
    s = _BAD_XML_CHARS.sub("", s)
    return (_esc_text(s).replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _num_text(value):
    """XML text of a number cell value; ValueError for NaN and infinities."""
    if isinstance(value, int):
        return str(value)
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"cannot store {value!r} in a cell")
    return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)


def _printable(text, limit=120):
    """A text from the file made safe to show in one line of a message."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", "", text).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _local(tag):
    return tag.rpartition("}")[2]


def _root(text):
    """(namespace prefix with colon or '', index) of the root element's start tag."""
    m = re.search(r"<(?![?!])([^\s/>]+)", text)
    if not m:
        return "", len(text)
    name = m[1]
    return (name.partition(":")[0] + ":" if ":" in name else ""), m.start()


def _root_prefix(text):
    return _root(text)[0]


def _find_tag(text, tag, start=0, end=None):
    """Index of the start tag ``<tag`` (a whole name) in text, or -1."""
    end = len(text) if end is None else end
    i = text.find("<" + tag, start, end)
    while i >= 0 and text[i + len(tag) + 1] not in " \t\r\n/>":
        i = text.find("<" + tag, i + 1, end)
    return i


@functools.lru_cache(maxsize=8)
def _pats(p):
    """Compiled regexes for SpreadsheetML elements written with prefix ``p`` ('' or 'x:')."""
    P = re.escape(p)
    body = rf"[^<]*+(?:<(?!/{P}c>)[^<]*+)*+</{P}c>"
    return {
        # r when it is the first attribute, then either a plain number cell (optional s,
        # optional <f>, <v>) as (f element, v text), or everything else up to </c> as rest
        "cell": re.compile(rf'<{P}c(?: r="([^"]*)")?(?=[\s/>])(?:(?: s="[0-9]+")?>'
                           rf'(<{P}f>[^<]*</{P}f>)?<{P}v>([^<&]*)</{P}v></{P}c>'
                           rf'|([^>]*+>(?:(?<=/>)|{body})))'),
        "cellspan": re.compile(rf"<{P}c(?=[\s/>])([^>]*+)>(?:(?<=/>)|{body})"),
        "row": re.compile(rf"<{P}row(?=[\s/>])([^>]*+)>"),
        "v": re.compile(rf"<{P}v(?:\s[^>]*)?(?:/>|>([^<]*)</{P}v>)"),
        "f": re.compile(rf"<{P}f(?:\s[^>]*)?(?:/>|>([^<]*)</{P}f>)"),
        "t": re.compile(rf"<{P}t(?:\s[^>]*?)?(?:/>|>([^<]*)</{P}t>)"),
        "rph_open": f"<{p}rPh", "rph_close": f"</{p}rPh>",
        "si": re.compile(rf"<{P}si(?:\s[^>]*)?(?:/>|>(.*?)</{P}si>)", re.S),
        "felem": re.compile(rf"<{P}f(?=[\s/>])[^>]*?(?:/>|>[^<]*</{P}f>)"),
        "ext": re.compile(rf"<{P}extLst\b.*</{P}extLst>", re.S),
        "is": re.compile(rf"<{P}is\b"),
    }


_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_ATTR_B = re.compile(rb"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")


def _attr(attrs, name):
    """The value of attribute ``name`` in a start tag's attribute text, read attribute by
    attribute (so that ``q:x=' r="99"'`` is one attribute, not an r); None if absent."""
    pattern = _ATTR_B if isinstance(attrs, bytes) else _ATTR
    key = name.encode() if isinstance(attrs, bytes) else name
    for m in pattern.finditer(attrs):
        if m[1] == key:
            return m[2][1:-1]
    return None
_R_ATTR = re.compile(r"""\$?([A-Za-z]+)\$?([0-9]+)""")


def _strip_rph(inner, pats):
    """``inner`` without its phonetic runs (``<rPh>…</rPh>``, ``<rPh/>``): linear finds,
    where a lazy regex over a part of unclosed ones would take quadratic time."""
    opening, closing = pats["rph_open"], pats["rph_close"]
    out, pos = [], 0
    while (i := inner.find(opening, pos)) >= 0:
        after = inner[i + len(opening):i + len(opening) + 1]
        if after not in (" ", "/", ">", "\t", "\r", "\n"):
            out.append(inner[pos:i + len(opening)])
            pos = i + len(opening)
            continue
        gt = inner.find(">", i)
        if gt < 0:
            break
        out.append(inner[pos:i])
        if inner[gt - 1] == "/":
            pos = gt + 1
            continue
        j = inner.find(closing, gt)
        pos = len(inner) if j < 0 else j + len(closing)
    out.append(inner[pos:])
    return "".join(out)


def _rich_text(inner, pats):
    """Text of a CT_Rst (``<si>`` or ``<is>`` content): plain or rich runs, no phonetics."""
    if "<" not in inner:
        return ""
    if "rPh" in inner:
        inner = _strip_rph(inner, pats)
    return _unxstring(unescape("".join(pats["t"].findall(inner))))


def _rst_text(el):
    """Text of a CT_Rst element (``<si>``/``<is>``): ``t`` or runs' ``t``, phonetics skipped."""
    parts = []
    for child in el:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return _unxstring("".join(parts))
