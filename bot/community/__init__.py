"""Street events and their day rule (pure), broadcasts, emergency call-outs and team group chats.

Domain: the database and the outbox; no Flask, channels, chat or console (tests/test_walls.py).
"""
