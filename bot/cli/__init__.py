"""The leifeng command line, one module per command group. Errors are one clear line, never a traceback."""
