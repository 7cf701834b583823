"""Every `$ diffcli ...` sample in README.md and docs/ prints what the file shows (timings
masked), so the documentation cannot drift from the tool. tools/doc_samples.py rewrites
the samples after a change in output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from doc_samples import documents, run, samples
from snapshot_outputs import masked

SAMPLES = [sample for document in documents() for sample in samples(document)]
# a full cost study takes about 20 s and prints timings: benchmarks/cost_laws.py runs the
# README's and checks its exponents instead
TIMED = pytest.mark.skip(reason="timed: benchmarks/cost_laws.py runs it and checks its fits")


def _param(sample):
    timed = sample.arguments[:1] == ("cost",) and "--n" not in sample.arguments
    return pytest.param(sample, id=f"{sample.path.name}:{sample.line}", marks=[TIMED] * timed)


def test_the_documents_have_samples():
    names = {sample.path.name for sample in SAMPLES}
    assert {"README.md", "commands.md", "numerics.md", "kinks.md", "language.md"} <= names


@pytest.mark.parametrize("sample", [_param(s) for s in SAMPLES])
def test_a_sample_prints_what_the_file_shows(sample):
    printed = masked("\n".join(run(sample)))
    shown = masked("\n".join(sample.shown))
    assert printed == shown, (
        f"{sample.path.name} line {sample.line} has drifted: run python tools/doc_samples.py"
    )


def test_the_python_api_page_runs_as_written():
    import doctest

    from helpers import ROOT

    failures, tried = doctest.testfile(
        str(ROOT / "docs" / "api.md"),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert tried >= 8 and failures == 0
