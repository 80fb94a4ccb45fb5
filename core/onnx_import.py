"""Import a binary-weight CNN from ONNX (the optional ``onnx`` extra; onnxruntime is never needed).

Accepted: one input (N, 1, 28, 28); ops Conv (group 1, square kernel, equal strides, symmetric pads),
Gemm / MatMul (+ Add of a bias), Relu, MaxPool, AveragePool, GlobalAveragePool, Add (bias or
residual), Flatten / Reshape to (N, -1), BatchNormalization (folded into the layer before), Identity,
Dropout, and a final Softmax / LogSoftmax (argmax-invariant, dropped). Weights (an initializer) in the
forms people export them: QONNX ``BipolarQuant(W, scale)``, ``Sign(W)`` (times a constant), or floats
that are already +/-alpha per output channel; other floats only with ``binarize=True`` (sign times
mean |W| per output channel, a warning: accuracy will drop).

Quantisation [assumed, the usual post-training recipe]: the input preprocessing is given (pixels as
0..1 or 0..255, optionally (x - mean) / std, folded into the first layer's scale and bias: the DACs take
only non-negative codes); each activation's scale is the `percentile` of its values on calibration
images mapped to the largest code (tensors that a residual add or a pool join share one scale); each
layer's odd ADC step is the `percentile` of |S| of its tiles over the same images mapped to the largest
ADC code, as the trainer calibrates (CrossSim calibrates its ADC ranges the same way, on a percentile of
the pre-ADC values). A network that convsram exported imports back exactly (its graph rides along).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.layers import FC, INPUT, Add, AvgPool, Conv, Flatten, Graph, MaxPool, Node, WeightLayer
from convsram.core.network import Model, WeightLayers, conv_tiles, tile_bounds

MAX = 127
SUPPORTED = ("Conv", "Gemm", "MatMul", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Add",
             "Flatten", "Reshape", "BatchNormalization", "Identity", "Dropout", "Softmax", "LogSoftmax",
             "Sign", "BipolarQuant", "Mul", "Constant")


class ImportError_(ValueError):
    """One line naming the node and what to do."""


@dataclass
class _Layer:
    """A weight layer being imported: +/-1 weights in our row order, the float scale and the affine
    after it: y = A * (alpha * sum(sign(w) * x_float)) + B."""

    node: WeightLayer
    sign: np.ndarray  # (rows, F) int8
    alpha: np.ndarray  # (F,)
    a: np.ndarray  # (F,)
    b: np.ndarray  # (F,)
    relu: bool = False


@dataclass
class _State:
    nodes: list[Node] = field(default_factory=list)
    layers: dict[str, _Layer] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # ONNX tensor -> our node name ("input")
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # our node -> NHWC shape per image
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)  # const -> "binary" (from Sign/BipolarQuant)
    warnings: list[str] = field(default_factory=list)


def _onnx() -> Any:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ValueError("ONNX import needs the onnx package: pip install 'convsram[onnx]'") from None
    return onnx, numpy_helper


def _attrs(node: Any) -> dict[str, Any]:
    onnx, _ = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _binary(w: np.ndarray, where: str, form: str | None, binarize: bool, warnings: list[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    """(sign (out, ...) int8, alpha (out,)) of weights with the output channel first."""
    flat = w.reshape(len(w), -1).astype(np.float64)
    mag = np.abs(flat)
    if form == "binary" or np.allclose(mag, mag[:, :1], rtol=1e-5, atol=1e-12):
        if (mag == 0).any():
            raise ImportError_(f"{where}: a weight is exactly 0, not +/-alpha; export binary weights")
        return np.where(flat >= 0, 1, -1).astype(np.int8).reshape(w.shape), mag.mean(axis=1)
    if not binarize:
        raise ImportError_(f"{where}: weights are not binary (not +/-alpha per output channel, no Sign or "
                           "BipolarQuant on them); export binarized weights, or pass --binarize "
                           "(accuracy will drop)")
    warnings.append(f"{where}: float weights binarized as sign(W) x mean|W| per output channel; "
                    "accuracy will drop")
    return np.where(flat >= 0, 1, -1).astype(np.int8).reshape(w.shape), mag.mean(axis=1)


def _load(onnx: Any, path: Path | str) -> Any:
    """The ONNX model in `path`; ImportError_ (one line) if it is missing or does not parse."""
    path = Path(path)
    if not path.is_file():
        raise ImportError_(f"{path}: not found")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - any parse failure is one line
        raise ImportError_(f"{path}: not an ONNX model ({type(exc).__name__})") from None


def read_onnx(path: Path | str, binarize: bool = False) -> tuple[_State, Any]:
    """Parse the file into weight layers (float scales) and digital nodes; ImportError_ on anything
    the chip cannot run."""
    onnx, numpy_helper = _onnx()
    m = _load(onnx, path)
    g = m.graph
    st = _State()
    st.consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    inputs = [i for i in g.input if i.name not in st.consts]
    if len(inputs) != 1:
        raise ImportError_(f"{path}: {len(inputs)} graph inputs; the chip reads one image")
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[1:] != [1, 28, 28]:
        raise ImportError_(f"input {inputs[0].name}: shape {dims}; the chip reads single-channel 28x28 "
                           "images (N, 1, 28, 28)")
    st.names[inputs[0].name] = INPUT
    st.shapes[INPUT] = (28, 28, 1)
    counter = {"n": 0}

    def fresh(prefix: str) -> str:
        counter["n"] += 1
        return f"{prefix}{counter['n']}"

    def act(name: str, where: str) -> str:
        if name not in st.names:
            raise ImportError_(f"{where}: input {name!r} is not an activation the chip computes")
        return st.names[name]

    def add_node(node: Node, out: str) -> None:
        st.shapes[node.name] = node.out_shape([st.shapes[i] for i in node.inputs])
        st.nodes.append(node)
        st.names[out] = node.name

    def only_layer(name: str, where: str) -> _Layer:
        src = st.names.get(name)
        if src not in st.layers:
            raise ImportError_(f"{where}: folds only into the output of a Conv or Gemm/MatMul")
        return st.layers[src]

    for n in g.node:
        op, where = n.op_type, f"node {n.name or n.output[0]} ({n.op_type})"
        a = _attrs(n)
        ins = list(n.input)
        if op == "Constant":
            st.consts[n.output[0]] = numpy_helper.to_array(a["value"])
        elif op in ("Sign", "BipolarQuant") and ins[0] in st.consts:
            w = st.consts[ins[0]]
            if op == "Sign" and (w == 0).any():
                raise ImportError_(f"{where}: Sign of a zero weight is 0, not +/-1")
            val = np.where(w >= 0, 1.0, -1.0)
            if op == "BipolarQuant":
                val = val * st.consts[ins[1]]
            st.consts[n.output[0]] = val.astype(np.float32)
            st.forms[n.output[0]] = "binary"
        elif op == "Mul" and all(i in st.consts for i in ins):
            st.consts[n.output[0]] = (st.consts[ins[0]] * st.consts[ins[1]]).astype(np.float32)
            if any(st.forms.get(i) == "binary" for i in ins):
                st.forms[n.output[0]] = "binary"
        elif op in ("Identity", "Dropout"):
            if ins[0] in st.consts:
                st.consts[n.output[0]] = st.consts[ins[0]]
            else:
                st.names[n.output[0]] = act(ins[0], where)
        elif op == "Conv":
            src = act(ins[0], where)
            got = st.consts.get(ins[1])
            if got is None or got.ndim != 4:
                raise ImportError_(f"{where}: the weights must be a constant (F, C, k, k)")
            w = got
            if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
                raise ImportError_(f"{where}: grouped or dilated convolutions are not supported")
            k = w.shape[2]
            strides, pads = a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
            if w.shape[3] != k or len(set(strides)) != 1 or len(set(pads)) != 1:
                raise ImportError_(f"{where}: needs a square kernel, equal strides and symmetric padding")
            c = w.shape[1]
            sign, alpha = _binary(w, where, st.forms.get(ins[1]), binarize, st.warnings)
            name = fresh("conv")
            # signed ADC: the scale and bias after the array (batch-norm too) may turn a negative sum positive
            node = Conv(name, (src,), c, w.shape[0], conv_tiles(k, c), "signed", k, strides[0], pads[0])
            bias = st.consts[ins[2]].astype(np.float64) if len(ins) > 2 and ins[2] else np.zeros(w.shape[0])
            rows = sign.transpose(2, 3, 1, 0).reshape(-1, w.shape[0])  # (ky, kx, c) rows
            add_node(node, n.output[0])
            st.layers[name] = _Layer(node, rows, alpha, np.ones(w.shape[0]), bias)
        elif op in ("Gemm", "MatMul"):
            src = act(ins[0], where)
            got = st.consts.get(ins[1])
            if got is None or got.ndim != 2:
                raise ImportError_(f"{where}: the weights must be a constant matrix")
            w = got
            if op == "Gemm":
                if a.get("transA", 0):
                    raise ImportError_(f"{where}: transA is not supported")
                w = w if a.get("transB", 0) else w.T  # (out, in)
                w = w * a.get("alpha", 1.0)
            else:
                w = w.T
            sign, alpha = _binary(w, where, st.forms.get(ins[1]), binarize, st.warnings)
            rows = sign.T  # (in, out) in ONNX's order: (c, h, w) for a flattened NCHW tensor
            layout = _layouts.get(src)
            if layout is not None:  # (c, h, w) rows -> ours (h, w, c)
                h, wd, c = layout
                rows = rows.reshape(c, h, wd, -1).transpose(1, 2, 0, 3).reshape(h * wd * c, -1)
            n_in = rows.shape[0]
            name = fresh("fc")
            fc = FC(name, (src,), n_in, w.shape[0], tuple(tile_bounds(n_in)), "signed")
            bias = np.zeros(w.shape[0])
            if op == "Gemm" and len(ins) > 2 and ins[2]:
                c_b = st.consts[ins[2]].astype(np.float64) * a.get("beta", 1.0)
                bias = np.broadcast_to(c_b, (w.shape[0],))
            add_node(fc, n.output[0])
            st.layers[name] = _Layer(fc, rows.astype(np.int8), alpha, np.ones(w.shape[0]), bias.copy())
        elif op == "BatchNormalization":
            lay = only_layer(ins[0], where)
            scale, b, mean, var = (st.consts[i].astype(np.float64) for i in ins[1:5])
            k = scale / np.sqrt(var + a.get("epsilon", 1e-5))
            lay.a, lay.b = lay.a * k, (lay.b - mean) * k + b
            st.names[n.output[0]] = lay.node.name
        elif op == "Add" and any(i in st.consts for i in ins):
            const = st.consts[ins[1] if ins[1] in st.consts else ins[0]].astype(np.float64).ravel()
            lay = only_layer(ins[0] if ins[1] in st.consts else ins[1], where)
            lay.b = lay.b + const
            st.names[n.output[0]] = lay.node.name
        elif op == "Add":
            add_node(Add(fresh("add"), tuple(act(i, where) for i in ins)), n.output[0])
        elif op == "Relu":
            src = act(ins[0], where)
            if src in st.layers:
                st.layers[src].relu = True
            st.names[n.output[0]] = src  # codes are never negative: requantisation and adds clip at 0
        elif op in ("MaxPool", "AveragePool"):
            src = act(ins[0], where)
            ks, strides = a["kernel_shape"], a.get("strides", a["kernel_shape"])
            if any(a.get("pads", [0])) or a.get("ceil_mode", 0) or len(set(ks)) != 1 \
                    or len(set(strides)) != 1:
                raise ImportError_(f"{where}: needs a square window, equal strides, no padding, floor mode")
            cls = MaxPool if op == "MaxPool" else AvgPool
            add_node(cls(fresh("pool"), (src,), ks[0], strides[0] if strides[0] != ks[0] else 0), n.output[0])
        elif op == "GlobalAveragePool":
            src = act(ins[0], where)
            h, wd, _ = st.shapes[src]
            if h != wd:
                raise ImportError_(f"{where}: global average pooling of non-square maps is not supported")
            add_node(AvgPool(fresh("pool"), (src,), h), n.output[0])
        elif op in ("Flatten", "Reshape"):
            src = act(ins[0], where)
            if op == "Reshape":
                target = st.consts.get(ins[1])
                flat = int(np.prod(st.shapes[src]))
                if target is None or target.ndim != 1 or len(target) != 2 or target[1] not in (-1, flat):
                    raise ImportError_(f"{where}: only a reshape to (N, -1) (a flatten) is supported")
            elif a.get("axis", 1) != 1:
                raise ImportError_(f"{where}: only a flatten from axis 1 is supported")
            name = fresh("flat")
            if len(st.shapes[src]) == 3:
                _layouts[name] = st.shapes[src]
            add_node(Flatten(name, (src,)), n.output[0])
        elif op in ("Softmax", "LogSoftmax"):
            st.names[n.output[0]] = act(ins[0], where)  # argmax-invariant
        else:
            raise ImportError_(f"{where}: op {op} is not supported (supported: {', '.join(SUPPORTED)})")
    outs = [o.name for o in g.output]
    if len(outs) != 1 or st.names.get(outs[0]) not in st.layers:
        raise ImportError_(f"{path}: the output must be the class scores of a Conv/Gemm/MatMul layer")
    return st, m


_layouts: dict[str, tuple[int, ...]] = {}  # flatten node -> (H, W, C) it flattens in ONNX's (c, h, w)


def _float_forward(st: _State, x: np.ndarray) -> dict[str, np.ndarray]:
    """The imported network in float (binarized weights), NHWC, every node's output."""
    vals: dict[str, np.ndarray] = {INPUT: x}
    for node in st.nodes:
        xs = [vals[i] for i in node.inputs]
        lay = st.layers.get(node.name)
        if lay is not None:
            flat, grid = lay.node.patches(xs[0])
            y = (flat @ lay.sign.astype(np.float64)) * lay.alpha * lay.a + lay.b
            y = y.reshape(len(x), *grid, -1)
            vals[node.name] = np.maximum(y, 0) if node is not st.nodes[-1] else y
        else:
            vals[node.name] = np.asarray(node.float_forward([v.astype(np.float32) for v in xs]), np.float64)
    return vals


def import_onnx(path: Path | str, calibration: np.ndarray, input_range: tuple[float, float] = (0.0, 1.0),
                normalize: tuple[float, float] | None = None, binarize: bool = False,
                percentile: float = 99.9, warn: Callable[[str], None] | None = None) -> Model:
    """The chip's model of an ONNX network, calibrated on uint8 images (n, 28, 28)."""
    from convsram.core.train import Trainer

    _layouts.clear()
    exported = _convsram_export(path)
    if exported is not None:
        return exported
    st, m = read_onnx(path, binarize)
    for w in st.warnings:
        if warn:
            warn(w)
    lo, hi = input_range
    s_in = (hi - lo) / MAX  # x_float = lo + code * s_in (code = round(pix * 127 / 255))
    mean, std = normalize or (0.0, 1.0)
    first = [lay for lay in st.layers.values() if lay.node.inputs[0] == INPUT]
    for lay in first:  # fold (x - mean) / std and the input offset into the first layers
        col = lay.sign.sum(axis=0).astype(np.float64)
        lay.b = lay.b + lay.a * lay.alpha * col * (lo - mean) / std
        lay.alpha = lay.alpha / std
    if any(isinstance(n, Conv) and n.padding and n.inputs[0] == INPUT for n in st.nodes) and (lo != mean):
        if warn:
            warn("the first layer pads with zeros: at the borders the folded normalisation differs slightly")
    codes = ((2 * MAX * calibration.astype(np.int32) + 255) // 510).astype(np.float64)[..., None]
    vals = _float_forward(st, lo * 0 + codes * s_in)  # inputs as codes x s_in; the offset is folded
    # scale groups: a pool or flatten keeps its input's scale; an add's inputs and output share one
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    for node in st.nodes:
        if node.name not in st.layers:
            for i in node.inputs:
                union(node.name, i)
    scale: dict[str, float] = {}
    for node in [*st.nodes]:
        root = find(node.name)
        level = float(np.percentile(np.abs(vals[node.name]), percentile)) / MAX
        scale[root] = max(scale.get(root, 1e-12), level)
    scale[find(INPUT)] = s_in
    layers = [st.layers[n.name] for n in st.nodes if n.name in st.layers]
    out_name = st.nodes[-1].name
    alphas, betas = [], []
    for lay in layers:
        s_src = scale[find(lay.node.inputs[0])]
        if lay.node.name == out_name:
            alphas.append(lay.a * lay.alpha * s_src)
            betas.append(lay.b)
        else:
            s_out = scale[find(lay.node.name)]
            alphas.append(lay.a * lay.alpha * s_src / s_out)
            betas.append(lay.b / s_out)
            if not lay.relu and warn:
                warn(f"{lay.node.name}: no ReLU after it; the chip's codes clip its negative outputs at 0")
    model = Model(layers=WeightLayers(Graph(st.nodes)), weights=[lay.sign for lay in layers],
                  alpha=[np.asarray(a, np.float32) for a in alphas],
                  beta=[np.asarray(b, np.float32) for b in betas],
                  adc_step=[1] * len(layers), training={"imported_from": Path(path).name})
    trainer = Trainer.from_model(model)
    trainer.forward(codes[..., 0].astype(np.int32), calibrate=percentile)  # odd ADC steps, alpha x step
    out = trainer.to_model(model.training)
    out.training.update({"percentile": percentile, "calibration_images": int(len(calibration)),
                         "input_range": list(input_range),
                         "normalize": list(normalize) if normalize else None})
    return out


def _convsram_export(path: Path | str) -> Model | None:
    """A model convsram exported (core/onnx_export.py): its graph rides in the metadata, the weights,
    alpha, beta and ADC steps are read back from the ONNX graph's own constants; None for others."""
    onnx, numpy_helper = _onnx()
    m = _load(onnx, path)
    meta = {p.key: p.value for p in m.metadata_props}
    if "convsram.graph" not in meta:
        return None
    from convsram.core.layers.base import node_from_dict

    try:
        listed = json.loads(meta["convsram.graph"])
        graph = Graph([node_from_dict(d, f"graph node {i}") for i, d in enumerate(listed)])
    except (ValueError, TypeError) as exc:
        raise ImportError_(f"{path}: bad convsram graph metadata ({exc})") from None
    consts = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    by_prefix: dict[str, list[np.ndarray]] = {}
    for name, value in consts.items():
        by_prefix.setdefault(name.rsplit("_", 1)[0], []).append(value)
    steps: dict[str, int] = {}
    for n in m.graph.node:  # each tile divides by its layer's ADC step
        if n.op_type == "Div" and n.output[0].rsplit("_", 2)[0] in graph.index:
            steps[n.output[0].rsplit("_", 2)[0]] = int(round(float(consts[n.input[1]])))
    weights, alpha, beta = [], [], []
    for spec in graph.layers:
        total: np.ndarray = np.sum(by_prefix[f"{spec.name}_w"], axis=0)
        if isinstance(spec, Conv):  # (F, C, k, k) -> rows in (ky, kx, c) order
            total = total.transpose(2, 3, 1, 0).reshape(spec.rows, -1)
        weights.append(np.asarray(total).astype(np.int8))
        alpha.append(by_prefix[f"{spec.name}_alpha"][0].ravel().astype(np.float32))
        beta.append(by_prefix[f"{spec.name}_beta"][0].ravel().astype(np.float32))
    model = Model(layers=WeightLayers(graph), weights=weights, alpha=alpha, beta=beta,
                  adc_step=[steps[s.name] for s in graph.layers],
                  training=json.loads(meta.get("convsram.training", "{}")))
    model.validate()
    return model
