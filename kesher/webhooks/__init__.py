"""Outbound webhooks: other systems hear what happens, signed per Standard Webhooks (issue 18)."""
