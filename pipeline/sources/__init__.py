"""Where rows come from: the shared inbox (which files, whose, when), the readers of xlsx/xls/ods/csv and the
Google Sheets of districts that keep one. Imports `thai`, `core`, `runtime`.
"""
