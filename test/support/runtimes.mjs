// Starts a server script under Node, Bun or Deno as a child process on 127.0.0.1, for tests of
// sessionkit's Web-standard API under the runtimes users run it on. Bun and Deno come from the
// project's own node_modules (the `bun` and `deno` devDependencies bring their binaries), so a fresh
// `npm ci` is all a machine needs. Scripts import sessionkit by its package name: the repo's
// package.json names it and maps its exports, so all three runtimes resolve `sessionkit`,
// `sessionkit/redis`, ... to dist/ the way they resolve it in a user's node_modules (run
// `npm run build` first), and `hono`, `redis`, ... from node_modules.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseSetCookie } from './http.mjs'
import { answers } from './services.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const modules = join(root, 'node_modules')

/** The runtimes a test can name. */
export const RUNTIMES = ['node', 'bun', 'deno']

/** The script that serves an app module with each runtime's own HTTP server (see startApp). */
export const SERVE_SCRIPT = fileURLToPath(new URL('../fixtures/runtimes/serve.mjs', import.meta.url))

// A binary smaller than this is the placeholder a package ships until its install script puts the
// real one in place (bun's bin/bun.exe is a text stub when npm skipped the script).
const REAL_BINARY_BYTES = 1_000_000

/** Files under node_modules/<scope>/<any>/<rest>: the per-platform packages Bun and Deno ship in. */
function platformCandidates(scope, ...rest) {
  const dir = join(modules, scope)
  if (!existsSync(dir)) return []
  return readdirSync(dir).map((name) => join(dir, name, ...rest))
}

function candidates(runtime) {
  if (runtime === 'node') return [process.execPath]
  // First the binary the package's install script put in place; then, when npm skipped that script,
  // the one inside the optional per-platform package it came from.
  if (runtime === 'bun') return [join(modules, 'bun/bin/bun.exe'), ...platformCandidates('@oven', 'bin/bun')]
  if (runtime === 'deno') return [join(modules, 'deno/deno'), ...platformCandidates('@deno', 'deno')]
  throw new Error(`runtimes: unknown runtime ${runtime}; one of ${RUNTIMES.join(', ')}`)
}

const found = new Map()

/**
 * The path of a binary of `runtime` that runs on this machine, or undefined. Each candidate is run
 * once with --version (about 20 ms), since a binary for another libc or CPU is present but fails.
 */
export function runtimeBinary(runtime) {
  if (!found.has(runtime)) {
    const binary = candidates(runtime).find((path) => {
      if (!existsSync(path) || statSync(path).size < REAL_BINARY_BYTES) return false
      return spawnSync(path, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0
    })
    found.set(runtime, binary)
  }
  return found.get(runtime)
}

/**
 * Why `runtime` cannot run here, or false. Meant as a test's `skip` option. Under CI=true a missing
 * runtime throws instead, so CI cannot pass by skipping these tests.
 */
export function runtimeMissing(runtime) {
  if (runtimeBinary(runtime)) return false
  const message =
    `${runtime} is not installed in node_modules: run \`npm ci\` (the ${runtime} devDependency brings its ` +
    'binary; its install script must be allowed, see allowScripts in package.json)'
  if (process.env.CI === 'true') throw new Error(`${message} (required under CI=true)`)
  console.log(`# skipping the ${runtime} tests: ${message}`)
  return message
}

/**
 * The command line that runs `script` under `runtime`: [binary, ...args]. Bun never installs missing
 * packages nor reads a .env file; Deno uses the existing node_modules as it is, fetches nothing,
 * writes no lock file, and may reach 127.0.0.1 and read files and the environment.
 */
export function runtimeCommand(runtime, script) {
  const binary = runtimeBinary(runtime)
  if (!binary) throw new Error(runtimeMissing(runtime) || `${runtime} is missing`)
  if (runtime === 'node') return [binary, script]
  if (runtime === 'bun') return [binary, '--no-install', '--no-env-file', script]
  return [binary, 'run', '--node-modules-dir=manual', '--no-remote', '--cached-only', '--no-lock', '--no-prompt', '--allow-net=127.0.0.1', '--allow-env', '--allow-read', script]
}

/** The environment every child gets on top of the test's own. */
function childEnv(extra) {
  return {
    ...process.env,
    // Deno would look for a newer release over the network, and keeps its caches in DENO_DIR: one
    // inside node_modules is always writable and goes away with it.
    DENO_NO_UPDATE_CHECK: '1',
    DENO_DIR: join(modules, '.cache/deno'),
    // Bun would send a crash report over the network.
    DO_NOT_TRACK: '1',
    NO_COLOR: '1',
    ...extra,
  }
}

// Children still running when the test process ends are killed, whatever ended it.
const live = new Set()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

const OUTPUT_LIMIT = 64 * 1024

/**
 * Starts `script` (with `args` after it) under `runtime` with PORT and HOST (127.0.0.1) in its environment, plus `env`, and
 * waits until 127.0.0.1:port accepts connections. Fails when the port is taken before the start, when
 * the child exits first, or after `timeoutMs`; the error carries the child's output. Returns
 * { url, port, pid, command, startupMs, output(), stop() }: output() is what the child wrote to
 * stdout and stderr (the last 64 KiB); stop() kills it by PID (SIGTERM, SIGKILL after 3 s) and waits.
 */
export async function startServer({ runtime, script, args = [], port, env = {}, timeoutMs = 15_000 }) {
  if (await answers(port, 300)) throw new Error(`runtimes: something already listens on 127.0.0.1:${port}`)
  const command = [...runtimeCommand(runtime, script), ...args]
  const started = performance.now()
  const child = spawn(command[0], command.slice(1), {
    cwd: root,
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let output = ''
  const keep = (chunk) => {
    output = (output + chunk).slice(-OUTPUT_LIMIT)
  }
  child.stdout.setEncoding('utf8').on('data', keep)
  child.stderr.setEncoding('utf8').on('data', keep)
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child)
      resolve(signal ?? `code ${code}`)
    })
    // A binary that cannot be executed emits 'error' and no 'exit'.
    child.once('error', (err) => {
      live.delete(child)
      resolve(err.message)
    })
  })
  let exitedAs
  exited.then((how) => (exitedAs = how))

  const stop = async () => {
    if (exitedAs === undefined) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    return output
  }

  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exitedAs !== undefined) throw startError(`exited (${exitedAs}) before it answered`)
    if (await answers(port, 200)) break
    if (Date.now() > deadline) {
      await stop()
      throw startError(`did not answer within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  function startError(what) {
    return new Error(`runtimes: ${runtime} ${script} (pid ${child.pid}) on port ${port} ${what}\ncommand: ${command.join(' ')}\noutput:\n${output}`)
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    command,
    startupMs: Math.round(performance.now() - started),
    output: () => output,
    stop,
  }
}

/**
 * startServer for an app module rather than a script: test/fixtures/runtimes/serve.mjs serves
 * `app` (a path relative to that folder, or absolute, whose default export builds a
 * (Request) => Response handler) with Bun.serve, Deno.serve, or @hono/node-server under Node.
 */
export function startApp({ app, ...options }) {
  return startServer({ ...options, script: SERVE_SCRIPT, env: { ...options.env, APP: app } })
}

/**
 * Runs `body(server)` against a server from startServer (or startApp when `options.app` is set),
 * then stops it. When `body` fails, the child's output is added to the error, so a failing test
 * shows what the server said.
 */
export async function withServer(options, body) {
  const server = options.app ? await startApp(options) : await startServer(options)
  try {
    return await body(server)
  } catch (err) {
    const output = server.output().trim()
    if (err instanceof Error && output) err.message += `\n--- ${options.runtime} server output ---\n${output}`
    throw err
  } finally {
    await server.stop()
  }
}

/**
 * A browser's cookies for one site, in front of fetch: each request carries the cookies the earlier
 * responses set, each response's Set-Cookie headers replace them, and an expired one (Max-Age=0 or
 * an Expires in the past) goes away.
 */
export class CookieJar {
  #cookies = new Map()

  /** The Cookie header the next request sends, or '' when the jar is empty. */
  get header() {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  /** The value of cookie `name`, as the server set it (still encoded), or undefined. */
  get(name) {
    return this.#cookies.get(name)
  }

  /** Keeps the cookies of a response's Set-Cookie headers. */
  take(setCookies) {
    for (const header of setCookies) {
      const cookie = parseSetCookie(header)
      const gone = cookie['max-age'] !== undefined ? Number(cookie['max-age']) <= 0 : cookie.expires !== undefined && Date.parse(cookie.expires) <= Date.now()
      if (gone) this.#cookies.delete(cookie.name)
      else this.#cookies.set(cookie.name, cookie.value)
    }
  }

  /** fetch(url, init) with this jar's Cookie header, keeping what the response sets; redirects are not followed. */
  async fetch(url, init = {}) {
    const headers = new Headers(init.headers)
    if (this.#cookies.size > 0) headers.set('cookie', this.header)
    const response = await fetch(url, { redirect: 'manual', ...init, headers })
    this.take(response.headers.getSetCookie())
    return response
  }
}
