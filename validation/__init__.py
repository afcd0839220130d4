"""popsurvey.validation: schema validation and per-enumerator quality checks of submissions.

- :mod:`validation.schema`: the JSON Schema (draft 2020-12) of a form's submissions.
- :mod:`validation.columns`: the column-wise validation of many submissions (schema, form
  logic X101-X199, record-level checks), the bulk path.
- :mod:`validation.reference`: the same checks record by record (jsonschema +
  FormLogic.check), the reference the bulk path is tested against.
- :mod:`validation.codes`: the V1xx/V2xx issue codes.
"""
