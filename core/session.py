"""The stepping session: one chip running the network on MNIST, frame by frame (one frame = one
invocation of the array, or one output position of a digital step: a layer's tile sum or
requantisation, a pool, an add), with energy counters and commands. Headless; the GUI only renders
:class:`Frame`s.

Every user action is a command (:meth:`Session.run`), so a demo can be scripted and replayed and the
tests can drive the app without clicking. An image is simulated in one go with the detailed chip path
and a noise stream keyed on (chip seed, image index), so stepping back and forth replays identical
frames.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core import energy
from convsram.core.chip import Chip, Invocation, WriteRecord, detail
from convsram.core.config import ChipConfig
from convsram.core.inference import ChipEvaluator, digital_energy_pj
from convsram.core.layers import INPUT
from convsram.core.mapping import ArrayMap, Place, place, timeline
from convsram.core.mnist import Split, load
from convsram.core.network import Model, fc_scores, forward, input_codes, layer_shapes, load_model, op_counts
from convsram.core.paths import DEFAULT_MODEL

COMPONENTS = energy.COMPONENTS
CACHE_IMAGES = 8  # simulated images kept (the current one is never evicted)
NO_LABEL = -1  # the label of a drawn digit
MAX_DRAWINGS = 1000  # drawings kept (a booth runs all day); older ones are forgotten
LOG_LENGTH = 20_000  # commands kept in Session.log: the demo's playback logs ~800 a booth minute, so
# ~25 minutes, ~2 MB (100,000 took ~2 booth hours to reach its ~11 MB plateau: bench/bench_soak.py)
_UIDS = itertools.count(1)  # Session.uid: never reused in a process (unlike id())


@dataclass(frozen=True)
class Change:
    """A session event: the session moved (position, statistics) and, if `chip`, its chip changed too
    (the views' static parts redraw). `version` counts the session's changes."""

    uid: int
    version: int
    chip: bool


Listener = Callable[[Change], None]


@dataclass
class ImageRun:
    """One image simulated on the chip: every invocation's signals, the activations, the scores."""

    image: int
    label: int
    codes_in: np.ndarray  # (28, 28) input codes
    places: list[Place]
    records: dict[tuple[int, int, int], Invocation]  # (layer, tile, chunk) -> batch over positions
    activations: dict[str, np.ndarray]  # forward's record for this single image (batch axis dropped)
    scores: np.ndarray  # (10,)
    prediction: int
    energy: np.ndarray  # (frames, components) pJ of each frame (digital work on the frame doing it)
    cumulative: np.ndarray  # (frames, components) pJ of the image up to and including each frame
    layer_start: list[int]  # first frame of each layer
    stage_start: list[int] = field(default_factory=list)  # first frame of each layer and digital step
    invocations: np.ndarray | None = None  # array invocations up to and including each frame
    write_ns: np.ndarray | None = None  # time of the weight rewrites up to and including each frame, ns

    @property
    def n_frames(self) -> int:
        return len(self.places)

    def layer_of(self, frame: int) -> int:
        return self.places[frame].layer

    def stage_of(self, frame: int) -> int:
        """Index of the stage (a weight layer's invocations, or a digital step) holding `frame`."""
        return int(np.searchsorted(self.stage_start, frame, side="right")) - 1

    def stage_range(self, frame: int) -> tuple[int, int]:
        """[first, end) frames of the stage holding `frame`."""
        st = self.stage_of(frame)
        ends = [*self.stage_start[1:], self.n_frames]
        return self.stage_start[st], ends[st]

    def layer_end(self, layer: int) -> int:
        """The frame after `layer`'s last invocation."""
        return self.stage_range(self.layer_start[layer])[1]

    def pre_adc(self, layer: int) -> np.ndarray:
        """Every ADC input of `layer` in this image, in ADC codes (diff / adc_lsb), flattened."""
        out = [rec.diff.ravel() / rec.adc_lsb for (li, _, _), rec in self.records.items()
               if li == layer]
        return np.concatenate(out) if out else np.zeros(0)


@dataclass(frozen=True)
class FrameIndex:
    """Where each invocation's numbers sit in the batched records (the same for every image)."""

    by_record: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]]  # key -> (frames, positions)
    layer: np.ndarray  # layer of each frame
    count: np.ndarray  # invocations per layer
    layer_start: list[int]
    invocation: np.ndarray  # is each frame an invocation (not a digital step)
    stage_start: list[int]  # first frame of each stage: a layer's invocations, a digital step


_INDEX_CACHE: dict[int, tuple[list[Place], FrameIndex]] = {}


def _frame_index(places: list[Place]) -> FrameIndex:
    hit = _INDEX_CACHE.get(id(places))
    if hit is not None and hit[0] is places:
        return hit[1]
    groups: dict[tuple[int, int, int], tuple[list[int], list[int]]] = {}
    for k, p in enumerate(places):
        if p.invocation:
            f, pos = groups.setdefault((p.layer, p.tile, p.chunk), ([], []))
            f.append(k)
            pos.append(p.position)
    layer = np.array([p.layer for p in places], dtype=np.int64)
    invocation = np.array([p.invocation for p in places], dtype=bool)
    index = FrameIndex(by_record={k: (np.array(f), np.array(pos)) for k, (f, pos) in groups.items()},
                       layer=layer, count=np.bincount(layer[invocation]),
                       layer_start=[k for k, p in enumerate(places) if p.layer_step == 0 and p.invocation],
                       invocation=invocation,
                       stage_start=[k for k, p in enumerate(places)
                                    if (p.layer_step == 0 and p.invocation) or (p.node and p.node_step == 0)])
    _INDEX_CACHE.clear()  # one chip's places at a time
    _INDEX_CACHE[id(places)] = (places, index)
    return index


@dataclass(frozen=True)
class Frame:
    """Everything on screen for one step: an invocation, or a digital step (``place.node`` set), which
    carries its last invocation's signals (the array rests); every number comes from the simulation."""

    image: int
    label: int
    index: int  # frame (step) within the image
    n_frames: int  # steps of the image: its array invocations and its digital steps
    invocations: int  # the image's array invocations up to and including this step
    n_invocations: int  # the image's array invocations
    place: Place
    layer_name: str
    layer_frames: int  # frames of this stage (a layer's invocations, or a digital step)
    x: np.ndarray  # input codes on the active rows (n_rows,)
    v_dac: np.ndarray  # row voltages (n_rows,), V
    v_p: np.ndarray  # (k,) V
    v_n: np.ndarray  # (k,) V
    ideal_diff: np.ndarray  # (k,) V
    codes: np.ndarray  # (k,)
    ideal_codes: np.ndarray  # (k,)
    adc_lsb: float  # V per code
    mode: str
    energy: dict[str, float]  # this step, pJ
    energy_layer: dict[str, float]  # this stage of this image up to this frame, pJ
    energy_image: dict[str, float]  # this image up to this frame, pJ
    energy_session: dict[str, float]  # every completed image of the session + this one so far, pJ
    time_ns: float  # this image up to this frame: its invocations and weight rewrites
    write_ns: float  # of which weight rewrites (a network run in phases), ns
    positions_done: int  # output positions of this layer completed (feature map filling in)
    final: bool  # last frame of the image: prediction is known
    prediction: int | None  # the chip's class (on the final frame)
    scores: np.ndarray | None  # class scores (on the final frame)

    @property
    def diff(self) -> np.ndarray:
        return self.v_n - self.v_p

    @property
    def digital_steps(self) -> int:
        """The image's digital steps up to and including this step."""
        return self.index + 1 - self.invocations

    @property
    def n_digital_steps(self) -> int:
        """The image's digital steps."""
        return self.n_frames - self.n_invocations


@dataclass(frozen=True)
class LayerOpValues:
    """What a weight layer's digital step does at one output position, every filter (class) at once:
    the row tiles' partial codes, their total P, the requantisation u = alpha P + beta, rounded
    (floor(u + 0.5)) and clipped to 0..max_code (the output layer: the class scores u, unrounded)."""

    op: str  # "sum", "requant" or "scores"
    layer: str
    position: int  # output position (row-major)
    tiles: np.ndarray  # (tiles, filters) each tile's ADC code
    total: np.ndarray  # (filters,) P, their sum
    alpha: np.ndarray  # (filters,) scale
    beta: np.ndarray  # (filters,) offset
    scaled: np.ndarray  # (filters,) alpha P + beta
    rounded: np.ndarray  # (filters,) floor(alpha P + beta + 0.5)
    out: np.ndarray  # (filters,) the output code (clipped), or the class score
    max_code: int
    output: bool  # the output layer (class scores)

    @property
    def clipped(self) -> np.ndarray:
        """Filters whose rounded value was clipped to 0 or max_code (none for the class scores)."""
        if self.output:
            return np.zeros(self.out.size, dtype=bool)
        return (self.rounded < 0) | (self.rounded > self.max_code)


@dataclass(frozen=True)
class ImageResult:
    """One image the session ran to its answer: what the chip said and what it cost."""

    image: int
    label: int  # NO_LABEL for a drawing (nobody told the chip what it is)
    prediction: int
    energy_pj: dict[str, float]  # the whole image, by component (weight writes are the session's)
    drawn: bool = False

    @property
    def correct(self) -> bool | None:
        """None for a drawing: there is no true label to compare with."""
        return None if self.label == NO_LABEL else self.prediction == self.label

    def as_dict(self) -> dict[str, Any]:
        return {"image": self.image, "label": None if self.label == NO_LABEL else self.label,
                "prediction": self.prediction, "correct": self.correct, "drawn": self.drawn,
                "energy_pj": sum(self.energy_pj.values()),
                **{f"energy_{c}_pj": v for c, v in self.energy_pj.items()}}


@dataclass
class SessionStats:
    """Test-set images completed (accuracy counts these only) and every answer in order, drawings too."""

    images: set[int] = field(default_factory=set)  # test images completed
    correct: set[int] = field(default_factory=set)
    drawings: set[int] = field(default_factory=set)  # drawings completed
    energy_pj: dict[str, float] = field(default_factory=energy.empty_ledger)  # completed images
    history: list[tuple[int, int, int]] = field(default_factory=list)  # (image, prediction, label), in order
    results: list[ImageResult] = field(default_factory=list)  # every image run to its answer, in order

    @property
    def accuracy(self) -> float | None:
        return len(self.correct) / len(self.images) if self.images else None


# Each digital operation's entry of energy.ENERGY_TABLE (as core.inference.digital_energy_pj prices them)
DIGITAL_PRICE = {"tile_adds": "add", "requant_mults": "mult", "requant_adds": "add",
                 "pool_compares": "compare", "pool_adds": "add", "residual_adds": "add",
                 "argmax_compares": "compare"}


def digital_by_frame(model: Model, places: list[Place], per_layer: list[float]) -> np.ndarray:
    """Each frame's digital-periphery energy (pJ): a layer's tile sums and requantisation on its own
    digital steps, a pool's or an add's on its positions, the argmax on the class scores' step, each
    step's work split evenly over its positions. Any of a layer's digital energy (`per_layer`, core.
    inference.digital_energy_pj) left without a frame of its own is spread over its invocations."""
    graph = model.graph
    out = np.zeros(len(places))
    booked = np.zeros(len(per_layer))
    stages: dict[str, list[int]] = {}
    for k, p in enumerate(places):
        if p.node is not None:
            stages.setdefault(p.node, []).append(k)
    for name, frames in stages.items():
        p = places[frames[0]]
        if p.op is not None:
            spec = graph.layers[p.layer]
            every = spec.digital_ops(graph.in_shapes(spec), graph.shapes[spec.name])
            keys = ("tile_adds",) if p.op == "sum" else ("requant_mults", "requant_adds")
            ops = {key: every[key] for key in keys}
            if p.op == "scores":
                ops["argmax_compares"] = spec.out_channels - 1
            owner = p.layer
        else:
            node = graph.by_name[name]
            ops = node.digital_ops(graph.in_shapes(node), graph.shapes[name])
            owner = graph.owner_layer(name)
        pj = sum(n * energy.e(DIGITAL_PRICE[key]) for key, n in ops.items())
        out[frames] += pj / len(frames)
        booked[owner] += pj
    layer = np.array([p.layer for p in places])
    invocation = np.array([p.invocation for p in places])
    for li, rest in enumerate(np.asarray(per_layer) - booked):
        if abs(rest) > 1e-9 * max(per_layer[li], 1.0):
            mine = invocation & (layer == li)
            out[mine] += rest / mine.sum()
    return out


@dataclass
class _Prebuilt:
    """A chip built (and the current image simulated on it) ahead of a chip change: Session.prebuild."""

    config: ChipConfig
    seed: int
    chip: Chip
    amap: ArrayMap
    writes: list[WriteRecord]
    places: list[Place]
    run: ImageRun | None = None


class Session:
    """A chip, a model and a data set, and where we are: image index and frame index."""

    def __init__(self, model: Model, data: Split, config: ChipConfig | None = None, seed: int = 0,
                 image: int = 0) -> None:
        if len(data) == 0:
            raise ValueError("the data set holds no images")
        self.model, self.data = model, data
        # digits drawn by visitors: image indices len(data), len(data) + 1, ... (see add_drawing)
        self.drawings: dict[int, np.ndarray] = {}
        self._next_drawing = len(data)
        self.resume_image = 0  # the test image to go on with after a drawing
        self.model_path: Path | None = None  # the file the model came from, if any (Session.open)
        self.config = config or ChipConfig()
        self.before_ideal: ChipConfig | None = None  # what ideal mode replaced (see set_ideal)
        self.seed = seed
        self.stats = SessionStats()
        # recent commands, oldest first (bounded: a booth demo plays for hours)
        self.log: deque[tuple[str, tuple[Any, ...]]] = deque(maxlen=LOG_LENGTH)
        self._runs: OrderedDict[int, ImageRun] = OrderedDict()
        # the cache may be filled from a worker thread (prefetch); the lock guards it and the chip swap
        self._lock = threading.RLock()
        self.uid = next(_UIDS)  # what caches outside the session key on (with the generation)
        self.version = 0  # bumped on every change (see subscribe)
        self._listeners: list[Listener] = []
        self._shown: tuple[tuple[int, ...], Frame] | None = None
        self._generation = 0
        self._prebuilt: _Prebuilt | None = None  # see prebuild
        self._layouts: tuple[tuple[int, ...], ArrayMap, list[Place]] | None = None  # see _layout
        self.shapes = layer_shapes(model.layers)
        self._build_chip()
        self.image = int(np.clip(image, 0, len(data) - 1))
        self.frame = 0

    @property
    def digital(self) -> list[float]:
        """Digital periphery energy (pJ) of each layer for one image on the current placement
        (core.inference.digital_energy_pj)."""
        return digital_energy_pj(self.model, self.amap)

    # --- change events -------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        """Bumped whenever the chip changes, so stale prefetches and caches are dropped; a bump is a
        chip change event."""
        return self._generation

    @generation.setter
    def generation(self, value: int) -> None:
        self._generation = value
        self._notify(chip=True)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(Change)` after every change (a command, a chip change); returns the function
        that unsubscribes it. Listeners run on the thread that made the change and should only take
        note (a display coalesces the changes and renders once per tick)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, chip: bool = False) -> None:
        self.version += 1
        change = Change(self.uid, self.version, chip)
        for listener in list(self._listeners):
            listener(change)

    def current_frame(self) -> Frame:
        """The Frame at the session's position: the one source of "now" for every view (cached until
        the session changes)."""
        key = (self.image, self.frame, self.generation, len(self.stats.results))
        if self._shown is None or self._shown[0] != key:
            self._shown = (key, self.frame_at())
        return self._shown[1]

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def open(cls, model_path: Path | str | None = None, mnist_dir: Path | str | None = None,
             config: ChipConfig | None = None, seed: int = 0, image: int = 0) -> Session:
        """Load the model (default: the shipped one) and the MNIST test set; DataError if either fails."""
        path = Path(model_path or DEFAULT_MODEL)
        session = cls(load_model(path), load("test", mnist_dir), config, seed, image)
        session.model_path = path
        return session

    def _build_chip(self, keep_stats: bool = False, config: ChipConfig | None = None,
                    seed: int | None = None) -> None:
        """A fresh chip from (config, seed) (default: the session's), programmed; swapped in atomically
        together with the config and seed, which change only if the build succeeds (a prefetch running
        in another thread keeps using the old chip and its result is discarded by the generation
        check). A chip :meth:`prebuild` made for the same (config, seed) is swapped in instead."""
        config = self.config if config is None else config
        seed = self.seed if seed is None else seed
        with self._lock:
            pre, self._prebuilt = self._prebuilt, None
        if pre is None or pre.config != config or pre.seed != seed:
            pre = self._make_chip(config, seed)
        with self._lock:
            self.config, self.seed = config, seed
            self.chip, self.amap = pre.chip, pre.amap
            self.write_pj = float(sum(w.energy_pj for w in pre.writes))
            self.write_bits = int(sum(w.bits for w in pre.writes))
            self.places = pre.places
            self._runs.clear()
            if pre.run is not None and self.has_image(pre.run.image):
                self._runs[pre.run.image] = pre.run
            self.generation += 1
            if not keep_stats:
                self.stats = SessionStats()
                self.stats.energy_pj["write"] = self.write_pj

    def _make_chip(self, config: ChipConfig, seed: int) -> _Prebuilt:
        chip = Chip(config, seed)
        amap, places = self._layout(config)
        writes = amap.program(chip, self.model)
        return _Prebuilt(config, seed, chip, amap, writes, places)

    def _layout(self, config: ChipConfig) -> tuple[ArrayMap, list[Place]]:
        """The network's placement on the array and its timeline, which depend on the geometry only
        (rows, columns, ADC groups, macros): kept while knobs of the analog chip move (building the
        timeline costs ~20 ms, a knob drag's largest piece of work on the GUI thread)."""
        key = (config.rows, config.columns, config.adc_groups, config.macros)
        with self._lock:
            if self._layouts is not None and self._layouts[0] == key:
                return replace(self._layouts[1], config=config), self._layouts[2]
        amap: ArrayMap = place(self.model.layers, config)
        places = timeline(self.model.graph, amap)
        with self._lock:
            self._layouts = (key, amap, places)
        return amap, places

    def prebuild(self, config: ChipConfig, seed: int) -> None:
        """Build the chip for (config, seed) and simulate the current image on it without changing the
        session (safe in a worker thread: a demo script's chip step then costs the display nothing);
        the next chip change to that (config, seed) swaps it in at once. ValueError as set_chip."""
        pre = self._make_chip(config, seed)
        image = self.image
        pre.run = self._simulate(image, pre.chip, pre.amap, config, pre.places, seed)
        with self._lock:
            self._prebuilt = pre

    def set_chip(self, config: ChipConfig | None = None, seed: int | None = None) -> None:
        """Change the knobs (same chip draws) and/or the seed (another chip); re-simulates the image.

        A knob change keeps the session's statistics: the chip's static draws depend only on the
        seed, so a fresh Chip of the same seed is the same chip with other settings."""
        config = config or self.config
        if seed is not None and seed != self.seed or any(
                getattr(config, g) != getattr(self.config, g) for g in ("rows", "columns", "adc_groups")):
            self._build_chip(config=config, seed=self.seed if seed is None else seed)
        else:
            self._build_chip(keep_stats=True, config=config)
        if self.before_ideal is not None and not self.config.is_ideal():
            self.before_ideal = None  # the knobs left the ideal chip: what they set is now this chip

    def set_ideal(self, on: bool) -> None:
        """Ideal mode (Ctrl+I, the lab's "Ideal chip / this chip"): this chip's operating point with
        every non-ideality off; off again brings back exactly the configuration it replaced (after an
        ideal preset with nothing to go back to: nominal non-idealities at this operating point)."""
        if on:
            if not self.config.is_ideal():
                self.before_ideal = self.config
            self.set_chip(self.ideal_target(True))
            return
        back = self.ideal_target(False)
        self.before_ideal = None
        self.set_chip(back)

    def ideal_target(self, on: bool) -> ChipConfig:
        """The configuration :meth:`set_ideal` (on) would switch to."""
        if on:
            return self.config.idealised()
        if self.before_ideal is not None:
            return self.before_ideal
        nominal = ChipConfig()
        return self.config.with_(**{n: getattr(nominal, n) for n in ChipConfig.NONIDEALITIES})

    # --- simulation ---------------------------------------------------------------------------
    def run_image(self, image: int) -> ImageRun:
        """Simulate image `image` in detail (cached). Safe to call from a worker thread."""
        with self._lock:
            if image in self._runs:
                self._runs.move_to_end(image)
                return self._runs[image]
            generation = self.generation
            chip, amap, config, places = self.chip, self.amap, self.config, self.places
        run = self._simulate(image, chip, amap, config, places)
        with self._lock:
            if generation == self.generation:
                self._runs[image] = run
                self._runs.move_to_end(image)
                excess = max(0, len(self._runs) - CACHE_IMAGES)
                for old in [k for k in self._runs if k != self.image][:excess]:
                    del self._runs[old]
        return run

    def is_simulated(self, image: int) -> bool:
        """True if `image` is in the cache (frame_at for it costs no simulation)."""
        with self._lock:
            return image in self._runs

    # --- images: the test set, and digits drawn by visitors ------------------------------------------
    def is_drawing(self, image: int) -> bool:
        return image >= len(self.data)

    def has_image(self, image: int) -> bool:
        return 0 <= image < len(self.data) or image in self.drawings

    def pixels(self, image: int) -> np.ndarray:
        """The (28, 28) uint8 picture of `image` (a test image or a drawing)."""
        if 0 <= image < len(self.data):
            return self.data.images[image]
        try:
            return self.drawings[image]
        except KeyError:
            raise ValueError(f"image {image} out of range 0..{len(self.data) - 1}, not a drawing") from None

    def label_of(self, image: int) -> int:
        """The true label, or NO_LABEL for a drawing."""
        return int(self.data.labels[image]) if 0 <= image < len(self.data) else NO_LABEL

    def add_drawing(self, pixels: np.ndarray) -> int:
        """Register a (28, 28) MNIST-like picture (see core.digitize.to_mnist); returns its image index,
        which every command and view then treats like a test image (``goto`` it to run it)."""
        img = np.asarray(pixels)
        if img.shape != (28, 28):
            raise ValueError(f"a drawing must be 28x28 pixels (core.digitize.to_mnist), got {img.shape}")
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
        with self._lock:
            index = self._next_drawing
            self._next_drawing += 1
            self.drawings[index] = img
            for old in sorted(self.drawings)[:-MAX_DRAWINGS]:
                del self.drawings[old]
        return index

    def _simulate(self, image: int, chip: Chip, amap: ArrayMap, config: ChipConfig,
                  places: list[Place], seed: int | None = None) -> ImageRun:
        codes = input_codes(self.pixels(image)[None], config.input_bits)
        rng = np.random.default_rng([self.seed if seed is None else seed, 2, image])
        ev = ChipEvaluator(chip, self.model, amap, rng=rng, detail=True)
        rec: dict[str, np.ndarray] = {}
        scores = forward(self.model, codes, ev, record=rec, config=config)[0]
        index = _frame_index(places)
        per_frame = np.zeros((len(places), len(COMPONENTS)))
        for key, (frames, positions) in index.by_record.items():
            each = detail(ev.records[key].energy_each)
            for ci, comp in enumerate(COMPONENTS):
                per_frame[frames, ci] = each[comp][positions]
        per_frame[:, COMPONENTS.index("digital")] = digital_by_frame(self.model, places,
                                                                       digital_energy_pj(self.model, amap))
        write_ns = np.zeros(len(places))
        for li, tile, pj, ns in ev.rewrite_log:  # a network run in phases rewrites weights for each image:
            # at the first invocation of the tile the rewrite comes before
            first = index.by_record[(li, tile, 0)][0][0]
            per_frame[first, COMPONENTS.index("write")] += pj
            write_ns[first] += ns
        layer_start = list(index.layer_start)
        return ImageRun(image=image, label=self.label_of(image), codes_in=codes[0], places=places,
                        records=ev.records, activations={k: v[0] for k, v in rec.items()}, scores=scores,
                        prediction=int(np.argmax(scores)), energy=per_frame,
                        cumulative=np.cumsum(per_frame, axis=0), layer_start=layer_start,
                        stage_start=list(index.stage_start), invocations=np.cumsum(index.invocation),
                        write_ns=np.cumsum(write_ns))

    @property
    def current(self) -> ImageRun:
        return self.run_image(self.image)

    def frame_at(self, image: int | None = None, index: int | None = None) -> Frame:
        """The Frame for (image, index), default the current one."""
        run = self.run_image(self.image if image is None else image)
        k = int(np.clip(self.frame if index is None else index, 0, run.n_frames - 1))
        p = run.places[k]
        rec = run.records[(p.layer, p.tile, p.chunk)]
        i = p.position
        start, end = run.stage_range(k)  # this layer's invocations, or this digital step
        layer_before = run.cumulative[start - 1] if start > 0 else np.zeros(len(COMPONENTS))
        last_of_position = k + 1 == run.n_frames or run.places[k + 1].position != i \
            or run.places[k + 1].layer != p.layer or not run.places[k + 1].invocation or not p.invocation
        done = i + 1 if last_of_position else i
        if p.invocation and self.amap.phase_of(p.layer, p.tile) != self.amap.layer_phases(p.layer)[-1]:
            done = 0  # a layer larger than all the macros: no position is whole before its last phase
        final = k == run.n_frames - 1
        as_dict = lambda v: dict(zip(COMPONENTS, map(float, v), strict=True))  # noqa: E731
        session = np.array([self.stats.energy_pj[c] for c in COMPONENTS])
        if run.image not in self.stats.images and run.image not in self.stats.drawings:
            session = session + run.cumulative[k]
        invocations = k + 1 if run.invocations is None else int(run.invocations[k])
        n_invocations = run.n_frames if run.invocations is None else int(run.invocations[-1])
        write_ns = 0.0 if run.write_ns is None else float(run.write_ns[k])
        return Frame(
            image=run.image, label=run.label, index=k, n_frames=run.n_frames, invocations=invocations,
            n_invocations=n_invocations, place=p,
            layer_name=p.node or self.model.layers[p.layer].name, layer_frames=end - start,
            x=rec.x[i], v_dac=detail(rec.v_dac)[i], v_p=detail(rec.v_p)[i], v_n=detail(rec.v_n)[i],
            ideal_diff=detail(rec.ideal_diff)[i], codes=rec.codes[i], ideal_codes=detail(rec.ideal_codes)[i],
            adc_lsb=rec.adc_lsb, mode=rec.mode,
            energy=as_dict(run.energy[k]), energy_layer=as_dict(run.cumulative[k] - layer_before),
            energy_image=as_dict(run.cumulative[k]), energy_session=as_dict(session),
            time_ns=invocations * energy.invocation_time_ns(self.config) + write_ns, write_ns=write_ns,
            positions_done=done, final=final,
            prediction=run.prediction if final else None, scores=run.scores if final else None)

    def feature_map(self, layer: int, frame: Frame | None = None) -> np.ndarray:
        """Layer output (H, W, F) requantised codes as float, NaN where not computed yet at `frame`
        (a vector output shows as (1, 1, F)).

        For the output layer: the 10 class scores (NaN until the final frame)."""
        frame = frame or self.frame_at()
        run = self.run_image(frame.image)
        spec = self.model.layers[layer]
        if self.is_output(layer):
            out = run.scores.astype(float).copy()
            return out if frame.final else np.full_like(out, np.nan)
        act = run.activations[f"{spec.name}.act"].astype(float)
        if act.ndim == 1:
            act = act.reshape(1, 1, -1)
        h, w, _ = act.shape
        done = act.reshape(h * w, -1).copy()
        if layer > frame.place.layer:
            done[:] = np.nan
        elif layer == frame.place.layer:
            done[frame.positions_done:] = np.nan
        return done.reshape(act.shape)

    def is_output(self, layer: int) -> bool:
        """True for the weight layer that gives the class scores."""
        return self.model.graph.is_output(layer)

    def map_layer(self, layer: int) -> int:
        """The last weight layer at or before `layer` whose output is maps (H, W, F): what the output
        panels show while a vector layer (the scores) converts."""
        while layer > 0 and len(self.model.graph.out_shape(layer)) != 3:
            layer -= 1
        return layer

    def node_maps(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """A digital step's input maps (its first input) and its output maps (H, W, C) as float, NaN
        where not computed yet at `frame`."""
        node = frame.place.node
        if node is None or frame.place.op is not None:
            raise ValueError("not a digital node's step (a pool, an add)")
        run = self.run_image(frame.image)
        src = self.model.graph.by_name[node].inputs[0]
        inp = run.codes_in[..., None] if src == INPUT else run.activations[f"{src}.out"]
        out = run.activations[f"{node}.out"].astype(float)
        h, w, _ = out.shape
        flat = out.reshape(h * w, -1).copy()
        flat[frame.place.node_step + 1:] = np.nan
        return inp.astype(float), flat.reshape(out.shape)

    def stage_names(self) -> list[str]:
        """The name of each stage of an image (:attr:`ImageRun.stage_start`): a weight layer's, a digital
        node's (pool1, add3), a layer's own digital step (conv2.sum, conv2.requant, fc.scores)."""
        places = self.places
        return [places[k].node or self.model.layers[places[k].layer].name
                for k in _frame_index(places).stage_start]

    def layer_op_values(self, frame: Frame) -> LayerOpValues:
        """The numbers of a weight layer's digital step (a tile sum, a requantisation, the class
        scores) at its output position: ValueError on any other frame."""
        p = frame.place
        if p.op is None:
            raise ValueError("not a weight layer's digital step")
        run = self.run_image(frame.image)
        spec = self.model.layers[p.layer]
        k = p.node_step
        tiles = np.zeros((spec.n_tiles, spec.out_channels), dtype=np.int64)
        for t, chunks in enumerate(self.amap.chunks[p.layer]):
            for c, filters in enumerate(chunks):
                tiles[t, filters] = run.records[(p.layer, t, c)].codes[k]
        total = np.asarray(run.activations[f"{spec.name}.P"], np.int64).reshape(-1, spec.out_channels)[k]
        alpha = np.asarray(self.model.alpha[p.layer], np.float64)
        beta = np.asarray(self.model.beta[p.layer], np.float64)
        scaled = alpha * total + beta
        output = self.is_output(p.layer)
        if output:
            out = scaled
        else:
            out = np.asarray(run.activations[f"{spec.name}.act"]).reshape(-1, spec.out_channels)[k]
        return LayerOpValues(op=p.op, layer=spec.name, position=k, tiles=tiles, total=total, alpha=alpha,
                             beta=beta, scaled=scaled, rounded=np.floor(scaled + 0.5).astype(np.int64),
                             out=np.asarray(out), max_code=self.config.max_input, output=output)

    def takes_image(self, layer: int) -> bool:
        """True if `layer` reads the input image itself (not maps of an earlier layer)."""
        return self.model.graph.layer_source(layer) == INPUT

    def layer_input(self, layer: int, image: int | None = None) -> np.ndarray:
        """The input codes a layer sees: (28, 28) for one that reads the image, the maps (H, W, C) it
        reads after (through a flatten: the maps before it)."""
        run = self.run_image(self.image if image is None else image)
        source = self.model.graph.layer_source(layer)
        if source == INPUT:
            return run.codes_in
        return run.activations[f"{source}.out"]

    def active_inputs(self, frame: Frame | None = None) -> np.ndarray:
        """Boolean mask over the layer's input maps (H, W, C) of the inputs on the frame's active rows.

        Conv rows are the window's (ky, kx, c) flattened; fc rows are the input flattened (h, w, c).
        """
        frame = frame or self.frame_at()
        spec, p = self.model.layers[frame.place.layer], frame.place
        graph = self.model.graph
        return spec.field_mask(graph.shapes[graph.layer_source(p.layer)], p.window, p.rows)

    def receptive_field(self, frame: Frame | None = None) -> tuple[int, int, int, int]:
        """(y0, y1, x0, x1), end exclusive: the input-image pixels that the frame's active rows depend on."""
        frame = frame or self.frame_at()
        if frame.place.node is not None:  # a digital step: its output position, back to the image
            p = frame.place
            name = self.model.layers[p.layer].name if p.op is not None else str(p.node)
            out = self.model.graph.shapes[name]
            oy, ox = divmod(p.node_step, out[1]) if len(out) == 3 else (0, 0)
            return self.model.graph.field(name, (oy, oy + 1, ox, ox + 1))
        active = self.active_inputs(frame)
        plane = active.any(axis=-1) if active.ndim == 3 else active.reshape(1, -1)
        ys, xs = np.nonzero(plane)
        graph = self.model.graph
        source = graph.layer_source(frame.place.layer)
        if ys.size:
            span = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        else:  # the active rows read only zero padding: the whole window
            y, x = frame.place.window or (0, 0)
            kh, kw, _ = self.model.layers[frame.place.layer].kernel_shape(graph.shapes[source])
            span = y, y + kh, x, x + kw
        return graph.field(source, span)

    def partial_scores(self, frame: Frame | None = None) -> np.ndarray | None:
        """The output layer: class scores alpha * P + beta from the tiles converted up to this frame
        (NaN for classes not reached yet); None on other layers. Equals the final scores on the
        final frame."""
        frame = frame or self.frame_at()
        li = frame.place.layer
        if not self.is_output(li):
            return None
        run = self.run_image(frame.image)
        total = np.zeros(self.model.layers[li].out_channels, dtype=np.int64)
        seen = np.zeros(total.size, dtype=bool)
        for k in range(run.layer_start[li], frame.index + 1):
            p = run.places[k]
            if not p.invocation:
                continue  # its digital steps repeat the last invocation's place
            total[p.filters] += run.records[(p.layer, p.tile, p.chunk)].codes[p.position]
            seen[p.filters] = True
        out = fc_scores(total, self.model.alpha[li], self.model.beta[li])
        out[~seen] = np.nan
        return out

    def macs(self) -> list[int]:
        """Multiply-accumulates of each layer for one image (the work TOPS/W counts)."""
        return [c.macs for c in op_counts(self.model)]

    def pre_adc_range(self, layer: int) -> tuple[int, int]:
        """The ADC's code range for `layer`: (0, max) in ReLU mode, (-max, max) signed."""
        m = self.config.max_code
        return (0, m) if self.model.layers[layer].mode == "relu" else (-m, m)

    # --- commands -------------------------------------------------------------------------------
    def run(self, name: str, *args: Any) -> Frame:
        """Execute a command by name (see COMMANDS) and log it; returns the new current frame."""
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}; commands: {', '.join(sorted(COMMANDS))}")
        self.log.append((name, args))
        generation = self.generation
        try:
            COMMANDS[name](self, *args)
        finally:
            if self.generation == generation:  # (a chip change has been announced already)
                self._notify()
        return self.current_frame()

    def _finish_image_if_final(self) -> None:
        run = self.current
        drawn = self.is_drawing(run.image)
        done = self.stats.drawings if drawn else self.stats.images
        if self.frame == run.n_frames - 1 and run.image not in done:
            done.add(run.image)
            total = {c: float(run.cumulative[-1, ci]) for ci, c in enumerate(COMPONENTS)}
            self.stats.results.append(ImageResult(run.image, run.label, run.prediction, total, drawn))
            for c in COMPONENTS:
                self.stats.energy_pj[c] += total[c]
            if drawn:
                return  # a drawing has no true label: it counts in the energy, not in the accuracy
            self.stats.history.append((run.image, run.prediction, run.label))
            if run.prediction == run.label:
                self.stats.correct.add(run.image)

    def _goto(self, image: int, frame: int = 0) -> None:
        image = int(image)
        if not self.has_image(image):
            raise ValueError(f"image {image} out of range 0..{len(self.data) - 1}")
        if not self.is_drawing(image):
            self.resume_image = image
        self.image = image
        n = self.current.n_frames
        self.frame = int(frame) % n if frame < 0 else min(int(frame), n - 1)
        self._finish_image_if_final()

    def _step(self, n: int = 1) -> None:
        """Move n invocations (negative: back). Steps stop at the image's last frame; a step from the
        last frame goes on to the next image."""
        last = self.current.n_frames - 1
        if n > 0 and self.frame == last:
            self._goto(self._neighbour(1), 0)
            return
        self.frame = int(np.clip(self.frame + n, 0, last))
        self._finish_image_if_final()

    def _layer(self, delta: int) -> None:
        """To the next (previous) stage: a layer's invocations or a digital step (a pool, an add)."""
        run = self.current
        st = run.stage_of(self.frame)
        if delta < 0 and self.frame != run.stage_start[st]:
            target = st  # first go to the start of this stage
        else:
            target = st + delta
        if target >= len(run.stage_start):
            self.frame = run.n_frames - 1
        else:
            self.frame = run.stage_start[max(target, 0)]
        self._finish_image_if_final()

    def _neighbour(self, delta: int) -> int:
        """The test image after (before) the current one; after a drawing, the test image it interrupted
        and the one after it."""
        if self.is_drawing(self.image):
            return (self.resume_image + max(delta, 0)) % len(self.data)
        return (self.image + delta) % len(self.data)

    def _end_of_layer(self) -> None:
        run = self.current
        self.frame = run.stage_range(self.frame)[1] - 1
        self._finish_image_if_final()


COMMANDS: dict[str, Callable[..., None]] = {
    "step": lambda s, n=1: s._step(int(n)),
    "back": lambda s, n=1: s._step(-int(n)),
    "goto": lambda s, image, frame=0: s._goto(int(image), int(frame)),
    "frame": lambda s, frame: s._goto(s.image, int(frame)),
    "next_layer": lambda s: s._layer(1),
    "prev_layer": lambda s: s._layer(-1),
    "end_of_layer": lambda s: s._end_of_layer(),
    "next_image": lambda s: s._goto(s._neighbour(1), 0),
    "prev_image": lambda s: s._goto(s._neighbour(-1), 0),
    "first": lambda s: s._goto(s.image, 0),
    "last": lambda s: s._goto(s.image, -1),
    "seed": lambda s, seed: s.set_chip(seed=int(seed)),
    "ideal": lambda s, on=True: s.set_ideal(truthy(on)),
}


def truthy(value: Any) -> bool:
    """A command argument as a flag: True, 1, "1", "true", "on", "yes" (scripted demos pass strings)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)
