"""The maintenance page: dashboard, diagnostics and work pages."""
