"""The daily report, back-checks and review write-back, wired to the store and survey.toml
(the libraries are :mod:`validation.report` and :mod:`validation.backcheck`)."""
