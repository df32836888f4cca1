"""Personalisation: recommendations from the activity stream, served from stored lists (issue 20)."""
