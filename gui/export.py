"""Taking results away: pictures of the window or of one view (PNG, or SVG through QtSvg's
QSvgGenerator), recordings of playback (animated GIF with Pillow, MP4 with imageio-ffmpeg when it is
installed), the current frame's signals and the session's results (CSV and JSON).

The writers are plain functions that raise :class:`ExportError` (one line: what and why) so the
command line and the tests can use them; :func:`run_action` wires them to the window's Export menu,
with file dialogs and a message box for errors (never a traceback).
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from convsram.core import files
from convsram.core.session import NO_LABEL, Frame, Session

PICTURE_FILTER = "PNG picture (*.png);;SVG drawing (*.svg)"
RECORD_FILTER = "Animated GIF (*.gif);;MP4 video (*.mp4)"
DATA_FILTER = "CSV table (*.csv);;JSON (*.json)"
RECORD_FPS = 10  # frames per second of a recording (playback is sampled at this rate)
RECORD_WIDTH = 960  # recordings are scaled down to at most this width (GIF size, memory)
MAX_RECORD_S = 120  # a recording stops by itself after this long (memory of a GIF's frames)
ACTION_NAMES = ("save_window", "save_view", "record", "export_frame", "export_results")


class ExportError(OSError):
    """A file could not be written (message: which file and why, one line)."""


def _target(path: Path | str, suffixes: Iterable[str]) -> tuple[Path, str]:
    """The path and its kind, if a file of one of `suffixes` can be written there (checked before any
    work); ExportError otherwise."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    allowed = tuple(suffixes)
    if kind not in allowed:
        raise ExportError(f"{path.name}: choose a file ending in {' or '.join('.' + s for s in allowed)}")
    try:
        files.check_output(path, allowed, "")
    except OSError as exc:
        raise ExportError(str(exc).strip()) from None
    return path, kind


def _write_text(path: Path, text: str) -> Path:
    """Write atomically: the old file stays whole until the new one is complete."""
    try:
        files.write_text(path, text)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def _save_image(image: QtGui.QPixmap | QtGui.QImage, path: Path) -> Path:
    """A pixmap or image as a PNG, atomically."""
    try:
        with files.atomic_path(path) as tmp:
            png = image.toImage() if isinstance(image, QtGui.QPixmap) else image
            if not png.save(str(tmp)):  # the temporary name keeps the .png suffix: PNG
                raise ExportError(f"{path}: cannot write (no permission, or the disk is full?)")
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


# --- pictures ----------------------------------------------------------------------------------------
def save_png(widget: QtWidgets.QWidget, path: Path | str, size: tuple[int, int]) -> Path:
    """The widget grabbed as a PNG of exactly `size` (w, h) pixels (the snapshot commands)."""
    path, _ = _target(path, ("png",))
    pixmap = widget.grab()
    if (pixmap.width(), pixmap.height()) != size:
        pixmap = pixmap.scaled(*size)
    return _save_image(pixmap, path)


def save_picture(widget: QtWidgets.QWidget, path: Path | str) -> Path:
    """The widget as it is on screen: PNG (pixels) or SVG (vector paint commands; images embedded)."""
    path, kind = _target(path, ("png", "svg"))
    if kind == "png":
        return _save_image(widget.grab(), path)
    try:
        from PySide6.QtSvg import QSvgGenerator
    except ImportError:  # pragma: no cover - PySide6-Essentials ships QtSvg
        raise ExportError("SVG needs the QtSvg module of PySide6, which is not installed") from None
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buffer)
    size = widget.size()
    gen.setSize(size)
    gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
    gen.setTitle(widget.windowTitle() or type(widget).__name__)
    gen.setDescription("convsram: Conv-SRAM in-memory computing, live")
    painter = QtGui.QPainter(gen)
    try:
        widget.render(painter, QtCore.QPoint(0, 0))
    finally:
        painter.end()
    buffer.close()
    try:
        files.write_bytes(path, bytes(buffer.data().data()))
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


# --- the frame's signals and the session's results ----------------------------------------------------
def frame_record(frame: Frame, session: Session) -> dict[str, Any]:
    """Everything the views show of one invocation, as plain data (JSON-ready)."""
    p = frame.place
    return {
        "image": frame.image, "label": None if frame.label == NO_LABEL else frame.label,
        "drawn": session.is_drawing(frame.image),
        # steps: the image's array invocations and digital steps; invocations: the array's alone
        "step": frame.index, "steps": frame.n_frames, "invocations_so_far": frame.invocations,
        "invocations": frame.n_invocations,
        "layer": frame.layer_name, "layer_step": p.layer_step, "stage_steps": frame.layer_frames,
        # a digital step (conv2.sum, pool1, ...): the array rests; its signals below are its last invocation's
        "digital_step": p.node,
        "tile": p.tile, "window": None if p.window is None else list(p.window), "mode": frame.mode,
        "chip_seed": session.seed, "ideal_chip": session.config.is_ideal(),
        "adc_lsb_V": frame.adc_lsb, "time_ns": frame.time_ns,
        "rows": {"x": frame.x.tolist(), "v_dac_V": frame.v_dac.tolist()},
        "columns": {"column": p.columns.tolist(), "filter": p.filters.tolist(),
                    "v_p_V": frame.v_p.tolist(), "v_n_V": frame.v_n.tolist(), "diff_V": frame.diff.tolist(),
                    "ideal_diff_V": frame.ideal_diff.tolist(), "code": frame.codes.tolist(),
                    "ideal_code": frame.ideal_codes.tolist()},
        "energy_pj": {"invocation": frame.energy, "layer": frame.energy_layer, "image": frame.energy_image,
                      "session": frame.energy_session},
        "prediction": frame.prediction,
        "scores": None if frame.scores is None else [float(v) for v in frame.scores],
    }


FRAME_CSV_HEADER = ("quantity", "index", "array_index", "value", "unit")


def frame_rows(frame: Frame, session: Session) -> Iterator[tuple[Any, ...]]:
    """The frame as one long table: (quantity, index, array_index, value, unit). Per-row quantities
    (x, v_dac) are indexed by array row; per-column ones (v_p ... ideal_code) by evaluated column, with
    its array column; energies by component, for this invocation, layer, image and the session."""
    rec = frame_record(frame, session)
    for key in ("image", "label", "step", "invocations_so_far", "invocations", "layer", "layer_step", "tile",
                "mode", "chip_seed", "adc_lsb_V", "time_ns", "prediction"):
        value = rec[key]
        yield (key, "", "", "" if value is None else value, {"adc_lsb_V": "V", "time_ns": "ns"}.get(key, ""))
    for row, (x, v) in enumerate(zip(frame.x, frame.v_dac, strict=True)):
        yield ("x", row, row, int(x), "code")
        yield ("v_dac", row, row, float(v), "V")
    cols = frame.place.columns
    for name, values, unit in (("v_p", frame.v_p, "V"), ("v_n", frame.v_n, "V"), ("diff", frame.diff, "V"),
                               ("ideal_diff", frame.ideal_diff, "V"), ("codes", frame.codes, "LSB"),
                               ("ideal_codes", frame.ideal_codes, "LSB")):
        for j, v in enumerate(values):
            yield (name, j, int(cols[j]), int(v) if unit == "LSB" else float(v), unit)
    for scope, ledger in rec["energy_pj"].items():
        for comp, v in ledger.items():
            yield (f"energy_{scope}", "", comp, float(v), "pJ")


def results_rows(session: Session) -> list[dict[str, Any]]:
    return [r.as_dict() for r in session.stats.results]


def write_frame(frame: Frame, session: Session, path: Path | str) -> Path:
    """The frame's signals as CSV (one long table) or JSON."""
    path, kind = _target(path, ("csv", "json"))
    if kind == "json":
        return _write_text(path, json.dumps(frame_record(frame, session), indent=1))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FRAME_CSV_HEADER)
    w.writerows(frame_rows(frame, session))
    return _write_text(path, out.getvalue())


def write_results(session: Session, path: Path | str) -> Path:
    """Every image the session ran to its answer: label, prediction, correct, energy (by component)."""
    path, kind = _target(path, ("csv", "json"))
    rows = results_rows(session)
    if kind == "json":
        n = len(session.stats.images)
        doc = {"chip_seed": session.seed, "ideal_chip": session.config.is_ideal(),
               "model": str(session.model_path) if session.model_path else None,
               "test_images": n, "correct": len(session.stats.correct),
               "accuracy": session.stats.accuracy, "weight_write_pj": session.write_pj, "images": rows}
        return _write_text(path, json.dumps(doc, indent=1))
    out = io.StringIO()
    fields = ["image", "label", "prediction", "correct", "drawn", "energy_pj",
              *[f"energy_{c}_pj" for c in session.stats.energy_pj]]
    w = csv.DictWriter(out, fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    return _write_text(path, out.getvalue())


# --- recordings ----------------------------------------------------------------------------------------
def qimage_rgb(image: QtGui.QImage, width: int | None = RECORD_WIDTH) -> np.ndarray:
    """(h, w, 3) uint8 of a QImage / QPixmap's image, scaled down to `width` (even sizes, for video)."""
    if width is not None and image.width() > width:
        image = image.scaledToWidth(width, QtCore.Qt.TransformationMode.SmoothTransformation)
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h = image.width() // 2 * 2, image.height() // 2 * 2
    arr = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return arr[:h, :w * 3].reshape(h, w, 3).copy()


def mp4_available() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


MP4_MISSING = ("MP4 needs the imageio-ffmpeg package (it brings its own ffmpeg): "
               "pip install 'convsram[video]'; GIF works without it")


class Movie:
    """Frames in, a GIF or an MP4 out. MP4 frames stream to ffmpeg as they come; GIF frames are kept
    (palette images, 1 byte a pixel) until :meth:`close` writes the file. Both are written to a
    temporary file next to the target that replaces it only in :meth:`close`; :meth:`abort` (or an
    exception) leaves an existing file untouched."""

    def __init__(self, path: Path | str, fps: float = RECORD_FPS) -> None:
        self.path, self.kind = _target(path, ("gif", "mp4"))
        self.fps = float(fps)
        self.frames = 0
        self._gif: list[Any] = []
        self._palette: Any = None
        self._writer: Any = None
        self._size: tuple[int, int] | None = None
        self._atomic: Any = None  # the temporary file's context (files.atomic_path), once opened
        self._tmp: Path | None = None
        if self.kind == "mp4" and not mp4_available():
            raise ExportError(MP4_MISSING)

    def _temporary(self) -> Path:
        if self._tmp is None:
            try:
                self._atomic = files.atomic_path(self.path)
                self._tmp = self._atomic.__enter__()
            except OSError as exc:
                raise ExportError(f"{self.path}: cannot write ({exc.strerror or exc})") from None
        return self._tmp

    def abort(self) -> None:
        """Drop what was recorded; an existing file at the path stays as it was."""
        self._gif = []
        try:
            if self._writer is not None:
                self._writer.close()
        except (OSError, RuntimeError):
            pass
        finally:
            self._writer = None
            if self._atomic is not None:
                self._atomic.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)
                self._atomic = self._tmp = None

    def add(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        if self._size is None:
            self._size = (w, h)
        elif (w, h) != self._size:  # the window was resized: keep the first size
            rgb = _fit(rgb, *self._size)
        if self.kind == "gif":
            from PIL import Image

            img = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
            if self._palette is None:  # one palette for the whole film: smaller, no flicker
                self._palette = _gif_palette(img)
            self._gif.append(img.quantize(palette=self._palette, dither=Image.Dither.NONE))
        else:
            if self._writer is None:
                import imageio_ffmpeg

                self._writer = imageio_ffmpeg.write_frames(
                    str(self._temporary()), self._size, fps=self.fps, codec="libx264", quality=7,
                    macro_block_size=2, pix_fmt_out="yuv420p", ffmpeg_log_level="error")
                self._writer.send(None)
            self._writer.send(np.ascontiguousarray(rgb))
        self.frames += 1

    def close(self) -> Path:
        """Write the file (GIF) or finish the stream (MP4); ExportError if nothing was recorded."""
        if self.frames == 0:
            self.abort()
            raise ExportError(f"{self.path}: nothing was recorded")
        try:
            if self.kind == "mp4":
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
            elif self._gif:
                self._gif[0].save(self._temporary(), format="GIF", save_all=True, append_images=self._gif[1:],
                                  loop=0, duration=round(1000 / self.fps), optimize=False, disposal=1)
            self._gif = []
            atomic, self._atomic, self._tmp = self._atomic, None, None
            atomic.__exit__(None, None, None)  # the complete file replaces the target
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError | RuntimeError):
                raise ExportError(f"{self.path}: cannot write ({exc})") from None
            raise
        return self.path


def _theme_colours() -> list[tuple[int, int, int]]:
    """Every colour that carries a meaning on screen (theme palette, layer hues, energy colours)."""
    from convsram.gui import theme

    names = [v for v in vars(theme).values() if isinstance(v, str) and v.startswith("#") and len(v) == 7]
    names += list(theme.ENERGY_COLORS.values()) + [theme.layer_color(i) for i in range(6)]
    names += ["#000000", "#ffffff", "#5a6578", "#56627a", "#8896ab", "#06301f", "#3a0a0a", "#33290a"]
    return sorted({theme.hex_rgb(c) for c in names})


def _gif_palette(first: Any) -> Any:
    """A 256-colour palette: the meaningful colours exactly (a colour first seen later in the film, the
    N line's red, say, must not turn grey), the rest adapted to the first frame."""
    from PIL import Image

    fixed = _theme_colours()[:128]
    adaptive = first.quantize(colors=256 - len(fixed), method=Image.Quantize.MEDIANCUT).getpalette()
    flat = [c for rgb in fixed for c in rgb] + list(adaptive[:3 * (256 - len(fixed))])
    flat += [0] * (768 - len(flat))
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat)
    return palette


def _fit(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    out = np.zeros((h, w, 3), np.uint8)
    hh, ww = min(h, rgb.shape[0]), min(w, rgb.shape[1])
    out[:hh, :ww] = rgb[:hh, :ww]
    return out


class Recorder(QtCore.QObject):
    """Samples a widget at RECORD_FPS while it plays and feeds a :class:`Movie`."""

    stopped = QtCore.Signal(str)  # the file written, or an error message

    def __init__(self, widget: QtWidgets.QWidget, path: Path | str, fps: float = RECORD_FPS,
                 max_s: float = MAX_RECORD_S) -> None:
        super().__init__(widget)
        self.widget = widget
        self.movie = Movie(path, fps)
        self.max_frames = max(1, math.ceil(max_s * fps))
        self.started = time.perf_counter()
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(round(1000 / fps))
        self.timer.timeout.connect(self.capture)
        self.timer.start()
        self.capture()

    @property
    def frames(self) -> int:
        return self.movie.frames

    @QtCore.Slot()
    def capture(self) -> None:
        self.movie.add(qimage_rgb(self.widget.grab().toImage()))
        if self.movie.frames >= self.max_frames:
            self.stop()

    def stop(self) -> Path:
        """Stop and write the file; ExportError if it cannot be written."""
        self.timer.stop()
        try:
            path = self.movie.close()
        except ExportError as exc:
            self.stopped.emit(str(exc))
            raise
        self.stopped.emit(str(path))
        return path


# --- the window's Export menu ----------------------------------------------------------------------------
def show_message(parent: QtWidgets.QWidget, title: str, text: str,
                 error: bool = True) -> QtWidgets.QMessageBox:
    """A message box that does not block the event loop (a demo keeps playing behind it)."""
    icon = QtWidgets.QMessageBox.Icon.Warning if error else QtWidgets.QMessageBox.Icon.Information
    box = QtWidgets.QMessageBox(icon, title, text, QtWidgets.QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    box.open()
    return box


def _ask_path(parent: QtWidgets.QWidget, title: str, name: str, filters: str) -> Path | None:
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(parent, title, name, filters)
    if not path:
        return None
    p = Path(path)
    if not p.suffix and chosen:  # no extension typed: take the chosen filter's
        p = p.with_suffix(chosen.split("*")[-1].rstrip(")"))
    return p


def views(win: Any) -> dict[str, QtWidgets.QWidget]:
    """The window's views that can be saved on their own, by title."""
    from convsram.gui.views.plotting import Panel

    out: dict[str, QtWidgets.QWidget] = {}
    page = win.centralWidget()
    for panel in page.findChildren(Panel) if page is not None else []:
        if panel.isVisible():
            title = QtGui.QTextDocumentFragment.fromHtml(panel.title.text()).toPlainText() or "view"
            name, k = title, 2
            while name in out:
                name, k = f"{title} ({k})", k + 1
            out[name] = panel
    return out


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "view"


def run_action(win: Any, name: str) -> None:
    """An Export menu action on the main window: ask where, write, report errors in a message box."""
    session: Session | None = win.session
    try:
        if name == "save_window":
            path = _ask_path(win, "Save the window", "convsram.png", PICTURE_FILTER)
            if path:
                save_picture(win, path)
        elif name == "save_view":
            found = views(win)
            if not found:
                return
            choice, ok = QtWidgets.QInputDialog.getItem(win, "Save a view", "View", list(found), 0, False)
            if ok and choice:
                path = _ask_path(win, f"Save '{choice}'", f"convsram-{_slug(choice)}.png", PICTURE_FILTER)
                if path:
                    save_picture(found[choice], path)
        elif name == "record":
            toggle_recording(win)
        elif session is None:
            return
        elif name == "export_frame":
            path = _ask_path(win, "Export this frame's signals", f"frame-{session.image}-{session.frame}.csv",
                             DATA_FILTER)
            if path:
                write_frame(session.frame_at(), session, path)
        elif name == "export_results":
            path = _ask_path(win, "Export the session's results", "results.csv", DATA_FILTER)
            if path:
                write_results(session, path)
    except ExportError as exc:
        show_message(win, "Export failed", str(exc))


def toggle_recording(win: Any) -> Recorder | None:
    """Start recording the window (asks for the file), or stop and write the recording."""
    rec: Recorder | None = getattr(win, "recorder", None)
    action = win.named_actions.get("record") if hasattr(win, "named_actions") else None
    if action is not None:
        action.setCheckable(True)  # checked while recording
    if rec is not None:
        win.recorder = None
        if action is not None:
            action.setChecked(False)
        try:
            path = rec.stop()
        except ExportError as exc:
            show_message(win, "Recording failed", str(exc))
            return None
        win.statusBar().showMessage(f"recorded {rec.frames} frames to {path}", 8000)
        return None
    target = _ask_path(win, "Record playback to", "convsram.gif", RECORD_FILTER)
    if action is not None:
        action.setChecked(False)
    if not target:
        return None
    try:
        rec = Recorder(win, target)
    except ExportError as exc:
        show_message(win, "Recording failed", str(exc))
        return None
    win.recorder = rec
    if action is not None:
        action.setChecked(True)
    win.statusBar().showMessage(f"● recording to {target} — the same menu entry (Ctrl+R) stops it", 8000)
    return rec


# --- headless recording (`convsram record`) ---------------------------------------------------------------
def record_offscreen(window: Any, session: Session, out: Path | str, frames: int, every: int | None,
                     fps: float = RECORD_FPS, progress: Any = None) -> tuple[Path, int]:
    """Film `window` (a main or demo window on `session`, already laid out) for `frames` frames, moving
    `every` invocations between frames (default: spread over the rest of the image), and write the GIF
    or MP4. Returns the path and the number of invocations each frame moved."""
    if frames < 1:
        raise ValueError(f"--frames must be at least 1, got {frames}")
    if every is None:
        left = session.current.n_frames - 1 - session.frame
        every = max(1, math.ceil(left / max(frames - 1, 1)))
    if every < 1:
        raise ValueError(f"--every must be at least 1 invocation, got {every}")
    movie = Movie(out, fps)
    try:
        for k in range(frames):
            if k:
                session.run("step", every)
            window.refresh()
            QtWidgets.QApplication.processEvents()
            movie.add(qimage_rgb(window.grab().toImage(), width=None))
            if progress is not None:
                progress(k + 1)
    except BaseException:
        movie.abort()  # Ctrl-C or an error: the previous file stays whole
        raise
    return movie.close(), every
