"""The topics a brand listens for: a name and its Hebrew and English keywords (models, services,
selectors and the console editor at console/<slug>/listening/topics/)."""
