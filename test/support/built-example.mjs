// Support for the tests of the framework examples (examples/react-router, examples/sveltekit): each is
// built with its framework's real toolchain into its own git-ignored build folder, then its built
// server is started on 127.0.0.1 and driven over HTTP and in Chromium. Needs `npm run build` first.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { lstat, mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createClient } from 'redis'

const run = promisify(execFile)
export const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The example's node_modules/sessionkit, pointing at this repo, as `npm install` makes it from the
 * example's `"sessionkit": "file:../.."`: the built server imports sessionkit by name at run time.
 * Everything else resolves from the repo's node_modules.
 */
async function linkSessionkit(dir) {
  const link = join(dir, 'node_modules', 'sessionkit')
  const present = await lstat(link).then(() => true, () => false)
  if (present) return
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  await symlink(join('..', '..', '..'), link)
}

/**
 * Builds examples/<name> with `bin` (a file under node_modules/.bin) and `args`, in the example's
 * folder, and resolves to the build's wall time in ms. A failed build rejects with its output.
 */
export async function buildExample(name, bin, args) {
  if (!existsSync(join(root, 'dist/cjs/sessionkit.cjs'))) throw new Error('dist/ is missing: run `npm run build` before this test')
  const dir = join(root, 'examples', name)
  await linkSessionkit(dir)
  const started = performance.now()
  try {
    await run(join(root, 'node_modules/.bin', bin), args, { cwd: dir, timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } })
  } catch (err) {
    err.message += `\n${err.stdout ?? ''}\n${err.stderr ?? ''}`
    throw err
  }
  return Math.round(performance.now() - started)
}

/** The session id a signed `s:<id>.<signature>` cookie value carries. */
export function idOf(cookieValue) {
  const text = decodeURIComponent(cookieValue)
  return text.slice(2, text.lastIndexOf('.'))
}

/** A Redis client, and what it says about the sessions under `prefix`. */
export async function redisSessions(prefix) {
  const client = createClient({ url: 'redis://127.0.0.1:6379' })
  await client.connect()
  const key = (id) => `${prefix}{${id}}`
  return {
    /** The session's data as the store holds it, or null when it holds none. */
    async data(id) {
      const json = await client.hGet(key(id), 'd')
      return json === null || json === undefined ? null : JSON.parse(json)
    },
    /** Removes every key under the prefix and closes the client. */
    async close() {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) {
        for (const k of [keys].flat()) await client.del(k)
      }
      await client.close()
    },
  }
}
