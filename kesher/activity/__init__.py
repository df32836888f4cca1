"""The activity stream: one idempotent record of everything a member does, read by every other part."""
