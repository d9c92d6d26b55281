"""Playing a session: the audio device, the playback loop, keys and views."""
