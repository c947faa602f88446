"""The firmware's MicroPython sources, shipped as package data of `lander-testbed`.

This file only makes the folder a package that `importlib.resources` can find once installed
(ground/firmware.py owns that); it is never put on a board and CPython never runs the modules
beside it.
"""
