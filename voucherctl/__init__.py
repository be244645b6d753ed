"""voucherctl: administer SPiD and Spaaza vouchers from the command line."""

__version__ = "0.1.0"
