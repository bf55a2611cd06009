"""The demo organisation: synthetic HR, learning and KPI data with planted true effects.

Three programs show the three lessons of impact measurement: an effective program
that high performers self-select into (a naive comparison overstates it), a
well-loved program with no KPI effect (the vanity trap) and a randomised team pilot
on a lower-is-better KPI.  ``truth.json`` holds each true effect in the estimand
``analyze`` reports.
"""

from impactlens.services.demo_data.generator import KINDS, DemoFiles, generate_demo

__all__ = ["KINDS", "DemoFiles", "generate_demo"]
