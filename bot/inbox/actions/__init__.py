"""The dialogue's actions performed against the domain, inside the message's transaction."""
