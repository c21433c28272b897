"""One file version in, records and problems out: finding the form and its header in a sheet, merged cells,
typing and validating every column, and form E (the provincial administrator). Pure functions over what a
source read. Imports the layers below it.
"""
