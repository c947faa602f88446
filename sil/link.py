"""``sil://``: a link that starts a virtual board and opens its serial port.

Registered with the ground through the ``lander.links`` entry point group, so that the
ground never imports the virtual board. ``sil://?time_warp=10&seed=1&autostart=0`` boots
the project's firmware in the real MicroPython VM behind a pty; ``scenario=NAME`` flies a
named scenario (``lander scenario --list``); ``flash=DIR`` keeps the board's flash there
instead of in a temporary folder, which is removed, with its copy of the vehicle key, when
the link is closed (also on Ctrl-C and SIGTERM: ``lander`` turns SIGTERM into the same
clean stop).
"""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path

from ground.keys import DEFAULT_VEHICLE, KeyFileError, load_key
from ground.links import LinkError, SerialLink, link_options

from .board import VirtualBoard
from .firmware import install_sources, was_flashed

__all__ = ["SilLink", "open_sil_link", "sil_config", "provision_virtual_board"]

CA_FILE = "ca.der"  # on a board's flash: the authority its MQTT link over TLS trusts


class SilLink(SerialLink):
    """Starts a virtual board with the project's firmware and opens its serial port."""

    reconnectable = False  # a board that stopped does not come back

    def __init__(self, url: str, options: dict[str, str]) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        flash = options.pop("flash", None)
        if flash is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lander-vboard-")
            flash = self._tmp.name
        try:
            if not was_flashed(Path(flash)):  # a board `lander flash` wrote starts as flashed
                provision_virtual_board(Path(flash), options)
            elif options:
                raise LinkError(
                    f"the board in {flash} was flashed by `lander flash` and starts as flashed: "
                    f"drop {', '.join(sorted(options))} from the URL, or flash it again"
                )
            self.board = VirtualBoard(Path(flash))
            try:
                self.board.start()
            except Exception as exc:
                raise LinkError(f"virtual board did not start: {exc}") from None
            super().__init__(url, self.board.port)
        except BaseException:  # LinkError, or Ctrl-C / SIGTERM while starting
            self._cleanup()
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        board = getattr(self, "board", None)
        if board is not None:
            board.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def open_sil_link(url: str) -> SilLink:
    """The ``lander.links`` entry point of ``sil://``."""
    return SilLink(url, link_options(url))


def sil_config(options: dict[str, str]) -> dict[str, object]:
    """config.json for a virtual board from URL or command-line options."""
    config: dict[str, object] = {}
    for key, cast in (("time_warp", int), ("seed", int), ("vehicle", str)):
        if key in options:
            try:
                config[key] = cast(options[key])
            except ValueError:
                raise LinkError(f"sil:// option {key}={options[key]!r} is not valid") from None
    config["autostart"] = options.get("autostart", "1") not in ("0", "false", "no")
    if "broker" in options:
        config["mqtt"] = board_mqtt(options["broker"])
    if "scenario" in options:
        from .scenarios import SCENARIOS

        scenario = SCENARIOS.get(options["scenario"])
        if scenario is None:
            raise LinkError(
                f"unknown scenario {options['scenario']!r}: `lander scenario --list` shows them"
            )
        config.update(scenario.config)
    return config


def board_mqtt(url: str) -> dict[str, object]:
    """config.json's "mqtt" for a board that publishes itself on the broker at ``url``
    (``mqtts://...?ca=FILE``: over TLS, trusting that authority alone)."""
    from ground.mqtt.address import parse

    broker = parse(url)
    if broker.vehicle:
        raise LinkError(
            f"broker {broker.url}: a board takes the broker alone, "
            f"its vehicle from --vehicle ({broker.vehicle}?)"
        )
    mqtt: dict[str, object] = {"broker": broker.host, "port": broker.port}
    if broker.tls:
        if broker.ca is None:
            raise LinkError(
                f"broker {broker.url}: give the authority the board is to trust, "
                "mqtts://...?ca=FILE (a board has no system authorities)"
            )
        authority(broker.ca)  # a clear error now rather than a board that never connects
        mqtt["ca"] = CA_FILE
    if broker.username is not None:
        mqtt["user"] = broker.username
        if broker.password is not None:
            mqtt["password"] = broker.password
    return mqtt


def authority(ca_file: str) -> bytes:
    """The certificate authority a board is to trust, as DER (what its flash holds)."""
    try:
        data = Path(ca_file).read_bytes()
        return ssl.PEM_cert_to_DER_cert(data.decode()) if b"-----BEGIN" in data else data
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LinkError(f"cannot read the CA file {ca_file}: {exc}") from None


def provision_virtual_board(flash: Path, options: dict[str, str]) -> dict[str, object]:
    """Put the firmware, its config.json and the vehicle's key (the ground's, made on first
    use) on a virtual board's flash; returns the config."""
    config = sil_config(options)
    try:
        key = load_key(str(config.get("vehicle", DEFAULT_VEHICLE)))
    except KeyFileError as exc:
        raise LinkError(str(exc)) from None
    config["key_id"] = key.key_id
    install_sources(flash, config, key=key.secret)
    mqtt = config.get("mqtt")
    if isinstance(mqtt, dict) and "ca" in mqtt:
        from ground.mqtt.address import parse

        ca = parse(options["broker"]).ca
        assert ca is not None  # board_mqtt made sure
        (flash / CA_FILE).write_bytes(authority(ca))
    return config
