"""Encoders: every input and output type encodes and decodes back to the same values."""

import numpy as np
import pytest

import dsl
from neural import Encoding, encoding_for
from neural.encode import MAX_CLASSES, MAX_FEATURE_BYTES


def task(inputs: str, output: str, target: str, tail: str = "", grammar: str = "{ int -> 1 }") -> dsl.Task:
    (built,) = dsl.parse_tasks(f"task t {{\n{inputs}\n output {output}\n target {target}\n grammar {grammar}\n{tail}\n}}")
    return built


# (inputs, output, target, extra lines, grammar) → expected input kinds and output head
CASES = {
    "bool → bool": ("input x, y: bool", "bool", "x and y", "", "boolean", ["sign", "sign"], "classes"),
    "int range → int range": ("input a, b: int 0..6", "int 0..6", "(a + b) % 7", "split train 50% seed 0",
                              "{ int -> a, b, 7, int + int, int % int }", ["one_hot", "one_hot"], "classes"),
    "int range → int": ("input a: int -5..5", "int", "a * 3", "", "{ int -> a, 3, int * int }", ["one_hot"],
                        "regression"),
    "wide int range → int range": ("input a: int 0..5000", "int 0..10000", "a + a", "sample 200 uniform seed 1",
                                   "{ int -> a, int + int }", ["standard"], "classes"),
    "u8 → u8": ("input x: u8", "u8", "x & (x - 1)", "", "bitwise", ["bits"], "classes"),
    "i8 → i8": ("input x: i8", "i8", "-x", "", "bitwise", ["bits"], "classes"),
    "u20 → u20": ("input x: u20", "u20", "x ^ (x >> 1)", "sample 300 uniform seed 2", "bitwise", ["bits"], "bits"),
    "i20 → i20": ("input x: i20", "i20", "~x", "sample 300 uniform seed 3", "bitwise", ["bits"], "bits"),
    "int range → wide int range": ("input a: int 0..300", "int -100000..100000", "a * 300 - 50000", "",
                                   "{ int -> a, 300, 50000, int * int, int - int }", ["one_hot"], "regression"),
    "real → real": ("input x: real -1..1", "real", "x * x", "sample 40 uniform seed 0 test 20 uniform seed 1",
                    "koza", ["standard"], "regression"),
    "real and bool → bool": ("input x: real 0..3\n input b: bool", "bool", "b and 1.5 < x", "sample 40 uniform seed 0",
                             "{ bool -> b, real < real, bool and bool\n real -> x, 1.5 }", ["standard", "sign"],
                             "classes"),
}  # fmt: skip


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    inputs, output, target, tail, grammar, kinds, head = CASES[request.param]
    return task(inputs, output, target, tail, grammar), kinds, head


def perfect_outputs(encoding: Encoding, values: np.ndarray) -> np.ndarray:
    """What a perfect network would output for `values`."""
    targets = encoding.output.targets(values)
    match encoding.output.head:
        case "classes":
            return np.eye(encoding.output.size, dtype=np.float32)[targets]
        case "bits":
            return 2 * targets - 1
    return targets[:, None]


def test_kinds_follow_the_types(case):
    built, kinds, head = case
    encoding = encoding_for(built)
    assert [input_.kind for input_ in encoding.inputs] == kinds
    assert encoding.output.head == head


def test_outputs_round_trip(case):
    built, _, _ = case
    encoding = encoding_for(built)
    values = built.target_values
    decoded = encoding.decode(perfect_outputs(encoding, values))
    assert decoded.dtype == built.output_type.dtype
    if built.output_type.kind == "real":
        np.testing.assert_allclose(decoded, values, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(decoded, values)


def test_inputs_round_trip(case):
    built, _, _ = case
    encoding = encoding_for(built)
    features = encoding.features(built.env())
    assert features.shape == (built.n_points, encoding.n_features) and features.dtype == np.float32
    decoded = encoding.decode_features(features)
    for input_ in built.inputs:
        expected = built.points[input_.name]
        if input_.type.kind == "real":
            np.testing.assert_allclose(decoded[input_.name], expected, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(decoded[input_.name], expected)


def test_encoding_survives_json(case):
    built, _, _ = case
    encoding = encoding_for(built)
    assert Encoding.from_json(encoding.to_json()) == encoding


def test_values_are_what_the_docstring_says():
    built = task("input x: bool\n input n: int 2..4\n input w: i4", "i4", "w", "",
                 "{ i4 -> w, i4 + i4\n bool -> x\n int -> n }")
    encoding = encoding_for(built)
    env = {"x": np.array([True, False]), "n": np.array([2, 4]), "w": np.array([-1, 5])}
    features = encoding.features(env)
    np.testing.assert_array_equal(features[:, 0], [1, -1])  # bool → ±1
    np.testing.assert_array_equal(features[:, 1:4], [[1, 0, 0], [0, 0, 1]])  # one-hot, index = value − low
    np.testing.assert_array_equal(features[:, 4:], [[1, 1, 1, 1], [1, -1, 1, -1]])  # bits, least significant first
    assert encoding.output.low == -8 and encoding.output.size == 16  # i4: 16 classes from −8
    np.testing.assert_array_equal(encoding.output.targets(np.array([-8, 7])), [0, 15])


def test_standardization_uses_the_training_points_only():
    built = task("input x: real 0..10", "real", "x + 100", "sample 30 uniform seed 0 test 30 uniform seed 1 range x: 20..30",
                 "koza")  # fmt: skip
    encoding = encoding_for(built)
    train_x = built.points["x"][built.train]
    assert encoding.inputs[0].mean == pytest.approx(train_x.mean())
    assert encoding.inputs[0].scale == pytest.approx(train_x.std())
    assert encoding.output.mean == pytest.approx(built.target_values[built.train].mean())


def test_integer_regression_rounds_and_clips():
    built = task("input a: int 0..300", "int -100000..100000", "a * 300 - 50000", "",
                 "{ int -> a, 300, 50000, int * int, int - int }")  # fmt: skip
    encoding = encoding_for(built)
    assert encoding.output.integer and encoding.output.size == 1
    outputs = np.array([[(12.4 - encoding.output.mean) / encoding.output.scale], [1e9], [np.nan]])
    np.testing.assert_array_equal(encoding.decode(outputs), [12, 100000, 0])


def test_decoding_ignores_outputs_beyond_the_classes():
    """The transformer reads out p + 1 logits (with `=`); decoding takes the first p."""
    built = task("input a, b: int 0..6", "int 0..6", "(a + b) % 7", "", "{ int -> a, b, 7, int + int, int % int }")
    encoding = encoding_for(built)
    outputs = np.zeros((1, 8), dtype=np.float32)
    outputs[0, 7], outputs[0, 3] = 10.0, 1.0  # the `=` logit is the largest
    assert encoding.decode(outputs).tolist() == [3]


def test_tokens_are_a_b_and_equals():
    built = task("input a, b: int 3..9", "int 0..6", "(a + b) % 7", "", "{ int -> a, b, 7, int + int, int % int }")
    encoding = encoding_for(built)
    assert encoding.token_vocabulary == 8
    tokens = encoding.tokens({"a": np.array([3, 9]), "b": np.array([4, 3])})
    np.testing.assert_array_equal(tokens, [[0, 1, 7], [6, 0, 7]])


def test_no_tokens_for_other_inputs():
    assert encoding_for(dsl.load_task("majority3")).token_vocabulary is None
    mixed = task("input a: int 0..6\n input b: int 0..7", "int 0..6", "a", "", "{ int -> a, b }")
    assert encoding_for(mixed).token_vocabulary is None


def test_class_limit():
    assert MAX_CLASSES == 2**16
    wide = task("input x: u17", "u17", "x", "sample 50 uniform seed 0", "bitwise")
    assert encoding_for(wide).output.head == "bits"
    ranged = task("input x: u17", "u17 0..65535", "x & 65535", "sample 50 uniform seed 0", "bitwise")
    assert encoding_for(ranged).output.head == "classes"


def test_features_beyond_the_memory_cap_are_refused_before_they_are_built():
    """300,000 points × 2,000 one-hot features would take 2.24 GiB of float32."""
    wide = task("input a: int 0..999\n input b: int 1000..1999", "int 1000..2998", "a + b", "sample 300000 uniform seed 0",
                "{ int -> a, b, int + int }")  # fmt: skip
    assert MAX_FEATURE_BYTES == 2 * 2**30
    with pytest.raises(dsl.TrainingError, match=r"300,000 points × 2,000 features × 4 bytes\) takes 2\.24 GiB, more than the 2 GiB"):
        encoding_for(wide)
    tokens = task("input a, b: int 0..999", "int 0..1998", "a + b", "sample 300000 uniform seed 0", "{ int -> a, b, int + int }")
    encoding = encoding_for(tokens)  # the transformer reads tokens: the encoding stands, the features are refused
    assert encoding.tokens(tokens.env()).shape == (300000, 3)
    with pytest.raises(dsl.TrainingError, match=r"takes 2\.24 GiB"):
        encoding.features(tokens.env())
    assert encoding.features({"a": tokens.points["a"][:10], "b": tokens.points["b"][:10]}).shape == (10, 2000)


def test_inputs_are_described_by_their_types():
    built = task("input a1: bool\n input n: int 2..4\n input w: i4\n input x: real 0..1", "i4", "w",
                 "sample 20 uniform seed 0", "{ i4 -> w, i4 + i4\n bool -> a1\n int -> n\n real -> x }")  # fmt: skip
    descriptions = [input_.description for input_ in encoding_for(built).inputs]
    assert descriptions == ["a1: bool (±1)", "n: int 2..4 (one-hot)", "w: i4 (4 bits)", "x: real (standardized)"]


def test_the_classes_are_the_output_domain(case):
    """A classes head has one class per value of `Task.output_domain`, the first its low end."""
    built, _, head = case
    encoding = encoding_for(built)
    domain = built.output_domain
    if head == "classes":
        assert (encoding.output.low, encoding.output.low + encoding.output.size - 1) == (domain.low, domain.high)
    elif domain is not None:  # too many values for classes: bits or a clipped regression
        assert domain.size > MAX_CLASSES
        if head == "regression":
            assert (encoding.output.clip_low, encoding.output.clip_high) == (domain.low, domain.high)
    ranged = task("input x: u8", "u8 3..9", "x % 7 + 3", "", "bitwise")
    assert ranged.output_domain == dsl.Range(3, 9)
    assert (encoding_for(ranged).output.low, encoding_for(ranged).output.size) == (3, 7)
