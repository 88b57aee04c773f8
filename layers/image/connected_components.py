"""Connected-component labelling: TensorFlow Addons' `connected_components` (TFA's C++ kernel,
here written with TensorFlow ops; TensorFlow-only: `tf.while_loop`, `tf.math.unsorted_segment_min`).

The labelling is a parallel union-find over the horizontal runs of equal non-zero values
(numbered in flat order over the whole batch), joined where a pixel and the one below it are
equal: each round hooks every root onto the smallest root across its edges
(`unsorted_segment_min`) and compresses the paths by pointer jumping, until nothing changes (a
few rounds for most images). Each component ends at its smallest run, the one holding its
first pixel in row-major order, so numbering the roots in order gives TFA's ids.
"""

from __future__ import annotations

import tensorflow as tf

from layers.image.checks import as_image


def _links(images: tf.Tensor, foreground: tf.Tensor):
    """Flat masks: the pixel and its right (`1`) / lower (`width`) neighbour are joined."""
    same = foreground & tf.concat(
        [tf.equal(images[:, :, 1:], images[:, :, :-1]), tf.zeros_like(foreground[:, :, :1])],
        axis=2,
    )
    right = same & tf.concat([foreground[:, :, 1:], tf.zeros_like(foreground[:, :, :1])], axis=2)
    below = tf.concat(
        [
            foreground[:, 1:] & foreground[:, :-1] & tf.equal(images[:, 1:], images[:, :-1]),
            tf.zeros_like(foreground[:, :1]),
        ],
        axis=1,
    )
    return tf.reshape(right, [-1]), tf.reshape(below, [-1])


def _compress(parent: tf.Tensor) -> tf.Tensor:
    """Pointer jumping until every node points to its root."""

    def body(p, _):
        jumped = tf.gather(p, p)
        return jumped, tf.reduce_any(jumped != p)

    return tf.while_loop(lambda _, changed: changed, body, (parent, tf.constant(True)))[0]


def _roots(images: tf.Tensor):
    """`(N, H, W)` -> (flat run id of every pixel, root run of every run, flat foreground).

    The nodes are the horizontal runs of equal non-zero values, numbered in flat order, so
    the smallest run of a component holds its first pixel in row-major order.
    """
    foreground = tf.cast(images, tf.bool) if images.dtype != tf.bool else images
    width = tf.shape(images)[2]
    right, below = _links(images, foreground)
    flat_fg = tf.reshape(foreground, [-1])
    joined_left = tf.concat([[False], right[:-1]], axis=0)
    run_start = flat_fg & tf.logical_not(joined_left)
    run_of_pixel = tf.cumsum(tf.cast(run_start, tf.int32)) - 1  # valid on foreground pixels
    num_runs = tf.reduce_sum(tf.cast(run_start, tf.int32))
    # Edges between runs: a pixel and the one below it, joined.
    upper = tf.boolean_mask(run_of_pixel, below)
    lower = tf.boolean_mask(tf.concat([run_of_pixel[width:], run_of_pixel[:width]], 0), below)
    ends = tf.concat([upper, lower], axis=0)
    other_ends = tf.concat([lower, upper], axis=0)

    def round_(parent, _):
        # Hook: every root takes the smallest root across any edge of its tree.
        best = tf.math.unsorted_segment_min(
            tf.gather(parent, other_ends), tf.gather(parent, ends), num_runs
        )
        new_parent = _compress(tf.gather(tf.minimum(parent, best), parent))
        return new_parent, tf.reduce_any(new_parent != parent)

    start = tf.range(num_runs, dtype=tf.int32)
    parent, _ = tf.while_loop(lambda _, changed: changed, round_, (start, tf.constant(True)))
    return run_of_pixel, parent, flat_fg


def connected_components(images, name: str | None = None) -> tf.Tensor:
    """Labels the 4-connected components of equal non-zero value, as
    `tfa.image.connected_components` (the same as `scipy.ndimage.label` with its default
    structure, for each image, numbered on across the batch).

    Components get the ids 1, 2, ... in the order of their first pixel (image, row, column);
    zero (or `False`) pixels get 0.

    Args:
        images: `(H, W)` or `(N, H, W)` tensor of any number or bool dtype.
        name: name scope of the op.

    Returns:
        int32 tensor of the shape of `images`.

    Example:

    ```python
    labels = connected_components([[1, 1, 0], [0, 0, 2], [3, 0, 2]])
    # [[1, 1, 0], [0, 0, 2], [3, 0, 2]]
    ```
    """
    with tf.name_scope(name or "connected_components"):
        tensor = as_image("images", images, ranks=(2, 3))
        if tensor.dtype.is_complex or tensor.dtype == tf.string:
            raise TypeError(
                "`images` must be a number or bool tensor. "
                f"Received: images.dtype={tensor.dtype.name}"
            )
        batch = tensor[None] if tensor.shape.rank == 2 else tensor
        run_of_pixel, root_of_run, foreground = _roots(batch)
        is_root = tf.equal(root_of_run, tf.range(tf.size(root_of_run), dtype=tf.int32))
        ids = tf.cumsum(tf.cast(is_root, tf.int32))  # 1, 2, ... in the order of the roots
        # One more entry, 0, read by the background (there may be no run at all).
        label_of_run = tf.concat([tf.gather(ids, root_of_run), [0]], axis=0)
        run_or_none = tf.where(foreground, run_of_pixel, tf.size(root_of_run))
        numbered = tf.gather(label_of_run, run_or_none)
        numbered = tf.reshape(numbered, tf.shape(batch))
        return numbered[0] if tensor.shape.rank == 2 else numbered
