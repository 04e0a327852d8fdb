"""End-to-end media security: MIKEY key transport, SDP, SRTP, RTP/RTCP and G.711.

Every codec here is sans-IO (bytes in, values out); clocks and randomness are passed in by
the caller.  Decoders are strict: anything that does not follow the wire format raises a
:class:`~ethvoip.spec.errors.DecodeError` and nothing is half-built.  See ``docs/media.rst``.
"""
