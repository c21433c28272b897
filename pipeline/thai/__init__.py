"""Thai text, numbers, dates and places: normalising what districts type, names, Buddhist-era dates and the
DOPA gazetteer (data/). Imports nothing of the project.
"""
