"""Hands-free control from other programs: an MPRIS2 player on the D-Bus session bus.

Headset buttons (through BlueZ's ``mpris-proxy``), media keys, the desktop's media controls,
KDE Connect and GSConnect on a phone, and ``playerctl`` all speak MPRIS2. The pieces, by
thread:

* :mod:`voiceguide.remote.link` (no thread of its own, stdlib only): what the two sides share.
  The playback loop publishes a :class:`~voiceguide.remote.link.Snapshot` of the session; the
  D-Bus side reads it, and sends :class:`~voiceguide.remote.link.Request` objects back through
  a thread-safe queue.
* :mod:`voiceguide.remote.bridge` (the playback loop's thread): turns what the loop shows into
  snapshots and carries requests out, with the same answers as the keys.
* :mod:`voiceguide.remote.server` (a background thread with its own asyncio loop): connects to
  the session bus, claims the name, serves :mod:`voiceguide.remote.mpris` and emits the
  signals. Any failure there is one debug-level note; playing goes on as without it.
"""
