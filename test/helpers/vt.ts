/**
 * What a terminal of N columns shows after some output: a small VT100 subset (printable
 * characters with auto-wrap at the last column, CR, LF, backspace, erase in line / display,
 * cursor moves). Enough to check that a live line (progress bar, spinner frame) was really
 * erased, which stripping escapes from the byte stream cannot tell.
 */
export function renderScreen(raw: string, columns: number): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let pendingWrap = false;
  const line = (): string[] => (lines[row] ??= []);
  const down = (): void => {
    row++;
    while (lines.length <= row) lines.push([]);
  };
  const chars = Array.from(raw);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\x1b') {
      if (chars[i + 1] === '[') {
        let j = i + 2;
        let params = '';
        while (j < chars.length && /[0-9;?]/.test(chars[j]!)) params += chars[j++];
        const final = chars[j];
        i = j;
        const n = Number(params.replace('?', '').split(';')[0] || '0');
        if (params.startsWith('?')) continue;
        pendingWrap = false;
        const l = line();
        if (final === 'K') {
          if (n === 0) l.length = Math.min(l.length, col);
          else if (n === 1) for (let k = 0; k <= col && k < l.length; k++) l[k] = ' ';
          else l.length = 0;
        } else if (final === 'J') {
          if (n === 0) {
            l.length = Math.min(l.length, col);
            lines.length = row + 1;
          } else if (n === 2) {
            lines.length = 0;
            lines.push([]);
            row = 0;
          }
        } else if (final === 'A') row = Math.max(0, row - (n || 1));
        else if (final === 'B') for (let k = 0; k < (n || 1); k++) down();
        else if (final === 'C') col = Math.min(columns - 1, col + (n || 1));
        else if (final === 'D') col = Math.max(0, col - (n || 1));
        else if (final === 'G') col = Math.max(0, (n || 1) - 1);
        continue;
      }
      if (chars[i + 1] === ']') {
        // OSC: up to BEL or ESC \
        let j = i + 2;
        while (j < chars.length && chars[j] !== '\x07' && !(chars[j] === '\x1b' && chars[j + 1] === '\\')) j++;
        i = chars[j] === '\x07' ? j : j + 1;
        continue;
      }
      i++; // a two-character escape (ESC 7, ESC =, ...)
      continue;
    }
    if (ch === '\r') {
      col = 0;
      pendingWrap = false;
    } else if (ch === '\n') {
      down();
      pendingWrap = false;
    } else if (ch === '\b') {
      col = Math.max(0, col - 1);
      pendingWrap = false;
    } else if (ch >= ' ') {
      if (pendingWrap) {
        col = 0;
        down();
        pendingWrap = false;
      }
      const l = line();
      while (l.length < col) l.push(' ');
      l[col] = ch;
      if (col === columns - 1) pendingWrap = true;
      else col++;
    }
  }
  return lines.map((l) => l.join('').trimEnd());
}
