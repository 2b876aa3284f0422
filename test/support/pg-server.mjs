// A PostgreSQL server of a test's own, made with the machine's initdb and run with pg_ctl on a port of
// its own (55432-55439: the shared server on 5432 is never touched), in a fresh temporary folder,
// trust authentication for user postgres on 127.0.0.1 only. initdb refuses to run as root, so as root
// the cluster belongs to the `postgres` user and every command runs through runuser. Stopped by
// stop(), and on process exit whatever happened before, by the postmaster's PID.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { answers } from './services.mjs'

const run = promisify(execFile)
const AS_ROOT = process.getuid?.() === 0

/** The folder of the newest installed PostgreSQL's binaries, or undefined. */
function binDir() {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')))
  versions.sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined
}
const BIN = binDir()

const live = new Set()
process.on('exit', () => {
  for (const server of live) server.killNow()
})

/**
 * Why these tests cannot run here (no initdb / pg_ctl, or root without a postgres user), or false.
 * Under CI=true it also registers a failing test, so CI cannot pass by skipping them.
 */
export function missingPostgresBinaries() {
  let message = false
  if (BIN === undefined) message = 'PostgreSQL server binaries are not installed under /usr/lib/postgresql/*/bin (apt-get install postgresql)'
  else if (AS_ROOT && !existsSync('/usr/sbin/runuser')) message = 'running as root, and runuser (to run initdb as postgres) is missing'
  if (message === false) return false
  if (process.env.CI === 'true') test('PostgreSQL binaries are installed (required under CI=true)', () => assert.fail(message))
  else console.log(`# skipping: ${message}`)
  return message
}

/** The uid and gid of the postgres user, from /etc/passwd. */
function postgresUser() {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('postgres:'))
  if (line === undefined) throw new Error('pg-server: running as root, and there is no postgres user to run initdb as')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/** Runs one of PostgreSQL's programs, as the postgres user when this process is root. */
async function pgRun(program, args, timeout = 60_000) {
  const [file, argv] = AS_ROOT ? ['/usr/sbin/runuser', ['-u', 'postgres', '--', join(BIN, program), ...args]] : [join(BIN, program), args]
  try {
    return await run(file, argv, { timeout, cwd: tmpdir() })
  } catch (err) {
    throw new Error(`${program} ${args.join(' ')} failed: ${err.stderr || err.stdout || err.message}`)
  }
}

/**
 * Makes a new cluster for a server on 127.0.0.1:`port` (not started yet). Returns
 * { port, url, start(), stop(mode), pid, remove() }.
 */
export async function createPostgres({ port }) {
  if (!(port >= 55432 && port <= 55439)) throw new Error(`pg-server: port ${port} is outside 55432-55439`)
  if (await answers(port, 300)) throw new Error(`pg-server: something already listens on 127.0.0.1:${port}`)
  const root = mkdtempSync(join(tmpdir(), 'sessionkit-pg-'))
  const data = join(root, 'data')
  if (AS_ROOT) {
    const { uid, gid } = postgresUser()
    chownSync(root, uid, gid)
  }
  await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale=C'])
  const server = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    /** The postmaster's PID while it runs. */
    get pid() {
      try {
        return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
      } catch {
        return undefined
      }
    },
    /** Starts the server and waits until it accepts connections. */
    async start() {
      // The socket folder is the cluster's own: the machine's /var/run/postgresql belongs to the shared server.
      const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${root} -c fsync=off -c max_connections=50`
      await pgRun('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-o', options, '-w', '-t', '30', 'start'])
      live.add(server)
    },
    /** Stops it: 'fast' (clients get "terminating connection due to administrator command"), or 'immediate'. */
    async stop(mode = 'fast') {
      await pgRun('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop'])
      live.delete(server)
    },
    /** On exit: SIGQUIT to the postmaster is PostgreSQL's immediate shutdown. */
    killNow() {
      const pid = server.pid
      if (pid) {
        try {
          process.kill(pid, 'SIGQUIT')
        } catch {
          // already gone
        }
      }
    },
    async remove() {
      if (live.has(server)) await server.stop('immediate').catch(() => server.killNow())
      rmSync(root, { recursive: true, force: true })
    },
  }
  return server
}
