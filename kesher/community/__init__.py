"""The brand community: spaces, questions and answers, votes, reputation, moderation, Hebrew search."""
