"""What people read: the province workbook and its charts, the issues workbook, index.html, the ministry
report, the possible-duplicates workbook, the terminal table, the district templates and the district
feedback workbooks (feedback/), with the XML tools that mark a district's own .xlsx in place (xlsx/).
Imports the layers below it.
"""
