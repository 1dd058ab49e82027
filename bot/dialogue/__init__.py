"""The conversation, PURE: the step function, its tables, the ordering, registration and volunteer dialogues.

Imports intents/ and itself only: no Flask, SQL, HTTP client, wall clock or other bot room (tests/test_walls.py).
"""
