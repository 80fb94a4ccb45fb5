"""convsram: a live simulator of MIT's Conv-SRAM in-memory-computing macro."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("convsram")
except PackageNotFoundError:  # running from a checkout without install
    __version__ = "0.1.0"
