"""Developer tools: the fake WeChat server, request simulator, terminal chat, demo and sample data.

Never imported by production code (tests/test_walls.py); the CLI starts them on demand.
"""
