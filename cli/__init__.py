"""The ``ecert`` command line."""
