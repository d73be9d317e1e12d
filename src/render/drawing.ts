/**
 * Drawing primitives of the built-in renderer's scene (scene.ts): numbers and colours as SVG
 * text, seven-segment digits, polygons and stars.
 */

/** Formats a coordinate with two decimals (keeps the SVG small and its text stable). */
export function n(value: number): string {
  const fixed = value.toFixed(2);
  return fixed === '-0.00' ? '0.00' : fixed;
}

/** A CSS colour (#rrggbb) from hue in degrees, saturation and lightness from 0 to 1 (clamped). */
export function hsl(hueDegrees: number, saturation: number, lightness: number): string {
  const h = (((hueDegrees % 360) + 360) % 360) / 360;
  const s = Math.min(1, Math.max(0, saturation));
  const l = Math.min(1, Math.max(0, lightness));
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number): string => {
    let x = t;
    if (x < 0) x += 1;
    if (x > 1) x -= 1;
    let v: number;
    if (x < 1 / 6) v = p + (q - p) * 6 * x;
    else if (x < 1 / 2) v = q;
    else if (x < 2 / 3) v = p + (q - p) * (2 / 3 - x) * 6;
    else v = p;
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(h + 1 / 3)}${channel(h)}${channel(h - 1 / 3)}`;
}

/** `a` modulo `b`, never negative. */
export const mod = (a: number, b: number): number => ((a % b) + b) % b;

// Seven-segment digits: segments a b c d e f g, clockwise from the top, g in the middle.
const DIGIT_SEGMENTS = ['abcdef', 'bc', 'abdeg', 'abcdg', 'bcfg', 'acdfg', 'acdefg', 'abc', 'abcdefg', 'abcdfg'];

/** Seven-segment number at (x, y) top-left; returns SVG and the width used. */
export function sevenSegment(
  text: string,
  x: number,
  y: number,
  height: number,
  on: string,
  offOpacity = 0.12,
): { svg: string; width: number } {
  const w = height * 0.5;
  const t = height * 0.11;
  const gap = height * 0.2;
  const parts: string[] = [];
  let cursor = x;
  for (const char of text) {
    if (char === ':') {
      const r = t * 0.6;
      parts.push(`<circle cx="${n(cursor + t)}" cy="${n(y + height * 0.3)}" r="${n(r)}" fill="${on}"/>`);
      parts.push(`<circle cx="${n(cursor + t)}" cy="${n(y + height * 0.7)}" r="${n(r)}" fill="${on}"/>`);
      cursor += t * 2 + gap;
      continue;
    }
    const lit = DIGIT_SEGMENTS[Number(char)] ?? '';
    const h2 = height / 2;
    const segments: Record<string, [number, number, number, number]> = {
      a: [cursor + t, y, w - 2 * t, t],
      b: [cursor + w - t, y + t, t, h2 - 1.5 * t],
      c: [cursor + w - t, y + h2 + t / 2, t, h2 - 1.5 * t],
      d: [cursor + t, y + height - t, w - 2 * t, t],
      e: [cursor, y + h2 + t / 2, t, h2 - 1.5 * t],
      f: [cursor, y + t, t, h2 - 1.5 * t],
      g: [cursor + t, y + h2 - t / 2, w - 2 * t, t],
    };
    for (const [name, [sx, sy, sw, sh]] of Object.entries(segments)) {
      parts.push(
        `<rect x="${n(sx)}" y="${n(sy)}" width="${n(sw)}" height="${n(sh)}" rx="${n(t / 2)}" ${lit.includes(name) ? `fill="${on}"` : `fill="#ffffff" fill-opacity="${n(offOpacity)}"`}/>`,
      );
    }
    cursor += w + gap;
  }
  return { svg: parts.join(''), width: cursor - x - gap };
}

/** The points of a regular polygon, or a star of `sides` tips, centred at (cx, cy) and turned by rotationDeg. */
export function polygonPoints(
  sides: number,
  star: boolean,
  cx: number,
  cy: number,
  radius: number,
  rotationDeg: number,
): string {
  const count = star ? sides * 2 : sides;
  const points: string[] = [];
  for (let i = 0; i < count; i++) {
    const angle = (rotationDeg * Math.PI) / 180 + (i * Math.PI * 2) / count - Math.PI / 2;
    const r = star && i % 2 === 1 ? radius * 0.45 : radius;
    points.push(`${n(cx + Math.cos(angle) * r)},${n(cy + Math.sin(angle) * r)}`);
  }
  return points.join(' ');
}
