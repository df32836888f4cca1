"""Reviews and ratings of products and service, and the members' photo and story gallery (issue 16)."""
