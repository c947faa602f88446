"""The mission campaign: procedures an operator would write, flown against the target.

``lander hil`` runs it (``-m campaign``); ``make test`` runs it on virtual boards. Touchdown
limits are Chandrayaan-3's design limits (ISRO, 2023): 2 m/s vertical, 0.5 m/s horizontal.
"""

VERTICAL_LIMIT = 2.0
HORIZONTAL_LIMIT = 0.5
