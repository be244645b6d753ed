"""Commands on Spaaza vouchers: ``claim``, ``unclaim``, ``lock``, ``unlock``, ``redeem`` and
``vouchers``, with the voucher and user options they share.
"""
