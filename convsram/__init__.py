"""convsram: a live simulator of MIT's Conv-SRAM in-memory-computing macro."""


def __getattr__(name: str) -> str:
    # __version__ on first use: importlib.metadata is slow to import, and the command line must reach
    # its Ctrl-C handling within a few milliseconds of starting
    if name != "__version__":
        raise AttributeError(f"module 'convsram' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("convsram")
    except PackageNotFoundError:  # running from a checkout without install
        return "0.1.0"
