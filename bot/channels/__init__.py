"""WeChat and WeCom protocols and API clients: parse and sign what WeChat sends, call what it offers.

No Flask and no domain rooms (tests/test_walls.py).
"""
