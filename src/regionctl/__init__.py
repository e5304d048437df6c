"""regionctl: declare OpenStack regions once, derive and check everything region-specific."""

__version__ = "0.1.0"
