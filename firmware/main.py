# Runs at boot (after a soft reset from the friendly REPL), like any MicroPython board.
import app

app.main()
