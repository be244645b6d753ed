"""One change, apart from the command line: the operation a command declares, the request
parameters checked from options or CSV cells alike, and how an unknown outcome is settled.
Knows no CLI; the bulk runner and single commands both use it.
"""
