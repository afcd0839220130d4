"""popsurvey.surveys: the CLI, survey configuration, ODK Central, the store and the pipeline.

This is the top of the import graph: it uses ``validation``, ``weighting`` and ``exports``,
which use ``forms``; nothing below imports from here.
"""
