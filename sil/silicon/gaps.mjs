// What stock rp2040js 1.4.1 lacks to run MicroPython's rp2 port as a Pico does, filled from
// outside the package: each function wraps or replaces one peripheral object of a chip.
// The numbers are those of the table in the project's README ("The silicon board").

import { BasePeripheral, USBCDC } from 'rp2040js';
import { FLASH_BYTES, SpiFlash } from './spiflash.mjs';

const VREG_AND_CHIP_RESET = 0x40064;
const IO_QSPI = 0x40018;
const SSI = 0x18000;
const WATCHDOG = 0x40058;
export const HAD_POR = 1 << 8;
export const HAD_RUN = 1 << 16;

/** Registers that keep what is written and read back their reset values. */
class Registers extends BasePeripheral {
  constructor(rp2040, name, values) {
    super(rp2040, name);
    this.values = { ...values };
  }
  readUint32(offset) {
    return this.values[offset] ?? 0;
  }
  writeUint32(offset, value) {
    this.values[offset] = value >>> 0;
  }
}

/** 1: the chip's reset block, unimplemented, reads 0xffffffff, so the boot ROM sees the
 * debugger's rescue flag and parks in WFI. Registers at their power-on values instead. */
export function chipResetBlock(mcu, chipReset) {
  const block = new Registers(mcu, 'VREG_AND_CHIP_RESET', { 0x0: 0xb1, 0x4: 0x91, 0x8: chipReset });
  block.writeUint32 = function (offset, value) {
    if (offset === 0x8) {
      // only PSM_RESTART_FLAG (bit 24) is writable: write 1 to clear
      this.values[0x8] &= ~(value & (1 << 24));
      return;
    }
    this.values[offset] = value >>> 0;
  };
  mcu.peripherals[VREG_AND_CHIP_RESET] = block;
}

/** 2: the QSPI_SS strap reads low (pad input disabled, no pull-up), so the boot ROM thinks
 * BOOTSEL is held and starts USB mass storage. The SS pad at its reset value, input high. */
export function bootselReleased(mcu) {
  const ss = mcu.qspi[1];
  ss.padValue = 0x5a;
  ss.setInputValue(true);
}

/** 3: the SSI is a register stub and IO_QSPI is missing, so nothing answers the boot ROM's
 * flash commands. A NOR chip behind SSI DR0 with an RX FIFO and status flags; chip select
 * is the SS pin's output override in IO_QSPI (the ROM and the SDK force it to program). */
export function flashChip(mcu, flash) {
  mcu.peripherals[SSI] = new FlashInterface(mcu, flash);
  mcu.peripherals[IO_QSPI] = new QspiPins(mcu, flash);
}

const SSI_SSIENR = 0x08;
const SSI_TXFLR = 0x20;
const SSI_RXFLR = 0x24;
const SSI_SR = 0x28;
const SSI_IDR = 0x58;
const SSI_VERSION_ID = 0x5c;
const SSI_DR0 = 0x60;
const SR_TFNF = 1 << 1;
const SR_TFE = 1 << 2;
const SR_RFNE = 1 << 3;
const SR_RFF = 1 << 4;
const RX_DEPTH = 16;

class FlashInterface extends Registers {
  constructor(mcu, flash) {
    super(mcu, 'SSI', { [SSI_IDR]: 0x51535049, [SSI_VERSION_ID]: 0x3430312a });
    this.flash = flash;
    this.rx = [];
  }
  readUint32(offset) {
    switch (offset) {
      case SSI_DR0:
        return this.rx.length ? this.rx.shift() : 0;
      case SSI_SR:
        return (
          SR_TFNF |
          SR_TFE |
          (this.rx.length ? SR_RFNE : 0) |
          (this.rx.length >= RX_DEPTH ? SR_RFF : 0)
        );
      case SSI_RXFLR:
        return this.rx.length;
      case SSI_TXFLR:
        return 0;
    }
    return super.readUint32(offset);
  }
  writeUint32(offset, value) {
    if (offset === SSI_DR0) {
      if (!(this.values[SSI_SSIENR] & 1)) return;
      const out = this.flash.transfer(value & 0xff);
      if (this.rx.length < RX_DEPTH) this.rx.push(out);
      return;
    }
    if (offset === SSI_SSIENR && !(value & 1)) this.rx = []; // disabling clears the FIFOs
    super.writeUint32(offset, value);
  }
}

const SS_CTRL = 0x0c;

class QspiPins extends Registers {
  constructor(mcu, flash) {
    super(mcu, 'IO_QSPI', {});
    this.flash = flash;
  }
  writeUint32(offset, value) {
    super.writeUint32(offset, value);
    if (offset === SS_CTRL) {
      this.flash.select(((value >>> 8) & 3) === 2); // OUTOVER = drive low
    }
  }
}

/** Makes the chip's flash array the board's, with a chip model that keeps it in a file. */
export function makeFlash(mcu, memory, persist, uniqueId) {
  mcu.flash = memory;
  mcu.flash16 = new Uint16Array(memory.buffer);
  mcu.flashView = new DataView(memory.buffer);
  return new SpiFlash(memory.subarray(0, FLASH_BYTES), persist, uniqueId);
}

const USB_SOF_RD = 0x48;
const INTR_DEV_SOF = 1 << 17;
const MAIN_CTRL_CONTROLLER_EN = 1;

/** 4: no start-of-frame in device mode, and MicroPython's CDC waits for 16 SOF interrupts
 * after DTR before it flushes output. A 1 kHz SOF, cleared by reading SOF_RD. */
export function startOfFrame(mcu) {
  const usb = mcu.usbCtrl;
  const alarm = mcu.clock.createAlarm(() => {
    if (!usb.hostMode && usb.mainCtrl & MAIN_CTRL_CONTROLLER_EN) {
      usb.sofFrameNumber = (usb.sofFrameNumber + 1) & 0x7ff;
      usb.intRaw |= INTR_DEV_SOF;
      usb.checkInterrupts();
    }
    alarm.schedule(1_000_000);
  });
  alarm.schedule(1_000_000);
  const read = usb.readUint32.bind(usb);
  usb.readUint32 = (offset) => {
    if (offset === USB_SOF_RD && usb.intRaw & INTR_DEV_SOF) {
      usb.intRaw &= ~INTR_DEV_SOF;
      usb.checkInterrupts();
    }
    return read(offset);
  };
}

/** Bytes waiting for a device, in chunks, with a count for back-pressure. */
export class ByteQueue {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }
  push(bytes) {
    if (bytes.length) {
      this.chunks.push(bytes);
      this.length += bytes.length;
    }
  }
  take(n) {
    const out = new Uint8Array(Math.min(n, this.length));
    let filled = 0;
    while (filled < out.length) {
      const head = this.chunks[0];
      const part = Math.min(head.length, out.length - filled);
      out.set(head.subarray(0, part), filled);
      filled += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    this.length -= filled;
    return out;
  }
  clear() {
    this.chunks = [];
    this.length = 0;
  }
}

/** 5: the stock CDC host answers every armed OUT endpoint at once, with zero bytes when it has
 * none (a storm of empty packets while idle), and drops what overflows 512 bytes. This host
 * NAKs (leaves the endpoint armed) until data is queued; the queue has no limit, the runner
 * stops reading its input while it is long. */
export function cdcHost(mcu, queue, onData, onConnected) {
  const usb = mcu.usbCtrl;
  const cdc = new USBCDC(usb);
  let armed = 0; // size of the OUT transfer the device waits on, 0 if none
  const deliver = () => {
    if (armed && queue.length) {
      const size = armed;
      armed = 0;
      usb.endpointReadDone(cdc.outEndpoint, queue.take(size));
    }
  };
  usb.onEndpointRead = (endpoint, size) => {
    if (endpoint === cdc.outEndpoint) {
      armed = size;
      deliver();
    }
  };
  cdc.onSerialData = onData;
  cdc.onDeviceConnected = onConnected;
  return { cdc, deliver };
}

const UARTDR = 0x0;
const UARTTXINTR = 1 << 5;

/** 6: the UART asserts its TX interrupt again on every check, so clearing it in ICR fails and
 * the first interrupt-driven write never ends. Raised when a write drains, cleared by ICR. */
export function uartTxInterrupt(uart) {
  uart.checkInterrupts = function () {
    this.rp2040.setInterrupt(this.irq, !!(this.interruptStatus & this.interruptMask));
  };
  const write = uart.writeUint32.bind(uart);
  uart.writeUint32 = (offset, value) => {
    write(offset, value);
    if (offset === UARTDR) {
      uart.interruptStatus |= UARTTXINTR; // the byte left at once: the FIFO is empty again
      uart.checkInterrupts();
    }
  };
}

/** 7: host bytes arrive in bursts between emulation slices, so MicroPython's timeout_char
 * expires inside a burst. Host bytes enter the RX FIFO one character time apart. */
export function uartRxPacing(mcu, uart, queue) {
  let scheduled = false;
  const charNanos = () => {
    const baud = uart.baudDivider ? uart.baudRate : 115200;
    return Math.max(1, Math.round((10 * 1e9) / baud));
  };
  const alarm = mcu.clock.createAlarm(() => {
    scheduled = false;
    if (queue.length && !uart.rxFIFO.full) uart.feedByte(queue.take(1)[0]);
    if (queue.length) {
      scheduled = true;
      alarm.schedule(charNanos());
    }
  });
  return () => {
    if (!scheduled && queue.length) {
      scheduled = true;
      alarm.schedule(charNanos());
    }
  };
}

/** 9: no handler for a watchdog reset (machine.reset() and a starved machine.WDT). The runner
 * re-creates the chip: `onReset` gets the scratch registers and the reason to carry over. */
export function watchdogReset(mcu, onReset) {
  const watchdog = mcu.peripherals[WATCHDOG];
  watchdog.onWatchdogTrigger = () => {
    // Stop it first: a timed-out watchdog left running re-arms at the same instant forever.
    watchdog.alarm.enable = false;
    watchdog.timer.enable = false;
    onReset(watchdog.scratchData.slice(), watchdog.reason);
  };
  return watchdog;
}

/** Carries scratch registers and reason into a new chip's watchdog (they survive its reset). */
export function keepWatchdogState(mcu, scratch, reason) {
  const watchdog = mcu.peripherals[WATCHDOG];
  watchdog.scratchData.set(scratch);
  watchdog.reason = reason;
}

/** The temperature sensor on ADC 4, at `celsius` (the datasheet's line: 0.706 V at 27 C,
 * -1.721 mV/C, 3.3 V reference, 12 bits). */
export function setDieTemperature(mcu, celsius) {
  const volts = 0.706 - (celsius - 27) * 0.001721;
  mcu.adc.channelValues[4] = Math.max(0, Math.min(4095, Math.round((volts / 3.3) * 4095)));
}
