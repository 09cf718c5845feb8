"""FullyConv and AlphaStar-style actor-critic networks behind one `make_model(name, spec)`.

Both networks read the arrays of `utils.preprocess` plus four the agent adds, and return logits:

  inputs   screen, minimap, non_spatial, available_actions, entities, entity_count (utils.py);
           function_id [B] int32: the function whose arguments the heads should score (the action
             sampled at acting time, the taken action in A2C updates, the label in supervised
             learning); FullyConv ignores it, AlphaStar conditions its argument heads on it;
           reset [B] float32: 1.0 where the observation starts an episode (the LSTM state is zeroed
             before it);
           state_h, state_c [N, state_size]: the recurrent state before the first time step.
  outputs  function [B, 573] logits (not masked: the agent masks unavailable functions);
           arguments {pysc2 argument type name: [B, size] logits}, sizes from `Spec.argument_sizes`
             (screen, minimap, screen2 are flattened H*W maps, index y * W + x);
           value [B];
           state_h, state_c [N, state_size]: the recurrent state after the last time step.

`call` is `encode` (everything up to the function logits, value and state) followed by
`argument_logits(encoded, function_id)`; acting uses the two halves to sample the function before
scoring its arguments, without running the network twice.

A batch is time-major: B = T * N observations, row t * N + n is environment n at step t, and
N is read from the state's first dimension. Acting passes T = 1; an A2C update passes a whole
rollout, so the LSTM unrolls over time with the state carried between rollouts.

FullyConv (SC2LE, arXiv:1708.04782): screen and minimap each go through a linear 1x1 convolution
(the embedding of the one-hot categorical planes), a 5x5 convolution with 16 filters and a 3x3 one
with 32; the non-spatial vector goes through a small dense layer and is broadcast over the grid.
Their concatenation is the state: spatial arguments are a 1x1 convolution over it, everything else
(function, value, non-spatial arguments) comes from a dense layer of 256 units over the flattened
state. The spatial heads also see the input planes (a skip connection around the convolutions, as
the replicated code's FullyConv adds its inputs back; its author reports that MoveToBeacon training
fails half the time without it). It has no memory: state_size is 0 and the state passes through.

AlphaStar-style (Vinyals et al., Nature 2019), adapted to pysc2's feature-layer interface:
- spatial encoder: screen and minimap planes (the minimap resized to the screen grid) -> 1x1
  embedding -> two stride-2 downsamplings with residual blocks -> a flattened embedding. The maps of
  each resolution are kept as skip connections for the location head.
- scalar encoder: an MLP over the non-spatial vector (player, game loop, available actions, last
  actions, single and multi selection summaries, player thresholds).
- entity encoder: a transformer layer over the `feature_units` rows, masked by the row count, then
  a masked mean over units (AlphaStar's raw-unit list becomes pysc2's feature_units).
- core: an LSTM over time; the state is zeroed where an episode starts.
- action-type head: function logits from the core. Its autoregressive embedding is the core output
  plus a learned embedding of the GIVEN function id. In the replicated code this embedding came from
  an action type sampled inside the network, unrelated to the action executed or to the label; here
  it is the executed action at acting time and the label in supervised learning.
- argument heads: each non-spatial argument is a linear head on the autoregressive embedding. The
  arguments are conditioned on the action type but not on each other (pysc2 functions take a queue
  flag and at most two points, where this matters little).
- location head: the autoregressive embedding is broadcast over the coarsest encoder map and
  upsampled by transposed convolutions, adding the encoder's skip maps at each resolution (as in
  AlphaStar's location head); one 1x1 convolution per spatial argument gives its logits. Minimap
  logits are resized from the screen grid when the two resolutions differ.
- value head: an MLP on the core output.
Sizes are scaled down (LSTM 256, 32-64 channels) so that it trains on a CPU: about 2M parameters
at 32x32.
"""
import keras
import tensorflow as tf
from absl import logging
from keras import layers

import utils

SPATIAL_ARGUMENTS = ("screen", "minimap", "screen2")
NUM_FUNCTIONS = utils.NUM_FUNCTIONS


class ThresholdsStartAtZero(keras.initializers.Initializer):
    """Kernel initializer of the first dense layer over `non_spatial`: Glorot uniform for the rows
    before the player thresholds (utils.player_thresholds), drawn as if they were the whole input,
    and zeros for the thresholds' rows.

    A new network then computes what it computed before the thresholds were added, and a seeded
    run draws the same numbers, so results measured before them still reproduce; the thresholds'
    weights grow from zero once training sees them make a difference.
    """

    def __init__(self):
        # Made here, as the layer's default initializer would be, so the seeds drawn stay in order.
        self.glorot_uniform = keras.initializers.GlorotUniform()

    def __call__(self, shape, dtype=None):
        rows, units = shape
        drawn = self.glorot_uniform((rows - utils.PLAYER_THRESHOLDS, units), dtype=dtype)
        return keras.ops.concatenate(
            [drawn, keras.ops.zeros((utils.PLAYER_THRESHOLDS, units), dtype=dtype)], axis=0)


class ActorCritic(keras.Model):
    """What both networks share: the input/output contract of the module docstring."""

    state_size = 0
    # Whether `encode` reads the `entities` input: the environment then has to report pysc2's
    # feature_units (use_feature_units), which costs time on every step.
    uses_feature_units = False

    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.argument_sizes = spec.argument_sizes()
        self.non_spatial_arguments = [name for name in self.argument_sizes
                                      if name not in SPATIAL_ARGUMENTS]
        self.screen_size = spec.screen_size
        self.minimap_size = spec.minimap_size

    def initial_state(self, num_envs):
        zeros = tf.zeros((num_envs, self.state_size), tf.float32)
        return {"state_h": zeros, "state_c": zeros}

    def example_inputs(self, num_envs=1, time_steps=1):
        """Zero inputs of the right shapes and dtypes (to build the model, or for tests)."""
        batch = num_envs * time_steps
        inputs = {}
        for name, shape in self.spec.input_shapes().items():
            dtype = tf.int32 if name == "entity_count" else tf.float32
            inputs[name] = tf.zeros((batch,) + shape, dtype)
        inputs["function_id"] = tf.zeros((batch,), tf.int32)
        inputs["reset"] = tf.ones((batch,), tf.float32)
        inputs.update(self.initial_state(num_envs))
        return inputs

    def call(self, inputs, training=False):
        encoded = self.encode(inputs, training=training)
        outputs = {name: encoded[name] for name in ("function", "value", "state_h", "state_c")}
        outputs["arguments"] = self.argument_logits(encoded, inputs["function_id"])
        return outputs

    def encode(self, inputs, training=False):
        """-> dict with function logits, value, state_h, state_c and what the heads need."""
        raise NotImplementedError

    def argument_logits(self, encoded, function_id):
        """-> {argument type name: [B, size] logits} for the given function ids."""
        raise NotImplementedError

    def spatial_logits(self, feature_map, heads):
        """[B, H, W, C] map at screen resolution -> {spatial argument: [B, size] logits}.

        `heads` are the 1x1 convolutions with one filter of SPATIAL_ARGUMENTS. They run as one
        convolution with a filter each (their kernels side by side): the same sums, but the map
        is read once instead of three times, which made FullyConv's update 15% cheaper.
        """
        kernel = tf.concat([heads[name].kernel for name in SPATIAL_ARGUMENTS], axis=-1)
        bias = tf.concat([heads[name].bias for name in SPATIAL_ARGUMENTS], axis=-1)
        planes = tf.nn.bias_add(tf.nn.conv2d(feature_map, kernel, strides=1, padding="VALID"),
                                bias)
        logits = {}
        for index, name in enumerate(SPATIAL_ARGUMENTS):
            plane = planes[..., index:index + 1]
            size = self.minimap_size if name == "minimap" else self.screen_size
            if size != self.screen_size:
                plane = tf.image.resize(plane, (size, size), method="bilinear")
            logits[name] = tf.reshape(plane, (-1, size * size))
        return logits


class FullyConv(ActorCritic):
    """SC2LE's FullyConv baseline agent network (see the module docstring)."""

    def __init__(self, spec, **kwargs):
        super().__init__(spec, **kwargs)
        self.screen_encoder = _conv_encoder("screen_encoder")
        self.minimap_encoder = _conv_encoder("minimap_encoder")
        self.non_spatial_encoder = layers.Dense(16, activation="relu", name="non_spatial_encoder",
                                                kernel_initializer=ThresholdsStartAtZero())
        # The state's channels (two encoders of 32 and the broadcast non-spatial 16) and the
        # input planes of the skip connection.
        shapes = spec.input_shapes()
        self.spatial_heads = spatial_heads(32 + 32 + 16 + shapes["screen"][-1]
                                           + shapes["minimap"][-1])
        self.flatten = layers.Flatten()
        self.fully_connected = layers.Dense(256, activation="relu", name="fully_connected")
        self.function_head = layers.Dense(NUM_FUNCTIONS, name="function_logits")
        self.value_head = layers.Dense(1, name="value")
        self.argument_heads = {name: layers.Dense(self.argument_sizes[name], name=f"{name}_logits")
                               for name in self.non_spatial_arguments}

    def encode(self, inputs, training=False):
        screen = self.screen_encoder(inputs["screen"])
        minimap = self.minimap_encoder(inputs["minimap"])
        if self.minimap_size != self.screen_size:
            minimap = tf.image.resize(minimap, (self.screen_size, self.screen_size))
        non_spatial = self.non_spatial_encoder(inputs["non_spatial"])
        broadcast = tf.tile(non_spatial[:, None, None, :], (1, self.screen_size, self.screen_size, 1))
        state = tf.concat([screen, minimap, broadcast], axis=-1)
        hidden = self.fully_connected(self.flatten(state))
        # The spatial heads also read the input planes themselves (a skip connection): "click
        # where player_relative is neutral" is then one weight, not a feature the convolutions
        # must first learn to single out.
        input_planes = [inputs["screen"], inputs["minimap"]]
        if self.minimap_size != self.screen_size:
            input_planes[1] = tf.image.resize(input_planes[1], (self.screen_size,) * 2)
        return {
            "function": self.function_head(hidden),
            "value": tf.squeeze(self.value_head(hidden), -1),
            "state_h": inputs["state_h"],
            "state_c": inputs["state_c"],
            "spatial_state": tf.concat([state] + input_planes, axis=-1),
            "hidden": hidden,
        }

    def argument_logits(self, encoded, function_id):
        del function_id  # FullyConv scores every argument independently of the function
        arguments = self.spatial_logits(encoded["spatial_state"], self.spatial_heads)
        for name in self.non_spatial_arguments:
            arguments[name] = self.argument_heads[name](encoded["hidden"])
        return arguments


def spatial_heads(channels):
    """{spatial argument: a 1x1 convolution with one filter over a map of `channels` channels},
    built: `ActorCritic.spatial_logits` reads their kernels without calling them."""
    heads = {name: layers.Conv2D(1, 1, name=f"{name}_logits") for name in SPATIAL_ARGUMENTS}
    for head in heads.values():
        head.build((None, None, None, channels))
    return heads


def _conv_encoder(name):
    return keras.Sequential([
        layers.Conv2D(16, 1, name="embedding"),
        layers.Conv2D(16, 5, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
    ], name=name)


class ResidualBlock(layers.Layer):
    """x + conv(relu(conv(relu(x)))), 3x3 convolutions keeping the channel count."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.first = layers.Conv2D(channels, 3, padding="same")
        self.second = layers.Conv2D(channels, 3, padding="same")

    def call(self, x):
        return x + self.second(tf.nn.relu(self.first(tf.nn.relu(x))))


class EntityEncoder(layers.Layer):
    """One transformer layer over unit rows, then a masked mean: [B, E, F], count -> [B, width]."""

    def __init__(self, width=64, heads=2, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Dense(width)
        self.attention = layers.MultiHeadAttention(num_heads=heads, key_dim=width // heads)
        self.attention_norm = layers.LayerNormalization()
        self.feed_forward = keras.Sequential([layers.Dense(2 * width, activation="relu"),
                                              layers.Dense(width)])
        self.feed_forward_norm = layers.LayerNormalization()
        self.output_layer = layers.Dense(width, activation="relu")

    def call(self, entities, count):
        valid = tf.sequence_mask(count, tf.shape(entities)[1])  # [B, E]
        x = self.embedding(entities)
        # Padding rows are never attended to; a batch row without units attends uniformly to
        # padding, and the masked mean below drops the result.
        attention_mask = tf.tile(valid[:, None, :], (1, tf.shape(entities)[1], 1))
        x = self.attention_norm(x + self.attention(x, x, attention_mask=attention_mask))
        x = self.feed_forward_norm(x + self.feed_forward(x))
        weights = tf.cast(valid, x.dtype)[..., None]
        mean = tf.reduce_sum(x * weights, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)
        return self.output_layer(mean)


class ResettingLSTM(layers.Layer):
    """An LSTM over time-major [T, N, D] sequences whose state is zeroed where `reset` is 1."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.cell = layers.LSTMCell(units)

    def build(self, input_shape):
        self.cell.build(input_shape[-1:])  # variables must exist before tf.scan's loop

    def call(self, sequence, reset, state_h, state_c):
        def step(carry, inputs):
            h, c = carry[1], carry[2]
            x, starts = inputs
            keep = 1.0 - starts[:, None]
            output, (h, c) = self.cell(x, [h * keep, c * keep])
            return output, h, c

        first = (tf.zeros_like(state_h), state_h, state_c)
        outputs, h, c = tf.scan(step, (sequence, reset), initializer=first)
        return outputs, h[-1], c[-1]


class AlphaStar(ActorCritic):
    """AlphaStar-style encoder -> LSTM core -> action-type-conditioned heads (module docstring)."""

    state_size = 256
    uses_feature_units = True

    def __init__(self, spec, **kwargs):
        super().__init__(spec, **kwargs)
        if spec.screen_size % 4:
            raise ValueError(f"The alphastar network downsamples the screen twice by 2; "
                             f"--screen_size must be a multiple of 4, got {spec.screen_size}.")
        # Spatial encoder, keeping each resolution's map for the location head.
        self.spatial_embedding = layers.Conv2D(32, 1, activation="relu", name="spatial_embedding")
        self.downsample_half = layers.Conv2D(32, 4, strides=2, padding="same", activation="relu")
        self.residual_half = ResidualBlock(32)
        self.downsample_quarter = layers.Conv2D(64, 4, strides=2, padding="same",
                                                activation="relu")
        self.residual_quarter = [ResidualBlock(64), ResidualBlock(64)]
        self.spatial_reduce = layers.Conv2D(8, 1, activation="relu")
        self.flatten = layers.Flatten()
        self.spatial_output = layers.Dense(256, activation="relu", name="spatial_output")
        # Scalar and entity encoders.
        self.scalar_encoder = keras.Sequential(
            [layers.Dense(128, activation="relu", kernel_initializer=ThresholdsStartAtZero()),
             layers.Dense(128, activation="relu")], name="scalar_encoder")
        self.entity_encoder = EntityEncoder(64, name="entity_encoder")
        # Core.
        self.core = ResettingLSTM(self.state_size, name="core")
        # Action-type head and its autoregressive embedding.
        self.action_type_hidden = layers.Dense(256, activation="relu")
        self.function_head = layers.Dense(NUM_FUNCTIONS, name="function_logits")
        self.core_projection = layers.Dense(256, name="core_projection")
        self.function_embedding = layers.Embedding(NUM_FUNCTIONS, 256, name="function_embedding")
        # Argument heads.
        self.argument_heads = {name: layers.Dense(self.argument_sizes[name], name=f"{name}_logits")
                               for name in self.non_spatial_arguments}
        self.location_condition = layers.Dense(32, activation="relu")
        self.location_conv = layers.Conv2D(64, 3, padding="same", activation="relu")
        self.upsample_half = layers.Conv2DTranspose(32, 4, strides=2, padding="same",
                                                    activation="relu")
        self.upsample_full = layers.Conv2DTranspose(32, 4, strides=2, padding="same",
                                                    activation="relu")
        self.spatial_heads = spatial_heads(32)  # upsample_full's channels
        # Value head.
        self.value_head = keras.Sequential([layers.Dense(128, activation="relu"), layers.Dense(1)],
                                           name="value")

    def encode_spatial(self, screen, minimap):
        """-> (embedding [B, 256], skip maps at full, half and quarter resolution)."""
        if self.minimap_size != self.screen_size:
            minimap = tf.image.resize(minimap, (self.screen_size, self.screen_size))
        full = self.spatial_embedding(tf.concat([screen, minimap], axis=-1))
        half = self.residual_half(self.downsample_half(full))
        quarter = self.downsample_quarter(half)
        for block in self.residual_quarter:
            quarter = block(quarter)
        embedding = self.spatial_output(self.flatten(self.spatial_reduce(quarter)))
        return embedding, (full, half, quarter)

    def encode(self, inputs, training=False):
        spatial, (full, half, quarter) = self.encode_spatial(inputs["screen"], inputs["minimap"])
        scalar = self.scalar_encoder(inputs["non_spatial"])
        entities = self.entity_encoder(inputs["entities"], inputs["entity_count"])
        embedded = tf.concat([spatial, scalar, entities], axis=-1)

        num_envs = tf.shape(inputs["state_h"])[0]
        time_major = tf.reshape(embedded, (-1, num_envs, embedded.shape[-1]))
        reset = tf.reshape(inputs["reset"], (-1, num_envs))
        core, state_h, state_c = self.core(time_major, reset, inputs["state_h"],
                                           inputs["state_c"])
        core = tf.reshape(core, (-1, self.state_size))
        return {
            "function": self.function_head(self.action_type_hidden(core)),
            "value": tf.squeeze(self.value_head(core), -1),
            "state_h": state_h,
            "state_c": state_c,
            "core": core,
            "skips": (full, half, quarter),
        }

    def argument_logits(self, encoded, function_id):
        autoregressive = tf.nn.relu(self.core_projection(encoded["core"])
                                    + self.function_embedding(function_id))
        arguments = self.location_logits(autoregressive, *encoded["skips"])
        for name in self.non_spatial_arguments:
            arguments[name] = self.argument_heads[name](autoregressive)
        return arguments

    def location_logits(self, autoregressive, full, half, quarter):
        condition = self.location_condition(autoregressive)
        grid = tf.shape(quarter)[1:3]
        broadcast = tf.tile(condition[:, None, None, :], (1, grid[0], grid[1], 1))
        x = self.location_conv(tf.concat([quarter, broadcast], axis=-1))
        x = self.upsample_half(x) + half
        x = self.upsample_full(x) + full
        return self.spatial_logits(x, self.spatial_heads)


MODELS = {"fullyconv": FullyConv, "alphastar": AlphaStar}


def make_model(name, spec):
    """Build (and create the variables of) network `name` for the resolutions of `spec`."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(MODELS)}.")
    model = MODELS[name](spec, name=name)
    model(model.example_inputs())
    logging.info("Built %s for %dx%d screen, %dx%d minimap: %s parameters", name,
                 spec.screen_size, spec.screen_size, spec.minimap_size, spec.minimap_size,
                 f"{model.count_params():,}")
    return model
