/** Table-driven reflected CRC-32 checksums: IEEE (zlib, PNG chunks) and Castagnoli (CRC-32C, TFRecord framing). */

/** The CRC of `data` for the reflected polynomial whose 256-entry table is `table`. */
type Crc = (data: Uint8Array) => number;

function reflectedCrc(polynomial: number): Crc {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (data) => {
    let c = 0xffffffff;
    for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
}

/** CRC-32 as zlib and PNG compute it (polynomial 0x04C11DB7, reflected 0xEDB88320). */
export const crc32 = reflectedCrc(0xedb88320);

/** CRC-32C (Castagnoli, reflected 0x82F63B78), the checksum of TFRecord files. */
export const crc32c = reflectedCrc(0x82f63b78);
