"""Customer data in: import, cleansing, and finding and merging duplicates (issue 18)."""
