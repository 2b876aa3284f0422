// One autocannon run against an app on 127.0.0.1, each connection sending one of `cookies` (in turn) when
// there are any: what both benchmarks (bench/run.mjs, bench/adapters.mjs) measure with.
import autocannon from 'autocannon'

/** Drives `path` on `port` with `connections` for `seconds`; resolves to autocannon's result. */
export function drive({ port, path, connections, seconds, cookies = [] }) {
  let next = 0
  return autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections,
    duration: seconds,
    setupClient: (client) => {
      if (cookies.length > 0) client.setHeaders({ cookie: cookies[next++ % cookies.length] })
    },
  })
}
