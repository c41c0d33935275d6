"""The model: training, safe persistence, scoring with reasons, evaluation."""
