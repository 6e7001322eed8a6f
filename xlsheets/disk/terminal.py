"""Text from files shown on a terminal: control characters made visible.

A member's name, a sheet name, an attachment's file name come from files anyone can
send. Printed raw, an escape sequence could clear the screen or forge a line such
as "校验通过", and a newline could forge a line of collect's list. ``visible`` shows
every such character as an escape (``\\x1b``, ``\\u202e``), so one input stays one
line and reads as what it is.
"""

_KEEP = {" ", "\u3000"}  # spaces, the ideographic one included


def visible(text):
    """``text`` with control, format and separator characters (other than the space)
    written as ``\\xNN`` or ``\\uNNNN``."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in _KEEP else _escape(ch) for ch in text)


def _escape(ch):
    n = ord(ch)
    if n < 0x100:
        return f"\\x{n:02x}"
    return f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"
