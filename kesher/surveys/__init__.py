"""Satisfaction surveys: CSAT, NPS and free questions, with their results (issue 16)."""
