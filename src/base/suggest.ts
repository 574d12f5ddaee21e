/** "Did you mean": the nearest of a list of names to a mistyped one. */

/** The closest of `known` to `got` by edit distance (case aside), if within a third of its length (1 to 3 edits); else null. */
export function closest(got: string, known: readonly string[]): string | null {
  const d = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min(
          row[j] + 1,
          row[j - 1] + 1,
          prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
        );
        prev = row[j];
        row[j] = next;
      }
    }
    return row[b.length];
  };
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const dist = d(got, k);
    if (dist < bestD) {
      bestD = dist;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.min(3, Math.floor(got.length / 3))) ? best : null;
}

/** The options each command takes (anything else is an error naming the command's options). */
