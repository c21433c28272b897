"""The history: every file version ever read with its records and problems (SQLite), removals, the office's
answers, and earlier weeks' reports cached by the state they were computed from. Imports the layers below it.
"""
