"""Legal holds for staff and the DPO (issue 21, legal-hold part)."""
