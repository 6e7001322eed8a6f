Attribute VB_Name = "RibbonCallbacks"
' xlsheets add-in: the callbacks of the ribbon tab in customUI14.xml.
'
' One callback per button; each runs one function of the Python package through
' xlwings' RunPython (the xlwings module of this add-in), and Python does the work
' on the active workbook and shows its own messages. Keep this file ASCII only:
' a VBA module is stored in the PC's code page, so Chinese text belongs in the
' ribbon XML and in the messages Python shows. The one exception below is spelled
' as Unicode code points for the same reason.
Option Explicit

' Shown when a button that works on a workbook is clicked with none active.
' It reads: open the evaluation workbook first; if it is in Protected View,
' click Enable Editing first.
Private Const NO_BOOK As String = "8BF7 5148 6253 5F00 8981 5904 7406 7684 6C11 4E3B 8BC4 8BAE " & _
    "5DE5 4F5C 7C3F 3002 5982 679C 5B83 5728 201C 53D7 4FDD 62A4 7684 89C6 56FE 201D 4E2D " & _
    "002C 8BF7 5148 70B9 51FB 201C 542F 7528 7F16 8F91 201D 3002"
Private Const TAB_TITLE As String = "6C11 4E3B 8BC4 8BAE"

Public Sub NewBookClick(control As IRibbonControl)
    If Not BookReady(False) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.new_book()"
End Sub

Public Sub ImportOnlineClick(control As IRibbonControl)
    If Not BookReady(True) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.import_online()"
End Sub

Public Sub ValidateClick(control As IRibbonControl)
    If Not BookReady(True) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.validate()"
End Sub

Public Sub ComputeClick(control As IRibbonControl)
    If Not BookReady(True) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.compute()"
End Sub

Public Sub ClearMarksClick(control As IRibbonControl)
    If Not BookReady(True) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.clear_marks()"
End Sub

Public Sub ConsolidateClick(control As IRibbonControl)
    If Not BookReady(True) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.consolidate()"
End Sub

Public Sub ExportOpinionsClick(control As IRibbonControl)
    If Not BookReady(True) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.export_opinions()"
End Sub

Public Sub HelpClick(control As IRibbonControl)
    If Not BookReady(False) Then Exit Sub
    RunPython "import xlsheets.excel.handlers as h; h.show_help()"
End Sub

' RunPython hands the active workbook to Python, so one must be active. When the
' button needs the clerk's workbook and none is active (none open, or the file is
' in Protected View) say so; otherwise open a blank one for Python to work with.
Private Function BookReady(needsBook As Boolean) As Boolean
    If Not ActiveWorkbook Is Nothing Then
        BookReady = True
    ElseIf needsBook Then
        MsgBox FromCodePoints(NO_BOOK), vbExclamation, FromCodePoints(TAB_TITLE)
        BookReady = False
    Else
        Workbooks.Add
        BookReady = True
    End If
End Function

' "6C11 4E3B" -> the text of those Unicode code points (hexadecimal, space separated;
' the trailing "&" makes Val read each as a Long, so &H8BF7 is not negative).
Private Function FromCodePoints(codes As String) As String
    Dim part As Variant
    For Each part In Split(codes, " ")
        If Len(part) > 0 Then FromCodePoints = FromCodePoints & ChrW(Val("&H" & part & "&"))
    Next part
End Function
