"""``python -m evals.calibrate`` sweeps the read path's own stages: a few XQuAD questions over two articles (one
fit, one test), indexed with the real embedder and Chroma, through the same functions the full run uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from evals import calibrate, cases
from evals.metrics import first_gold_rank
from rag.settings import Settings

pytestmark = pytest.mark.slow

QUESTIONS_PER_PAIR = 8


@dataclass
class Calibrated:
    assistant: object
    questions: list[cases.Case]
    paragraphs: list[calibrate.Paragraph]
    report: dict


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Calibrated:
    """The first fit article and the first test article of XQuAD indexed, and the calibration over
    ``QUESTIONS_PER_PAIR`` of their questions in each language."""
    from rag import Assistant

    root = tmp_path_factory.mktemp("calibrate")
    dataset = cases.load("xquad", root / "corpus")
    paragraphs = calibrate.xquad_paragraphs()
    split = calibrate.split_of_articles()
    articles = [next(p.article for p in paragraphs if split[p.article] == name) for name in ("fit", "test")]
    asked: set[str] = set()
    for article in articles:
        asked.update(cases.spread(sorted(q for p in paragraphs if p.article == article for q in p.questions),
                                  QUESTIONS_PER_PAIR // 2))
    questions = [c for c in dataset.cases if calibrate.question_id(c) in asked]
    # Every paragraph of both articles is indexed: the other paragraphs are the questions' distractors.
    texts = {p.vi for p in paragraphs if p.article in articles}
    assistant = Assistant(data_dir=root / "index")
    report = assistant.add([path for path in dataset.corpus if path.read_text(encoding="utf-8") in texts])
    assert not report.failed and len(report.added) == len(texts)
    yield Calibrated(assistant, questions, paragraphs, calibrate.calibrate(assistant, questions, paragraphs))
    assistant.close()


def test_report_has_every_constant_named_by_its_setting_with_today_from_settings_and_the_best_from_its_grid(calibrated):
    constants = calibrated.report["constants"]
    grids = {
        "keyword_weight": calibrate.KEYWORD_WEIGHTS, "sentence_weight": calibrate.SENTENCE_WEIGHTS,
        "answer_type_bonus": calibrate.BONUSES, "min_score_same_language": calibrate.THRESHOLDS,
        "min_score_cross_language": calibrate.THRESHOLDS, "claim_min_similarity": calibrate.CLAIM_THRESHOLDS,
    }
    assert set(constants) == set(grids)
    today = {name: getattr(Settings(), name) for name in grids}
    for name, constant in constants.items():
        assert constant["today"] == today[name], name
        assert constant["chosen"] in grids[name], name
        assert constant["verdict"].startswith(("reproduced within noise: ", "differs: ")), constant["verdict"]
        assert constant["verdict"].startswith("differs") != constant["within_noise"]


def test_report_numbers_are_rates_over_both_splits_and_pairs(calibrated):
    report = calibrated.report
    questions = report["data"]["questions"]
    assert questions == {split: {pair: QUESTIONS_PER_PAIR // 2 for pair in ("vi->vi", "en->vi")}
                         for split in ("fit", "test")}
    for name in ("today", "chosen"):
        for split in ("fit", "test"):
            for pair in ("vi->vi", "en->vi"):
                retrieval = report["retrieval"][name][split][pair]
                assert 0 <= retrieval["hit@1"] <= retrieval["mrr"] <= retrieval["hit@5"] <= 1
                assert 0 <= report["evidence"][name][split][pair] <= 1
                abstention = report["abstention"][pair][name][split]
                assert abstention["youden_j"] == pytest.approx(
                    abstention["abstain_without_gold"] + abstention["answer_with_gold"] - 1)
                assert 0 <= abstention["correct_with_gold"] <= abstention["answer_with_gold"] <= 1
            claims = report["claim_support"][name][split]
            assert 0 <= claims["wrong_accepted"] < claims["right_accepted"] <= 1
    assert len(report["retrieval"]["sweep_fit_mrr"]) == len(calibrate.KEYWORD_WEIGHTS) * len(calibrate.SENTENCE_WEIGHTS)
    assert len(report["abstention"]["vi->vi"]["sweep_fit_youden_j"]) == len(calibrate.THRESHOLDS)
    assert set(report["wall_time_s"]) >= {"fusion_s", "evidence_s", "abstention_s", "claims_s", "total_s"}
    markdown = calibrate.markdown(report)
    assert all(f"`{name}`" in markdown for name in report["constants"])


def test_sweeps_score_with_the_pipelines_own_stages(calibrated):
    """At today's settings the sweeps see exactly what the pipeline does: the retrieval ranks of
    ``Assistant.retrieve``, the evidence stage's best sentence and score, the extractive answerer's abstentions."""
    assistant, pipeline = calibrated.assistant, calibrated.assistant.pipeline
    settings = pipeline.settings
    asked = calibrate.ask(assistant, calibrated.questions, calibrated.paragraphs)
    today = (settings.keyword_weight, settings.sentence_weight)
    ranks = calibrate.gold_ranks(assistant, asked, [today])[today]
    assert ranks == [first_gold_rank((p.source for p in assistant.retrieve(a.case.question)), a.case.sources)
                     for a in asked]
    trials = calibrate.evidence_trials(assistant, asked, *today, [settings.answer_type_bonus])
    answered = 0
    for trial in trials[settings.answer_type_bonus]:
        query = trial.asked.query
        assert trial.present.passages == pipeline.copies.run(pipeline.retrieval.run(query))
        assert not {p.source for p in trial.removed.passages} & set(trial.asked.case.sources)
        for candidate in (trial.present, trial.removed):
            evidence = pipeline.evidence.run(query, candidate.passages)
            assert candidate.best == evidence[0]
            assert candidate.best.score == evidence[0].score
            answer = pipeline.extractive.run(query.question, query.language, evidence, candidate.passages, {})
            supported = calibrate.answers(trial.asked, candidate, pipeline.extractive.policy)
            assert answer.abstained is not supported
            answered += supported
    assert 0 < answered < 2 * len(asked), "the check must see both answers and abstentions"


def test_the_printed_lines_set_the_supported_values_through_the_environment(calibrated, monkeypatch):
    lines = calibrate.settings_lines(calibrated.report)
    assignments = [line for line in lines if not line.startswith("#")]
    assert len(assignments) == len(calibrated.report["constants"])
    for line in assignments:
        name, value = line.split("=", 1)
        monkeypatch.setenv(name, value)
    settings = Settings()
    for name, constant in calibrated.report["constants"].items():
        assert getattr(settings, name) == calibrate.kept(constant), name
    # The evidence score's keyword weight follows the fusion's, as the sweeps ran it.
    assert settings.evidence_keyword_weight == settings.keyword_weight
    assert all(line in calibrate.markdown(calibrated.report) for line in assignments)


def test_the_calibration_reaches_the_stages_through_public_names_only():
    source = Path(calibrate.__file__).read_text(encoding="utf-8")
    assert re.findall(r"\b(?:assistant|pipeline)\._\w+", source) == []


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        calibrate.main(["--help"])
    out = capsys.readouterr().out
    assert all(option in out for option in ("--out", "--limit", "--data-dir", "--env"))

