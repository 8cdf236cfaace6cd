"""A trained ``Upper`` (and e5's ``Lower``) out to the runtime's ONNX files, quantised to int8.

    lower.onnx  vectors [n, t, 384] float32, mask [n, t] int64 -> states [n, t, 384]
    upper.onnx  states [n, t, 384], mask [n, t], segment [n, t] (1 = question) -> score [n], null [n],
                start [n, t], end [n, t]

Both are int8 dynamic, per-channel quantised (``onnxruntime.quantization``); ``python -m training`` then scores
the dev sample through the runtime (``rag.reader``) and compares it with torch's numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch

from training.model import Lower, Upper


def export(lower: Lower, upper: Upper, dest: Path, quantise: bool = True) -> dict[str, Path]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dest.mkdir(parents=True, exist_ok=True)
    lower.eval()
    upper.eval()
    h = lower.eln.weight.shape[0]
    vec = torch.randn(2, 16, h)
    mask = torch.ones(2, 16, dtype=torch.long)
    seg = torch.zeros(2, 16, dtype=torch.long)
    seg[:, :6] = 1
    files = {}
    for name, model, args, inputs, outputs in (
        ("lower", lower, (vec, mask), ["vectors", "mask"], ["states"]),
        ("upper", upper, (vec, mask, seg), ["states", "mask", "segment"], ["score", "null", "start", "end"]),
    ):
        fp32 = dest / f"{name}.fp32.onnx"
        axes = {k: {0: "n", 1: "t"} for k in inputs}
        axes.update({k: ({0: "n", 1: "t"} if k in ("states", "start", "end") else {0: "n"}) for k in outputs})
        torch.onnx.export(model, args, str(fp32), input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=17, dynamo=False)
        final = dest / f"{name}.onnx"
        if quantise:
            quantize_dynamic(str(fp32), str(final), per_channel=True, weight_type=QuantType.QInt8)
            fp32.unlink()
        else:
            fp32.rename(final)
        files[name] = final
        print(f"wrote {final} ({final.stat().st_size / 1e6:.1f} MB)", flush=True)
    return files
