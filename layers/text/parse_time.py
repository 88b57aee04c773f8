"""`parse_time`: strftime-formatted time strings to Unix time, with TensorFlow string ops.

TensorFlow-only: the format is compiled in Python into a sequence of vectorized scanning steps
over the strings' characters (one cursor per string), so the function runs in graphs, in a
`tf.data` map and inside a SavedModel, batched over any shape of string tensor.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from layers.validation import check_choice

OUTPUT_UNITS = {"SECOND": 1, "MILLISECOND": 10**3, "MICROSECOND": 10**6, "NANOSECOND": 10**9}
SUPPORTED_DIRECTIVES = (
    "%Y %m %d %e %H %M %S %z %:z %Ez %E*z %E*S %E#S %E*f %E#f %E4Y %ET %Z %s %% "
    "%y %b %B %h %a %A %I %l %p %k %j %u %w %n %t %D %F %R %T"
)
_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
# Beyond this many years the seconds since 1970 overflow int64 (absl: "Out-of-range field").
_YEAR_LIMIT = 292_277_026_596 - 1
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
_SPACES = " \t\n\v\f\r"


def parse_time(time_string, time_format: str, output_unit: str) -> tf.Tensor:
    """Parses time strings into the time elapsed since 1970-01-01 00:00:00 UTC.

    Follows absl's `ParseTime` (the directives of `strftime`, with absl's extensions), as
    TensorFlow Addons' custom op does: fields the format leaves out default to
    `1970-01-01 00:00:00 +0000`; times are UTC unless an offset (`%z`, `%Ez`) says otherwise;
    leading and trailing whitespace is skipped and a space in the format matches any run of
    whitespace (none included); out-of-range fields (`Oct 32`, `Feb 29` of a common year) are
    errors, not normalized; a leap second `:60` becomes `:00` of the next minute (its fraction
    dropped); `%Y` takes every digit it finds (a signed year of any length), so it must be
    followed by a non-digit. The result is rounded down to `output_unit`; as in TFA it
    saturates at the int64 limits (nanoseconds before 1677 or after 2262).

    Supported directives: `%Y %m %d %e %H %M %S` (numbers), `%z %:z %::z %Ez %E*z` (`+hh`,
    `+hhmm`, `+hh:mm`, `+hh:mm:ss`, or `Z`), `%E*S` and `%E#S` (seconds with an optional
    fraction), `%E*f` and `%E#f` (a fraction), `%E4Y` (four characters), `%ET` (`T` or `t`),
    `%Z` (a zone abbreviation, read and ignored), `%s` (seconds since the epoch, up to 18
    digits), `%%`, and, as C's `strptime` reads them, `%y` (69-99: 1900s, 00-68: 2000s),
    `%b %B %h` (English month names), `%a %A` (weekday names, ignored), `%I %l` and `%p`
    (12-hour clock), `%k`, `%j %u %w` (read and ignored), `%n %t` (whitespace), and
    `%D %F %R %T`. Other directives raise `ValueError`. Strings are read as UTF-8 text.

    Args:
        time_string: a string or a string tensor of any shape.
        time_format: the format, a Python string (the same for every element).
        output_unit: `"SECOND"`, `"MILLISECOND"`, `"MICROSECOND"` or `"NANOSECOND"`.

    Returns:
        An int64 tensor of `time_string`'s shape.

    Raises:
        ValueError: for an unknown `output_unit` or an unsupported directive.
        tf.errors.InvalidArgumentError: when a string does not match the format or holds an
            out-of-range field (the message quotes the first such string).

    Example:

    ```python
    parse_time("2019-05-17T23:56:09.05Z", "%Y-%m-%dT%H:%M:%E*S%Ez", "MILLISECOND")
    # 1558137369050
    parse_time(["May 17 2019 5 PM"], "%b %d %Y %I %p", "SECOND")  # [1558112400]
    ```
    """
    check_choice("output_unit", output_unit, tuple(OUTPUT_UNITS))
    if not isinstance(time_format, str):
        raise TypeError(
            f"`time_format` must be a Python string. Received: time_format={time_format!r}"
        )
    program = _compile(time_format)
    with tf.name_scope("parse_time"):
        strings = tf.convert_to_tensor(time_string, tf.string)
        flat = tf.reshape(strings, [-1])
        scanner = _Scanner(flat)
        scanner.skip_spaces()
        for step in program.steps:
            step(scanner)
        scanner.skip_spaces()
        scanner.expect_end()
        values, ok = _unix_time(scanner, program, OUTPUT_UNITS[output_unit])
        # The first failure (the appended sentinel when there is none, or no string at all).
        first_bad = tf.argmin(tf.concat([tf.cast(ok, tf.int32), [0]], 0))
        check = tf.debugging.Assert(
            tf.reduce_all(ok),
            [
                "parse_time: the time string",
                tf.gather(tf.concat([flat, [""]], 0), first_bad),
                f"does not match time_format={time_format!r} or has an out-of-range field",
            ],
        )
        with tf.control_dependencies([check]):
            return tf.reshape(values, tf.shape(strings))


# --------------------------------------------------------------------------------------------
# The scanner: one cursor per string, advanced by vectorized steps
# --------------------------------------------------------------------------------------------


class _RunLengths:
    """How many consecutive characters satisfy a mask from any position, by binary search."""

    def __init__(self, mask: tf.Tensor):
        misses = tf.cumsum(tf.cast(tf.logical_not(mask), tf.int32), axis=1)
        # counts[:, k]: characters failing the mask among the first k.
        self.counts = tf.pad(misses, [[0, 0], [1, 0]])

    def at(self, position: tf.Tensor) -> tf.Tensor:
        count = tf.gather(self.counts, position, batch_dims=1)
        last_equal = tf.searchsorted(self.counts, count[:, None], side="right")[:, 0] - 1
        return last_equal - position


class _Scanner:
    """The strings as a `[batch, length + 1]` matrix of code points (0 marks the end), one
    cursor and one success flag per string, and the time fields read so far."""

    def __init__(self, strings: tf.Tensor):
        codes = tf.strings.unicode_decode(strings, "UTF-8", errors="replace")
        self.chars = tf.pad(codes.to_tensor(default_value=0), [[0, 0], [0, 1]])
        self.last = tf.shape(self.chars)[1] - 1
        batch = tf.shape(self.chars)[0]
        self.position = tf.zeros([batch], tf.int32)
        self.ok = tf.ones([batch], tf.bool)
        is_digit = (self.chars >= ord("0")) & (self.chars <= ord("9"))
        is_space = tf.reduce_any(self.chars[..., None] == [ord(c) for c in _SPACES], axis=-1)
        self.digit_runs = _RunLengths(is_digit)
        self.zero_runs = _RunLengths(tf.equal(self.chars, ord("0")))
        self.space_runs = _RunLengths(is_space)
        self.word_runs = _RunLengths(~is_space & (self.chars != 0))
        zeros = tf.zeros([batch], tf.int64)
        self.fields = {
            "year": zeros + 1970,
            "tm_year": zeros + 70,  # strptime's years since 1900 (%y, %D, %F)
            "month": zeros + 1,
            "day": zeros + 1,
            "hour": zeros,
            "minute": zeros,
            "second": zeros,
            "offset": zeros,
            "nanos": zeros,
            "epoch_seconds": zeros,
            "afternoon": tf.zeros([batch], tf.bool),
        }

    def _clamp(self, position):
        return tf.clip_by_value(position, 0, self.last)

    def char_at(self, position) -> tf.Tensor:
        return tf.gather(self.chars, self._clamp(position), batch_dims=1)

    def lower_window(self, start, width: int) -> tf.Tensor:
        """`[batch, width]` lowercased characters from `start` (ASCII letters only)."""
        chars = tf.stack([self.char_at(start + k) for k in range(width)], axis=1)
        upper = (chars >= ord("A")) & (chars <= ord("Z"))
        return tf.where(upper, chars + 32, chars)

    def run(self, runs: _RunLengths, start) -> tf.Tensor:
        return runs.at(self._clamp(start))

    def require(self, condition) -> None:
        self.ok = self.ok & condition

    def set_field(self, name: str, value, where=None) -> None:
        value = tf.cast(value, self.fields[name].dtype)
        self.fields[name] = value if where is None else tf.where(where, value, self.fields[name])

    def digits_value(self, start, count, max_digits: int) -> tf.Tensor:
        """The integer written by the `count` (at most `max_digits`) digits from `start`."""
        value = tf.zeros_like(start, tf.int64)
        for k in range(max_digits):
            digit = tf.cast(self.char_at(start + k) - ord("0"), tf.int64)
            value = tf.where(k < count, value * 10 + digit, value)
        return value

    def skip_spaces(self) -> None:
        self.position += self.run(self.space_runs, self.position)

    def expect_end(self) -> None:
        self.require(tf.equal(self.char_at(self.position), 0))


# --------------------------------------------------------------------------------------------
# Steps: what each piece of the format does to the scanner
# --------------------------------------------------------------------------------------------

Step = Callable[[_Scanner], None]


def _literal(code: int) -> Step:
    def step(s: _Scanner) -> None:
        s.require(tf.equal(s.char_at(s.position), code))
        s.position += 1

    return step


def _spaces(s: _Scanner) -> None:
    s.skip_spaces()


def _absl_int(field: str | None, width: int, low: int | None, high: int | None) -> Step:
    """absl's number reader: an optional `-`, then up to `width` digits (0: any number, at most
    18 significant), no leading whitespace; `-0` and out-of-range values fail."""

    def step(s: _Scanner) -> None:
        negative = tf.equal(s.char_at(s.position), ord("-"))
        start = s.position + tf.cast(negative, tf.int32)
        count = s.run(s.digit_runs, start)
        if width:
            count = tf.minimum(count, width - tf.cast(negative, tf.int32))
            value = s.digits_value(start, count, width)
        else:
            zeros = tf.minimum(s.run(s.zero_runs, start), tf.maximum(count - 1, 0))
            s.require(count - zeros <= 18)
            value = s.digits_value(start + zeros, count - zeros, 18)
        s.require((count > 0) & ~(negative & tf.equal(value, 0)))
        value = tf.where(negative, -value, value)
        if low is not None:
            s.require((value >= low) & (value <= high))
        if field is not None:
            s.set_field(field, value)
        s.position = start + count

    return step


def _four_char_year(s: _Scanner) -> None:
    begin = s.position
    _absl_int("year", 4, -999, 9999)(s)
    s.require(tf.equal(s.position - begin, 4))


def _glibc_int(field: str | None, low: int, high: int, width: int, convert=None) -> Step:
    """C `strptime`'s number reader: skips whitespace, then reads up to `width` digits while
    the value times ten stays within `high`."""

    def step(s: _Scanner) -> None:
        s.skip_spaces()
        first = s.char_at(s.position)
        s.require((first >= ord("0")) & (first <= ord("9")))
        value = tf.cast(first - ord("0"), tf.int64)
        used = tf.ones_like(s.position)
        going = tf.ones_like(s.ok)
        for k in range(1, width):
            char = s.char_at(s.position + k)
            going = going & (value * 10 <= high) & (char >= ord("0")) & (char <= ord("9"))
            value = tf.where(going, value * 10 + tf.cast(char - ord("0"), tf.int64), value)
            used += tf.cast(going, tf.int32)
        s.require((value >= low) & (value <= high))
        if field is not None:
            s.set_field(field, value if convert is None else convert(value))
        s.position += used

    return step


def _two_digits(s: _Scanner, start, high: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Whether two digits at `start` make a number in `[0, high]`, and that number."""
    count = tf.minimum(s.run(s.digit_runs, start), 2)
    value = s.digits_value(start, count, 2)
    return tf.equal(count, 2) & (value <= high), value


def _utc_offset(separator: bool) -> Step:
    """`+hh`, `+hhmm`, `+hhmmss` (with `separator`, also `+hh:mm[:ss]`), or `Z`/`z` for UTC."""

    def skip_separator(s: _Scanner, position):
        if not separator:
            return position
        return position + tf.cast(tf.equal(s.char_at(position), ord(":")), tf.int32)

    def step(s: _Scanner) -> None:
        first = s.char_at(s.position)
        zulu = tf.equal(first, ord("Z")) | tf.equal(first, ord("z"))
        signed = tf.equal(first, ord("+")) | tf.equal(first, ord("-"))
        hours_ok, hours = _two_digits(s, s.position + 1, 23)
        minutes_at = skip_separator(s, s.position + 3)
        minutes_ok, minutes = _two_digits(s, minutes_at, 59)
        seconds_at = skip_separator(s, minutes_at + 2)
        seconds_ok, seconds = _two_digits(s, seconds_at, 59)
        seconds_ok &= minutes_ok
        offset = (
            hours * 3600
            + tf.where(minutes_ok, minutes * 60, 0)
            + tf.where(seconds_ok, seconds, tf.zeros_like(seconds))
        )
        offset = tf.where(tf.equal(first, ord("-")), -offset, offset)
        end = tf.where(
            seconds_ok, seconds_at + 2, tf.where(minutes_ok, minutes_at + 2, s.position + 3)
        )
        s.require(zulu | (signed & hours_ok))
        s.set_field("offset", tf.where(zulu, tf.zeros_like(offset), offset))
        s.position = tf.where(zulu, s.position + 1, end)

    return step


def _fraction(required_dot: bool) -> Step:
    """Sub-second digits (all read, the first nine kept): after a `.` following the seconds
    (`%E*S`, where the `.` is optional), or at once when there is a digit (`%E*f`)."""

    def step(s: _Scanner) -> None:
        if required_dot:
            present = tf.equal(s.char_at(s.position), ord("."))
            start = s.position + 1
        else:
            char = s.char_at(s.position)
            present = (char >= ord("0")) & (char <= ord("9"))
            start = s.position
        count = s.run(s.digit_runs, start)
        s.require(~present | (count > 0))
        kept = tf.minimum(count, 9)
        nanos = s.digits_value(start, kept, 9) * tf.gather(
            tf.constant([10 ** (9 - k) for k in range(10)], tf.int64), kept
        )
        s.set_field("nanos", nanos, where=present)
        s.position = tf.where(present, start + count, s.position)

    return step


def _seconds_with_fraction(s: _Scanner) -> None:
    _absl_int("second", 2, 0, 60)(s)
    _fraction(required_dot=True)(s)


def _names(names: list[str], field: str | None) -> Step:
    """The longest English name or three-letter abbreviation, in any case (`strptime`)."""
    width = max(map(len, names))

    def step(s: _Scanner) -> None:
        window = s.lower_window(s.position, width)
        lengths = []
        for name in names:
            codes = [ord(c) for c in name]
            full = tf.reduce_all(tf.equal(window[:, : len(codes)], codes), axis=1)
            short = tf.reduce_all(tf.equal(window[:, :3], codes[:3]), axis=1)
            lengths.append(tf.where(full, len(codes), tf.where(short, 3, 0)))
        lengths = tf.stack(lengths, axis=1)
        s.require(tf.reduce_max(lengths, axis=1) > 0)
        if field is not None:
            s.set_field(field, tf.argmax(lengths, axis=1) + 1)
        s.position += tf.reduce_max(lengths, axis=1)

    return step


def _am_pm(s: _Scanner) -> None:
    window = s.lower_window(s.position, 2)
    am = tf.reduce_all(tf.equal(window, [ord("a"), ord("m")]), axis=1)
    pm = tf.reduce_all(tf.equal(window, [ord("p"), ord("m")]), axis=1)
    s.require(am | pm)
    s.set_field("afternoon", pm)
    s.position += 2


def _date_separator(s: _Scanner) -> None:
    char = s.char_at(s.position)
    s.require(tf.equal(char, ord("T")) | tf.equal(char, ord("t")))
    s.position += 1


def _zone_name(s: _Scanner) -> None:
    count = s.run(s.word_runs, s.position)
    s.require(count > 0)
    s.position += count


# --------------------------------------------------------------------------------------------
# Compiling the format
# --------------------------------------------------------------------------------------------


class _Program:
    def __init__(self):
        self.steps: list[Step] = []
        self.twelve_hour = False
        self.saw_year = False
        self.saw_epoch_seconds = False


def _twelve_hour(value):
    return value % 12


def _two_digit_year(value):
    return tf.where(value >= 69, value, value + 100)


_GLIBC_HOUR = _glibc_int("hour", 0, 23, 2)
_GLIBC_MINUTE = _glibc_int("minute", 0, 59, 2)
_GLIBC_SECOND = _glibc_int("second", 0, 61, 2)
_GLIBC_MONTH = _glibc_int("month", 1, 12, 2)
_GLIBC_DAY = _glibc_int("day", 1, 31, 2)
_GLIBC_YEAR = _glibc_int("tm_year", 0, 99, 2, _two_digit_year)
_SIMPLE = {
    "Y": ("year", [_absl_int("year", 0, None, None)]),
    "m": (None, [_absl_int("month", 2, 1, 12)]),
    "d": (None, [_absl_int("day", 2, 1, 31)]),
    "e": (None, [_absl_int("day", 2, 1, 31)]),
    "H": ("24h", [_absl_int("hour", 2, 0, 23)]),
    "M": (None, [_absl_int("minute", 2, 0, 59)]),
    "S": (None, [_absl_int("second", 2, 0, 60)]),
    "u": (None, [_absl_int(None, 0, 1, 7)]),
    "w": (None, [_absl_int(None, 0, 0, 6)]),
    "z": (None, [_utc_offset(separator=False)]),
    "Z": (None, [_zone_name]),
    "s": ("epoch", [_absl_int("epoch_seconds", 0, None, None)]),
    "%": (None, [_literal(ord("%"))]),
    "y": (None, [_GLIBC_YEAR]),
    "b": (None, [_names(_MONTHS, "month")]),
    "B": (None, [_names(_MONTHS, "month")]),
    "h": (None, [_names(_MONTHS, "month")]),
    "a": (None, [_names(_WEEKDAYS, None)]),
    "A": (None, [_names(_WEEKDAYS, None)]),
    "I": ("12h", [_glibc_int("hour", 1, 12, 2, _twelve_hour)]),
    "l": ("12h", [_glibc_int("hour", 1, 12, 2, _twelve_hour)]),
    "p": (None, [_am_pm]),
    "k": (None, [_GLIBC_HOUR]),
    "j": (None, [_glibc_int(None, 1, 366, 3)]),
    "n": (None, [_spaces]),
    "t": (None, [_spaces]),
    "D": (None, [_GLIBC_MONTH, _literal(ord("/")), _GLIBC_DAY, _literal(ord("/")), _GLIBC_YEAR]),
    "F": (
        None,
        [
            _glibc_int("tm_year", 0, 9999, 4, lambda year: year - 1900),
            _literal(ord("-")),
            _GLIBC_MONTH,
            _literal(ord("-")),
            _GLIBC_DAY,
        ],
    ),
    "R": ("24h", [_GLIBC_HOUR, _literal(ord(":")), _GLIBC_MINUTE]),
    "T": (
        "24h",
        [_GLIBC_HOUR, _literal(ord(":")), _GLIBC_MINUTE, _literal(ord(":")), _GLIBC_SECOND],
    ),
}


def _unsupported(time_format: str, directive: str) -> ValueError:
    return ValueError(
        f"`time_format` uses {directive!r}, which parse_time does not support (supported: "
        f"{SUPPORTED_DIRECTIVES}). Received: time_format={time_format!r}"
    )


def _compile(time_format: str) -> _Program:
    """The steps of `time_format`, walked as absl's `ParseTime` walks it."""
    program, i, n = _Program(), 0, len(time_format)
    while i < n:
        char = time_format[i]
        if char in _SPACES:
            while i < n and time_format[i] in _SPACES:
                i += 1
            program.steps.append(_spaces)
            continue
        if char != "%":
            program.steps.append(_literal(ord(char)))
            i += 1
            continue
        if i + 1 == n:
            raise ValueError(
                f"`time_format` ends with a lone '%'. Received: time_format={time_format!r}"
            )
        i = _compile_directive(time_format, i + 1, program)
    return program


def _compile_directive(time_format: str, i: int, program: _Program) -> int:
    """Adds the directive starting at `time_format[i]` (after its `%`); returns where it ends."""
    char = time_format[i]
    if char in _SIMPLE:
        effect, steps = _SIMPLE[char]
        program.steps.extend(steps)
        program.saw_year |= effect == "year"
        program.saw_epoch_seconds |= effect == "epoch"
        if effect in ("12h", "24h"):
            program.twelve_hour = effect == "12h"
        return i + 1
    rest = time_format[i:]
    for colons in (":z", "::z", ":::z"):
        if rest.startswith(colons):
            program.steps.append(_utc_offset(separator=True))
            return i + len(colons)
    if char == "E":
        return _compile_extension(time_format, i + 1, program)
    raise _unsupported(time_format, "%" + char)


def _compile_extension(time_format: str, i: int, program: _Program) -> int:
    """absl's `%E...` extensions: `%ET`, `%Ez`, `%E*z`, `%E*S`, `%E#S`, `%E*f`, `%E#f`, `%E4Y`."""
    rest = time_format[i:]
    if rest.startswith("T"):
        program.steps.append(_date_separator)
        return i + 1
    if rest.startswith(("z", "*z")):
        program.steps.append(_utc_offset(separator=True))
        return i + (1 if rest[0] == "z" else 2)
    if rest.startswith("4Y"):
        program.steps.append(_four_char_year)
        program.saw_year = True
        return i + 2
    digits = len(rest) - len(rest.lstrip("0123456789"))
    precision = "*" if rest.startswith("*") else rest[:digits]
    kind = rest[len(precision) : len(precision) + 1]
    if precision and kind in ("S", "f"):
        step = _seconds_with_fraction if kind == "S" else _fraction(required_dot=False)
        program.steps.append(step)
        return i + len(precision) + 1
    raise _unsupported(time_format, "%E" + rest[:2])


# --------------------------------------------------------------------------------------------
# From fields to Unix time
# --------------------------------------------------------------------------------------------


def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    year = year - tf.cast(month <= 2, tf.int64)
    era = tf.math.floordiv(year, 400)
    year_of_era = year - era * 400
    day_of_year = (153 * tf.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _days_in_month(year, month):
    leap = (tf.math.floormod(year, 4) == 0) & (
        (tf.math.floormod(year, 100) != 0) | (tf.math.floormod(year, 400) == 0)
    )
    lengths = tf.constant([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], tf.int64)
    return tf.gather(lengths, tf.clip_by_value(month - 1, 0, 11)) + tf.cast(
        leap & tf.equal(month, 2), tf.int64
    )


def _scale_saturating(seconds, sub_units, factor: int):
    """`seconds * factor + sub_units` (`0 <= sub_units < factor`), clipped to int64."""
    if factor == 1:
        return seconds
    quotient, remainder = divmod(2**63, factor)
    too_large = seconds > (_INT64_MAX - sub_units) // factor
    # seconds * factor + sub_units < -2**63 exactly when seconds < -(quotient + carry).
    too_small = seconds < -(quotient + (remainder + sub_units) // factor)
    safe = tf.where(too_large | too_small, tf.zeros_like(seconds), seconds)
    value = safe * factor + sub_units
    value = tf.where(too_large, tf.constant(_INT64_MAX, tf.int64), value)
    return tf.where(too_small, tf.constant(_INT64_MIN, tf.int64), value)


def _unix_time(s: _Scanner, program: _Program, factor: int):
    """Rounds the parsed time down to `1 / factor` seconds; also returns the success flags."""
    f = s.fields
    if program.saw_epoch_seconds:
        return _scale_saturating(f["epoch_seconds"], tf.zeros_like(f["nanos"]), factor), s.ok
    hour = f["hour"]
    if program.twelve_hour:
        hour = tf.where(f["afternoon"] & (hour < 12), hour + 12, hour)
    leap = tf.equal(f["second"], 60)
    second = tf.where(leap, tf.constant(59, tf.int64), f["second"])
    offset = f["offset"] - tf.cast(leap, tf.int64)
    nanos = tf.where(leap, tf.zeros_like(f["nanos"]), f["nanos"])
    year = f["year"] if program.saw_year else f["tm_year"] + 1900
    time_of_day = hour * 3600 + f["minute"] * 60 + second
    ok = s.ok & (tf.abs(year) <= _YEAR_LIMIT) & (f["day"] <= _days_in_month(year, f["month"]))
    ok &= time_of_day < 86400  # strptime's second 61 must not roll the day over
    year = tf.where(ok, year, tf.constant(1970, tf.int64))
    seconds = _days_from_civil(year, f["month"], f["day"]) * 86400 + time_of_day - offset
    sub_units = nanos // (10**9 // factor)
    return _scale_saturating(seconds, sub_units, factor), ok
