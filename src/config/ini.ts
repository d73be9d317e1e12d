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

const SECTION = /^\[\s*([^\]]*?)\s*\]$/;

/** Section and key names compare without case and surrounding spaces. */
function iniName(name: string): string {
  return name.trim().toLowerCase();
}

export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Map<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const header = SECTION.exec(line);
    if (header) {
      const name = iniName(header[1] ?? '');
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      return;
    }
    const equals = line.indexOf('=');
    if (equals <= 0) throw new IniSyntaxError(index + 1, `line ${index + 1} is neither [Section] nor Key = Value`);
    if (!current) throw new IniSyntaxError(index + 1, `line ${index + 1} sets a key before any [Section]`);
    current.set(iniName(line.slice(0, equals)), line.slice(equals + 1).trim());
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
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  let inSection = false;
  let sectionEnd = -1;
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] ?? '').trim();
    const header = SECTION.exec(line);
    if (header) {
      inSection = iniName(header[1] ?? '') === iniName(section);
      if (inSection) sectionEnd = index + 1;
      continue;
    }
    if (!inSection) continue;
    const equals = line.indexOf('=');
    if (equals > 0 && iniName(line.slice(0, equals)) === iniName(key)) {
      lines[index] = `${key} = ${value}`;
      return `${lines.join('\n')}\n`;
    }
    if (line && !line.startsWith('#') && !line.startsWith(';')) sectionEnd = index + 1;
  }
  if (sectionEnd >= 0) lines.splice(sectionEnd, 0, `${key} = ${value}`);
  else lines.push(...(lines.length ? [''] : []), `[${section}]`, `${key} = ${value}`);
  return `${lines.join('\n')}\n`;
}
