"""chargemaster: validate and statically code a hospital chargemaster, report to Excel."""

__version__ = "0.1.0"
