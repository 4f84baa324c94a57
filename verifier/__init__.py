"""Verification of certificates against seals, the registry and recognition agreements."""
