"""Making the audio: speech engines, phrase cache, tones, loudness, the renderer."""
