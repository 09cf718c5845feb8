"""Draw the AlphaStar-style network of network.py as image/network_architecture.png.

    python tools/draw_network_architecture.py [--screen_size 16] [--minimap_size 16] [OUTPUT.png]

(OUTPUT defaults to image/network_architecture.png).

The layout is drawn by hand, but every size in it is read from a model built by
`network.make_model`, so a change of a layer's width shows up the next time the figure is drawn.
"""
import os
import sys

from absl import app, flags

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT_ROOT)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib import patches, pyplot  # noqa: E402

import network  # noqa: E402
import utils  # noqa: E402

FLAGS = flags.FLAGS

DEFAULT_OUTPUT = os.path.join(PROJECT_ROOT, "image", "network_architecture.png")

# Box colours by role.
INPUT, ENCODER, CORE, HEAD, OUTPUT = "#dde8f5", "#fbe3c4", "#e4d7f0", "#d6eed6", "#f4d4d4"


def describe(model, spec):
    """-> the text of every box, with sizes read from the built model."""
    shapes = spec.input_shapes()
    size = spec.screen_size
    screen_channels, minimap_channels = shapes["screen"][-1], shapes["minimap"][-1]
    max_units, unit_features = shapes["entities"]
    entity = model.entity_encoder
    spatial_args = ", ".join(f"{name} {model.argument_sizes[name]}"
                             for name in network.SPATIAL_ARGUMENTS)
    other_args = ", ".join(f"{name} {model.argument_sizes[name]}"
                           for name in model.non_spatial_arguments)
    return {
        "screen": f"screen {size}x{size}x{screen_channels}\nminimap {spec.minimap_size}x"
                  f"{spec.minimap_size}x{minimap_channels}\n(one-hot / log-scaled planes)",
        "scalar_in": f"non-spatial vector {shapes['non_spatial'][0]}\n(player, game loop, "
                     f"available actions,\nlast actions, selection, thresholds)",
        "entities_in": f"feature_units\n{max_units} rows x {unit_features} features\n+ row count",
        "spatial": (
            f"Spatial encoder (ResNet)\n"
            f"1x1 conv {model.spatial_embedding.filters} -> full {size}x{size}\n"
            f"4x4/2 conv {model.downsample_half.filters} + res block -> half {size // 2}x"
            f"{size // 2}\n"
            f"4x4/2 conv {model.downsample_quarter.filters} + {len(model.residual_quarter)} res "
            f"blocks -> quarter {size // 4}x{size // 4}\n"
            f"1x1 conv {model.spatial_reduce.filters}, flatten, dense "
            f"{model.spatial_output.units}"),
        "scalar": "Scalar encoder\nMLP " + "-".join(
            str(layer.units) for layer in model.scalar_encoder.layers),
        "entity": (f"Entity encoder\ntransformer layer, width {entity.embedding.units},\n"
                   f"{entity.attention.num_heads} heads, masked by row count;\n"
                   f"masked mean, dense {entity.output_layer.units}"),
        "core": f"LSTM core, {model.state_size} units\n(state zeroed where `reset` = 1)",
        "action_type": (f"Action-type head\ndense {model.action_type_hidden.units}"
                        f" -> {network.NUM_FUNCTIONS} function logits"),
        "value": "Value head\nMLP " + "-".join(
            str(layer.units) for layer in model.value_head.layers),
        "function_id": "function_id\n(executed action when acting;\nlabel in supervised "
                       "learning)",
        "autoregressive": (f"Autoregressive embedding\nrelu(dense {model.core_projection.units}"
                           f"(core) + embedding {model.function_embedding.output_dim}"
                           f"(function_id))"),
        "arguments": f"Argument heads, one dense each\n{_wrap(other_args, 60)}",
        "location": (
            f"Location head\ndense {model.location_condition.units}, broadcast over quarter map,"
            f"\n3x3 conv {model.location_conv.filters}\n"
            f"4x4/2 transposed conv {model.upsample_half.filters} + half skip\n"
            f"4x4/2 transposed conv {model.upsample_full.filters} + full skip\n"
            f"1x1 conv per spatial argument\n({spatial_args})"),
        "function_out": f"function logits {network.NUM_FUNCTIONS}\n(agent masks unavailable)",
        "value_out": "value (scalar)",
        "title": f"AlphaStar-style network (network.AlphaStar) on pysc2 feature layers: "
                 f"{model.count_params():,} parameters at {size}x{size}",
    }


def _wrap(text, width):
    lines, line = [], ""
    for part in text.split(", "):
        candidate = f"{line}, {part}" if line else part
        if len(candidate) > width and line:
            lines.append(line + ",")
            candidate = part
        line = candidate
    return "\n".join(lines + [line])


# Box centres and sizes in figure units (x, y, width, height); y grows upwards.
LAYOUT = {
    "screen": (2.2, 11.2, 3.6, 1.1, INPUT),
    "scalar_in": (6.6, 11.2, 3.6, 1.1, INPUT),
    "entities_in": (10.8, 11.2, 3.2, 1.1, INPUT),
    "spatial": (2.2, 9.0, 4.2, 1.8, ENCODER),
    "scalar": (6.6, 9.0, 3.0, 1.0, ENCODER),
    "entity": (10.8, 9.0, 3.6, 1.4, ENCODER),
    "core": (6.6, 7.0, 4.2, 0.9, CORE),
    "value": (3.8, 5.4, 2.6, 0.9, HEAD),
    "action_type": (10.2, 5.4, 3.8, 0.9, HEAD),
    "value_out": (3.8, 4.0, 2.2, 0.6, OUTPUT),
    "function_out": (10.2, 4.0, 3.4, 0.8, OUTPUT),
    "function_id": (10.6, 2.6, 3.6, 1.0, INPUT),
    "autoregressive": (6.2, 2.6, 4.4, 0.9, HEAD),
    "location": (2.6, 0.4, 4.8, 2.0, HEAD),
    "arguments": (9.2, 0.4, 5.6, 1.3, HEAD),
}

# (from, to, label)
EDGES = [
    ("screen", "spatial", ""), ("scalar_in", "scalar", ""), ("entities_in", "entity", ""),
    ("spatial", "core", "concatenated"), ("scalar", "core", ""), ("entity", "core", ""),
    ("core", "action_type", ""), ("core", "value", ""), ("core", "autoregressive", ""),
    ("action_type", "function_out", ""), ("value", "value_out", ""),
    ("function_out", "function_id", "sampled / taken / labelled"),
    ("function_id", "autoregressive", ""),
    ("autoregressive", "location", ""), ("autoregressive", "arguments", ""),
]
# The encoder's skip maps run down the left margin, clear of the heads: (start, end, label).
SKIP_EDGE = ((0.6, 8.1), (0.6, 1.4), "skip maps: full, half, quarter")


def draw(texts, output):
    figure, axes = pyplot.subplots(figsize=(13, 10.5))
    axes.set_xlim(0, 13.2)
    axes.set_ylim(-1.0, 12.2)
    axes.axis("off")

    def anchor(name, toward):
        x, y, width, height, _ = LAYOUT[name]
        tx, ty = LAYOUT[toward][:2]
        if abs(ty - y) > 0.3:  # leave through the top or bottom edge
            return x + max(-width / 2.5, min(width / 2.5, (tx - x) * 0.4)), \
                y + (height / 2 if ty > y else -height / 2)
        return x + (width / 2 if tx > x else -width / 2), y

    for name, (x, y, width, height, colour) in LAYOUT.items():
        axes.add_patch(patches.FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
            facecolor=colour, edgecolor="#555555"))
        axes.text(x, y, texts[name], ha="center", va="center", fontsize=8.5)

    def arrow(start, end, label, style="-", rotation=0):
        axes.annotate("", xy=end, xytext=start, arrowprops=dict(
            arrowstyle="->", linestyle=style, color="#333333", shrinkA=2, shrinkB=2))
        if label:
            axes.text((start[0] + end[0]) / 2 + 0.1, (start[1] + end[1]) / 2, label,
                      fontsize=7.5, style="italic", color="#333333", rotation=rotation,
                      va="center")

    for source, target, label in EDGES:
        arrow(anchor(source, target), anchor(target, source), label)
    arrow(*SKIP_EDGE, style="--", rotation=90)

    axes.set_title(texts["title"], fontsize=12)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    figure.savefig(output, dpi=110)
    pyplot.close(figure)


def main(argv):
    if len(argv) > 2:
        raise app.UsageError("Expected at most one argument: the PNG to write.")
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    model = network.make_model("alphastar", spec)
    draw(describe(model, spec), argv[1] if len(argv) == 2 else DEFAULT_OUTPUT)


if __name__ == "__main__":
    flags.DEFINE_integer("screen_size", 16, "Feature screen resolution of the drawn network.",
                         lower_bound=4)
    flags.DEFINE_integer("minimap_size", 16, "Feature minimap resolution of the drawn network.",
                         lower_bound=1)
    app.run(main)
