"""The department console: pages a clerk uses in a browser, served by the issuer service under
``/console`` — log in with the department's token, find certificates by number, holder name or
status, upload a CSV/JSONL batch and watch it get sealed and anchored, follow one certificate's
progress, revoke with a reason, download its PDF and proof, read the audit trail.

Server-rendered HTML, Chinese first with English beside it, large type, no external assets.
The token lives in an HttpOnly, SameSite=Strict cookie; every form carries a CSRF token derived
from it; a certificate of another department (or of a type outside the token) is 404 like one
that does not exist."""

from issuer.console.auth import COOKIE, LOGIN_PATH, console_token
from issuer.console.routes import install_console

__all__ = ["COOKIE", "LOGIN_PATH", "console_token", "install_console"]
