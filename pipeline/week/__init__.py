"""The week from the stored state: which versions count, entities and figures per district, every row
accounted for, timeliness, jump checks, the sign-off status and what the dashboard shows. Pure.
Imports the layers below it.
"""
