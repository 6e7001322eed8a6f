"""The workbook's anatomy, stated once for the writer, both readers and the core.

``layout``: sheet names, header rows, anchors, column positions and defined names;
``grids``: what a reader returns, the typed values of a filled workbook;
``entries``: what the demo and the tests type into a new one.
"""
