// Number formatting shared by the runner's console tables and the report's Markdown tables.

/** A number with so many digits, or "-" when there is none. */
export function fmt(n, digits) {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits)
}

/** "2.00 (get 1.00, touch 1.00)": store calls per request, then by method those that were made. */
export function storeCallsText(calls) {
  const made = Object.entries(calls).filter(([, n]) => n >= 0.005)
  const total = made.reduce((sum, [, n]) => sum + n, 0)
  return made.length === 0 ? '0' : `${fmt(total, 2)} (${made.map(([method, n]) => `${method} ${fmt(n, 2)}`).join(', ')})`
}
