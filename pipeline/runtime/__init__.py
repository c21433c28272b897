"""How a run runs: child processes with limits for parsing untrusted files and making copies, the hand-off of
parsed cells between stages, the lock on an outputs folder and the staging folder a week is switched in from.
Imports `thai` and `core`.
"""
