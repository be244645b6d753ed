"""Talking to the user: the Environment (streams, terminal flags, options, the HTTP session
factory: one object injected everywhere), and the output formats (tables, JSON, CSV).
"""
