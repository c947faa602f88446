"""Hardware-in-the-loop: the harness that drives a vehicle through procedures, and the
pieces tests and benches use to drive one.

The harness is a pytest plugin (:mod:`hil.plugin`, entry point ``pytest11``) whose
``vehicle`` fixture is the procedures API (:mod:`hil.procedures`); ``lander hil`` runs the
mission campaign (:mod:`hil.campaign`) with it.
"""
