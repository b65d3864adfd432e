"""Billing's pages, a module per area (coverage and estimates; charges, claims, authorizations,
remittances and patient accounts as the revenue cycle grows); urls.py names each view by module."""
