"""The command line's output: every writer, one module per command (`lint/` one per format),
and the table that names them by command and format (`runner.output.writers.WRITERS`).

Nothing is imported here: a writer imports its siblings, never this package's table, whose
lookups import the writers.
"""
