"""The progressive shrinking schedule of Once-for-All, as a callback."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_positive_ints
from zoo.nas.ofa.supernet import PHASES


@keras.saving.register_keras_serializable(package="keras_zoo")
class ProgressiveShrinking(keras.callbacks.Callback):
    """Moves a `OnceForAll` supernet through the phases full -> kernel -> depth -> width.

    Each phase lasts `epochs_per_phase` epochs (the last phase lasts until training ends). In
    the full phase only the largest network trains; then the sampled subnets get elastic
    kernel sizes, then elastic depths, then elastic expand ratios. Entering the width phase
    sorts every block's hidden channels by importance (`OnceForAll.sort_channels`), so the
    narrow subnets keep the most important channels.

    Args:
        epochs_per_phase: epochs of each phase, one integer for all or four (full, kernel,
            depth, width). Defaults to `1`.

    Example:

    ```python
    ofa.fit(x, y, epochs=8, callbacks=[ProgressiveShrinking(epochs_per_phase=2)])
    ```

    Reference:
        Cai et al., "Once-for-All: Train One Network and Specialize it for Efficient
        Deployment", ICLR 2020, Section 3.2.
    """

    def __init__(self, epochs_per_phase=1):
        super().__init__()
        if isinstance(epochs_per_phase, int):
            epochs_per_phase = (check_positive_int("epochs_per_phase", epochs_per_phase),) * 4
        self.epochs_per_phase = check_positive_ints("epochs_per_phase", epochs_per_phase)
        if len(self.epochs_per_phase) != len(PHASES):
            raise ValueError(
                f"`epochs_per_phase` must be one integer or one per phase {PHASES}. "
                f"Received: epochs_per_phase={epochs_per_phase!r}"
            )

    def phase_at(self, epoch: int) -> str:
        """The phase of (0-based) `epoch`."""
        end = 0
        for phase, epochs in zip(PHASES, self.epochs_per_phase, strict=True):
            end += epochs
            if epoch < end:
                return phase
        return PHASES[-1]

    def on_epoch_begin(self, epoch, logs=None):
        phase = self.phase_at(epoch)
        if phase == "width" and (epoch == 0 or self.phase_at(epoch - 1) != "width"):
            self.model.sort_channels()
        self.model.set_phase(phase)

    def get_config(self):
        return {"epochs_per_phase": self.epochs_per_phase}
