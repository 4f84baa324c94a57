"""The checks, one small function each, grouped by what they look at. Each takes the evidence
so far and the context, and returns a ``Check`` (or a ``Found``: the check with what it learnt).
A check may raise: the runner turns the exception into an ERROR, never an INVALID."""
