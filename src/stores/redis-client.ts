// The two Redis clients sessionkit/redis accepts, told apart by shape, behind one function that sends
// a raw command. Raw commands answer alike in both clients (arrays of strings, integers, nil), so the
// store needs nothing else from either and imports neither.
import { createHash } from 'node:crypto'

/** The one method of a node-redis 4/5 client (`createClient()` from `redis`) the store uses. */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>
}

/** The one method of an ioredis 5 client (`new Redis()` from `ioredis`) the store uses. */
export interface IoRedisClient {
  call(command: string, args: string[]): Promise<unknown>
}

/** A connected node-redis 4/5 or ioredis 5 client, made and owned by the app. */
export type RedisStoreClient = NodeRedisClient | IoRedisClient

/** Sends one command as its words, as redis-cli would, and answers its raw reply. */
export type SendCommand = (args: string[]) => Promise<unknown>

/** The sender for `client`. ioredis has a `sendCommand` too, taking its own Command objects, so `call` is looked for first. */
export function senderOf(client: RedisStoreClient): SendCommand {
  if (client === null || typeof client !== 'object') throw new TypeError('sessionkit/redis: `client` must be a node-redis or ioredis client')
  const io = client as Partial<IoRedisClient>
  if (typeof io.call === 'function') {
    const call = io.call.bind(client)
    return (args) => call(args[0] as string, args.slice(1))
  }
  const node = client as Partial<NodeRedisClient>
  if (typeof node.sendCommand === 'function') return node.sendCommand.bind(client)
  throw new TypeError('sessionkit/redis: `client` has neither call() (ioredis) nor sendCommand() (node-redis)')
}

/** A Lua script run by its SHA1 (one round trip), sent in full only when Redis does not have it yet. */
export class Script {
  readonly #source: string
  readonly #sha: string

  constructor(source: string) {
    this.#source = source
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  async run(send: SendCommand, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await send(['EVALSHA', this.#sha, ...tail])
    } catch (err) {
      // After a restart, SCRIPT FLUSH or a failover Redis no longer has it; EVAL loads it again.
      if (!String((err as { message?: unknown } | null)?.message ?? '').startsWith('NOSCRIPT')) throw err
      return send(['EVAL', this.#source, ...tail])
    }
  }
}
