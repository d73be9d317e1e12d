/**
 * Kiln's self-discovery packets: one JSON object per UDP datagram, sent to the multicast scope
 * (announce, goodbye, query) or straight back to a querier (answer).
 *
 *   { "kiln": "discovery", "v": 1, "type": "announce", "sender": {...}, "periodMs": 5000, "entries": [...] }
 *
 * `sender` is the host that sent the packet (its UUID, name and addresses): a receiver checks the
 * packet's source address is among them, so a packet cannot speak for a host it did not come
 * from. An answer relays the answering member's whole registry, each entry with its age.
 * Anything else (not JSON, another shape, another version, too big) is refused with a reason the
 * receiver counts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { SERVICE_KINDS, type ServiceEntry, type ServiceKind } from './types.js';

const PROTOCOL_VERSION = 1;
/** Larger datagrams are refused unread; senders split answers well below it. */
export const MAX_PACKET_BYTES = 16 * 1024;
/** What a sender puts in one datagram at most (fits unfragmented-ish on a LAN, far under the cap). */
const TARGET_PACKET_BYTES = 8 * 1024;

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });

const ServiceEntrySchema = Type.Object({
  kind: Type.Union(SERVICE_KINDS.map((kind) => Type.Literal(kind))),
  uuid: Text(64),
  host: Text(255),
  serviceId: Text(200),
  addresses: Type.Array(Text(64), { minItems: 1, maxItems: 32 }),
  ports: Type.Record(Type.String({ maxLength: 32 }), Type.Integer({ minimum: 0, maximum: 65535 })),
  version: Text(64),
  startedAt: Text(64),
  meta: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 256 }))),
});

const SenderSchema = Type.Object({
  uuid: Text(64),
  host: Text(255),
  addresses: Type.Array(Text(64), { maxItems: 32 }),
});

const Header = {
  kiln: Type.Literal('discovery'),
  v: Type.Literal(PROTOCOL_VERSION),
  sender: SenderSchema,
};

const AnnounceSchema = Type.Object({
  ...Header,
  type: Type.Union([Type.Literal('announce'), Type.Literal('goodbye')]),
  /** How often the sender announces: a receiver forgets an entry after EXPIRY_PERIODS of them. */
  periodMs: Type.Integer({ minimum: 10, maximum: 3_600_000 }),
  entries: Type.Array(ServiceEntrySchema, { maxItems: 64 }),
});

const QuerySchema = Type.Object({
  ...Header,
  type: Type.Literal('query'),
  kind: Type.Optional(Type.Union(SERVICE_KINDS.map((kind) => Type.Literal(kind)))),
});

const AnswerSchema = Type.Object({
  ...Header,
  type: Type.Literal('answer'),
  entries: Type.Array(
    Type.Object({
      entry: ServiceEntrySchema,
      ageMs: Type.Integer({ minimum: 0 }),
      periodMs: Type.Integer({ minimum: 10, maximum: 3_600_000 }),
    }),
    { maxItems: 256 },
  ),
});

const PacketSchema = Type.Union([AnnounceSchema, QuerySchema, AnswerSchema]);

export type Sender = Static<typeof SenderSchema>;
export type AnnouncePacket = Static<typeof AnnounceSchema>;
export type QueryPacket = Static<typeof QuerySchema>;
type AnswerPacket = Static<typeof AnswerSchema>;
export type Packet = AnnouncePacket | QueryPacket | AnswerPacket;
export type RelayedEntry = AnswerPacket['entries'][number];

/** Why a datagram was refused: the counters' names. */
type Refusal = 'oversized' | 'malformed' | 'foreignVersion' | 'spoofed';

export type Decoded = { ok: true; packet: Packet } | { ok: false; reason: Refusal };

/** Checks a datagram from `source` (an IPv4 literal); never throws. */
export function decodePacket(data: Buffer, source: string): Decoded {
  if (data.length > MAX_PACKET_BYTES) return { ok: false, reason: 'oversized' };
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof value !== 'object' || value === null || (value as { kiln?: unknown }).kiln !== 'discovery')
    return { ok: false, reason: 'malformed' };
  if ((value as { v?: unknown }).v !== PROTOCOL_VERSION) return { ok: false, reason: 'foreignVersion' };
  if (!Value.Check(PacketSchema, value)) return { ok: false, reason: 'malformed' };
  const packet = value as Packet;
  if (!packet.sender.addresses.includes(source)) return { ok: false, reason: 'spoofed' };
  // An announcement speaks for its sender only: every entry must be the sender's own.
  if (packet.type === 'announce' || packet.type === 'goodbye') {
    const foreign = packet.entries.some(
      (entry) => entry.uuid !== packet.sender.uuid || !entry.addresses.includes(source),
    );
    if (foreign) return { ok: false, reason: 'spoofed' };
  }
  return { ok: true, packet };
}

export function encodePacket(packet: Packet): Buffer {
  return Buffer.from(JSON.stringify(packet), 'utf8');
}

function header(sender: Sender) {
  return { kiln: 'discovery' as const, v: PROTOCOL_VERSION as typeof PROTOCOL_VERSION, sender };
}

export function announcePacket(
  type: 'announce' | 'goodbye',
  sender: Sender,
  entries: ServiceEntry[],
  periodMs: number,
): AnnouncePacket {
  return { ...header(sender), type, periodMs, entries };
}

export function queryPacket(sender: Sender, kind?: ServiceKind): QueryPacket {
  return { ...header(sender), type: 'query', ...(kind ? { kind } : {}) };
}

/** The answer to a query, split into datagrams of about TARGET_PACKET_BYTES. */
export function answerPackets(sender: Sender, entries: RelayedEntry[]): Buffer[] {
  const packets: Buffer[] = [];
  let batch: RelayedEntry[] = [];
  let size = 0;
  const flush = (): void => {
    packets.push(encodePacket({ ...header(sender), type: 'answer', entries: batch }));
    batch = [];
    size = 0;
  };
  for (const relayed of entries) {
    const bytes = Buffer.byteLength(JSON.stringify(relayed));
    if (batch.length && (size + bytes > TARGET_PACKET_BYTES || batch.length >= 200)) flush();
    batch.push(relayed);
    size += bytes;
  }
  if (batch.length || packets.length === 0) flush();
  return packets;
}
