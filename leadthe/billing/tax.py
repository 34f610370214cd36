"""VAT on our invoices: the buyer's VAT ID (python-stdnum: format and check digits) and what it means.

- Buyer in the seller's country: the seller's rate.
- Buyer in another EU country with a valid VAT ID: no VAT, reverse charge (the buyer accounts for it).
- Buyer outside the EU: no VAT (not taxable here).
- Buyer in another EU country without a valid VAT ID: the seller's rate.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

# stdnum's codes are VAT prefixes: Greece is "EL" there and "GR" in ISO 3166; Northern Ireland is "XI"
EU_COUNTRIES = {c.upper() for c in eu_vat.MEMBER_STATES if c not in ("el", "xi")} | {"GR"}


@dataclass(frozen=True)
class Tax:
    rate_bp: int  # basis points: 1900 = 19 %
    reverse_charge: bool
    note: str  # "", "reverse_charge", "outside_eu"


def normalise_vat_id(value: str) -> tuple[str, bool]:
    """The VAT ID in its compact form and whether its format and check digits are valid."""
    value = (value or "").strip()
    if not value:
        return "", False
    try:
        return eu_vat.validate(value), True
    except ValidationError:
        return eu_vat.compact(value)[:20] if value else "", False


def vat_country(vat_id: str) -> str:
    prefix = (vat_id or "")[:2].upper()
    return "GR" if prefix == "EL" else prefix


def tax_for(country: str, vat_id: str, vat_id_valid: bool) -> Tax:
    seller = current_app.config["BILLING_SELLER"]
    country = (country or "").upper()
    rate = int(seller["vat_rate_bp"])
    if country == seller["country"].upper() or not country:
        return Tax(rate, False, "")
    if country not in EU_COUNTRIES:
        return Tax(0, False, "outside_eu")
    if vat_id_valid and vat_country(vat_id) == country:
        return Tax(0, True, "reverse_charge")
    return Tax(rate, False, "")
