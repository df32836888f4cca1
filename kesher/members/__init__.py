"""Members: the club's CRM (profiles, consent with proof, club cards)."""
