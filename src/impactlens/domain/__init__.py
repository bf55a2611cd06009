"""Pure domain models: plans, settings, results and errors. No I/O lives here."""
