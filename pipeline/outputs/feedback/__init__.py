"""The district feedback workbooks: which cells to mark and the summary (plan), and the workbook itself (book).
"""
