"""Listening: mentions of the brand from outside and inside, their sentiment, topics and influence."""
