"""The service inbox: cases from every channel, response-time targets, replies, making it right (issue 19)."""
