"""Media: audio normalisation to the master format, text-to-speech and profile pictures.

Pure functions over bytes: no database, no Flask, no files left behind.

- `pbx.media.audio`    normalise_audio() and audio helpers (tone, silence, concat, envelopes)
- `pbx.media.tts`      TextToSpeech engines: gTTS (online), espeak-ng (offline), fallback
- `pbx.media.pictures` normalise_picture(), placeholder_picture(), draw_avatar()
- `pbx.media.errors`   one exception class per failure, each with a stable `code`
"""
