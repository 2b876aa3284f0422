// The documentation's snippets (the site's pages under docs/, then README.md), each after a
// `<!-- snippet: NAME -->` marker. Tests run them as written: `app.use(...)` is captured, `process.env`
// is what the test passes.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ROOT, sitePages } from './doc-samples.mjs'

const require = createRequire(import.meta.url)
const SOURCES = [...sitePages().map((page) => join(ROOT, page)), join(ROOT, 'README.md')]

/** The code of the fenced block after `<!-- snippet: name -->`. */
export function snippet(name) {
  const marker = `<!-- snippet: ${name} -->`
  for (const source of SOURCES) {
    if (!existsSync(source)) continue
    const text = readFileSync(source, 'utf8')
    const at = text.indexOf(marker)
    if (at === -1) continue
    const fence = text.indexOf('```', at)
    const start = text.indexOf('\n', fence) + 1
    return text.slice(start, text.indexOf('\n```', start))
  }
  throw new Error(`no page under docs/ nor README.md has ${marker}`)
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
