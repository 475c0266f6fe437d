/**
 * Credentials out of every text the log view shows (describe.ts): the masking scan and its budget.
 *
 * The masking is one hand-written scan, linear in the length of its input whatever the input:
 * error texts quote their input (a Postgres cast error, `Failed to parse URL from <input>`), so
 * an attacker chooses them, and every 5xx is logged. The one regular expression left,
 * `SECRET_WORD`, is a list of literal words: it cannot backtrack.
 */

const MAX_TEXT = 2000;
/**
 * Characters one `describeError()` call reads and masks, over every text of the chain: names,
 * messages, codes and URLs of all errors first, then stack lines. About 25 full stacks of Node.js
 * frames; at most 16 texts cut to `MAX_TEXT`. What is past it is cut, never shown unmasked.
 */
/** @internal */
export const MASK_BUDGET = 32_000;
/** @internal What stands where a text was not read. */
export const BUDGET_SPENT = '[not shown: masking budget spent]';
const MASK = '***';

/**
 * Every text the scan below could change contains one of these words (case-insensitive), the
 * words that secret keys, headers and auth schemes contain (keep it in step with the lists
 * below), or a URL with user-info. One test spares the scan for the usual stack line or message,
 * which holds no secret. Literal alternatives and no quantifier: at most a fixed number of steps
 * per start position.
 */
const SECRET_WORD = /pass|pwd|secret|sig|session|token|key|auth|credential|code|cookie|jwt|bearer|basic|digest|negotiate/i;

// Character classes of the scan, one bit each, for the ASCII codes (anything else has none).
const WORD = 1; // [A-Za-z0-9_.-]: a key, a scheme word (`password`, `x-api-key`, `Bearer`)
const SPACE = 2; // ASCII whitespace
const CREDENTIAL = 4; // token68: [A-Za-z0-9-._~+/=]
const SCHEME = 8; // [A-Za-z0-9+.-]: the character before `://`
const VALUE_END = 16; // ends an unquoted value: whitespace " ' ` & < > }
const QUERY_END = 32; // ends a query value: whitespace " ' < > & #
const AUTHORITY_END = 64; // ends a URL's authority: whitespace / ? #
const LINE_END = 128; // ends a header value: CR LF }
const CLASSES = new Uint16Array(128);
function addClass(chars: string, bit: number): void {
  for (let k = 0; k < chars.length; k++) CLASSES[chars.charCodeAt(k)]! |= bit;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const WHITESPACE = ' \t\n\v\f\r';
addClass(`${ALNUM}_.-`, WORD);
addClass(WHITESPACE, SPACE);
addClass(`${ALNUM}-._~+/=`, CREDENTIAL);
addClass(`${ALNUM}+.-`, SCHEME);
addClass(`${WHITESPACE}"'\`&<>}`, VALUE_END);
addClass(`${WHITESPACE}"'<>&#`, QUERY_END);
addClass(`${WHITESPACE}/?#`, AUTHORITY_END);
addClass('\r\n}', LINE_END);

const BACKSLASH = 0x5c;
const COLON = 0x3a;
const EQUALS = 0x3d;
const CLOSE_PAREN = 0x29;
const OPEN_PAREN = 0x28;
const SLASH = 0x2f;
const AT = 0x40;
const LF = 0x0a;
const CR = 0x0d;

function has(code: number, bit: number): boolean {
  return code < 128 && (CLASSES[code]! & bit) !== 0;
}

function isQuote(code: number): boolean {
  return code === 0x22 || code === 0x27 || code === 0x60;
}

function lower(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

/** The first index from `from` whose character has `bit` (or the end). */
function until(text: string, from: number, bit: number): number {
  let k = from;
  while (k < text.length && !has(text.charCodeAt(k), bit)) k += 1;
  return k;
}

/** The first index from `from` whose character lacks `bit` (or the end). */
function skip(text: string, from: number, bit: number): number {
  let k = from;
  while (k < text.length && has(text.charCodeAt(k), bit)) k += 1;
  return k;
}

/**
 * A key whose name ends with one of these holds a secret: `DB_PASSWORD=…`, `"refresh_token": "…"`,
 * `aws_secret_access_key = …`. A `_` here stands for an optional `_`, `-` or `.`.
 */
const SECRET_KEY_ENDINGS: readonly string[] = [
  'password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'jwt', 'credential', 'credentials',
  'api_key', 'access_key', 'private_key', 'secret_key', 'session_id',
];
/** …and these only as a whole part of the name (`DB_PASS`, `x-auth`), not inside `bypass` or `oauth`. */
const SECRET_KEY_PARTS: readonly string[] = ['pass', 'auth'];
/** A key ending with one of these is a header: its whole value, to the end of the line, is a credential. */
const HEADER_ENDINGS: readonly string[] = ['authorization', 'cookie', 'api-key', 'auth-token'];
/** A query parameter whose name contains one of these holds a secret (`?token=`, `&X-Amz-Signature=`). */
const SECRET_QUERY_WORDS: readonly string[] = [
  'token', 'secret', 'pass', 'pwd', 'sig', 'auth', 'session', 'credential', 'jwt', 'code', 'key',
];
/** Auth schemes whose next word is always a credential, in any letter case. */
const STRONG_SCHEMES: readonly string[] = ['bearer', 'negotiate'];
/** Auth schemes that are also English words: the next word is masked when it does not read as one. */
const WEAK_SCHEMES: readonly string[] = ['basic', 'digest', 'token'];

function isSeparator(code: number): boolean {
  return code === 0x5f || code === 0x2d || code === 0x2e;
}

/**
 * Where `word` ends `name`, case-insensitively, or -1. Each `_` of the word matches one optional
 * separator, so the walk takes at most twice the word's length.
 */
function endingAt(name: string, word: string): number {
  let k = name.length;
  for (let w = word.length - 1; w >= 0; w -= 1) {
    const want = word.charCodeAt(w);
    if (want === 0x5f) {
      if (k > 0 && isSeparator(name.charCodeAt(k - 1))) k -= 1;
      continue;
    }
    if (k === 0 || lower(name.charCodeAt(k - 1)) !== want) return -1;
    k -= 1;
  }
  return k;
}

/** Whether `word` ends `name` as a whole part: `token` ends `access-token`, not `mytoken`. */
function endsWithPart(name: string, word: string): boolean {
  const at = endingAt(name, word);
  return at === 0 || (at > 0 && isSeparator(name.charCodeAt(at - 1)));
}

/** Whether `name` contains a query word, case-insensitively: at most 11 short comparisons per character. */
function containsQueryWord(name: string): boolean {
  for (let k = 0; k < name.length; k += 1) {
    const first = lower(name.charCodeAt(k));
    if (!has(first, QUERY_FIRST)) continue;
    for (const word of SECRET_QUERY_WORDS) {
      if (word.charCodeAt(0) !== first || word.length > name.length - k) continue;
      let w = 1;
      while (w < word.length && lower(name.charCodeAt(k + w)) === word.charCodeAt(w)) w += 1;
      if (w === word.length) return true;
    }
  }
  return false;
}

const PAIR = 1;
const HEADER = 2;

/** The endings of key names by their last letter, headers first. */
const ENDINGS: ReadonlyArray<ReadonlyArray<{ readonly word: string; readonly kind: number; readonly whole: boolean }>> = (() => {
  const table: Array<Array<{ word: string; kind: number; whole: boolean }>> = Array.from({ length: 128 }, () => []);
  const add = (word: string, kind: number, whole: boolean): void => void table[word.charCodeAt(word.length - 1)]!.push({ word, kind, whole });
  for (const word of HEADER_ENDINGS) add(word, HEADER, false);
  for (const word of SECRET_KEY_ENDINGS) add(word, PAIR, false);
  for (const word of SECRET_KEY_PARTS) add(word, PAIR, true);
  return table;
})();

// The first letters of query words, the last letters of key names and auth schemes: most words
// of a text are ruled out by one look-up.
const QUERY_FIRST = 256;
const NAME_LAST = 512;
for (const word of SECRET_QUERY_WORDS) addClass(word.charAt(0), QUERY_FIRST);
for (const word of [...HEADER_ENDINGS, ...SECRET_KEY_ENDINGS, ...SECRET_KEY_PARTS, ...STRONG_SCHEMES, ...WEAK_SCHEMES]) {
  addClass(word.slice(-1), NAME_LAST);
}

/** Whether `name` is a header (`HEADER`), a secret key (`PAIR`) or neither (0). */
function keyKind(name: string): number {
  for (const { word, kind, whole } of ENDINGS[lower(name.charCodeAt(name.length - 1))] ?? []) {
    if (whole ? endsWithPart(name, word) : endingAt(name, word) !== -1) return kind;
  }
  return 0;
}

/**
 * What the scan found: `marks[k]` is 1 where `text[k]` is masked. Each finder below returns where
 * the scan goes on, never before where it started, and no stretch of the text is read by more
 * than a fixed number of finders: the scan is linear in the length of the text.
 */
interface Scan {
  readonly text: string;
  marks: Uint8Array | undefined;
  /** Header values are masked up to here already. */
  headerEnd: number;
}

function mark(scan: Scan, from: number, to: number): void {
  if (to <= from) return;
  scan.marks ??= new Uint8Array(scan.text.length);
  scan.marks.fill(1, from, to);
}

/**
 * Masks credentials in free text: URL user-info, secret-looking query
 * parameters, `key=value` and `"key": "value"` pairs whose key names a
 * secret (quoted values whole, with their spaces, commas and escaped quotes),
 * `Authorization`/`Cookie`/API-key header values and auth-scheme credentials
 * (`Bearer …` in any letter case). Runs in time linear in the length of the
 * text, whatever the text.
 *
 * @example
 * ```ts
 * maskSecrets('GET https://bob:pw@api.test/x?token=abc'); // 'GET https://***@api.test/x?token=***'
 * maskSecrets('{"password":"correct horse battery"}'); // '{"password":"***"}'
 * ```
 */
export function maskSecrets(text: string): string {
  if (!SECRET_WORD.test(text) && !hasUserInfo(text)) return text;
  const scan: Scan = { text, marks: undefined, headerEnd: 0 };
  let k = 0;
  while (k < text.length) {
    const code = text.charCodeAt(k);
    if (code === COLON) k = userInfo(scan, k);
    else if (has(code, WORD)) k = word(scan, k, skip(text, k + 1, WORD));
    else k += 1;
  }
  return scan.marks === undefined ? text : replaceMarked(text, scan.marks);
}

/** Every stretch of marked characters becomes one `***`. */
function replaceMarked(text: string, marks: Uint8Array): string {
  let out = '';
  let from = 0;
  for (let start = marks.indexOf(1); start !== -1; start = marks.indexOf(1, from)) {
    const end = marks.indexOf(0, start);
    out += text.slice(from, start) + MASK;
    from = end === -1 ? text.length : end;
  }
  return out + text.slice(from);
}

/**
 * Whether a `://` in `text` is followed by user-info: an `@` before its authority ends. Not
 * `file:///…`, which ESM stack lines hold, nor `@` alone, which every path into pnpm's store holds.
 */
function hasUserInfo(text: string): boolean {
  for (let colon = text.indexOf('://'); colon !== -1; colon = text.indexOf('://', colon + 3)) {
    for (let k = colon + 3; k < text.length && !has(text.charCodeAt(k), AUTHORITY_END); k += 1) {
      if (text.charCodeAt(k) === AT) return true;
    }
  }
  return false;
}

/** At a `:`: the user-info of a URL (`scheme://user:pw@host`), up to the last `@` of the authority. */
function userInfo(scan: Scan, colon: number): number {
  const { text } = scan;
  if (text.charCodeAt(colon + 1) !== SLASH || text.charCodeAt(colon + 2) !== SLASH || !has(text.charCodeAt(colon - 1), SCHEME)) {
    return colon + 1;
  }
  const from = colon + 3;
  // The authority ends before the next `/`, so the next `://` starts a fresh one: no overlap.
  let at = -1;
  for (let k = from; k < text.length; k += 1) {
    const code = text.charCodeAt(k);
    if (code === AT) at = k;
    else if (has(code, AUTHORITY_END)) break;
  }
  if (at === -1) return from;
  mark(scan, from, at);
  return at + 1;
}

/** At the word `text[start, end)`: a secret query parameter, a secret key, a header or an auth scheme. */
function word(scan: Scan, start: number, end: number): number {
  const { text } = scan;
  const before = text.charCodeAt(start - 1);
  const query = (before === 0x3f || before === 0x26 || before === 0x3b) && text.charCodeAt(end) === EQUALS;
  if (!query && !has(lower(text.charCodeAt(end - 1)), NAME_LAST)) return end;
  const name = text.slice(start, end);
  if (query && containsQueryWord(name)) {
    const valueEnd = until(text, end + 1, QUERY_END);
    mark(scan, end + 1, valueEnd);
    return valueEnd;
  }
  const kind = keyKind(name);
  if (kind !== 0) {
    const value = valueAfter(text, end);
    if (value !== -1) return kind === HEADER ? headerValue(scan, value) : pairValue(scan, value);
  }
  if (STRONG_SCHEMES.some((scheme) => endsWithPart(name, scheme))) return credential(scan, end, true);
  if (WEAK_SCHEMES.some((scheme) => endsWithPart(name, scheme))) return credential(scan, end, false);
  return end;
}

/**
 * Where the value after a key starts, or -1 when no `=`, `:` or `=>` follows it. Between: the
 * key's closing quote (also `\"` of JSON inside a string, `)` of Postgres' `Key (token)=(…)`)
 * and whitespace.
 */
function valueAfter(text: string, end: number): number {
  let k = end;
  const next = text.charCodeAt(k);
  if (next === BACKSLASH && isQuote(text.charCodeAt(k + 1))) k += 2;
  else if (isQuote(next) || next === CLOSE_PAREN) k += 1;
  k = skip(text, k, SPACE);
  const separator = text.charCodeAt(k);
  if (separator !== EQUALS && separator !== COLON) return -1;
  k += 1;
  if (separator === EQUALS && text.charCodeAt(k) === 0x3e) k += 1;
  return skip(text, k, SPACE);
}

/**
 * A secret key's value: quoted (with `\` escapes and doubled quotes, to the closing quote or the
 * end of the line), in parentheses, or unquoted up to whitespace, a quote, `&`, `<`, `>` or `}`.
 */
function pairValue(scan: Scan, from: number): number {
  const { text } = scan;
  const open = text.charCodeAt(from);
  if (open === BACKSLASH && isQuote(text.charCodeAt(from + 1))) {
    // JSON inside a string: `{\"password\":\"…\"}` ends at the next `\"`.
    const end = escapedClose(text, from + 2, text.charCodeAt(from + 1));
    mark(scan, from + 2, end);
    return end;
  }
  let end: number;
  if (isQuote(open)) end = quotedClose(text, from + 1, open);
  else if (open === OPEN_PAREN) end = parenClose(text, from + 1);
  else end = unquotedEnd(text, from);
  mark(scan, isQuote(open) || open === OPEN_PAREN ? from + 1 : from, end);
  return end;
}

function quotedClose(text: string, from: number, quote: number): number {
  for (let k = from; k < text.length; k += 1) {
    const code = text.charCodeAt(k);
    if (code === BACKSLASH) k += 1;
    else if (code === quote) {
      if (text.charCodeAt(k + 1) !== quote) return k;
      k += 1; // SQL's `''`: a quote inside the value
    } else if (code === LF || code === CR) return k;
  }
  return text.length;
}

function escapedClose(text: string, from: number, quote: number): number {
  for (let k = from; k < text.length; k += 1) {
    const code = text.charCodeAt(k);
    if (code === BACKSLASH) {
      if (text.charCodeAt(k + 1) === quote) return k;
      k += 1;
    } else if (code === LF || code === CR) return k;
  }
  return text.length;
}

function parenClose(text: string, from: number): number {
  let k = from;
  while (k < text.length) {
    const code = text.charCodeAt(k);
    if (code === CLOSE_PAREN || code === LF || code === CR) break;
    k += 1;
  }
  return k;
}

function unquotedEnd(text: string, from: number): number {
  let k = from;
  while (k < text.length) {
    const code = text.charCodeAt(k);
    if (code === BACKSLASH) k += 2;
    else if (has(code, VALUE_END)) break;
    else k += 1;
  }
  return Math.min(k, text.length);
}

/**
 * A header's value: a quoted one like a pair's; otherwise everything to the end of the line (or a
 * `}`) but its quote characters, so that a quoted value later on the line, which a key inside
 * masks on its own (`Authorization: Bearer x WHERE password = 'y'`), keeps its quotes. The scan
 * goes on inside the header's value to find those keys.
 */
function headerValue(scan: Scan, from: number): number {
  const { text } = scan;
  const open = text.charCodeAt(from);
  if (isQuote(open) || (open === BACKSLASH && isQuote(text.charCodeAt(from + 1)))) return pairValue(scan, from);
  if (from < scan.headerEnd) return from;
  const end = until(text, from, LINE_END);
  let start = from;
  for (let k = from; k < end; k += 1) {
    if (isQuote(text.charCodeAt(k))) {
      mark(scan, start, k);
      start = k + 1;
    }
  }
  mark(scan, start, end);
  scan.headerEnd = end;
  return from;
}

/**
 * The credential after an auth scheme word and whitespace: token68 characters. After `Basic`,
 * `Digest` or `Token` only when it does not read as an English word ("token expired").
 */
function credential(scan: Scan, end: number, strong: boolean): number {
  const { text } = scan;
  const from = skip(text, end, SPACE);
  if (from === end) return end;
  const to = skip(text, from, CREDENTIAL);
  if (to === from || (!strong && isPlainWord(text, from, to))) return end;
  mark(scan, from, to);
  return to;
}

/** Lower-case letters, the first one possibly upper-case: `expired`, `Auth`. */
function isPlainWord(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k += 1) {
    const code = text.charCodeAt(k);
    const letter = code >= 0x61 && code <= 0x7a;
    if (!letter && !(k === from && code >= 0x41 && code <= 0x5a)) return false;
  }
  return true;
}

/** What is left to read and mask of one `describeError()` call. */
/** @internal */
export interface Budget {
  left: number;
}

/**
 * @internal A text as shown: cut to `MAX_TEXT` and to what is left of the budget (then ending in `…`),
 * masked. Once the budget is spent, texts are replaced by a marker, never shown unmasked.
 */
export function clip(text: string, budget: Budget): string {
  if (text.length === 0) return text;
  const limit = Math.min(MAX_TEXT, budget.left);
  if (limit <= 0) return BUDGET_SPENT;
  const cut = text.length > limit ? withoutTrailingUrl(text.slice(0, limit)) : text;
  budget.left -= cut.length;
  const masked = maskSecrets(cut);
  return text.length > limit || masked.length > MAX_TEXT ? `${masked.slice(0, MAX_TEXT)}…` : masked;
}

/**
 * A URL cut short may have lost the `@` that marks its user-info as such: drops a URL that runs
 * to the end of the text (from its scheme on). Each `://` walks back over its own scheme only.
 */
function withoutTrailingUrl(text: string): string {
  let start = text.length;
  while (start > 0 && !has(text.charCodeAt(start - 1), SPACE)) start -= 1;
  for (let colon = text.indexOf('://', start); colon !== -1; colon = text.indexOf('://', colon + 3)) {
    let scheme = colon;
    while (scheme > start && has(text.charCodeAt(scheme - 1), SCHEME)) scheme -= 1;
    if (scheme < colon) return text.slice(0, scheme);
  }
  return text;
}
