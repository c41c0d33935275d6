"""The content model: deterministic fit, cached scoring equal to the linear model it is."""

import math

import pytest

from detector.classifier.fit import TextDoc, fit_text_model
from detector.classifier.text_model import TextModel
from detector.errors import ModelError

SPAM = [
    "Check out my channel, subscribe for free gifts http://bit.ly/x",
    "FREE entry to win a prize, text WIN to 80086 now",
    "Subscribe to my channel and win an iPhone!!!",
    "Click here for cheap deals www.deals-now.com",
    "Check out my new video, please subscribe",
    "Win cash now, call 09061701461 to claim",
] * 3
HAM = [
    "I love this song, it reminds me of summer",
    "Are we still meeting for lunch tomorrow?",
    "This video never gets old, watched it ten times",
    "Sorry, I will be late, the bus is stuck",
    "The chorus at 2:30 is the best part",
    "Thanks for the help with the move yesterday",
] * 3


@pytest.fixture(scope="module")
def model():
    docs = [TextDoc.of(t) for t in SPAM + HAM]
    return fit_text_model(docs, [1] * len(SPAM) + [0] * len(HAM))


def test_fit_is_deterministic(model):
    again = fit_text_model([TextDoc.of(t) for t in SPAM + HAM], [1] * len(SPAM) + [0] * len(HAM))
    assert again.weights == model.weights and again.bias == model.bias


def test_cached_score_equals_the_linear_model(model):
    for text in ("subscribe to my channel for free stuff", "lunch tomorrow at the usual place?"):
        doc = TextDoc.of(text)
        row = model.sparse_row(doc.words)
        expected = model.bias + sum(model.weights[k] * v for k, v in row.items())
        expected += sum(w * (x - m) / s for x, w, m, s in zip(doc.dense, model.dense_weights, model.dense_mean, model.dense_scale))
        assert model.score(doc.words, doc.signals).logodds == pytest.approx(expected)
        assert model.score(doc.words, doc.signals).logodds == pytest.approx(expected)  # cached the second time


def test_spam_scores_higher_and_names_its_words(model):
    spam = TextDoc.of("subscribe to my channel to win free gifts")
    ham = TextDoc.of("the best part of the song is the chorus")
    spam_score = model.score(spam.words, spam.signals)
    assert spam_score.logodds > 0 > model.score(ham.words, ham.signals).logodds
    assert {w for w, _ in spam_score.terms} & {"subscribe", "channel", "win", "free"}


def test_obfuscated_spam_scores_like_plain_spam(model):
    plain, leet = TextDoc.of("subscribe to my channel"), TextDoc.of("$ub$cr1be to my ch4nnel")
    assert math.isclose(model.score(plain.words, plain.signals).logodds, model.score(leet.words, leet.signals).logodds, abs_tol=0.5)


def test_bad_weights_are_refused(model):
    data = model.to_json()
    data["weights"] = {"w:free": "lots"}
    with pytest.raises(ModelError, match="weights"):
        TextModel.from_json(data)
    data = model.to_json()
    data["dense_features"] = ["something_else"]
    with pytest.raises(ModelError, match="dense_features"):
        TextModel.from_json(data)
