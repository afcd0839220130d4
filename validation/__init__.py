"""popsurvey.validation: schema validation and per-enumerator quality checks of submissions."""
