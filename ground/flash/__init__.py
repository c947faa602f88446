"""Flashing: the firmware compiled by mpy-cross and put on a board with mpremote.

`lander flash` (see command.py) is these steps, a module each:

- build.py     mpy-cross -march=armv6m for every module but main.py; reproducible; manifest
- provision.py config.json (vehicle id, telemetry rates, key id) and the telecommand key
- image.py     all the files the board should hold, with an on-board manifest
- ports.py     which serial port is the board, and why one cannot be opened
- board.py     the board through mpremote's SerialTransport: take-over, hashes, writes
- plan.py      what differs, from hashes computed on the board
- deploy.py    stage, verify, switch, verify, reset, first telemetry
- verify.py    hash comparison and the first packets through the ground's decoder
- uf2.py       MicroPython itself, onto a Pico in BOOTSEL mode
- progress.py  a bar on a terminal, plain lines elsewhere

Every failure a user can meet is a `errors.FlashError` with a one-line message. Nothing is
imported here, so that `lander` starts without loading mpremote until it flashes.
"""
