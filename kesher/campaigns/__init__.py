"""Campaigns and journeys: personal email, SMS and portal notices, with consent and measurement."""
