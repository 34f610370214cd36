"""The SCIM 2.0 endpoints: ``Users``, ``Groups``, ``ServiceProviderConfig``, ``ResourceTypes``, ``Schemas``."""
from __future__ import annotations
