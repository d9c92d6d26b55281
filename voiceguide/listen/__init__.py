"""Voice commands: hear "guide pause" while both thumbs are busy (docs/listen.md).

The stage, piece by piece, each callable alone:

* :mod:`~voiceguide.listen.vocabulary`: what can be said, and the player command each phrase gives;
* :mod:`~voiceguide.listen.gate`: when the session is silent enough to act on what is heard;
* :mod:`~voiceguide.listen.recognizer`: 16 kHz PCM in, phrases heard out (pocketsphinx, offline);
* :mod:`~voiceguide.listen.capture`: the microphone, through ALSA's ``arecord``;
* :mod:`~voiceguide.listen.listener`: capture and recognition in threads of their own, for a player;
* :mod:`~voiceguide.listen.recording`, :mod:`~voiceguide.app.detecting`: the same over a WAV file.

Audio is kept in memory only, never written anywhere and never sent anywhere.
"""
