// One emulated Raspberry Pi Pico: an RP2040 (rp2040js) that runs the real boot ROM and the
// MicroPython image in its flash, with the flash kept in a file.
//
//   node runner.mjs --bootrom ROM --flash FILE [--uf2 IMAGE] [--serial HEX16] [--fast]
//
// It talks to its parent (sil/silicon/board.py) over stdin/stdout in frames: one type octet,
// a 4-octet big-endian length, the payload. In: 'c' bytes for the USB-CDC console, 'u' bytes
// for UART0's RX, 'x' a control line ("reset run", "reset power", "temp 31.5", "stats").
// Out: 'c' what the device sends on USB-CDC, 'u' what it sends on UART0 TX, 'e' an event as
// JSON ({"ev": "boot" | "usb" | "stats" | ...}). Diagnostics go to stderr.
//
// Time (gap 8): emulated time never runs ahead of wall time; idle time (the CPU in WFI) is
// waited out in real time, and host input wakes the chip at once. So the device's timeouts
// last as long as the host's, as on a Pico on a cable. With --fast idle time is skipped
// (for runs where no host waits, such as benchmarks).

import fs from 'node:fs';
import { ConsoleLogger, LogLevel, RP2040 } from 'rp2040js';
import {
  bootselReleased,
  ByteQueue,
  cdcHost,
  chipResetBlock,
  flashChip,
  HAD_POR,
  HAD_RUN,
  keepWatchdogState,
  makeFlash,
  setDieTemperature,
  startOfFrame,
  uartRxPacing,
  uartTxInterrupt,
  watchdogReset,
} from './gaps.mjs';
import { FLASH_BYTES } from './spiflash.mjs';

const CYCLE_NANOS = 8; // 125 MHz
const MAX_LAG_NANOS = 20e6; // emulated time may fall this far behind wall time, no further
const SLICE_MS = 10; // wall time per run of the emulation before I/O is served
const INPUT_HIGH_WATER = 1 << 16; // host bytes queued before the runner stops reading input

function parseArgs(argv) {
  const args = { fast: false, temp: 27 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (key === 'fast') args.fast = true;
    else args[key] = argv[++i];
  }
  for (const need of ['bootrom', 'flash']) {
    if (!args[need]) fail(`--${need} is required`);
  }
  return args;
}

function fail(message) {
  process.stderr.write(`silicon runner: ${message}\n`);
  process.exit(2);
}

class StderrLogger extends ConsoleLogger {
  constructor() {
    super(LogLevel.Error, false);
  }
  error(component, message) {
    process.stderr.write(`[${component}] ${message}\n`);
  }
}

/** UF2 blocks of 512 octets: magic, flags, target address, payload size, payload at 32. */
function loadUf2(path, memory) {
  const data = fs.readFileSync(path);
  let blocks = 0;
  for (let at = 0; at + 512 <= data.length; at += 512) {
    const view = new DataView(data.buffer, data.byteOffset + at, 512);
    if (view.getUint32(0, true) !== 0x0a324655 || view.getUint32(4, true) !== 0x9e5d5157) {
      fail(`${path} is not a UF2 file (bad magic in block ${at / 512})`);
    }
    if (view.getUint32(8, true) & 1) continue; // "not main flash"
    const address = view.getUint32(12, true) - 0x10000000;
    const size = view.getUint32(16, true);
    if (address < 0 || address + size > FLASH_BYTES || size > 476) {
      fail(`${path}: block ${at / 512} is outside the 2 MiB flash`);
    }
    memory.set(data.subarray(at + 32, at + 32 + size), address);
    blocks++;
  }
  if (!blocks) fail(`${path} holds no flash blocks`);
}

class Board {
  constructor(args) {
    this.args = args;
    this.fast = args.fast;
    this.bootrom = new Uint32Array(fs.readFileSync(args.bootrom).buffer.slice(0, 16384));
    // The rp2040js chip addresses 16 MiB of flash; the board's chip is 2 MiB of it.
    this.memory = new Uint8Array(16 * 1024 * 1024).fill(0xff);
    const fresh = !fs.existsSync(args.flash);
    this.flashFd = fs.openSync(args.flash, fresh ? 'w+' : 'r+');
    if (!fresh) fs.readSync(this.flashFd, this.memory, 0, FLASH_BYTES, 0);
    if (args.uf2) loadUf2(args.uf2, this.memory);
    if (fresh || args.uf2) this.persist(0, FLASH_BYTES);
    this.uniqueId = Buffer.from((args.serial ?? 'e6614103e7452d2f').padStart(16, '0'), 'hex');
    this.cdcIn = new ByteQueue();
    this.uartIn = new ByteQueue();
    this.boots = 0;
    this.busyCycles = 0; // cycles the CPU executed (not waiting for an interrupt), all boots
    this.pendingReset = null;
    this.timer = null;
    this.create(HAD_POR, new Uint32Array(8), 0, 'power');
  }

  persist(offset, length) {
    fs.writeSync(this.flashFd, this.memory, offset, length, offset);
  }

  /** A new chip, as after a reset: what survives is the flash and what the caller keeps. */
  create(chipReset, scratch, reason, why) {
    const mcu = new RP2040();
    mcu.logger = new StderrLogger();
    mcu.loadBootrom(this.bootrom); // (resets the chip, which erases its own flash array)
    const flash = makeFlash(mcu, this.memory, (o, n) => this.persist(o, n), this.uniqueId);
    chipResetBlock(mcu, chipReset); // 1
    bootselReleased(mcu); // 2
    flashChip(mcu, flash); // 3
    startOfFrame(mcu); // 4
    this.usb = cdcHost(
      // 5
      mcu,
      this.cdcIn,
      (data) => send('c', data),
      () => event({ ev: 'usb', boot: this.boots }),
    );
    for (const uart of mcu.uart) uartTxInterrupt(uart); // 6
    this.uartPump = uartRxPacing(mcu, mcu.uart[0], this.uartIn); // 7
    mcu.uart[0].onByte = (byte) => send('u', Uint8Array.of(byte));
    keepWatchdogState(mcu, scratch, reason);
    watchdogReset(mcu, (kept, why) => {
      // 9
      this.pendingReset = { chipReset, scratch: kept, reason: why, kind: 'watchdog' };
    });
    setDieTemperature(mcu, this.temp ?? Number(this.args.temp));
    this.mcu = mcu;
    this.boots++;
    this.anchor = performance.now() * 1e6; // wall nanos at emulated time 0
    event({ ev: 'boot', boot: this.boots, cause: why });
  }

  reset(kind) {
    if (kind === 'power') this.create(HAD_POR, new Uint32Array(8), 0, 'power');
    else this.create(HAD_RUN, new Uint32Array(8), 0, 'run');
  }

  /** Runs the chip for up to SLICE_MS of wall time; returns ms to wait before the next run. */
  run() {
    const end = performance.now() + SLICE_MS;
    for (;;) {
      const { mcu } = this;
      const { core, clock } = mcu;
      const wall = performance.now() * 1e6 - this.anchor;
      if (!this.fast && wall - clock.nanos > MAX_LAG_NANOS) {
        this.anchor += wall - clock.nanos - MAX_LAG_NANOS; // never catch up in a rush
      }
      const allowed = this.fast ? Infinity : performance.now() * 1e6 - this.anchor - clock.nanos;
      if (allowed <= 0) return Math.max(1, -allowed / 1e6);
      let budget = 20000;
      while (budget-- > 0) {
        if (core.waiting) {
          const toAlarm = clock.nanosToNextAlarm;
          const left = this.fast ? Infinity : performance.now() * 1e6 - this.anchor - clock.nanos;
          if (toAlarm <= 0) break; // nothing will ever wake it: wait for the host
          if (toAlarm > left) {
            clock.tick(Math.max(0, left));
            return Math.max(1, (toAlarm - left) / 1e6);
          }
          clock.tick(toAlarm);
        } else {
          const cycles = core.executeInstruction();
          this.busyCycles += cycles;
          clock.tick(cycles * CYCLE_NANOS);
        }
        if (this.pendingReset) {
          const { chipReset, scratch, reason } = this.pendingReset;
          this.pendingReset = null;
          this.create(chipReset, scratch, reason, 'watchdog');
          break;
        }
      }
      if (this.mcu.core.waiting && this.mcu.clock.nanosToNextAlarm <= 0) return 50;
      if (performance.now() >= end) return 0;
    }
  }

  schedule(delayMs) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.schedule(this.run()), delayMs);
  }

  /** Host input: run the chip now rather than at the end of its wait. */
  wake() {
    this.schedule(0);
  }

  control(line) {
    const [what, arg] = line.trim().split(/\s+/);
    switch (what) {
      case 'reset':
        this.reset(arg === 'power' ? 'power' : 'run');
        break;
      case 'temp':
        this.temp = Number(arg);
        setDieTemperature(this.mcu, this.temp);
        break;
      case 'fast':
        this.fast = arg === '1';
        this.anchor = performance.now() * 1e6 - this.mcu.clock.nanos;
        break;
      case 'stats':
        event({
          ev: 'stats',
          boot: this.boots,
          nanos: this.mcu.clock.nanos,
          busy_cycles: this.busyCycles,
          pc: this.mcu.core.PC,
        });
        break;
      case 'stop':
        process.exit(0);
        break;
      default:
        process.stderr.write(`silicon runner: unknown control ${JSON.stringify(line)}\n`);
    }
  }
}

function send(type, payload) {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(payload.length, 1);
  process.stdout.write(Buffer.concat([head, payload]));
}

function event(obj) {
  send('e', Buffer.from(JSON.stringify(obj)));
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  let board;
  try {
    board = new Board(args);
  } catch (e) {
    fail(e.message);
  }
  let pending = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5) {
      const size = pending.readUInt32BE(1);
      if (pending.length < 5 + size) break;
      const type = String.fromCharCode(pending[0]);
      const body = pending.subarray(5, 5 + size);
      pending = pending.subarray(5 + size);
      if (type === 'c') {
        board.cdcIn.push(Uint8Array.from(body));
        board.usb.deliver();
      } else if (type === 'u') {
        board.uartIn.push(Uint8Array.from(body));
        board.uartPump();
      } else if (type === 'x') {
        board.control(body.toString());
      }
    }
    if (board.cdcIn.length > INPUT_HIGH_WATER || board.uartIn.length > INPUT_HIGH_WATER) {
      process.stdin.pause();
    }
    board.wake();
  });
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  setInterval(() => {
    // resume input once the device has taken most of what was queued
    if (process.stdin.isPaused() && board.cdcIn.length < INPUT_HIGH_WATER / 4) {
      if (board.uartIn.length < INPUT_HIGH_WATER / 4) process.stdin.resume();
    }
  }, 5);
  board.schedule(0);
}

main();
