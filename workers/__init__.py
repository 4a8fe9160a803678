"""The worker: job loop and processing of message versions (text now, media later).

Knows the content it processes, not HTTP: results are handed back through shuttle's use cases.
"""
