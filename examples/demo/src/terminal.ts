/**
 * How the demo writes to the terminal: colours only where they are wanted, tables in which every column
 * has a header, and text wrapped to the terminal's width rather than cut off or run off the screen.
 *
 * @module
 */

/** Colours on a terminal only, and never when `NO_COLOR` is set (no-color.org) or the terminal is dumb. */
const colour = process.stdout.isTTY === true && (process.env['NO_COLOR'] ?? '') === '' && process.env['TERM'] !== 'dumb';

/** The width text is wrapped to: the terminal's, else 100 (a CI log, a pipe, a file). */
// `||`, not `??`: a terminal that cannot tell its width reports 0.
export const WIDTH = Math.max(60, process.stdout.columns || 100);

const paint = (code: number) => (text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const dim = paint(2);
export const bold = paint(1);

/** The columns a text takes on screen: colour codes take none. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex -- colour codes take no room on screen
  return text.replace(/\u001b\[\d+m/g, '').length;
}

/** Columns grouped under one title, above the table's header: `span` columns from left to right. */
export interface ColumnGroup {
  readonly title: string;
  readonly span: number;
}

/**
 * A table with one header per column, a rule under the headers, and rows that are either cells or one
 * line of text (a section title). `groups`, when given, puts a title above each run of columns.
 */
export function table(rows: readonly (readonly string[] | string)[], header: readonly string[], groups: readonly ColumnGroup[] = []): string {
  const cells = rows.filter((row): row is readonly string[] => typeof row !== 'string');
  const widths = header.map((title, column) => Math.max(visibleLength(title), ...cells.map((row) => visibleLength(row[column] ?? ''))));
  const line = (values: readonly string[]) => values.map((cell, column) => cell + ' '.repeat(widths[column]! - visibleLength(cell))).join('  ').trimEnd();
  const lines: string[] = [];
  if (groups.length > 0) {
    let column = 0;
    const titles: string[] = [];
    for (const { title, span } of groups) {
      const width = widths.slice(column, column + span).reduce((sum, w) => sum + w, 0) + 2 * (span - 1);
      titles.push(title.padEnd(width));
      column += span;
    }
    lines.push(bold(titles.join('  ').trimEnd()));
  }
  lines.push(bold(line(header)), dim(widths.map((w) => '─'.repeat(w)).join('  ')));
  for (const row of rows) lines.push(typeof row === 'string' ? row : line(row));
  return lines.join('\n');
}

/**
 * One line as lines of at most `width` columns, the lines after the first indented two more than the
 * first. Broken at the last space that leaves at least half the width used, else after the last `/`
 * (a path, a URL), else mid-word. Plain text only (no colour codes).
 */
export function wrap(text: string, width = WIDTH): string[] {
  if (text.length <= width) return [text];
  const indent = ' '.repeat(Math.min(/^ */.exec(text)![0].length + 2, Math.floor(width / 2)));
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const mark = rest.lastIndexOf('/', width - 1) + 1;
    const cut = space > width / 2 ? space : mark > width / 2 ? mark : width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = indent + rest.slice(cut).trimStart();
  }
  lines.push(rest);
  return lines;
}

/** A section's title, and under it, dimmed and wrapped, what it shows. */
export function heading(title: string, about?: string): string {
  return `\n${bold(title)}${about === undefined ? '' : `\n${dim(wrapAll(about))}`}\n`;
}

/** A block of text, every line wrapped to `width`. */
export function wrapAll(text: string, width = WIDTH): string {
  return text
    .split('\n')
    .flatMap((line) => wrap(line, width))
    .join('\n');
}

/** Two blocks of text in two columns, each line wrapped to its column, each with a title on top. */
export function sideBySide(left: string, right: string, titles: readonly [string, string]): string {
  const gap = '   ';
  const column = Math.floor((WIDTH - gap.length) / 2);
  const panel = (title: string, text: string) => [...wrap(title, column).map(bold), ...text.split('\n').flatMap((line) => wrap(line, column))];
  const a = panel(titles[0], left);
  const b = panel(titles[1], right);
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const cell = a[i] ?? '';
    out.push(`${cell}${' '.repeat(column - visibleLength(cell))}${gap}${b[i] ?? ''}`.trimEnd());
  }
  return out.join('\n');
}

/**
 * A value as indented JSON, a string's line breaks shown as breaks: the `\n` stays, and what follows
 * starts a line of its own, indented under the string's member. For reading, not for parsing.
 */
export function readableJson(value: unknown): string {
  return JSON.stringify(value, null, 2)
    .split('\n')
    .flatMap((line) => {
      const parts = line.split(/(?<=(?:^|[^\\])(?:\\\\)*\\n)/);
      const indent = ' '.repeat(/^ */.exec(line)![0].length + 2);
      return parts.map((part, index) => (index === 0 ? part : indent + part));
    })
    .join('\n');
}
