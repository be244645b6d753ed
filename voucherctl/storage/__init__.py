"""What voucherctl keeps on disk: config.toml and its profiles, private files (0600 in 0700
folders, only what voucherctl creates), the codes taken out of SPiD, and the record of changes.
"""
