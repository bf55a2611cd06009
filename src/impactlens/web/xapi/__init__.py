"""The xAPI 1.0.3 endpoint (Learning Record Store), mounted by the dashboard at /xapi."""
