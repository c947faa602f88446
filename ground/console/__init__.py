"""The operator console (``lander console``): a Textual application over the telemetry bus.

The state it shows is sans-I/O (:mod:`.state` and the modules it is made of: parameters,
limits, events, plots, commands), fed by bus events and tested without Textual; the
widgets (:mod:`.app` and the page modules) only draw it, at a throttled rate, while the bus
reads the link on its own thread.
"""
