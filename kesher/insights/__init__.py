"""Insights: the customer journey, engagement tracks, RFM, lifetime value and program results (issue 17)."""
