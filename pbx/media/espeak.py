"""espeak-ng through its C API (ctypes), from the library bundled by `espeakng-loader`.

The library keeps global state (one voice, one callback, one output buffer per process), so
one `EspeakLibrary` per process loads it on first use — never at import — and every call
holds one process-wide lock. Synthesis is synchronous: the library calls our callback with
chunks of 22050 Hz mono 16-bit samples until the text is spoken.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
CHARS_UTF8 = 1
POS_CHARACTER = 1
PARAM_RATE = 1  # words per minute
EE_OK = 0

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakFailure(RuntimeError):
    """The library could not be loaded or refused a call."""


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit little-endian samples and their rate."""

    data: bytes
    rate: int


class EspeakLibrary:
    """The process's one handle on libespeak-ng. Use `shared()`; do not construct twice."""

    _instance: EspeakLibrary | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._declare()
        data_path = espeakng_loader.get_data_path().encode()
        rate = self._lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise EspeakFailure(f"espeak_Initialize failed ({rate})")
        self.rate: int = rate
        self._callback = _SynthCallback(self._collect)  # kept alive as long as the library
        self._lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def shared(cls) -> EspeakLibrary:
        """The process-wide instance, created (and the library initialised) on first use."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def synthesise(self, text: str, voice: str, *, words_per_minute: int) -> Pcm:
        """Speak `text` (plain text, not SSML) with `voice`; return all samples."""
        encoded = text.encode("utf-8") + b"\0"
        with self._lock:
            self._check(self._lib.espeak_SetVoiceByName(voice.encode()), "SetVoiceByName")
            self._check(self._lib.espeak_SetParameter(PARAM_RATE, words_per_minute, 0), "rate")
            self._chunks = []
            status = self._lib.espeak_Synth(
                encoded, len(encoded), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None
            )
            self._check(status, "Synth")
            self._check(self._lib.espeak_Synchronize(), "Synchronize")
            data, self._chunks = b"".join(self._chunks), []
        return Pcm(data, self.rate)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # 0 = go on

    def _declare(self) -> None:
        lib = self._lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]  # fmt: skip
        for name in ("espeak_SetVoiceByName", "espeak_SetParameter", "espeak_Synth"):
            getattr(lib, name).restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status != EE_OK:
            raise EspeakFailure(f"espeak_{what} failed ({status})")
