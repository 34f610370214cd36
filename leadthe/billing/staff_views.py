"""/staff/billing: companies by state with MRR and seats, trial extensions, credits, plans (issue 20, staff part)."""
