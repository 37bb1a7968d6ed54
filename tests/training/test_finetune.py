"""Fine-tuning's parts: the served graph rebuilt in PyTorch, corrections from the database and
their split, and the gate's rule measured on real models."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url

from inkdigit.engine.modelcard import ModelCardError
from inkdigit.engine.store import shipped_dir
from inkdigit.service.db.migrate import upgrade
from inkdigit.service.db.models import Reading, ReadingImage, User, now
from inkdigit.service.db.session import sync_url
from inkdigit.training import corrections, onnxnet
from inkdigit.training.corrections import Correction, CorrectionsError
from inkdigit.training.verdict import Measures, judge

pytest.importorskip("torch")


@pytest.mark.parametrize("model", ["cnn-v1", "cnn-v5"])
def test_a_served_graph_comes_back_to_pytorch_and_out_again_unchanged(model: str, tmp_path: Path) -> None:
    card, network = onnxnet.load(shipped_dir() / f"{model}.json")
    assert card.name == model
    assert len(network.output_names()) == (1 if model == "cnn-v1" else 3)
    onnxnet.save(network, tmp_path / "again.onnx")
    x = np.random.default_rng(3).random((6, 1, 28, 28), dtype=np.float32)
    theirs = ort.InferenceSession(str(shipped_dir() / f"{model}.onnx")).run(None, {"image": x})
    again = ort.InferenceSession(str(tmp_path / "again.onnx"))
    assert [o.name for o in again.get_outputs()] == network.output_names()
    for a, b in zip(again.run(None, {"image": x}), theirs, strict=True):
        assert np.abs(a - b).max() < 1e-4


def test_only_cnn_graphs_are_rebuilt(tmp_path: Path) -> None:
    raw = json.loads((shipped_dir() / "cnn-v1.json").read_text())
    raw.update(name="odd", family="mlp", weights="odd.onnx")
    (tmp_path / "odd.json").write_text(json.dumps(raw))
    shutil.copy(shipped_dir() / "cnn-v1.onnx", tmp_path / "odd.onnx")
    with pytest.raises(ModelCardError, match="only cnn"):
        onnxnet.load(tmp_path / "odd.json")


def _c(rid: int, user: str, label: int = 1, answer: str = "7") -> Correction:
    return Correction(rid, user, label, answer, "cnn-v5", b"")


def test_the_split_by_user_keeps_every_writer_on_one_side() -> None:
    items = [_c(i, f"u{i % 7}") for i in range(140)]
    split = corrections.split_by_user(items, 0.3, seed=1)
    tuned, held = {c.user_id for c in split.tune}, {c.user_id for c in split.held_out}
    assert tuned and held and not tuned & held
    assert 0.2 <= len(split.held_out) / len(items) <= 0.5
    assert corrections.split_by_user(items, 0.3, seed=1) == split  # deterministic
    summary = split.summary()
    assert summary["tune"]["n"] + summary["held_out"]["n"] == 140
    assert summary["held_out"]["per_digit"]["1"] == len(split.held_out)
    assert all(len(h) == 16 for h in summary["tune"]["ids_sha256"])  # ids hashed, never as they are


def test_one_writer_alone_cannot_be_split_by_user_but_by_reading() -> None:
    items = [_c(i, "only") for i in range(60)]
    with pytest.raises(CorrectionsError, match="--user"):
        corrections.split_by_user(items)
    split = corrections.split_by_reading(items, 0.3, seed=0)
    assert {c.reading_id for c in split.tune}.isdisjoint({c.reading_id for c in split.held_out})
    assert 10 <= len(split.held_out) <= 30
    # adding readings does not move the ones already split
    more = corrections.split_by_reading([*items, *(_c(i, "only") for i in range(60, 90))], 0.3, seed=0)
    assert {c.reading_id for c in split.held_out} <= {c.reading_id for c in more.held_out}


def _database(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = make_url(f"sqlite:///{tmp_path / 'h.db'}")
    upgrade(url)
    return create_engine(sync_url(url))


def _user(connection, email: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    uid = uuid.uuid4()
    connection.execute(insert(User.__table__).values(id=uid, email=email, hashed_password="x", is_active=True,
                                                     is_superuser=False, is_verified=True, created_at=now()))
    return uid


def _reading(connection, uid: uuid.UUID, kind: str, answer: str, label: str | None,  # type: ignore[no-untyped-def]
             data: bytes = b"png") -> int:
    rid = connection.execute(insert(Reading.__table__).values(
        user_id=uid, created_at=now(), kind=kind, source="api", model="cnn-v5", answer=answer, confidence=0.9,
        is_digit=True, elapsed_ms=1.0, result={}, label=label, labelled_at=now() if label is not None else None)
    ).inserted_primary_key[0]
    connection.execute(insert(ReadingImage.__table__).values(reading_id=rid, media_type="image/png", data=data))
    return int(rid)


def test_corrections_are_read_from_the_history_with_what_was_left_out(tmp_path: Path) -> None:
    engine = _database(tmp_path)
    with engine.begin() as c:
        a, b = _user(c, "a@example.org"), _user(c, "B@example.org")
        fixed = _reading(c, a, "digit", "7", "1", b"seven")
        _reading(c, a, "digit", "3", "3")  # confirmed
        _reading(c, a, "digit", "3", None)  # never labelled
        _reading(c, a, "digit", "4", "")  # "no digit"
        _reading(c, a, "number", "12", "17")  # a number
        other = _reading(c, b, "digit", "", "9")  # rejected, then labelled
    found = corrections.load(engine)
    assert [(x.reading_id, x.label, x.image) for x in found.corrections] == [(fixed, 1, b"seven"), (other, 9, b"png")]
    assert found.skipped == {"confirmed answers (--confirmed uses them)": 1,
                             "'no digit' labels (the gate is not tuned)": 1, "number readings": 1}
    assert len(corrections.load(engine, confirmed=True).corrections) == 3
    assert [x.reading_id for x in corrections.load(engine, user_email="b@EXAMPLE.org").corrections] == [other]
    from datetime import UTC, datetime, timedelta

    assert corrections.load(engine, since=datetime.now(UTC) + timedelta(days=1)).corrections == []


def test_the_gate_refuses_a_candidate_that_reads_the_corrections_no_better(tmp_path: Path) -> None:
    """Parent and candidate the same model: nothing rises, so it must be refused, and say why."""
    from inkdigit.training import writers

    held = [Correction(i, "u", 1, "7", "cnn-v1", png) for i, png in enumerate(writers.long_flag_ones(8, seed=2))]
    card = shipped_dir() / "cnn-v1.json"
    measures = Measures(eval_limit=100, robustness_limit=4, renderings=("clean", "canvas/thin-pen"),
                        rejection_limit=4)
    verdict = judge(card, card, held, measures)
    assert not verdict.passed
    rows = {r.measure: r for r in verdict.rows}
    assert not rows["held-out corrections"].ok
    assert rows["MNIST test"].ok and rows["MNIST test"].n == 100
    assert rows["non-digits rejected"].ok and rows["USPS robustness (mean of 2)"].ok
    assert verdict.reasons and verdict.reasons[0].startswith("held-out corrections")
    assert verdict.to_dict()["passed"] is False


def test_a_gate_with_nothing_measured_refuses(tmp_path: Path) -> None:
    card = shipped_dir() / "cnn-v1.json"
    verdict = judge(card, card, [], Measures(eval_limit=50, robustness_limit=0, rejection_limit=0))
    assert not verdict.passed
    assert any("not measured" in r for r in verdict.reasons)
