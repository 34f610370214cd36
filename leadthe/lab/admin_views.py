"""``/admin/ai-lab``: the company's model connection, guard mode, quotas, retention, use by team."""
from leadthe.lab import admin_bp  # noqa: F401
