"""/admin/billing: the company's plan, seats, billing details, contacts and invoices (issue 20, admin part)."""
