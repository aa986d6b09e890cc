/**
 * The bytes of TensorBoard event files: a protobuf encoder just large enough for the Event, Summary and
 * HParams messages that SummaryWriter writes, and TFRecord framing. The field numbers are those of
 * tensorboard/compat/proto/{event,summary,histogram}.proto and tensorboard/plugins/hparams/*.proto.
 */
import { crc32c } from './crc.js';

const VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;
const encoder = new TextEncoder();

/** Builds one protobuf message; fields are written in call order (any order is valid protobuf). */
export class ProtoWriter {
  #parts: Uint8Array[] = [];

  /** A varint for a non-negative integer below 2^53 (int32, int64, enum and bool fields). */
  #varint(value: number): void {
    const bytes: number[] = [];
    while (value >= 0x80) {
      bytes.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    bytes.push(value);
    this.#parts.push(Uint8Array.from(bytes));
  }

  #key(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  /** An unsigned varint field: int32 and int64 values that are never negative, enums, bools (0/1). */
  uint(field: number, value: number): this {
    this.#key(field, VARINT);
    this.#varint(value);
    return this;
  }

  double(field: number, value: number): this {
    this.#key(field, FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.#parts.push(b);
    return this;
  }

  float(field: number, value: number): this {
    this.#key(field, FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#parts.push(b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.#key(field, LENGTH_DELIMITED);
    this.#varint(data.length);
    this.#parts.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, encoder.encode(text));
  }

  message(field: number, message: ProtoWriter): this {
    return this.bytes(field, message.finish());
  }

  /** A packed `repeated double` field. */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 8);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

/** TFRecord's masked CRC-32C: rotated right by 15 bits plus a constant, so CRCs of CRCs stay well spread. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: uint64 length, masked CRC of the length bytes, the data, masked CRC of the data (little endian). */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}
