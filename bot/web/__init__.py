"""Flask blueprints at the edge: the official-account webhook, the WeCom callback and the calendar (.ics) files."""
