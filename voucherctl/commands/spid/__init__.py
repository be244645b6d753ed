"""Commands on SPiD vouchers and voucher groups: ``show``, ``handout``, ``groups``, ``group``,
``generate`` and ``codes``.
"""
