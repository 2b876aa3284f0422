// Support for the end-to-end tests: Debian's Chromium driven by playwright-core, and the examples
// started as a newcomer starts them (`node examples/<name>/app.js`), each on a free port.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Why the browser tests cannot run, as a skip message, or false when they can. Under CI=true a missing
 * Chromium is an error rather than a skip, so that CI never passes without having run them.
 */
export function browserMissing() {
  if (existsSync(CHROMIUM)) return false
  const message = `${CHROMIUM} is missing; install it with: bash scripts/install-chromium.sh`
  if (process.env.CI === 'true') throw new Error(message)
  return message
}

/**
 * Launches headless Chromium. playwright-core's launch() gives every browser a fresh, temporary
 * user-data dir of its own (and removes it on close): no profile, cookie or cache leaks between runs.
 * The flags keep Chromium from talking to Google's services, which would slow the tests and need network.
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * Starts examples/<name>/app.js in its own process on a free port (PORT=0) and resolves, once it prints
 * its URL, to { url, output, stop }. `env` is added to the environment.
 */
export function startExample(name, env = {}) {
  const child = spawn(process.execPath, [join(root, 'examples', name, 'app.js')], {
    cwd: root,
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`example ${name} printed no URL within 15 s:\n${output}`))
    }, 15_000)
    const onData = (chunk) => {
      output += chunk
      const match = /http:\/\/localhost:(\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ url: `http://127.0.0.1:${match[1]}`, get output() { return output }, stop })
      }
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`example ${name} exited with ${code} before listening:\n${output}`))
    })
  })
}
