"""The ground segment's MQTT side: topic names and the broker URL."""
