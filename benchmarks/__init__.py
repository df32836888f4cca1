"""Reproducible load and throughput runs that print their figures (`make bench`)."""
