#!/usr/bin/env node
// Draws Cellar's icons (the app and its .h5ad documents) and writes every format the
// packaging needs: PNGs by size for Linux, .icns for macOS, .ico for Windows. Run it after
// changing the drawing; its outputs are committed in resources/icons/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources', 'icons');

/** A rounded square with a gradient and a few "cells" (circles), as RGBA at `size` pixels. */
function draw(size, palette) {
  const px = new Uint8Array(size * size * 4);
  const ss = 4; // supersampling per axis
  const cells = [
    [0.36, 0.4, 0.17],
    [0.66, 0.36, 0.12],
    [0.6, 0.68, 0.15],
    [0.33, 0.72, 0.09],
  ];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const u = (x + (sx + 0.5) / ss) / size;
          const v = (y + (sy + 0.5) / ss) / size;
          // Rounded square, 6% margin, 22% corner radius.
          const m = 0.06, rad = 0.22;
          const qx = Math.max(Math.abs(u - 0.5) - (0.5 - m - rad), 0);
          const qy = Math.max(Math.abs(v - 0.5) - (0.5 - m - rad), 0);
          if (Math.hypot(qx, qy) > rad) continue;
          const t = (u + v) / 2;
          let cr = palette.from[0] * (1 - t) + palette.to[0] * t;
          let cg = palette.from[1] * (1 - t) + palette.to[1] * t;
          let cb = palette.from[2] * (1 - t) + palette.to[2] * t;
          for (const [cx, cy, cr0] of cells) {
            const d = Math.hypot(u - cx, v - cy);
            if (d < cr0) {
              const ring = d > cr0 * 0.82;
              const nucleus = d < cr0 * 0.35;
              const w = ring ? 0.95 : nucleus ? 0.7 : 0.35;
              cr = cr * (1 - w) + 255 * w;
              cg = cg * (1 - w) + 255 * w;
              cb = cb * (1 - w) + 255 * w;
            }
          }
          r += cr; g += cg; b += cb; a += 255;
        }
      }
      const n = ss * ss;
      const i = (y * size + x) * 4;
      const cover = a / n / 255;
      px[i] = cover ? r / n / cover : 0;
      px[i + 1] = cover ? g / n / cover : 0;
      px[i + 2] = cover ? b / n / cover : 0;
      px[i + 3] = a / n;
    }
  }
  return px;
}

function png(size, rgba) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) Buffer.from(rgba.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Windows .ico with PNG-compressed images (Vista and later). */
function ico(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, data }, k) => {
    const e = 6 + 16 * k;
    header[e] = size >= 256 ? 0 : size;
    header[e + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, e + 4);
    header.writeUInt16LE(32, e + 6);
    header.writeUInt32LE(data.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.data)]);
}

/** macOS .icns with PNG entries (ic07 128, ic08 256, ic09 512, ic10 1024). */
function icns(images) {
  const types = { 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };
  const entries = images.filter((i) => types[i.size]).map(({ size, data }) => {
    const head = Buffer.alloc(8);
    head.write(types[size], 0, 'ascii');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + entries.reduce((n, e) => n + e.length, 0), 4);
  return Buffer.concat([head, ...entries]);
}

const APP = { from: [37, 99, 235], to: [13, 148, 136] };
const DOCUMENT = { from: [124, 58, 237], to: [37, 99, 235] };

function write(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

for (const [name, palette] of [['icon', APP], ['h5ad', DOCUMENT]]) {
  const images = [16, 32, 48, 64, 128, 256, 512, 1024].map((size) => ({ size, data: png(size, draw(size, palette)) }));
  if (name === 'icon') for (const { size, data } of images.filter((i) => i.size <= 512)) write(join(OUT, 'png', `${size}x${size}.png`), data);
  write(join(OUT, `${name}.png`), images.find((i) => i.size === 512).data);
  write(join(OUT, `${name}.ico`), ico(images.filter((i) => i.size <= 256)));
  write(join(OUT, `${name}.icns`), icns(images));
}
console.log(`Icons written to ${OUT}`);
