// A server process for the store restart tests: the README snippet named on the command line (which
// builds its own client or pool, as an app would), mounted on a plain http server with three routes.
// The snippet's environment is this process's. Prints `listening <port>` once it listens; a crash
// shows as its exit, which the test watches.
//   GET /login?user=NAME  a new session { userId: NAME, n: 0 }
//   GET /count            n + 1, saved; answers { userId, n }
//   GET /read             answers { userId, n } (null without a session)
// A failure answers its status (503 from the store) with its code.
import { createServer } from 'node:http'
import { runSnippet } from './snippets.mjs'

const middleware = runSnippet(process.argv[2], process.env)

const server = createServer((req, res) => {
  middleware(req, res, (err) => {
    const url = new URL(req.url, 'http://localhost')
    if (err) {
      res.statusCode = err.status ?? 500
      return res.end(String(err.code ?? err.message))
    }
    if (url.pathname === '/login') {
      req.session.userId = url.searchParams.get('user')
      req.session.n = 0
    } else if (url.pathname === '/count') {
      req.session.n = (req.session.n ?? 0) + 1
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ userId: req.session.userId ?? null, n: req.session.n ?? null }))
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`))
