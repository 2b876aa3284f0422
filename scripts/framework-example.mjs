// Builds one of the framework examples with its framework's own toolchain and starts its built
// server, as a user of that framework would: `npm run example:react-router` (react-router build, then
// react-router-serve), `npm run example:sveltekit` (vite build with adapter-node, then node build) or
// `npm run example:next` (next build, then next start).
// The build output stays in the example's folder (git-ignored). test/support/built-example.mjs builds
// the same way.
import { execFile, spawn } from 'node:child_process'
import { lstat, mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

/** Each example: its build command (a file of node_modules/.bin and its arguments), the script that serves the build, its default port. */
export const FRAMEWORK_EXAMPLES = {
  'react-router': {
    build: ['react-router', ['build']],
    serve: [join(root, 'node_modules/@react-router/serve/bin.js'), join(root, 'examples/react-router/build/server/index.js')],
    port: 3011,
  },
  sveltekit: {
    build: ['vite', ['build']],
    serve: [join(root, 'examples/sveltekit/build/index.js')],
    port: 3012,
  },
  // next start serves the build in .next; it takes PORT from the environment.
  next: {
    build: ['next', ['build']],
    serve: [join(root, 'node_modules/next/dist/bin/next'), 'start', join(root, 'examples/next')],
    port: 3013,
  },
}

/**
 * The example's node_modules/sessionkit, pointing at this repository, as `npm install` in the example
 * makes it from `"sessionkit": "file:../.."`: the built server imports sessionkit by name at run time.
 * Everything else resolves from the repository's node_modules.
 */
async function linkSessionkit(dir) {
  const link = join(dir, 'node_modules', 'sessionkit')
  if (await lstat(link).then(() => true, () => false)) return
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  await symlink(join('..', '..', '..'), link)
}

/** Builds examples/<name> in its folder and resolves to the build's wall time in ms; a failed build rejects with its output. */
export async function buildExample(name) {
  const [bin, args] = FRAMEWORK_EXAMPLES[name].build
  const dir = join(root, 'examples', name)
  await linkSessionkit(dir)
  const started = performance.now()
  try {
    await run(join(root, 'node_modules/.bin', bin), args, { cwd: dir, timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', NEXT_TELEMETRY_DISABLED: '1' } })
  } catch (err) {
    err.message += `\n${err.stdout ?? ''}\n${err.stderr ?? ''}`
    throw err
  }
  return Math.round(performance.now() - started)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const name = process.argv[2]
  const example = FRAMEWORK_EXAMPLES[name]
  if (example === undefined) {
    console.error(`usage: node scripts/framework-example.mjs ${Object.keys(FRAMEWORK_EXAMPLES).join('|')}`)
    process.exit(2)
  }
  console.log(`building examples/${name} ...`)
  console.log(`built in ${((await buildExample(name)) / 1000).toFixed(1)} s`)
  const port = process.env.PORT ?? String(example.port)
  // ORIGIN: adapter-node takes requests to be HTTPS without it; react-router-serve ignores it.
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', PORT: port, ORIGIN: process.env.ORIGIN ?? `http://localhost:${port}`, NODE_ENV: 'production' }
  console.log(`${name} example: http://localhost:${port}`)
  spawn(process.execPath, example.serve, { stdio: 'inherit', env }).on('exit', (code) => process.exit(code ?? 1))
}
