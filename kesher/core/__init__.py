"""Shared pieces every domain uses: errors, idempotency, the audit log, logging and brand scoping."""
