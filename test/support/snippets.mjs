// The README's store snippets live in docs/stores.md, each after a `<!-- snippet: NAME -->` marker.
// Tests run them as written: `app.use(...)` is captured, `process.env` is what the test passes.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** The code of the fenced block after `<!-- snippet: name -->` in docs/stores.md. */
export function snippet(name) {
  const text = readFileSync(new URL('../../docs/stores.md', import.meta.url), 'utf8')
  const marker = `<!-- snippet: ${name} -->`
  const at = text.indexOf(marker)
  if (at === -1) throw new Error(`docs/stores.md has no ${marker}`)
  const fence = text.indexOf('```', at)
  const start = text.indexOf('\n', fence) + 1
  return text.slice(start, text.indexOf('\n```', start))
}

/**
 * Runs a CommonJS snippet with `app`, `require` and `process.env` supplied; returns the middleware
 * it mounted with `app.use`.
 */
export function runSnippet(name, env) {
  const mounted = []
  const app = { use: (middleware) => mounted.push(middleware) }
  const run = new Function('require', 'app', 'process', 'console', snippet(name))
  run(require, app, { env }, console)
  if (mounted.length !== 1) throw new Error(`snippet ${name} mounted ${mounted.length} middlewares, expected 1`)
  return mounted[0]
}
