"""Every write of the service part (see each module)."""
