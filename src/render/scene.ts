/**
 * The built-in renderer's procedural scene, drawn as SVG (sharp rasterises it with librsvg).
 *
 * Everything is a pure function of (scene name, frame, width, height): the scene name seeds a
 * PRNG that chooses colours, mountains, stars and shapes once; the frame number only moves them.
 * No text is drawn with fonts (fonts differ between hosts); the frame counter is made of
 * seven-segment shapes.
 */
import { hsl, mod, n, polygonPoints, sevenSegment } from './drawing.js';
import { createPrng, hashString, type Prng } from './prng.js';

/** Frames per second the scene's motion is designed for (frame 24 is one second in). */
const SCENE_FPS = 24;
export const DEFAULT_SCENE = 'default';

interface MountainLayer {
  /** Share of the height where the layer's mean ridge sits, from the top. */
  base: number;
  /** Harmonics: integer k (so the ridge tiles horizontally), amplitude (share of height), phase. */
  harmonics: { k: number; amplitude: number; phase: number }[];
  /** Scroll speed in widths per second. */
  speed: number;
  color: string;
}

interface Shape {
  sides: number;
  star: boolean;
  /** Radius as a share of min(width, height). */
  radius: number;
  /** Lissajous path: centre, amplitudes (shares of width/height), angular speeds, phases. */
  cx: number;
  cy: number;
  ax: number;
  ay: number;
  wx: number;
  wy: number;
  px: number;
  py: number;
  /** Degrees per second, sign is direction. */
  spin: number;
  color: string;
}

interface SceneModel {
  hue: number;
  /** Seconds per day/night colour cycle. */
  dayLength: number;
  stars: { x: number; y: number; r: number; phase: number; speed: number }[];
  clouds: { x: number; y: number; scale: number; speed: number }[];
  mountains: MountainLayer[];
  shapes: Shape[];
  ball: { color: string; speed: number; bounce: number };
  /** Bars of a small "barcode" badge, so different scenes are told apart at a glance. */
  badge: number[];
}

const models = new Map<string, SceneModel>();

function model(name: string): SceneModel {
  let found = models.get(name);
  if (!found) {
    found = buildModel(name);
    if (models.size > 64) models.clear();
    models.set(name, found);
  }
  return found;
}

function buildModel(name: string): SceneModel {
  const rng = createPrng(`kiln-scene:${name}`);
  const hue = rng.range(0, 360);
  const stars = Array.from({ length: 48 }, () => ({
    x: rng.next(),
    y: rng.range(0, 0.55),
    r: rng.range(0.08, 0.28),
    phase: rng.range(0, Math.PI * 2),
    speed: rng.range(1, 4),
  }));
  const clouds = Array.from({ length: rng.int(3, 5) }, () => ({
    x: rng.next(),
    y: rng.range(0.08, 0.35),
    scale: rng.range(0.7, 1.4),
    speed: rng.range(0.015, 0.05),
  }));
  const mountains: MountainLayer[] = [0, 1, 2].map((layer) => ({
    base: 0.6 + layer * 0.08,
    harmonics: Array.from({ length: 4 }, (_, i) => ({
      k: i + 1 + rng.int(0, 2) + layer,
      amplitude: (rng.range(0.015, 0.06) / (i + 1)) * (1.6 - layer * 0.3),
      phase: rng.range(0, Math.PI * 2),
    })),
    speed: 0.01 + layer * 0.02,
    color: hsl(hue + 180 + layer * 12, 0.25 + layer * 0.08, 0.32 - layer * 0.08),
  }));
  const shapes = Array.from({ length: rng.int(3, 5) }, (_, i) => shape(rng, hue + 60 + i * 47));
  return {
    hue,
    dayLength: rng.range(8, 14),
    stars,
    clouds,
    mountains,
    shapes,
    ball: { color: hsl(hue + 200, 0.75, 0.55), speed: rng.range(0.08, 0.14), bounce: rng.range(1.2, 2) },
    badge: Array.from({ length: 16 }, (_, i) => (hashString(`${name}#${i}`) % 3) + 1),
  };
}

function shape(rng: Prng, hue: number): Shape {
  const star = rng.next() < 0.4;
  return {
    sides: star ? rng.int(5, 7) : rng.int(3, 6),
    star,
    radius: rng.range(0.05, 0.1),
    cx: rng.range(0.25, 0.75),
    cy: rng.range(0.3, 0.5),
    ax: rng.range(0.1, 0.25),
    ay: rng.range(0.05, 0.15),
    wx: rng.range(0.3, 0.9),
    wy: rng.range(0.4, 1.2),
    px: rng.range(0, Math.PI * 2),
    py: rng.range(0, Math.PI * 2),
    spin: rng.range(40, 160) * (rng.next() < 0.5 ? -1 : 1),
    color: hsl(hue, rng.range(0.55, 0.85), rng.range(0.5, 0.65)),
  };
}

/** Zero-padded frame number with at least `digits` digits (Blender's `####`). */
function padFrame(frame: number, digits = 4): string {
  return String(frame).padStart(digits, '0');
}

/** What every layer of one frame draws with. */
interface FrameView {
  frame: number;
  /** Width and height of the image, in pixels. */
  W: number;
  H: number;
  m: SceneModel;
  /** Seconds into the scene. */
  t: number;
  /** One percent of the shorter side: the unit of sizes. */
  u: number;
  /** Day/night cycle: 1 at noon, 0 at midnight. */
  day: number;
  horizon: number;
  ground: number;
}

/** The SVG document of one frame. Pure: same inputs, same string. */
export function sceneSvg(options: { frame: number; width: number; height: number; scene?: string }): string {
  const { frame, width: W, height: H } = options;
  const m = model(options.scene ?? DEFAULT_SCENE);
  const t = frame / SCENE_FPS;
  const view: FrameView = {
    frame,
    W,
    H,
    m,
    t,
    u: Math.min(W, H) / 100,
    day: 0.5 + 0.5 * Math.sin((2 * Math.PI * t) / m.dayLength),
    horizon: H * 0.62,
    ground: H * 0.86,
  };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    ...sky(view),
    ...stars(view),
    ...sun(view),
    ...clouds(view),
    ...mountains(view),
    ...groundStrip(view),
    ...shapes(view),
    ...ball(view),
    ...badge(view),
    ...counterPanel(view),
    '</svg>',
  ].join('');
}

/** The sky's gradient, darker at night, and the sun's glow (defined here, drawn by the sun). */
function sky({ W, H, m, t, day }: FrameView): string[] {
  const out: string[] = [];
  const skyTop = hsl(m.hue + 25 * Math.sin(t * 0.4), 0.55, 0.1 + 0.35 * day);
  const skyHorizon = hsl(m.hue + 40 - 20 * day, 0.6, 0.3 + 0.4 * day);
  out.push(
    '<defs>',
    `<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${skyTop}"/><stop offset="1" stop-color="${skyHorizon}"/></linearGradient>`,
    `<radialGradient id="glow"><stop offset="0" stop-color="#fff6c8" stop-opacity="0.9"/><stop offset="0.35" stop-color="#ffd26e" stop-opacity="0.45"/><stop offset="1" stop-color="#ffb347" stop-opacity="0"/></radialGradient>`,
    '</defs>',
    `<rect width="${W}" height="${H}" fill="url(#sky)"/>`,
  );
  return out;
}

/** Stars, fading in at night and twinkling. */
function stars({ W, H, m, t, u, day }: FrameView): string[] {
  const out: string[] = [];
  const night = 1 - day;
  if (night > 0.25) {
    for (const star of m.stars) {
      const opacity = (night - 0.25) * 1.3 * (0.55 + 0.45 * Math.sin(star.phase + t * star.speed));
      if (opacity <= 0.02) continue;
      out.push(
        `<circle cx="${n(star.x * W)}" cy="${n(star.y * H)}" r="${n(star.r * u)}" fill="#ffffff" fill-opacity="${n(opacity)}"/>`,
      );
    }
  }
  return out;
}

/** Sun on an arc: rises on the left, sets on the right, hidden by the mountains below the horizon. */
function sun({ W, H, m, t, u, horizon }: FrameView): string[] {
  const out: string[] = [];
  const sunAngle = Math.PI * (1 - mod(t / m.dayLength, 1) * 2);
  const sunX = W / 2 + Math.cos(sunAngle) * W * 0.42;
  const sunY = horizon - Math.sin(sunAngle) * H * 0.5;
  out.push(
    `<circle cx="${n(sunX)}" cy="${n(sunY)}" r="${n(u * 16)}" fill="url(#glow)"/>`,
    `<circle cx="${n(sunX)}" cy="${n(sunY)}" r="${n(u * 5)}" fill="#fff3c4"/>`,
  );
  return out;
}

/** Clouds drift right and wrap around. */
function clouds({ W, H, m, t, u, day }: FrameView): string[] {
  const out: string[] = [];
  for (const cloud of m.clouds) {
    const cw = u * 22 * cloud.scale;
    const cx = mod(cloud.x * W + cloud.speed * W * t, W + 2 * cw) - cw;
    const cy = cloud.y * H;
    const s = u * cloud.scale;
    out.push(
      `<g fill="#ffffff" fill-opacity="${n(0.35 + 0.4 * day)}">`,
      `<ellipse cx="${n(cx)}" cy="${n(cy)}" rx="${n(s * 11)}" ry="${n(s * 4)}"/>`,
      `<ellipse cx="${n(cx - s * 5)}" cy="${n(cy - s * 2)}" rx="${n(s * 6)}" ry="${n(s * 4)}"/>`,
      `<ellipse cx="${n(cx + s * 4)}" cy="${n(cy - s * 3)}" rx="${n(s * 7)}" ry="${n(s * 5)}"/>`,
      '</g>',
    );
  }
  return out;
}

/** Mountain ranges, scrolling at different speeds (parallax); ridges are periodic in the width. */
function mountains({ W, H, m, t }: FrameView): string[] {
  const out: string[] = [];
  const samples = 64;
  for (const layer of m.mountains) {
    const scroll = layer.speed * t;
    const points: string[] = [`0,${H}`];
    for (let i = 0; i <= samples; i++) {
      const fx = i / samples;
      let y = layer.base;
      for (const h of layer.harmonics) y -= h.amplitude * Math.sin(2 * Math.PI * h.k * (fx + scroll) + h.phase);
      points.push(`${n(fx * W)},${n(y * H)}`);
    }
    points.push(`${W},${H}`);
    out.push(`<polygon points="${points.join(' ')}" fill="${layer.color}"/>`);
  }
  return out;
}

/** Ground. */
function groundStrip({ W, H, m, day, ground }: FrameView): string[] {
  const out: string[] = [];
  out.push(
    `<rect x="0" y="${n(ground)}" width="${W}" height="${n(H - ground)}" fill="${hsl(m.hue + 120, 0.3, 0.12 + 0.1 * day)}"/>`,
  );
  return out;
}

/** Rotating shapes on Lissajous paths. */
function shapes({ W, H, m, t, u }: FrameView): string[] {
  const out: string[] = [];
  for (const s of m.shapes) {
    const cx = W * (s.cx + s.ax * Math.sin(s.wx * t + s.px));
    const cy = H * (s.cy + s.ay * Math.sin(s.wy * t + s.py));
    const r = s.radius * Math.min(W, H) * 1.6;
    out.push(
      `<polygon points="${polygonPoints(s.sides, s.star, cx, cy, r, s.spin * t)}" fill="${s.color}" fill-opacity="0.85" stroke="#ffffff" stroke-opacity="0.8" stroke-width="${n(u * 0.5)}" stroke-linejoin="round"/>`,
    );
  }
  return out;
}

/** A ball bouncing along the ground, with its shadow. */
function ball({ W, H, m, t, u, ground }: FrameView): string[] {
  const out: string[] = [];
  const ballR = u * 4;
  const ballX = mod(m.ball.speed * W * t, W + 4 * ballR) - 2 * ballR;
  const lift = Math.abs(Math.sin(Math.PI * m.ball.bounce * t)) * H * 0.25;
  const ballY = ground - ballR - lift;
  const shadow = 1 - lift / (H * 0.25);
  out.push(
    `<ellipse cx="${n(ballX)}" cy="${n(ground + u)}" rx="${n(ballR * (0.6 + 0.6 * shadow))}" ry="${n(u * 0.9)}" fill="#000000" fill-opacity="${n(0.15 + 0.25 * shadow)}"/>`,
    `<circle cx="${n(ballX)}" cy="${n(ballY)}" r="${n(ballR)}" fill="${m.ball.color}" stroke="#ffffff" stroke-width="${n(u * 0.4)}"/>`,
  );
  return out;
}

/** Scene badge (top left): bars from the scene name's hash. */
function badge({ m, u }: FrameView): string[] {
  const out: string[] = [];
  let bx = u * 3;
  for (const bar of m.badge) {
    out.push(
      `<rect x="${n(bx)}" y="${n(u * 3)}" width="${n(bar * u * 0.45)}" height="${n(u * 5)}" fill="#ffffff" fill-opacity="0.8"/>`,
    );
    bx += bar * u * 0.45 + u * 0.45;
  }
  return out;
}

/** Frame counter panel (bottom right): frame number, timecode seconds, sub-second progress bar. */
function counterPanel({ frame, W, H, u }: FrameView): string[] {
  const out: string[] = [];
  const digitH = u * 9;
  const label = padFrame(frame);
  const seconds = Math.floor(frame / SCENE_FPS);
  const timecode = `${padFrame(Math.floor(seconds / 60) % 100, 2)}:${padFrame(seconds % 60, 2)}:${padFrame(frame % SCENE_FPS, 2)}`;
  const big = sevenSegment(label, 0, 0, digitH, '');
  const small = sevenSegment(timecode, 0, 0, digitH * 0.45, '');
  const pad = u * 2;
  const panelW = Math.max(big.width, small.width) + pad * 2;
  const panelH = digitH + digitH * 0.45 + u * 2 + pad * 3 + u;
  const px = W - panelW - u * 3;
  const py = H - panelH - u * 3;
  out.push(
    `<rect x="${n(px)}" y="${n(py)}" width="${n(panelW)}" height="${n(panelH)}" rx="${n(u * 1.5)}" fill="#000000" fill-opacity="0.55"/>`,
  );
  out.push(sevenSegment(label, px + pad, py + pad, digitH, '#7dffb0', 0.12).svg);
  out.push(sevenSegment(timecode, px + pad, py + pad * 2 + digitH, digitH * 0.45, '#e6e6e6', 0.08).svg);
  const barY = py + pad * 3 + digitH * 1.45;
  const barW = panelW - pad * 2;
  out.push(
    `<rect x="${n(px + pad)}" y="${n(barY)}" width="${n(barW)}" height="${n(u * 1.2)}" fill="#ffffff" fill-opacity="0.2"/>`,
    `<rect x="${n(px + pad)}" y="${n(barY)}" width="${n((barW * ((frame % SCENE_FPS) + 1)) / SCENE_FPS)}" height="${n(u * 1.2)}" fill="#7dffb0"/>`,
  );
  return out;
}
