from __future__ import annotations

import pytest

from runner.backends.local import model


def test_the_model_is_botocore_s() -> None:
    metadata = model.service_model()["metadata"]

    assert (metadata["targetPrefix"], metadata["apiVersion"]) == ("AmazonPersonalize", "2018-05-22")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        ("abc", True),
        ("x" * 1500, True),
        ("x" * 1501, False),
        ("\x00\x7f", True),
        ("é", False),
    ],
)
def test_ascii_property(value: str, valid: bool) -> None:
    errors = model.validate("ListBatchSegmentJobs", {"nextToken": value})

    assert (errors == []) is valid


def test_java_digits_are_ascii() -> None:
    role = "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/R"  # Arabic-Indic digits are not \d in Java

    (error,) = model.validate("CreateBatchSegmentJob", {"roleArn": role})[-1:]

    assert error.startswith(f"Value '{role}' at 'roleArn' failed to satisfy constraint")


def test_validation_message_counts_errors() -> None:
    assert model.validation_message(["A"]) == "1 validation error detected: A"
    assert model.validation_message(["A", "B"]) == "2 validation errors detected: A; B"
