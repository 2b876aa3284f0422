/**
 * Recognizing a misspelled option. express-session ignores every key it does not know, and frameworks
 * built on it (Sails, kraken-js) pass keys of their own in the same object, so an unknown key is not a
 * mistake by itself: only a key close to a known one is reported, naming the option meant. @internal
 */

/**
 * The known option `key` was probably meant for, or undefined when it is not close to any: the same
 * name in another case or with `-`/`_` (`maxage`, `max_age`), or one edit away (two for names of eight
 * letters or more: `saveUnitialized`, `resaves`). Names of three letters or fewer only match exactly
 * after that folding, so that short keys of a framework's own are never taken for ours.
 */
export function meantOption(key: string, known: readonly string[]): string | undefined {
  const folded = fold(key)
  for (const name of known) if (fold(name) === folded) return name
  for (const name of known) {
    if (name.length <= 3) continue
    const allowed = name.length >= 8 ? 2 : 1
    if (Math.abs(name.length - key.length) <= allowed && editDistance(fold(name), folded) <= allowed) return name
  }
  return undefined
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '')
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbours. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i]
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j)
        continue
      }
      const above = rows[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      row.push(best)
    }
    rows.push(row)
  }
  return (rows[a.length] as number[])[b.length] as number
}
