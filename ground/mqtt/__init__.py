"""The ground segment over MQTT (DESIGN.md, "Ground segment").

:mod:`~ground.mqtt.topics` names every topic, for the ground process and the edges alike;
:mod:`~ground.mqtt.address` reads ``mqtt://user:password@host:port/<vehicle>`` URLs and
connects paho clients; :mod:`~ground.mqtt.link` is the client side of a vehicle's telemetry
(``lander monitor --link mqtt://...``); :mod:`~ground.mqtt.gateway` is the command gateway's
sans-I/O core; :mod:`~ground.mqtt.station` is ``lander ground`` itself;
:mod:`~ground.mqtt.requester` sends command requests to the gateway (``lander cmd``);
:mod:`~ground.mqtt.broker` is the embedded broker.
"""
