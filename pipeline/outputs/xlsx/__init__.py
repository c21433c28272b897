"""Editing an .xlsx package by hand: its parts, styles, notes and sheet XML, for marking a district's own
workbook in place and writing long tables fast.
"""
