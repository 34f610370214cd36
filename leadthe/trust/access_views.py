"""/privacy/access-log: who looked at my data (issue 21, access-log part)."""
