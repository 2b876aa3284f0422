import type { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import onHeaders from 'on-headers'
import type { CommitSteps } from '../../engine/adapter.js'
import { RESPONSE_HEADERS } from './request.js'

/**
 * The response hold both session middlewares use: it lets the session be committed (saved, destroyed,
 * sealed) after the app has ended its response but before the client sees that response, so that a
 * failed commit is never answered as a success. While the response is held it behaves, to the app, as
 * an ended one (Node's `OutgoingMessage` rules): `write` fails with ERR_STREAM_WRITE_AFTER_END, header
 * changes throw ERR_HTTP_HEADERS_SENT, `headersSent` and `writableEnded` are true.
 *
 * One rule differs from Node's, held or not: a second `end` is ignored, with data too. Node emits
 * ERR_STREAM_WRITE_AFTER_END as an 'error' event for `end(data)` after an end, which no one listens
 * to, so the process crashes; express-session ignores every `end` after the first (on every response
 * it sees), and an app that ran under it must not start crashing. Node's error still reaches a
 * callback given to that `end`. @internal
 */

/** Where the hold is: the response is the app's, held for the commit, passed on, or failed. */
type HoldPhase = 'open' | 'ending' | 'held' | 'passed' | 'failed'

/**
 * Intercepts `end` (and the header hooks) of `res` for one request. Statuses of 400 and above are the
 * app's own failure answers: a commit that fails under one of them leaves that answer standing (without
 * the session's cookie) rather than call the error handlers a second time.
 */
export function holdResponse(req: IncomingMessage, res: ServerResponse, steps: CommitSteps): void {
  const hooked = res as HookedResponse
  // A response guarded by guardEnd: the end the guard would pass on is the one the hold passes on.
  const end = res.end === guardedEnd ? hooked[firstEndKey] : (res.end as (...args: unknown[]) => ServerResponse)
  const hold = new ResponseHold(req, res, steps, end)
  hooked[holdKey] = hold
  // The hooks are functions shared by every response, which find their hold on it: a closure per hook
  // and per response was a good part of what a request that touched its session cost.
  onHeaders(res, beforeHeaders)
  hold.writeHead = res.writeHead as (...args: unknown[]) => ServerResponse
  res.writeHead = heldWriteHead as ServerResponse['writeHead']
  res.end = heldEnd as ServerResponse['end']
}

/**
 * Makes a second `end` of `res` ignored (see the module comment) without holding it: for a response
 * whose session may never be used, which {@link holdResponse} may still hook later. Costs one own
 * property and one symbol on the response, no closure.
 */
export function guardEnd(res: ServerResponse): void {
  ;(res as HookedResponse)[firstEndKey] = res.end as (...args: unknown[]) => ServerResponse
  res.end = guardedEnd as ServerResponse['end']
}

const holdKey: unique symbol = Symbol('sessionkit.hold')
const firstEndKey: unique symbol = Symbol('sessionkit.end')

interface HookedResponse extends ServerResponse {
  [holdKey]: ResponseHold
  [firstEndKey]: (...args: unknown[]) => ServerResponse
}

function guardedEnd(this: HookedResponse, ...args: unknown[]): ServerResponse {
  if (this.writableEnded) return endAgain(this, args, this[firstEndKey])
  return this[firstEndKey].apply(this, args)
}

/** One response's hold: where it is, and the response's own `end` and (header-hooked) `writeHead`. */
class ResponseHold {
  phase: HoldPhase = 'open'
  /** A Set-Cookie that failed while the app streamed (its own writeHead or write): the end is cut off. */
  headerFailure: { error: unknown } | undefined
  writeHead: ((...args: unknown[]) => ServerResponse) | undefined

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly steps: CommitSteps,
    /** The response's `end` before the hold: what the app's end is passed on to. */
    readonly passEnd: (...args: unknown[]) => ServerResponse,
  ) {}

  errorReplacesAnswer(): boolean {
    return !this.res.headersSent && this.res.statusCode < 400
  }

  end(args: unknown[]): ServerResponse {
    const { res, steps } = this
    if (this.headerFailure !== undefined) {
      this.fail(this.headerFailure.error, args)
      return res
    }
    let work: Promise<void> | undefined
    try {
      work = steps.commit()
    } catch (err) {
      this.fail(err, args)
      return res
    }
    if (work === undefined) {
      this.pass(args)
      return res
    }
    const release = endAsHeld(this.req, res)
    this.phase = 'held'
    const failHeld = (err: unknown): void => {
      release(this.errorReplacesAnswer() ? 'replaced' : 'passed')
      this.fail(err, args)
    }
    work.then(() => {
      if (this.headerFailure !== undefined) return failHeld(this.headerFailure.error)
      release('passed')
      this.pass(args)
    }, failHeld)
    return res
  }

  pass(endArgs: unknown[]): void {
    this.phase = 'ending'
    try {
      this.passEnd.apply(this.res, endArgs)
    } catch (err) {
      this.fail(err, endArgs)
      return
    }
    this.phase = 'passed'
    this.steps.afterEnd()
  }

  fail(err: unknown, endArgs: unknown[]): void {
    const { res, steps } = this
    this.phase = 'failed'
    steps.failed(err, this.errorReplacesAnswer())
    if (res.headersSent) {
      // The status line is out: the response can only be cut off, never completed as if stored.
      setImmediate(() => {
        steps.next(err)
        if (!res.destroyed) res.destroy()
      })
      return
    }
    if (!this.errorReplacesAnswer()) {
      this.passEnd.apply(res, endArgs)
      return
    }
    // The error handler answers instead; headers of the app's answer must not leak into that one.
    for (const header of RESPONSE_HEADERS) res.removeHeader(header)
    setImmediate(() => steps.next(err))
  }
}

function heldEnd(this: HookedResponse, ...args: unknown[]): ServerResponse {
  const hold = this[holdKey]
  if (hold.phase === 'open') return hold.end(args)
  // Held, passed on, or failed and answered by the error handler: an end after that one is ignored.
  if (hold.phase === 'held' || this.writableEnded) return endAgain(this, args, hold.phase === 'held' ? undefined : hold.passEnd)
  return hold.passEnd.apply(this, args)
}

/** on-headers' listener: the session's Set-Cookie, right before the headers are written. */
function beforeHeaders(this: ServerResponse): void {
  const hold = (this as HookedResponse)[holdKey]
  if (hold.phase === 'failed') return
  try {
    hold.steps.writeHeaders()
  } catch (err) {
    // Inside our own end, nothing has been written yet: the throw stops the write and fails cleanly.
    if (hold.phase === 'ending') throw err
    hold.headerFailure = { error: err }
  }
}

/**
 * on-headers applies a nested-array header list with setHeader, so in
 * writeHead(200, [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]) the second cookie would replace the
 * first. The flat form carries the same headers and on-headers appends its duplicates.
 */
function heldWriteHead(this: HookedResponse, ...args: unknown[]): ServerResponse {
  const hold = this[holdKey]
  if (hold.phase === 'held') throw headersSentError('write')
  const at = typeof args[1] === 'string' ? 2 : 1
  const headers = args[at]
  if (Array.isArray(headers) && headers.length > 0 && Array.isArray(headers[0])) {
    args[at] = (headers as unknown[][]).flatMap((pair) => [pair[0], pair[1]])
  }
  return (hold.writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
}

const HEADER_METHODS = { setHeader: 'set', setHeaders: 'set', appendHeader: 'append', removeHeader: 'remove' } as const

/** What a held response or its socket was asked to do meanwhile: a destroy, done once the answer is out. */
const destroyLater = new WeakMap<object, () => void>()

/**
 * The prototype a held response takes while held: its methods and getters answer as Node's do after
 * an end. A prototype swapped in and out costs a fraction of defining and deleting own properties on
 * every held response, and V8 keeps the two shapes cached.
 */
const heldPrototypes = new WeakMap<object, object>()

function heldPrototypeOf(original: object): object {
  let held = heldPrototypes.get(original)
  if (held !== undefined) return held
  const members: PropertyDescriptorMap = {
    // A destroy meanwhile (an error handler's answer to an error after the headers, as for `res.send`
    // called twice) would, without the hold, have come after the answer was written: so it waits for it.
    destroy: {
      configurable: true,
      writable: true,
      value(this: object, ...args: unknown[]) {
        destroyLater.set(this, () => void (Reflect.get(original, 'destroy') as (...a: unknown[]) => unknown).apply(this, args))
        return this
      },
    },
    headersSent: { configurable: true, get: () => true },
    writableEnded: { configurable: true, get: () => true },
    write: {
      configurable: true,
      writable: true,
      value(this: ServerResponse, ...args: unknown[]) {
        return afterEnd(this, args)
      },
    },
  }
  for (const [method, verb] of Object.entries(HEADER_METHODS)) {
    members[method] = {
      configurable: true,
      writable: true,
      value() {
        throw headersSentError(verb)
      },
    }
  }
  held = Object.create(original, members) as object
  heldPrototypes.set(original, held)
  return held
}

/**
 * Makes `res` answer as Node's ended response does until the returned function is called. Methods the
 * app set on the response itself stay in charge. A `socket.destroy()` or `res.destroy()` meanwhile waits
 * until the held response has been written.
 */
function endAsHeld(req: IncomingMessage, res: ServerResponse): (outcome: 'passed' | 'replaced') => void {
  const responsePrototype = Object.getPrototypeOf(res) as object
  Object.setPrototypeOf(res, heldPrototypeOf(responsePrototype))
  const socket = guardedSocket(req.socket)
  if (socket !== undefined) heldSockets.add(socket)

  return (outcome) => {
    Object.setPrototypeOf(res, responsePrototype)
    if (socket !== undefined) heldSockets.delete(socket)
    const later = [destroyLater.get(res), socket === undefined ? undefined : destroyLater.get(socket)]
    destroyLater.delete(res)
    if (socket !== undefined) destroyLater.delete(socket)
    // Aimed at the held answer: when the error handler answers instead, there is nothing to cut off.
    if (outcome === 'replaced') return
    for (const destroyNow of later) {
      if (destroyNow === undefined) continue
      if (res.writableFinished) destroyNow()
      else {
        res.once('finish', destroyNow)
        res.once('close', destroyNow)
      }
    }
  }
}

/** The sockets whose response is held now: a destroy of one waits until its answer is out. */
const heldSockets = new WeakSet<Socket>()

/**
 * The request's socket with its `destroy` guarded, or undefined when it cannot be (not a net.Socket,
 * or the app gave it a `destroy` of its own, which stays in charge). The guard is an own method set
 * once per connection, not a prototype swapped per response: a socket lives for many requests, and
 * every change of its prototype made V8 forget what it had learnt about it in Node's own HTTP code
 * (measured: about a third of a held request's cost).
 */
function guardedSocket(socket: Socket | null): Socket | undefined {
  if (!(socket instanceof Socket)) return undefined
  if (!Object.hasOwn(socket, 'destroy')) socket.destroy = guardedDestroy
  return socket.destroy === guardedDestroy ? socket : undefined
}

function guardedDestroy(this: Socket, ...args: unknown[]): Socket {
  const own = Reflect.get(Object.getPrototypeOf(this) as object, 'destroy', this) as (...a: unknown[]) => Socket
  if (!heldSockets.has(this)) return own.apply(this, args)
  destroyLater.set(this, () => void own.apply(this, args))
  return this
}

/**
 * An `end` after the first: ignored. With data, Node's ERR_STREAM_WRITE_AFTER_END goes to its callback
 * only, never to an 'error' event (see the module comment). A bare one is Node's own (`end`, when the
 * response is not held), which only calls its callback; while held, that callback waits for 'finish'.
 */
function endAgain(res: ServerResponse, args: unknown[], nodeEnd: ((...a: unknown[]) => ServerResponse) | undefined): ServerResponse {
  const callback = args.find((arg) => typeof arg === 'function') as ((err?: unknown) => void) | undefined
  // Data as Node's end tells it: a chunk that is truthy ('' and 0 end bare).
  if (typeof args[0] !== 'function' && Boolean(args[0])) {
    if (callback !== undefined) process.nextTick(callback, nodeError('ERR_STREAM_WRITE_AFTER_END', 'write after end'))
  } else if (nodeEnd !== undefined) nodeEnd.apply(res, args)
  else if (callback !== undefined) res.once('finish', () => callback())
  return res
}

/** `write` on an ended response, as Node answers it: false, and the error on the next tick. */
function afterEnd(res: ServerResponse, args: unknown[]): false {
  const err = nodeError('ERR_STREAM_WRITE_AFTER_END', 'write after end')
  const callback = args.find((arg) => typeof arg === 'function') as ((err?: unknown) => void) | undefined
  process.nextTick(() => {
    callback?.(err)
    if (!res.destroyed) res.emit('error', err)
  })
  return false
}

function headersSentError(verb: string): Error {
  return nodeError('ERR_HTTP_HEADERS_SENT', `Cannot ${verb} headers after they are sent to the client`)
}

function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}
