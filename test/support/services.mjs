// Which local services the store tests can reach. A missing service skips its tests with a message
// that says how to start it; under CI=true it fails the run instead, so CI can never pass by skipping.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { test } from 'node:test'

const SERVICES = {
  redis: { label: 'Redis', ciName: 'redis', port: 6379 },
  postgres: { label: 'PostgreSQL', ciName: 'postgresql', port: 5432 },
  mariadb: { label: 'MariaDB/MySQL', ciName: 'mariadb', port: 3306 },
}

/** Whether something accepts TCP connections on 127.0.0.1:port (the same check .ci/run makes). */
export function answers(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * The command .ci/run uses to start a service, read from the script itself so the hint never drifts
 * from what CI does.
 */
export function startCommand(ciName) {
  try {
    const script = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8')
    const line = script.split('\n').find((l) => l.startsWith(`ensure ${ciName} `))
    if (line) return line.split(' ').slice(3).join(' ')
  } catch {
    // fall through to the generic hint
  }
  return undefined
}

/**
 * Checks one service ('redis' | 'postgres' | 'mariadb'). Returns `{ skip }`: false when it answers,
 * otherwise the message to skip with. Under CI=true a missing service also registers a failing test
 * that carries the same message.
 */
export async function requireService(name) {
  const service = SERVICES[name]
  if (!service) throw new Error(`unknown service ${name}`)
  if (await answers(service.port)) return { skip: false }
  const command = startCommand(service.ciName)
  const message =
    `${service.label} does not answer on 127.0.0.1:${service.port}. ` +
    (command ? `Start it with: ${command} ` : '') +
    '(or run `bash .ci/run`, which starts every service the tests need, then the tests)'
  if (process.env.CI === 'true') {
    test(`${service.label} answers on 127.0.0.1:${service.port} (required under CI=true)`, () => {
      assert.fail(message)
    })
  } else {
    console.log(`# skipping the ${service.label} tests: ${message}`)
  }
  return { skip: message }
}
