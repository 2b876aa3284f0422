// The documentation site: `npm run docs:build` builds it (the API reference from the TSDoc comments,
// then VitePress), a small static server serves the build on 127.0.0.1, and headless Chromium opens
// every page: a page that is missing, throws, fails to load a resource, or links to a page or an
// anchor that does not exist fails the test. Every code sample on the site is checked too, as
// test/support/doc-samples.mjs describes; and the README, which the registry shows, links only to
// absolute addresses that exist.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, relative } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import pg from 'pg'
import { browserMissing, launchBrowser } from './support/browser.mjs'
import { ROOT, samplesOf, sitePages, writePrograms } from './support/doc-samples.mjs'
import { requireService } from './support/services.mjs'
import { snippet } from './support/snippets.mjs'

const run = promisify(execFile)
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const samples = sitePages().flatMap(samplesOf)
const work = join(ROOT, '.tmp', `docs-site-${process.pid}`)
after(() => rmSync(work, { recursive: true, force: true }))

/** The pages the site must have, one per topic, as paths of the built site. */
const REQUIRED_PAGES = [
  'index.html',
  'guide/getting-started.html',
  'guide/migrating.html',
  'guide/options.html',
  'guide/session-api.html',
  'guide/types.html',
  'guide/stores.html',
  'guide/guarantees.html',
  'guide/writing-a-store.html',
  'guide/cookie-sessions.html',
  'guide/beyond-express-session.html',
  'guide/security.html',
  'guide/events.html',
  'guide/session-metadata.html',
  'guide/sessions-per-owner.html',
  'guide/cookie-not-set.html',
  'guide/failure-behaviour.html',
  'guide/performance.html',
  'guide/differences.html',
  'frameworks/index.html',
  'frameworks/hono.html',
  'guide/web.html',
  'frameworks/koa.html',
  'frameworks/fastify.html',
  'frameworks/react-router.html',
  'frameworks/sveltekit.html',
  'frameworks/next.html',
  'api/index.html',
  'architecture.html',
  'performance.html',
  'stores.html',
]

describe('the code samples on the site', () => {
  test('every js/ts/diff sample type-checks (whole programs on their own, fragments in an app)', async () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'cjs')), 'dist/ is missing: run `npm run build` first')
    const checked = samples.filter((s) => ['js', 'ts', 'diff'].includes(s.lang))
    const programs = writePrograms(checked, join(work, 'samples'), writeFileSync, mkdirSync)
    const failures = []
    await Promise.all(
      programs.map(async (program) => {
        try {
          await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', program.dir], { timeout: 120_000 })
        } catch (error) {
          // Name the page and line of each sample an error is in, not the temporary file.
          let text = error.stdout || error.message
          for (const { name, sample } of program.files) text = text.replaceAll(relative(ROOT, join(program.dir, name)), `${sample.page}:${sample.line} (sample)`)
          failures.push(text)
        }
      }),
    )
    assert.equal(failures.join('\n'), '', 'every sample type-checks')
    const typed = programs.reduce((n, p) => n + p.files.length, 0)
    const ran = checked.filter((s) => s.marks.has('run')).length
    assert.equal(typed + ran, checked.length, 'each sample is type-checked or run')
  })

  test('samples marked `run` (and not run by a snippet test) exit 0', async () => {
    const runnable = samples.filter((s) => s.marks.has('run') && !s.snippet)
    assert.ok(runnable.length > 0, 'the node:http sample at least')
    mkdirSync(work, { recursive: true })
    for (const [index, sample] of runnable.entries()) {
      const file = join(work, `run-${index}.cjs`)
      writeFileSync(file, sample.code)
      await assert.doesNotReject(run(process.execPath, [file], { cwd: ROOT, timeout: 30_000 }), `${sample.page}:${sample.line}`)
    }
  })

  test('samples marked `run` with a snippet name are run by a test of the suite', () => {
    const tests = readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.test.mjs')).map((f) => readFileSync(join(ROOT, 'test', f), 'utf8')).join('\n')
    for (const sample of samples.filter((s) => s.snippet)) {
      assert.ok(tests.includes(`'${sample.snippet}'`), `${sample.page}:${sample.line}: no test runs snippet '${sample.snippet}'`)
    }
  })

  test('json samples parse; shell samples parse and name scripts and files that exist', () => {
    for (const sample of samples.filter((s) => s.lang === 'json')) {
      assert.doesNotThrow(() => JSON.parse(sample.code), `${sample.page}:${sample.line}`)
    }
    const shell = samples.filter((s) => s.lang === 'sh')
    assert.ok(shell.length > 0)
    for (const sample of shell) {
      const where = `${sample.page}:${sample.line}`
      execFileSync('bash', ['-n'], { input: sample.code })
      for (const [, script] of sample.code.matchAll(/npm run ([\w:-]+)/g)) assert.ok(pkg.scripts[script], `${where}: npm run ${script} is no script of package.json`)
      // A file of the repository's (bench/x.mjs), not the user's own app.js.
      for (const [, file] of sample.code.matchAll(/(?:^|[\s;&|])node (?:--[\w-]+(?:=\S+)? )*([\w.-]+\/[\w./-]+\.m?js)\b/gm)) {
        assert.ok(existsSync(join(ROOT, file)), `${where}: node ${file}, which does not exist`)
      }
    }
  })

  describe('sql samples run in PostgreSQL (rolled back)', async () => {
    const { skip } = await requireService('postgres')
    test('each sql sample runs', { skip }, async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' })
      await client.connect()
      try {
        for (const sample of samples.filter((s) => s.lang === 'sql')) {
          await client.query('BEGIN')
          try {
            // A schema of this run's own, so that the sample's table names meet nobody else's.
            await client.query(`CREATE SCHEMA docs_sample_${process.pid}; SET LOCAL search_path TO docs_sample_${process.pid}`)
            await client.query(sample.code)
          } catch (error) {
            assert.fail(`${sample.page}:${sample.line}: ${error.message}`)
          } finally {
            await client.query('ROLLBACK')
          }
        }
      } finally {
        await client.end()
      }
    })
  })
})

describe('the README, as the registry shows it', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  test("its first lines say what sessionkit is, then give a newcomer's two commands", () => {
    const [title, , what, , fence, start, testLine] = readme.split('\n')
    assert.equal(title, '# sessionkit')
    assert.match(what, /^Session middleware .*express-session/)
    assert.equal(fence, '```sh')
    assert.match(start, /^npm install && npm start\b/)
    assert.match(testLine, /^npm test\b/)
  })

  test('its Quick start is the one the site has (and test/packaging.test.mjs runs)', () => {
    const quick = samplesOf('README.md').find((s) => s.lang === 'js')
    assert.ok(quick, 'the README has a js sample')
    assert.equal(quick.code, snippet('quick-start'))
  })

  test('links only to absolute addresses, and those into the repository name files that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    for (const link of links) {
      assert.match(link, /^(https?:|mailto:)/, `${link}: a relative link is dead on the registry's page`)
      const inRepo = /^https:\/\/github\.com\/sessionkit\/sessionkit\/(?:blob|tree)\/main\/([^#?]+)/.exec(link)
      if (inRepo) assert.ok(existsSync(join(ROOT, decodeURIComponent(inRepo[1]))), `${link}: no such file in the repository`)
    }
  })
})

describe('the built site in headless Chromium', async () => {
  const missing = browserMissing()
  const outDir = join(work, 'site')
  let server
  let base
  let browser
  let buildFailure
  before(async () => {
    if (missing) return
    const started = performance.now()
    try {
      await run('npm', ['run', 'docs:build', '--silent', '--', '--outDir', outDir], { cwd: ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 })
    } catch (error) {
      // Said by the test below, with what VitePress or TypeDoc printed (a dead link, a TSDoc error).
      buildFailure = `npm run docs:build failed:\n${error.stdout}\n${error.stderr}`
      return
    }
    console.log(`# npm run docs:build took ${((performance.now() - started) / 1000).toFixed(1)} s`)
    server = await serve(outDir)
    base = `http://127.0.0.1:${server.address().port}`
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    server?.close()
  })

  test('has every page, none throws or fails to load, and no internal link or anchor is broken', { skip: missing, timeout: 300_000 }, async () => {
    if (buildFailure) assert.fail(buildFailure)
    const built = htmlFiles(outDir).filter((p) => p !== '404.html')
    for (const page of REQUIRED_PAGES) assert.ok(built.includes(page), `the site has no ${page}`)
    const pages = new Map() // path -> { ids, links }
    const problems = []
    const context = await browser.newContext()
    const queue = [...built]
    // Two tabs at a time: the machine has few cores, and pages load from memory.
    await Promise.all(
      [0, 1].map(async () => {
        const tab = await context.newPage()
        tab.on('pageerror', (error) => problems.push(`${tab.url()}: page error: ${error.message}`))
        tab.on('console', (message) => {
          if (message.type() === 'error') problems.push(`${tab.url()}: console error: ${message.text()}`)
        })
        tab.on('response', (response) => {
          if (response.status() >= 400) problems.push(`${tab.url()}: ${response.status()} for ${response.url()}`)
        })
        tab.on('requestfailed', (request) => {
          // VitePress prefetches the pages a page links to; leaving the page aborts what is in flight.
          if (request.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`${tab.url()}: failed to load ${request.url()}`)
        })
        for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
          const response = await tab.goto(`${base}/${path}`, { waitUntil: 'load' })
          assert.equal(response.status(), 200, path)
          await tab.waitForSelector('#app .VPContent', { timeout: 15_000 })
          const found = await tab.evaluate(() => ({
            ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
            links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
            images: [...document.querySelectorAll('.vp-doc img')].filter((img) => !img.complete || img.naturalWidth === 0).map((img) => img.src),
          }))
          for (const image of found.images) problems.push(`${path}: the image ${image} does not show`)
          pages.set(path, found)
        }
        await tab.close()
      }),
    )
    await context.close()
    for (const [path, { links }] of pages) {
      for (const href of links) {
        const target = new URL(href, `${base}/${path}`)
        if (target.origin !== base) continue
        let file = decodeURIComponent(target.pathname.slice(1))
        if (file === '' || file.endsWith('/')) file += 'index.html'
        if (!pages.has(file)) {
          if (!existsSync(join(outDir, file))) problems.push(`${path}: a link to ${href}, which does not exist`)
          continue
        }
        const anchor = decodeURIComponent(target.hash.slice(1))
        if (anchor && !pages.get(file).ids.includes(anchor)) problems.push(`${path}: a link to ${href}, whose anchor #${anchor} is not on ${file}`)
      }
    }
    assert.equal(problems.join('\n'), '', 'no broken page, resource, link or anchor')
    assert.ok(pages.size >= REQUIRED_PAGES.length)
  })
})

/** The .html files under `dir`, as paths relative to it. */
function htmlFiles(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.isDirectory()) return htmlFiles(dir, path)
    return entry.name.endsWith('.html') ? [path] : []
  })
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2' }

/** Serves `dir` as a static site on 127.0.0.1 (a free port); a missing file is a 404. */
function serve(dir) {
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname)
    if (path.endsWith('/')) path += 'index.html'
    const file = join(dir, path)
    if (!file.startsWith(dir)) return res.writeHead(403).end()
    try {
      const body = await readFile(file)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body)
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}
