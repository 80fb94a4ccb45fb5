"""Entry points of demo mode: `convsram --demo [--script FILE]` and `convsram snapshot --demo`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from convsram.gui.app import (
    Position,
    application,
    check_interrupt,
    exec_app,
    has_display,
    offscreen_session,
    open_session,
    show_offscreen,
    use_offscreen,
)
from convsram.gui.app import place_session as _place

if TYPE_CHECKING:
    from convsram.core.session import Session
    from convsram.gui.demo.window import DemoWindow

MIN_SIZE = (960, 540)
MAX_FRAMES = 10_000  # frames `convsram record` will attempt
MAX_GIF_PIXELS = 2_000_000_000  # a GIF's frames are kept until the end, 1 byte a pixel


def run_demo(script: Path | None = None, model: Path | None = None, mnist: Path | None = None,
             seed: int = 0, image: int | None = None) -> int:
    """The app in demo mode, full screen; Esc leaves to the normal window."""
    if not has_display():
        raise ValueError("no display found (DISPLAY / WAYLAND_DISPLAY unset); run on a desktop, or render "
                         "a picture with `convsram snapshot --demo --out FILE.png`")
    if script is not None and not Path(script).is_file():
        raise ValueError(f"--script {script}: file not found")
    app = application()
    from convsram.gui.demo import enter_demo
    from convsram.gui.main_window import MainWindow, remembered_image

    session, error = open_session(model, mnist, seed, remembered_image(0) if image is None else image)
    window = MainWindow(session, error, model_path=model, mnist_dir=mnist, seed=seed)
    if session is None:  # nothing to demonstrate: the normal window says what is missing
        window.show()
    else:
        enter_demo(window, script)
    return exec_app(app)


def build_demo(session: Session, size: tuple[int, int], technical: bool = False) -> DemoWindow:
    """A demo window at `size`, not on screen, showing the session's current frame (paused), with plain
    or `technical` captions."""
    from convsram.gui.demo.window import DemoWindow

    app = application()
    demo = DemoWindow(session)
    demo.set_technical(technical)
    show_offscreen(demo, size)
    demo.pacer.invalidate(demo)
    demo.refresh()
    app.processEvents()
    return demo


def snapshot_demo(out: Path, size: tuple[int, int] = (1920, 1080), pos: Position | None = None,
                  model: Path | None = None, mnist: Path | None = None, seed: int = 0,
                  technical: bool = False) -> Path:
    """Render the demo layout at `pos` to a PNG of exactly `size` pixels, offscreen (plain or
    `technical` captions)."""
    w, h = size
    if w < MIN_SIZE[0] or h < MIN_SIZE[1]:
        raise ValueError(f"--size {w}x{h} is smaller than the demo's minimum {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    out, session = offscreen_session(out, pos or Position(), model, mnist, seed)
    demo = build_demo(session, size, technical)
    from convsram.gui.export import save_png

    try:
        save_png(demo, out, (w, h))
    finally:
        demo.close()
        demo.deleteLater()
    return out


def record(out: Path, size: tuple[int, int], pos: Position, frames: int, every: int | None, fps: float,
           demo: bool = False, model: Path | None = None, mnist: Path | None = None,
           seed: int = 0, technical: bool = False) -> tuple[Path, int, int]:
    """`convsram record`: film the window (or the demo layout) offscreen; (path, frames, every)."""
    from convsram.core.session import Session
    from convsram.gui.export import Movie, record_offscreen
    from convsram.gui.main_window import MainWindow

    out = Path(out)
    Movie(out, fps)  # a bad name, folder or missing MP4 support fails here, before any work
    w, h = size
    if w < MIN_SIZE[0] or h < MIN_SIZE[1]:
        raise ValueError(f"--size {w}x{h} is smaller than the window's minimum {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    if not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"--frames must be 1..{MAX_FRAMES}, got {frames}")
    if out.suffix.lower() == ".gif" and frames * w * h > MAX_GIF_PIXELS:
        raise ValueError(f"{frames} frames of {w}x{h} is more than a GIF recording holds in memory "
                         f"({MAX_GIF_PIXELS // 10**6} million pixels in all); record fewer frames, a smaller "
                         f"--size, or an MP4")
    if every is not None and every < 1:
        raise ValueError(f"--every must be at least 1 invocation, got {every}")
    use_offscreen()
    session = Session.open(model, mnist, seed=seed)
    _place(session, pos)
    if demo:
        window: DemoWindow | MainWindow = build_demo(session, size, technical)
    else:
        application()
        window = MainWindow(session, remember=False, model_path=model, mnist_dir=mnist, seed=seed)
        window.set_technical(technical)
        show_offscreen(window, size)
    try:
        check_interrupt()
        path, every = record_offscreen(window, session, out, frames, every, fps,
                                       progress=lambda _k: check_interrupt())
    finally:
        window.close()
        window.deleteLater()
    return path, frames, every
