"""smsgw — an SMS gateway appliance for USB GSM modems."""

__version__ = "0.1.0"
