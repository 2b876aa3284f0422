// Summarizes a V8 .cpuprofile (from `node bench/run.mjs --cpu-prof`): self time per function, and
// total (inclusive) time for functions in sessionkit and the session middlewares.
//   node bench/profile-summary.mjs bench/profiles/<file>.cpuprofile [top=30]
import { readFileSync } from 'node:fs'

const [file, topArg = '30'] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const top = Number(topArg)
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const counts = new Map()
for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1)
const total = profile.samples.length
const name = (n) => {
  const f = n.callFrame
  const url = f.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '').replace(/.*\/(bench|src|dist)\//, '$1/')
  return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`
}
const inclusive = new Map()
for (const [id, count] of counts) {
  const n = byId.get(id)
  const key = name(n)
  self.set(key, (self.get(key) ?? 0) + count)
  const seen = new Set()
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur))
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + count)
  }
}
const pct = (c) => ((100 * c) / total).toFixed(1).padStart(5) + '%'
console.log(`${total} samples\n-- self --`)
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(c), k)
console.log('-- inclusive, session code --')
for (const [k, c] of [...inclusive].filter(([k]) => /sessionkit|\.dist-|dist\/|express-session|cookie|uid-safe|on-headers|connect-redis/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(c), k)
