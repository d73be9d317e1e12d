/**
 * A small INI reader and writer for the files people edit on a host (`network.cfg`):
 * `[Section]` headers (spaces inside and around the name are allowed, as in `[ Self Discovery ]`),
 * `Key = Value` lines, `#` and `;` comments. Kept by hand because the format is this small and the
 * writer must keep a person's comments and order when it adds one key.
 */

export type IniSections = Map<string, Map<string, string>>;

export class IniSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'IniSyntaxError';
  }
}

/** `[name]`: everything between the outer brackets (a services.cfg name may hold `[fd00::14]`). */
const SECTION = /^\[(.*)\]$/;

/** One line of an INI file as read (raw: as written, for writers that keep a person's lines). */
export type IniLine =
  | { kind: 'blank' | 'comment' | 'other'; raw: string }
  | { kind: 'section'; raw: string; name: string }
  | { kind: 'pair'; raw: string; key: string; value: string };

/**
 * The lines of an INI text: blank, `#` or `;` comments, `[Section]` headers (the name trimmed),
 * `Key = Value` pairs (both trimmed) and anything else ("other", for the reader to refuse). A final
 * newline ends the last line rather than starting an empty one. Line n is at index n - 1.
 */
export function iniLines(text: string): IniLine[] {
  const raws = text.split(/\r?\n/);
  if (raws.at(-1) === '') raws.pop();
  return raws.map((raw): IniLine => {
    const line = raw.trim();
    if (!line) return { kind: 'blank', raw };
    if (line.startsWith('#') || line.startsWith(';')) return { kind: 'comment', raw };
    const header = SECTION.exec(line);
    if (header) return { kind: 'section', raw, name: (header[1] ?? '').trim() };
    const equals = line.indexOf('=');
    if (equals <= 0) return { kind: 'other', raw };
    return { kind: 'pair', raw, key: line.slice(0, equals).trim(), value: line.slice(equals + 1).trim() };
  });
}

/** Section and key names compare without case and surrounding spaces. */
function iniName(name: string): string {
  return name.trim().toLowerCase();
}

export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  iniLines(text).forEach((line, index) => {
    if (line.kind === 'section') {
      const name = iniName(line.name);
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      return;
    }
    if (line.kind === 'other')
      throw new IniSyntaxError(index + 1, `line ${index + 1} is neither [Section] nor Key = Value`);
    if (line.kind !== 'pair') return; // blank or comment
    if (!current) throw new IniSyntaxError(index + 1, `line ${index + 1} sets a key before any [Section]`);
    current.set(iniName(line.key), line.value);
  });
  return sections;
}

export function iniValue(sections: IniSections, section: string, key: string): string | undefined {
  const value = sections.get(iniName(section))?.get(iniName(key));
  return value === '' ? undefined : value;
}

/**
 * Sets `key` in `section` of the file's text, keeping every other line (comments, order): the
 * key's line is replaced where it is, else added at the end of its section, else the section is
 * added at the end of the file.
 */
export function setIniValue(text: string, section: string, key: string, value: string): string {
  const lines = iniLines(text);
  const out = lines.map((line) => line.raw);
  let inSection = false;
  let sectionEnd = -1;
  for (const [index, line] of lines.entries()) {
    if (line.kind === 'section') {
      inSection = iniName(line.name) === iniName(section);
      if (inSection) sectionEnd = index + 1;
      continue;
    }
    if (!inSection) continue;
    if (line.kind === 'pair' && iniName(line.key) === iniName(key)) {
      out[index] = `${key} = ${value}`;
      return `${out.join('\n')}\n`;
    }
    if (line.kind !== 'blank' && line.kind !== 'comment') sectionEnd = index + 1;
  }
  if (sectionEnd >= 0) out.splice(sectionEnd, 0, `${key} = ${value}`);
  else out.push(...(out.length ? [''] : []), `[${section}]`, `${key} = ${value}`);
  return `${out.join('\n')}\n`;
}
