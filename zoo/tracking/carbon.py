"""Energy and CO2-eq of a training run, with codecarbon's offline tracker, as a Keras callback."""

from __future__ import annotations

import logging

import keras

from layers.validation import check_choice, check_positive_float
from zoo.extras import require_extra
from zoo.tracking.record import merge_into_record

# The country whose electricity mix converts kWh into CO2-eq when none is given: set yours.
DEFAULT_COUNTRY = "USA"
TRACKING_MODES = ("process", "machine")


def check_country(country_iso_code: str) -> str:
    """Returns `country_iso_code` if codecarbon has its electricity mix (ISO 3166-1 alpha-3)."""
    from codecarbon.input import DataSource

    known = DataSource().get_global_energy_mix_data()
    if not isinstance(country_iso_code, str) or country_iso_code.upper() not in known:
        raise ValueError(
            "`country_iso_code` must be an ISO 3166-1 alpha-3 code that codecarbon knows "
            f"(e.g. 'USA', 'FRA', 'DEU'; {len(known)} known). "
            f"Received: country_iso_code={country_iso_code!r}"
        )
    return country_iso_code.upper()


class CarbonCallback(keras.callbacks.Callback):
    """Measures a `fit`'s energy (kWh) and its CO2-eq with codecarbon's `OfflineEmissionsTracker`.

    The tracker starts at `on_train_begin` and stops at `on_train_end`; `summary` then holds
    the figures, which are also merged as `"carbon"` into the JSON file `record_path` (a
    `run.json`) when given. Offline mode: no network; the carbon intensity is the yearly
    electricity mix of `country_iso_code` from the data codecarbon ships.

    How codecarbon estimates the energy: CPU from Intel RAPL counters when readable, else from
    the CPU's TDP (its table of CPU models) times the measured load, else 4 W per thread times
    the load (`"cpu_load"` mode); GPU from NVML; RAM from the installed memory. Power is sampled
    every `measure_power_secs` and integrated over the run; CO2-eq = energy x PUE x the
    country's carbon intensity (g/kWh). The modes used are recorded in `summary["method"]`.
    Estimates, not meter readings: compare runs measured the same way.

    Args:
        country_iso_code: ISO 3166-1 alpha-3 code of the electricity mix. Defaults to `"USA"`.
        record_path: a JSON file (`run.json`) to add `"carbon": summary` to at the end of
            training. Defaults to `None`.
        tracking_mode: `"process"` (this process's CPU load) or `"machine"` (the whole machine).
            Defaults to `"process"`.
        measure_power_secs: seconds between power samples. Defaults to `15.0`.
        pue: power usage effectiveness of the data centre. Defaults to `1.0`.

    Example:

    ```python
    carbon = CarbonCallback(country_iso_code="FRA")
    model.fit(x, y, epochs=3, callbacks=[carbon])
    print(carbon.summary["energy_kwh"], carbon.summary["emissions_kg_co2eq"])
    ```

    Reference: Lacoste et al., "Quantifying the Carbon Emissions of Machine Learning", 2019;
    codecarbon, https://github.com/mlco2/codecarbon.
    """

    def __init__(
        self,
        country_iso_code: str = DEFAULT_COUNTRY,
        record_path: str | None = None,
        tracking_mode: str = "process",
        measure_power_secs: float = 15.0,
        pue: float = 1.0,
    ):
        super().__init__()
        require_extra("codecarbon", "tracking", "Energy and CO2-eq estimates")
        self.country_iso_code = check_country(country_iso_code)
        check_choice("tracking_mode", tracking_mode, TRACKING_MODES)
        self.tracking_mode = tracking_mode
        self.measure_power_secs = check_positive_float("measure_power_secs", measure_power_secs)
        self.pue = check_positive_float("pue", pue)
        self.record_path = record_path
        self.summary: dict | None = None
        self._tracker = None

    @property
    def running(self) -> bool:
        """Whether a measurement is under way."""
        return self._tracker is not None

    def start(self) -> None:
        """Starts a new measurement (a measurement under way is stopped, its summary dropped)."""
        from codecarbon import OfflineEmissionsTracker

        if self._tracker is not None:
            self._tracker.stop()

        # Its start-up notes (unknown CPU model, fallbacks) are in `summary["method"]`.
        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        self.summary = None
        self._tracker = OfflineEmissionsTracker(
            country_iso_code=self.country_iso_code,
            output_methods=[],
            log_level="error",
            tracking_mode=self.tracking_mode,
            measure_power_secs=self.measure_power_secs,
            pue=self.pue,
            project_name="keras-zoo",
        )
        self._tracker.start()

    def stop(self) -> dict | None:
        """Stops the measurement and returns `summary` (`None` if none was started)."""
        if self._tracker is None:
            return self.summary
        tracker, self._tracker = self._tracker, None
        tracker.stop()
        self.summary = _summary(tracker)
        return self.summary

    def on_train_begin(self, logs=None):
        if not self.running:  # an `MLflowCallback` listed first may have started it
            self.start()

    def on_train_end(self, logs=None):
        self.stop()
        if self.record_path is not None and self.summary is not None:
            merge_into_record(self.record_path, {"carbon": self.summary})


def _summary(tracker) -> dict:
    data = tracker.final_emissions_data
    modes = {
        type(part).__name__.lower(): getattr(part, "_mode", None)
        for part in getattr(tracker, "_hardware", [])
    }
    return {
        "energy_kwh": float(data.energy_consumed),
        "emissions_kg_co2eq": float(data.emissions),
        "duration_s": float(data.duration),
        "cpu_energy_kwh": float(data.cpu_energy),
        "gpu_energy_kwh": float(data.gpu_energy),
        "ram_energy_kwh": float(data.ram_energy),
        "cpu_power_w": float(data.cpu_power),
        "gpu_power_w": float(data.gpu_power),
        "ram_power_w": float(data.ram_power),
        "country_iso_code": data.country_iso_code,
        "pue": float(data.pue),
        "tracking_mode": data.tracking_mode,
        "method": {
            "estimator": f"codecarbon {data.codecarbon_version} OfflineEmissionsTracker",
            "cpu": modes.get("cpu"),
            "gpu": modes.get("gpu") if data.gpu_count else None,
            "ram": "installed memory estimate",
            "cpu_model": data.cpu_model,
            "gpu_model": data.gpu_model or None,
        },
    }
