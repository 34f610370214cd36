"""The invoice PDFs, for the company (admins, billing members) and for staff (issue 20, invoices part)."""
