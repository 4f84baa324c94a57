"""Issuing departments: certificate PDFs, e-seals and batch anchoring (see the issuer issue)."""
