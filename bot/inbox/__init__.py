"""One incoming message: read the sender, step the dialogue, perform its actions, write it all at once."""
