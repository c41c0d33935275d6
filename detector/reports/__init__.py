"""Daily summaries: pure computation and rendering."""
