"""Certified case records (issue 11): a case exported as one signed zip, and its offline check.

- `signing`: the service's Ed25519 key, made once and kept envelope-encrypted like every other
  stored secret (its private half never leaves the server).
- `record`: the export use case (a case's facilitators and the coordinator; audited).
- `archive`: the zip's layout, the manifest of SHA-256 hashes, and `verify`, which needs no
  database, no settings and no network (`shuttle export verify FILE`).
"""
