"""The coordination index is kept between polls: topped up with new states, rebuilt now and then."""

from datetime import timedelta
from types import SimpleNamespace

from detector.features.behaviour import AccountActivity
from jobs.scoring import COORDINATION_OVERLAP, COORDINATION_WINDOW, coordination_for
from tests.conftest import T0


class RecordingStore:
    """Answers recent_activity with one state per call and records what was asked."""

    def __init__(self) -> None:
        self.asked = []

    def recent_activity(self, since, limit=20_000):
        self.asked.append(since)
        state = {"model_version": "m1", "state": AccountActivity().to_json()}
        return {("mastodon", "social.example", str(len(self.asked))): state}


def test_polls_read_only_the_states_saved_since_the_last_one():
    store = RecordingStore()
    runtime = SimpleNamespace(store=store, detector=SimpleNamespace(version="m1"), coordination=None)
    first = coordination_for(runtime, T0)
    later = T0 + timedelta(minutes=5)
    assert coordination_for(runtime, later) is first
    assert coordination_for(runtime, later + timedelta(minutes=5)) is first
    assert store.asked == [T0 - COORDINATION_WINDOW, T0 - COORDINATION_OVERLAP, later - COORDINATION_OVERLAP]


def test_the_index_is_rebuilt_after_hours_a_clock_going_back_or_a_new_model():
    store = RecordingStore()
    runtime = SimpleNamespace(store=store, detector=SimpleNamespace(version="m1"), coordination=None)
    first = coordination_for(runtime, T0)
    hours_later = T0 + timedelta(hours=6)
    rebuilt = coordination_for(runtime, hours_later)
    assert rebuilt is not first and store.asked[-1] == hours_later - COORDINATION_WINDOW
    earlier = hours_later - timedelta(minutes=1)
    assert coordination_for(runtime, earlier) is not rebuilt and store.asked[-1] == earlier - COORDINATION_WINDOW
    runtime.detector = SimpleNamespace(version="m2")
    current = runtime.coordination.index
    assert coordination_for(runtime, earlier) is not current and store.asked[-1] == earlier - COORDINATION_WINDOW
