"""parse_time: TFA's numbers and rejections (fixtures), batches, graphs, SavedModel, bad input."""

import collections
import os

import numpy as np
import pytest
import tensorflow as tf

from layers.text import parse_time

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "text_ops.npz")
ISO = "%Y-%m-%dT%H:%M:%E*S%Ez"


def _fixture_cases() -> list[tuple[str, str, str, int, bool]]:
    """(string, format, unit, TFA's value, whether TFA rejected it), one per case."""
    with np.load(FIXTURE) as fixture:
        strings = [s.decode() for s in fixture["parse_time/strings"]]
        formats = [f.decode() for f in fixture["parse_time/formats"]]
        units = [str(u) for u in fixture["parse_time/units"]]
        values = fixture["parse_time/values"].tolist()
        failed = fixture["parse_time/failed"].tolist()
    return list(zip(strings, formats, units, values, failed, strict=True))


CASES = _fixture_cases()


def test_tfa_tests():
    """The expected values of TFA's own test."""
    for unit, expected in [
        ("NANOSECOND", 1558137369050000000),
        ("MICROSECOND", 1558137369050000),
        ("MILLISECOND", 1558137369050),
        ("SECOND", 1558137369),
    ]:
        assert parse_time("2019-05-17T23:56:09.05Z", ISO, unit).numpy() == expected
    batch = ["2019-05-17T23:56:09.05Z", "2019-05-20T11:22:33.44Z", "2019-05-30T22:33:44.55Z"]
    np.testing.assert_array_equal(
        parse_time(batch, ISO, "MILLISECOND"), [1558137369050, 1558351353440, 1559255624550]
    )


def test_matches_tensorflow_addons_in_batches():
    """Every string TFA parses, one batch per (format, unit): TFA's values."""
    batches = collections.defaultdict(list)
    for string, time_format, unit, value, failed in CASES:
        if not failed:
            batches[time_format, unit].append((string, value))
    for (time_format, unit), rows in batches.items():
        strings, values = zip(*rows, strict=True)
        result = parse_time(list(strings), time_format, unit)
        assert result.dtype == tf.int64
        np.testing.assert_array_equal(result, values, err_msg=f"{time_format!r} {unit}")


@pytest.mark.parametrize(
    "string, time_format, unit",
    [case[:3] for case in CASES if case[4]],
    ids=lambda value: repr(value),
)
def test_rejects_what_tensorflow_addons_rejects(string, time_format, unit):
    with pytest.raises(tf.errors.InvalidArgumentError, match="parse_time: the time string"):
        parse_time(string, time_format, unit)


def test_error_names_the_first_bad_string_of_a_batch():
    with pytest.raises(tf.errors.InvalidArgumentError, match="2019-13-01") as info:
        parse_time(["2019-05-01", "2019-13-01", "bad"], "%Y-%m-%d", "SECOND")
    assert "%Y-%m-%d" in str(info.value) and "bad" not in str(info.value).split("2019-13-01")[0]


def test_keeps_the_input_shape():
    strings = tf.constant([["1970-01-01", "1970-01-02"], ["1970-01-03", "1971-01-01"]])
    np.testing.assert_array_equal(
        parse_time(strings, "%Y-%m-%d", "SECOND"), [[0, 86400], [172800, 31536000]]
    )
    assert parse_time(tf.constant([], tf.string), "%Y", "SECOND").shape == (0,)
    assert parse_time(tf.zeros([2, 0], tf.string), "%Y", "SECOND").shape == (2, 0)


def test_in_tf_function_tf_data_and_saved_model(tmp_path):
    strings = ["2019-05-17T23:56:09.05Z", "1969-12-31T23:59:59.5+01:00"]
    expected = parse_time(strings, ISO, "MICROSECOND").numpy()
    np.testing.assert_array_equal(expected, [1558137369050000, -3600500000])

    module = tf.Module()
    module.parse = tf.function(
        lambda s: parse_time(s, ISO, "MICROSECOND"),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    tf.saved_model.save(module, str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    np.testing.assert_array_equal(loaded.parse(tf.constant(strings)), expected)
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a time"):
        loaded.parse(tf.constant(["not a time"]))

    dates = tf.data.Dataset.from_tensor_slices(["2019-05-17", "1969-12-31"]).batch(2)
    mapped = dates.map(lambda s: parse_time(s, "%Y-%m-%d", "SECOND"))
    np.testing.assert_array_equal(next(iter(mapped)), [1558051200, -86400])


@pytest.mark.parametrize(
    "time_format, message",
    [
        ("%Y-%U", "'%U'"),
        ("%c", "'%c'"),
        ("%Ex", "'%Ex'"),
        ("%Od", "'%O'"),
        ("%Y%", "lone '%'"),
    ],
)
def test_unsupported_formats(time_format, message):
    with pytest.raises(ValueError, match=message):
        parse_time("2019", time_format, "SECOND")


def test_bad_arguments():
    with pytest.raises(ValueError, match="output_unit='INVALID'"):
        parse_time("2019-05-17T23:56:09.05Z", ISO, "INVALID")
    with pytest.raises(ValueError, match="output_unit='second'"):
        parse_time("2019", "%Y", "second")
    with pytest.raises(TypeError, match="time_format=b'%Y'"):
        parse_time("2019", b"%Y", "SECOND")
