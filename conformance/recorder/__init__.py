"""Recorded sessions: split loopback traffic into messages, annotate every byte, replay them.

Modules: `wire` (HTTP/1.1 and WebSocket message splitting), `annotate` (per-byte explanations and
variable fields), `session` (the vectors/sessions/ file format), `proxy` (the recording proxy),
`replay` (drives a session's client side against a target), `walkthrough` (the deterministic
recording client), `compare` (byte-level comparison of two recordings of the same client),
`servers` (starting and stopping targets), `record` (the recording command).
"""
