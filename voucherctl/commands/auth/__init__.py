"""``voucherctl auth login|status|logout``: credentials into and out of the OS keyring, one
module for the group's commands and one for each API's login.
"""
