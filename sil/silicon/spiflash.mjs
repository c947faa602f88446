// A serial NOR flash chip (W25Q16JV-like, 2 MiB) as the RP2040's SSI sees it in SPI mode.
//
// Why: MicroPython keeps its filesystem in the Pico's flash, and the boot ROM's flash routines
// program and erase it by SPI commands through the SSI. rp2040js serves XIP reads straight from
// its flash array but has no chip behind the SSI, so littlefs can be neither formatted nor
// written. This model is the chip: bytes in, bytes out, one at a time, while chip select is low.
// Reads through XIP keep going to the same array, so what the chip programs the CPU reads.

export const FLASH_BYTES = 2 * 1024 * 1024;
const PAGE = 256;
const JEDEC_ID = [0xef, 0x40, 0x15]; // Winbond, SPI NOR, 16 Mbit
const STATUS1_WEL = 0x02;
const STATUS2_QE = 0x02;

const ERASES = { 0x20: 4096, 0x52: 32768, 0xd8: 65536 };

export class SpiFlash {
  /**
   * @param {Uint8Array} memory the flash contents, shared with the CPU's XIP reads
   * @param {(offset: number, length: number) => void} persist called after each change
   * @param {Uint8Array} uniqueId 8 octets the chip reports to command 0x4B
   */
  constructor(memory, persist, uniqueId) {
    this.memory = memory;
    this.persist = persist;
    this.uniqueId = uniqueId;
    this.selected = false;
    this.wel = false;
    this.status2 = STATUS2_QE; // quad enable set, as on a Pico's chip
    this.status3 = 0;
    this.reset();
  }

  reset() {
    this.command = -1;
    this.count = 0; // bytes of this command so far, the command byte included
    this.address = 0;
    this.page = null; // { start, data } while a page program collects bytes
    this.pending = null; // an erase waiting for chip select to rise
    this.status = [];
  }

  /** Chip select: low starts a command, high ends it (a program or erase takes effect). */
  select(low) {
    if (low === this.selected) return;
    this.selected = low;
    if (low) {
      this.reset();
      return;
    }
    if (this.page) this.commitPage();
    if (this.pending) this.commitErase();
    this.reset();
  }

  /** One byte shifted in; returns the byte shifted out. */
  transfer(byte) {
    // Chip select driven by the SSI itself (boot2's status reads) is not modelled: those
    // bytes read 0, which boot2 takes as "not busy" and goes on to XIP.
    if (!this.selected) return 0;
    const n = this.count++;
    if (n === 0) {
      this.command = byte;
      return this.begin(byte);
    }
    return this.next(byte, n);
  }

  begin(cmd) {
    switch (cmd) {
      case 0x06:
        this.wel = true;
        break;
      case 0x04:
        this.wel = false;
        break;
      case 0xc7:
      case 0x60:
        if (this.wel) this.pending = { start: 0, length: FLASH_BYTES };
        break;
    }
    return 0xff;
  }

  next(byte, n) {
    const cmd = this.command;
    switch (cmd) {
      case 0x05: // read status 1: busy never set, as a program or erase takes no time here
        return this.wel ? STATUS1_WEL : 0;
      case 0x35:
        return this.status2;
      case 0x15:
        return this.status3;
      case 0x01: // write status 1 [and 2]
        if (n === 2 && this.wel) this.status2 = byte;
        this.wel = false;
        return 0xff;
      case 0x31:
        if (n === 1 && this.wel) this.status2 = byte;
        this.wel = false;
        return 0xff;
      case 0x11:
        if (n === 1 && this.wel) this.status3 = byte;
        this.wel = false;
        return 0xff;
      case 0x9f:
        return n <= 3 ? JEDEC_ID[n - 1] : 0xff;
      case 0x4b: // unique ID: 4 dummy bytes, then 8 octets
        return n >= 5 && n < 13 ? this.uniqueId[n - 5] : 0xff;
    }
    if (n <= 3) {
      this.address = ((this.address << 8) | byte) & (FLASH_BYTES - 1);
      if (n === 3) this.addressed(cmd);
      return 0xff;
    }
    switch (cmd) {
      case 0x03: // read
        return this.memory[this.address++ & (FLASH_BYTES - 1)];
      case 0x0b: // fast read: one dummy byte first
        return n === 4 ? 0xff : this.memory[this.address++ & (FLASH_BYTES - 1)];
      case 0x02:
        if (this.page) {
          // page program wraps within its page
          const at = (this.address & (PAGE - 1)) + this.page.written;
          this.page.data[at & (PAGE - 1)] &= byte;
          this.page.touched[at & (PAGE - 1)] = 1;
          this.page.written++;
        }
        return 0xff;
    }
    return 0xff;
  }

  addressed(cmd) {
    if (cmd === 0x02 && this.wel) {
      this.page = {
        data: new Uint8Array(PAGE).fill(0xff),
        touched: new Uint8Array(PAGE),
        written: 0,
      };
    } else if (cmd in ERASES && this.wel) {
      const length = ERASES[cmd];
      this.pending = { start: this.address & ~(length - 1), length };
    }
  }

  commitPage() {
    const start = this.address & ~(PAGE - 1);
    const { data, touched } = this.page;
    for (let i = 0; i < PAGE; i++) {
      if (touched[i]) this.memory[start + i] &= data[i]; // NOR: programming only clears bits
    }
    this.page = null;
    this.wel = false;
    this.persist(start, PAGE);
  }

  commitErase() {
    const { start, length } = this.pending;
    this.memory.fill(0xff, start, start + length);
    this.pending = null;
    this.wel = false;
    this.persist(start, length);
  }
}
