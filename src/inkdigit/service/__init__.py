"""HTTP service (FastAPI): transport, validation and state only; recognition lives in the engine."""
