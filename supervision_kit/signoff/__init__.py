"""Joint sign-off: completeness, signatures, addenda, verification and history.

Signatures and addenda are journal events (``type`` ``sign`` / ``addendum``) written through
the one append path, so the hash chain covers them and the lock rule (``core.state``) applies.
"""

from .embed import embed_signoff, signoff_markdown
from .history import history
from .sign import add_addendum, missing_required, sign
from .verify import Verification, verify

__all__ = ["Verification", "add_addendum", "embed_signoff", "history", "missing_required",
           "sign", "signoff_markdown", "verify"]
