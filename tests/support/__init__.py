"""What several test suites share: data tables and helpers (see each module)."""
