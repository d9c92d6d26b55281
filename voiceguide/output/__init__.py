"""Writing a session to files: audio formats, chapters, captions and cues."""
