"""What every stage shares: the configuration (parsed once), the forms (schema.yaml), the Thai wording
(wording/*.yaml, one loader), the issues table and its constructors, reporting weeks, atomic files,
terminal text and the crash points of the tests. Imports only `thai`.
"""
