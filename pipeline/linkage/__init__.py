"""One person counts once: unvaccinated records linked into people (features, blocking, scoring, clusters)
and the office's answers on uncertain pairs. Imports the layers below it.
"""
