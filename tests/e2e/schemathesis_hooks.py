"""Loaded by schemathesis (SCHEMATHESIS_HOOKS) in the contract test: how to make a body of
the media types it cannot make by itself."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

MESSAGE = (
    b"From: Ada <ada@acme.example>\r\nTo: support@ledgerdesk.local\r\nSubject: %b\r\n"
    b"Message-ID: <%b@acme.example>\r\n\r\n%b\r\n"
)

# Received mail: well-formed messages, and anything at all (which must be quarantined).
messages = st.builds(
    lambda subject, mid, body: MESSAGE % (subject, mid, body),
    st.binary(max_size=80),
    st.binary(min_size=1, max_size=20).map(lambda b: b.hex().encode()),
    st.binary(max_size=400),
) | st.binary(max_size=400)

schemathesis.openapi.media_type("message/rfc822", messages)
