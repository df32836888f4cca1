"""The members' privacy rights: download of their data, correction, erasure, retention, access log (18)."""
