"""Where ciphertext lives: the backend protocol and its implementations.

Backends only ever see ciphertext; they know nothing of keys or of the stream format.
"""

from storage.backends.base import Backend, Writer
from storage.backends.local import LocalBackend
from storage.backends.memory import MemoryBackend

__all__ = ["Backend", "LocalBackend", "MemoryBackend", "Writer"]
