// The documentation site's code samples: every fenced block of every hand-written page under docs/,
// with the markers written on the lines just before it. test/docs-site.test.mjs checks each one:
//   js, ts         type-checked as a program of its own (TypeScript: strict; JavaScript: checkJs)
//   <!-- sample: fragment -->  a part of an app: checked with `app`, `req`, `secret`, ... declared
//                  (test/support/doc-samples-globals.d.ts), and wrapped in an async function when it
//                  awaits at the top of a CommonJS sample
//   <!-- sample: run -->       checked by running it instead: with node (CommonJS), which must exit 0,
//                  or, with a snippet marker too, by the test that runs that snippet
//   <!-- snippet: NAME -->     also run by the test that names it (test/support/snippets.mjs)
//   diff           the new side, checked as js/ts
//   json           parsed
//   sh             `bash -n`; every `npm run X` is a script of package.json, every `node FILE` exists
//   sql            run against PostgreSQL in a transaction that is rolled back
// A block with no language is a diagram or a listing, not code.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DOCS = join(ROOT, 'docs')
// Generated (the API reference), or the site's own machinery: not pages written by hand.
const NOT_PAGES = new Set(['api', '.vitepress', 'node_modules'])

/** Every hand-written page of the site, as paths relative to the repository root. */
export function sitePages(dir = DOCS) {
  const pages = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (NOT_PAGES.has(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) pages.push(...sitePages(path))
    else if (entry.name.endsWith('.md')) pages.push(relative(ROOT, path))
  }
  return pages.sort()
}

const LANGUAGES = new Set(['js', 'ts', 'diff', 'json', 'sh', 'sql', ''])

/**
 * The fenced blocks of one page: `{ page, line, lang, marks, snippet, code }`. `marks` holds the
 * `sample:` markers, `snippet` the name of a `snippet:` marker, both from the comment lines right
 * above the fence. An unknown language is an error, so that no sample goes unchecked by accident.
 */
export function samplesOf(page) {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n')
  const samples = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)/.exec(lines[i])
    if (!open) continue
    const [, indent, lang] = open
    const end = lines.findIndex((line, j) => j > i && line.startsWith(`${indent}\`\`\``))
    if (end === -1) throw new Error(`${page}:${i + 1}: a fence that is never closed`)
    if (!LANGUAGES.has(lang)) throw new Error(`${page}:${i + 1}: a \`\`\`${lang} block, which no check knows`)
    const marks = new Set()
    let snippet
    for (let j = i - 1; j >= 0; j--) {
      const comment = /^\s*<!-- (sample|snippet): (.+?) -->\s*$/.exec(lines[j])
      if (!comment) break
      if (comment[1] === 'snippet') snippet = comment[2]
      else marks.add(comment[2])
    }
    const code = lines.slice(i + 1, end).map((line) => line.slice(indent.length)).join('\n')
    samples.push({ page, line: i + 1, lang, marks, snippet, code })
    i = end
  }
  return samples
}

/** The new side of a diff: context and added lines, without their one-character prefix. */
export function newSideOf(diff) {
  return diff
    .split('\n')
    .filter((line) => !line.startsWith('-'))
    .map((line) => line.slice(1))
    .join('\n')
}

/** Whether a JavaScript or TypeScript sample is an ES module (it imports, exports or declares a module). */
export function isEsm(code) {
  return /^\s*(import|export)\s/m.test(code) || /^declare module /m.test(code)
}

/**
 * The source file a js/ts sample is checked as: `{ name, text }`. A CommonJS fragment that awaits at
 * its top level is wrapped in an async function, as it would sit in an app's start-up code.
 */
export function sourceOf(sample, index) {
  const code = sample.lang === 'diff' ? newSideOf(sample.code) : sample.code
  const ts = sample.lang === 'ts' || (sample.lang === 'diff' && /^\s*(import|declare)\s/m.test(code))
  const esm = isEsm(code)
  const wrap = !esm && sample.marks.has('fragment') && /^\s*(const .*= )?await /m.test(code)
  const text = wrap ? `;(async () => {\n${code}\n})()\n` : `${code}\n`
  const base = `${sample.page.replace(/[/.]/g, '_')}_${sample.line}_${index}`
  return { name: `${base}.${ts ? (esm ? 'mts' : 'cts') : esm ? 'mjs' : 'cjs'}`, text, ts }
}

const PROGRAMS = {
  // What a user's strict TypeScript project would say.
  ts: { strict: true, noImplicitAny: true },
  // What an editor says about a JavaScript file with `// @ts-check`: wrong names, wrong option
  // types, wrong calls; not the annotations JavaScript cannot write.
  js: { strict: true, noImplicitAny: false, allowJs: true, checkJs: true },
}

/**
 * Writes the js/ts samples under `dir` as four programs (TypeScript or JavaScript, whole or fragment)
 * and returns what each needs to be type-checked: `[{ dir, files }]` with a tsconfig.json written.
 */
export function writePrograms(samples, dir, writeFile, mkdir) {
  const programs = []
  for (const lang of ['ts', 'js']) {
    for (const fragment of [false, true]) {
      const chosen = samples.map((sample, index) => ({ sample, index })).filter(({ sample, index }) => {
        if (sample.marks.has('run')) return false
        const source = sourceOf(sample, index)
        return source.ts === (lang === 'ts') && sample.marks.has('fragment') === fragment
      })
      if (chosen.length === 0) continue
      const programDir = join(dir, `${lang}-${fragment ? 'fragments' : 'programs'}`)
      mkdir(programDir, { recursive: true })
      const files = []
      for (const { sample, index } of chosen) {
        const source = sourceOf(sample, index)
        writeFile(join(programDir, source.name), source.text)
        files.push({ name: source.name, sample })
      }
      const support = fileURLToPath(new URL('.', import.meta.url))
      const include = [...files.map((f) => f.name), join(support, 'doc-samples-session-data.d.ts')]
      if (fragment) include.push(join(support, 'doc-samples-globals.d.ts'))
      const tsconfig = {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          // Fragments leave things unused that the rest of the app would use.
          noUnusedLocals: false,
          // Next.js apps are compiled by Next.js's bundler, which resolves `next/navigation` and the
          // like without the exports map that Node's ESM resolution would need (next has none).
          paths: { 'next/*': [join(ROOT, 'node_modules', 'next', '*.d.ts')] },
          ...PROGRAMS[lang],
        },
        files: include,
      }
      writeFile(join(programDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
      programs.push({ dir: programDir, files })
    }
  }
  return programs
}
