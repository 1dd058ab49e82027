"""Volunteers, points, star levels (pure), the time bank, merchants and protected ID numbers.

Domain: the database and the outbox; no Flask, channels, chat or console (tests/test_walls.py).
"""
