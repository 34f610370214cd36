"""``/login/sso`` (an address in a verified SSO domain goes to its company's identity provider) and
``/sso/welcome`` (the first log-in of a person created just in time). Built by the log-in part of issue 19."""
from __future__ import annotations
