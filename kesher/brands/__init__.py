"""Brands (tenants), their staff and roles, and their API keys."""
