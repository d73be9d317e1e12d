/**
 * services.cfg: the static list of Kiln services for networks without multicast. INI, one
 * section per service, `#` or `;` comments, written by people or by `kiln services snapshot`:
 *
 *   [manager farm1:7780]
 *   kind = manager
 *   host = farm1
 *   uuid = 5f0c...            (optional when written by hand)
 *   addresses = 192.168.0.14, fd00::14
 *   ports = http:7780
 *   version = 0.1.0
 *   source = snapshot         (or anything else for a hand-written entry)
 *   updated = 2026-12-01T12:00:00.000Z
 *
 * The document keeps every line it read, so merging new entries in keeps comments, unknown keys
 * and the order people chose.
 */
import { SERVICE_KINDS, serviceIdOf, type KnownEntry, type ServiceEntry, type ServiceKind } from './types.js';
import { mainPort } from './dns-sd-records.js';
import { iniLines } from '../config/ini.js';

export class ServicesFileError extends Error {}

/** What a key may be named. */
const KEY = /^[A-Za-z][\w.-]*$/;

interface Line {
  text: string;
  /** Set for `key = value` lines. */
  key?: string;
  value?: string;
}

interface Section {
  name: string;
  header: Line;
  lines: Line[];
  /** 1-based line of the header, for messages. */
  lineNumber: number;
}

export interface ServicesDocument {
  /** Lines before the first section (the file's own comments). */
  preamble: Line[];
  sections: Section[];
}

const SERVICES_FILE_HEADER = [
  '# Kiln services.cfg: Kiln services on networks where multicast does not reach.',
  '# One [section] per service; written by `kiln services snapshot` and by hand (comments and',
  '# hand-written sections are kept when snapshot merges). Keys: kind (manager, database, worker),',
  '# host, uuid, addresses (comma-separated), ports (name:port, comma-separated), version, source, updated.',
];

export function emptyServicesDocument(): ServicesDocument {
  return { preamble: SERVICES_FILE_HEADER.map((text) => ({ text })), sections: [] };
}

/** Parses the text; a malformed line throws one message naming the file and the line. */
export function parseServicesFile(text: string, fileName = 'services.cfg'): ServicesDocument {
  const document: ServicesDocument = { preamble: [], sections: [] };
  const names = new Set<string>();
  iniLines(text).forEach((line, index) => {
    const where = `${fileName} line ${index + 1}`;
    const current = document.sections.at(-1);
    const { raw } = line;
    if (line.kind === 'blank' || line.kind === 'comment') {
      (current ? current.lines : document.preamble).push({ text: raw });
      return;
    }
    if (line.kind === 'section' && line.name) {
      if (names.has(line.name)) throw new ServicesFileError(`${where}: a second section [${line.name}]`);
      names.add(line.name);
      document.sections.push({ name: line.name, header: { text: raw }, lines: [], lineNumber: index + 1 });
      return;
    }
    if (line.kind !== 'pair' || !KEY.test(line.key))
      throw new ServicesFileError(`${where}: expected [section], key = value or a # comment, got "${raw.trim()}"`);
    if (!current) throw new ServicesFileError(`${where}: "${raw.trim()}" comes before any [section]`);
    current.lines.push({ text: raw, key: line.key.toLowerCase(), value: line.value });
  });
  for (const section of document.sections) sectionEntry(section, fileName);
  return document;
}

function keyValue(section: Section, key: string): string | undefined {
  return section.lines.find((line) => line.key === key)?.value;
}

/** The entry a section describes; a missing or bad key throws naming the section's line. */
function sectionEntry(section: Section, fileName: string): ServiceEntry {
  const where = `${fileName} line ${section.lineNumber} [${section.name}]`;
  const kind = keyValue(section, 'kind');
  if (!kind || !(SERVICE_KINDS as readonly string[]).includes(kind))
    throw new ServicesFileError(`${where}: kind must be one of ${SERVICE_KINDS.join(', ')}, got "${kind ?? ''}"`);
  const host = keyValue(section, 'host') ?? '';
  const addresses = splitList(keyValue(section, 'addresses') ?? host);
  if (addresses.length === 0) throw new ServicesFileError(`${where}: needs addresses (or a host)`);
  const ports: Record<string, number> = {};
  for (const item of splitList(keyValue(section, 'ports') ?? '')) {
    const match = /^(?:([\w-]+):)?(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535)
      throw new ServicesFileError(`${where}: ports must read like http:7780, got "${item}"`);
    ports[match[1] ?? (kind === 'database' ? 'postgres' : 'http')] = port;
  }
  if (Object.keys(ports).length === 0) throw new ServicesFileError(`${where}: needs ports, e.g. ports = http:7780`);
  const uuid = keyValue(section, 'uuid') ?? '';
  const meta = Object.fromEntries(
    section.lines.filter((line) => line.key?.startsWith('meta.')).map((line) => [line.key?.slice(5), line.value]),
  ) as Record<string, string>;
  const entry: ServiceEntry = {
    kind: kind as ServiceKind,
    uuid,
    host: host || (addresses[0] ?? ''),
    serviceId: '',
    addresses,
    ports,
    version: keyValue(section, 'version') ?? 'unknown',
    startedAt: '',
    ...(Object.keys(meta).length > 0 ? { meta } : {}),
  };
  entry.serviceId = serviceIdOf(uuid || entry.host, entry.kind, mainPort(entry));
  return entry;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Every entry of the file, as a reader knows them (seenAt: the section's `updated`, else `fileTime`). */
export function servicesFileEntries(document: ServicesDocument, fileTime = 0, fileName = 'services.cfg'): KnownEntry[] {
  return document.sections.map((section) => {
    const updated = Date.parse(keyValue(section, 'updated') ?? '');
    return {
      ...sectionEntry(section, fileName),
      source: 'services.cfg',
      seenAt: Number.isNaN(updated) ? fileTime : updated,
    };
  });
}

/** The same service: one kind and main port, and the same host UUID or a shared address. */
function describesSameService(existing: ServiceEntry, found: ServiceEntry): boolean {
  if (existing.kind !== found.kind || mainPort(existing) !== mainPort(found)) return false;
  // Two known host identities decide alone: two hosts may share an address (127.0.0.1, NAT).
  if (existing.uuid && found.uuid) return existing.uuid === found.uuid;
  return existing.addresses.some((address) => found.addresses.includes(address));
}

function entryValues(entry: ServiceEntry, updated: string): Array<[string, string]> {
  return [
    ['kind', entry.kind],
    ['host', entry.host],
    ['uuid', entry.uuid],
    ['addresses', entry.addresses.join(', ')],
    [
      'ports',
      Object.entries(entry.ports)
        .map(([name, port]) => `${name}:${port}`)
        .join(', '),
    ],
    ['version', entry.version],
    ...Object.entries(entry.meta ?? {}).map(([key, value]): [string, string] => [`meta.${key}`, value]),
    ['source', 'snapshot'],
    ['updated', updated],
  ];
}

export interface MergeResult {
  added: number;
  updated: number;
}

/**
 * Merges found services into the document: a section describing the same service gets the new
 * values in place (its comments and other keys stay, and a hand-written `source` stays
 * hand-written); anything new becomes a section at the end. Nothing is removed.
 */
export function mergeIntoServicesDocument(
  document: ServicesDocument,
  found: ServiceEntry[],
  now: Date = new Date(),
): MergeResult {
  const result: MergeResult = { added: 0, updated: 0 };
  const updated = now.toISOString();
  for (const entry of found) {
    const section = document.sections.find((candidate) => describesSameService(sectionEntry(candidate, ''), entry));
    const values = entryValues(entry, updated).filter(([, value]) => value !== '');
    if (section) {
      const handWritten = (keyValue(section, 'source') ?? '') !== 'snapshot';
      for (const [key, value] of values) {
        if (handWritten && key === 'source') continue;
        setValue(section, key, value);
      }
      result.updated++;
      continue;
    }
    const name = uniqueName(document, `${entry.kind} ${entry.host}:${mainPort(entry)}`);
    const lastLines = document.sections.at(-1)?.lines ?? document.preamble;
    if (lastLines.length > 0 && lastLines.at(-1)?.text.trim() !== '') lastLines.push({ text: '' });
    document.sections.push({
      name,
      header: { text: `[${name}]` },
      lines: values.map(([key, value]) => ({ text: `${key} = ${value}`, key, value })),
      lineNumber: 0,
    });
    result.added++;
  }
  return result;
}

function setValue(section: Section, key: string, value: string): void {
  const line = section.lines.find((candidate) => candidate.key === key);
  if (line) {
    // Keep the line's own spacing before the value.
    const prefix = /^\s*[^=]*=\s*/.exec(line.text)?.[0] ?? `${key} = `;
    Object.assign(line, { text: prefix + value, value });
    return;
  }
  // After the last key line, so a trailing comment block stays last.
  let at = section.lines.length;
  while (at > 0 && section.lines[at - 1]?.key === undefined) at--;
  section.lines.splice(at, 0, { text: `${key} = ${value}`, key, value });
}

function uniqueName(document: ServicesDocument, wanted: string): string {
  const taken = new Set(document.sections.map((section) => section.name));
  let name = wanted;
  for (let n = 2; taken.has(name); n++) name = `${wanted} (${n})`;
  return name;
}

export function formatServicesFile(document: ServicesDocument): string {
  const lines = [...document.preamble];
  for (const section of document.sections) lines.push(section.header, ...section.lines);
  return `${lines.map((line) => line.text).join('\n')}\n`;
}
